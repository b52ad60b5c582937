"""Minimal HTTP client (stdlib ``urllib``) for the relay's admin API and the 1.x wrappers."""

from __future__ import annotations

import json
import re
import socket
import urllib.error
import urllib.request
from typing import Any, Optional

from .errors import RelayAPIError, RelayConnectionError, error_from_response

USER_AGENT = "relayapi-python"

_PATH_TOKEN = re.compile(r"/t/[^/?#]+")


def redact(url: str) -> str:
    """``url`` with a path token (``/t/{token}``) replaced, for error messages and logs."""
    return _PATH_TOKEN.sub("/t/<token>", url)


def request_json(
    method: str,
    url: str,
    *,
    admin_key: Optional[str],
    timeout: float,
    body: Optional[Any] = None,
    headers: Optional[dict[str, str]] = None,
) -> Any:
    """Send a request and return the decoded JSON answer (``None`` when empty).

    ``admin_key`` goes in ``Authorization: Bearer``; ``None`` sends no
    ``Authorization`` (a relay call whose token is in the URL path).
    ``headers`` are added to the request.

    Raises:
        RelayAPIError: a subclass matching the HTTP status, with ``.status``
            and ``.code`` taken from the relay's ``{"error": {...}}`` body.
        RelayConnectionError: the relay could not be reached.
    """
    data = None
    sent = {"Accept": "application/json", "User-Agent": USER_AGENT}
    if admin_key is not None:
        sent["Authorization"] = f"Bearer {admin_key}"
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        sent["Content-Type"] = "application/json"
    elif method == "POST":
        data = b""
    sent.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        with exc:
            payload = exc.read() or b""
            raise error_from_response(
                exc.code, payload, exc.headers.get("Retry-After") if exc.headers else None
            ) from None
    except (urllib.error.URLError, socket.timeout, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RelayConnectionError(f"cannot reach the relay at {redact(url)}: {reason}") from None
    if not raw.strip():
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except ValueError:
        raise RelayAPIError(
            f"the relay at {redact(url)} answered something that is not JSON",
            status=status,
        ) from None
