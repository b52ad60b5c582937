"""Coming from RelayAPI 1.x: its config.json and its key files, exactly as
1.x wrote them, run this relay — served under /relayapi as 1.x was, its
rate limits kept, its PostgreSQL request log kept — and the key 1.x
published as an example is refused (docs/migrating-from-1.x.md)."""

from __future__ import annotations

import json
import secrets
import subprocess
from pathlib import Path

import httpx
import pytest

from relaytest import MOCK_CONTROLS, Relay, expected_completion, free_port, mint_token, openai_client, wait_until
from services import PostgresServer

EXAMPLE_KEY = "0123456789abcdef" * 4


def v1_config(pg: PostgresServer) -> dict:
    """The config.json 1.x shipped, with its request log on our PostgreSQL
    (1.x took a keyword/value connection string)."""
    return {
        "server": {"host": "0.0.0.0", "port": 8080, "read_timeout": 30, "write_timeout": 30,
                   "max_header_bytes": 1048576, "debug": False},
        "log": {
            "console": True,
            "database": {"enabled": True, "type": "postgres",
                         "connection_string": f"user=postgres dbname=relayapi host=127.0.0.1 port={pg.port} sslmode=disable"},
            "web": {"enabled": False, "callback_url": "http://example.com/log"},
            "parquet": {"enabled": False, "file_path": "/path/to/logs/output.parquet"},
        },
        "rate_limit": {"requests_per_second": 50, "burst": 100,
                       "ip_limit": {"requests_per_second": 1, "burst": 6}},
    }


def v1_rai(path: Path, port: int, aes_key: str | None = None) -> Path:
    """A key file byte for byte in the form 1.x wrote default.rai."""
    path.write_text(json.dumps({
        "version": "1.0.0",
        "server": {"host": "http://127.0.0.1", "port": port, "base_path": "/relayapi/"},
        "crypto": {"method": "aes", "aes_key": aes_key or secrets.token_hex(32), "aes_iv_seed": "fedcba9876543210"},
    }, indent=4))
    return path


@pytest.fixture(scope="module")
def postgres_server(tmp_path_factory):
    p = PostgresServer(tmp_path_factory.mktemp("postgres")).start()
    yield p
    p.stop()


def psql(pg: PostgresServer, sql: str) -> str:
    return subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-d", "relayapi",
                           "-tAc", sql], check=True, capture_output=True, text=True, timeout=30).stdout.strip()


def test_a_1x_config_and_key_file_run_the_relay_as_1x_did(relay_bin, postgres_server, tmp_path):
    port = free_port()
    rai = v1_rai(tmp_path / "default.rai", port)
    relay = Relay(relay_bin, tmp_path, v1_config(postgres_server), [rai], tmp_path / "data", base_path="/relayapi")
    relay.start(port=port)
    try:
        log = relay.proc.log_path.read_text()
        mapped = [json.loads(line)["msg"] for line in log.splitlines() if '"1.x config: ' in line]
        assert len(mapped) >= 10, f"one warning per 1.x key mapped or dropped, got {mapped}"
        assert any("aes_iv_seed is ignored" in line for line in log.splitlines()), "no warning for aes_iv_seed"
        assert httpx.get(relay.url + "/health").status_code == 404, "served outside /relayapi"

        # The URL the CLI builds from the 1.x key file is the one the relay serves.
        minted = mint_token(relay_bin, rai, provider="openai", models=["gpt-4o"], max_calls=5)
        url = subprocess.run([str(relay_bin), "token", "--rai", str(rai), "--provider", "openai",
                              "--api-key", "sk-unused", "--url"], check=True, capture_output=True, text=True).stdout
        assert url.startswith(f"http://127.0.0.1:{port}/relayapi/t/eyJ") and url.strip().endswith("/v1"), url
        # The token decodes under the base path: it is refused for its model, before any upstream.
        r = httpx.post(f"{relay.url}/relayapi/t/{minted}/v1/chat/completions",
                       json={"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "hi"}]})
        assert r.status_code == 403 and r.json()["error"]["code"] == "model_not_allowed", r.text

        # 1.x's request log table moved to relayapi_request_log, in the same database.
        wait_until(lambda: psql(postgres_server, "select count(*) from relayapi_request_log where status = 403") == "1",
                   10, "the request log row in PostgreSQL")

        # rate_limit.ip_limit (burst 6, then 1/s) is the per-IP limit.
        codes = [httpx.get(relay.url + "/relayapi/health").status_code for _ in range(12)]
        assert 429 in codes and codes[0] == 200, codes
    finally:
        relay.stop()


def test_migrate_config_then_chat_through_the_mock_with_a_1x_key_file(relay_bin, mock, postgres_server, tmp_path):
    old = tmp_path / "config.1x.json"
    old.write_text(json.dumps(v1_config(postgres_server)))
    new = tmp_path / "config.json"
    res = subprocess.run([str(relay_bin), "migrate-config", str(old), str(new)], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    assert res.stderr.count("1.x config:") >= 10, res.stderr
    cfg = json.loads(new.read_text())
    assert cfg["base_path"] == "/relayapi" and cfg["admin"]["key"].startswith("rak_")
    # What an operator adds by hand: where the providers are.
    cfg["providers"] = {"openai": {"base_url": mock.url, "allow_request_headers": MOCK_CONTROLS}}
    cfg["limits"]["per_ip_rps"] = 0
    port = free_port()
    rai = v1_rai(tmp_path / "default.rai", port)
    relay = Relay(relay_bin, tmp_path, cfg, [rai], tmp_path / "data", base_path="/relayapi")
    relay.start(port=port)
    try:
        minted = mint_token(relay_bin, rai, provider="openai", max_calls=2)
        client = openai_client(relay.url + "/relayapi", minted)
        answer = client.chat.completions.create(model="gpt-3.5-turbo", messages=[{"role": "user", "content": "from 1.x"}])
        assert answer.choices[0].message.content == expected_completion("from 1.x")[0]
        usage = httpx.get(f"{relay.url}/relayapi/admin/tokens/{mint_jti(relay_bin, rai, minted)}",
                          headers={"Authorization": "Bearer " + cfg["admin"]["key"]})
        assert usage.status_code == 200 and usage.json()["calls"] == 1, usage.text
    finally:
        relay.stop()


def mint_jti(relay_bin: Path, rai: Path, minted) -> str:
    out = subprocess.run([str(relay_bin), "inspect", "--rai", str(rai), str(minted)], check=True,
                         capture_output=True, text=True, timeout=30).stdout
    return json.loads(out)["jti"]


def test_the_relay_refuses_the_example_key_1x_published(relay_bin, tmp_path):
    port = free_port()
    rai = v1_rai(tmp_path / "default.rai", port, aes_key=EXAMPLE_KEY)
    (tmp_path / "c.json").write_text("{}")
    res = subprocess.run([str(relay_bin), "serve", "--config", str(tmp_path / "c.json"), "--rai", str(rai),
                          "--data", str(tmp_path / "data"), "--listen", f"127.0.0.1:{port}"],
                         capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert res.returncode != 0
    assert "example key published with RelayAPI 1.x" in res.stderr and "relayapi keygen" in res.stderr, res.stderr
    assert EXAMPLE_KEY not in res.stderr + res.stdout
