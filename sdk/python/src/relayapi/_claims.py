"""Claim rules of docs/token-format.md §4, shared by minting and the test decoder.

Lengths are counted in UTF-8 bytes, like the Go relay, so a token the SDK
accepts to mint is never one the relay rejects.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["ClaimError", "validate_claims"]

MAX_SAFE_INT = 2**53 - 1

INT_RULES: dict[str, tuple[int, int]] = {
    "exp": (1, MAX_SAFE_INT),
    "iat": (0, MAX_SAFE_INT),
    "nbf": (0, MAX_SAFE_INT),
    "max_calls": (1, MAX_SAFE_INT),
    "rpm": (1, 1_000_000),
    "concurrency": (1, 100_000),
    "max_tokens": (1, 2**31 - 1),
    "token_budget": (1, MAX_SAFE_INT),
    "max_session_seconds": (1, 86_400),
}
STRING_CLAIMS = ("jti", "sub", "provider", "api_key")
LIST_CLAIMS = ("models", "paths", "ips", "origins")
MAP_CLAIMS = ("model_map", "meta")
KNOWN_CLAIMS = frozenset((*INT_RULES, *STRING_CLAIMS, *LIST_CLAIMS, *MAP_CLAIMS))

JTI_PATTERN = re.compile(r"[A-Za-z0-9._:-]{16,128}")
PROVIDER_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
ORIGIN_PATTERN = re.compile(
    r"[a-z][a-z0-9+.-]*://((\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(:[0-9]{1,5})?"
)
_PREFIX_BITS = re.compile(r"0|[1-9][0-9]{0,2}")


class ClaimError(ValueError):
    """A claim breaks a rule of the token format; ``claim`` names it."""

    def __init__(self, claim: str, detail: str) -> None:
        super().__init__(f"claim {claim!r} {detail}")
        self.claim = claim
        self.detail = detail


def _nbytes(s: str) -> int:
    try:
        return len(s.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogates cannot go into a token
        return -1


def is_int(value: Any) -> bool:
    """True for a Python ``int`` that is not a ``bool``."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_int(name: str, value: Any) -> None:
    """Check an integer claim against its range."""
    lo, hi = INT_RULES[name]
    if not is_int(value):
        raise ClaimError(name, "must be an integer")
    if not lo <= value <= hi:
        raise ClaimError(name, f"must be an integer between {lo} and {hi}")


def check_string(name: str, value: Any) -> None:
    """Check ``jti``, ``sub``, ``provider`` or ``api_key``."""
    if not isinstance(value, str):
        raise ClaimError(name, "must be a string")
    if name == "jti":
        if not JTI_PATTERN.fullmatch(value):
            raise ClaimError(name, "must be 16-128 characters of A-Z a-z 0-9 . _ : -")
    elif name == "provider":
        if not PROVIDER_PATTERN.fullmatch(value):
            raise ClaimError(name, "must be a provider name matching [a-z0-9][a-z0-9_-]{0,63}")
    elif name == "sub":
        if not 1 <= _nbytes(value) <= 256:
            raise ClaimError(name, "must be 1-256 characters (UTF-8 bytes)")
    elif name == "api_key" and not (
        1 <= len(value) <= 4096 and all("\x21" <= c <= "\x7e" for c in value)
    ):
        raise ClaimError(
            name, "must be 1-4096 printable ASCII characters without spaces or control characters"
        )


def _check_ip(value: str) -> bool:
    if "/" in value:
        addr, _, bits = value.partition("/")
        if "%" in addr or not _PREFIX_BITS.fullmatch(bits):
            return False
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            return False
        return int(bits) <= ip.max_prefixlen
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _check_item(name: str, item: str) -> bool:
    if name == "models":
        return 1 <= _nbytes(item) <= 256
    if name == "paths":
        return item.startswith("/") and 0 <= _nbytes(item) <= 1024
    if name == "ips":
        return _check_ip(item)
    # origins
    return item == "*" or ORIGIN_PATTERN.fullmatch(item) is not None


_ITEM_RULES = {
    "models": "each model pattern must be 1-256 characters",
    "paths": "each path pattern must start with '/' and be at most 1024 characters",
    "ips": "each entry must be an IP address or CIDR (203.0.113.7, 10.0.0.0/8, 2001:db8::/32)",
    "origins": "each entry must be '*', scheme://host[:port] or scheme://*.domain, lower-case",
}


def check_list(name: str, value: Any) -> None:
    """Check ``models``, ``paths``, ``ips`` or ``origins``."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ClaimError(name, "must be a list of strings")
    if not 1 <= len(value) <= 100:
        raise ClaimError(name, "must have 1-100 entries (omit it for no restriction)")
    for item in value:
        if not _check_item(name, item):
            raise ClaimError(name, f"has an invalid entry {item!r}: {_ITEM_RULES[name]}")


def check_map(name: str, value: Any) -> None:
    """Check ``model_map`` or ``meta``."""
    max_entries, max_key = (100, 256) if name == "model_map" else (32, 64)
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ClaimError(name, "must be an object mapping strings to strings")
    if not 1 <= len(value) <= max_entries:
        raise ClaimError(name, f"must have 1-{max_entries} entries (omit it when empty)")
    for k, v in value.items():
        if not 1 <= _nbytes(k) <= max_key or not 1 <= _nbytes(v) <= 256:
            raise ClaimError(
                name, f"keys must be 1-{max_key} and values 1-256 characters (bad key {k!r})"
            )


def check_extension(name: str, value: Any) -> None:
    """Check an ``x_…`` claim: any JSON value except ``null``."""
    if value is None:
        raise ClaimError(name, "must not be null")
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        raise ClaimError(name, "must be JSON-serialisable (no NaN/Infinity)") from None


def check_claim(name: str, value: Any) -> None:
    """Check one claim by name (unknown names other than ``x_…`` are errors)."""
    if value is None:
        raise ClaimError(name, "must not be null")
    if name.startswith("x_"):
        check_extension(name, value)
    elif name in INT_RULES:
        check_int(name, value)
    elif name in STRING_CLAIMS:
        check_string(name, value)
    elif name in LIST_CLAIMS:
        check_list(name, value)
    elif name in MAP_CLAIMS:
        check_map(name, value)
    else:
        raise ClaimError(name, "is not a known claim (extension claims must start with 'x_')")


def validate_claims(claims: Any) -> None:
    """Validate a whole claims set; raises ClaimError on the first broken rule."""
    if not isinstance(claims, Mapping):
        raise ClaimError("(claims)", "must be a JSON object")
    for name in ("jti", "exp", "provider"):
        if name not in claims:
            raise ClaimError(name, "is required")
    for name, value in claims.items():
        if not isinstance(name, str):
            raise ClaimError(str(name), "name must be a string")
        check_claim(name, value)
    if "nbf" in claims and claims["nbf"] != 0 and claims["nbf"] >= claims["exp"]:
        raise ClaimError("nbf", "must be before 'exp'")
