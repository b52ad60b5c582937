"""The fake must be faithful: the official SDKs talk to the mock provider
directly (no relay) and parse everything it answers. If these fail, the
relay tests prove nothing."""

from __future__ import annotations

import anthropic
import httpx
import openai

from relaytest import expected_completion


def test_openai_sdk_parses_mock(mock):
    c = openai.OpenAI(base_url=f"{mock.url}/v1", api_key="sk-direct", max_retries=0, timeout=10)
    r = c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}], max_tokens=2)
    assert r.choices[0].message.content == expected_completion("hi", max_tokens=2)[0]
    assert r.choices[0].finish_reason == "length" and r.usage.completion_tokens == 2
    chunks = list(c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}],
                                            stream=True, stream_options={"include_usage": True}))
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices) == expected_completion("hi")[0]
    assert chunks[-1].usage.total_tokens == chunks[-1].usage.prompt_tokens + chunks[-1].usage.completion_tokens
    assert len(c.embeddings.create(model="text-embedding-3-small", input="x").data[0].embedding) == 16
    assert c.images.generate(model="gpt-image-1", prompt="x").data[0].b64_json
    assert "gpt-4o" in [x.id for x in c.models.list()]


def test_anthropic_sdk_parses_mock(mock):
    c = anthropic.Anthropic(base_url=mock.url, api_key="sk-ant-direct", max_retries=0, timeout=10)
    with c.messages.stream(model="claude-mock-1", max_tokens=50, messages=[{"role": "user", "content": "hi"}]) as s:
        assert "".join(s.text_stream) == expected_completion("hi")[0]
        assert s.get_final_message().usage.output_tokens == expected_completion("hi")[1]


def test_mock_controls_and_counters(mock):
    before = mock.count("sk-count")
    with httpx.Client(base_url=mock.url, headers={"Authorization": "Bearer sk-count"}) as h:
        r = h.post("/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "x"}]},
                   headers={"x-mock-status": "502"})
        assert r.status_code == 502 and r.json()["error"]["type"] == "server_error"
    assert mock.count("sk-count") == before + 1
    assert mock.requests(key="sk-count")[-1]["headers"]["X-Mock-Status"] == ["502"]
