"""The :class:`RelayAPI` client: mint tokens, build relay URLs, call the admin API."""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Optional, Union

from . import _admin, _jose
from ._claims import ClaimError, check_claim, validate_claims
from ._rai import RaiFile, RaiSource, load_rai
from .errors import RaiFileError

if TYPE_CHECKING:  # pragma: no cover
    import openai

__all__ = ["FLAVORS", "InvalidArgumentError", "RelayAPI", "Token"]

#: URL flavors accepted by :meth:`RelayAPI.base_url` (docs/token-format.md §7).
FLAVORS = ("openai", "anthropic", "gemini")

_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_.-]+")
_ARG_FOR_CLAIM = {"exp": "expires_in", "nbf": "not_before"}

#: Default token lifetime in seconds.
DEFAULT_EXPIRES_IN = 3600


class InvalidArgumentError(ValueError):
    """An argument of :meth:`RelayAPI.create_token` (or another call) is invalid.

    ``argument`` names the offending keyword argument. Raised before anything
    is encrypted.
    """

    def __init__(self, argument: str, detail: str) -> None:
        super().__init__(f"invalid argument {argument!r}: {detail}")
        self.argument = argument
        self.detail = detail


@dataclass(frozen=True)
class Token:
    """A minted token.

    Attributes:
        value: the token string (a compact JWE). ``str(token)`` returns it.
        id: the token id (``jti`` claim), used by :meth:`RelayAPI.usage` and
            :meth:`RelayAPI.revoke`.
        expires_at: expiry (``exp``) as an aware UTC ``datetime``.
        claims: the claims inside the token (read-only; includes ``api_key``).
    """

    value: str = field(repr=False)
    id: str
    expires_at: datetime
    claims: Mapping[str, Any] = field(repr=False, compare=False)

    def __str__(self) -> str:
        return self.value


TokenLike = Union[Token, str]
Seconds = Union[int, timedelta]
Instant = Union[datetime, int, timedelta]


def _token_value(token: Any, argument: str = "token") -> str:
    value = token.value if isinstance(token, Token) else token
    if not isinstance(value, str) or not _TOKEN_CHARS.fullmatch(value):
        raise InvalidArgumentError(
            argument, "must be a Token or a token string (characters A-Z a-z 0-9 - _ .)"
        )
    if len(value) > _jose.MAX_TOKEN_SIZE:
        raise InvalidArgumentError(argument, f"is longer than {_jose.MAX_TOKEN_SIZE} bytes")
    return value


def _token_id(token_id: Any) -> str:
    value = token_id.id if isinstance(token_id, Token) else token_id
    try:
        check_claim("jti", value)
    except ClaimError as exc:
        raise InvalidArgumentError("token_id", exc.detail) from None
    return value


def _as_list(argument: str, value: Any) -> Optional[list[str]]:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, (bytes, Mapping)) or not isinstance(value, Iterable):
        raise InvalidArgumentError(argument, "must be a list of strings")
    return list(value)


def _as_map(argument: str, value: Any) -> Optional[dict[str, Any]]:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(argument, "must be a dict of strings to strings")
    return dict(value)


def _seconds(argument: str, value: Any) -> int:
    if isinstance(value, timedelta):
        return int(value.total_seconds())  # whole seconds (NumericDate)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(argument, "must be an int (seconds) or a timedelta")
    return value


def _normalise_relay_url(url: Any) -> str:
    if not isinstance(url, str) or not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", url):
        raise InvalidArgumentError(
            "relay_url", "must be an http(s) URL like https://relay.example.com"
        )
    return url.rstrip("/")


class RelayAPI:
    """Mint RelayAPI tokens from a ``.rai`` key file and build relay URLs.

    Args:
        rai: path to a ``.rai`` file, or a dict with the same content. The
            ``aes`` file (also the original seed format) and the ``ecc``
            *backend* file (``relayapi keygen --out``) can mint; an ``ecc``
            relay file cannot and raises :class:`RaiFileError`.
        relay_url: the relay's public root URL (``https://relay.example.com``
            or ``…/base/path``). Defaults to the ``.rai`` ``server`` section.
        admin_key: admin key for :meth:`usage` and :meth:`revoke`. Defaults to
            the ``RELAYAPI_ADMIN_KEY`` environment variable (read at call time).
        timeout: timeout in seconds of admin HTTP calls.

    Raises:
        RaiFileError: the key file is unreadable, malformed or a relay file.

    Example::

        relay = RelayAPI("default.rai")
        token = relay.create_token(api_key="sk-...", models=["gpt-4o-mini"], max_calls=10)
        url = relay.base_url(token)  # http://127.0.0.1:8840/t/<token>/v1
    """

    def __init__(
        self,
        rai: RaiSource,
        *,
        relay_url: Optional[str] = None,
        admin_key: Optional[str] = None,
        timeout: float = 10.0,
    ) -> None:
        self._rai: RaiFile = load_rai(rai)
        if not self._rai.can_mint:
            raise RaiFileError(
                "this is an ecc relay key file (wrong role): the SDK needs the backend "
                "file written by `relayapi keygen --out`"
            )
        self.relay_url: str = (
            _normalise_relay_url(relay_url) if relay_url is not None else self._rai.server.url
        )
        self._admin_key = admin_key
        self.timeout = timeout

    @classmethod
    def from_env(cls, variable: str = "RELAYAPI_RAI", **kwargs: Any) -> RelayAPI:
        """Build a client from the environment.

        ``RELAYAPI_RAI`` (or ``variable``) holds either a path to a ``.rai``
        file or the file's JSON content inline (handy for secrets managers).
        Other keyword arguments go to :class:`RelayAPI`.

        Raises:
            RaiFileError: the variable is unset or its content is invalid.
        """
        raw = os.environ.get(variable, "").strip()
        if not raw:
            raise RaiFileError(f"environment variable {variable} is not set")
        if raw.startswith("{"):
            try:
                data = json.loads(raw)
            except ValueError:
                raise RaiFileError(f"{variable} holds invalid JSON") from None
            if not isinstance(data, Mapping):
                raise RaiFileError(f"{variable} must hold a JSON object")
            return cls(data, **kwargs)
        return cls(raw, **kwargs)

    @property
    def method(self) -> str:
        """The key file's method: ``"aes"`` or ``"ecc"``."""
        return self._rai.method

    @property
    def key_id(self) -> str:
        """The ``kid`` written into the outer JWE header of minted tokens."""
        if self._rai.aes is not None:
            return self._rai.aes.kid
        assert self._rai.ecc_backend is not None
        return self._rai.ecc_backend.relay_kid

    def __repr__(self) -> str:
        return f"RelayAPI(method={self.method!r}, relay_url={self.relay_url!r})"

    # ------------------------------------------------------------------ tokens

    def create_token(
        self,
        *,
        provider: str = "openai",
        api_key: Optional[str] = None,
        expires_in: Seconds = DEFAULT_EXPIRES_IN,
        max_calls: Optional[int] = None,
        models: Optional[Iterable[str]] = None,
        paths: Optional[Iterable[str]] = None,
        rpm: Optional[int] = None,
        concurrency: Optional[int] = None,
        max_tokens: Optional[int] = None,
        token_budget: Optional[int] = None,
        max_session_seconds: Optional[int] = None,
        ips: Optional[Iterable[str]] = None,
        origins: Optional[Iterable[str]] = None,
        model_map: Optional[Mapping[str, str]] = None,
        meta: Optional[Mapping[str, str]] = None,
        sub: Optional[str] = None,
        not_before: Optional[Instant] = None,
        jti: Optional[str] = None,
        extra: Optional[Mapping[str, Any]] = None,
    ) -> Token:
        """Mint a token.

        Every argument is optional; an omitted limit means "no limit".

        Args:
            provider: provider name configured on the relay (``openai``,
                ``anthropic``, ``gemini``, or an operator-defined one).
            api_key: the real upstream API key; omit it when the relay holds
                the credential for this provider.
            expires_in: lifetime, seconds (``int``) or a ``timedelta``;
                default one hour.
            max_calls: total number of calls allowed.
            models: allowed model patterns (``*`` wildcard), e.g.
                ``["gpt-4o*"]``. A single string is one pattern.
            paths: allowed upstream path patterns, e.g. ``["/v1/chat/*"]``.
            rpm: requests per minute.
            concurrency: maximum in-flight requests.
            max_tokens: per-request clamp of ``max_tokens``.
            token_budget: total tokens (prompt + completion) over the token's life.
            max_session_seconds: longest realtime (WebSocket) session, 1 … 86400
                seconds; the relay's own maximum applies when omitted, and the
                smaller of the two wins.
            ips: allowed client IPs or CIDRs.
            origins: allowed browser origins (``https://app.example.com``,
                ``https://*.example.com`` or ``*``).
            model_map: rewrite the requested model before forwarding.
            meta: free string metadata copied to the relay's logs.
            sub: end-user id (e.g. your user's primary key as a string).
            not_before: the token is not valid before this instant: an aware
                ``datetime``, a Unix timestamp, or a ``timedelta`` from now.
            jti: token id; default 16 random bytes, base64url (22 characters).
            extra: extension claims, names starting with ``x_`` (ignored by
                the relay, preserved by ``relayapi inspect``).

        Returns:
            The :class:`Token`.

        Raises:
            InvalidArgumentError: (a ``ValueError``) naming the first invalid
                argument; nothing is encrypted in that case. Also raised when
                the token would exceed 8192 bytes.
        """
        now = int(time.time())
        lifetime = _seconds("expires_in", expires_in)
        if lifetime <= 0:
            raise InvalidArgumentError("expires_in", "must be positive")
        claims: dict[str, Any] = {
            "jti": jti if jti is not None else secrets.token_urlsafe(16),
            "iat": now,
            "exp": now + lifetime,
            "provider": provider,
        }
        if not_before is not None:
            claims["nbf"] = self._instant("not_before", not_before, now)
        optional: dict[str, Any] = {
            "sub": sub,
            "api_key": api_key,
            "max_calls": max_calls,
            "models": _as_list("models", models),
            "paths": _as_list("paths", paths),
            "rpm": rpm,
            "concurrency": concurrency,
            "max_tokens": max_tokens,
            "token_budget": token_budget,
            "max_session_seconds": max_session_seconds,
            "ips": _as_list("ips", ips),
            "origins": _as_list("origins", origins),
            "model_map": _as_map("model_map", model_map),
            "meta": _as_map("meta", meta),
        }
        claims.update({k: v for k, v in optional.items() if v is not None})
        if extra is not None:
            if not isinstance(extra, Mapping):
                raise InvalidArgumentError("extra", "must be a dict of x_… claims")
            for name, value in extra.items():
                if not isinstance(name, str) or not name.startswith("x_") or len(name) < 3:
                    raise InvalidArgumentError("extra", f"claim name {name!r} must start with 'x_'")
                claims[name] = value
        try:
            validate_claims(claims)
        except ClaimError as exc:
            claim = exc.claim
            argument = "extra" if claim.startswith("x_") else _ARG_FOR_CLAIM.get(claim, claim)
            raise InvalidArgumentError(argument, exc.detail) from None
        return self._mint(claims)

    def _mint(self, claims: dict[str, Any]) -> Token:
        value = _jose.encode(claims, self._rai)
        size = len(value)
        if size > _jose.MAX_TOKEN_SIZE:
            raise InvalidArgumentError(
                "claims",
                f"the token would be {size} bytes, over the {_jose.MAX_TOKEN_SIZE}-byte limit: "
                "shorten models, paths, ips, origins, model_map, meta or extra",
            )
        return Token(
            value=value,
            id=claims["jti"],
            expires_at=datetime.fromtimestamp(claims["exp"], tz=timezone.utc),
            claims=MappingProxyType(claims),
        )

    @staticmethod
    def _instant(argument: str, value: Any, now: int) -> int:
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                raise InvalidArgumentError(
                    argument, "must be a timezone-aware datetime (e.g. datetime.now(timezone.utc))"
                )
            return int(value.timestamp())
        if isinstance(value, timedelta):
            return now + _seconds(argument, value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidArgumentError(
                argument, "must be an aware datetime, a Unix timestamp (int) or a timedelta"
            )
        return value

    # -------------------------------------------------------------------- URLs

    def base_url(self, token: TokenLike, flavor: str = "openai") -> str:
        """The base URL a vendor SDK expects, with the token in the path.

        ============  =============================================
        flavor        URL
        ============  =============================================
        ``openai``    ``{relay}/t/{token}/v1``
        ``anthropic`` ``{relay}/t/{token}`` (SDK appends ``/v1/…``)
        ``gemini``    ``{relay}/t/{token}`` (SDK appends ``/v1beta/…``)
        ============  =============================================

        Args:
            token: a :class:`Token` or a bare token string.
            flavor: ``"openai"`` (default), ``"anthropic"`` or ``"gemini"``.

        Raises:
            InvalidArgumentError: unknown flavor or not a token string.
        """
        if flavor not in FLAVORS:
            raise InvalidArgumentError("flavor", f"must be one of {', '.join(FLAVORS)}")
        url = f"{self.relay_url}/t/{_token_value(token)}"
        return f"{url}/v1" if flavor == "openai" else url

    def generate_url(self, flavor: str = "openai", **claims: Any) -> str:
        """Mint a token and return its base URL in one step.

        ``claims`` are the keyword arguments of :meth:`create_token`.
        """
        if flavor not in FLAVORS:
            raise InvalidArgumentError("flavor", f"must be one of {', '.join(FLAVORS)}")
        return self.base_url(self.create_token(**claims), flavor)

    # ------------------------------------------------------------------- admin

    def _resolve_admin_key(self, admin_key: Optional[str]) -> str:
        key = admin_key or self._admin_key or os.environ.get("RELAYAPI_ADMIN_KEY")
        if not key or not isinstance(key, str):
            raise InvalidArgumentError(
                "admin_key", "is required: pass admin_key= or set RELAYAPI_ADMIN_KEY"
            )
        return key

    def usage(self, token_id: TokenLike, *, admin_key: Optional[str] = None) -> dict[str, Any]:
        """Usage of a token: ``GET {relay}/admin/tokens/{jti}``.

        Args:
            token_id: the token id (``Token.id``) or the :class:`Token` itself.
            admin_key: the relay's admin key (default: constructor argument,
                then ``RELAYAPI_ADMIN_KEY``).

        Returns:
            The relay's JSON answer (calls, tokens used, limits, revoked, …).

        Raises:
            RelayAPIError: ``NotFoundError`` for an unknown id,
                ``AuthenticationError`` for a wrong admin key, etc., with
                ``.status`` and ``.code``.
        """
        jti = _token_id(token_id)
        result = _admin.request_json(
            "GET",
            f"{self.relay_url}/admin/tokens/{jti}",
            admin_key=self._resolve_admin_key(admin_key),
            timeout=self.timeout,
        )
        return result if isinstance(result, dict) else {"result": result}

    def revoke(self, token_id: TokenLike, *, admin_key: Optional[str] = None) -> dict[str, Any]:
        """Revoke a token: ``POST {relay}/admin/tokens/{jti}/revoke``.

        Later requests with the token answer ``401 token_revoked``.

        Returns:
            The relay's JSON answer (empty dict when it sent no body).

        Raises:
            RelayAPIError: as for :meth:`usage`.
        """
        jti = _token_id(token_id)
        result = _admin.request_json(
            "POST",
            f"{self.relay_url}/admin/tokens/{jti}/revoke",
            admin_key=self._resolve_admin_key(admin_key),
            timeout=self.timeout,
        )
        if result is None:
            return {}
        return result if isinstance(result, dict) else {"result": result}

    # ------------------------------------------------------------------ openai

    def openai_client(self, token: TokenLike, **kwargs: Any) -> openai.OpenAI:
        """An ``openai.OpenAI`` client pointed at the relay with this token.

        Needs the ``openai`` package (``pip install openai``, or the SDK's
        ``[openai]`` extra). ``kwargs`` go to
        ``openai.OpenAI`` (``timeout``, ``max_retries``, …).
        """
        openai_mod = _import_openai()
        client: openai.OpenAI = openai_mod.OpenAI(**self._openai_kwargs(token, kwargs))
        return client

    def async_openai_client(self, token: TokenLike, **kwargs: Any) -> openai.AsyncOpenAI:
        """An ``openai.AsyncOpenAI`` client pointed at the relay (see :meth:`openai_client`)."""
        openai_mod = _import_openai()
        client: openai.AsyncOpenAI = openai_mod.AsyncOpenAI(**self._openai_kwargs(token, kwargs))
        return client

    def _openai_kwargs(self, token: TokenLike, kwargs: dict[str, Any]) -> dict[str, Any]:
        value = _token_value(token)
        options = dict(kwargs)
        options.setdefault("base_url", self.base_url(value, "openai"))
        # The token travels in the path (checked first by the relay); sending the
        # same token as the API key keeps the Authorization header consistent.
        options.setdefault("api_key", value)
        return options


def _import_openai() -> Any:
    try:
        import openai
    except ImportError:
        raise ImportError("this needs the openai package: pip install openai") from None
    return openai
