"""create_token argument validation: ValueError naming the argument, before any encryption."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from conftest import aes_rai, ecc_rai_pair
from relayapi import InvalidArgumentError, RelayAPI
from relayapi._testing import decode_token


@pytest.fixture
def relay(monkeypatch):
    """An aes client whose encoder fails loudly if validation lets anything through."""
    client = RelayAPI(aes_rai())

    def must_not_encrypt(*args, **kwargs):
        raise AssertionError("encrypted despite invalid arguments")

    monkeypatch.setattr("relayapi._jose.encode", must_not_encrypt)
    return client


BAD = [
    # (argument, value)
    ("provider", ""),
    ("provider", "OpenAI"),
    ("provider", "-openai"),
    ("provider", "a" * 65),
    ("provider", "openai\n"),
    ("provider", None),
    ("api_key", ""),
    ("api_key", "sk key with spaces"),
    ("api_key", "sk-\n"),
    ("api_key", "sk-é"),
    ("api_key", "k" * 4097),
    ("api_key", 123),
    ("expires_in", 0),
    ("expires_in", -10),
    ("expires_in", timedelta(seconds=-1)),
    ("expires_in", 1.5),
    ("expires_in", "3600"),
    ("expires_in", True),
    ("max_calls", 0),
    ("max_calls", -1),
    ("max_calls", 2**53),
    ("max_calls", 1.0),
    ("max_calls", "10"),
    ("max_calls", True),
    ("rpm", 0),
    ("rpm", 1_000_001),
    ("concurrency", 0),
    ("concurrency", 100_001),
    ("max_tokens", 0),
    ("max_tokens", 2**31),
    ("token_budget", 0),
    ("token_budget", 2**53),
    ("max_session_seconds", 0),
    ("max_session_seconds", -1),
    ("max_session_seconds", 86_401),
    ("max_session_seconds", 60.0),
    ("max_session_seconds", "600"),
    ("max_session_seconds", True),
    ("models", []),
    ("models", [""]),
    ("models", ["m" * 257]),
    ("models", ["gpt-4o", 5]),
    ("models", ["m"] * 101),
    ("models", {"gpt-4o": "x"}),
    ("models", 5),
    ("paths", ["v1/chat"]),
    ("paths", []),
    ("paths", ["/" + "p" * 1024]),
    ("ips", ["10.0.0.0/33"]),
    ("ips", ["not-an-ip"]),
    ("ips", ["10.0.0.0/255.0.0.0"]),
    ("ips", ["10.0.0.0/08"]),
    ("ips", ["2001:db8::/129"]),
    ("ips", ["fe80::1%eth0/64"]),
    ("ips", ["010.0.0.1"]),
    ("ips", []),
    ("origins", ["https://app.example.com/"]),
    ("origins", ["https://app.example.com/path"]),
    ("origins", ["https://App.Example.com"]),
    ("origins", ["app.example.com"]),
    ("origins", ["https://*.example.com/"]),
    ("origins", []),
    ("model_map", {}),
    ("model_map", {"gpt-4": ""}),
    ("model_map", {"": "gpt-4o"}),
    ("model_map", {"gpt-4": 4}),
    ("model_map", {f"m{i}": "x" for i in range(101)}),
    ("model_map", ["gpt-4"]),
    ("meta", {}),
    ("meta", {"k" * 65: "v"}),
    ("meta", {"k": "v" * 257}),
    ("meta", {f"k{i}": "v" for i in range(33)}),
    ("meta", {"k": None}),
    ("sub", ""),
    ("sub", "u" * 257),
    ("sub", "用" * 86),  # 258 UTF-8 bytes: the relay counts bytes
    ("sub", 42),
    ("not_before", datetime(2030, 1, 1)),  # naive datetime
    ("not_before", "tomorrow"),
    ("not_before", -1),
    ("not_before", timedelta(hours=2)),  # after exp (1 h)
    ("jti", "short"),
    ("jti", "x" * 129),
    ("jti", "has spaces in the token id"),
    ("jti", "slash/in/the/token/id"),
    ("extra", {"trace": 1}),
    ("extra", {"x_": 1}),
    ("extra", {"x_none": None}),
    ("extra", {"x_nan": float("nan")}),
    ("extra", {"x_obj": object()}),
    ("extra", ["x_a"]),
]


@pytest.mark.parametrize(
    ("argument", "value"), BAD, ids=[f"{a}-{i}" for i, (a, _) in enumerate(BAD)]
)
def test_invalid_argument_is_named(relay, argument, value):
    with pytest.raises(ValueError) as info:
        relay.create_token(**{argument: value})
    assert isinstance(info.value, InvalidArgumentError)
    assert info.value.argument == argument
    assert repr(argument) in str(info.value)


def test_api_key_is_never_echoed_in_errors(relay):
    with pytest.raises(InvalidArgumentError) as info:
        relay.create_token(api_key="sk-secret value")
    assert "sk-secret" not in str(info.value)


def test_unknown_keyword_is_a_type_error(relay):
    with pytest.raises(TypeError):
        relay.create_token(max_call=3)  # type: ignore[call-arg]


GOOD = [
    ("provider", "my-provider_2"),
    ("api_key", "k" * 4096),
    ("expires_in", timedelta(days=30)),
    ("max_calls", 2**53 - 1),
    ("rpm", 1_000_000),
    ("concurrency", 100_000),
    ("max_tokens", 2**31 - 1),
    ("token_budget", 2**53 - 1),
    ("max_session_seconds", 1),
    ("max_session_seconds", 86_400),
    ("models", "gpt-4o*"),  # a single string is one pattern
    ("models", ("a", "b")),
    ("paths", ["/"]),
    ("ips", ["::1", "10.0.0.1/8", "0.0.0.0/0", "::ffff:1.2.3.4", "fe80::1%eth0"]),
    ("origins", ["*", "http://localhost:3000", "https://[::1]:8443", "chrome-extension://abc"]),
    ("meta", {"k" * 64: "v" * 256}),
    ("sub", "用" * 85),  # 255 bytes
    ("not_before", datetime.now(timezone.utc)),
    ("not_before", 0),
    ("jti", "a.b_c:d-e" + "0" * 7),
    ("extra", {"x_list": [1, "a", None], "x_num": 1.5}),
]


@pytest.mark.parametrize(("argument", "value"), GOOD, ids=[a for a, _ in GOOD])
def test_valid_argument_round_trips(argument, value):
    data = aes_rai()
    token = RelayAPI(data).create_token(**{argument: value})
    claims = decode_token(token.value, data, now=int(time.time()))
    assert claims == dict(token.claims)


def test_oversized_token_is_refused():
    for relay in (RelayAPI(aes_rai()), RelayAPI(ecc_rai_pair()[0])):
        with pytest.raises(InvalidArgumentError, match="8192"):
            relay.create_token(models=["m" * 256] * 40)


def test_base_url_rejects_bad_input():
    relay = RelayAPI(aes_rai())
    with pytest.raises(InvalidArgumentError) as info:
        relay.base_url("abc", flavor="azure")
    assert info.value.argument == "flavor"
    for bad in ("", "a/b", "a b", "a?b", 42, None):
        with pytest.raises(InvalidArgumentError) as info:
            relay.base_url(bad)  # type: ignore[arg-type]
        assert info.value.argument == "token"
    with pytest.raises(InvalidArgumentError) as info:
        relay.generate_url("bad-flavor")
    assert info.value.argument == "flavor"


def test_relay_url_argument_is_checked():
    for bad in ("relay.example.com", "ftp://x", "http://", "http://a b"):
        with pytest.raises(InvalidArgumentError) as info:
            RelayAPI(aes_rai(), relay_url=bad)
        assert info.value.argument == "relay_url"
