"""Shared fixtures: vector files, fresh key files and the Go binaries."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
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
