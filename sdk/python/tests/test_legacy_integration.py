"""The RelayAPI 1.x Python example, unchanged, against the real relay and the Go mock provider.

The relay loads a default.rai written exactly as RelayAPI 1.x wrote it (scheme
inside host, base_path "/relayapi/", aes_iv_seed) and serves under /relayapi;
providers openai and dashscope point at the mock. Binaries come from
$RELAYAPI_BIN / $MOCKPROVIDER_BIN, else are built from ../../server.
"""

from __future__ import annotations

import json
import warnings
from types import SimpleNamespace

import pytest
from openai import OpenAI

from conftest import aes_rai, mock_requests, start_v1_relay
from relayapi import (
    AuthenticationError,
    BadRequestError,
    RateLimitError,
    RelayAPIClient,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::relayapi.RaiCompatibilityWarning"
)

MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the capital of France?"},
]


@pytest.fixture(scope="module")
def v1_relay(relayapi_bin, mock_provider, tmp_path_factory):
    folder = tmp_path_factory.mktemp("v1-relay")
    proc, rai_path = start_v1_relay(relayapi_bin, mock_provider, folder)
    try:
        yield SimpleNamespace(proc=proc, rai_path=rai_path, folder=folder, mock_url=mock_provider)
    finally:
        proc.stop()


@pytest.fixture(params=["file", "dict"])
def client(request, v1_relay, monkeypatch):
    """A 1.x client, made as the 1.x README makes it: from default.rai or from a dict."""
    if request.param == "file":
        monkeypatch.chdir(v1_relay.folder)
        made = RelayAPIClient("default.rai")
    else:
        config = json.loads(v1_relay.rai_path.read_text())
        made = RelayAPIClient(config)
    assert made.relay.relay_url.endswith("/relayapi")
    return made


def _answer(response: dict) -> str:
    return response["choices"][0]["message"]["content"]


def test_the_1x_readme_example(client, v1_relay, request):
    api_key = f"sk-v1-readme-{request.node.callspec.id}"

    # --- the 1.x README, "基本用法" ---
    token = client.create_token(
        api_key=api_key,
        max_calls=100,
        expire_days=1,
        provider="openai",
    )
    base_url = client.generate_api_url_with_token(token)
    print("Base URL:", base_url)
    openai_client = OpenAI(
        base_url=base_url,
        api_key="not-needed",
    )
    # --- end of the 1.x snippet ---
    assert base_url == f"{client.relay.relay_url}/t/{token}/v1"
    reply = openai_client.chat.completions.create(model="gpt-3.5-turbo", messages=MESSAGES)
    assert reply.choices[0].message.content.startswith("Hello from mock"), v1_relay.proc.output()

    # --- "聊天请求", "图像生成", "嵌入向量生成", "健康检查" ---
    response = client.chat_completions(
        token=token,
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "What is the capital of France?"},
        ],
        model="gpt-3.5-turbo",
    )
    assert _answer(response).startswith("Hello from mock: What is the capital")
    response = client.images_generations(
        token=token,
        prompt="A beautiful sunset over Paris",
        model="dall-e-3",
        size="1024x1024",
        quality="standard",
        n=1,
    )
    assert len(response["data"]) == 1
    response = client.embeddings(
        token=token,
        input="The quick brown fox jumps over the lazy dog",
        model="text-embedding-ada-002",
    )
    assert len(response["data"][0]["embedding"]) > 0
    status = client.health_check()
    assert status["status"] == "ok"

    # The provider got the real key (never the token), for every call.
    seen = mock_requests(v1_relay.mock_url, api_key)
    paths = [r["path"] for r in seen]
    assert paths == [
        "/v1/chat/completions",
        "/v1/chat/completions",
        "/v1/images/generations",
        "/v1/embeddings",
    ]
    assert token not in json.dumps(seen)


def test_the_default_provider_is_dashscope(client, v1_relay, request):
    api_key = f"sk-v1-dashscope-{request.node.callspec.id}"
    token = client.create_token(api_key)
    response = client.chat_completions(token, [{"role": "user", "content": "ni hao"}])
    assert _answer(response).startswith("Hello from mock")
    seen = mock_requests(v1_relay.mock_url, api_key)
    assert [r["model"] for r in seen] == ["qwen-vl-max"]


def test_ext_info_rep_m_replaces_every_model(client, v1_relay, request):
    """1.x ext_info {"rep_m": M} → model_map {"*": M}: the provider sees M whatever was asked.

    Needs the relay's model_map "*" support (issue 17, server side).
    """
    api_key = f"sk-v1-rep-m-{request.node.callspec.id}"
    token = client.create_token(
        api_key=api_key, provider="openai", ext_info='{"rep_m":"gpt-4o-mini","user":"u-42"}'
    )
    client.chat_completions(token, MESSAGES, model="gpt-3.5-turbo")
    OpenAI(base_url=client.generate_api_url_with_token(token), api_key="x").embeddings.create(
        model="text-embedding-ada-002", input="x"
    )
    seen = mock_requests(v1_relay.mock_url, api_key)
    assert [r["model"] for r in seen] == ["gpt-4o-mini", "gpt-4o-mini"], v1_relay.proc.output()


def test_max_calls_ends_in_the_relays_429(client):
    token = client.create_token(api_key="sk-v1-max-calls", max_calls=2, provider="openai")
    for _ in range(2):
        client.chat_completions(token, MESSAGES, model="gpt-3.5-turbo")
    with pytest.raises(RateLimitError) as info:
        client.chat_completions(token, MESSAGES, model="gpt-3.5-turbo")
    assert info.value.status == 429
    assert info.value.code == "call_limit_exceeded"
    assert info.value.message
    assert token not in str(info.value)


def test_provider_errors_are_typed(client):
    token = client.create_token(api_key="sk-v1-provider-error", provider="openai")
    client.headers["x-mock-status"] = "400"
    with pytest.raises(BadRequestError) as info:
        client.chat_completions(token, MESSAGES, model="gpt-3.5-turbo")
    assert info.value.status == 400
    assert "x-mock-status 400" in info.value.message


def test_a_token_from_another_key_is_refused(client):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stranger = RelayAPIClient(aes_rai())
    token = stranger.create_token("sk-stranger", provider="openai")
    with pytest.raises(AuthenticationError) as info:
        client.chat_completions(token, MESSAGES)
    assert info.value.code == "invalid_token"
