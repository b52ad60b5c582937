"""The RelayAPI 1.x Python API (PyPI ``relayapi`` 1.0.0), kept for migration.

:class:`RelayAPIClient` and :class:`TokenGenerator` have the 1.x signatures
and are thin wrappers over :class:`relayapi.RelayAPI`: they mint this relay's
tokens (JWE, docs/token-format.md) and build path-token URLs
(``{relay}/t/{token}/v1``), never the 1.x token format or
``?token=…&rai_hash=…`` URLs, so they need a 2.x relay.

Every public call emits a :class:`DeprecationWarning` naming its replacement.
What changed for callers:

- URLs are ``{relay}/t/{token}/v1[/endpoint]`` instead of
  ``{relay}/?token=…&rai_hash=…``.
- ``ext_info`` is mapped to claims: a JSON object's ``rep_m`` becomes
  ``model_map {"*": rep_m}`` (every model is replaced by that one), its other
  keys become ``meta``; any other non-empty string becomes
  ``meta {"ext_info": string}``.
- HTTP errors raise :class:`relayapi.RelayAPIError` subclasses (with
  ``.status``, ``.code``, ``.message``) instead of ``requests.HTTPError``.
- The published 1.x example key is refused (:class:`relayapi.RaiFileError`).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from typing import Any, Optional, Union

from . import _admin
from ._claims import ClaimError, validate_claims
from ._rai import RaiSource, _user_stacklevel
from .client import InvalidArgumentError, RelayAPI, Token

__all__ = ["RelayAPIClient", "TokenGenerator", "ext_info_claims"]

#: 1.x ``api_type`` names → path after ``{relay}/t/{token}/v1``.
API_PATHS = {
    "chat_completions": "/chat/completions",
    "images_generations": "/images/generations",
    "embeddings": "/embeddings",
}

#: Seconds in one ``expire_days``.
DAY = 86400

#: Timeout (seconds) of chat, images, embeddings and health calls.
DEFAULT_TIMEOUT = 600.0

_META_MAX_ENTRIES = 32
_META_MAX_KEY = 64
_META_MAX_VALUE = 256

_TokenStr = Union[str, Token]


def _deprecated(message: str) -> None:
    """Warn at the caller's first frame outside this package."""
    warnings.warn(
        f"{message} (RelayAPI 1.x API, see docs/migrating-from-1.x.md)",
        DeprecationWarning,
        stacklevel=_user_stacklevel(),
    )


def _utf8_len(value: str) -> int:
    return len(value.encode("utf-8", errors="surrogatepass"))


def _meta_entry(key: str, value: str) -> None:
    if not 1 <= _utf8_len(key) <= _META_MAX_KEY:
        raise InvalidArgumentError(
            "ext_info", f"key {key[:80]!r} must be 1-{_META_MAX_KEY} bytes (it goes to meta)"
        )
    if not 1 <= _utf8_len(value) <= _META_MAX_VALUE:
        raise InvalidArgumentError(
            "ext_info",
            f"the value of {key[:80]!r} must be 1-{_META_MAX_VALUE} bytes (it goes to meta)",
        )


def ext_info_claims(ext_info: Union[str, Mapping[str, Any], None]) -> dict[str, Any]:
    """Map a 1.x ``ext_info`` to token claims (``model_map`` and/or ``meta``).

    - ``""`` or ``None``: no claim.
    - A JSON object (as a string, or a dict): ``rep_m`` (a model name; 1.x
      replaced the requested model with it) becomes
      ``model_map {"*": rep_m}``; every other key goes to ``meta``, string
      values as they are, other JSON values serialised compactly.
    - Any other string: ``meta {"ext_info": ext_info}``.

    ``meta`` holds at most 32 entries, keys of 1-64 bytes and values of
    1-256 bytes (UTF-8).

    Raises:
        InvalidArgumentError: ``ext_info`` does not fit those limits, or
            ``rep_m`` is neither a string nor null.
    """
    if ext_info is None or ext_info == "":
        return {}
    if isinstance(ext_info, Mapping):
        data: Any = dict(ext_info)
    elif isinstance(ext_info, str):
        try:
            data = json.loads(ext_info)
        except ValueError:
            data = None
        if not isinstance(data, dict):  # free text (or JSON that is not an object)
            _meta_entry("ext_info", ext_info)
            return {"meta": {"ext_info": ext_info}}
    else:
        raise InvalidArgumentError("ext_info", "must be a string (JSON object or free text)")
    claims: dict[str, Any] = {}
    meta: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(key, str):
            raise InvalidArgumentError("ext_info", "keys must be strings")
        if key == "rep_m":
            if value is not None and not isinstance(value, str):
                raise InvalidArgumentError("ext_info", "rep_m must be a model name (a string)")
            if value:  # "" or null: no replacement, as in 1.x
                if _utf8_len(value) > 256:
                    raise InvalidArgumentError("ext_info", "rep_m must be at most 256 bytes")
                claims["model_map"] = {"*": value}
            continue
        if isinstance(value, str):
            text = value
        else:
            try:
                text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
            except (TypeError, ValueError):
                raise InvalidArgumentError(
                    "ext_info", f"the value of {key[:80]!r} is not JSON"
                ) from None
        _meta_entry(key, text)
        meta[key] = text
    if len(meta) > _META_MAX_ENTRIES:
        raise InvalidArgumentError(
            "ext_info", f"has {len(meta)} keys; meta holds at most {_META_MAX_ENTRIES}"
        )
    if meta:
        claims["meta"] = meta
    return claims


def _expires_in(expire_days: Any) -> int:
    if isinstance(expire_days, bool) or not isinstance(expire_days, (int, float)):
        raise InvalidArgumentError("expire_days", "must be a number of days")
    seconds = round(expire_days * DAY)
    if seconds <= 0:
        raise InvalidArgumentError("expire_days", "must be positive")
    return seconds


def _api_path(api_type: Optional[str]) -> str:
    if not api_type:
        return ""
    if api_type not in API_PATHS:
        raise InvalidArgumentError(
            "api_type", f"must be '' or one of {', '.join(API_PATHS)}, not {api_type!r}"
        )
    return API_PATHS[api_type]


def _token_string(token: Any) -> Any:
    # 1.x stripped the token (it often comes from a file or a header).
    return token.strip() if isinstance(token, str) else token


class TokenGenerator:
    """1.x token generator, over :class:`relayapi.RelayAPI` (deprecated).

    Args:
        config: path to a ``.rai`` file, or a dict with the same content
            (1.x files load unchanged).

    Attributes:
        relay: the :class:`relayapi.RelayAPI` doing the work: use it directly.

    Raises:
        RaiFileError: the key file is unreadable, malformed, an ``ecc``
            relay file, or holds the published 1.x example key.
    """

    def __init__(self, config: RaiSource = "default.rai") -> None:
        _deprecated("relayapi.TokenGenerator is deprecated: use relayapi.RelayAPI(rai)")
        self._setup(RelayAPI(config))

    @classmethod
    def _wrap(cls, relay: RelayAPI) -> TokenGenerator:
        self = cls.__new__(cls)
        self._setup(relay)
        return self

    def _setup(self, relay: RelayAPI) -> None:
        self.relay = relay

    def _token(
        self,
        api_key: Optional[str],
        max_calls: Optional[int],
        expire_days: Any,
        provider: str,
        ext_info: Union[str, Mapping[str, Any], None],
    ) -> Token:
        return self.relay.create_token(
            provider=provider,
            api_key=api_key,
            max_calls=max_calls,
            expires_in=_expires_in(expire_days),
            **ext_info_claims(ext_info),
        )

    def create_token(
        self,
        api_key: str,
        max_calls: int = 100,
        expire_days: int = 1,
        provider: str = "dashscope",
        ext_info: str = "",
    ) -> dict[str, Any]:
        """The claims of a new token (pass them to :meth:`encrypt_token`).

        Unlike 1.x, the result holds this relay's claims (``jti``, ``iat``,
        ``exp``, ``provider``, ``api_key``, ``max_calls``, ``model_map``,
        ``meta``), not 1.x's ``id``/``expire_time``/``ext_info``.

        Raises:
            InvalidArgumentError: an argument is invalid.
        """
        _deprecated(
            "TokenGenerator.create_token() is deprecated: use "
            "RelayAPI.create_token(api_key=..., provider=..., max_calls=..., expires_in=seconds)"
        )
        return dict(self._token(api_key, max_calls, expire_days, provider, ext_info).claims)

    def encrypt_token(self, token_data: Mapping[str, Any]) -> str:
        """Mint a token holding ``token_data`` (claims from :meth:`create_token`).

        Raises:
            InvalidArgumentError: ``token_data`` breaks a claim rule (a 1.x
                token dict is not accepted).
        """
        _deprecated(
            "TokenGenerator.encrypt_token() is deprecated: RelayAPI.create_token() "
            "returns the token"
        )
        if not isinstance(token_data, Mapping):
            raise InvalidArgumentError("token_data", "must be the dict create_token() returned")
        claims = dict(token_data)
        try:
            validate_claims(claims)
        except ClaimError as exc:
            raise InvalidArgumentError(
                "token_data",
                f"claim {exc.claim!r} {exc.detail} (pass what create_token() returned)",
            ) from None
        return self.relay._mint(claims).value

    def get_server_url(self, path: Optional[str] = None) -> str:
        """The relay's root URL (``.rai`` ``server`` section), plus ``path`` when given."""
        _deprecated("TokenGenerator.get_server_url() is deprecated: use RelayAPI.relay_url")
        return self._server_url(path)

    def _server_url(self, path: Optional[str] = None) -> str:
        if not path:
            return self.relay.relay_url
        return f"{self.relay.relay_url}/{path.lstrip('/')}"


class RelayAPIClient:
    """1.x client, over :class:`relayapi.RelayAPI` (deprecated).

    Args:
        config: path to a ``.rai`` file, or a dict with the same content
            (1.x files load unchanged).
        timeout: timeout in seconds of :meth:`chat_completions`,
            :meth:`images_generations`, :meth:`embeddings` and
            :meth:`health_check` (1.x had none).

    Attributes:
        relay: the :class:`relayapi.RelayAPI` doing the work: use it directly.
        token_generator: a :class:`TokenGenerator` over the same key file.
        headers: extra HTTP headers sent by the request methods.

    Raises:
        RaiFileError: the key file is unreadable, malformed, an ``ecc``
            relay file, or holds the published 1.x example key.
    """

    def __init__(
        self, config: RaiSource = "default.rai", *, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        _deprecated("relayapi.RelayAPIClient is deprecated: use relayapi.RelayAPI(rai)")
        self.relay = RelayAPI(config)
        self.token_generator = TokenGenerator._wrap(self.relay)
        self.headers: dict[str, str] = {"Content-Type": "application/json"}
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"RelayAPIClient(relay_url={self.relay.relay_url!r})"

    # ------------------------------------------------------------------ tokens

    def create_token(
        self,
        api_key: str,
        max_calls: int = 100,
        expire_days: int = 1,
        provider: str = "dashscope",
        ext_info: str = "",
    ) -> str:
        """Mint a token for this relay.

        Args:
            api_key: the real upstream API key (encrypted inside the token).
            max_calls: total number of calls allowed.
            expire_days: lifetime in days (``expires_in = days * 86400``).
            provider: provider name configured on the relay.
            ext_info: see :func:`ext_info_claims`.

        Returns:
            The token string.

        Raises:
            InvalidArgumentError: an argument is invalid.
        """
        _deprecated(
            "RelayAPIClient.create_token() is deprecated: use RelayAPI.create_token(api_key=..., "
            "provider=..., max_calls=..., expires_in=seconds), which returns a Token"
        )
        return self._create_token(api_key, max_calls, expire_days, provider, ext_info)

    def _create_token(
        self,
        api_key: Optional[str],
        max_calls: Optional[int],
        expire_days: Any,
        provider: str,
        ext_info: Union[str, Mapping[str, Any], None],
    ) -> str:
        return self.token_generator._token(
            api_key, max_calls, expire_days, provider, ext_info
        ).value

    # -------------------------------------------------------------------- URLs

    def generate_api_url_with_token(self, token: _TokenStr, api_type: str = "") -> str:
        """The URL for ``token``: ``{relay}/t/{token}/v1``, plus the endpoint of ``api_type``.

        Args:
            token: the token string.
            api_type: ``""`` (the base URL for an OpenAI SDK),
                ``"chat_completions"``, ``"images_generations"`` or
                ``"embeddings"``.

        Raises:
            InvalidArgumentError: unknown ``api_type`` or not a token string.
        """
        _deprecated(
            "RelayAPIClient.generate_api_url_with_token() is deprecated: "
            "use RelayAPI.base_url(token)"
        )
        return self._url(token, api_type)

    def _url(self, token: _TokenStr, api_type: Optional[str]) -> str:
        path = _api_path(api_type)
        return self.relay.base_url(_token_string(token)) + path

    def generate_api_url(
        self,
        api_key: str,
        max_calls: int = 100,
        expire_days: int = 1,
        provider: str = "dashscope",
        ext_info: str = "",
        api_type: str = "",
    ) -> str:
        """Mint a token and return its URL in one step (see :meth:`create_token`).

        Raises:
            InvalidArgumentError: an argument is invalid.
        """
        _deprecated(
            "RelayAPIClient.generate_api_url() is deprecated: use RelayAPI.generate_url(...) "
            "or RelayAPI.base_url(RelayAPI.create_token(...))"
        )
        _api_path(api_type)  # an unknown api_type fails before minting
        token = self._create_token(api_key, max_calls, expire_days, provider, ext_info)
        return self._url(token, api_type)

    # ---------------------------------------------------------------- requests

    def _post(self, token: _TokenStr, api_type: str, body: dict[str, Any]) -> dict[str, Any]:
        result = _admin.request_json(
            "POST",
            self._url(token, api_type),
            admin_key=None,
            timeout=self.timeout,
            body=body,
            headers=self.headers,
        )
        return result if isinstance(result, dict) else {"result": result}

    def chat_completions(
        self,
        token: _TokenStr,
        messages: list[dict[str, Any]],
        model: str = "qwen-vl-max",
        **kwargs: Any,
    ) -> dict[str, Any]:
        """``POST {relay}/t/{token}/v1/chat/completions``: the parsed JSON answer.

        ``kwargs`` go into the request body (``temperature``, ``max_tokens``…).

        Raises:
            RelayAPIError: a subclass for the HTTP status (``RateLimitError``
                for 429…) with the relay's or provider's ``.code`` and
                ``.message``; ``RelayConnectionError`` when unreachable.
        """
        _deprecated(
            "RelayAPIClient.chat_completions() is deprecated: use "
            "RelayAPI.openai_client(token).chat.completions.create(...)"
        )
        return self._post(
            token, "chat_completions", {"model": model, "messages": messages, **kwargs}
        )

    def images_generations(
        self,
        token: _TokenStr,
        prompt: str,
        n: int = 1,
        size: str = "1024x1024",
        **kwargs: Any,
    ) -> dict[str, Any]:
        """``POST {relay}/t/{token}/v1/images/generations``: the parsed JSON answer.

        Raises:
            RelayAPIError: as for :meth:`chat_completions`.
        """
        _deprecated(
            "RelayAPIClient.images_generations() is deprecated: use "
            "RelayAPI.openai_client(token).images.generate(...)"
        )
        return self._post(
            token, "images_generations", {"prompt": prompt, "n": n, "size": size, **kwargs}
        )

    def embeddings(
        self,
        token: _TokenStr,
        input: Union[str, list[str]],
        model: str = "text-embedding-ada-002",
        **kwargs: Any,
    ) -> dict[str, Any]:
        """``POST {relay}/t/{token}/v1/embeddings``: the parsed JSON answer.

        Raises:
            RelayAPIError: as for :meth:`chat_completions`.
        """
        _deprecated(
            "RelayAPIClient.embeddings() is deprecated: use "
            "RelayAPI.openai_client(token).embeddings.create(...)"
        )
        return self._post(token, "embeddings", {"model": model, "input": input, **kwargs})

    def health_check(self) -> dict[str, Any]:
        """``GET {relay}/health``: the parsed JSON answer (``{"status": "ok", …}``).

        Raises:
            RelayAPIError: as for :meth:`chat_completions`.
        """
        _deprecated(
            "RelayAPIClient.health_check() is deprecated: GET f'{RelayAPI.relay_url}/health' "
            "yourself (the 2.x SDK has no health call)"
        )
        headers = {k: v for k, v in self.headers.items() if k.lower() != "content-type"}
        result = _admin.request_json(
            "GET",
            f"{self.relay.relay_url}/health",
            admin_key=None,
            timeout=self.timeout,
            headers=headers,
        )
        return result if isinstance(result, dict) else {"result": result}
