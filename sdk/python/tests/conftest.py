"""Shared fixtures: vector files, fresh key files and the Go binaries."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import ECKey

SDK_DIR = Path(__file__).resolve().parents[1]
REPO_DIR = SDK_DIR.parents[1]
SERVER_DIR = REPO_DIR / "server"
VECTORS_DIR = REPO_DIR / "testdata" / "vectors"


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    path = VECTORS_DIR / "vectors.json"
    assert path.is_file(), f"test vectors missing: {path}"
    return json.loads(path.read_text(encoding="utf-8"))


def vector_key(vectors: dict[str, Any], name: str) -> Path:
    return VECTORS_DIR / vectors["keys"][name]


# ----------------------------------------------------------------- key files

SERVER = {"host": "127.0.0.1", "port": 8840, "base_path": ""}


def aes_rai(key_hex: str | None = None, **crypto: Any) -> dict[str, Any]:
    return {
        "version": "1",
        "server": dict(SERVER),
        "crypto": {"method": "aes", "aes_key": key_hex or os.urandom(32).hex(), **crypto},
    }


def _ec_jwk(private: bool, alg: str, use: str) -> tuple[dict[str, Any], dict[str, Any]]:
    key = ECKey.generate_key("P-256", private=True)
    priv = dict(key.as_dict(private=True), alg=alg, use=use)
    pub = {k: v for k, v in priv.items() if k != "d"}
    return priv, pub


def ecc_rai_pair(n_signers: int = 1) -> tuple[dict[str, Any], dict[str, Any], list[dict]]:
    """(backend file, relay file, extra backend files) with fresh keys.

    The relay trusts the first backend's signer plus ``n_signers - 1`` others,
    whose backend files are returned as the third item.
    """
    relay_priv, relay_pub = _ec_jwk(True, "ECDH-ES", "enc")
    backends, signers = [], []
    for _ in range(n_signers):
        sign_priv, sign_pub = _ec_jwk(True, "ES256", "sig")
        signers.append(sign_pub)
        backends.append(
            {
                "version": "1",
                "server": dict(SERVER),
                "crypto": {
                    "method": "ecc",
                    "signing_key": sign_priv,
                    "relay_public_key": relay_pub,
                },
            }
        )
    relay = {
        "version": "1",
        "server": dict(SERVER),
        "crypto": {
            "method": "ecc",
            "relay_private_key": relay_priv,
            "trusted_signers": signers,
        },
    }
    return backends[0], relay, backends[1:]


# ------------------------------------------------------------- Go binaries


def _go_build(package: str, out: Path) -> Path:
    go = shutil.which("go") or "/usr/local/go/bin/go"
    env = dict(os.environ)
    if not env.get("GOROOT") and Path("/usr/local/go").is_dir():
        env["GOROOT"] = "/usr/local/go"
    proc = subprocess.run(
        [go, "build", "-o", str(out), package],
        cwd=SERVER_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        pytest.fail(f"go build {package} failed:\n{proc.stderr[-3000:]}")
    return out


def _binary(env_var: str, package: str, name: str, factory: Any) -> Path:
    given = os.environ.get(env_var)
    if given:
        path = Path(given)
        if not path.is_file():
            pytest.fail(f"{env_var}={given} does not exist")
        return path
    return _go_build(package, factory.mktemp("bin") / name)


@pytest.fixture(scope="session")
def relayapi_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The relayapi binary: $RELAYAPI_BIN, else built from ../../server."""
    return _binary("RELAYAPI_BIN", "./cmd/relayapi", "relayapi", tmp_path_factory)


@pytest.fixture(scope="session")
def mockprovider_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mock provider binary: $MOCKPROVIDER_BIN, else built from ../../server."""
    return _binary("MOCKPROVIDER_BIN", "./cmd/mockprovider", "mockprovider", tmp_path_factory)


# ------------------------------------------------------- running processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A child process with its output in a log file, for readable failures."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.args = args
        self.log = log
        self._file = log.open("wb")
        self.proc = subprocess.Popen(args, stdout=self._file, stderr=subprocess.STDOUT, env=env)

    def output(self) -> str:
        self._file.flush()
        return self.log.read_text(errors="replace")[-4000:]

    def wait_http(self, url: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"{self.args[0]} exited with {self.proc.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(url, timeout=1):
                    return
            except urllib.error.HTTPError:
                return  # it answers HTTP: it is up
            except OSError:
                time.sleep(0.1)
        pytest.fail(f"{self.args[0]} did not answer {url} within {timeout}s:\n{self.output()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._file.close()


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("RELAYAPI_")}


@pytest.fixture(scope="module")
def mock_provider(mockprovider_bin, tmp_path_factory):
    """The Go mock provider (one per test module): its root URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("mock") / "mockprovider.log"
    proc = Process([str(mockprovider_bin), "--listen", f"127.0.0.1:{port}"], log, clean_env())
    try:
        proc.wait_http(f"http://127.0.0.1:{port}/v1/models")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.stop()


def v1_rai(port: int, key_hex: str | None = None) -> dict[str, Any]:
    """A key file exactly in the form RelayAPI 1.x wrote default.rai (fresh key)."""
    return {
        "version": "1.0.0",
        "server": {"host": "http://127.0.0.1", "port": port, "base_path": "/relayapi/"},
        "crypto": {
            "method": "aes",
            "aes_key": key_hex or os.urandom(32).hex(),
            "aes_iv_seed": os.urandom(8).hex(),
        },
    }


def start_v1_relay(relayapi_bin: Path, mock_url: str, folder: Path) -> tuple[Process, Path]:
    """A relay serving under /relayapi with a 1.x-form default.rai; openai and dashscope → mock.

    Returns the running process and the path of its ``default.rai`` (the
    relay URL is ``http://127.0.0.1:{port}/relayapi``, as in the file).
    """
    port = free_port()
    rai_path = folder / "default.rai"
    rai_path.write_text(json.dumps(v1_rai(port), indent=2))
    mock = {"base_url": mock_url, "allow_request_headers": ["x-mock-*"]}
    config = {
        "base_path": "/relayapi",
        "providers": {"openai": dict(mock), "dashscope": dict(mock)},
        "store": {"driver": "sqlite", "url": ""},
    }
    proc = start_relay(relayapi_bin, folder, config, rai_path, port, health="/relayapi/health")
    return proc, rai_path


def start_relay(
    relayapi_bin: Path,
    folder: Path,
    config: dict[str, Any],
    rai_path: Path,
    port: int,
    health: str = "/health",
) -> Process:
    """``relayapi serve`` on config and one key file, ready when ``health`` answers."""
    config_path = folder / "config.json"
    config_path.write_text(json.dumps(config))
    args = [
        str(relayapi_bin),
        "serve",
        "--config",
        str(config_path),
        "--rai",
        str(rai_path),
        "--data",
        str(folder / "data"),
        "--listen",
        f"127.0.0.1:{port}",
    ]
    proc = Process(args, folder / "relay.log", clean_env())
    try:
        proc.wait_http(f"http://127.0.0.1:{port}{health}")
    except BaseException:
        proc.stop()
        raise
    return proc


def mock_requests(mock_url: str, key: str) -> list[dict[str, Any]]:
    """What the mock provider received with the upstream key ``key``."""
    with urllib.request.urlopen(f"{mock_url}/_mock/requests?key={key}") as resp:
        return json.loads(resp.read())["data"]
