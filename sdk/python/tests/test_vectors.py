"""Every vector of testdata/vectors/vectors.json, decoded by the SDK's test decoder."""

from __future__ import annotations

import base64
import json
import warnings

import pytest

from conftest import VECTORS_DIR, vector_key
from relayapi import RaiCompatibilityWarning, RelayAPI
from relayapi._rai import derive_kid, load_rai
from relayapi._testing import TokenDecodeError, decode_token


def _load_vectors() -> list[dict]:
    data = json.loads((VECTORS_DIR / "vectors.json").read_text(encoding="utf-8"))
    return data["vectors"]


VECTORS = _load_vectors()


def test_vector_file_is_not_empty(vectors):
    assert len(vectors["vectors"]) >= 20
    assert {v["method"] for v in vectors["vectors"]} == {"aes", "ecc"}
    assert any("claims" in v for v in vectors["vectors"])
    assert any("error" in v for v in vectors["vectors"])


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector(vectors, vector):
    key_file = vector_key(vectors, vector["relay_key"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RaiCompatibilityWarning)
        keys = load_rai(key_file)
    now, leeway = vectors["now"], vectors["leeway"]
    if "claims" in vector:
        claims = decode_token(vector["token"], keys, now=now, leeway=leeway)
        assert claims == vector["claims"]
    else:
        with pytest.raises(TokenDecodeError) as info:
            decode_token(vector["token"], keys, now=now, leeway=leeway)
        assert info.value.code == vector["error"], info.value.reason


@pytest.mark.parametrize("name", ["aes", "aes_kid", "aes_other", "ecc_relay"])
def test_vector_key_files_load_for_the_relay(vectors, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RaiCompatibilityWarning)
        rai = load_rai(vector_key(vectors, name))
    assert rai.can_decode


@pytest.mark.parametrize("name", ["ecc_backend", "ecc_untrusted_backend"])
def test_vector_backend_files_load_in_the_sdk(vectors, name):
    relay = RelayAPI(vector_key(vectors, name))
    assert relay.method == "ecc"


def _header(token: str) -> dict:
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_derived_kids_match_the_vectors(vectors):
    """aes.rai has no key_id: its kid is derived (RFC 7638 thumbprint, 16 chars)."""
    with pytest.warns(RaiCompatibilityWarning, match="aes_iv_seed"):
        aes = load_rai(vector_key(vectors, "aes"))
    valid = next(v for v in vectors["vectors"] if v["name"] == "aes-valid-minimal")
    assert aes.aes.kid == _header(valid["token"])["kid"]
    assert aes.aes.kid == derive_kid(aes.aes.key)

    ecc = load_rai(vector_key(vectors, "ecc_backend")).ecc_backend
    valid = next(v for v in vectors["vectors"] if v["name"] == "ecc-valid-minimal")
    assert ecc.relay_kid == _header(valid["token"])["kid"]
    # keygen writes the derived kid into each JWK: deriving again must agree.
    assert ecc.relay_kid == derive_kid(ecc.relay_public)
    assert ecc.signer_kid == derive_kid(ecc.signer)


def test_explicit_key_id_is_used(vectors):
    rai = load_rai(vector_key(vectors, "aes_kid"))
    assert rai.aes.kid == "rotation-2026-01"
    token = RelayAPI(vector_key(vectors, "aes_kid")).create_token()
    assert _header(token.value)["kid"] == "rotation-2026-01"


@pytest.mark.parametrize(
    ("mint_key", "relay_key"),
    [("aes", "aes"), ("aes_kid", "aes_kid"), ("ecc_backend", "ecc_relay")],
)
def test_sdk_tokens_decode_with_vector_keys(vectors, mint_key, relay_key):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RaiCompatibilityWarning)
        relay = RelayAPI(vector_key(vectors, mint_key))
        keys = load_rai(vector_key(vectors, relay_key))
    token = relay.create_token(provider="openai", api_key="sk-test", max_calls=3)
    claims = decode_token(token.value, keys, now=token.claims["iat"])
    assert claims == dict(token.claims)


def test_untrusted_backend_is_refused_by_the_relay_file(vectors):
    relay = RelayAPI(vector_key(vectors, "ecc_untrusted_backend"))
    token = relay.create_token()
    keys = load_rai(vector_key(vectors, "ecc_relay"))
    with pytest.raises(TokenDecodeError) as info:
        decode_token(token.value, keys, now=token.claims["iat"])
    assert info.value.code == "invalid_token"
    assert info.value.reason == "untrusted signer"


def test_aes_token_is_refused_by_another_aes_key(vectors):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RaiCompatibilityWarning)
        token = RelayAPI(vector_key(vectors, "aes")).create_token()
    # aes-other.rai reuses aes.rai's kid with a different secret.
    with pytest.raises(TokenDecodeError) as info:
        decode_token(token.value, vector_key(vectors, "aes_other"), now=token.claims["iat"])
    assert info.value.code == "invalid_token"
