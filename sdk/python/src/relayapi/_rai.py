"""Loading ``.rai`` key files (docs/token-format.md §2-§3)."""

from __future__ import annotations

import json
import os
import re
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from joserfc.jwk import ECKey, OctKey

from .errors import RaiFileError

__all__ = [
    "AESKey",
    "ECCBackendKey",
    "ECCRelayKey",
    "RaiCompatibilityWarning",
    "RaiFile",
    "RaiSource",
    "ServerInfo",
    "derive_kid",
    "load_rai",
]

RaiSource = Union[str, "os.PathLike[str]", Mapping[str, Any]]

KID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_BAD_HOST = "server.host must be a host name or IP address, optionally after http:// or https://"
_HOST_PORT = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^\[\]:]+)(?::(?P<port>[0-9]{1,5}))?")

#: The AES key RelayAPI 1.x published in its README and wrote into every
#: ``default.rai`` it created: anyone can mint tokens with it, so it is refused.
EXAMPLE_AES_KEY = "0123456789abcdef" * 4
EXAMPLE_KEY_MESSAGE = (
    "crypto.aes_key is the example key published with RelayAPI 1.x: anyone can mint tokens "
    "with it. Make a real key with: relayapi keygen --method aes --out default.rai"
)


class RaiCompatibilityWarning(UserWarning):
    """A ``.rai`` file uses a legacy field that is accepted but ignored."""


@dataclass(frozen=True)
class ServerInfo:
    """Where the relay is reachable (the ``server`` section of a ``.rai``)."""

    scheme: str = "http"
    host: str = "127.0.0.1"
    port: int = 8840
    base_path: str = ""

    @property
    def origin(self) -> str:
        """``{scheme}://{host}[:{port}]``, the port omitted when it is the scheme's default."""
        host = self.host
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"  # IPv6 literal
        default = {"http": 80, "https": 443}.get(self.scheme)
        if self.port == default:
            return f"{self.scheme}://{host}"
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def url(self) -> str:
        """The relay's root URL: origin plus ``base_path`` (no trailing ``/``)."""
        return self.origin + self.base_path


@dataclass(frozen=True)
class AESKey:
    """A 32-byte ``aes`` key (both sides hold the same one)."""

    kid: str
    key: OctKey = field(repr=False)


@dataclass(frozen=True)
class ECCBackendKey:
    """What a backend holds for ``ecc``: its signing key and the relay's public key."""

    signer_kid: str
    signer: ECKey = field(repr=False)
    relay_kid: str
    relay_public: ECKey = field(repr=False)


@dataclass(frozen=True)
class ECCRelayKey:
    """What a relay holds for ``ecc``: its private key and the signers it trusts."""

    relay_kid: str
    relay_private: ECKey = field(repr=False)
    signers: Mapping[str, ECKey] = field(repr=False)


@dataclass(frozen=True)
class RaiFile:
    """A parsed ``.rai`` file.

    ``role`` is ``"both"`` for ``aes`` (one file serves backend and relay),
    ``"backend"`` or ``"relay"`` for ``ecc``.
    """

    method: str
    role: str
    server: ServerInfo
    aes: Optional[AESKey] = None
    ecc_backend: Optional[ECCBackendKey] = None
    ecc_relay: Optional[ECCRelayKey] = None

    @property
    def can_mint(self) -> bool:
        """Whether this file holds what is needed to mint tokens."""
        return self.role in ("both", "backend")

    @property
    def can_decode(self) -> bool:
        """Whether this file holds what a relay needs to decode tokens."""
        return self.role in ("both", "relay")


def _user_stacklevel() -> int:
    """Stack level of the first frame outside this package (for ``warnings.warn``)."""
    package_dir = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame = sys._getframe(1)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package_dir):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def derive_kid(key: Union[OctKey, ECKey]) -> str:
    """Default ``kid``: first 16 characters of the RFC 7638 SHA-256 thumbprint of the public JWK."""
    if isinstance(key, ECKey):
        # Re-export the public half so coordinates are canonical (32 bytes each).
        key = ECKey.import_key(key.public_key)
    return key.thumbprint()[:16]


def load_rai(source: RaiSource) -> RaiFile:
    """Load a ``.rai`` file from a path or from a dict with the same content.

    Raises:
        RaiFileError: the file cannot be read or is not a valid ``.rai``.
    """
    if isinstance(source, Mapping):
        return parse_rai(source)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise RaiFileError(f"cannot read .rai file {str(path)!r}: {exc.strerror}") from None
        try:
            data = json.loads(text)
        except ValueError:
            raise RaiFileError(f".rai file {str(path)!r} is not valid JSON") from None
        if not isinstance(data, Mapping):
            raise RaiFileError(f".rai file {str(path)!r} must contain a JSON object")
        return parse_rai(data, where=str(path))
    raise TypeError(f"rai must be a path or a dict, not {type(source).__name__}")


def parse_rai(data: Mapping[str, Any], *, where: str = ".rai") -> RaiFile:
    """Validate the content of a ``.rai`` file (already parsed from JSON)."""
    server = _parse_server(data.get("server"), where)
    crypto = data.get("crypto")
    if not isinstance(crypto, Mapping):
        raise RaiFileError(f"{where}: 'crypto' must be an object")
    method = crypto.get("method")
    if method == "aes":
        return RaiFile("aes", "both", server, aes=_parse_aes(crypto, where))
    if method == "ecc":
        return _parse_ecc(crypto, server, where)
    raise RaiFileError(f"{where}: crypto.method must be 'aes' or 'ecc', got {method!r}")


def _parse_server(raw: Any, where: str) -> ServerInfo:
    if raw is None:
        return ServerInfo()
    if not isinstance(raw, Mapping):
        raise RaiFileError(f"{where}: 'server' must be an object")
    port_raw = raw.get("port") or None  # absent or 0: the default port
    if isinstance(port_raw, str) and port_raw.isdigit():
        port_raw = int(port_raw)
    if port_raw is not None and (
        isinstance(port_raw, bool) or not isinstance(port_raw, int) or not 0 < port_raw < 65536
    ):
        raise RaiFileError(f"{where}: server.port must be an integer between 1 and 65535")
    scheme = raw.get("scheme") or None
    if scheme is not None and scheme not in ("http", "https"):
        raise RaiFileError(f"{where}: server.scheme must be 'http' or 'https'")
    host = raw.get("host") or "127.0.0.1"
    if not isinstance(host, str):
        raise RaiFileError(f"{where}: {_BAD_HOST}")
    host_scheme, host, host_port = _split_host(host, where)
    if host_scheme is not None:
        # RelayAPI 1.x wrote the scheme inside host ("http://localhost").
        if scheme is not None and scheme != host_scheme:
            raise RaiFileError(
                f"{where}: server.host says {host_scheme}:// but server.scheme says {scheme}"
            )
        scheme = host_scheme
    if host_port is not None:
        if port_raw is not None and port_raw != host_port:
            raise RaiFileError(
                f"{where}: server.host names port {host_port} but server.port is {port_raw}"
            )
        port_raw = host_port
    port = port_raw if port_raw is not None else 8840
    if scheme is None:
        scheme = "https" if port == 443 else "http"
    return ServerInfo(scheme=scheme, host=host, port=port, base_path=_parse_base_path(raw, where))


def _split_host(host: str, where: str) -> tuple[Optional[str], str, Optional[int]]:
    """Split a 1.x ``host`` (``http://name[:port]``) into (scheme, host, port).

    A host without ``://`` is returned as is, with no scheme and no port.
    """
    prefix, sep, rest = host.partition("://")
    if not sep:
        if not host or any(c in host for c in "/?#@ "):
            raise RaiFileError(f"{where}: {_BAD_HOST}")
        return None, host, None
    scheme = prefix.lower()
    if scheme not in ("http", "https"):
        raise RaiFileError(f"{where}: {_BAD_HOST}")
    match = _HOST_PORT.fullmatch(rest)
    if match is None or any(c in rest for c in "/?#@ \\"):
        raise RaiFileError(f"{where}: {_BAD_HOST}")
    name = match["host"]
    if name.startswith("["):
        name = name[1:-1]  # IPv6 literal; ServerInfo.origin adds the brackets back
    port: Optional[int] = None
    if match["port"] is not None:
        port = int(match["port"])
        if not 0 < port < 65536:
            raise RaiFileError(f"{where}: server.host names port {port}, out of range")
    return scheme, name, port


def _parse_base_path(raw: Mapping[str, Any], where: str) -> str:
    """``server.base_path``: ``""`` or ``/…``; a trailing ``/`` (1.x wrote one) is dropped."""
    base_path = raw.get("base_path") or ""
    if not isinstance(base_path, str) or (
        base_path
        and (
            not base_path.startswith("/") or "//" in base_path or any(c in base_path for c in "?# ")
        )
    ):
        raise RaiFileError(
            f"{where}: server.base_path must start with / (e.g. '/relay'), "
            "without ?, #, spaces or //"
        )
    if base_path.endswith("/"):
        base_path = base_path[:-1]  # "/relayapi/" -> "/relayapi", "/" -> ""
    return base_path


def _explicit_kid(value: Any, what: str, where: str) -> Optional[str]:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not KID_PATTERN.fullmatch(value):
        raise RaiFileError(f"{where}: {what} must match [A-Za-z0-9._-]{{1,64}}")
    return value


def _parse_aes(crypto: Mapping[str, Any], where: str) -> AESKey:
    hex_key = crypto.get("aes_key")
    if not isinstance(hex_key, str) or not _HEX64.fullmatch(hex_key):
        raise RaiFileError(f"{where}: crypto.aes_key must be 64 hexadecimal characters (32 bytes)")
    if hex_key.lower() == EXAMPLE_AES_KEY:
        raise RaiFileError(f"{where}: {EXAMPLE_KEY_MESSAGE}")
    if "aes_iv_seed" in crypto:
        warnings.warn(
            f"{where}: crypto.aes_iv_seed is ignored (every token gets a random IV)",
            RaiCompatibilityWarning,
            stacklevel=_user_stacklevel(),
        )
    key = OctKey.import_key(bytes.fromhex(hex_key))
    kid = _explicit_kid(crypto.get("key_id"), "crypto.key_id", where) or derive_kid(key)
    return AESKey(kid=kid, key=key)


def _parse_ec_jwk(
    raw: Any, what: str, where: str, *, private: bool, alg: str, fallback_kid: Optional[str] = None
) -> tuple[str, ECKey]:
    if not isinstance(raw, Mapping):
        raise RaiFileError(f"{where}: {what} must be a JWK object")
    if raw.get("kty") != "EC" or raw.get("crv") != "P-256":
        raise RaiFileError(f"{where}: {what} must be an EC P-256 JWK")
    names = ("x", "y", "d") if private else ("x", "y")
    for name in names:
        value = raw.get(name)
        if not isinstance(value, str) or not _B64URL.fullmatch(value):
            raise RaiFileError(f"{where}: {what}.{name} must be base64url")
    if not private and "d" in raw:
        raise RaiFileError(f"{where}: {what} must be a public key (it has a private 'd')")
    if raw.get("alg") not in (None, alg):
        raise RaiFileError(f"{where}: {what}.alg must be {alg!r}")
    jwk = {k: raw[k] for k in ("kty", "crv", *names)}
    try:
        key = ECKey.import_key(jwk)
        # Force the cryptography library to build (and so validate) the key now.
        _ = key.private_key if private else key.public_key
    except Exception:
        raise RaiFileError(f"{where}: {what} is not a valid P-256 key") from None
    kid = _explicit_kid(raw.get("kid"), f"{what}.kid", where) or fallback_kid or derive_kid(key)
    return kid, key


def _parse_ecc(crypto: Mapping[str, Any], server: ServerInfo, where: str) -> RaiFile:
    # crypto.key_id, when given, names the relay key (unless its JWK has a kid).
    key_id = _explicit_kid(crypto.get("key_id"), "crypto.key_id", where)
    backend = "signing_key" in crypto or "relay_public_key" in crypto
    relay = "relay_private_key" in crypto or "trusted_signers" in crypto
    if backend and relay:
        raise RaiFileError(
            f"{where}: an ecc file is either a backend file or a relay file, not both"
        )
    if backend:
        signer_kid, signer = _parse_ec_jwk(
            crypto.get("signing_key"), "crypto.signing_key", where, private=True, alg="ES256"
        )
        relay_kid, relay_pub = _parse_ec_jwk(
            crypto.get("relay_public_key"),
            "crypto.relay_public_key",
            where,
            private=False,
            alg="ECDH-ES",
            fallback_kid=key_id,
        )
        return RaiFile(
            "ecc",
            "backend",
            server,
            ecc_backend=ECCBackendKey(signer_kid, signer, relay_kid, relay_pub),
        )
    if relay:
        relay_kid, relay_priv = _parse_ec_jwk(
            crypto.get("relay_private_key"),
            "crypto.relay_private_key",
            where,
            private=True,
            alg="ECDH-ES",
            fallback_kid=key_id,
        )
        raw_signers = crypto.get("trusted_signers")
        if not isinstance(raw_signers, list) or not raw_signers:
            raise RaiFileError(f"{where}: crypto.trusted_signers must be a non-empty list of JWKs")
        signers: dict[str, ECKey] = {}
        for i, raw in enumerate(raw_signers):
            kid, key = _parse_ec_jwk(
                raw, f"crypto.trusted_signers[{i}]", where, private=False, alg="ES256"
            )
            if kid in signers:
                raise RaiFileError(f"{where}: trusted signer kid {kid!r} appears twice")
            signers[kid] = key
        return RaiFile(
            "ecc", "relay", server, ecc_relay=ECCRelayKey(relay_kid, relay_priv, signers)
        )
    raise RaiFileError(
        f"{where}: an ecc file needs signing_key and relay_public_key (backend) "
        "or relay_private_key and trusted_signers (relay)"
    )
