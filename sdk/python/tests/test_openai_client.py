"""openai_client / async_openai_client (the [openai] extra)."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import openai
import pytest

from conftest import aes_rai
from relayapi import RelayAPI


class Recorder(BaseHTTPRequestHandler):
    seen: list = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Recorder.seen.append((self.path, self.headers.get("Authorization"), json.loads(body)))
        data = json.dumps(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 0,
                "model": "m",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "hi"},
                        "finish_reason": "stop",
                    }
                ],
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def recorder():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_openai_client_points_at_the_relay(recorder):
    Recorder.seen = []
    relay = RelayAPI(aes_rai(), relay_url=recorder)
    token = relay.create_token()
    client = relay.openai_client(token, max_retries=0)
    assert isinstance(client, openai.OpenAI)
    assert str(client.base_url).rstrip("/") == relay.base_url(token)
    reply = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert reply.choices[0].message.content == "hi"
    path, auth, body = Recorder.seen[0]
    assert path == f"/t/{token.value}/v1/chat/completions"
    assert auth == f"Bearer {token.value}"
    assert body["model"] == "m"


def test_async_openai_client(recorder):
    Recorder.seen = []
    relay = RelayAPI(aes_rai(), relay_url=recorder)
    token = relay.create_token()
    client = relay.async_openai_client(token.value, max_retries=0)
    assert isinstance(client, openai.AsyncOpenAI)

    async def call():
        async with client:
            return await client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "x"}]
            )

    reply = asyncio.run(call())
    assert reply.choices[0].message.content == "hi"
    assert Recorder.seen[0][0] == f"/t/{token.value}/v1/chat/completions"


def test_openai_kwargs_pass_through():
    relay = RelayAPI(aes_rai())
    token = relay.create_token()
    client = relay.openai_client(token, timeout=5.0, max_retries=1, api_key="other")
    assert client.api_key == "other"
    assert client.max_retries == 1


def test_clear_import_error_without_openai(monkeypatch):
    monkeypatch.setitem(sys.modules, "openai", None)  # makes `import openai` fail
    relay = RelayAPI(aes_rai())
    token = relay.create_token()
    with pytest.raises(ImportError, match=r"pip install openai"):
        relay.openai_client(token)
    with pytest.raises(ImportError, match=r"pip install openai"):
        relay.async_openai_client(token)
