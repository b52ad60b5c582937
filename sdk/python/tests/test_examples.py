"""The FastAPI example hands out working, per-user base URLs."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

from fastapi.testclient import TestClient

from conftest import aes_rai
from relayapi._testing import decode_token

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fastapi_example(monkeypatch):
    keys = aes_rai()
    keys["server"] = {"host": "relay.example.com", "port": 443}
    monkeypatch.setenv("RELAYAPI_RAI", json.dumps(keys))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-example")
    app = load_example("fastapi_app").app
    client = TestClient(app)

    assert client.get("/api/ai-session").status_code == 401
    answer = client.get("/api/ai-session", headers={"X-User-Id": "42"}).json()
    prefix = "https://relay.example.com/t/"
    assert answer["base_url"].startswith(prefix) and answer["base_url"].endswith("/v1")
    token = answer["base_url"][len(prefix) : -len("/v1")]
    claims = decode_token(token, keys, now=int(time.time()))
    assert claims["sub"] == "42"
    assert claims["api_key"] == "sk-example"
    assert claims["jti"] == answer["token_id"]
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert claims["origins"] == ["http://127.0.0.1:8000"]
    other = client.get("/api/ai-session", headers={"X-User-Id": "43"}).json()
    assert other["base_url"] != answer["base_url"]
    assert "<script>" in client.get("/").text
