"""Doc tests: the Python code blocks of the READMEs run, verbatim, against the real relay.

A fenced code block whose previous non-blank line is ``<!-- doctest: KIND -->``
is extracted. This module runs the kinds ``python`` (a complete script) and
``python-fastapi`` (a complete module defining a FastAPI ``app`` serving
``GET /api/ai-session``); the ``js`` kinds are run by sdk/js.

Every block gets a fresh working directory holding ``default.rai``, a key file
written exactly as RelayAPI 1.x wrote it (scheme inside host, base_path
"/relayapi/", aes_iv_seed). The relay under test loads that same file, serves
under /relayapi, and sends providers openai and dashscope to the Go mock
provider. Environment: OPENAI_API_KEY (the key the mock sees), RELAYAPI_RAI
(path of default.rai), PORT (a free port).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from openai import OpenAI

from conftest import REPO_DIR, clean_env, free_port, mock_requests, start_v1_relay

#: (file relative to the repository root, kinds counted, minimum number of marked blocks).
#: A listed file that is missing, or has fewer marked blocks, fails the test.
DOC_FILES = [
    ("README.md", ("python-fastapi",), 1),
    ("README_CN.md", ("python-fastapi",), 1),
    ("docs/migrating-from-1.x.md", ("python",), 1),
    ("docs/migrating-from-1.x_CN.md", ("python",), 1),
    ("sdk/python/README.md", ("python", "python-fastapi"), 2),
    ("sdk/python/README_CN.md", ("python", "python-fastapi"), 2),
]

#: Kinds this module runs, and every kind a marker may name.
RUN_KINDS = ("python", "python-fastapi")
KNOWN_KINDS = ("python", "python-fastapi", "js", "js-express")

OPENAI_API_KEY = "sk-doctest-0000000000000000"
APP_ORIGIN = "https://app.example.com"
USER_ID = "doctest-user"
TIMEOUT = 60

_MARKER = re.compile(r"<!--\s*doctest:\s*(?P<kind>[A-Za-z0-9_-]*)\s*-->")
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})")


def extract_blocks(text: str) -> list[SimpleNamespace]:
    """Marked code blocks of a Markdown text: kind, line (1-based, of the fence) and code."""
    blocks = []
    lines = text.splitlines()
    previous = ""  # the previous non-blank line outside code blocks
    i = 0
    while i < len(lines):
        line = lines[i]
        opening = _FENCE.match(line)
        if opening is None:
            if line.strip():
                previous = line.strip()
            i += 1
            continue
        fence = opening["fence"]
        start = i
        body = []
        i += 1
        while i < len(lines):
            closing = _FENCE.match(lines[i])
            if (
                closing
                and closing["fence"][0] == fence[0]
                and len(closing["fence"]) >= len(fence)
                and not lines[i].strip()[len(closing["fence"]) :].strip()
            ):
                break
            body.append(lines[i])
            i += 1
        i += 1  # past the closing fence
        marker = _MARKER.fullmatch(previous)
        if marker:
            blocks.append(
                SimpleNamespace(kind=marker["kind"], line=start + 1, code="\n".join(body) + "\n")
            )
        previous = fence
    return blocks


def _doc_blocks(path: str) -> list[SimpleNamespace]:
    file = REPO_DIR / path
    if not file.is_file():
        return []
    return extract_blocks(file.read_text(encoding="utf-8"))


BLOCKS = [
    pytest.param(path, block, id=f"{path}:{block.line}:{block.kind}")
    for path, _, _ in DOC_FILES
    for block in _doc_blocks(path)
    if block.kind in RUN_KINDS
]


# ------------------------------------------------------------ the extractor


def test_extract_blocks():
    text = "\n".join(
        [
            "<!-- doctest: python -->",
            "",
            "```python",
            "print(1)",
            "```",
            "```python",
            "print('unmarked: the previous line is a fence')",
            "```",
            "<!-- doctest: js -->",
            "text in between",
            "```js",
            "unmarked",
            "```",
            "<!--doctest:python-fastapi-->",
            "~~~~",
            "```",
            "~~~~",
        ]
    )
    blocks = extract_blocks(text)
    assert [(b.kind, b.line, b.code) for b in blocks] == [
        ("python", 3, "print(1)\n"),
        ("python-fastapi", 15, "```\n"),
    ]


# ------------------------------------------------------ markers are present


@pytest.mark.parametrize(("path", "kinds", "minimum"), DOC_FILES, ids=[f[0] for f in DOC_FILES])
def test_doc_file_has_its_marked_blocks(path, kinds, minimum):
    file = REPO_DIR / path
    assert file.is_file(), (
        f"{path} does not exist yet: it must hold at least {minimum} code block(s) marked "
        f"<!-- doctest: {' or '.join(kinds)} --> (issue 17); adjust DOC_FILES in {__file__}"
    )
    blocks = extract_blocks(file.read_text(encoding="utf-8"))
    unknown = [f"line {b.line}: {b.kind!r}" for b in blocks if b.kind not in KNOWN_KINDS]
    assert not unknown, f"{path}: doctest markers of unknown kind: {unknown}"
    found = [b for b in blocks if b.kind in kinds]
    assert len(found) >= minimum, (
        f"{path} has {len(found)} code block(s) marked <!-- doctest: {' or '.join(kinds)} -->, "
        f"needs at least {minimum}"
    )


# ------------------------------------------------------------ the blocks run


@pytest.fixture(scope="module")
def doc_relay(relayapi_bin, mock_provider, tmp_path_factory):
    folder = tmp_path_factory.mktemp("doc-relay")
    proc, rai_path = start_v1_relay(relayapi_bin, mock_provider, folder)
    try:
        yield SimpleNamespace(proc=proc, rai_path=rai_path, mock_url=mock_provider)
    finally:
        proc.stop()


def _block_env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in clean_env().items() if not k.startswith("OPENAI_")}
    env.update(
        OPENAI_API_KEY=OPENAI_API_KEY,
        RELAYAPI_RAI=str(workdir / "default.rai"),
        PORT=str(free_port()),
        PYTHONUNBUFFERED="1",
    )
    return env


def _run(args: list[str], workdir: Path, relay, where: str) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(
            args,
            cwd=workdir,
            env=_block_env(workdir),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{where} did not finish within {TIMEOUT}s:\n{exc.stdout}\n{exc.stderr}")
    assert result.returncode == 0, (
        f"{where} exited with {result.returncode}\n--- stdout\n{result.stdout}\n"
        f"--- stderr\n{result.stderr}\n--- relay log\n{relay.proc.output()}"
    )
    return result


# Serves the block's app in-process (FastAPI's TestClient) and asks it for a
# session as a browser page would; prints the answer as JSON.
_FASTAPI_RUNNER = f"""
import json, sys
sys.path.insert(0, ".")
from fastapi.testclient import TestClient
import doc_app

client = TestClient(doc_app.app)
resp = client.get(
    "/api/ai-session", headers={{"Origin": {APP_ORIGIN!r}, "X-User-Id": {USER_ID!r}}}
)
print(json.dumps({{"status": resp.status_code, "body": resp.text}}))
"""


@pytest.mark.parametrize(("path", "block"), BLOCKS)
def test_doc_block_runs(path, block, doc_relay, tmp_path):
    where = f"the {block.kind} block at {path}:{block.line}"
    shutil.copy(doc_relay.rai_path, tmp_path / "default.rai")
    if block.kind == "python":
        (tmp_path / "block.py").write_text(block.code, encoding="utf-8")
        _run([sys.executable, "block.py"], tmp_path, doc_relay, where)
        return

    (tmp_path / "doc_app.py").write_text(block.code, encoding="utf-8")
    (tmp_path / "run_app.py").write_text(_FASTAPI_RUNNER, encoding="utf-8")
    result = _run([sys.executable, "run_app.py"], tmp_path, doc_relay, where)
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200, f"{where}: GET /api/ai-session answered {answer}"
    session = json.loads(answer["body"])
    assert isinstance(session, dict) and session.get("baseURL"), (
        f"{where}: the answer has no baseURL: {session}"
    )
    client = OpenAI(
        base_url=session["baseURL"],
        api_key="unused",
        default_headers={"Origin": APP_ORIGIN},
        max_retries=0,
        timeout=30,
    )
    reply = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello from the doc test"}]
    )
    assert reply.choices[0].message.content, doc_relay.proc.output()
    seen = mock_requests(doc_relay.mock_url, OPENAI_API_KEY)
    assert seen, "the provider never saw the key from OPENAI_API_KEY"
