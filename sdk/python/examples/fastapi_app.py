"""FastAPI: hand each signed-in user a fresh, limited relay base URL for the browser.

The browser then calls the OpenAI API (through the relay) directly, with the
official `openai` JS package or plain `fetch`, and never sees the real key.

Run::

    pip install ./sdk/python fastapi uvicorn     # from a clone of the repository
    export RELAYAPI_RAI=default.rai OPENAI_API_KEY=sk-...
    uvicorn examples.fastapi_app:app --reload

Try it (the demo "sign-in" is an ``X-User-Id`` header; use your real auth)::

    curl -H 'X-User-Id: 42' http://127.0.0.1:8000/api/ai-session
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Optional

from fastapi import Depends, FastAPI, Header, HTTPException
from fastapi.responses import HTMLResponse

from relayapi import RelayAPI

app = FastAPI(title="RelayAPI example")

# Load the .rai once at start-up (path or inline JSON in RELAYAPI_RAI).
relay = RelayAPI.from_env()
OPENAI_API_KEY = os.environ.get("OPENAI_API_KEY")  # None: the relay holds the key
ALLOWED_ORIGIN = os.environ.get("APP_ORIGIN", "http://127.0.0.1:8000")


class User:
    """Stand-in for your user model."""

    def __init__(self, user_id: str) -> None:
        self.id = user_id


def current_user(x_user_id: Optional[str] = Header(default=None)) -> User:
    """Demo authentication: replace with your session / OAuth dependency."""
    if not x_user_id:
        raise HTTPException(status_code=401, detail="sign in first")
    return User(x_user_id)


@app.get("/api/ai-session")
def ai_session(user: User = Depends(current_user)) -> dict:
    """A fresh base URL for this user: 15 minutes, 50 calls, one model family."""
    token = relay.create_token(
        provider="openai",
        api_key=OPENAI_API_KEY,
        sub=str(user.id),  # shows up in the relay's logs and usage
        expires_in=timedelta(minutes=15),
        max_calls=50,
        rpm=20,
        models=["gpt-4o-mini*"],
        paths=["/v1/chat/completions"],
        max_tokens=512,
        origins=[ALLOWED_ORIGIN],
    )
    return {
        "base_url": relay.base_url(token),  # give this to `new OpenAI({baseURL})`
        "expires_at": token.expires_at.isoformat(),
        "token_id": token.id,
    }


PAGE = """<!doctype html>
<meta charset="utf-8"><title>RelayAPI demo</title>
<p><input id="q" value="Tell me a joke" size="40"> <button id="go">Ask</button></p>
<pre id="out"></pre>
<script>
document.getElementById("go").onclick = async () => {
  const session = await fetch("/api/ai-session", {headers: {"X-User-Id": "42"}})
    .then(r => r.json());
  const res = await fetch(session.base_url + "/chat/completions", {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({model: "gpt-4o-mini", stream: true,
                          messages: [{role: "user", content: document.getElementById("q").value}]}),
  });
  const out = document.getElementById("out"); out.textContent = "";
  if (!res.ok) { out.textContent = (await res.json()).error.message; return; }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    const lines = (buffer + value).split("\\n");
    buffer = lines.pop();  // keep a partial line for the next read
    for (const line of lines) {
      if (!line.startsWith("data: ") || line === "data: [DONE]") continue;
      const delta = JSON.parse(line.slice(6)).choices?.[0]?.delta?.content;
      if (delta) out.textContent += delta;
    }
  }
};
</script>
"""


@app.get("/", response_class=HTMLResponse)
def index() -> str:
    """A page that asks for a session URL and streams a chat completion from the browser."""
    return PAGE
