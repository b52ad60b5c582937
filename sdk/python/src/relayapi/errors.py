"""Exceptions raised by the RelayAPI SDK."""

from __future__ import annotations

import json
from typing import Any, Optional

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "RaiFileError",
    "RateLimitError",
    "RelayAPIError",
    "RelayConnectionError",
    "ServerError",
    "error_from_response",
]


class RaiFileError(ValueError):
    """A ``.rai`` key file (or dict) is malformed or has the wrong role."""


class RelayAPIError(Exception):
    """An error answered by the relay (or the failure to reach it).

    Attributes:
        status: HTTP status code, or ``None`` when the relay could not be reached.
        code: the machine-readable ``error.code`` of the relay's JSON error
            (for example ``"invalid_token"`` or ``"not_found"``), or ``None``.
        message: the human-readable ``error.message`` (never contains secrets).
        body: the raw response body as text (may be empty).
    """

    def __init__(
        self,
        message: str,
        *,
        status: Optional[int] = None,
        code: Optional[str] = None,
        body: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.body = body

    def __str__(self) -> str:
        parts = []
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.code:
            parts.append(self.code)
        prefix = " ".join(parts)
        return f"{prefix}: {self.message}" if prefix else self.message


class RelayConnectionError(RelayAPIError):
    """The relay could not be reached (DNS, refused connection, timeout, TLS)."""


class BadRequestError(RelayAPIError):
    """HTTP 400: the request was malformed."""


class AuthenticationError(RelayAPIError):
    """HTTP 401: missing or wrong admin key (or token)."""


class PermissionDeniedError(RelayAPIError):
    """HTTP 403: the admin key is not allowed to do this."""


class NotFoundError(RelayAPIError):
    """HTTP 404: unknown token id (or the relay has no admin API at this URL)."""


class RateLimitError(RelayAPIError):
    """HTTP 429: slow down (see ``retry_after`` when the relay sent it)."""

    def __init__(self, message: str, *, retry_after: Optional[float] = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(RelayAPIError):
    """HTTP 5xx: the relay failed."""


_BY_STATUS = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}


def error_from_response(
    status: int, body: bytes, retry_after: Optional[str] = None
) -> RelayAPIError:
    """Build the exception for an HTTP error answer.

    The relay answers errors as ``{"error": {"message", "type", "code"}}``;
    any other body is kept as text in ``.body`` with a generic message.
    """
    text = body.decode("utf-8", errors="replace")
    message = f"relay answered HTTP {status}"
    code: Optional[str] = None
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        err = data["error"]
        if isinstance(err.get("message"), str) and err["message"]:
            message = err["message"]
        if isinstance(err.get("code"), str) and err["code"]:
            code = err["code"]
    if status == 429:
        seconds: Optional[float] = None
        if retry_after:
            try:
                seconds = float(retry_after)
            except ValueError:
                seconds = None
        return RateLimitError(message, status=status, code=code, body=text, retry_after=seconds)
    cls = _BY_STATUS.get(status, ServerError if status >= 500 else RelayAPIError)
    return cls(message, status=status, code=code, body=text)
