"""The admin API and the probes, validated against docs/openapi.yaml.

Every response checked here must have a status the spec documents for the
route and a body that validates against the spec's schema for it (the
schemas forbid unknown fields, so a field added, renamed or removed on
either side fails). Tokens go through the real relay first.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml
from openapi_schema_validator import OAS31Validator, oas31_format_checker
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from relaytest import Relay, expected_completion, relay_error, wait_until

SPEC_PATH = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"
SPEC = yaml.safe_load(SPEC_PATH.read_text())
SPEC_URI = "urn:relayapi:openapi"
REGISTRY = Registry().with_resource(SPEC_URI, Resource.from_contents(SPEC, default_specification=DRAFT202012))

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}

# (method, route, status) triples validated so far, for the coverage check.
CHECKED: set[tuple[str, str, str]] = set()


def _pointer(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def conform(resp: httpx.Response, method: str, route: str) -> dict:
    """Assert resp is documented for (method, route) and its JSON body
    validates against the spec; return the body."""
    op = SPEC["paths"][route][method.lower()]
    status = str(resp.status_code)
    assert status in op["responses"], f"{method} {route}: undocumented status {status}: {resp.text}"
    response_ptr = _pointer("paths", route, method.lower(), "responses", status)
    ref = op["responses"][status].get("$ref")
    if ref:
        response_ptr = ref[1:]
    assert resp.headers["content-type"].startswith("application/json"), resp.headers
    body = resp.json()
    schema = {"$ref": f"{SPEC_URI}#{response_ptr}/content/application~1json/schema"}
    validator = OAS31Validator(schema, registry=REGISTRY, format_checker=oas31_format_checker)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, f"{method} {route} {status} breaks docs/openapi.yaml:\n" + "\n".join(
        f"  at {list(e.absolute_path)}: {e.message}" for e in errors) + f"\nbody: {resp.text}"
    CHECKED.add((method.upper(), route, status))
    return body


@pytest.fixture(scope="module")
def admin(relay, admin_key):
    with httpx.Client(base_url=relay.url, headers={"Authorization": f"Bearer {admin_key}"}, timeout=10) as c:
        yield c


def new_jti() -> str:
    return "e2e-admin-" + secrets.token_hex(8)


def relay_calls(relay, token: str, n: int) -> None:
    for _ in range(n):
        r = httpx.post(f"{relay.url}/t/{token}/v1/chat/completions", json=CHAT, timeout=30)
        assert r.status_code == 200, r.text


def test_spec_is_valid_openapi():
    validate_spec(SPEC)


def test_health_and_ready_match_the_spec(relay):
    conform(httpx.get(f"{relay.url}/health"), "GET", "/health")
    conform(httpx.get(f"{relay.url}/ready"), "GET", "/ready")


def test_token_usage_counts_relayed_calls(relay, admin, mint):
    sub = "e2e-user-" + secrets.token_hex(4)
    m = mint(jti=new_jti(), sub=sub, max_calls=5)
    relay_calls(relay, m.token, 3)
    u = conform(admin.get(f"/admin/tokens/{m.claims['jti']}"), "GET", "/admin/tokens/{jti}")
    assert u["jti"] == m.claims["jti"] and u["sub"] == sub, u
    assert u["calls"] == 3 and u["max_calls"] == 5 and u["token_budget"] is None, u
    assert u["revoked"] is False and u["last_error"] is None, u
    assert u["first_seen"] and u["last_seen"] and u["expires_at"], u
    assert u["tokens_used"] == u["prompt_tokens"] + u["completion_tokens"], u
    assert u["completion_tokens"] == 3 * expected_completion("hi")[1], u
    for secret in (m.token, m.api_key):
        assert secret not in json.dumps(u)


def test_unknown_token_is_not_found(admin):
    r = admin.get(f"/admin/tokens/{new_jti()}")
    assert r.status_code == 404
    assert conform(r, "GET", "/admin/tokens/{jti}")["error"]["code"] == "not_found"


def test_token_listing_by_sub_pages_with_a_cursor(relay, admin, mint):
    sub = "e2e-pager-" + secrets.token_hex(4)
    jtis = sorted(new_jti() for _ in range(3))
    for jti in jtis:
        relay_calls(relay, mint(jti=jti, sub=sub, max_calls=2).token, 1)
    first = conform(admin.get("/admin/tokens", params={"sub": sub, "limit": 2}), "GET", "/admin/tokens")
    assert [u["jti"] for u in first["data"]] == jtis[:2] and first["next_cursor"], first
    second = conform(admin.get("/admin/tokens", params={"sub": sub, "limit": 2, "cursor": first["next_cursor"]}),
                     "GET", "/admin/tokens")
    assert [u["jti"] for u in second["data"]] == jtis[2:] and second["next_cursor"] is None, second
    everyone = conform(admin.get("/admin/tokens"), "GET", "/admin/tokens")
    assert everyone["data"], everyone


def test_revoke_refuses_the_next_call(relay, admin, mint):
    m = mint(jti=new_jti(), max_calls=5)
    relay_calls(relay, m.token, 1)
    jti = m.claims["jti"]
    body = conform(admin.post(f"/admin/tokens/{jti}/revoke"), "POST", "/admin/tokens/{jti}/revoke")
    assert body == {"jti": jti, "revoked": True}
    r = httpx.post(f"{relay.url}/t/{m.token}/v1/chat/completions", json=CHAT)
    assert r.status_code == 401 and relay_error(r)["code"] == "token_revoked", r.text
    assert conform(admin.get(f"/admin/tokens/{jti}"), "GET", "/admin/tokens/{jti}")["revoked"] is True


def test_revoking_an_unseen_token_is_reported_with_unknown_times(admin):
    jti = new_jti()
    conform(admin.post(f"/admin/tokens/{jti}/revoke"), "POST", "/admin/tokens/{jti}/revoke")
    u = conform(admin.get(f"/admin/tokens/{jti}"), "GET", "/admin/tokens/{jti}")
    assert u["revoked"] is True and u["calls"] == 0 and u["first_seen"] is None, u


def test_request_log_has_one_line_per_relayed_call(relay, admin, mint):
    """Fails until the relay writes the request log to the store."""
    m = mint(jti=new_jti(), sub="e2e-log", max_calls=5)
    jti = m.claims["jti"]
    relay_calls(relay, m.token, 3)

    def logged():
        body = conform(admin.get("/admin/requests", params={"jti": jti}), "GET", "/admin/requests")
        return body if len(body["data"]) >= 3 else None

    try:
        body = wait_until(logged, 5, "3 request-log lines for the token")
    except AssertionError:
        body = conform(admin.get("/admin/requests", params={"jti": jti}), "GET", "/admin/requests")
        raise AssertionError(f"request log for {jti} has {len(body['data'])} lines after 3 relayed calls, want 3")
    assert len(body["data"]) == 3 and body["next_cursor"] is None, body
    for rec in body["data"]:
        assert rec["jti"] == jti and rec["sub"] == "e2e-log" and rec["provider"] == "mock", rec
        assert rec["status"] == 200 and rec["path"] == "/v1/chat/completions" and rec["error_code"] is None, rec
    times = [rec["time"] for rec in body["data"]]
    assert times == sorted(times, reverse=True), "not newest first"
    for secret in (m.token, m.api_key):
        assert secret not in json.dumps(body)

    first = conform(admin.get("/admin/requests", params={"jti": jti, "limit": 2}), "GET", "/admin/requests")
    assert len(first["data"]) == 2 and first["next_cursor"], first
    rest = conform(admin.get("/admin/requests", params={"jti": jti, "limit": 2, "cursor": first["next_cursor"]}),
                   "GET", "/admin/requests")
    assert len(rest["data"]) == 1 and rest["next_cursor"] is None, rest
    ids = [r["request_id"] for r in first["data"] + rest["data"]]
    assert ids == [r["request_id"] for r in body["data"]], "pages do not add up to the log"


def test_request_log_answers_in_the_spec_shape(admin):
    """Holds whether or not the relay writes the log yet."""
    conform(admin.get("/admin/requests", params={"limit": 5}), "GET", "/admin/requests")
    conform(admin.get("/admin/requests", params={"jti": new_jti()}), "GET", "/admin/requests")


def test_request_log_filters_select_what_they_name(relay, admin, mint):
    """Every filter of GET /admin/requests, on lines the relay wrote: two
    successes, an upstream 404 and the relay's own call_limit_exceeded."""
    sub = "e2e-filter-" + secrets.token_hex(4)
    m = mint(jti=new_jti(), sub=sub, max_calls=3)
    relay_calls(relay, m.token, 2)
    url = f"{relay.url}/t/{m.token}/v1/chat/completions"
    assert httpx.post(url, json=CHAT, headers={"x-mock-status": "404"}, timeout=30).status_code == 404
    refused = httpx.post(url, json=CHAT, timeout=30)
    assert refused.status_code == 429 and relay_error(refused)["code"] == "call_limit_exceeded", refused.text

    def logged():
        body = conform(admin.get("/admin/requests", params={"sub": sub}), "GET", "/admin/requests")
        return body["data"] if len(body["data"]) >= 4 else None

    lines = wait_until(logged, 5, "4 request-log lines for the subject")
    assert len(lines) == 4 and {r["sub"] for r in lines} == {sub}, lines
    assert sorted(r["status"] for r in lines) == [200, 200, 404, 429], lines

    def status_in(lo: int, hi: int):
        return lambda r: lo <= r["status"] <= hi

    newest = lines[0]["time"]
    at = datetime.fromisoformat
    cases = {
        "jti": ({"jti": m.claims["jti"]}, lambda r: True),
        "provider": ({"provider": "mock"}, lambda r: r["provider"] == "mock"),
        "other provider": ({"provider": "no-such-provider"}, lambda r: False),
        "model": ({"model": "gpt-4o"}, lambda r: r["model"] == "gpt-4o"),
        "code": ({"code": "call_limit_exceeded"}, lambda r: r["error_code"] == "call_limit_exceeded"),
        "no code": ({"code": "none"}, lambda r: r["error_code"] is None),
        "status": ({"status": "429"}, status_in(429, 429)),
        "2xx": ({"status": "2xx"}, status_in(200, 299)),
        "4xx": ({"status": "4xx"}, status_in(400, 499)),
        "5xx": ({"status": "5xx"}, status_in(500, 599)),
        "since": ({"since": newest}, lambda r: at(r["time"]) >= at(newest)),
        "until": ({"until": newest}, lambda r: at(r["time"]) < at(newest)),
        "combined": ({"status": "2xx", "code": "none", "model": "gpt-4o"},
                     lambda r: r["status"] < 300 and r["error_code"] is None and r["model"] == "gpt-4o"),
    }
    for name, (params, keep) in cases.items():
        body = conform(admin.get("/admin/requests", params={"sub": sub, **params}), "GET", "/admin/requests")
        want = [r["request_id"] for r in lines if keep(r)]
        assert [r["request_id"] for r in body["data"]] == want, (name, params, body)
        for rec in body["data"]:
            assert keep(rec), (name, rec)

    # A filter pages with the cursor like the whole log.
    ids, cursor = [], None
    for _ in range(8):
        params = {"sub": sub, "limit": 1} | ({"cursor": cursor} if cursor else {})
        page = conform(admin.get("/admin/requests", params=params), "GET", "/admin/requests")
        ids += [r["request_id"] for r in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert ids == [r["request_id"] for r in lines], ids


@pytest.mark.parametrize("params", [{"status": "abc"}, {"status": "6xx"}, {"status": "42"}, {"status": "4XX"},
                                    {"since": "yesterday"}, {"until": "2026-12-07"}, {"since": "2026-12-07T10:00:00 01:00"}])
def test_bad_request_log_filters_are_bad_request(admin, params):
    r = admin.get("/admin/requests", params=params)
    assert r.status_code == 400, r.text
    assert conform(r, "GET", "/admin/requests")["error"]["code"] == "bad_request"


def test_stats_aggregate_the_relayed_calls(relay, admin, mint):
    sub = "e2e-stats-" + secrets.token_hex(4)
    m = mint(jti=new_jti(), sub=sub, max_calls=4)
    relay_calls(relay, m.token, 3)
    url = f"{relay.url}/t/{m.token}/v1/chat/completions"
    assert httpx.post(url, json=CHAT, headers={"x-mock-status": "502"}, timeout=30).status_code == 502

    def logged():
        body = conform(admin.get("/admin/requests", params={"sub": sub}), "GET", "/admin/requests")
        return body["data"] if len(body["data"]) >= 4 else None

    lines = wait_until(logged, 5, "4 request-log lines for the subject")
    # The default: the last hour by the minute, every bucket present.
    body = conform(admin.get("/admin/stats"), "GET", "/admin/stats")
    assert body["bucket_seconds"] == 60 and len(body["buckets"]) == 60, body
    assert body["totals"]["requests"] >= 4 and body["active_streams"] == 0, body
    assert body["scanned"] >= 4 and body["truncated"] is False, body
    starts = [b["start"] for b in body["buckets"]]
    assert starts == sorted(starts) and starts[0] == body["since"], starts

    # Exactly this test's calls: from the first line to just after the last.
    first, last = lines[-1]["time"], lines[0]["time"]
    until = (datetime.fromisoformat(last) + timedelta(seconds=1)).isoformat()
    body = conform(admin.get("/admin/stats", params={"since": first, "until": until, "bucket": 10}),
                   "GET", "/admin/stats")
    tot = body["totals"]
    assert tot["requests"] == 4 and tot["errors"] == 1, tot
    assert tot["by_code"] == dict(Counter(r["error_code"] for r in lines if r["error_code"])), (tot, lines)
    assert sum(b["requests"] for b in body["buckets"]) == 4, body["buckets"]
    assert tot["latency_ms"]["p50"] is not None and tot["latency_ms"]["p50"] <= tot["latency_ms"]["p99"], tot
    assert tot["completion_tokens"] == sum(r["completion_tokens"] for r in lines), (tot, lines)
    assert tot["prompt_tokens"] == sum(r["prompt_tokens"] for r in lines), (tot, lines)
    assert body["top_subjects"]["by_calls"] == [{"sub": sub, "calls": 4, "tokens": tot["prompt_tokens"] + tot["completion_tokens"]}]
    assert [t["jti"] for t in body["top_tokens"]["by_tokens"]] == [m.claims["jti"]], body["top_tokens"]
    for secret in (m.token, m.api_key):
        assert secret not in json.dumps(body)


@pytest.mark.parametrize("params", [{"bucket": 9}, {"bucket": 86401}, {"bucket": "1m"}, {"since": "yesterday"},
                                    {"since": "2026-01-01T00:00:00Z", "until": "2026-01-09T00:00:00Z", "bucket": 86400},
                                    {"since": "2026-01-01T00:00:00Z", "until": "2026-01-02T00:01:00Z"},
                                    {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}])
def test_bad_stats_parameters_are_bad_request(admin, params):
    r = admin.get("/admin/stats", params=params)
    assert r.status_code == 400, r.text
    assert conform(r, "GET", "/admin/stats")["error"]["code"] == "bad_request"


def test_providers_without_relay_held_keys(admin, relay_config):
    body = conform(admin.get("/admin/providers"), "GET", "/admin/providers")
    names = [p["name"] for p in body["data"]]
    assert names == sorted(names) and set(relay_config["providers"]) <= set(names) and "openai" in names, names
    mock = next(p for p in body["data"] if p["name"] == "mock")
    assert mock["base_url"] == relay_config["providers"]["mock"]["base_url"] and mock["keys"] == [], mock


HELD_KEYS = ["sk-held-" + secrets.token_hex(16), "sk-held-" + secrets.token_hex(16)]


@pytest.fixture(scope="module")
def relay_with_keys(relay_factory, relay_config, tmp_path_factory):
    """A relay holding two keys of its own for provider "mock"."""
    d = tmp_path_factory.mktemp("held-keys")
    refs = []
    for i, key in enumerate(HELD_KEYS):
        (d / f"key{i}").write_text(key + "\n")
        refs.append({"file": str(d / f"key{i}")})
    config = json.loads(json.dumps(relay_config))
    config["providers"]["mock"]["api_keys"] = refs
    r = relay_factory(config).start()
    yield r
    r.stop()


def test_providers_show_relay_held_keys_by_last4_only(relay_with_keys, relay_bin, keys, admin_key):
    # A token without a key of its own: the relay's keys are used.
    res = subprocess.run([str(relay_bin), "token", "--rai", str(keys.aes), "--provider", "mock", "--expires-in", "1h"],
                         capture_output=True, text=True, timeout=30, env={k: v for k, v in os.environ.items()
                                                                         if k != "RELAYAPI_API_KEY"})
    assert res.returncode == 0, res.stderr
    token = res.stdout.strip()
    url = f"{relay_with_keys.url}/t/{token}/v1/chat/completions"
    assert httpx.post(url, json=CHAT, timeout=30).status_code == 200
    # A 401 for every key: each is tried once, benched and reports it.
    assert httpx.post(url, json=CHAT, headers={"x-mock-status": "401"}, timeout=30).status_code == 401
    r = httpx.get(f"{relay_with_keys.url}/admin/providers", headers={"Authorization": f"Bearer {admin_key}"})
    body = conform(r, "GET", "/admin/providers")
    for key in HELD_KEYS:
        assert key not in r.text and key[:-4] not in r.text, "a relay-held key left the relay"
    mock = next(p for p in body["data"] if p["name"] == "mock")
    assert [k["id"] for k in mock["keys"]] == ["key#1", "key#2"], mock
    assert [k["last4"] for k in mock["keys"]] == [k[-4:] for k in HELD_KEYS], mock
    for k in mock["keys"]:
        assert k["benched"] is True and k["benched_until"] and k["reason"], k
        assert k["last_error"] == "401 Unauthorized" and k["last_error_at"] and k["last_used"], k
    for secret in HELD_KEYS:
        assert secret not in relay_with_keys.proc.log_path.read_text(errors="replace")


ROUTES = [("GET", "/admin/tokens", "/admin/tokens"),
          ("GET", "/admin/tokens/{jti}", "/admin/tokens/e2e-admin-0000000000000000"),
          ("POST", "/admin/tokens/{jti}/revoke", "/admin/tokens/e2e-admin-0000000000000000/revoke"),
          ("GET", "/admin/requests", "/admin/requests"),
          ("GET", "/admin/stats", "/admin/stats"),
          ("GET", "/admin/providers", "/admin/providers")]


@pytest.mark.parametrize("auth", [None, "Bearer wrong-key", "Basic {key}", "{key}", "Bearer {key}x", "Bearer"])
@pytest.mark.parametrize("method,route,path", ROUTES, ids=[r[1] for r in ROUTES])
def test_every_admin_route_refuses_a_missing_or_wrong_key(relay, admin_key, auth, method, route, path):
    headers = {"Authorization": auth.format(key=admin_key)} if auth else {}
    r = httpx.request(method, relay.url + path, headers=headers)
    assert r.status_code == 401, r.text
    assert conform(r, method, route)["error"]["code"] == "unauthorized"
    assert admin_key not in r.text


@pytest.mark.parametrize("route", ["/admin/tokens", "/admin/requests"])
@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"limit": "ten"}, {"cursor": "!!!"}])
def test_bad_limit_or_cursor_is_bad_request(admin, route, params):
    r = admin.get(route, params=params)
    assert r.status_code == 400, r.text
    assert conform(r, "GET", route)["error"]["code"] == "bad_request"


@pytest.fixture(scope="module")
def relay_without_admin(relay_bin, keys, relay_config, tmp_path_factory):
    d = tmp_path_factory.mktemp("relay-noadmin")
    r = Relay(relay_bin, d, dict(relay_config, admin={"key": ""}), [keys.aes], d / "data").start()
    yield r
    r.stop()


@pytest.mark.parametrize("method,route,path", ROUTES, ids=[r[1] for r in ROUTES])
def test_empty_admin_key_disables_every_route(relay_without_admin, admin_key, method, route, path):
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": f"Bearer {admin_key}"}):
        r = httpx.request(method, relay_without_admin.url + path, headers=headers)
        assert r.status_code == 404, r.text
        assert conform(r, method, route)["error"]["code"] == "not_found"


def test_every_admin_operation_was_validated_with_a_success():
    """Keeps this file and the spec in step: each admin operation of the
    spec got a 200 validated above (runs last in this file)."""
    ops = {(m.upper(), p) for p, item in SPEC["paths"].items() for m in item if p.startswith("/admin/")}
    missing = {op for op in ops if (*op, "200") not in CHECKED}
    assert not missing, f"admin operations never validated with 200: {sorted(missing)}"
