"""The official `openai` package against the relay: every call goes
client → relayapi serve → mock provider, with the token in the base URL
(path form) or as the API key (header form)."""

from __future__ import annotations

import base64
import time

import httpx
import openai
import pytest

from relaytest import (
    assert_forwarded_safely,
    expected_completion,
    openai_client,
    prompt_tokens,
    wait_until,
)

PROMPT = "Say hello to RelayAPI"
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": PROMPT}]
FORMS = ["path", "header"]


@pytest.mark.parametrize("form", FORMS)
def test_chat(relay, mock, mint, form):
    m = mint(max_calls=5)
    r = openai_client(relay.url, m, form).chat.completions.create(model="gpt-4o", messages=MESSAGES)

    text, n = expected_completion(PROMPT)
    assert r.object == "chat.completion"
    assert r.choices[0].message.content == text
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.prompt_tokens == prompt_tokens("Be brief.", PROMPT)
    assert r.usage.completion_tokens == n
    assert r.usage.total_tokens == r.usage.prompt_tokens + n

    (rec,) = assert_forwarded_safely(mock, m, expect=1)
    assert rec["method"] == "POST"
    assert rec["path"] == "/v1/chat/completions"
    assert rec["query"] == ""
    assert rec["model"] == "gpt-4o"


def test_chat_ecc_token(relay, mock, mint):
    m = mint(method="ecc", max_calls=1)
    r = openai_client(relay.url, m).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert r.choices[0].message.content == expected_completion(PROMPT)[0]
    assert_forwarded_safely(mock, m, expect=1)


@pytest.mark.parametrize("form", FORMS)
def test_streaming_chat_with_usage(relay, mock, mint, form):
    m = mint(max_calls=5)
    stream = openai_client(relay.url, m, form).chat.completions.create(
        model="gpt-4o", messages=MESSAGES, stream=True, stream_options={"include_usage": True},
        extra_headers={"x-mock-chunks": "7"},
    )
    chunks = list(stream)

    text, n = expected_completion(PROMPT, chunks=7)
    content_chunks = [c for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(content_chunks) == 7, [c.model_dump() for c in chunks]
    assert "".join(c.choices[0].delta.content for c in content_chunks) == text
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]

    usage_chunks = [c for c in chunks if c.usage is not None]
    assert len(usage_chunks) == 1 and usage_chunks[0] is chunks[-1], "usage comes once, in the last chunk"
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens == n
    assert chunks[-1].usage.prompt_tokens == prompt_tokens("Be brief.", PROMPT)
    (rec,) = assert_forwarded_safely(mock, m, expect=1)
    assert rec["stream"] is True


def test_streaming_chat_without_usage(relay, mock, mint):
    m = mint(max_calls=1)
    chunks = list(openai_client(relay.url, m).chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == expected_completion(PROMPT)[0]
    assert all(c.usage is None for c in chunks)


def test_streaming_is_not_buffered(relay, mock, mint):
    """Each SSE event must reach the client when the provider sends it: the
    mock spaces 4 content chunks 250 ms apart; a buffering relay would hand
    them over together at the end."""
    m = mint(max_calls=1)
    stream = openai_client(relay.url, m).chat.completions.create(
        model="gpt-4o", messages=MESSAGES, stream=True,
        extra_headers={"x-mock-chunks": "4", "x-mock-chunk-delay-ms": "250"},
    )
    arrivals = [time.monotonic() for c in stream if c.choices and c.choices[0].delta.content]
    assert len(arrivals) == 4
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    assert all(g > 0.125 for g in gaps), f"chunks arrived together (gaps {gaps}): the relay buffers the stream"


def test_client_disconnect_cancels_upstream(relay, mock, mint):
    """Closing the client connection mid-stream must cancel the upstream request."""
    m = mint(max_calls=1)
    before = mock.stats()["canceled"]
    with httpx.Client(timeout=30) as http:
        with http.stream(
            "POST", f"{relay.url}/t/{m.token}/v1/chat/completions",
            json={"model": "gpt-4o", "messages": MESSAGES, "stream": True},
            headers={"x-mock-chunks": "600", "x-mock-chunk-delay-ms": "50"},  # a 30 s stream
        ) as r:
            assert r.status_code == 200
            for line in r.iter_lines():
                if '"content":"Hello"' in line:
                    break
    # The mock counts a stream as canceled when its request context ends early.
    wait_until(lambda: mock.stats()["canceled"] > before, 10, "the mock to see the upstream request canceled")
    assert mock.count(m.api_key) == 1


@pytest.mark.parametrize("form", FORMS)
def test_embeddings(relay, mock, mint, form):
    m = mint(max_calls=5)
    c = openai_client(relay.url, m, form)
    # Default: the SDK asks for base64 and decodes it.
    r = c.embeddings.create(model="text-embedding-3-small", input=["hello", "world"])
    assert [d.index for d in r.data] == [0, 1]
    assert all(len(d.embedding) == 16 for d in r.data)
    assert abs(sum(x * x for x in r.data[0].embedding) - 1) < 1e-3
    assert r.usage.prompt_tokens == prompt_tokens("hello", "world")
    r = c.embeddings.create(model="text-embedding-3-small", input="hello", dimensions=8, encoding_format="float")
    assert len(r.data[0].embedding) == 8
    reqs = assert_forwarded_safely(mock, m, expect=2)
    assert {q["path"] for q in reqs} == {"/v1/embeddings"}


def test_images(relay, mock, mint):
    m = mint(max_calls=5)
    c = openai_client(relay.url, m)
    r = c.images.generate(model="dall-e-3", prompt="a lighthouse", n=2)
    assert len(r.data) == 2 and all(d.url.startswith("https://") for d in r.data)
    r = c.images.generate(model="dall-e-2", prompt="a lighthouse", response_format="b64_json")
    assert base64.b64decode(r.data[0].b64_json).startswith(b"\x89PNG")
    reqs = assert_forwarded_safely(mock, m, expect=2)
    assert {q["path"] for q in reqs} == {"/v1/images/generations"}


def test_models_list(relay, mock, mint):
    m = mint(max_calls=1)
    ids = [x.id for x in openai_client(relay.url, m, "header").models.list()]
    assert "gpt-4o" in ids
    (rec,) = assert_forwarded_safely(mock, m, expect=1)
    assert (rec["method"], rec["path"]) == ("GET", "/v1/models")


# One attempt plus the relay's default two retries (config upstream.max_retries).
UPSTREAM_ATTEMPTS_ON_5XX = 3


@pytest.mark.parametrize(
    "status,exc,etype",
    [(400, openai.BadRequestError, "invalid_request_error"), (503, openai.InternalServerError, "server_error")],
)
def test_upstream_errors_pass_through_unchanged(relay, mock, mint, status, exc, etype):
    m = mint(max_calls=5)
    with pytest.raises(exc) as ei:
        openai_client(relay.url, m).chat.completions.create(
            model="gpt-4o", messages=MESSAGES, extra_headers={"x-mock-status": str(status)})
    e = ei.value
    assert e.status_code == status
    assert e.body == {"message": f"mock upstream error (x-mock-status {status})", "type": etype,
                      "param": None, "code": None}, "the provider's error body must reach the client unchanged"
    recs = mock.requests(key=m.api_key)
    # The relay retries a 5xx (before any byte reached the client) with its
    # default upstream.max_retries of 2; the last answer passes through.
    assert len(recs) == (UPSTREAM_ATTEMPTS_ON_5XX if status >= 500 else 1)
    last = max(recs, key=lambda r: r["seq"])
    ids = e.response.headers.get_list("x-request-id")
    assert ids == [f"req_mock_{last['seq']}"], f"x-request-id {ids}: the provider's must pass through unchanged (once)"


def test_upstream_5xx_is_refunded(relay, mock, mint):
    """A 5xx from the provider (nothing sent to the client yet) does not use up the call."""
    m = mint(max_calls=1)
    c = openai_client(relay.url, m)
    with pytest.raises(openai.InternalServerError):
        c.chat.completions.create(model="gpt-4o", messages=MESSAGES, extra_headers={"x-mock-status": "500"})
    r = c.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert r.choices[0].message.content == expected_completion(PROMPT)[0]
    with pytest.raises(openai.RateLimitError) as ei:
        c.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert ei.value.code == "call_limit_exceeded"
    assert mock.count(m.api_key) == UPSTREAM_ATTEMPTS_ON_5XX + 1


def test_upstream_unreachable_is_refunded(relay, mint):
    """Provider `deadmock` points at a closed port: 502 upstream_unreachable,
    and the failed attempt does not consume the token's only call."""
    m = mint(provider="deadmock", max_calls=1)
    c = openai_client(relay.url, m)
    for _ in range(2):
        with pytest.raises(openai.InternalServerError) as ei:
            c.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        assert ei.value.status_code == 502
        assert ei.value.code == "upstream_unreachable", ei.value.body
        assert ei.value.type == "relayapi_error"
