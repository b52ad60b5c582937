"""Real Redis and PostgreSQL servers for the multi-instance tests, started
from the Debian packages (`scripts/test` installs them) on loopback ports,
each in its own temporary directory. Missing binaries fail loudly."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from relaytest import Proc, free_port, wait_until


def _require(path: str | None, package: str) -> str:
    if not path:
        raise AssertionError(f"{package} is not installed: run ./scripts/test or apt-get install {package}")
    return path


class RedisServer:
    """redis-server without persistence; stop() and start() keep the port,
    so a test can take it away from running relays and bring it back."""

    def __init__(self, workdir: Path):
        self.binary = _require(shutil.which("redis-server"), "redis-server")
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: Proc | None = None
        self.starts = 0

    def start(self) -> "RedisServer":
        self.starts += 1
        args = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                "--appendonly", "no", "--dir", str(self.workdir)]
        self.proc = Proc("redis", args, self.workdir / f"redis-{self.starts}.log")
        cli = shutil.which("redis-cli")

        def pong() -> bool:
            if not self.proc.alive():
                raise AssertionError(f"redis-server exited:\n{self.proc.log_tail()}")
            out = subprocess.run([cli, "-p", str(self.port), "ping"], capture_output=True, text=True, timeout=5)
            return out.stdout.strip() == "PONG"

        wait_until(pong, 15, "redis-server to answer PING")
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()


class PostgresServer:
    """A throwaway PostgreSQL cluster (fsync off: test data only). As root
    it runs as the `postgres` system user, since PostgreSQL refuses root."""

    def __init__(self, workdir: Path):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
        self.bindir = Path(_require(bins[-1] if bins else None, "postgresql")).parent
        # Its own directory directly under /tmp: pytest's base directory is
        # private to root, and the server runs as `postgres`.
        del workdir
        self.workdir = Path(tempfile.mkdtemp(prefix="relayapi-e2e-pg-"))
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/relayapi?sslmode=disable"
        self.proc: Proc | None = None

    def _as_owner(self, args: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *args]
        return args

    def start(self) -> "PostgresServer":
        data = self.workdir / "pgdata"
        os.chmod(self.workdir, 0o755)
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.workdir, pw.pw_uid, pw.pw_gid)
        subprocess.run(self._as_owner([str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres",
                                       "--auth=trust", "-E", "UTF8"]),
                       check=True, capture_output=True, timeout=120)
        args = self._as_owner([str(self.bindir / "postgres"), "-D", str(data), "-p", str(self.port),
                               "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.workdir}",
                               "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                               "-c", "max_connections=200"])
        self.proc = Proc("postgres", args, self.workdir / "postgres.log")
        psql = shutil.which("psql")

        def accepting() -> bool:
            if not self.proc.alive():
                raise AssertionError(f"postgres exited:\n{self.proc.log_tail()}")
            r = subprocess.run([psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres",
                                "-tAc", "select 1"], capture_output=True, text=True, timeout=5)
            return r.stdout.strip() == "1"

        wait_until(accepting, 30, "postgres to accept connections")
        subprocess.run([psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres",
                        "-c", "create database relayapi"], check=True, capture_output=True, timeout=30)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
