"""The official `anthropic` package against the relay, provider
`mockanthropic` (auth `x-api-key`), base_url = relay/t/{token} or api_key = token."""

from __future__ import annotations

import anthropic
import pytest

from relaytest import (
    anthropic_client,
    assert_forwarded_safely,
    expected_completion,
    prompt_tokens,
)

MODEL = "claude-mock-1"
PROMPT = "Tell me about relays"
MESSAGES = [{"role": "user", "content": PROMPT}]
FORMS = ["path", "header"]


@pytest.mark.parametrize("form", FORMS)
def test_messages_create(relay, mock, mint, form):
    m = mint(provider="mockanthropic", max_calls=3)
    msg = anthropic_client(relay.url, m, form).messages.create(
        model=MODEL, max_tokens=100, system="Be brief.", messages=MESSAGES)

    text, n = expected_completion(PROMPT)
    assert msg.type == "message" and msg.role == "assistant"
    assert [b.type for b in msg.content] == ["text"]
    assert msg.content[0].text == text
    assert msg.stop_reason == "end_turn"
    assert msg.usage.input_tokens == prompt_tokens("Be brief.", PROMPT)
    assert msg.usage.output_tokens == n

    (rec,) = assert_forwarded_safely(mock, m, auth="x-api-key", expect=1)
    assert rec["path"] == "/v1/messages" and rec["model"] == MODEL
    assert rec["headers"].get("Anthropic-Version"), "the SDK's anthropic-version header is forwarded"


@pytest.mark.parametrize("form", FORMS)
def test_messages_stream(relay, mock, mint, form):
    m = mint(provider="mockanthropic", max_calls=3)
    c = anthropic_client(relay.url, m, form)
    with c.messages.stream(model=MODEL, max_tokens=100, messages=MESSAGES,
                           extra_headers={"x-mock-chunks": "6"}) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    want, n = expected_completion(PROMPT, chunks=6)
    assert text == want
    assert final.content[0].text == want
    assert final.usage.output_tokens == n == 6
    assert final.usage.input_tokens == prompt_tokens(PROMPT)
    assert final.stop_reason == "end_turn"
    (rec,) = assert_forwarded_safely(mock, m, auth="x-api-key", expect=1)
    assert rec["stream"] is True


def test_raw_event_order(relay, mock, mint):
    m = mint(provider="mockanthropic", max_calls=1)
    events = list(anthropic_client(relay.url, m).messages.create(
        model=MODEL, max_tokens=3, messages=MESSAGES, stream=True))
    types = [e.type for e in events]  # the SDK drops ping events
    assert types == ["message_start", "content_block_start", "content_block_delta", "content_block_delta",
                     "content_block_delta", "content_block_stop", "message_delta", "message_stop"], types
    assert events[0].message.usage.input_tokens == prompt_tokens(PROMPT)
    assert events[-2].delta.stop_reason == "max_tokens"
    assert events[-2].usage.output_tokens == 3


def test_invalid_token(relay, mock, mint):
    m = mint(provider="mockanthropic", max_calls=1)
    bad = m.token[:-6] + ("AAAAAA" if not m.token.endswith("AAAAAA") else "BBBBBB")
    with pytest.raises(anthropic.AuthenticationError) as ei:
        anthropic_client(relay.url, bad, "header").messages.create(model=MODEL, max_tokens=10, messages=MESSAGES)
    assert ei.value.status_code == 401
    assert mock.count(m.api_key) == 0


def test_exhausted_token(relay, mock, mint):
    m = mint(provider="mockanthropic", max_calls=1)
    c = anthropic_client(relay.url, m)
    c.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES)
    with pytest.raises(anthropic.RateLimitError) as ei:
        c.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES)
    assert ei.value.status_code == 429
    assert mock.count(m.api_key) == 1
