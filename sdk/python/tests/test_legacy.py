"""The RelayAPI 1.x API (RelayAPIClient, TokenGenerator): thin deprecated wrappers over RelayAPI."""

from __future__ import annotations

import json
import re
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

import relayapi
from conftest import SDK_DIR, aes_rai, ecc_rai_pair, free_port, v1_rai
from relayapi import (
    BadRequestError,
    InvalidArgumentError,
    RaiCompatibilityWarning,
    RateLimitError,
    RelayAPI,
    RelayAPIClient,
    RelayAPIError,
    RelayConnectionError,
    ServerError,
    TokenGenerator,
)
from relayapi._testing import decode_token
from relayapi.legacy import ext_info_claims

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::relayapi.RaiCompatibilityWarning"
)


def keys(port: int = 8840) -> dict:
    data = v1_rai(port)
    data["server"]["host"] = "http://localhost" if port == 8840 else "http://127.0.0.1"
    return data


def claims_of(token: str, rai: dict) -> dict:
    return decode_token(token, rai, now=int(time.time()))


# ----------------------------------------------------------- package surface


def test_1x_imports_and_version():
    from relayapi import RelayAPIClient as Client
    from relayapi import TokenGenerator as Generator

    assert Client is relayapi.legacy.RelayAPIClient
    assert Generator is relayapi.legacy.TokenGenerator
    assert relayapi.__version__ == "2.0.0"
    pyproject = (SDK_DIR / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^version = "2\.0\.0"$', pyproject, re.M)


def test_no_requests_dependency():
    source = (SDK_DIR / "src" / "relayapi" / "legacy.py").read_text(encoding="utf-8")
    assert "import requests" not in source
    pyproject = (SDK_DIR / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^dependencies = \["joserfc[^\]]*\]$', pyproject, re.M)


# ---------------------------------------------------------------------- URLs


def test_urls_are_path_token_urls():
    client = RelayAPIClient(keys())
    root = "http://localhost:8840/relayapi/t/TOKEN/v1"
    assert client.generate_api_url_with_token("TOKEN") == root
    assert client.generate_api_url_with_token("TOKEN", "") == root
    assert client.generate_api_url_with_token(" TOKEN\n") == root  # 1.x stripped it
    assert client.generate_api_url_with_token("TOKEN", "chat_completions") == (
        f"{root}/chat/completions"
    )
    assert client.generate_api_url_with_token("TOKEN", api_type="images_generations") == (
        f"{root}/images/generations"
    )
    assert client.generate_api_url_with_token("TOKEN", "embeddings") == f"{root}/embeddings"


@pytest.mark.parametrize("api_type", ["chat", "v1/chat/completions", "models", "Embeddings"])
def test_unknown_api_type_is_an_error(api_type):
    client = RelayAPIClient(keys())
    with pytest.raises(InvalidArgumentError) as info:
        client.generate_api_url_with_token("TOKEN", api_type)
    assert info.value.argument == "api_type"
    with pytest.raises(InvalidArgumentError):
        client.generate_api_url(api_key="sk-x", api_type=api_type)


def test_not_a_token_is_an_error():
    client = RelayAPIClient(keys())
    with pytest.raises(InvalidArgumentError) as info:
        client.generate_api_url_with_token("a/b?c")
    assert info.value.argument == "token"


def test_generate_api_url_mints_and_builds():
    rai = keys()
    client = RelayAPIClient(rai)
    url = client.generate_api_url(
        "sk-one-step", max_calls=5, expire_days=2, provider="openai", api_type="embeddings"
    )
    prefix, suffix = "http://localhost:8840/relayapi/t/", "/v1/embeddings"
    assert url.startswith(prefix) and url.endswith(suffix)
    claims = claims_of(url[len(prefix) : -len(suffix)], rai)
    assert claims["api_key"] == "sk-one-step"
    assert claims["provider"] == "openai"
    assert claims["max_calls"] == 5
    assert claims["exp"] - claims["iat"] == 2 * 86400
    assert client.generate_api_url("sk-x").endswith("/v1")


def test_the_client_exposes_the_new_api():
    client = RelayAPIClient(keys())
    assert isinstance(client.relay, RelayAPI)
    assert client.relay.relay_url == "http://localhost:8840/relayapi"
    assert client.token_generator.relay is client.relay
    assert client.headers == {"Content-Type": "application/json"}
    assert "localhost:8840/relayapi" in repr(client)


# -------------------------------------------------------------------- tokens


def test_create_token_defaults_are_the_1x_ones():
    rai = keys()
    token = RelayAPIClient(rai).create_token("sk-default")
    assert isinstance(token, str)
    claims = claims_of(token, rai)
    assert claims["provider"] == "dashscope"
    assert claims["max_calls"] == 100
    assert claims["exp"] - claims["iat"] == 86400
    assert claims["api_key"] == "sk-default"
    assert "model_map" not in claims and "meta" not in claims


@pytest.mark.parametrize(("days", "seconds"), [(1, 86400), (7, 604800), (0.5, 43200)])
def test_expire_days(days, seconds):
    rai = keys()
    claims = claims_of(RelayAPIClient(rai).create_token("k", expire_days=days), rai)
    assert claims["exp"] - claims["iat"] == seconds


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"expire_days": 0}, "expire_days"),
        ({"expire_days": -1}, "expire_days"),
        ({"expire_days": "1"}, "expire_days"),
        ({"expire_days": True}, "expire_days"),
        ({"max_calls": 0}, "max_calls"),
        ({"provider": "Open AI"}, "provider"),
        ({"ext_info": 42}, "ext_info"),
    ],
)
def test_invalid_arguments(kwargs, argument):
    with pytest.raises(InvalidArgumentError) as info:
        RelayAPIClient(keys()).create_token("sk-x", **kwargs)
    assert info.value.argument == argument


def test_api_key_is_checked():
    with pytest.raises(InvalidArgumentError) as info:
        RelayAPIClient(keys()).create_token("sk with spaces")
    assert info.value.argument == "api_key"


@pytest.mark.parametrize(
    ("ext_info", "claims"),
    [
        ("", {}),
        (None, {}),
        ("{}", {}),
        ('{"rep_m": ""}', {}),
        ('{"rep_m": null}', {}),
        ('{"rep_m":"gpt-4o-mini"}', {"model_map": {"*": "gpt-4o-mini"}}),
        (
            '{"rep_m": "qwen-max", "user": "u-1", "tier": 2, "vip": true, "tags": ["a", 1],'
            ' "x": {"b": null}, "none": null}',
            {
                "model_map": {"*": "qwen-max"},
                "meta": {
                    "user": "u-1",
                    "tier": "2",
                    "vip": "true",
                    "tags": '["a",1]',
                    "x": '{"b":null}',
                    "none": "null",
                },
            },
        ),
        ('{"note": "été"}', {"meta": {"note": "été"}}),
        ("order 42", {"meta": {"ext_info": "order 42"}}),
        ("[1, 2]", {"meta": {"ext_info": "[1, 2]"}}),
        ('"quoted"', {"meta": {"ext_info": '"quoted"'}}),
        ("{not json", {"meta": {"ext_info": "{not json"}}),
        ({"rep_m": "m", "user": "u"}, {"model_map": {"*": "m"}, "meta": {"user": "u"}}),
    ],
)
def test_ext_info_mapping(ext_info, claims):
    assert ext_info_claims(ext_info) == claims
    rai = keys()
    token = RelayAPIClient(rai).create_token("sk-x", ext_info=ext_info)
    decoded = claims_of(token, rai)
    for name in ("model_map", "meta"):
        assert decoded.get(name) == claims.get(name)


@pytest.mark.parametrize(
    ("ext_info", "detail"),
    [
        ("x" * 257, "1-256 bytes"),
        ("€" * 86, "1-256 bytes"),  # 86 characters, 258 bytes
        (json.dumps({"k": "v" * 257}), "1-256 bytes"),
        (json.dumps({"k" * 65: "v"}), "1-64 bytes"),
        (json.dumps({"": "v"}), "1-64 bytes"),
        (json.dumps({"k": ""}), "1-256 bytes"),
        (json.dumps({f"k{i}": "v" for i in range(33)}), "at most 32"),
        (json.dumps({"rep_m": 4}), "rep_m"),
        (json.dumps({"rep_m": "m" * 257}), "rep_m"),
        ({"k": object()}, "not JSON"),
    ],
)
def test_ext_info_limits(ext_info, detail):
    with pytest.raises(InvalidArgumentError) as info:
        ext_info_claims(ext_info)
    assert info.value.argument == "ext_info"
    assert detail in str(info.value)
    with pytest.raises(InvalidArgumentError):
        RelayAPIClient(keys()).create_token("sk-x", ext_info=ext_info)


def test_ext_info_at_the_limits_is_accepted():
    meta = {f"k{i:02d}".ljust(64, "k"): "v" * 256 for i in range(32)}
    assert ext_info_claims(json.dumps(meta)) == {"meta": meta}
    assert ext_info_claims("é" * 128) == {"meta": {"ext_info": "é" * 128}}


# ---------------------------------------------------------- TokenGenerator


def test_token_generator_create_and_encrypt():
    rai = keys()
    generator = TokenGenerator(rai)
    data = generator.create_token(
        "sk-gen", max_calls=3, provider="openai", ext_info='{"rep_m":"m"}'
    )
    assert data["api_key"] == "sk-gen"
    assert data["max_calls"] == 3
    assert data["provider"] == "openai"
    assert data["model_map"] == {"*": "m"}
    assert data["exp"] - data["iat"] == 86400
    token = generator.encrypt_token(data)
    assert claims_of(token, rai) == data
    assert generator.get_server_url() == "http://localhost:8840/relayapi"
    assert generator.get_server_url("health") == "http://localhost:8840/relayapi/health"
    assert generator.get_server_url("/v1/x") == "http://localhost:8840/relayapi/v1/x"


def test_token_generator_refuses_1x_token_data():
    generator = TokenGenerator(keys())
    old = {
        "id": "token-1700000000.0",
        "api_key": "sk",
        "max_calls": 100,
        "expire_time": "2030-01-01T00:00:00+00:00",
        "created_at": "2024-01-01T00:00:00+00:00",
        "provider": "openai",
        "ext_info": "",
    }
    with pytest.raises(InvalidArgumentError) as info:
        generator.encrypt_token(old)
    assert info.value.argument == "token_data"
    with pytest.raises(InvalidArgumentError):
        generator.encrypt_token("not a dict")  # type: ignore[arg-type]


def test_key_file_errors_are_the_new_ones(tmp_path):
    with pytest.raises(relayapi.RaiFileError, match="example key"):
        RelayAPIClient(aes_rai("0123456789abcdef" * 4))
    with pytest.raises(relayapi.RaiFileError, match="cannot read"):
        TokenGenerator(tmp_path / "missing.rai")
    with pytest.raises(relayapi.RaiFileError, match="wrong role"):
        RelayAPIClient(ecc_rai_pair()[1])


def test_default_config_is_default_rai_in_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "default.rai").write_text(json.dumps(keys()))
    monkeypatch.chdir(tmp_path)
    assert RelayAPIClient().relay.relay_url == "http://localhost:8840/relayapi"
    assert TokenGenerator().relay.relay_url == "http://localhost:8840/relayapi"


# -------------------------------------------------------- deprecation notes

CALLS = [
    ("RelayAPIClient", lambda c, t: RelayAPIClient(keys()), r"RelayAPI\(rai\)"),
    ("create_token", lambda c, t: c.create_token("sk"), r"RelayAPI\.create_token"),
    (
        "generate_api_url_with_token",
        lambda c, t: c.generate_api_url_with_token(t),
        r"RelayAPI\.base_url",
    ),
    ("generate_api_url", lambda c, t: c.generate_api_url("sk"), r"RelayAPI\.generate_url"),
    ("TokenGenerator", lambda c, t: TokenGenerator(keys()), r"RelayAPI\(rai\)"),
    (
        "TokenGenerator.create_token",
        lambda c, t: c.token_generator.create_token("sk"),
        r"RelayAPI\.create_token",
    ),
    (
        "TokenGenerator.encrypt_token",
        lambda c, t: c.token_generator.encrypt_token(c.relay.create_token().claims),
        r"RelayAPI\.create_token",
    ),
    (
        "TokenGenerator.get_server_url",
        lambda c, t: c.token_generator.get_server_url(),
        r"RelayAPI\.relay_url",
    ),
]


@pytest.mark.parametrize(("name", "call", "new_api"), CALLS, ids=[c[0] for c in CALLS])
def test_each_1x_call_warns_once_naming_the_new_api(name, call, new_api):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = RelayAPIClient(keys())
        token = client.create_token("sk")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call(client, token)
    notes = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert len(notes) == 1, [str(w.message) for w in notes]
    assert re.search(new_api, str(notes[0].message))
    assert "deprecated" in str(notes[0].message)
    assert notes[0].filename == __file__  # points at the caller's line


def test_1x_key_file_also_warns_about_the_seed():
    with pytest.warns(RaiCompatibilityWarning, match="aes_iv_seed"):
        RelayAPIClient(keys())


# --------------------------------------------------- HTTP, against a stub


class _Handler(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append(  # type: ignore[attr-defined]
            SimpleNamespace(
                method=self.command, path=self.path, headers=dict(self.headers), body=body
            )
        )
        status, payload, headers = self.server.reply  # type: ignore[attr-defined]
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def stub():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.seen = []
    server.reply = (200, {"ok": True}, {})
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    rai = keys(server.server_address[1])
    client = RelayAPIClient(rai)
    try:
        yield SimpleNamespace(server=server, client=client, rai=rai)
    finally:
        server.shutdown()
        server.server_close()


def test_chat_images_embeddings_post_json_to_the_path_token_url(stub):
    client = stub.client
    token = client.create_token("sk-upstream", provider="openai")
    stub.server.reply = (200, {"choices": [{"message": {"content": "hi"}}]}, {})
    messages = [{"role": "user", "content": "hello"}]
    answer = client.chat_completions(token, messages, model="gpt-3.5-turbo", temperature=0.2)
    assert answer == {"choices": [{"message": {"content": "hi"}}]}
    client.images_generations(token=token, prompt="a cat", model="dall-e-3", quality="standard")
    client.embeddings(token, "text")
    client.chat_completions(token, messages)
    chat, image, emb, default_chat = stub.server.seen
    assert [r.method for r in stub.server.seen] == ["POST"] * 4
    assert chat.path == f"/relayapi/t/{token}/v1/chat/completions"
    assert json.loads(chat.body) == {
        "model": "gpt-3.5-turbo",
        "messages": messages,
        "temperature": 0.2,
    }
    assert chat.headers["Content-Type"] == "application/json"
    assert "Authorization" not in chat.headers  # the token travels in the path only
    assert image.path == f"/relayapi/t/{token}/v1/images/generations"
    assert json.loads(image.body) == {
        "prompt": "a cat",
        "n": 1,
        "size": "1024x1024",
        "model": "dall-e-3",
        "quality": "standard",
    }
    assert emb.path == f"/relayapi/t/{token}/v1/embeddings"
    assert json.loads(emb.body) == {"model": "text-embedding-ada-002", "input": "text"}
    assert json.loads(default_chat.body)["model"] == "qwen-vl-max"  # the 1.x default


def test_extra_headers_are_sent(stub):
    stub.client.headers["X-Trace"] = "abc"
    stub.client.embeddings(stub.client.create_token("sk"), ["a", "b"])
    assert stub.server.seen[-1].headers["X-Trace"] == "abc"


def test_health_check(stub):
    stub.server.reply = (200, {"status": "ok", "version": "x"}, {})
    assert stub.client.health_check() == {"status": "ok", "version": "x"}
    assert stub.server.seen[-1].method == "GET"
    assert stub.server.seen[-1].path == "/relayapi/health"


def _error(code: str, message: str) -> dict:
    return {"error": {"message": message, "type": "relay_error", "code": code}}


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (429, "call_limit_exceeded", RateLimitError),
        (400, "invalid_value", BadRequestError),
        (401, "invalid_token", relayapi.AuthenticationError),
        (403, "model_not_allowed", relayapi.PermissionDeniedError),
        (404, "not_found", relayapi.NotFoundError),
        (502, "upstream_error", ServerError),
        (418, None, RelayAPIError),
    ],
)
def test_http_errors_are_typed(stub, status, code, cls):
    token = stub.client.create_token("sk")
    body = _error(code, f"message for {code}") if code else b"teapot"
    stub.server.reply = (status, body, {"Retry-After": "3"} if status == 429 else {})
    with pytest.raises(cls) as info:
        stub.client.chat_completions(token, [{"role": "user", "content": "x"}])
    assert type(info.value) is cls
    assert info.value.status == status
    assert info.value.code == code
    if code:
        assert info.value.message == f"message for {code}"
    if status == 429:
        assert info.value.retry_after == 3
    assert token not in str(info.value)


def test_non_json_answer(stub):
    stub.server.reply = (200, b"<html>", {})
    token = stub.client.create_token("sk")
    with pytest.raises(RelayAPIError, match="not JSON") as info:
        stub.client.embeddings(token, "x")
    assert token not in str(info.value)


def test_unreachable_relay_does_not_leak_the_token():
    client = RelayAPIClient(keys(free_port()))
    client.timeout = 2
    token = client.create_token("sk")
    with pytest.raises(RelayConnectionError) as info:
        client.chat_completions(token, [{"role": "user", "content": "x"}])
    assert token not in str(info.value)
    assert "/t/<token>/v1/chat/completions" in str(info.value)
    with pytest.raises(RelayConnectionError):
        client.health_check()
