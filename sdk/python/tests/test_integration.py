"""End to end: real `relayapi serve` + Go mock provider + SDK tokens + the official openai SDK.

Binaries come from $RELAYAPI_BIN / $MOCKPROVIDER_BIN, else are built with
`go build` from ../../server. This test fails (never skips) when they cannot
be built or do not start.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import openai
import pytest

from conftest import aes_rai, clean_env, ecc_rai_pair, free_port, start_relay
from relayapi import RelayAPI

ADMIN_KEY = "integration-admin-key"


@pytest.fixture(scope="module", params=["aes", "ecc"])
def relay_server(request, relayapi_bin, mock_provider, tmp_path_factory):
    """A running relay: .relay (minting client), .proc, .mock_url, .backend_rai."""
    folder = tmp_path_factory.mktemp(f"relay-{request.param}")
    if request.param == "aes":
        backend = relay_keys = aes_rai()
    else:
        backend, relay_keys, _ = ecc_rai_pair()
    rai_path = folder / "relay.rai"
    rai_path.write_text(json.dumps(relay_keys))
    (folder / "backend.rai").write_text(json.dumps(backend))
    config = {
        "providers": {"mock": {"base_url": mock_provider, "auth": "bearer"}},
        "admin": {"key": ADMIN_KEY},
        "store": {"driver": "sqlite", "url": ""},
    }
    port = free_port()
    proc = start_relay(relayapi_bin, folder, config, rai_path, port)
    try:
        client = RelayAPI(backend, relay_url=f"http://127.0.0.1:{port}", admin_key=ADMIN_KEY)
        yield SimpleNamespace(
            relay=client, proc=proc, mock_url=mock_provider, backend_rai=folder / "backend.rai"
        )
    finally:
        proc.stop()


def test_streaming_chat_through_the_relay(relay_server):
    relay, proc, mock_url = relay_server.relay, relay_server.proc, relay_server.mock_url
    upstream_key = f"sk-mock-{relay.method}-stream"
    token = relay.create_token(provider="mock", api_key=upstream_key, max_calls=5)
    client = relay.openai_client(token, max_retries=0, timeout=20)
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Say hello"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text, usage, chunks = "", None, 0
    for chunk in stream:
        chunks += 1
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
        if chunk.usage is not None:
            usage = chunk.usage
    assert chunks > 1, proc.output()
    assert text, proc.output()
    assert usage is not None and usage.total_tokens > 0
    # The provider saw the real key, never the token.
    with urllib.request.urlopen(f"{mock_url}/_mock/requests?key={upstream_key}") as resp:
        seen = json.loads(resp.read())
    records = seen["data"]
    assert records, seen
    assert records[-1]["path"] == "/v1/chat/completions"
    assert records[-1]["stream"] is True
    assert token.value not in json.dumps(seen)


def test_chat_and_embeddings_through_the_relay(relay_server):
    relay, proc = relay_server.relay, relay_server.proc
    client = relay.openai_client(
        relay.create_token(provider="mock", api_key="sk-mock-upstream"), max_retries=0
    )
    reply = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.choices[0].message.content, proc.output()
    emb = client.embeddings.create(model="text-embedding-3-small", input="hello")
    assert len(emb.data[0].embedding) > 0


def test_relay_enforces_sdk_claims(relay_server):
    relay = relay_server.relay
    token = relay.create_token(provider="mock", api_key="sk-mock", max_calls=1, models=["gpt-4o*"])
    client = relay.openai_client(token, max_retries=0)
    messages = [{"role": "user", "content": "hi"}]
    with pytest.raises(openai.PermissionDeniedError) as info:
        client.chat.completions.create(model="claude-3", messages=messages)
    assert info.value.code == "model_not_allowed"
    client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    assert info.value.code == "call_limit_exceeded"


def test_relay_rejects_foreign_tokens(relay_server):
    relay = relay_server.relay
    stranger = RelayAPI(aes_rai(), relay_url=relay.relay_url)
    client = stranger.openai_client(stranger.create_token(provider="mock"), max_retries=0)
    with pytest.raises(openai.AuthenticationError) as info:
        client.models.list()
    assert info.value.code == "invalid_token"


def test_admin_usage_and_revoke_on_the_real_relay(relay_server):
    relay = relay_server.relay
    token = relay.create_token(provider="mock", api_key="sk-mock", max_calls=10)
    client = relay.openai_client(token, max_retries=0)
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    usage = relay.usage(token)
    assert isinstance(usage, dict) and usage
    assert token.id in json.dumps(usage)
    relay.revoke(token.id)
    with pytest.raises(openai.AuthenticationError) as info:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert info.value.code == "token_revoked"


def test_chat_example_runs_against_the_relay(relay_server, tmp_path):
    relay, proc = relay_server.relay, relay_server.proc
    backend = relay_server.backend_rai
    script = Path(__file__).resolve().parents[1] / "examples" / "chat.py"
    env = clean_env()
    env.pop("OPENAI_API_KEY", None)
    result = subprocess.run(
        [
            sys.executable,
            str(script),
            "--rai",
            str(backend),
            "--relay-url",
            relay.relay_url,
            "--provider",
            "mock",
            "--api-key",
            "sk-mock-example",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr + proc.output()
    for expected in ("chat:", "streaming chat:", "embedding:", "image:"):
        assert expected in result.stdout


def test_path_token_works_with_a_placeholder_api_key(relay_server):
    """What the README tells browser users: baseURL carries the token, apiKey is unused."""
    relay, mock_url = relay_server.relay, relay_server.mock_url
    upstream_key = f"sk-mock-{relay.method}-placeholder"
    token = relay.create_token(provider="mock", api_key=upstream_key)
    client = openai.OpenAI(base_url=relay.base_url(token), api_key="unused", max_retries=0)
    reply = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert reply.choices[0].message.content
    with urllib.request.urlopen(f"{mock_url}/_mock/requests?key={upstream_key}") as resp:
        assert json.loads(resp.read())["data"], "the provider did not get the real key"
