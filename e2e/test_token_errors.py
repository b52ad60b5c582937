"""Token failures surface as the OpenAI SDK's typed exceptions with the
relay's error codes (DESIGN.md §5), and nothing reaches the provider."""

from __future__ import annotations

import json
import secrets
import time

import anthropic
import httpx
import openai
import pytest

from relaytest import anthropic_client, keygen, mint_token, openai_client, relay_error, wait_until

MESSAGES = [{"role": "user", "content": "hi"}]


def chat(client, model: str = "gpt-4o"):
    return client.chat.completions.create(model=model, messages=MESSAGES)


def expect_error(exc_type, code: str, status: int, fn, *secrets: str):
    with pytest.raises(exc_type) as ei:
        fn()
    e = ei.value
    assert e.status_code == status, (e.status_code, e.body)
    assert e.code == code, e.body
    assert e.type == "relayapi_error", e.body
    for s in secrets:
        assert s not in json.dumps(e.body), "an error message leaks the token or key"
    return e


def tamper(token: str) -> str:
    """Change one character in the middle of the JWE ciphertext."""
    parts = token.split(".")
    ct = parts[3]
    i = len(ct) // 2
    parts[3] = ct[:i] + ("A" if ct[i] != "A" else "B") + ct[i + 1:]
    return ".".join(parts)


@pytest.fixture(scope="module")
def foreign_tokens(relay_bin, keys, tmp_path_factory):
    """Tokens the relay must not accept: minted with a key it does not hold,
    and an ecc token encrypted to the relay but signed by an untrusted signer."""
    d = tmp_path_factory.mktemp("foreign")
    other = keygen(relay_bin, d)
    unknown_key = mint_token(relay_bin, other.aes, max_calls=1)
    forged = json.loads(other.ecc.read_text())
    forged["crypto"]["relay_public_key"] = json.loads(keys.ecc.read_text())["crypto"]["relay_public_key"]
    forged_path = d / "forged.rai"
    forged_path.write_text(json.dumps(forged))
    untrusted = mint_token(relay_bin, forged_path, max_calls=1)
    return {"unknown_key": unknown_key, "untrusted_signer": untrusted}


@pytest.mark.parametrize("kind", ["garbage", "tampered", "unknown_key", "untrusted_signer"])
@pytest.mark.parametrize("form", ["path", "header"])
def test_invalid_token(relay, mock, mint, foreign_tokens, kind, form):
    if kind == "garbage":
        token, key = "not-a-token", None
    elif kind == "tampered":
        m = mint(max_calls=1)
        token, key = tamper(m.token), m.api_key
    else:
        m = foreign_tokens[kind]
        token, key = m.token, m.api_key
    expect_error(openai.AuthenticationError, "invalid_token", 401,
                 lambda: chat(openai_client(relay.url, token, form)), token, *(k for k in [key] if k))
    if key:
        assert mock.count(key) == 0


def test_expired_token(relay, mock, mint):
    """token.leeway is 0s in the test config: a 1 s token is refused as soon as it expires."""
    m = mint(expires_in="1s")
    c = openai_client(relay.url, m)
    deadline = time.monotonic() + 5
    while True:  # bounded poll until the relay sees the token as expired
        try:
            chat(c)
        except openai.AuthenticationError as e:
            assert e.code == "token_expired", e.body
            break
        assert time.monotonic() < deadline, "a token with --expires-in 1s was still accepted after 5 s"
        time.sleep(0.1)
    calls_before = mock.count(m.api_key)
    expect_error(openai.AuthenticationError, "token_expired", 401, lambda: chat(c), m.token, m.api_key)
    assert mock.count(m.api_key) == calls_before


def test_not_yet_valid_token(relay, mock, mint):
    m = mint(nbf="10m")
    expect_error(openai.AuthenticationError, "token_not_yet_valid", 401,
                 lambda: chat(openai_client(relay.url, m)), m.token, m.api_key)
    assert mock.count(m.api_key) == 0


@pytest.mark.parametrize("form", ["path", "header"])
def test_exhausted_token(relay, mock, mint, form):
    m = mint(max_calls=2)
    c = openai_client(relay.url, m, form)
    chat(c)
    chat(c)
    e = expect_error(openai.RateLimitError, "call_limit_exceeded", 429, lambda: chat(c), m.token, m.api_key)
    assert "call" in e.message.lower()
    assert mock.count(m.api_key) == 2, "the provider must see exactly max_calls requests"
    # Streaming requests are counted too.
    with pytest.raises(openai.RateLimitError):
        c.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    assert mock.count(m.api_key) == 2


def test_model_not_allowed(relay, mock, mint):
    m = mint(models=["gpt-4o"], max_calls=5)
    c = openai_client(relay.url, m)
    chat(c, "gpt-4o")
    expect_error(openai.PermissionDeniedError, "model_not_allowed", 403, lambda: chat(c, "gpt-4o-mini"), m.token)
    with pytest.raises(openai.PermissionDeniedError):
        c.chat.completions.create(model="gpt-4.1", messages=MESSAGES, stream=True)
    assert mock.count(m.api_key) == 1


def test_model_patterns(relay, mock, mint):
    m = mint(models=["gpt-4o*"], max_calls=5)
    c = openai_client(relay.url, m, "header")
    chat(c, "gpt-4o")
    chat(c, "gpt-4o-mini")
    expect_error(openai.PermissionDeniedError, "model_not_allowed", 403, lambda: chat(c, "o3-mini"))
    assert mock.count(m.api_key) == 2


def test_path_not_allowed(relay, mock, mint):
    m = mint(paths=["/v1/chat/*"], max_calls=5)
    c = openai_client(relay.url, m)
    chat(c)
    expect_error(openai.PermissionDeniedError, "path_not_allowed", 403,
                 lambda: c.embeddings.create(model="text-embedding-3-small", input="x"))
    assert mock.count(m.api_key) == 1


def test_origin_not_allowed(relay, mock, mint):
    m = mint(origins=["https://app.example.com"], max_calls=5)
    ok = openai_client(relay.url, m, default_headers={"Origin": "https://app.example.com"})
    raw = ok.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)
    assert raw.headers.get("access-control-allow-origin") == "https://app.example.com"
    evil = openai_client(relay.url, m, default_headers={"Origin": "https://evil.example.com"})
    e = expect_error(openai.PermissionDeniedError, "origin_not_allowed", 403, lambda: chat(evil))
    # The refusal is readable by the page (CORS on the error, nothing
    # forwarded), so its developer sees why instead of a network error.
    assert e.response.headers.get("access-control-allow-origin") == "https://evil.example.com"
    assert mock.count(m.api_key) == 1


@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
def test_permanent_refusals_are_not_retried_by_the_sdks(relay, mock, mint, admin_key, sdk):
    """The official SDKs retry some 4xx and every 5xx twice by default; a
    refusal the same request can never overcome says x-should-retry: false,
    and the relay sees exactly one request."""
    jti = "e2e-refusal-" + secrets.token_hex(8)
    m = mint(jti=jti, models=["gpt-4o-mini", "claude-haiku-4-5"], max_calls=5,
             provider="mock" if sdk == "openai" else "mockanthropic")
    if sdk == "openai":
        client = openai_client(relay.url, m, max_retries=2)
        with pytest.raises(openai.PermissionDeniedError) as ei:
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    else:
        client = anthropic_client(relay.url, m, max_retries=2)
        with pytest.raises(anthropic.PermissionDeniedError) as ei:
            client.messages.create(model="claude-sonnet-4-6", max_tokens=10, messages=MESSAGES)
    headers = ei.value.response.headers
    assert headers.get("x-should-retry") == "false", dict(headers)
    assert headers.get("request-id") and headers.get("request-id") == headers.get("x-request-id")
    with httpx.Client(base_url=relay.url, headers={"Authorization": f"Bearer {admin_key}"}, timeout=10) as admin:
        def logged():
            r = admin.get("/admin/requests", params={"jti": jti})
            return r.json()["data"] if r.status_code == 200 and r.json()["data"] else None

        rows = wait_until(logged, 10, "the request log")
    assert [r["error_code"] for r in rows] == ["model_not_allowed"], rows
    assert mock.count(m.api_key) == 0


def test_ip_not_allowed(relay, mock, mint):
    m = mint(ips=["203.0.113.7"], max_calls=5)
    expect_error(openai.PermissionDeniedError, "ip_not_allowed", 403, lambda: chat(openai_client(relay.url, m)))
    assert mock.count(m.api_key) == 0
    m = mint(ips=["127.0.0.0/8", "::1"], max_calls=5)
    chat(openai_client(relay.url, m))
    assert mock.count(m.api_key) == 1


def test_unknown_provider(relay, mock, mint):
    m = mint(provider="nosuchprovider", max_calls=1)
    with pytest.raises(openai.BadRequestError) as ei:
        chat(openai_client(relay.url, m))
    assert ei.value.code == "unknown_provider", ei.value.body


def test_missing_token(relay):
    r = httpx.post(f"{relay.url}/v1/chat/completions", json={"model": "gpt-4o", "messages": MESSAGES})
    assert r.status_code == 401
    assert relay_error(r)["code"] == "missing_token"


def test_relay_error_shape(relay, mint):
    m = mint(max_calls=1)
    r = httpx.post(f"{relay.url}/t/{tamper(m.token)}/v1/chat/completions", json={"model": "gpt-4o", "messages": MESSAGES})
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/json")
    err = relay_error(r)
    assert err["code"] == "invalid_token"
    assert m.token[:40] not in r.text and m.api_key not in r.text
