"""Runs last (file order): no secret used anywhere in the suite may appear in
any relay log line (debug level), metrics page or error body."""

import httpx

from relaytest import LOG_FILES, MINTED


def secrets_used(admin_key):
    found = {admin_key}
    for m in MINTED:
        found.add(m.token)
        found.add(m.api_key)
        # A token prefix long enough to be a leak, not a coincidence.
        found.add(m.token[:48])
    return found


def test_no_secret_in_any_relay_log(admin_key):
    assert len(MINTED) > 50, "the suite should have minted many tokens by now"
    logs = [p for p in LOG_FILES if p.name.startswith("relay")]
    assert logs, "no relay log was written"
    text = "\n".join(p.read_text(errors="replace") for p in logs if p.exists())
    assert '"level":"DEBUG"' in text, "debug logging was not on"
    leaks = [s[:12] + "…" for s in secrets_used(admin_key) if s and s in text]
    assert not leaks, f"secrets found in relay logs: {leaks}"


def test_no_secret_in_metrics_or_error_bodies(relay, admin_key):
    page = httpx.get(f"{relay.url}/metrics").text
    assert "relayapi_requests_total" in page
    bad = MINTED[0].token[:-4] + "AAAA"
    err = httpx.post(f"{relay.url}/t/{bad}/v1/chat/completions", json={"model": "m"}).text
    for s in secrets_used(admin_key) | {bad}:
        assert s not in page, "a secret is in /metrics"
        assert s not in err, "a secret is in an error body"
