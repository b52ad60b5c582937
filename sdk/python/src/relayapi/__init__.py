"""RelayAPI Python SDK.

Mint short-lived, encrypted RelayAPI tokens offline from a ``.rai`` key file,
and hand vendor SDKs (OpenAI, Anthropic, Gemini) a base URL that goes through
the relay::

    from relayapi import RelayAPI

    relay = RelayAPI("default.rai")
    token = relay.create_token(api_key="sk-...", models=["gpt-4o-mini"], max_calls=20)
    client = relay.openai_client(token)          # needs relayapi[openai]
    url = relay.base_url(token)                  # or hand this to a browser
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

__version__ = "0.1.0"

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
    "RelayAPIError",
    "RelayConnectionError",
    "ServerError",
    "ServerInfo",
    "Token",
    "__version__",
]
