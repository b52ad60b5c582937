"""Many relays, one truth: two relay processes sharing Redis, or PostgreSQL,
keep every limit exactly, see each other's revocations, and refuse to
forward unmetered when the store goes away."""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import secrets

import httpx
import pytest

from relaytest import Relay, wait_until
from services import PostgresServer, RedisServer

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    r = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def postgres_server(tmp_path_factory):
    p = PostgresServer(tmp_path_factory.mktemp("postgres")).start()
    yield p
    p.stop()


def pair(relay_bin, keys, relay_config, tmp_path_factory, store: dict) -> list[Relay]:
    """Two relays on one shared store (each with its own data dir)."""
    config = dict(relay_config, store=store)
    relays = []
    for _ in range(2):
        d = tmp_path_factory.mktemp("relay")
        relays.append(Relay(relay_bin, d, config, [keys.aes, keys.ecc_relay], d / "data").start())
    return relays


@pytest.fixture(scope="module", params=["redis", "postgres"])
def relays(request, relay_bin, keys, relay_config, tmp_path_factory):
    server = request.getfixturevalue(f"{request.param}_server")
    rs = pair(relay_bin, keys, relay_config, tmp_path_factory, {"driver": request.param, "url": server.url})
    yield rs
    for r in rs:
        r.stop()


def fire(relays: list[Relay], token: str, n: int, workers: int = 100, body: dict = CHAT) -> list[int]:
    """n concurrent chat calls spread round-robin over the relays."""
    urls = itertools.cycle(f"{r.url}/t/{token}/v1/chat/completions" for r in relays)
    targets = [next(urls) for _ in range(n)]
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    with httpx.Client(timeout=30, limits=limits) as client:
        def call(url: str) -> int:
            return client.post(url, json=body).status_code
        with cf.ThreadPoolExecutor(workers) as pool:
            return list(pool.map(call, targets))


def test_max_calls_hold_exactly_across_two_relays(relays, mock, mint):
    m = mint(max_calls=100)
    statuses = fire(relays, m.token, 1000)
    assert statuses.count(200) == 100
    assert statuses.count(429) == 900
    assert mock.count(m.api_key) == 100, "the provider must see exactly max_calls requests"


def test_rpm_holds_across_two_relays(relays, mock, mint):
    m = mint(rpm=30)
    statuses = fire(relays, m.token, 120, workers=40)
    assert statuses.count(200) == 30
    assert mock.count(m.api_key) == 30


def test_concurrency_holds_across_two_relays(relays, mock, mint):
    m = mint(concurrency=3)
    urls = [f"{r.url}/t/{m.token}/v1/chat/completions" for r in relays]
    held: list[httpx.Response] = []
    clients = [httpx.Client(timeout=30) for _ in range(3)]
    body = dict(CHAT, stream=True)
    headers = {"x-mock-chunk-delay-ms": "100", "x-mock-chunks": "100"}
    try:
        for i, c in enumerate(clients):  # three open streams, on both relays
            req = c.build_request("POST", urls[i % 2], json=body, headers=headers)
            resp = c.send(req, stream=True)
            assert resp.status_code == 200
            held.append(resp)
        for url in urls:
            r = httpx.post(url, json=CHAT, timeout=10)
            assert r.status_code == 429 and r.json()["error"]["code"] == "concurrency_limited"
    finally:
        for resp in held:
            resp.close()
        for c in clients:
            c.close()
    wait_until(lambda: httpx.post(urls[1], json=CHAT, timeout=10).status_code == 200, 10,
               "a slot to free once the streams closed")


def test_revocation_through_one_relay_is_refused_by_the_other(relays, mint, admin_key):
    a, b = relays
    jti = "multi-" + secrets.token_hex(12)
    m = mint(jti=jti)
    auth = {"Authorization": f"Bearer {admin_key}"}
    assert httpx.post(f"{b.url}/t/{m.token}/v1/chat/completions", json=CHAT, timeout=10).status_code == 200
    assert httpx.get(f"{a.url}/admin/tokens/{jti}", headers=auth).json()["calls"] == 1, "A sees B's call"
    assert httpx.post(f"{a.url}/admin/tokens/{jti}/revoke", headers=auth).status_code == 200
    r = httpx.post(f"{b.url}/t/{m.token}/v1/chat/completions", json=CHAT, timeout=10)
    assert r.status_code == 401 and r.json()["error"]["code"] == "token_revoked"


def test_redis_outage_fails_closed_and_recovers_without_restart(redis_server, relay_bin, keys, relay_config,
                                                                tmp_path_factory, mock, mint):
    rs = pair(relay_bin, keys, relay_config, tmp_path_factory, {"driver": "redis", "url": redis_server.url})
    try:
        m = mint(max_calls=50)
        assert fire(rs, m.token, 4).count(200) == 4
        redis_server.stop()
        statuses = fire(rs, m.token, 20, workers=10)
        assert statuses == [503] * 20, "with Redis down nothing may be forwarded unmetered"
        r = httpx.post(f"{rs[0].url}/t/{m.token}/v1/chat/completions", json=CHAT, timeout=10)
        assert r.json()["error"]["code"] == "store_unavailable"
        assert httpx.get(f"{rs[0].url}/ready").status_code == 503
        assert mock.count(m.api_key) == 4
        redis_server.start()
        wait_until(lambda: httpx.get(f"{rs[1].url}/ready").status_code == 200, 15, "the relay to see Redis again")
        statuses = fire(rs, m.token, 10, workers=5)
        assert statuses.count(200) == 10
        assert mock.count(m.api_key) == 14
    finally:
        for r in rs:
            r.stop()
        if not redis_server.proc.alive():
            redis_server.start()
