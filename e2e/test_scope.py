"""A token reaches only what it names (issue 15), through the official
clients: the model wherever the request names it (Azure deployments with
openai's AzureOpenAI, Gemini paths with google-genai), the provider's
inference endpoints unless `paths` lists more, model listings filtered to
the token's `models`."""

from __future__ import annotations

import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from relaytest import openai_client

MESSAGES = [{"role": "user", "content": "hi"}]


def gemini(relay_url: str, token: str) -> genai.Client:
    return genai.Client(api_key=token, http_options=genai_types.HttpOptions(base_url=relay_url, timeout=30_000))


def test_an_azure_deployment_is_checked_whatever_the_body_says(relay, mock, mint):
    m = mint(provider="mockazure", models=["gpt-4o-mini"], max_calls=5)
    decoy = openai.AzureOpenAI(azure_endpoint=f"{relay.url}/t/{m.token}", azure_deployment="gpt-4o",
                               api_key="unused", api_version="2024-10-21", max_retries=2)
    with pytest.raises(openai.PermissionDeniedError) as ei:
        decoy.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert ei.value.code == "model_not_allowed"
    own = openai.AzureOpenAI(azure_endpoint=f"{relay.url}/t/{m.token}", api_key="unused",
                             api_version="2024-10-21", max_retries=0)
    r = own.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert r.model == "gpt-4o-mini"
    (rec,) = mock.requests(key=m.api_key)
    assert rec["path"] == "/openai/deployments/gpt-4o-mini/chat/completions"


def test_a_gemini_path_model_is_checked_and_mapped(relay, mock, mint):
    m = mint(provider="mockgemini", models=["gemini-2.0-flash"], max_calls=5)
    client = gemini(relay.url, m.token)  # kept: a dropped Client closes its connection pool
    with pytest.raises(genai_errors.ClientError) as ei:
        client.models.generate_content(model="gemini-2.5-pro", contents="hi")
    assert ei.value.code == 403 and "model_not_allowed" in str(ei.value)
    assert mock.count(m.api_key) == 0
    mapped = mint(provider="mockgemini", models=["fast"], model_map=["fast=gemini-2.0-flash"], max_calls=5)
    client = gemini(relay.url, mapped.token)
    r = client.models.generate_content(model="fast", contents="hi")
    assert r.text
    (rec,) = mock.requests(key=mapped.api_key)
    assert rec["path"].endswith("/models/gemini-2.0-flash:generateContent"), rec["path"]


def test_a_token_without_paths_reaches_inference_only(relay, mock, mint):
    m = mint(models=["gpt-4o-mini"], max_calls=10)
    c = openai_client(relay.url, m)
    for call in (lambda: c.files.content("file-abc"), lambda: c.files.list(), lambda: c.batches.list(),
                 lambda: c.fine_tuning.jobs.create(model="gpt-4o-mini", training_file="file-abc"),
                 lambda: c.files.delete("file-abc")):
        with pytest.raises(openai.PermissionDeniedError) as ei:
            call()
        assert ei.value.code == "path_not_allowed"
        assert ei.value.response.headers.get("x-should-retry") == "false"
    assert mock.count(m.api_key) == 0
    assert c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES).choices[0].message.content


def test_model_listings_show_only_the_tokens_models(relay, mint):
    m = mint(models=["gpt-4o-mini", "o3-*"], max_calls=5)
    c = openai_client(relay.url, m)
    assert sorted(model.id for model in c.models.list()) == ["gpt-4o-mini", "o3-mini"]
    with pytest.raises(openai.PermissionDeniedError):
        c.models.retrieve("gpt-4o")
