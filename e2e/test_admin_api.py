"""The admin API and the probes, validated against docs/openapi.yaml.

Every response checked here must have a status the spec documents for the
route and a body that validates against the spec's schema for it (the
schemas forbid unknown fields, so a field added, renamed or removed on
either side fails). Tokens go through the real relay first.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import httpx
import pytest
import yaml
from openapi_schema_validator import OAS31Validator, oas31_format_checker
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from relaytest import Relay, expected_completion, relay_error, wait_until

SPEC_PATH = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"
SPEC = yaml.safe_load(SPEC_PATH.read_text())
SPEC_URI = "urn:relayapi:openapi"
REGISTRY = Registry().with_resource(SPEC_URI, Resource.from_contents(SPEC, default_specification=DRAFT202012))

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}

# (method, route, status) triples validated so far, for the coverage check.
CHECKED: set[tuple[str, str, str]] = set()


def _pointer(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def conform(resp: httpx.Response, method: str, route: str) -> dict:
    """Assert resp is documented for (method, route) and its JSON body
    validates against the spec; return the body."""
    op = SPEC["paths"][route][method.lower()]
    status = str(resp.status_code)
    assert status in op["responses"], f"{method} {route}: undocumented status {status}: {resp.text}"
    response_ptr = _pointer("paths", route, method.lower(), "responses", status)
    ref = op["responses"][status].get("$ref")
    if ref:
        response_ptr = ref[1:]
    assert resp.headers["content-type"].startswith("application/json"), resp.headers
    body = resp.json()
    schema = {"$ref": f"{SPEC_URI}#{response_ptr}/content/application~1json/schema"}
    validator = OAS31Validator(schema, registry=REGISTRY, format_checker=oas31_format_checker)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, f"{method} {route} {status} breaks docs/openapi.yaml:\n" + "\n".join(
        f"  at {list(e.absolute_path)}: {e.message}" for e in errors) + f"\nbody: {resp.text}"
    CHECKED.add((method.upper(), route, status))
    return body


@pytest.fixture(scope="module")
def admin(relay, admin_key):
    with httpx.Client(base_url=relay.url, headers={"Authorization": f"Bearer {admin_key}"}, timeout=10) as c:
        yield c


def new_jti() -> str:
    return "e2e-admin-" + secrets.token_hex(8)


def relay_calls(relay, token: str, n: int) -> None:
    for _ in range(n):
        r = httpx.post(f"{relay.url}/t/{token}/v1/chat/completions", json=CHAT, timeout=30)
        assert r.status_code == 200, r.text


def test_spec_is_valid_openapi():
    validate_spec(SPEC)


def test_health_and_ready_match_the_spec(relay):
    conform(httpx.get(f"{relay.url}/health"), "GET", "/health")
    conform(httpx.get(f"{relay.url}/ready"), "GET", "/ready")


def test_token_usage_counts_relayed_calls(relay, admin, mint):
    sub = "e2e-user-" + secrets.token_hex(4)
    m = mint(jti=new_jti(), sub=sub, max_calls=5)
    relay_calls(relay, m.token, 3)
    u = conform(admin.get(f"/admin/tokens/{m.claims['jti']}"), "GET", "/admin/tokens/{jti}")
    assert u["jti"] == m.claims["jti"] and u["sub"] == sub, u
    assert u["calls"] == 3 and u["max_calls"] == 5 and u["token_budget"] is None, u
    assert u["revoked"] is False and u["last_error"] is None, u
    assert u["first_seen"] and u["last_seen"] and u["expires_at"], u
    assert u["tokens_used"] == u["prompt_tokens"] + u["completion_tokens"], u
    assert u["completion_tokens"] == 3 * expected_completion("hi")[1], u
    for secret in (m.token, m.api_key):
        assert secret not in json.dumps(u)


def test_unknown_token_is_not_found(admin):
    r = admin.get(f"/admin/tokens/{new_jti()}")
    assert r.status_code == 404
    assert conform(r, "GET", "/admin/tokens/{jti}")["error"]["code"] == "not_found"


def test_token_listing_by_sub_pages_with_a_cursor(relay, admin, mint):
    sub = "e2e-pager-" + secrets.token_hex(4)
    jtis = sorted(new_jti() for _ in range(3))
    for jti in jtis:
        relay_calls(relay, mint(jti=jti, sub=sub, max_calls=2).token, 1)
    first = conform(admin.get("/admin/tokens", params={"sub": sub, "limit": 2}), "GET", "/admin/tokens")
    assert [u["jti"] for u in first["data"]] == jtis[:2] and first["next_cursor"], first
    second = conform(admin.get("/admin/tokens", params={"sub": sub, "limit": 2, "cursor": first["next_cursor"]}),
                     "GET", "/admin/tokens")
    assert [u["jti"] for u in second["data"]] == jtis[2:] and second["next_cursor"] is None, second
    everyone = conform(admin.get("/admin/tokens"), "GET", "/admin/tokens")
    assert everyone["data"], everyone


def test_revoke_refuses_the_next_call(relay, admin, mint):
    m = mint(jti=new_jti(), max_calls=5)
    relay_calls(relay, m.token, 1)
    jti = m.claims["jti"]
    body = conform(admin.post(f"/admin/tokens/{jti}/revoke"), "POST", "/admin/tokens/{jti}/revoke")
    assert body == {"jti": jti, "revoked": True}
    r = httpx.post(f"{relay.url}/t/{m.token}/v1/chat/completions", json=CHAT)
    assert r.status_code == 401 and relay_error(r)["code"] == "token_revoked", r.text
    assert conform(admin.get(f"/admin/tokens/{jti}"), "GET", "/admin/tokens/{jti}")["revoked"] is True


def test_revoking_an_unseen_token_is_reported_with_unknown_times(admin):
    jti = new_jti()
    conform(admin.post(f"/admin/tokens/{jti}/revoke"), "POST", "/admin/tokens/{jti}/revoke")
    u = conform(admin.get(f"/admin/tokens/{jti}"), "GET", "/admin/tokens/{jti}")
    assert u["revoked"] is True and u["calls"] == 0 and u["first_seen"] is None, u


def test_request_log_has_one_line_per_relayed_call(relay, admin, mint):
    """Fails until the relay writes the request log to the store."""
    m = mint(jti=new_jti(), sub="e2e-log", max_calls=5)
    jti = m.claims["jti"]
    relay_calls(relay, m.token, 3)

    def logged():
        body = conform(admin.get("/admin/requests", params={"jti": jti}), "GET", "/admin/requests")
        return body if len(body["data"]) >= 3 else None

    try:
        body = wait_until(logged, 5, "3 request-log lines for the token")
    except AssertionError:
        body = conform(admin.get("/admin/requests", params={"jti": jti}), "GET", "/admin/requests")
        raise AssertionError(f"request log for {jti} has {len(body['data'])} lines after 3 relayed calls, want 3")
    assert len(body["data"]) == 3 and body["next_cursor"] is None, body
    for rec in body["data"]:
        assert rec["jti"] == jti and rec["sub"] == "e2e-log" and rec["provider"] == "mock", rec
        assert rec["status"] == 200 and rec["path"] == "/v1/chat/completions" and rec["error_code"] is None, rec
    times = [rec["time"] for rec in body["data"]]
    assert times == sorted(times, reverse=True), "not newest first"
    for secret in (m.token, m.api_key):
        assert secret not in json.dumps(body)

    first = conform(admin.get("/admin/requests", params={"jti": jti, "limit": 2}), "GET", "/admin/requests")
    assert len(first["data"]) == 2 and first["next_cursor"], first
    rest = conform(admin.get("/admin/requests", params={"jti": jti, "limit": 2, "cursor": first["next_cursor"]}),
                   "GET", "/admin/requests")
    assert len(rest["data"]) == 1 and rest["next_cursor"] is None, rest
    ids = [r["request_id"] for r in first["data"] + rest["data"]]
    assert ids == [r["request_id"] for r in body["data"]], "pages do not add up to the log"


def test_request_log_answers_in_the_spec_shape(admin):
    """Holds whether or not the relay writes the log yet."""
    conform(admin.get("/admin/requests", params={"limit": 5}), "GET", "/admin/requests")
    conform(admin.get("/admin/requests", params={"jti": new_jti()}), "GET", "/admin/requests")


ROUTES = [("GET", "/admin/tokens", "/admin/tokens"),
          ("GET", "/admin/tokens/{jti}", "/admin/tokens/e2e-admin-0000000000000000"),
          ("POST", "/admin/tokens/{jti}/revoke", "/admin/tokens/e2e-admin-0000000000000000/revoke"),
          ("GET", "/admin/requests", "/admin/requests")]


@pytest.mark.parametrize("auth", [None, "Bearer wrong-key", "Basic {key}", "{key}", "Bearer {key}x", "Bearer"])
@pytest.mark.parametrize("method,route,path", ROUTES, ids=[r[1] for r in ROUTES])
def test_every_admin_route_refuses_a_missing_or_wrong_key(relay, admin_key, auth, method, route, path):
    headers = {"Authorization": auth.format(key=admin_key)} if auth else {}
    r = httpx.request(method, relay.url + path, headers=headers)
    assert r.status_code == 401, r.text
    assert conform(r, method, route)["error"]["code"] == "unauthorized"
    assert admin_key not in r.text


@pytest.mark.parametrize("route", ["/admin/tokens", "/admin/requests"])
@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"limit": "ten"}, {"cursor": "!!!"}])
def test_bad_limit_or_cursor_is_bad_request(admin, route, params):
    r = admin.get(route, params=params)
    assert r.status_code == 400, r.text
    assert conform(r, "GET", route)["error"]["code"] == "bad_request"


@pytest.fixture(scope="module")
def relay_without_admin(relay_bin, keys, relay_config, tmp_path_factory):
    d = tmp_path_factory.mktemp("relay-noadmin")
    r = Relay(relay_bin, d, dict(relay_config, admin={"key": ""}), [keys.aes], d / "data").start()
    yield r
    r.stop()


@pytest.mark.parametrize("method,route,path", ROUTES, ids=[r[1] for r in ROUTES])
def test_empty_admin_key_disables_every_route(relay_without_admin, admin_key, method, route, path):
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": f"Bearer {admin_key}"}):
        r = httpx.request(method, relay_without_admin.url + path, headers=headers)
        assert r.status_code == 404, r.text
        assert conform(r, method, route)["error"]["code"] == "not_found"


def test_every_admin_operation_was_validated_with_a_success():
    """Keeps this file and the spec in step: each admin operation of the
    spec got a 200 validated above (runs last in this file)."""
    ops = {(m.upper(), p) for p, item in SPEC["paths"].items() for m in item if p.startswith("/admin/")}
    missing = {op for op in ops if (*op, "200") not in CHECKED}
    assert not missing, f"admin operations never validated with 200: {sorted(missing)}"
