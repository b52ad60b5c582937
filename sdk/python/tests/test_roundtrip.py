"""Mint → decode round trips for both methods, token structure, key files and URLs."""

from __future__ import annotations

import base64
import json
import time
import warnings
from datetime import datetime, timedelta, timezone

import pytest

from conftest import aes_rai, ecc_rai_pair
from relayapi import RaiCompatibilityWarning, RaiFileError, RelayAPI, Token
from relayapi._testing import TokenDecodeError, decode_token


def b64json(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


FULL = {
    "provider": "openai",
    "api_key": "sk-proj-abcDEF_123-xyz",
    "expires_in": 600,
    "max_calls": 20,
    "models": ["gpt-4o*", "text-embedding-3-small"],
    "paths": ["/v1/chat/*", "/v1/embeddings"],
    "rpm": 60,
    "concurrency": 2,
    "max_tokens": 1024,
    "token_budget": 100_000,
    "max_session_seconds": 1800,
    "ips": ["203.0.113.7", "10.0.0.0/8", "2001:db8::/32"],
    "origins": ["https://app.example.com", "https://*.example.com", "http://localhost:3000"],
    "model_map": {"gpt-4": "gpt-4o-mini"},
    "meta": {"team": "search", "用户": "张三"},
    "sub": "user-42",
    "not_before": timedelta(seconds=-5),
    "jti": "custom-token-id-0001",
    "extra": {"x_trace": {"id": [1, 2, 3]}, "x_flag": True},
}


@pytest.fixture(params=["aes", "ecc"])
def pair(request):
    """(RelayAPI minting client, relay-side key dict) for each method."""
    if request.param == "aes":
        data = aes_rai()
        return RelayAPI(data), data
    backend, relay, _ = ecc_rai_pair()
    return RelayAPI(backend), relay


def test_round_trip_full_claims(pair):
    relay, relay_keys = pair
    before = int(time.time())
    token = relay.create_token(**FULL)
    after = int(time.time())
    claims = decode_token(token.value, relay_keys, now=after)
    assert claims == dict(token.claims)
    assert before <= claims["iat"] <= after
    assert claims["exp"] == claims["iat"] + 600
    assert claims["nbf"] == claims["iat"] - 5
    expected = {k: v for k, v in FULL.items() if k not in ("expires_in", "not_before", "extra")}
    expected.update(FULL["extra"])
    for name, value in expected.items():
        assert claims[name] == value, name
    assert token.id == "custom-token-id-0001"
    assert token.expires_at == datetime.fromtimestamp(claims["exp"], tz=timezone.utc)


def test_round_trip_defaults(pair):
    relay, relay_keys = pair
    token = relay.create_token()
    claims = decode_token(token.value, relay_keys, now=int(time.time()))
    assert set(claims) == {"jti", "iat", "exp", "provider"}
    assert claims["provider"] == "openai"
    assert claims["exp"] - claims["iat"] == 3600
    assert len(claims["jti"]) == 22  # 16 random bytes, base64url
    assert token.id == claims["jti"]


def test_relay_credential_token_has_no_api_key(pair):
    relay, relay_keys = pair
    token = relay.create_token(provider="anthropic", expires_in=timedelta(minutes=5))
    claims = decode_token(token.value, relay_keys, now=int(time.time()))
    assert "api_key" not in claims
    assert claims["exp"] - claims["iat"] == 300


def test_tokens_are_random_and_url_safe(pair):
    relay, _ = pair
    a = relay.create_token(jti="same-id-000000000")
    b = relay.create_token(jti="same-id-000000000")
    assert a.value != b.value
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert set(a.value) <= allowed
    assert relay.create_token().id != relay.create_token().id


def test_time_checks(pair):
    relay, relay_keys = pair
    token = relay.create_token(expires_in=180, not_before=timedelta(seconds=120))
    iat = token.claims["iat"]
    with pytest.raises(TokenDecodeError) as info:
        decode_token(token.value, relay_keys, now=iat + 120 - 31)
    assert info.value.code == "token_not_yet_valid"
    decode_token(token.value, relay_keys, now=iat + 120 - 30)  # within leeway
    decode_token(token.value, relay_keys, now=iat + 180 + 30)
    with pytest.raises(TokenDecodeError) as info:
        decode_token(token.value, relay_keys, now=iat + 180 + 31)
    assert info.value.code == "token_expired"


def test_aes_token_structure():
    data = aes_rai(key_id="k1")
    token = RelayAPI(data).create_token()
    parts = token.value.split(".")
    assert len(parts) == 5
    assert b64json(parts[0]) == {"alg": "dir", "enc": "A256GCM", "kid": "k1"}
    assert parts[1] == ""  # dir: no encrypted key
    assert 200 < len(token.value) < 400


def test_ecc_token_structure():
    backend, relay_file, _ = ecc_rai_pair()
    backend["crypto"]["signing_key"]["kid"] = "signer-1"
    relay_file["crypto"]["trusted_signers"][0]["kid"] = "signer-1"
    token = RelayAPI(backend).create_token()
    header = b64json(token.value.split(".")[0])
    assert header.pop("epk")["crv"] == "P-256"
    assert header == {
        "alg": "ECDH-ES",
        "enc": "A256GCM",
        "cty": "JWT",
        "kid": RelayAPI(backend).key_id,
    }
    # Decrypt the outer layer with joserfc directly and look at the inner JWS header.
    from joserfc import jwe
    from joserfc.jwk import ECKey

    priv = ECKey.import_key(relay_file["crypto"]["relay_private_key"])
    inner = jwe.decrypt_compact(
        token.value, priv, registry=jwe.JWERegistry(algorithms=["ECDH-ES", "A256GCM"])
    ).plaintext.decode()
    assert b64json(inner.split(".")[0]) == {"alg": "ES256", "kid": "signer-1", "typ": "JWT"}
    assert 500 < len(token.value) < 1000


def test_ecc_relay_trusting_several_signers():
    backend, relay_file, others = ecc_rai_pair(n_signers=3)
    for b in [backend, *others]:
        token = RelayAPI(b).create_token()
        assert decode_token(token.value, relay_file, now=token.claims["iat"])["jti"] == token.id


def test_token_object():
    token = RelayAPI(aes_rai()).create_token(api_key="sk-secret")
    assert isinstance(token, Token)
    assert str(token) == token.value
    assert f"{token}" == token.value
    assert token.value not in repr(token)
    assert "sk-secret" not in repr(token)
    assert token.expires_at.tzinfo is timezone.utc
    with pytest.raises(AttributeError):
        token.value = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        token.claims["jti"] = "x"  # type: ignore[index]


# ---------------------------------------------------------------- key files


def test_seed_format_loads_with_a_warning(tmp_path):
    seed = {
        "version": "1.0.0",
        "server": {"host": "relay.example.com", "port": 8840, "base_path": ""},
        "crypto": {"method": "aes", "aes_key": "AB" * 32, "aes_iv_seed": "whatever"},
    }
    with pytest.warns(RaiCompatibilityWarning, match="aes_iv_seed is ignored"):
        relay = RelayAPI(seed)
    assert relay.method == "aes"
    path = tmp_path / "default.rai"
    path.write_text(json.dumps(seed))
    with pytest.warns(RaiCompatibilityWarning):
        relay2 = RelayAPI(path)
    with pytest.warns(RaiCompatibilityWarning):
        RelayAPI(str(path))
    token = relay2.create_token()
    decode_token(token.value, aes_rai("ab" * 32), now=token.claims["iat"])


def test_relay_file_is_refused_by_the_sdk():
    _, relay_file, _ = ecc_rai_pair()
    with pytest.raises(RaiFileError, match="wrong role"):
        RelayAPI(relay_file)


def test_backend_file_is_refused_by_the_decoder():
    backend, _, _ = ecc_rai_pair()
    with pytest.raises(RaiFileError, match="wrong role"):
        decode_token("a.b.c.d.e", backend, now=0)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda d: d["crypto"].update(aes_key="00" * 31), "aes_key"),
        (lambda d: d["crypto"].update(aes_key="zz" * 32), "aes_key"),
        (lambda d: d["crypto"].update(aes_key=" " + "00" * 31 + "0"), "aes_key"),
        (lambda d: d["crypto"].update(method="rsa"), "method"),
        (lambda d: d.pop("crypto"), "crypto"),
        (lambda d: d["crypto"].update(key_id="bad kid!"), "key_id"),
        (lambda d: d["server"].update(port=70000), "port"),
        (lambda d: d["server"].update(scheme="ftp"), "scheme"),
        (lambda d: d["server"].update(base_path="api/"), "base_path"),
        (lambda d: d["server"].update(base_path="/api//"), "base_path"),
    ],
)
def test_bad_aes_files(mutate, match):
    data = aes_rai()
    mutate(data)
    with pytest.raises(RaiFileError, match=match):
        RelayAPI(data)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda c: c.pop("relay_public_key"), "relay_public_key"),
        (lambda c: c["signing_key"].pop("d"), "signing_key"),
        (lambda c: c["signing_key"].update(crv="P-384"), "P-256"),
        (lambda c: c["signing_key"].update(alg="RS256"), "ES256"),
        (lambda c: c["signing_key"].update(x=c["relay_public_key"]["x"]), "not a valid"),
        (lambda c: c["relay_public_key"].update(d=c["signing_key"]["d"]), "public key"),
        (lambda c: c.update(relay_private_key={}), "either"),
    ],
)
def test_bad_ecc_backend_files(mutate, match):
    backend, _, _ = ecc_rai_pair()
    mutate(backend["crypto"])
    with pytest.raises(RaiFileError, match=match):
        RelayAPI(backend)


def test_unreadable_or_invalid_files(tmp_path):
    with pytest.raises(RaiFileError, match="cannot read"):
        RelayAPI(tmp_path / "missing.rai")
    bad = tmp_path / "bad.rai"
    bad.write_text("{not json")
    with pytest.raises(RaiFileError, match="not valid JSON"):
        RelayAPI(bad)
    with pytest.raises(TypeError):
        RelayAPI(42)  # type: ignore[arg-type]


def test_unknown_top_level_keys_are_ignored():
    data = aes_rai()
    data["future"] = {"anything": True}
    assert RelayAPI(data).method == "aes"


def test_from_env_path_and_inline(monkeypatch, tmp_path):
    data = aes_rai(key_id="env-key")
    path = tmp_path / "env.rai"
    path.write_text(json.dumps(data))
    monkeypatch.setenv("RELAYAPI_RAI", str(path))
    assert RelayAPI.from_env().key_id == "env-key"
    monkeypatch.setenv("RELAYAPI_RAI", json.dumps(data))
    relay = RelayAPI.from_env(relay_url="https://relay.example.com")
    assert relay.key_id == "env-key"
    assert relay.relay_url == "https://relay.example.com"
    monkeypatch.setenv("RELAYAPI_RAI", "{broken")
    with pytest.raises(RaiFileError, match="invalid JSON"):
        RelayAPI.from_env()
    monkeypatch.delenv("RELAYAPI_RAI")
    with pytest.raises(RaiFileError, match="not set"):
        RelayAPI.from_env()


# --------------------------------------------------------------------- URLs


def _with_server(**server):
    data = aes_rai()
    data["server"] = server
    return RelayAPI(data)


@pytest.mark.parametrize(
    ("server", "origin"),
    [
        ({"host": "127.0.0.1", "port": 8840, "base_path": ""}, "http://127.0.0.1:8840"),
        ({}, "http://127.0.0.1:8840"),
        ({"host": "relay.example.com", "port": 443}, "https://relay.example.com"),
        ({"host": "relay.example.com", "port": 80}, "http://relay.example.com"),
        ({"host": "r.example.com", "port": 8443, "scheme": "https"}, "https://r.example.com:8443"),
        ({"host": "r.example.com", "port": 443, "scheme": "http"}, "http://r.example.com:443"),
        ({"host": "::1", "port": 8840}, "http://[::1]:8840"),
        ({"host": "h", "port": 8840, "base_path": "/relay/v2"}, "http://h:8840/relay/v2"),
    ],
)
def test_relay_url_from_server_section(server, origin):
    assert _with_server(**server).relay_url == origin


def test_base_url_flavors():
    relay = _with_server(host="relay.example.com", port=443, base_path="/api")
    token = relay.create_token()
    root = f"https://relay.example.com/api/t/{token.value}"
    assert relay.base_url(token) == f"{root}/v1"
    assert relay.base_url(token.value, "openai") == f"{root}/v1"
    assert relay.base_url(token, flavor="anthropic") == root
    assert relay.base_url(str(token), flavor="gemini") == root


def test_relay_url_override():
    relay = RelayAPI(aes_rai(), relay_url="https://edge.example.com/relay/")
    assert relay.relay_url == "https://edge.example.com/relay"
    assert relay.base_url("abc.def", "anthropic") == "https://edge.example.com/relay/t/abc.def"


def test_generate_url_one_step(pair):
    relay, relay_keys = pair
    url = relay.generate_url(max_calls=5, sub="u1")
    prefix = f"{relay.relay_url}/t/"
    assert url.startswith(prefix) and url.endswith("/v1")
    claims = decode_token(url[len(prefix) : -len("/v1")], relay_keys, now=int(time.time()))
    assert claims["max_calls"] == 5 and claims["sub"] == "u1"
    gem = relay.generate_url("gemini", provider="gemini")
    tok = gem[len(prefix) :]
    assert decode_token(tok, relay_keys, now=int(time.time()))["provider"] == "gemini"


def test_warning_points_at_the_caller():
    data = aes_rai()
    data["crypto"]["aes_iv_seed"] = "x"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        RelayAPI(data)
    assert caught and caught[0].filename == __file__
