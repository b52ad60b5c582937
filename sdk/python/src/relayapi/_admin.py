"""Minimal HTTP client (stdlib ``urllib``) for the relay's admin API."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Any, Optional

from .errors import RelayAPIError, RelayConnectionError, error_from_response

USER_AGENT = "relayapi-python"


def request_json(
    method: str,
    url: str,
    *,
    admin_key: str,
    timeout: float,
    body: Optional[Any] = None,
) -> Any:
    """Send an admin request and return the decoded JSON answer (``None`` when empty).

    Raises:
        RelayAPIError: a subclass matching the HTTP status, with ``.status``
            and ``.code`` taken from the relay's ``{"error": {...}}`` body.
        RelayConnectionError: the relay could not be reached.
    """
    data = None
    headers = {
        "Authorization": f"Bearer {admin_key}",
        "Accept": "application/json",
        "User-Agent": USER_AGENT,
    }
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        headers["Content-Type"] = "application/json"
    elif method == "POST":
        data = b""
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
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
        raise RelayConnectionError(f"cannot reach the relay at {url}: {reason}") from None
    if not raw.strip():
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except ValueError:
        raise RelayAPIError(
            f"the relay at {url} answered something that is not JSON", status=status
        ) from None
