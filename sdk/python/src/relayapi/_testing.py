"""Test-only token decoder (what a relay does), used by the SDK's test suite.

Not part of the public API: production code never needs to decode a token
(the relay does). It follows docs/token-format.md §6 and decodes with the
relay-side key files: ``aes.rai`` for ``aes``, the *relay* file for ``ecc``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, Union

from ._jose import TokenDecodeError, check_time, open_token
from ._rai import RaiFile, RaiSource, load_rai
from .errors import RaiFileError

__all__ = ["TokenDecodeError", "check_time", "decode_token", "load_relay_keys", "open_token"]


def load_relay_keys(*sources: Union[RaiSource, RaiFile]) -> list[RaiFile]:
    """Load key files a relay would hold (``aes`` files and ``ecc`` relay files).

    Raises:
        RaiFileError: a file is an ``ecc`` backend file (wrong role).
    """
    files = []
    for source in sources:
        rai = source if isinstance(source, RaiFile) else load_rai(source)
        if not rai.can_decode:
            raise RaiFileError("this is an ecc backend key file (wrong role for a relay)")
        files.append(rai)
    return files


def decode_token(
    token: Any,
    keys: Union[RaiSource, RaiFile, Iterable[RaiFile]],
    *,
    now: int,
    leeway: int = 30,
) -> dict[str, Any]:
    """Decode and validate ``token`` at the Unix time ``now``.

    Returns the claims, or raises :class:`TokenDecodeError` whose ``code`` is
    ``invalid_token``, ``token_expired`` or ``token_not_yet_valid``.
    """
    if isinstance(keys, (RaiFile, str, os.PathLike, Mapping)):
        files = load_relay_keys(keys)
    else:
        files = load_relay_keys(*keys)
    claims = open_token(token, files)
    check_time(claims, now, leeway)
    return claims
