"""A token's hard `token_budget`, driven by the clients a frontend developer
really uses: openai-python, the anthropic SDK, google-genai (Gemini's native
API) and openai-node, through the real relay, in front of the mock provider,
which behaves like the real ones (gzip answers, model output limits, n
choices, stored context, reasoning models refusing max_tokens).

The same cases as the Go handler tests in server/internal/server/budget_test.go.
Every test ends with the accounting invariant: once the token's calls have
settled (`tokens_reserved` 0 in `GET /admin/tokens/{jti}`), its
`tokens_used` is at least what the mock produced for every request made with
the token's upstream key, and at most the budget plus one call's clamp.

Nothing here may leave the machine: every socket this process opens or name
it resolves during a test must be loopback (an audit hook watches).
"""

from __future__ import annotations

import copy
import ipaddress
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from relaytest import (
    Minted,
    anthropic_client,
    expected_completion,
    openai_client,
    wait_until,
)

PROMPT = "Write a long story about a relay"
MESSAGES = [{"role": "user", "content": PROMPT}]
CHAT_MODEL = "gpt-4o-mini"       # output limit 16,384 (catalog and mock)
CLAUDE_MODEL = "claude-sonnet-4-6"  # output limit 128,000
GEMINI_MODEL = "gemini-2.0-flash"

E2E_DIR = Path(__file__).resolve().parent
NODE_SCRIPT = E2E_DIR / "node" / "stream_loop.mjs"
NODE_OPENAI = E2E_DIR / "browser" / "node_modules" / "openai" / "package.json"


# ---------------------------------------------------------------------------
# Nothing leaves the machine: every connect() and name lookup of this process
# during a test is recorded and must be loopback (google-genai must not reach
# for credentials, a metadata server or discovery documents).

_NET: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if _NET is None:
        return
    if event == "socket.connect" and isinstance(args[1], tuple):
        _NET.append(str(args[1][0]))
    elif event == "socket.getaddrinfo":
        host = args[0]
        _NET.append(host.decode() if isinstance(host, bytes) else str(host))


sys.addaudithook(_audit)


def _loopback(host: str) -> bool:
    if host in ("localhost", "None"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def only_loopback():
    global _NET
    _NET = []
    try:
        yield
        outside = sorted({h for h in _NET if not _loopback(h)})
        assert not outside, f"the test process reached beyond loopback: {outside}"
    finally:
        _NET = None


# ---------------------------------------------------------------------------
# The admin API's view of a token, and the invariant


def new_jti() -> str:
    return "e2e-budget-" + secrets.token_hex(8)


class Ledger:
    """A relay's admin API for budget checks."""

    def __init__(self, relay_url: str, admin_key: str):
        self.http = httpx.Client(base_url=relay_url, headers={"Authorization": f"Bearer {admin_key}"}, timeout=10)

    def usage(self, jti: str, unknown_ok: bool = False) -> dict:
        """GET /admin/tokens/{jti}. With unknown_ok, a token the relay has
        no record of (every call refused before admission) reads as unused."""
        r = self.http.get(f"/admin/tokens/{jti}")
        if unknown_ok and r.status_code == 404:
            assert r.json()["error"]["code"] == "not_found", r.text
            return {"tokens_used": 0, "prompt_tokens": 0, "completion_tokens": 0, "tokens_reserved": 0}
        assert r.status_code == 200, r.text
        return r.json()

    def settled(self, jti: str, unknown_ok: bool = False) -> dict:
        """The token's usage once no call of it holds a reservation."""
        return wait_until(lambda: (u := self.usage(jti, unknown_ok))["tokens_reserved"] == 0 and u, 15,
                          f"the calls of {jti} to settle")

    def log(self, jti: str) -> list[dict]:
        r = self.http.get("/admin/requests", params={"jti": jti})
        assert r.status_code == 200, r.text
        return r.json()["data"]

    def wait_log(self, jti: str, n: int) -> list[dict]:
        """The request log of the token once it holds n entries (it is
        written behind the answers)."""
        def full():
            entries = self.log(jti)
            assert len(entries) <= n, entries
            return len(entries) == n and entries

        return wait_until(full, 10, f"{n} request log entries for {jti}")


@pytest.fixture(scope="module")
def ledger(relay, admin_key):
    led = Ledger(relay.url, admin_key)
    yield led
    led.http.close()


def produced(mock, minted: Minted) -> tuple[int, list[dict]]:
    """What the mock produced (would bill) for every request with the token's
    upstream key, once each has an answer, and those requests."""
    def answered():
        reqs = mock.requests(key=minted.api_key)
        return all(r["status"] for r in reqs) and reqs

    reqs = mock.requests(key=minted.api_key)
    if reqs:
        reqs = wait_until(answered, 10, "the mock to answer every request of the token")
    assert len(reqs) == mock.count(minted.api_key), "the mock's record dropped requests of this token"
    return sum(r["produced_prompt_tokens"] + r["produced_completion_tokens"] for r in reqs), reqs


def check_accounting(ledger: Ledger, mock, minted: Minted, budget: int, clamp: int, unknown_ok: bool = False) -> int:
    """The invariant: produced ≤ tokens_used ≤ budget + one call's clamp."""
    u = ledger.settled(minted.claims["jti"], unknown_ok)
    used = u["tokens_used"]
    made, _ = produced(mock, minted)
    assert used == u["prompt_tokens"] + u["completion_tokens"], u
    assert used >= made, f"charged {used} tokens, the provider produced {made}: {u}"
    assert used <= budget + clamp, f"charged {used} tokens on a budget of {budget} (one call's clamp is {clamp}): {u}"
    return used


def header(rec: dict, name: str) -> list[str] | None:
    """A header the mock recorded (Go canonical keys), case-insensitively."""
    return {k.lower(): v for k, v in rec["headers"].items()}.get(name.lower())


def assert_token_stayed_home(mock, minted: Minted) -> None:
    assert minted.token not in json.dumps(mock.requests()), "the relay token reached the provider"


# ---------------------------------------------------------------------------
# 1. Compressed answers are metered


def test_compressed_answers_are_metered(relay, mock, mint, ledger):
    """openai-python asks for `gzip, deflate` (httpx's default); the relay asks
    the provider for gzip alone (the one coding it reads), meters the
    compressed answers, and refuses calls once the budget is used."""
    m = mint(jti=new_jti(), token_budget=1000)
    c = openai_client(relay.url, m)
    ok = refused = 0
    for _ in range(10):
        try:
            raw = c.chat.completions.with_raw_response.create(
                model=CHAT_MODEL, messages=MESSAGES, extra_headers={"x-mock-chunks": "500"})
        except openai.RateLimitError as e:
            assert e.status_code == 429 and e.code == "budget_exceeded", e.body
            refused += 1
            continue
        ok += 1
        assert raw.headers.get("content-encoding") == "gzip", "the client asked for gzip: the answer stays compressed"
        r = raw.parse()
        assert r.choices[0].message.content.startswith(expected_completion(PROMPT)[0])
    assert 1 <= ok <= 2, f"{ok} calls of ~500 tokens passed a budget of 1,000"
    assert ok + refused == 10
    reqs = mock.requests(key=m.api_key)
    assert len(reqs) == ok, "refused calls must not reach the provider"
    for rec in reqs:
        assert header(rec, "Accept-Encoding") == ["gzip"], rec["headers"]
    check_accounting(ledger, mock, m, 1000, 0)


# ---------------------------------------------------------------------------
# 2. An answer over 8 MiB is metered

HUGE = 10 << 20  # 10,485,760 bytes of content: 2,621,440 tokens


def test_an_answer_over_8_mib_is_metered(relay_factory, relay_config, mock, mint, admin_key):
    """A 10 MiB answer (gzip and identity) on a model the catalog does not
    know is charged at least the ~2.6M tokens it reports."""
    cfg = copy.deepcopy(relay_config)
    cfg["accounting"] = {"output_reserve": 1 << 30, "unknown_model_output": 1 << 30}
    r = relay_factory(cfg).start()
    led = Ledger(r.url, admin_key)
    try:
        m = mint(jti=new_jti(), token_budget=1 << 30)
        c = openai_client(r.url, m, timeout=120)
        for encoding in (None, "identity"):  # None: httpx's `gzip, deflate`
            headers = {"x-mock-huge-bytes": str(HUGE)}
            if encoding:
                headers["Accept-Encoding"] = encoding
            raw = c.chat.completions.with_raw_response.create(model="huge-model", messages=MESSAGES,
                                                             extra_headers=headers)
            assert raw.headers.get("content-encoding") == ("gzip" if encoding is None else None)
            resp = raw.parse()
            assert len(resp.choices[0].message.content) == HUGE
            assert resp.usage.completion_tokens == HUGE // 4
        made, reqs = produced(mock, m)
        assert [header(q, "Accept-Encoding") for q in reqs] == [["gzip"], ["identity"]]
        used = check_accounting(led, mock, m, 1 << 30, 0)
        assert used >= 2 * HUGE // 4, f"two answers of {HUGE} bytes charged {used} tokens"
    finally:
        led.http.close()
        r.stop()


# ---------------------------------------------------------------------------
# 3. Gemini's native API (google-genai)


def test_gemini_native_calls_are_clamped_and_metered(relay, mock, mint, ledger):
    """google-genai (token as x-goog-api-key, base_url = the relay): the token's
    max_tokens 50 clamps generationConfig.maxOutputTokens; generate_content
    and generate_content_stream run until the budget of 500 is used, then
    the relay's 429 reaches the SDK as ClientError."""
    m = mint(provider="mockgemini", jti=new_jti(), token_budget=500, max_tokens=50)
    client = genai.Client(
        api_key=m.token, vertexai=False,
        http_options=genai_types.HttpOptions(base_url=relay.url, timeout=30_000,
                                             headers={"x-mock-chunks": "8000"}),
    )
    config = genai_types.GenerateContentConfig(max_output_tokens=8192)
    done: list[str] = []
    refusal = None
    for i in range(20):
        try:
            if i % 2 == 0:
                resp = client.models.generate_content(model=GEMINI_MODEL, contents=PROMPT, config=config)
                assert resp.text and resp.usage_metadata.candidates_token_count <= 50, resp
                done.append("generateContent")
            else:
                chunks = list(client.models.generate_content_stream(model=GEMINI_MODEL, contents=PROMPT, config=config))
                assert chunks and "".join(ch.text or "" for ch in chunks)
                done.append("streamGenerateContent")
        except genai_errors.ClientError as e:
            refusal = e
            break
    assert refusal is not None, f"{len(done)} calls of up to 50 tokens never used a budget of 500"
    assert refusal.code == 429, refusal
    assert refusal.details["error"]["code"] == "budget_exceeded", refusal.details
    assert len(done) >= 2, f"the budget ran out after {done}: both methods must have run"

    reqs = mock.requests(key=m.api_key)
    assert len(reqs) == len(done), "only the SDK's own calls reach the provider (and the refused one does not)"
    for i, (rec, method) in enumerate(zip(reqs, done)):
        assert rec["path"].endswith(f"/models/{GEMINI_MODEL}:{method}"), rec["path"]
        assert (rec["query"] == "alt=sse") == (method == "streamGenerateContent"), rec["query"]
        assert header(rec, "X-Goog-Api-Key") == [m.api_key] and header(rec, "Authorization") is None
        got = rec["caps"]["maxOutputTokens"]
        assert 1 <= got <= 50 and (i > 0 or got == 50), f"call {i} forwarded maxOutputTokens {rec['caps']}"
    assert_token_stayed_home(mock, m)
    # The request log (written behind the answers) has every call, the refused one last.
    log = ledger.wait_log(m.claims["jti"], len(done) + 1)
    assert [e["error_code"] for e in log].count("budget_exceeded") == 1, log
    check_accounting(ledger, mock, m, 500, 50)


# ---------------------------------------------------------------------------
# 4. n multiplies


def test_n_choices_multiply_the_reservation(relay, mock, mint, ledger):
    """n=8 on a budget of 1,000: each choice gets an eighth of what is left."""
    m = mint(jti=new_jti(), token_budget=1000)
    r = openai_client(relay.url, m).chat.completions.create(
        model=CHAT_MODEL, messages=MESSAGES, n=8, extra_headers={"x-mock-chunks": "1000"})
    assert [ch.index for ch in r.choices] == list(range(8))
    (rec,) = mock.requests(key=m.api_key)
    assert rec["n"] == 8
    assert 8 * rec["caps"]["max_tokens"] <= 1000, rec["caps"]
    assert {ch.finish_reason for ch in r.choices} == {"length"}
    check_accounting(ledger, mock, m, 1000, 0)


# ---------------------------------------------------------------------------
# 5. Stored context


def test_stored_context_is_refused_on_a_budget_token(relay, mock, mint, ledger):
    """previous_response_id brings in context the relay cannot count: a
    budget token refuses it before the provider sees anything."""
    rid = "resp_e2e" + secrets.token_hex(6)
    seeded = mock.http.post("/_mock/stored", json={"id": rid, "tokens": 50000})
    assert seeded.status_code == 200, seeded.text
    m = mint(jti=new_jti(), token_budget=1000)
    with pytest.raises(openai.PermissionDeniedError) as ei:
        openai_client(relay.url, m).responses.create(model="gpt-4.1", input="go on", previous_response_id=rid)
    e = ei.value
    assert e.status_code == 403
    assert e.body["code"] == "parameter_not_metered" and e.body["type"] == "relayapi_error", e.body
    assert mock.count(m.api_key) == 0
    assert mock.requests(key=m.api_key) == []
    (entry,) = ledger.wait_log(m.claims["jti"], 1)
    assert entry["error_code"] == "parameter_not_metered" and entry["status"] == 403, entry
    # Refused before admission: the relay may hold no usage record at all.
    assert check_accounting(ledger, mock, m, 1000, 0, unknown_ok=True) == 0


# ---------------------------------------------------------------------------
# 6. The canonical streaming loop


def test_canonical_streaming_loop_works_on_a_budget_token(relay, mock, mint, ledger):
    """The relay asks the provider for usage on a budget stream and takes the
    usage chunk (with its empty `choices`) out again: the READMEs' loops over
    `chunk.choices[0]` (openai-python, openai-node) never see it."""
    m = mint(jti=new_jti(), token_budget=100000)
    want, _ = expected_completion(PROMPT)

    stream = openai_client(relay.url, m).chat.completions.create(model=CHAT_MODEL, messages=MESSAGES, stream=True)
    text = ""
    chunks = 0
    for chunk in stream:
        text += chunk.choices[0].delta.content or ""
        chunks += 1
        assert chunk.usage is None and "usage" not in chunk.model_fields_set, chunk.model_dump()
    assert text == want
    assert chunks >= 3

    assert NODE_OPENAI.is_file(), "openai-node is missing: run `npm ci` in e2e/browser first"
    node = shutil.which("node")
    assert node, "node is not on PATH"
    res = subprocess.run(
        [node, str(NODE_SCRIPT)], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        env=dict(os.environ, RELAY_BASE_URL=f"{relay.url}/v1", RELAY_TOKEN=m.token, MODEL=CHAT_MODEL,
                 PROMPT=PROMPT, EXTRA_HEADERS="{}"),
    )
    assert res.returncode == 0, f"the openai-node loop failed:\n{res.stderr}"
    out = json.loads(res.stdout)
    assert out["text"] == want, out
    assert out["usage_chunks"] == 0 and out["chunks"] >= 3, out

    reqs = mock.requests(key=m.api_key)
    assert len(reqs) == 2 and all(q["stream"] for q in reqs)
    for q in reqs:
        assert json.loads(q["body"])["stream_options"] == {"include_usage": True}, "the provider was not asked for usage"
    assert_token_stayed_home(mock, m)
    used = check_accounting(ledger, mock, m, 100000, 0)
    assert used == sum(q["produced_prompt_tokens"] + q["produced_completion_tokens"] for q in reqs)


# ---------------------------------------------------------------------------
# 7. Parallel calls without max_tokens


def test_parallel_calls_without_max_tokens_reserve_the_models_limit(relay, mock, mint, ledger):
    """Eight overlapping calls without max_tokens on a budget of 100,000 each
    reserve a bounded share (within gpt-4o-mini's 16,384), not the whole
    budget, so all pass; a reasoning model gets max_completion_tokens."""
    m = mint(jti=new_jti(), token_budget=100000)
    c = openai_client(relay.url, m)
    start = threading.Barrier(8)

    def call(_):
        start.wait(timeout=10)
        return c.chat.completions.with_raw_response.create(
            model=CHAT_MODEL, messages=MESSAGES, extra_headers={"x-mock-delay-ms": "200"})

    with ThreadPoolExecutor(8) as pool:
        raws = list(pool.map(call, range(8)))
    for raw in raws:
        assert raw.parse().choices[0].message.content == expected_completion(PROMPT)[0]
    # Each call's x-ratelimit-remaining-tokens excludes the calls in flight:
    # one under 100,000 − 8,000 saw another call's reservation, so they overlapped.
    remaining = [int(raw.headers["x-ratelimit-remaining-tokens"]) for raw in raws]
    assert min(remaining) <= 100000 - 8000, f"the calls did not overlap: remaining {remaining}"
    reqs = mock.requests(key=m.api_key)
    assert len(reqs) == 8
    for q in reqs:
        assert set(q["caps"]) == {"max_tokens"} and 0 < q["caps"]["max_tokens"] <= 16384, q["caps"]
    check_accounting(ledger, mock, m, 100000, 0)

    o3 = mint(jti=new_jti(), token_budget=100000)
    r = openai_client(relay.url, o3).chat.completions.create(model="o3-mini", messages=MESSAGES)
    assert r.choices[0].message.content == expected_completion(PROMPT)[0]
    (rec,) = mock.requests(key=o3.api_key)
    assert set(rec["caps"]) == {"max_completion_tokens"} and rec["caps"]["max_completion_tokens"] > 0, rec["caps"]
    check_accounting(ledger, mock, o3, 100000, 0)


# ---------------------------------------------------------------------------
# 8. x-ratelimit-remaining-tokens


def test_remaining_tokens_header_is_the_budget_left_before_this_call(relay, mock, mint, ledger):
    m = mint(jti=new_jti(), token_budget=100000)
    c = openai_client(relay.url, m)
    first = c.chat.completions.with_raw_response.create(model=CHAT_MODEL, messages=MESSAGES)
    assert first.headers.get("x-ratelimit-remaining-tokens") == "100000"
    first.parse()
    used = ledger.settled(m.claims["jti"])["tokens_used"]
    assert used > 0
    second = c.chat.completions.with_raw_response.create(model=CHAT_MODEL, messages=MESSAGES)
    assert second.headers.get("x-ratelimit-remaining-tokens") == str(100000 - used)
    second.parse()
    check_accounting(ledger, mock, m, 100000, 0)


# ---------------------------------------------------------------------------
# 9. Streams and the cut

STREAM_BUDGET = 300


def test_well_behaved_streams_end_at_their_own_length_stop(relay, mock, mint, ledger):
    """A provider that honours the clamped cap ends the stream itself: the
    relay never cuts it, and the usage the client gets is what was billed."""
    m = mint(jti=new_jti(), token_budget=STREAM_BUDGET)
    chunks = list(openai_client(relay.url, m).chat.completions.create(
        model=CHAT_MODEL, messages=MESSAGES, stream=True, stream_options={"include_usage": True},
        extra_headers={"x-mock-chunks": "2000"}))
    finishes = [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason]
    assert finishes == ["length"], finishes
    usage = [ch.usage for ch in chunks if ch.usage is not None]
    assert len(usage) == 1 and chunks[-1].usage is usage[0] and chunks[-1].choices == []
    (rec,) = mock.requests(key=m.api_key)
    assert (usage[0].prompt_tokens, usage[0].completion_tokens) == (
        rec["produced_prompt_tokens"], rec["produced_completion_tokens"]), rec
    assert rec["produced_completion_tokens"] < 2000 and rec["caps"]["max_tokens"] < STREAM_BUDGET, rec["caps"]
    check_accounting(ledger, mock, m, STREAM_BUDGET, 0)

    a = mint(provider="mockanthropic", jti=new_jti(), token_budget=STREAM_BUDGET)
    with anthropic_client(relay.url, a).messages.stream(
            model=CLAUDE_MODEL, max_tokens=4096, messages=MESSAGES, extra_headers={"x-mock-chunks": "2000"}) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert final.stop_reason == "max_tokens"
    assert text.startswith(expected_completion(PROMPT)[0])
    (rec,) = mock.requests(key=a.api_key)
    assert rec["caps"]["max_tokens"] < STREAM_BUDGET, rec["caps"]
    assert (final.usage.input_tokens, final.usage.output_tokens) == (
        rec["produced_prompt_tokens"], rec["produced_completion_tokens"]), rec
    check_accounting(ledger, mock, a, STREAM_BUDGET, 0)


def test_a_stream_past_its_cap_is_ended_the_providers_way(relay, mock, mint, ledger):
    """A provider that ignores the clamped cap is stopped by the relay, which
    ends the stream as the provider would at its length limit: the SDKs'
    loops end normally with `length` / `max_tokens`."""
    overrun = {"x-mock-ignore-max-tokens": "1", "x-mock-chunks": "5000", "x-mock-chunk-delay-ms": "1"}

    m = mint(jti=new_jti(), token_budget=STREAM_BUDGET)
    canceled = mock.stats()["canceled"]
    stream = openai_client(relay.url, m).chat.completions.create(
        model=CHAT_MODEL, messages=MESSAGES, stream=True, extra_headers=overrun)
    last = None
    for chunk in stream:
        choice = chunk.choices[0]
        assert chunk.usage is None, "no usage chunk the client did not ask for"
        last = choice
    assert last is not None and last.finish_reason == "length", last
    wait_until(lambda: mock.stats()["canceled"] > canceled, 10, "the relay to cancel the provider")
    (rec,) = mock.requests(key=m.api_key)
    assert rec["produced_completion_tokens"] < 5000, rec
    check_accounting(ledger, mock, m, STREAM_BUDGET, STREAM_BUDGET)

    a = mint(provider="mockanthropic", jti=new_jti(), token_budget=STREAM_BUDGET)
    canceled = mock.stats()["canceled"]
    with anthropic_client(relay.url, a).messages.stream(
            model=CLAUDE_MODEL, max_tokens=4096, messages=MESSAGES, extra_headers=overrun) as s:
        for _ in s.text_stream:
            pass
        final = s.get_final_message()
    assert final.stop_reason == "max_tokens", final
    wait_until(lambda: mock.stats()["canceled"] > canceled, 10, "the relay to cancel the provider")
    (rec,) = mock.requests(key=a.api_key)
    assert rec["produced_completion_tokens"] < 5000, rec
    check_accounting(ledger, mock, a, STREAM_BUDGET, STREAM_BUDGET)


# ---------------------------------------------------------------------------
# 10. Fail closed


def test_an_answer_without_usage_is_charged_its_whole_reservation(relay, mock, mint, ledger):
    """A 2xx with no usage anywhere is charged the prompt estimate and the
    whole cap, and the request log says so."""
    m = mint(jti=new_jti(), token_budget=100000)
    r = openai_client(relay.url, m).chat.completions.create(
        model=CHAT_MODEL, messages=MESSAGES, max_tokens=100, extra_headers={"x-mock-omit-usage": "1"})
    assert r.usage is None
    assert r.choices[0].message.content == expected_completion(PROMPT)[0]
    jti = m.claims["jti"]
    u = ledger.settled(jti)
    (rec,) = mock.requests(key=m.api_key)
    assert u["completion_tokens"] == 100, u
    assert u["prompt_tokens"] >= rec["produced_prompt_tokens"] > 0, (u, rec)
    assert rec["caps"] == {"max_tokens": 100}, rec["caps"]
    (entry,) = ledger.wait_log(jti, 1)
    assert entry["usage_source"] == "reservation", entry
    assert (entry["prompt_tokens"], entry["completion_tokens"]) == (u["prompt_tokens"], 100), entry
    assert check_accounting(ledger, mock, m, 100000, 0) == u["prompt_tokens"] + 100
