"""JOSE encoding and decoding of RelayAPI tokens (docs/token-format.md §5-§6), on joserfc."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Optional

from joserfc import jwe, jws

from ._claims import ClaimError, validate_claims
from ._rai import AESKey, ECCBackendKey, ECCRelayKey, RaiFile

__all__ = ["MAX_TOKEN_SIZE", "TokenDecodeError", "decode", "encode"]

MAX_TOKEN_SIZE = 8192

_AES_ALGS = ["dir", "A256GCM"]
_ECC_ALGS = ["ECDH-ES", "A256GCM"]
_B64URL_PART = re.compile(r"[A-Za-z0-9_-]*")


def _jwe_registry(algs: list[str]) -> jwe.JWERegistry:
    # Unknown (non-critical) header parameters are ignored, as go-jose does.
    return jwe.JWERegistry(algorithms=algs, strict_check_header=False)


def _jws_registry() -> jws.JWSRegistry:
    return jws.JWSRegistry(algorithms=["ES256"], strict_check_header=False)


def serialize_claims(claims: Mapping[str, Any]) -> bytes:
    """Serialise claims as compact UTF-8 JSON."""
    return json.dumps(claims, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def encode_aes(payload: bytes, key: AESKey) -> str:
    """JWE compact ``{"alg":"dir","enc":"A256GCM","kid":…}`` of the claims JSON."""
    header = {"alg": "dir", "enc": "A256GCM", "kid": key.kid}
    return jwe.encrypt_compact(header, payload, key.key, registry=_jwe_registry(_AES_ALGS))


def encode_ecc(payload: bytes, key: ECCBackendKey) -> str:
    """JWS ES256 of the claims JSON, nested in a JWE ECDH-ES + A256GCM with ``cty: JWT``."""
    inner = jws.serialize_compact(
        {"alg": "ES256", "kid": key.signer_kid, "typ": "JWT"},
        payload,
        key.signer,
        registry=_jws_registry(),
    )
    header = {"alg": "ECDH-ES", "enc": "A256GCM", "cty": "JWT", "kid": key.relay_kid}
    return jwe.encrypt_compact(
        header, inner.encode("ascii"), key.relay_public, registry=_jwe_registry(_ECC_ALGS)
    )


def encode(claims: Mapping[str, Any], rai: RaiFile) -> str:
    """Mint a token for already-validated claims with a backend (or ``aes``) key file."""
    payload = serialize_claims(claims)
    if rai.aes is not None:
        return encode_aes(payload, rai.aes)
    if rai.ecc_backend is not None:
        return encode_ecc(payload, rai.ecc_backend)
    raise ValueError("this .rai file cannot mint tokens (it is a relay key file)")


class TokenDecodeError(Exception):
    """A token was rejected; ``code`` says why (see ``reason`` for details).

    ``code`` is ``invalid_token``, ``token_expired`` or ``token_not_yet_valid``;
    ``reason`` says why for ``invalid_token`` (for tests and debugging only:
    the relay never tells clients why).
    """

    def __init__(self, code: str, reason: str = "") -> None:
        super().__init__(f"{code}: {reason}" if reason else code)
        self.code = code
        self.reason = reason


def _invalid(reason: str) -> TokenDecodeError:
    return TokenDecodeError("invalid_token", reason)


def _b64url_json(part: str) -> Any:
    if len(part) % 4 == 1:
        raise ValueError("bad base64url length")
    raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    return json.loads(raw.decode("utf-8"))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def open_token(token: Any, keys: Iterable[RaiFile]) -> dict[str, Any]:
    """Decrypt, authenticate and validate a token without looking at the clock.

    Follows docs/token-format.md §6 steps 1-6; every failure is
    ``TokenDecodeError("invalid_token")``.
    """
    if not isinstance(token, str):
        raise _invalid("token is not a string")
    if len(token.encode("utf-8", "surrogatepass")) > MAX_TOKEN_SIZE:
        raise _invalid("token too large")
    parts = token.split(".")
    if len(parts) != 5 or not all(_B64URL_PART.fullmatch(p) for p in parts):
        raise _invalid("not a compact JWE")
    try:
        header = _b64url_json(parts[0])
    except ValueError:
        raise _invalid("malformed protected header") from None
    if not isinstance(header, dict):
        raise _invalid("malformed protected header")
    alg, enc, kid = header.get("alg"), header.get("enc"), header.get("kid")
    if enc != "A256GCM" or alg not in ("dir", "ECDH-ES"):
        raise _invalid("algorithm not allowed")
    if not isinstance(kid, str):
        raise _invalid("missing kid")
    files = list(keys)
    if alg == "dir":
        payload = _open_aes(token, kid, [f.aes for f in files if f.aes is not None])
    else:
        cty = header.get("cty")
        relay_keys = [f.ecc_relay for f in files if f.ecc_relay is not None]
        payload = _open_ecc(token, kid, cty, relay_keys)
    try:
        claims = json.loads(payload.decode("utf-8"), parse_constant=_reject_constant)
    except ValueError:
        raise _invalid("claims are not JSON") from None
    try:
        validate_claims(claims)
    except ClaimError as exc:
        raise _invalid(f"claims rejected: {exc}") from None
    assert isinstance(claims, dict)
    return claims


def _open_aes(token: str, kid: str, keys: list[AESKey]) -> bytes:
    key = next((k for k in keys if k.kid == kid), None)
    if key is None:
        raise _invalid("unknown aes kid")
    try:
        obj = jwe.decrypt_compact(token, key.key, registry=_jwe_registry(_AES_ALGS))
    except Exception:
        raise _invalid("aes decryption failed") from None
    return obj.plaintext or b""


def _open_ecc(token: str, kid: str, cty: Any, keys: list[ECCRelayKey]) -> bytes:
    key = next((k for k in keys if k.relay_kid == kid), None)
    if key is None:
        raise _invalid("unknown ecc kid")
    if not isinstance(cty, str) or cty.lower() != "jwt":
        raise _invalid("ecc token without cty JWT")
    try:
        obj = jwe.decrypt_compact(token, key.relay_private, registry=_jwe_registry(_ECC_ALGS))
    except Exception:
        raise _invalid("ecc decryption failed") from None
    try:
        inner = (obj.plaintext or b"").decode("ascii")
        parts = inner.split(".")
        if len(parts) != 3 or not all(_B64URL_PART.fullmatch(p) for p in parts):
            raise ValueError("not a compact JWS")
        jws_header = _b64url_json(parts[0])
        if not isinstance(jws_header, dict) or jws_header.get("alg") != "ES256":
            raise ValueError("inner JWS alg must be ES256")
    except ValueError:
        raise _invalid("malformed inner JWS") from None
    signer = key.signers.get(jws_header.get("kid"))  # type: ignore[arg-type]
    if signer is None:
        raise _invalid("untrusted signer")
    try:
        signed = jws.deserialize_compact(inner, signer, registry=_jws_registry())
    except Exception:
        raise _invalid("bad signature") from None
    return signed.payload


def check_time(claims: Mapping[str, Any], now: int, leeway: int) -> None:
    """§6 step 7: ``token_expired`` / ``token_not_yet_valid`` with a leeway in seconds."""
    if now > claims["exp"] + leeway:
        raise TokenDecodeError("token_expired")
    nbf: Optional[int] = claims.get("nbf")
    if nbf and now + leeway < nbf:
        raise TokenDecodeError("token_not_yet_valid")


def decode(token: Any, keys: Iterable[RaiFile], now: int, leeway: int = 30) -> dict[str, Any]:
    """Open a token and check its time claims (what a relay does)."""
    claims = open_token(token, keys)
    check_time(claims, now, leeway)
    return claims
