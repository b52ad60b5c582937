"""Session fixtures: build the binaries, start the mock provider and the relay.

Environment:
  RELAYAPI_BIN, MOCKPROVIDER_BIN  use these binaries instead of `go build`
  RELAYAPI_SERVER_DIR             the Go module to build from (default ../server)
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from relaytest import (
    MOCK_CONTROLS,
    RUNNING,
    Keys,
    Minted,
    Mock,
    Relay,
    build_binaries,
    free_port,
    keygen,
    mint_token,
)


@pytest.fixture(scope="session")
def binaries(tmp_path_factory) -> tuple[Path, Path]:
    return build_binaries(tmp_path_factory.mktemp("bin"))


@pytest.fixture(scope="session")
def relay_bin(binaries) -> Path:
    return binaries[0]


@pytest.fixture(scope="session")
def mock(binaries, tmp_path_factory):
    m = Mock(binaries[1], tmp_path_factory.mktemp("mock"))
    yield m
    m.stop()


@pytest.fixture(scope="session")
def keys(relay_bin, tmp_path_factory) -> Keys:
    return keygen(relay_bin, tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="session")
def admin_key() -> str:
    return "adm_" + secrets.token_hex(16)


@pytest.fixture(scope="session")
def relay_config(mock, admin_key) -> dict:
    return {
        # The contract part (DESIGN.md §6) ...
        "providers": {
            # The mock's test controls (x-mock-* headers) cross the relay
            # because the operator allows them, like any extra header.
            "mock": {"base_url": mock.url, "auth": "bearer", "allow_request_headers": MOCK_CONTROLS},
            "mockanthropic": {"base_url": mock.url, "auth": "x-api-key", "allow_request_headers": MOCK_CONTROLS},
            # Gemini's native API (google-genai): the key goes upstream as x-goog-api-key.
            "mockgemini": {"base_url": mock.url, "auth": "x-goog-api-key", "apis": ["gemini"],
                           "allow_request_headers": MOCK_CONTROLS},
            "mockazure": {"base_url": mock.url, "auth": "api-key", "apis": ["azure", "openai"],
                          "allow_request_headers": MOCK_CONTROLS},
            # Nothing listens here: upstream_unreachable and the refund.
            "deadmock": {"base_url": f"http://127.0.0.1:{free_port()}", "auth": "bearer",
                         "allow_request_headers": MOCK_CONTROLS},
        },
        "admin": {"key": admin_key},
        "store": {"driver": "sqlite", "url": ""},
        # ... plus: no clock skew allowance, so expiry is testable in ~1 s,
        # and no per-IP rate limit (every request comes from 127.0.0.1; the
        # concurrency test is about max_calls, not about rate limiting).
        "token": {"leeway": "0s"},
        "limits": {"per_ip_rps": 0},
        # Retries keep their default count; a short backoff keeps the suite fast.
        "upstream": {"retry_base_delay": "10ms"},
        # Debug logging on: the secrets check at the end must hold even then.
        "log": {"level": "debug", "format": "json"},
    }


@pytest.fixture(scope="session")
def relay_factory(relay_bin, keys, relay_config, tmp_path_factory):
    """Make a relay with its own work and data dirs (not started), on the
    session config or on the config given (e.g. a copy with other settings)."""
    made: list[Relay] = []

    def make(config: dict | None = None) -> Relay:
        d = tmp_path_factory.mktemp("relay")
        r = Relay(relay_bin, d, relay_config if config is None else config, [keys.aes, keys.ecc_relay], d / "data")
        made.append(r)
        return r

    yield make
    for r in made:
        if r.proc is not None and r.proc.alive():
            r.stop()


@pytest.fixture(scope="session")
def relay(relay_factory) -> Relay:
    """The shared relay, started once for the session."""
    return relay_factory().start()


@pytest.fixture(scope="session")
def mint(relay_bin, keys):
    """mint(**claims) -> Minted: a token for provider "mock" with a fresh
    upstream key (sk-real-…), so the mock's per-key counters isolate tests.
    method="ecc" mints with the ecc backend key; rai=PATH with any key file."""

    def _mint(method: str = "aes", rai: Path | None = None, **claims) -> Minted:
        if rai is None:
            rai = keys.aes if method == "aes" else keys.ecc
        return mint_token(relay_bin, rai, **claims)

    return _mint


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and rep.when in ("setup", "call"):
        for p in list(RUNNING):
            rep.sections.append((f"{p.name} log (last lines of {p.log_path})", p.log_tail()))


def pytest_report_header(config):
    import anthropic
    import openai
    from google import genai

    return f"openai {openai.__version__}, anthropic {anthropic.__version__}, google-genai {genai.__version__}"

