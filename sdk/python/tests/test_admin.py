"""usage() / revoke() against a local stand-in for the relay's admin API (DESIGN.md §4).

The stand-in is a real ``http.server`` on 127.0.0.1 that implements the
contract: ``GET /admin/tokens/{jti}``, ``POST /admin/tokens/{jti}/revoke``,
``Authorization: Bearer <admin key>``, errors as ``{"error": {...}}``.
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import aes_rai
from relayapi import (
    AuthenticationError,
    BadRequestError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RelayAPI,
    RelayAPIError,
    RelayConnectionError,
    ServerError,
)

ADMIN_KEY = "admin-test-key"


class FakeAdmin(BaseHTTPRequestHandler):
    tokens: dict = {}
    requests: list = []
    forced: dict = {}  # jti -> (status, body bytes, headers)

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _send(self, status, body=None, headers=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status, code, message):
        self._send(status, {"error": {"message": message, "type": "relayapi_error", "code": code}})

    def _route(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        FakeAdmin.requests.append(
            {
                "method": method,
                "path": self.path,
                "auth": self.headers.get("Authorization"),
                "body": body,
            }
        )
        prefix = "/base/admin/tokens/"
        if not self.path.startswith(prefix):
            return self._error(404, "not_found", "no such route")
        if self.headers.get("Authorization") != f"Bearer {ADMIN_KEY}":
            return self._error(401, "unauthorized", "admin key missing or wrong")
        rest = self.path[len(prefix) :]
        jti, _, action = rest.partition("/")
        if jti in FakeAdmin.forced:
            status, raw, headers = FakeAdmin.forced[jti]
            return self._send(status, raw=raw, headers=headers)
        if jti not in FakeAdmin.tokens:
            return self._error(404, "not_found", "unknown token")
        if method == "GET" and action == "":
            return self._send(200, FakeAdmin.tokens[jti])
        if method == "POST" and action == "revoke":
            FakeAdmin.tokens[jti]["revoked"] = True
            return self._send(200, {"jti": jti, "revoked": True})
        return self._error(405, "method_not_allowed", "no")

    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")


@pytest.fixture(scope="module")
def _server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeAdmin)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/base"
    server.shutdown()
    server.server_close()


@pytest.fixture
def admin_server(_server):
    FakeAdmin.tokens = {}
    FakeAdmin.requests = []
    FakeAdmin.forced = {}
    return _server


@pytest.fixture
def relay(admin_server, monkeypatch):
    monkeypatch.delenv("RELAYAPI_ADMIN_KEY", raising=False)
    return RelayAPI(aes_rai(), relay_url=admin_server, admin_key=ADMIN_KEY)


def test_usage_and_revoke(relay):
    token = relay.create_token(max_calls=10)
    FakeAdmin.tokens[token.id] = {"jti": token.id, "calls": 3, "max_calls": 10, "revoked": False}
    assert relay.usage(token.id) == FakeAdmin.tokens[token.id]
    assert relay.usage(token)["calls"] == 3  # a Token works too
    assert relay.revoke(token) == {"jti": token.id, "revoked": True}
    assert relay.usage(token.id)["revoked"] is True
    methods = [(r["method"], r["path"]) for r in FakeAdmin.requests]
    assert methods == [
        ("GET", f"/base/admin/tokens/{token.id}"),
        ("GET", f"/base/admin/tokens/{token.id}"),
        ("POST", f"/base/admin/tokens/{token.id}/revoke"),
        ("GET", f"/base/admin/tokens/{token.id}"),
    ]
    assert all(r["auth"] == f"Bearer {ADMIN_KEY}" for r in FakeAdmin.requests)


def test_admin_key_from_argument_and_environment(admin_server, monkeypatch):
    monkeypatch.delenv("RELAYAPI_ADMIN_KEY", raising=False)
    relay = RelayAPI(aes_rai(), relay_url=admin_server)
    FakeAdmin.tokens["token-id-0123456789"] = {"calls": 1}
    with pytest.raises(InvalidArgumentError) as info:
        relay.usage("token-id-0123456789")
    assert info.value.argument == "admin_key"
    assert relay.usage("token-id-0123456789", admin_key=ADMIN_KEY) == {"calls": 1}
    monkeypatch.setenv("RELAYAPI_ADMIN_KEY", ADMIN_KEY)
    assert relay.usage("token-id-0123456789") == {"calls": 1}


def test_relay_url_defaults_to_the_rai_server_section(admin_server, monkeypatch):
    port = int(admin_server.rsplit(":", 1)[1].split("/")[0])
    data = aes_rai()
    data["server"] = {"host": "127.0.0.1", "port": port, "base_path": "/base"}
    relay = RelayAPI(data, admin_key=ADMIN_KEY)
    FakeAdmin.tokens["token-id-0123456789"] = {"calls": 2}
    assert relay.usage("token-id-0123456789") == {"calls": 2}


def test_wrong_admin_key(relay):
    with pytest.raises(AuthenticationError) as info:
        relay.usage("token-id-0123456789", admin_key="wrong")
    err = info.value
    assert err.status == 401
    assert err.code == "unauthorized"
    assert err.message == "admin key missing or wrong"
    assert "wrong" not in str(err).replace("missing or wrong", "")  # key not echoed
    assert isinstance(err, RelayAPIError)


def test_unknown_token_is_not_found(relay):
    with pytest.raises(NotFoundError) as info:
        relay.revoke("unknown-token-id-000")
    assert info.value.status == 404
    assert info.value.code == "not_found"


@pytest.mark.parametrize(
    ("status", "cls", "headers"),
    [
        (400, BadRequestError, {}),
        (403, PermissionDeniedError, {}),
        (429, RateLimitError, {"Retry-After": "7"}),
        (500, ServerError, {}),
        (503, ServerError, {}),
        (418, RelayAPIError, {}),
    ],
)
def test_error_mapping(relay, status, cls, headers):
    body = json.dumps({"error": {"message": "nope", "type": "relayapi_error", "code": "x_code"}})
    FakeAdmin.forced["forced-token-id-0001"] = (status, body.encode(), headers)
    with pytest.raises(cls) as info:
        relay.usage("forced-token-id-0001")
    assert info.value.status == status
    assert info.value.code == "x_code"
    assert info.value.message == "nope"
    assert str(info.value) == f"HTTP {status} x_code: nope"
    if cls is RateLimitError:
        assert info.value.retry_after == 7.0


def test_non_json_error_body(relay):
    FakeAdmin.forced["forced-token-id-0002"] = (502, b"<html>bad gateway</html>", {})
    with pytest.raises(ServerError) as info:
        relay.usage("forced-token-id-0002")
    assert info.value.status == 502
    assert info.value.code is None
    assert "bad gateway" in info.value.body


def test_empty_success_body(relay):
    FakeAdmin.forced["forced-token-id-0003"] = (204, b"", {})
    assert relay.revoke("forced-token-id-0003") == {}


def test_invalid_token_id_is_refused_before_any_request(relay):
    for bad in ("short", "../../etc/passwd-xxxxxxxx", "a" * 129, None):
        with pytest.raises(InvalidArgumentError) as info:
            relay.usage(bad)  # type: ignore[arg-type]
        assert info.value.argument == "token_id"
    assert FakeAdmin.requests == []


def test_unreachable_relay():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    relay = RelayAPI(aes_rai(), relay_url=f"http://127.0.0.1:{port}", admin_key="k", timeout=2)
    with pytest.raises(RelayConnectionError) as info:
        relay.usage("token-id-0123456789")
    assert info.value.status is None
