"""Plain HTTP checks of the relay: health, readiness, every token location
of DESIGN.md §4, forwarding of the path and query, CORS."""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest

from relaytest import assert_forwarded_safely, expected_completion

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


def test_health(relay, relay_bin, keys, admin_key):
    r = httpx.get(f"{relay.url}/health")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body.get("status") == "ok", body
    version = subprocess.run([str(relay_bin), "version"], capture_output=True, text=True, check=True).stdout
    assert body.get("version") and str(body["version"]) in version, (body, version)
    uptime = [v for k, v in body.items() if k.startswith("uptime")]
    assert len(uptime) == 1 and isinstance(uptime[0], (int, float)) and uptime[0] >= 0, body
    # No secrets: not the admin key, not a key file's material, no provider config.
    aes_key = json.loads(keys.aes.read_text())["crypto"]["aes_key"]
    for secret in (admin_key, aes_key, "sk-", "base_url", "127.0.0.1"):
        assert secret not in r.text, f"/health exposes {secret!r}"


def test_ready(relay):
    r = httpx.get(f"{relay.url}/ready")
    assert r.status_code == 200


@pytest.mark.parametrize("param", ["token", "key"])
def test_token_in_query(relay, mock, mint, param):
    m = mint(max_calls=1)
    r = httpx.post(f"{relay.url}/v1/chat/completions?foo=bar&{param}={m.token}&baz=1", json=CHAT)
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["message"]["content"] == expected_completion("hi")[0]
    (rec,) = assert_forwarded_safely(mock, m, expect=1)
    assert rec["path"] == "/v1/chat/completions"
    assert sorted(rec["query"].split("&")) == ["baz=1", "foo=bar"], rec["query"]


@pytest.mark.parametrize("header", ["Authorization", "x-api-key", "api-key", "x-goog-api-key"])
def test_token_in_header(relay, mock, mint, header):
    """Any of the auth headers carries the token; the upstream gets only the
    provider's own auth (Bearer for `mock`)."""
    m = mint(max_calls=1)
    value = f"Bearer {m.token}" if header == "Authorization" else m.token
    r = httpx.post(f"{relay.url}/v1/chat/completions", json=CHAT, headers={header: value})
    assert r.status_code == 200, r.text
    assert_forwarded_safely(mock, m, expect=1)


def test_path_token_forwards_rest_of_path_and_query(relay, mock, mint):
    m = mint(max_calls=1)
    r = httpx.post(f"{relay.url}/t/{m.token}/v1/chat/completions?api-version=2024-10-21", json=CHAT,
                   headers={"x-stainless-lang": "python", "x-custom-header": "dropped",
                            "openai-organization": "org-evil"})
    assert r.status_code == 200, r.text
    (rec,) = assert_forwarded_safely(mock, m, expect=1)
    assert rec["path"] == "/v1/chat/completions"
    assert rec["query"] == "api-version=2024-10-21"
    # Headers cross by allowlist: what the SDKs send, not what steers the
    # operator's account or what nobody listed.
    assert rec["headers"].get("X-Stainless-Lang") == ["python"]
    assert "X-Custom-Header" not in rec["headers"] and "Openai-Organization" not in rec["headers"]
    # Upstream response headers the SDKs read pass through; the account's
    # own rate limits and organization do not.
    assert r.headers.get_list("x-request-id") == [f"req_mock_{rec['seq']}"], r.headers.get_list("x-request-id")
    assert r.headers.get("openai-version") == "2020-10-01"
    assert "x-ratelimit-remaining-requests" not in r.headers and "openai-organization" not in r.headers


def test_cors_preflight_without_token(relay):
    r = httpx.options(f"{relay.url}/v1/chat/completions", headers={
        "Origin": "https://app.example.com",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, x-stainless-os",
    })
    assert r.status_code in (200, 204), r.text
    assert r.headers.get("access-control-allow-origin") in ("*", "https://app.example.com")
    assert "POST" in r.headers.get("access-control-allow-methods", "").upper()
    # A wildcard does not cover Authorization (Fetch spec): it must be listed.
    allowed = r.headers.get("access-control-allow-headers", "").lower()
    assert "authorization" in allowed, allowed
    assert r.headers.get("access-control-allow-credentials") != "true"


def test_cors_on_response(relay, mock, mint):
    m = mint(max_calls=1)
    r = httpx.post(f"{relay.url}/t/{m.token}/v1/chat/completions", json=CHAT,
                   headers={"Origin": "https://app.example.com"})
    assert r.status_code == 200
    assert r.headers.get("access-control-allow-origin") in ("*", "https://app.example.com")
    exposed = r.headers.get("access-control-expose-headers", "").lower()
    assert "x-request-id" in exposed, exposed
