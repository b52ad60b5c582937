"""The Go relay accepts what the SDK mints (and the SDK decoder reads what Go mints).

Uses ``relayapi keygen`` / ``token`` / ``inspect`` from the real binary
($RELAYAPI_BIN, else built from ../../server).
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from relayapi import RelayAPI
from relayapi._testing import decode_token


def run(binary: Path, *args: str) -> str:
    proc = subprocess.run(
        [str(binary), *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, f"relayapi {args[0]} failed ({proc.returncode}): {proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module", params=["aes", "ecc"])
def keys(request, relayapi_bin, tmp_path_factory):
    """(method, backend .rai path, relay .rai path) written by `relayapi keygen`."""
    folder = tmp_path_factory.mktemp(f"keys-{request.param}")
    backend = folder / "backend.rai"
    if request.param == "aes":
        run(relayapi_bin, "keygen", "--method", "aes", "--out", str(backend))
        return request.param, backend, backend
    relay = folder / "relay.rai"
    run(
        relayapi_bin,
        "keygen",
        "--method",
        "ecc",
        "--out",
        str(backend),
        "--relay-out",
        str(relay),
    )
    return request.param, backend, relay


def inspect(relayapi_bin: Path, relay_rai: Path, token: str) -> dict:
    return json.loads(run(relayapi_bin, "inspect", "--rai", str(relay_rai), token))


def test_relay_accepts_sdk_tokens(relayapi_bin, keys):
    method, backend, relay_rai = keys
    relay = RelayAPI(backend)
    assert relay.method == method
    token = relay.create_token(
        provider="openai",
        api_key="sk-real-key-123",
        expires_in=900,
        max_calls=10,
        models=["gpt-4o*", "text-embedding-3-small"],
        paths=["/v1/*"],
        rpm=30,
        concurrency=2,
        max_tokens=512,
        token_budget=20_000,
        max_session_seconds=1800,
        ips=["203.0.113.7", "10.0.0.0/8", "2001:db8::/32"],
        origins=["https://app.example.com", "https://*.example.com"],
        model_map={"gpt-4": "gpt-4o-mini"},
        meta={"team": "search", "备注": "中文"},
        sub="user-42",
        not_before=int(time.time()) - 10,
        extra={"x_trace": {"id": [1, 2]}},
    )
    claims = inspect(relayapi_bin, relay_rai, token.value)
    expected = dict(token.claims)
    # inspect redacts the real key (its exact redaction format is the CLI's business).
    redacted = claims.pop("api_key")
    assert expected.pop("api_key") == "sk-real-key-123"
    assert isinstance(redacted, str) and redacted != "sk-real-key-123"
    assert claims == expected


def test_relay_accepts_minimal_sdk_token(relayapi_bin, keys):
    _, backend, relay_rai = keys
    token = RelayAPI(backend).create_token(provider="mock")
    assert inspect(relayapi_bin, relay_rai, token.value) == dict(token.claims)


def test_relay_rejects_tampered_sdk_token(relayapi_bin, keys):
    _, backend, relay_rai = keys
    value = RelayAPI(backend).create_token().value
    head, rest = value[:-6], value[-6:]
    tampered = head + ("A" if rest[0] != "A" else "B") + rest[1:]
    proc = subprocess.run(
        [str(relayapi_bin), "inspect", "--rai", str(relay_rai), tampered],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0
    assert "invalid_token" in proc.stderr or "invalid" in proc.stderr.lower()


def test_sdk_decodes_go_tokens(relayapi_bin, keys):
    _, backend, relay_rai = keys
    token = run(
        relayapi_bin,
        "token",
        "--rai",
        str(backend),
        "--provider",
        "mock",
        "--api-key",
        "sk-go",
        "--max-calls",
        "3",
        "--models",
        "a*,b",
        "--meta",
        "k=v",
        "--sub",
        "u1",
    ).strip()
    claims = decode_token(token, relay_rai, now=int(time.time()))
    assert claims["provider"] == "mock"
    assert claims["api_key"] == "sk-go"
    assert claims["max_calls"] == 3
    assert claims["models"] == ["a*", "b"]
    assert claims["meta"] == {"k": "v"}
    assert claims["sub"] == "u1"


@pytest.mark.parametrize("flavor", ["openai", "anthropic", "gemini"])
def test_base_url_matches_the_cli(relayapi_bin, keys, flavor):
    _, backend, _ = keys
    url = run(relayapi_bin, "token", "--rai", str(backend), "--url", "--flavor", flavor).strip()
    prefix, _, tail = url.partition("/t/")
    token = tail.split("/")[0]
    assert RelayAPI(backend).base_url(token, flavor) == url
    assert prefix == "http://127.0.0.1:8840"


def test_relay_accepts_every_edge_value_the_sdk_accepts(relayapi_bin, keys):
    """Boundary values SDK validation lets through must be valid for the Go relay too."""
    from test_validation import GOOD

    _, backend, relay_rai = keys
    relay = RelayAPI(backend)
    for argument, value in GOOD:
        token = relay.create_token(**{argument: value})
        claims = inspect(relayapi_bin, relay_rai, token.value)
        expected = dict(token.claims)
        if "api_key" in expected:
            expected["api_key"] = claims["api_key"]  # redacted by inspect
        if expected.get("nbf") == 0:
            del expected["nbf"]  # Go keeps 0 as "absent" (same meaning: no restriction)
        assert claims == expected, argument
