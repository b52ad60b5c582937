"""RelayAPI Python SDK.

Mint short-lived, encrypted RelayAPI tokens offline from a ``.rai`` key file,
and hand vendor SDKs (OpenAI, Anthropic, Gemini) a base URL that goes through
the relay::

    from relayapi import RelayAPI

    relay = RelayAPI("default.rai")
    token = relay.create_token(api_key="sk-...", models=["gpt-4o-mini"], max_calls=20)
    client = relay.openai_client(token)          # needs the openai package
    url = relay.base_url(token)                  # or hand this to a browser

The RelayAPI 1.x API (``RelayAPIClient``, ``TokenGenerator``) is still
importable from here: deprecated wrappers over :class:`RelayAPI`, see
:mod:`relayapi.legacy`.
"""

from ._rai import RaiCompatibilityWarning, ServerInfo
from .client import FLAVORS, InvalidArgumentError, RelayAPI, Token
from .errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    RaiFileError,
    RateLimitError,
    RelayAPIError,
    RelayConnectionError,
    ServerError,
)
from .legacy import RelayAPIClient, TokenGenerator

__version__ = "2.0.0"

__all__ = [
    "FLAVORS",
    "AuthenticationError",
    "BadRequestError",
    "InvalidArgumentError",
    "NotFoundError",
    "PermissionDeniedError",
    "RaiCompatibilityWarning",
    "RaiFileError",
    "RateLimitError",
    "RelayAPI",
    "RelayAPIClient",
    "RelayAPIError",
    "RelayConnectionError",
    "ServerError",
    "ServerInfo",
    "Token",
    "TokenGenerator",
    "__version__",
]
