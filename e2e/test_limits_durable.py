"""max_calls under concurrency and across a restart (DESIGN.md §7)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest

from relaytest import openai_client

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


def test_concurrent_calls_respect_max_calls(relay, mock, mint):
    """200 simultaneous requests on a max_calls=50 token: exactly 50 reach the
    provider and succeed, the other 150 get 429 call_limit_exceeded."""
    n, limit = 200, 50
    m = mint(max_calls=limit)
    url = f"{relay.url}/t/{m.token}/v1/chat/completions"
    barrier = threading.Barrier(n)
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    with httpx.Client(limits=limits, timeout=60) as http:
        def one(_):
            barrier.wait(timeout=30)
            r = http.post(url, json=CHAT)
            code = r.json().get("error", {}).get("code") if r.status_code != 200 else None
            return r.status_code, code

        with ThreadPoolExecutor(max_workers=n) as pool:
            results = Counter(pool.map(one, range(n)))

    assert results == Counter({(200, None): limit, (429, "call_limit_exceeded"): n - limit}), results
    assert mock.count(m.api_key) == limit


def test_call_counts_survive_restart(relay_factory, mock, mint):
    r = relay_factory().start()
    spent = mint(max_calls=2)
    partly = mint(max_calls=3)
    c_spent, c_partly = openai_client(r.url, spent), openai_client(r.url, partly)
    for _ in range(2):
        c_spent.chat.completions.create(**CHAT)
    c_partly.chat.completions.create(**CHAT)

    assert r.stop() == 0, "SIGTERM should stop the relay cleanly (exit 0)"
    r.start()  # same config, keys and data dir
    c_spent, c_partly = openai_client(r.url, spent), openai_client(r.url, partly)

    with pytest.raises(openai.RateLimitError) as ei:  # exhausted before the restart
        c_spent.chat.completions.create(**CHAT)
    assert ei.value.code == "call_limit_exceeded", ei.value.body
    for _ in range(2):  # 1 of 3 used before the restart
        c_partly.chat.completions.create(**CHAT)
    with pytest.raises(openai.RateLimitError) as ei:
        c_partly.chat.completions.create(**CHAT)
    assert ei.value.code == "call_limit_exceeded", ei.value.body
    assert mock.count(spent.api_key) == 2
    assert mock.count(partly.api_key) == 3
    r.stop()
