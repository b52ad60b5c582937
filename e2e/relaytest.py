"""Process and HTTP helpers for the RelayAPI end-to-end suite.

The suite runs the real binaries: `relayapi serve` and the Go mock provider
(`server/cmd/mockprovider`), which speaks the OpenAI and Anthropic wire
formats and counts what reaches it (`/_mock/stats`, `/_mock/requests`).
Every wait is a bounded poll of a readiness condition, never a blind sleep.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import httpx

SERVER_DIR = Path(os.environ.get("RELAYAPI_SERVER_DIR", Path(__file__).resolve().parent.parent / "server"))

# Every token and upstream key minted, and every log file written, during the
# run: test_zz_secrets greps all logs for all secrets at the end.
MINTED: list = []
LOG_FILES: list = []

# Processes started by the suite, so a failing test can show their logs.
RUNNING: list["Proc"] = []


# The mock provider's test-control headers, which a relay forwards only
# when its config allows them (providers.*.allow_request_headers).
MOCK_CONTROLS = ["x-mock-*"]


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(cond: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll cond() until it returns a truthy value; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while True:
        try:
            v = cond()
            if v:
                return v
        except AssertionError:
            raise
        except Exception as e:  # noqa: BLE001 - reported below
            last_exc = e
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last error: {last_exc!r})")
        time.sleep(interval)


def build_binaries(out_dir: Path) -> tuple[Path, Path]:
    """Build relayapi and mockprovider, or take RELAYAPI_BIN / MOCKPROVIDER_BIN."""
    relay_bin = os.environ.get("RELAYAPI_BIN")
    mock_bin = os.environ.get("MOCKPROVIDER_BIN")
    targets = []
    if not relay_bin:
        targets.append("./cmd/relayapi")
        relay_bin = str(out_dir / "relayapi")
    if not mock_bin:
        targets.append("./cmd/mockprovider")
        mock_bin = str(out_dir / "mockprovider")
    if targets:
        res = subprocess.run(
            ["go", "build", "-o", str(out_dir) + os.sep, *targets],
            cwd=SERVER_DIR, capture_output=True, text=True, timeout=600,
        )
        if res.returncode != 0:
            raise RuntimeError(f"go build failed:\n{res.stdout}\n{res.stderr}")
    return Path(relay_bin), Path(mock_bin)


class Proc:
    """A child process with its output in a log file."""

    def __init__(self, name: str, args: list[str], log_path: Path, cwd: Path | None = None,
                 env: dict[str, str] | None = None):
        self.name = name
        self.args = args
        self.log_path = log_path
        LOG_FILES.append(log_path)
        self._log = open(log_path, "ab")
        self.p = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, cwd=cwd,
                                  stdin=subprocess.DEVNULL, env=env)
        RUNNING.append(self)

    def alive(self) -> bool:
        return self.p.poll() is None

    def log_tail(self, n: int = 25) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def stop(self, timeout: float = 15) -> int:
        """SIGTERM, then wait (kill after timeout). Returns the exit code."""
        if self.alive():
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(timeout=5)
        self._log.close()
        if self in RUNNING:
            RUNNING.remove(self)
        return self.p.returncode


class Mock:
    """The running mock provider and its control API."""

    def __init__(self, binary: Path, workdir: Path):
        self.proc = Proc("mockprovider", [str(binary), "--listen", "127.0.0.1:0"], workdir / "mockprovider.log")

        def addr() -> str | None:
            if not self.proc.alive():
                raise AssertionError(f"mockprovider exited:\n{self.proc.log_tail()}")
            for line in self.proc.log_path.read_text().splitlines():
                if line.startswith("listening on "):
                    return line.split()[-1]
            return None

        self.addr = wait_until(addr, 15, "mockprovider to listen")
        self.url = f"http://{self.addr}"
        self.http = httpx.Client(base_url=self.url, timeout=10)

    def stats(self) -> dict:
        r = self.http.get("/_mock/stats")
        r.raise_for_status()
        return r.json()

    def count(self, key: str) -> int:
        """How many requests carrying this upstream credential reached the provider."""
        return self.stats()["by_key"].get(key, 0)

    def requests(self, key: str | None = None, path: str | None = None) -> list[dict]:
        params = {k: v for k, v in {"key": key, "path": path}.items() if v}
        r = self.http.get("/_mock/requests", params=params)
        r.raise_for_status()
        return r.json()["data"]

    def stop(self) -> None:
        self.http.close()
        self.proc.stop()


@dataclass
class Keys:
    dir: Path
    aes: Path          # k.rai: backend and relay
    ecc: Path          # e.rai: backend (signs)
    ecc_relay: Path    # e.relay.rai: relay (decrypts, trusts e.rai's signer)


def keygen(relay_bin: Path, d: Path) -> Keys:
    d.mkdir(parents=True, exist_ok=True)
    run = lambda *a: subprocess.run([str(relay_bin), *a], check=True, capture_output=True, text=True, timeout=30)  # noqa: E731
    run("keygen", "--method", "aes", "--out", str(d / "k.rai"))
    run("keygen", "--method", "ecc", "--out", str(d / "e.rai"), "--relay-out", str(d / "e.relay.rai"))
    return Keys(d, d / "k.rai", d / "e.rai", d / "e.relay.rai")


@dataclass
class Minted:
    token: str
    api_key: str
    claims: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.token


def mint_token(relay_bin: Path, rai: Path, *, provider: str = "mock", api_key: str | None = None,
               expires_in: str = "1h", **claims: Any) -> Minted:
    """`relayapi token` with each claim as its kebab-case flag."""
    api_key = api_key or "sk-real-" + secrets.token_hex(12)
    args = [str(relay_bin), "token", "--rai", str(rai), "--provider", provider,
            "--api-key", api_key, "--expires-in", expires_in]
    for name, value in claims.items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, (list, tuple)):
            value = ",".join(value)
        args += [flag, str(value)]
    res = subprocess.run(args, capture_output=True, text=True, timeout=30)
    if res.returncode != 0:
        raise RuntimeError(f"relayapi token failed ({res.returncode}): {res.stderr.strip()}")
    lines = res.stdout.strip().splitlines()
    assert len(lines) == 1, f"relayapi token printed {lines!r}, want the token alone on one line"
    minted = Minted(lines[0], api_key, dict(claims, provider=provider, expires_in=expires_in))
    MINTED.append(minted)
    return minted


class Relay:
    """A `relayapi serve` process on a config, key files and data dir."""

    def __init__(self, binary: Path, workdir: Path, config: dict, rai: list[Path], data_dir: Path,
                 base_path: str = ""):
        self.binary = binary
        self.base_path = base_path  # where it serves (/health included)
        self.workdir = workdir
        self.config = config
        self.rai = rai
        self.data_dir = data_dir
        self.config_path = workdir / "config.json"
        self.config_path.write_text(json.dumps(config, indent=2))
        self.proc: Proc | None = None
        self.url = ""
        self.starts = 0

    def start(self, timeout: float = 20, port: int | None = None, ca_file: Path | None = None) -> "Relay":
        """Start and wait until ready. A config with TLS (tls.cert_file or
        tls.domains) makes self.url https: the /health probe then trusts
        ca_file; without one (ACME, where a handshake may wait for the CA)
        the relay is ready when it logs that it listens."""
        port = port or free_port()
        tls = self.config.get("tls") or {}
        https = bool(tls.get("cert_file") or tls.get("domains"))
        self.url = f"{'https' if https else 'http'}://127.0.0.1:{port}"
        verify: bool | ssl.SSLContext = ssl.create_default_context(cafile=str(ca_file)) if ca_file else True
        args = [str(self.binary), "serve", "--config", str(self.config_path), "--data", str(self.data_dir),
                "--listen", f"127.0.0.1:{port}"]
        for r in self.rai:
            args += ["--rai", str(r)]
        self.starts += 1
        self.proc = Proc("relayapi", args, self.workdir / f"relay-{self.starts}.log", cwd=self.workdir)

        def ready() -> bool:
            if not self.proc.alive():
                raise AssertionError(f"relayapi serve exited with {self.proc.p.returncode}:\n{self.proc.log_tail()}")
            if https and ca_file is None:
                return '"msg":"relay listening"' in self.proc.log_path.read_text(errors="replace")
            try:
                return httpx.get(self.url + self.base_path + "/health", timeout=1, verify=verify).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(ready, timeout, "relayapi /health")
        return self

    def stop(self) -> int:
        assert self.proc is not None
        return self.proc.stop()


# ---------------------------------------------------------------------------
# What the mock answers (server/internal/mockprovider/tokens.go)

COMPLETION_PREFIX = "Hello from mock: "


def expected_completion(user: str, chunks: int = 0, max_tokens: int = 0) -> tuple[str, int]:
    """The mock's deterministic completion text and its token count."""
    words = (COMPLETION_PREFIX + user[:512]).split(" ")
    toks = [w if i == 0 else " " + w for i, w in enumerate(words)]
    if chunks:
        toks += [f" tok{i + 1}" for i in range(len(toks), chunks)]
        toks = toks[:chunks]
    if max_tokens and len(toks) > max_tokens:
        toks = toks[:max_tokens]
    return "".join(toks), len(toks)


def prompt_tokens(*texts: str) -> int:
    """The mock's prompt token count: runes / 4, at least 1."""
    return max(1, sum(len(t) for t in texts) // 4)


# ---------------------------------------------------------------------------
# Clients and checks


def openai_client(relay_url: str, token: str | Minted, form: str = "path", **kw: Any):
    """The official OpenAI client pointed at the relay: form "path" puts the
    token in the base URL, "header" passes it as the API key (Bearer)."""
    import openai

    kw.setdefault("max_retries", 0)
    kw.setdefault("timeout", 30)
    if form == "path":
        return openai.OpenAI(base_url=f"{relay_url}/t/{token}/v1", api_key="unused", **kw)
    assert form == "header", form
    return openai.OpenAI(base_url=f"{relay_url}/v1", api_key=str(token), **kw)


def anthropic_client(relay_url: str, token: str | Minted, form: str = "path", **kw: Any):
    """The official Anthropic client pointed at the relay (path or x-api-key form)."""
    import anthropic

    kw.setdefault("max_retries", 0)
    kw.setdefault("timeout", 30)
    if form == "path":
        return anthropic.Anthropic(base_url=f"{relay_url}/t/{token}", api_key="unused", **kw)
    assert form == "header", form
    return anthropic.Anthropic(base_url=relay_url, api_key=str(token), **kw)


def assert_forwarded_safely(mock: Mock, minted: Minted, auth: str = "bearer", expect: int | None = None) -> list[dict]:
    """The upstream got the real key in the provider's auth header, and the
    relay token appears nowhere in anything the mock saw (path, query,
    headers, body). Returns the requests made with the real key."""
    everything = json.dumps(mock.requests())
    assert minted.token not in everything, "the relay token reached the provider"
    reqs = mock.requests(key=minted.api_key)
    assert reqs, f"no request reached the mock with the real key {minted.api_key}"
    if expect is not None:
        assert len(reqs) == expect, f"mock saw {len(reqs)} requests with this key, want {expect}"
    for r in reqs:
        h = {k.lower(): v for k, v in r["headers"].items()}
        if auth == "bearer":
            assert h.get("authorization") == [f"Bearer {minted.api_key}"], h.get("authorization")
            assert "x-api-key" not in h and "api-key" not in h
        elif auth == "x-api-key":
            assert h.get("x-api-key") == [minted.api_key], h.get("x-api-key")
            assert "authorization" not in h, h.get("authorization")
    return reqs


def relay_error(resp: httpx.Response) -> dict:
    """The relay's error object, checking the exact DESIGN.md §5 shape."""
    body = resp.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"message", "type", "code"}, err
    assert err["type"] == "relayapi_error", err
    assert isinstance(err["message"], str) and err["message"], err
    return err
