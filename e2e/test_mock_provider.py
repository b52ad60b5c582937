"""The fake must be faithful: the official SDKs talk to the mock provider
directly (no relay) and parse everything it answers. If these fail, the
relay tests prove nothing."""

from __future__ import annotations

import anthropic
import httpx
import openai

from relaytest import expected_completion, prompt_tokens


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


def test_openai_sdk_parses_responses_completions_and_n(mock):
    c = openai.OpenAI(base_url=f"{mock.url}/v1", api_key="sk-direct", max_retries=0, timeout=10)
    r = c.responses.create(model="o4-mini", input="hi", max_output_tokens=100)
    assert r.output_text == expected_completion("hi")[0]
    assert r.usage.output_tokens_details.reasoning_tokens == 64
    assert r.usage.output_tokens == 64 + expected_completion("hi")[1]
    r2 = c.responses.create(model="gpt-4.1", input="again", previous_response_id=r.id)
    assert r2.usage.input_tokens == prompt_tokens("hi") + r.usage.output_tokens + prompt_tokens("again")
    events = [e.type for e in c.responses.create(model="gpt-4.1", input="hi", stream=True)]
    assert events[0] == "response.created" and events[-1] == "response.completed"
    cmp = c.completions.create(model="gpt-3.5-turbo-instruct", prompt="hi", n=2, best_of=3, max_tokens=2)
    assert len(cmp.choices) == 2 and cmp.usage.completion_tokens == 6
    chat = c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}], n=2)
    assert [ch.index for ch in chat.choices] == [0, 1]
    assert chat.usage.completion_tokens == 2 * expected_completion("hi")[1]


def test_azure_sdk_parses_mock_deployment(mock):
    c = openai.AzureOpenAI(azure_endpoint=mock.url, api_key="az-direct", api_version="2024-10-21",
                           max_retries=0, timeout=10)
    r = c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert r.model == "gpt-4o-mini" and r.choices[0].message.content == expected_completion("hi")[0]
    assert mock.requests(key="az-direct")[-1]["path"] == "/openai/deployments/gpt-4o-mini/chat/completions"


def test_mock_compresses_when_asked_and_gemini_streams_crlf(mock):
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
    with httpx.Client(base_url=mock.url) as h:
        r = h.post("/v1/chat/completions", json=body, headers={"Accept-Encoding": "gzip"})
        assert r.headers["content-encoding"] == "gzip" and r.json()["object"] == "chat.completion"
        r = h.post("/v1/chat/completions", json=body, headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in r.headers
        g = h.post("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=g-direct",
                   json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}, headers={"x-mock-chunks": "2"})
        frames = g.content.decode().split("\r\n\r\n")
        assert frames[-1] == "" and len(frames) == 3 and all(f.startswith("data: ") for f in frames[:2])
    rec = mock.requests(key="g-direct")[-1]
    assert rec["produced_completion_tokens"] == 64 + 2 and rec["model"] == "gemini-2.5-flash"
