"""bench/run scale: does the relay scale with the work? (issue 22)

    bench/run scale [--axes tokens,log,prune,redis] [--tokens 1,1000,10000,100000]
                    [--rows 0,1000000,10000000] [--window 20] [--short] ...

Four parts, each point on fresh processes (mock, store, relay):

  tokens  N distinct live tokens cycled by wrk (bench/tokens.lua), N = 1 …
          100,000: every token is used once (a warm-up pass) before the
          measured window, so the window is the steady state with N live
          tokens. req/s per core, relay RSS and Go heap, each ÷ the 1-token
          point.
  log     the store's request log pre-filled to 0 … 10M rows BEFORE the
          relay starts (rows written straight into the relay's own schema:
          SQLite request_log, or Redis ra:log), then loaded as above; req/s
          per core, RSS, store size, and the latency of /admin/stats and of
          filtered /admin/requests queries at that size.
  prune   retention pruning at 10M rows: a relay started on a pre-filled
          log of which a part is older than request_log.retention is loaded
          when its first prune runs (the relay prunes every 10 minutes from
          its start, a constant: server/internal/server/background.go), and
          the rows older than retention are counted every second while
          req/s and latency are recorded. It idles on CPU 1 meanwhile.
  redis   one relay (GOMAXPROCS=1, CPU 0) against two (CPU 0 and CPU 1)
          sharing one redis-server: total req/s; then the exactness of
          max_calls across the two relays (a token with max_calls M
          hammered through both gets exactly M successes).

This module is bench/run's: `bench/run scale` imports it (bench/run passes
itself as `run`) and it uses bench/run's process, sampling and config
helpers. Python standard library only.
"""

import argparse
import datetime
import json
import os
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

R = None  # the bench/run module, set by main()

TOKEN_COUNTS = [1, 1_000, 10_000, 100_000]
LOG_ROWS = [0, 1_000_000, 10_000_000]
AXES = ["tokens", "log", "prune", "redis"]
STORES = ["sqlite", "redis"]
# The relay's prune ticker (pruneEvery in server/internal/server/background.go):
# the first prune runs this long after the relay started. Not configurable.
PRUNE_EVERY_S = 600
# ... and each prune run stops after a minute (its context), carrying on at
# the next tick.
PRUNE_TIMEOUT_S = 60
RETENTION = "720h"  # request_log.retention, its default (30 days)
RETENTION_MS = 720 * 3600 * 1000
# Redis keeps its request log in a stream capped at ~100,000 entries
# (logMaxLen in server/internal/store/redisstore/keys.go): a larger
# pre-fill is trimmed to that anyway.
REDIS_LOG_MAX = 100_000

# Flatness goals reported as PASS/MISS (a MISS is a finding, not a harness
# failure). Tokens: issue 16's "within 20% of one token"; log size: a
# 10M-row log should cost nothing per request (writes append at the end).
GOAL_TOKENS_RATIO = 0.8
GOAL_LOG_RATIO = 0.9


def log(msg):
    R.log(msg)


# ---------------------------------------------------------------- arguments

def csv_ints(s):
    return [int(x.replace("_", "")) for x in s.split(",") if x.strip()]


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="bench/run scale",
        description="Throughput and memory as the work grows: live tokens (1 -> 100k), request-log rows "
                    "(0 -> 10M, and retention pruning at that size), and the Redis store behind two relay "
                    "processes against one.")
    ap.add_argument("--axes", default=",".join(AXES), help=f"comma separated: {','.join(AXES)} (default all)")
    ap.add_argument("--tokens", default=",".join(str(n) for n in TOKEN_COUNTS),
                    help="token counts of the tokens axis; the first is the baseline (default 1,1000,10000,100000)")
    ap.add_argument("--tokens-store", default=None,
                    help="stores of the tokens axis, comma separated (default sqlite,redis; --short: sqlite)")
    ap.add_argument("--rows", default=",".join(str(n) for n in LOG_ROWS),
                    help="request-log rows pre-filled for the log axis; the first is the baseline "
                         "(default 0,1000000,10000000)")
    ap.add_argument("--log-store", choices=STORES, default="sqlite",
                    help=f"store of the log axis (redis: its log stream is capped at {REDIS_LOG_MAX:,} entries)")
    ap.add_argument("--log-tokens", type=int, default=1_000, help="distinct tokens cycled on the log axis, "
                                                                  "the prune check and the redis part (default 1000)")
    ap.add_argument("--prune-rows", type=int, default=10_000_000, help="rows pre-filled for the prune check")
    ap.add_argument("--prune-fraction", type=float, default=0.1,
                    help="share of the pre-filled rows older than the retention (default 0.1)")
    ap.add_argument("--window", type=float, default=20, help="seconds of each measured load (default 20)")
    ap.add_argument("--warm-s", type=float, default=3,
                    help="minimum warm-up load before each window; it also lasts until every token was used once "
                         "(default 3)")
    ap.add_argument("--conns", type=int, default=32, help="wrk connections per relay point (default 32, as soak)")
    ap.add_argument("--exact-calls", type=int, default=2000,
                    help="max_calls of the token hammered through two relays (default 2000)")
    ap.add_argument("--short", action="store_true",
                    help="~40 s harness check: tokens 1,10000, rows 0,200000, redis; 3 s windows; no prune")
    ap.add_argument("--out", help="results JSON (default bench/results/scale-<date>.json, tables beside it as .md; "
                                  "--short: a temp file, tables on stdout only)")
    ap.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (logs, databases; holds keys)")
    a = ap.parse_args(argv)
    if a.short:
        a.tokens, a.rows, a.window, a.warm_s = "1,10000", "0,200000", 3, 1
        if a.axes == ",".join(AXES):
            a.axes = "tokens,log,redis"
    a.axes = [x.strip() for x in a.axes.split(",") if x.strip()]
    a.tokens_store = [x.strip() for x in (a.tokens_store or ("sqlite" if a.short else "sqlite,redis")).split(",")
                      if x.strip()]
    for x in a.tokens_store:
        if x not in STORES:
            ap.error(f"unknown store {x!r}")
    for x in a.axes:
        if x not in AXES:
            ap.error(f"unknown axis {x!r}")
    try:
        a.tokens, a.rows = csv_ints(a.tokens), csv_ints(a.rows)
    except ValueError:
        ap.error("--tokens and --rows are comma-separated integers")
    if not a.tokens or not all(1 <= n <= 2_000_000 for n in a.tokens):
        ap.error("--tokens: 1 to 2,000,000 each")
    if not a.rows or not all(0 <= n <= 100_000_000 for n in a.rows):
        ap.error("--rows: 0 to 100,000,000 each")
    if not 1 <= a.log_tokens <= 1_000_000 or not 1 <= a.conns <= 1000:
        ap.error("--log-tokens in [1, 1000000], --conns in [1, 1000]")
    if not 1 <= a.window <= 600 or not 0 <= a.warm_s <= 120:
        ap.error("--window in [1, 600], --warm-s in [0, 120]")
    if not 0 < a.prune_fraction < 1 or not 1000 <= a.prune_rows <= 100_000_000:
        ap.error("--prune-fraction in (0, 1), --prune-rows in [1000, 100000000]")
    if not 10 <= a.exact_calls <= 1_000_000:
        ap.error("--exact-calls in [10, 1000000]")
    return a


# ---------------------------------------------------------------- request-log pre-fill

# Rows spread evenly over span_ms up to now, in time order (ids ascend with
# time, as the relay writes them). The columns vary as real traffic does,
# from deterministic hashes of the row number (random() would be evaluated
# once per reference in a flattened subquery, and this is reproducible):
# 10,007 tokens (jti of the relay's 22-character length) over 2,003 users,
# three providers and five models, 95% 200s and 5% errors (429, 400, 401,
# 502, 500 with their error codes), latency, usage and sizes spread out.
PREFILL_SQL = """
WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < :n - 1),
h(i, k, r) AS (SELECT i, (i * 7919 + 13) % 10007, (i * 104729 + 7) % 1000003 % 1000 FROM c)
INSERT INTO request_log (time, request_id, jti, subject, provider, model, path, status, latency_us, ttfb_us,
  prompt_tokens, completion_tokens, estimated, bytes_in, bytes_out, error_code, usage_source)
SELECT :t0 + i * :span / :n,
  printf('%016x%016x', i, (i * 2654435761) % 4294967296),
  printf('scaletok%014d', k),
  'user-' || (k % 2003),
  CASE WHEN k % 20 < 3 THEN 'anthropic' WHEN k % 20 = 3 THEN 'gemini' ELSE 'openai' END,
  CASE WHEN k % 20 IN (0, 2) THEN 'claude-sonnet-4-5' WHEN k % 20 = 1 THEN 'claude-haiku-4-5'
       WHEN k % 20 = 3 THEN 'gemini-2.5-flash' WHEN r % 3 = 0 THEN 'gpt-4o' ELSE 'gpt-4o-mini' END,
  CASE WHEN k % 20 < 3 THEN '/v1/messages' WHEN k % 20 = 3 THEN '/v1beta/models/gemini-2.5-flash:generateContent'
       ELSE '/v1/chat/completions' END,
  CASE WHEN r < 950 THEN 200 WHEN r < 970 THEN 429 WHEN r < 980 THEN 400 WHEN r < 985 THEN 401
       WHEN r < 995 THEN 502 ELSE 500 END,
  200000 + r * 2900, 80000 + r * 700,
  CASE WHEN r < 950 THEN 20 + r % 700 ELSE 0 END,
  CASE WHEN r < 950 THEN 5 + (r * 7) % 400 ELSE 0 END,
  CASE WHEN r < 950 AND r % 50 = 0 THEN 1 ELSE 0 END,
  90 + r % 3000, CASE WHEN r < 950 THEN 400 + r * 3 ELSE 180 END,
  CASE WHEN r < 950 THEN '' WHEN r < 970 THEN 'rate_limited' WHEN r < 980 THEN 'bad_request'
       WHEN r < 985 THEN 'unauthorized' ELSE 'upstream_error' END,
  CASE WHEN r < 950 THEN CASE WHEN r % 50 = 0 THEN 'estimate' ELSE 'provider' END ELSE '' END
FROM h
"""
# A token and a user of the pre-fill (row 0's), and a token in no row:
# the filtered /admin/requests queries look them up.
PREFILLED_JTI = "scaletok00000000000013"
PREFILLED_SUB = "user-13"
UNKNOWN_JTI = "scaletok99999999999999"


def prefill_span_ms(fraction_old):
    """The pre-fill spans this much time so that fraction_old of its rows
    are older than the retention."""
    return int(RETENTION_MS / (1 - fraction_old))


def sqlite_prefill(schema_db, path, n, span_ms):
    """A copy of the relay's empty database (schema_db, made by the relay
    itself) with n request-log rows, in one transaction, journal off (a
    fresh file: nothing to recover), then back to WAL as the relay has it.
    Returns seconds taken."""
    shutil.copyfile(schema_db, path)
    if n == 0:
        return 0.0
    t = time.monotonic()
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=OFF")
        con.execute("PRAGMA synchronous=OFF")
        con.execute("PRAGMA cache_size=-262144")  # 256 MiB: the time index's pages stay in memory
        now = int(time.time() * 1000)
        con.execute("BEGIN")
        con.execute(PREFILL_SQL, {"n": n, "t0": now - span_ms, "span": span_ms})
        con.execute("COMMIT")
        mode = con.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            raise R.BenchError(f"pre-fill: the database stayed in {mode!r} mode")
    finally:
        con.close()
    return time.monotonic() - t


def redis_prefill(resp, n, span_ms):
    """n entries in ra:log, the Redis store's request log (a stream of JSON
    records in field "r", see redisstore/log.go), with stream ids at their
    record's time as the relay's XADD * gives them (Prune trims by id).
    Capped at REDIS_LOG_MAX like the relay's own appends. Returns seconds."""
    n = min(n, REDIS_LOG_MAX)
    if n == 0:
        return 0.0
    t = time.monotonic()
    now = int(time.time() * 1000)
    t0 = now - span_ms
    batch = []
    statuses = [(950, 200, ""), (970, 429, "rate_limited"), (980, 400, "bad_request"),
                (985, 401, "unauthorized"), (995, 502, "upstream_error"), (1000, 500, "upstream_error")]
    for i in range(n):
        k, r = (i * 7919 + 13) % 10007, (i * 104729 + 7) % 1000003 % 1000
        ms = t0 + i * span_ms // n
        status, code = next((s, c) for lim, s, c in statuses if r < lim)
        ok = status == 200
        rec = {"t": ms, "id": f"{i:016x}{(i * 2654435761) % 4294967296:016x}", "jti": f"scaletok{k:014d}",
               "sub": f"user-{k % 2003}", "p": "openai", "m": "gpt-4o" if r % 3 == 0 else "gpt-4o-mini",
               "path": "/v1/chat/completions", "st": status, "lat": 200000 + r * 2900, "ttfb": 80000 + r * 700,
               "pt": 20 + r % 700 if ok else 0, "ct": 5 + (r * 7) % 400 if ok else 0,
               "bi": 90 + r % 3000, "bo": 400 + r * 3 if ok else 180}
        if ok:
            rec["us"] = "provider"
        else:
            rec["err"] = code
        batch.append(("XADD", "ra:log", f"{ms}-{i}", "r", json.dumps(rec, separators=(",", ":"))))
        if len(batch) == 1000 or i == n - 1:
            resp_pipeline(resp, batch)
            batch = []
    return time.monotonic() - t


def resp_pipeline(resp, commands):
    """Send commands on a bench/run Resp connection in one write, then read
    every reply (a round trip per command would take minutes)."""
    out = bytearray()
    for args in commands:
        parts = [str(a).encode() for a in args]
        out += b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
    resp.sock.sendall(bytes(out))
    return [resp._read() for _ in commands]


# ---------------------------------------------------------------- one relay and its processes

class Rig:
    """A relay with its mock and store: its own unless given (mock_port,
    redis_port). Before the relay starts, db_template (a pre-filled SQLite
    file) becomes its database and before_relay(rig) runs (Redis pre-fill).
    cfg_extra is merged into bench/run's relay_config."""

    def __init__(self, ctx, name, d, store, cpu=None, mock_port=None, redis_port=None, mock_cpu=None,
                 db_template=None, before_relay=None, cfg_extra=None, move_template=False, warm=True):
        self.ctx, self.name, self.d, self.store = ctx, name, d, store
        self.cpu = R.CPU_SUT if cpu is None else cpu
        self.procs, self.resp, self.wrk = [], None, []
        self.redis_port = redis_port
        d.mkdir(parents=True, exist_ok=True)
        try:
            self._start(mock_port, mock_cpu, db_template, move_template, before_relay, cfg_extra or {}, warm)
        except BaseException:
            self.stop()
            raise

    def _start(self, mock_port, mock_cpu, db_template, move_template, before_relay, cfg_extra, warm):
        ctx, d = self.ctx, self.d
        if mock_port is None:
            mock_port = R.free_port()
            mlog = d / "benchmock.log"
            mock = R.spawn("benchmock", [ctx.bindir / "benchmock", "-addr", f"127.0.0.1:{mock_port}", "-size", "600"],
                           R.CPU_LOAD if mock_cpu is None else mock_cpu, env={"GOMAXPROCS": "1"}, logfile=mlog)
            self.procs.append(mock)
            R.wait_ready("benchmock", mock, mlog, R.http_ok(f"http://127.0.0.1:{mock_port}/healthz"))
        self.mock_port = mock_port
        if self.store == "redis" and self.redis_port is None:
            _, self.redis_port = R.start_redis(ctx, d, self.procs)
        if self.redis_port:
            self.resp = R.Resp(self.redis_port)
        port = R.free_port()
        cfg_path = R.relay_config(d, port, mock_port, ctx.keydir, self.store, self.redis_port)
        cfg = json.loads(cfg_path.read_text())
        for k, v in cfg_extra.items():
            cfg[k] = {**cfg.get(k, {}), **v} if isinstance(v, dict) else v
        cfg_path.write_text(json.dumps(cfg, indent=2))
        self.admin_key = cfg["admin"]["key"]  # already a bench/run secret(): masked in logs and results
        self.metrics_base = f"http://{cfg['metrics']['listen']}"
        self.metrics_url = self.metrics_base + "/metrics"
        self.datadir = d / "data"
        self.db = self.datadir / "relayapi.db"
        self.template_s = None
        if db_template:
            self.datadir.mkdir(mode=0o700, exist_ok=True)
            t = time.monotonic()
            if move_template:
                os.replace(db_template, self.db)
            else:
                shutil.copyfile(db_template, self.db)
            self.template_s = time.monotonic() - t
        if before_relay:
            before_relay(self)
        rl = d / "relayapi.log"
        self.started = time.monotonic()
        p = R.spawn(self.name, [ctx.bindir / "relayapi", "serve", "--config", cfg_path], self.cpu,
                    env={"GOMAXPROCS": "1"}, cwd=d, logfile=rl)
        self.procs.append(p)
        self.relay, self.logpath = p, rl
        self.url = f"http://127.0.0.1:{port}/v1/chat/completions"
        R.wait_ready(self.name, p, rl, R.http_ok(f"http://127.0.0.1:{port}/ready"), timeout=120)
        self.ready_s = time.monotonic() - self.started
        if warm:  # one request through the whole chain: 200 with JSON
            R.warm_up(self.name, self.url, self.ctx.first_token, rl)

    @property
    def pid(self):
        return self.relay.pid

    def check_alive(self):
        if self.relay.poll() is not None:
            raise R.BenchError(f"{self.name} exited {self.relay.returncode}:\n{R.tail(self.logpath)}")

    def admin(self, path, timeout=180.0):
        """GET an admin route: (status, seconds, decoded JSON or None)."""
        t = time.monotonic()
        status, _, body = R.http("GET", self.metrics_base + path,
                                 headers={"Authorization": f"Bearer {self.admin_key}"}, timeout=timeout)
        took = time.monotonic() - t
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        return status, took, doc

    def memory(self):
        m = R.scrape(self.metrics_url)
        return {"rss_kib": R.status_kib(self.pid, "VmRSS"), "hwm_kib": R.status_kib(self.pid, "VmHWM"),
                "heap_inuse_bytes": m.get("go_memstats_heap_inuse_bytes"),
                "go_sys_bytes": m.get("go_memstats_sys_bytes"), "goroutines": m.get("go_goroutines")}

    def store_size(self):
        if self.store == "sqlite":
            return {"db_bytes": R.file_size(self.db), "wal_bytes": R.file_size(f"{self.db}-wal")}
        mem = self.resp.info("memory")
        return {"redis_used_memory": mem.get("used_memory"), "redis_keys": self.resp.cmd("DBSIZE"),
                "redis_log_entries": self.resp.cmd("XLEN", "ra:log")}

    def stop(self):
        """The relay first (closing SQLite checkpoints its WAL), then the rest."""
        if self.resp:
            self.resp.close()
            self.resp = None
        for p in list(self.wrk):
            R.stop(p)
        for p in reversed(self.procs):
            R.stop(p, grace=60 if p is getattr(self, "relay", None) else 5)
        self.procs = []


# ---------------------------------------------------------------- load

def start_wrk(ctx, rig, tokens_file, seconds, conns, cpu):
    p = R.spawn("wrk", [ctx.wrk, "-t1", f"-c{conns}", f"-d{max(1, round(seconds))}s", "--latency",
                        "-s", R.BENCH / "tokens.lua", rig.url],
                cpu, env={"TOKENS_FILE": tokens_file}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    rig.wrk.append(p)
    return p


def wrk_result(rig, p, timeout):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        R.stop(p)
        raise R.BenchError(f"wrk against {rig.name} did not finish in {timeout:.0f}s")
    R.stop(p)
    if p in rig.wrk:
        rig.wrk.remove(p)
    text = out.decode(errors="replace")
    res = next((json.loads(line) for line in text.splitlines() if line.startswith('{"requests"')), None)
    if p.returncode != 0 or res is None:
        raise R.BenchError(f"wrk exited {p.returncode} without its JSON line: "
                           f"{R.mask(err.decode(errors='replace')[-600:])}{R.mask(text[-600:])}")
    return res


def warm_pass(ctx, rig, tokens_file, n_tokens, min_s, conns, cpu):
    """Load until every token was used once (tokens.lua cycles them in
    order on one wrk thread) and at least min_s passed; returns (seconds,
    requests). Bounded: fails past 60 s plus 2 ms a token."""
    base = R.scrape(rig.metrics_url)["requests"]
    limit = 60 + n_tokens / 500
    t = time.monotonic()
    p = start_wrk(ctx, rig, tokens_file, limit + 5, conns, cpu)
    try:
        while True:
            time.sleep(0.25)
            rig.check_alive()
            done = R.scrape(rig.metrics_url)["requests"] - base
            if done >= n_tokens + conns and time.monotonic() - t >= min_s:
                break
            if p.poll() is not None or time.monotonic() - t > limit:
                raise R.BenchError(f"warm-up of {rig.name}: {done:,.0f} requests in {time.monotonic() - t:.0f}s "
                                   f"for {n_tokens:,} tokens")
    finally:
        R.stop(p)
        if p in rig.wrk:
            rig.wrk.remove(p)
    time.sleep(0.3)  # let the calls wrk left in flight finish before the window
    return time.monotonic() - t, done


def measure(ctx, rigs, tokens_file, seconds, conns, load_cpu, sample_s=1.0, on_sample=None, extra_procs=None):
    """One measured window: a wrk per rig (conns each, on load_cpu), all at
    once. Returns per rig: the wrk result, CPU of the relay, memory, metrics
    deltas; and the CPU of every process we started (the rigs' and
    extra_procs) and of each CPU."""
    before = {r.name: R.scrape(r.metrics_url) for r in rigs}
    procs = dict(extra_procs or {})
    for r in rigs:
        for p in r.procs:
            name = p.bench_name
            procs[name if name not in procs else f"{name}[{r.name}]"] = p
    cpu0 = {k: R.cpu_seconds(p.pid) for k, p in procs.items()}
    busy0 = {c: sum(R.cpu_line(c)[:2]) for c in (0, 1)}
    windows = {r.name: R.Window(r.pid) for r in rigs}
    wrks = {r.name: start_wrk(ctx, r, tokens_file, seconds, conns, load_cpu) for r in rigs}
    t0 = time.monotonic()
    # wrk's CPU is read at each sample while it runs (it is gone once it
    # exits): its share is under-counted by at most one sample interval.
    wrk_cpu = {k: [R.cpu_seconds(p.pid)] * 2 for k, p in wrks.items()}
    rss_max = {r.name: 0 for r in rigs}
    samples = []
    nxt = t0 + sample_s
    while any(p.poll() is None for p in wrks.values()):
        if time.monotonic() > t0 + seconds + 60:
            raise R.BenchError(f"wrk still running {seconds + 60:.0f}s after a {seconds:.0f}s load")
        time.sleep(max(0.0, min(0.1, nxt - time.monotonic())))
        if time.monotonic() >= nxt:
            nxt += sample_s
            for r in rigs:
                r.check_alive()
                rss_max[r.name] = max(rss_max[r.name], R.status_kib(r.pid, "VmRSS"))
            for k, p in wrks.items():
                if p.poll() is None:
                    wrk_cpu[k][1] = max(wrk_cpu[k][1], R.cpu_seconds(p.pid))
            if on_sample:
                samples.append(on_sample(time.monotonic() - t0))
    wall = time.monotonic() - t0
    out = {}
    for r in rigs:
        res = wrk_result(r, wrks[r.name], 60)
        win = windows[r.name].end()
        after = R.scrape(r.metrics_url)
        mem = r.memory()
        d = {k: after[k] - before[r.name][k] for k in ("requests", "non_2xx", "client_closed")}
        rps = res["requests"] / (res["duration_us"] / 1e6)
        out[r.name] = {
            "wrk": res, "rps": rps, "cpu_s": win["cpu_s"], "wall_s": win["wall_s"], "cpu_pct": win["cpu_pct"],
            "rps_per_core": rps / (win["cpu_s"] / win["wall_s"]) if win["cpu_s"] > 0 else None,
            # What else ran on CPU 0: meaningful for a relay alone there only.
            "cpu0_foreign_pct": win["cpu0_foreign_pct"] if r.cpu == R.CPU_SUT and len(rigs) == 1 else None,
            "p50_ms": res["latency_us"]["p50"] / 1000, "p99_ms": res["latency_us"]["p99"] / 1000,
            "max_ms": res["latency_us"]["max"] / 1000,
            "rss_max_kib": max(rss_max[r.name], mem["rss_kib"]), **mem,
            "metrics_delta": d, "non_2xx_by": after.get("non_2xx_by", {}),
            "store_ops": {k: {"mean_us": 1e6 * (v[0] - before[r.name]["store_ops"].get(k, [0, 0])[0]) /
                              max(1, v[1] - before[r.name]["store_ops"].get(k, [0, 0])[1]),
                              "count": v[1] - before[r.name]["store_ops"].get(k, [0, 0])[1]}
                          for k, v in after["store_ops"].items()},
        }
        bad = {k: v for k, v in res["errors"].items() if v}
        if bad or d["non_2xx"]:
            raise R.BenchError(f"{r.name}: wrk errors {bad}, {d['non_2xx']:.0f} non-2xx answers "
                               f"({after.get('non_2xx_by')})\n{R.tail(r.logpath)}")
    # Where the two CPUs went in the window: ours by process, and each
    # CPU's busy share (the rest of a CPU's busy time is other processes).
    cpu1 = {k: R.cpu_seconds(p.pid) for k, p in procs.items()}
    procs_pct = {k: 100 * (cpu1[k] - cpu0[k]) / wall for k in procs}
    for k, (c0, c1) in wrk_cpu.items():
        procs_pct[f"wrk[{k}]"] = 100 * (c1 - c0) / wall
    busy = {str(c): 100 * (sum(R.cpu_line(c)[:2]) - busy0[c]) / R.CLK_TCK / wall for c in (0, 1)}
    return {"per_relay": out, "procs_cpu_pct": procs_pct, "cpu_busy_pct": busy, "wall_s": wall,
            "samples": samples}


def tokens_file_of(ctx, n):
    """The first n minted tokens in a file of their own (tokens.lua reads
    the whole file)."""
    path = ctx.tmp / f"tokens-{n}.txt"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(ctx.tokens_file) as src, os.fdopen(fd, "w") as dst:
            for i, line in enumerate(src):
                if i >= n:
                    break
                dst.write(line)
    return path


def point(ctx, rig, n_tokens, window_s=None):
    """Warm up (every token once), then one measured window on one relay."""
    tf = tokens_file_of(ctx, n_tokens)
    warm_s, warm_req = warm_pass(ctx, rig, tf, n_tokens, ctx.args.warm_s, ctx.args.conns, R.CPU_LOAD)
    m = measure(ctx, [rig], tf, window_s or ctx.args.window, ctx.args.conns, R.CPU_LOAD)
    r = m["per_relay"][rig.name]
    r.update({"tokens": n_tokens, "warm_s": round(warm_s, 1), "warm_requests": warm_req,
              "procs_cpu_pct": m["procs_cpu_pct"], "cpu_busy_pct": m["cpu_busy_pct"]})
    if (r["cpu0_foreign_pct"] or 0) > 5:
        log(f"   WARNING: other processes used {r['cpu0_foreign_pct']:.0f}% of CPU {R.CPU_SUT}: skewed")
        ctx.noisy.append(f"{rig.name}: {r['cpu0_foreign_pct']:.0f}% of CPU {R.CPU_SUT}")
    log(f"   {rig.name}: {r['rps']:,.0f} req/s at {r['cpu_pct']:.0f}% CPU = {r['rps_per_core']:,.0f} req/s/core, "
        f"p99 {r['p99_ms']:.2f} ms, max {r['max_ms']:.1f} ms, RSS {r['rss_kib'] / 1024:.1f} MiB, "
        f"heap {(r['heap_inuse_bytes'] or 0) / 2**20:.1f} MiB (warm-up {warm_s:.1f}s)")
    return r


# ---------------------------------------------------------------- the axes

def tokens_axis(ctx):
    return [tokens_axis_of(ctx, store) for store in ctx.args.tokens_store]


def tokens_axis_of(ctx, store):
    a = ctx.args
    out = {"store": store, "points": []}
    for n in a.tokens:
        log(f"== scale tokens: {n:,} live token{'s' if n > 1 else ''}, {store}")
        rig = Rig(ctx, f"relayapi-{store}", ctx.tmp / f"tokens-{store}-{n}", store)
        try:
            r = point(ctx, rig, n)
            r["store_size"] = rig.store_size()
            out["points"].append(r)
        finally:
            rig.stop()
    base = out["points"][0]
    for p in out["points"]:
        p["rps_per_core_ratio"] = p["rps_per_core"] / base["rps_per_core"]
        extra = p["tokens"] - base["tokens"]
        if extra > 0:
            p["rss_bytes_per_extra_token"] = (p["rss_kib"] - base["rss_kib"]) * 1024 / extra
            if p["heap_inuse_bytes"] is not None and base["heap_inuse_bytes"] is not None:
                p["heap_bytes_per_extra_token"] = (p["heap_inuse_bytes"] - base["heap_inuse_bytes"]) / extra
    return out


def admin_queries(now_ms):
    """(name, path) of the admin reads timed at each log size."""
    day = 86400 * 1000
    iso = lambda ms: datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    q = urllib.parse.quote
    return [
        ("stats (last hour, 60 s buckets)", "/admin/stats"),
        ("stats (last 24 h, 1 h buckets)", f"/admin/stats?since={q(iso(now_ms - day))}&bucket=3600"),
        ("requests (newest 50)", "/admin/requests"),
        ("requests status=5xx", "/admin/requests?status=5xx"),
        ("requests sub=<one of 2,003 users>", f"/admin/requests?sub={PREFILLED_SUB}"),
        ("requests jti=<one of 10,007 tokens>", f"/admin/requests?jti={PREFILLED_JTI}"),
        ("requests jti=<no row>", f"/admin/requests?jti={UNKNOWN_JTI}"),
        ("requests since/until: 1 h a week ago",
         f"/admin/requests?since={q(iso(now_ms - 7 * day))}&until={q(iso(now_ms - 7 * day + 3600_000))}"),
    ]


def time_admin(rig, reps=3):
    """Each admin query reps times on the idle relay: median and max ms."""
    out = []
    for name, path in admin_queries(int(time.time() * 1000)):
        times, status, info = [], None, {}
        for _ in range(reps):
            status, took, doc = rig.admin(path)
            times.append(took * 1000)
            if status != 200:
                break
            if isinstance(doc, dict):
                info = {"records": len(doc.get("data") or [])} if "data" in doc else {
                    "scanned": doc.get("scanned"), "truncated": doc.get("truncated")}
        out.append({"query": name, "path": path.split("?")[0] + ("?…" if "?" in path else ""),
                    "status": status, "ms_median": statistics.median(times), "ms_max": max(times), **info})
        log(f"   {name}: {statistics.median(times):,.1f} ms (max {max(times):,.1f}) {status} {info}")
    return out


def admin_under_load(ctx, rig, tokens_file, seconds):
    """One full-scan admin read (/admin/requests for a token with no row:
    the filter has no index, so SQLite reads the whole log) one second into
    a load window; per-second req/s around it."""
    path = f"/admin/requests?jti={UNKNOWN_JTI}"
    got = {}

    def query():
        time.sleep(1.0)  # into the load, not a synchronisation
        status, took, _ = rig.admin(path, timeout=300)
        got.update({"status": status, "ms": took * 1000, "ended_s": 1.0 + took})
    th = threading.Thread(target=query, daemon=True)
    last = {"requests": R.scrape(rig.metrics_url)["requests"], "t": 0.0}

    def sample(t):
        req = R.scrape(rig.metrics_url)["requests"]
        s = {"t_s": round(t, 2), "rps": (req - last["requests"]) / max(1e-6, t - last["t"])}
        last.update({"requests": req, "t": t})
        return s
    th.start()
    m = measure(ctx, [rig], tokens_file, seconds, ctx.args.conns, R.CPU_LOAD, sample_s=1.0, on_sample=sample)
    th.join(timeout=300)
    r = slim(m["per_relay"][rig.name])
    r.update({"query": "requests jti=<no row>", "query_status": got.get("status"), "query_ms": got.get("ms"),
              "query_inside_window": got.get("ended_s", 1e9) <= seconds,
              "rps_per_second": [round(x["rps"]) for x in m["samples"]]})
    log(f"   under load, one {r['query']}: {fnum(r['query_ms'])} ms; window {r['rps']:,.0f} req/s, p99 "
        f"{r['p99_ms']:.1f} ms, max {r['max_ms']:.1f} ms; per second {r['rps_per_second']}")
    return r


def log_axis(ctx):
    a = ctx.args
    store = a.log_store
    out = {"store": store, "tokens": a.log_tokens, "span_days": ctx.span_ms / 86400e3, "points": []}
    for n in a.rows:
        log(f"== scale log: {n:,} request-log rows pre-filled, {store}, {a.log_tokens:,} tokens")
        d = ctx.tmp / f"log-{store}-{n}"
        fill = {}
        if store == "sqlite":
            template = ctx.templates.get(n) or make_template(ctx, n)
            rig = Rig(ctx, "relayapi-sqlite", d, "sqlite", db_template=template,
                      move_template=n not in ctx.keep_templates)
            fill["prefill_s"] = ctx.prefill_s.get(n)
            fill["copy_s"] = rig.template_s
        else:
            def before(rig):
                fill["prefill_s"] = redis_prefill(rig.resp, n, ctx.span_ms)
                fill["prefilled_entries"] = rig.resp.cmd("XLEN", "ra:log")
            rig = Rig(ctx, "relayapi-redis", d, "redis", before_relay=before)
        try:
            fill["relay_ready_s"] = rig.ready_s
            size0 = rig.store_size()
            r = point(ctx, rig, a.log_tokens)
            r.update({"rows": n, **fill, "store_size_before": size0, "store_size": rig.store_size()})
            time.sleep(0.5)
            r["admin"] = time_admin(rig)
            r["admin_under_load"] = admin_under_load(ctx, rig, tokens_file_of(ctx, a.log_tokens),
                                                     max(3.0, a.window / 2))
            out["points"].append(r)
        finally:
            rig.stop()
        if store == "sqlite" and rig.db.exists():
            rig.db.unlink()  # a GiB or two per point: free the disk as we go
    base = out["points"][0]
    for p in out["points"]:
        p["rps_per_core_ratio"] = p["rps_per_core"] / base["rps_per_core"]
    return out


def make_template(ctx, n):
    path = ctx.tmp / f"prefill-{n}.db"
    log(f"   pre-filling {n:,} request-log rows")
    s = sqlite_prefill(ctx.schema_db, path, n, ctx.span_ms)
    ctx.prefill_s[n] = s
    log(f"   pre-filled {n:,} rows in {s:.1f}s ({R.file_size(path) / 2**20:,.0f} MiB)")
    ctx.templates[n] = path
    return path


def make_schema_db(ctx):
    """The relay creates its own empty database (schema, page size, WAL):
    started once on an empty data dir and stopped."""
    d = ctx.tmp / "schema"
    rig = Rig(ctx, "relayapi-schema", d, "sqlite", warm=False)
    rig.stop()
    path = ctx.tmp / "schema.db"
    shutil.copyfile(rig.db, path)
    if R.file_size(f"{rig.db}-wal"):
        raise R.BenchError("the relay left a WAL behind after stopping: its schema may not be in the file")
    return path


# ---- prune

def older_rows(db, cutoff_ms, exact=True):
    """Rows older than cutoff_ms, and the log's id range.

    exact=False is the per-second count under load: three index seeks,
    no scan. A scan would hold a read snapshot for a second or more (1.3 s
    for 1M rows of the time index), and the relay's writer cannot restart
    its WAL while a reader holds an old snapshot: it then pauses for a
    forced checkpoint every 250 ms and the WAL grows (measured: req/s
    halved). The seeks are exact here: pre-filled ids ascend with time,
    the relay's own rows are newer than any cutoff, and pruning deletes
    the oldest rows first, so the old rows are the ids from min(id) up to
    the first row at or after the cutoff."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        # Two queries: SQLite seeks for a lone min() or max(), and scans
        # the table for both in one.
        lo = con.execute("SELECT min(id) FROM request_log").fetchone()[0]
        hi = con.execute("SELECT max(id) FROM request_log").fetchone()[0]
        if exact:
            old = con.execute("SELECT count(*) FROM request_log WHERE time < ?", (cutoff_ms,)).fetchone()[0]
        else:
            row = con.execute("SELECT id FROM request_log WHERE time >= ? ORDER BY time LIMIT 1",
                              (cutoff_ms,)).fetchone()
            old = 0 if lo is None else (row[0] - lo if row else hi - lo + 1)
    finally:
        con.close()
    return old, lo, hi


def start_prune_rig(ctx):
    """The prune check's relay, started early (its first prune comes
    PRUNE_EVERY_S after its start) and left idle on CPU 1 until then."""
    a = ctx.args
    template = ctx.templates.get(a.prune_rows) or make_template(ctx, a.prune_rows)
    d = ctx.tmp / "prune"
    rig = Rig(ctx, "relayapi-prune", d, "sqlite", cpu=R.CPU_LOAD, db_template=template,
              cfg_extra={"request_log": {"retention": RETENTION}})
    rig.prefill_rows = a.prune_rows
    old, lo, hi = older_rows(rig.db, int(time.time() * 1000) - RETENTION_MS)
    log(f"   prune relay up (idle on CPU {R.CPU_LOAD}): {old:,} of {hi - lo + 1:,} rows older than {RETENTION}; "
        f"its first prune at +{PRUNE_EVERY_S}s")
    return rig


def prune_check(ctx, rig):
    """Load the prune relay across its first prune; count the rows older
    than the retention every second."""
    a = ctx.args
    lead = 45  # before the prune: re-pin, warm-up, a window of reference
    wait = rig.started + PRUNE_EVERY_S - lead - time.monotonic()
    if wait > 0:
        log(f"== scale prune: waiting {wait:.0f}s for the relay's first prune (it runs {PRUNE_EVERY_S}s after start)")
        time.sleep(wait)
    else:
        log(f"== scale prune: WARNING: {-wait:.0f}s late, the prune may already have started")
    R.run_cmd(["taskset", "-a", "-p", "-c", str(R.CPU_SUT), str(rig.pid)], quiet=True)
    rig.cpu = R.CPU_SUT
    R.run_cmd(["taskset", "-a", "-p", "-c", str(R.CPU_LOAD), str(rig.procs[0].pid)], quiet=True)
    cutoff = lambda: int(time.time() * 1000) - RETENTION_MS
    out = {"rows": rig.prefill_rows, "retention": RETENTION, "fraction_old": a.prune_fraction,
           "prune_at_s": PRUNE_EVERY_S, "prune_timeout_s": PRUNE_TIMEOUT_S}
    old0, lo0, hi0 = older_rows(rig.db, cutoff())
    out.update({"old_rows_before": old0, "id_range_before": [lo0, hi0]})
    tf = tokens_file_of(ctx, a.log_tokens)
    warm_pass(ctx, rig, tf, a.log_tokens, a.warm_s, a.conns, R.CPU_LOAD)
    ref_s = max(5, min(a.window, rig.started + PRUNE_EVERY_S - 5 - time.monotonic()))
    log(f"   reference window before the prune: {ref_s:.0f}s")
    m = measure(ctx, [rig], tf, ref_s, a.conns, R.CPU_LOAD)
    out["before"] = slim(m["per_relay"][rig.name])
    # The pruning window: from just before the tick to past its minute.
    during_s = max(10.0, rig.started + PRUNE_EVERY_S + PRUNE_TIMEOUT_S + 10 - time.monotonic())
    log(f"   load across the prune: {during_s:.0f}s, rows older than {RETENTION} counted every second")
    last = {"requests": R.scrape(rig.metrics_url)["requests"], "t": 0.0}

    def sample(t):
        old, lo, hi = older_rows(rig.db, cutoff(), exact=False)
        req = R.scrape(rig.metrics_url)["requests"]
        s = {"t_s": round(t, 2), "uptime_s": round(time.monotonic() - rig.started, 1),
             "wall_ms": int(time.time() * 1000), "old_rows": old,
             "min_id": lo, "max_id": hi, "rps": (req - last["requests"]) / max(1e-6, t - last["t"]),
             "wal_bytes": R.file_size(f"{rig.db}-wal")}
        last.update({"requests": req, "t": t})
        return s
    m = measure(ctx, [rig], tf, during_s, a.conns, R.CPU_LOAD, sample_s=1.0, on_sample=sample)
    out["during"] = slim(m["per_relay"][rig.name])
    out["samples"] = m["samples"]
    old1, lo1, hi1 = older_rows(rig.db, cutoff())
    out.update({"old_rows_after": old1, "id_range_after": [lo1, hi1], "store_size": rig.store_size(),
                "relay_log_warnings": [line for line in R.tail(rig.logpath, 20).splitlines() if "prun" in line]})
    out["prune"] = prune_summary(m["samples"])
    p = out["prune"]
    if p:
        # The relay pruned rows older than (its clock at the prune's start -
        # retention); its start is after the sample before the first fall:
        # no row older than that sample's cutoff may be left.
        p["left_older_than_prune_cutoff"] = older_rows(rig.db, p["cutoff_ms"])[0]
        log(f"   pruned {p['rows_pruned']:,} rows in {p['seconds']:.0f}s ({p['rows_per_s']:,.0f}/s); req/s during "
            f"min {p['rps_min_during']:,.0f} median {p['rps_median_during']:,.0f}, outside "
            f"{p['rps_median_outside'] or 0:,.0f}; {old1:,} older rows left")
    else:
        log(f"   WARNING: no row was pruned ({old1:,} rows older than {RETENTION} left)")
    return out


def prune_summary(s):
    """From the per-second samples: when the rows older than the retention
    fell, how fast, and req/s in those seconds against the others. Without
    pruning the count only rises (the cutoff moves forward: ~4 rows a
    second with 10M rows over 33 days), so a fall is the relay pruning.
    None when nothing fell."""
    falling = [i for i in range(1, len(s)) if s[i]["old_rows"] < s[i - 1]["old_rows"]]
    if not falling:
        return None
    first, last = falling[0], falling[-1]
    t_a, t_b = s[first - 1]["t_s"], s[last]["t_s"]
    pruned = s[first - 1]["old_rows"] - s[last]["old_rows"]
    during = [x["rps"] for x in s[first:last + 1]]
    # The first sample's rate covers the time before it (the load's start).
    outside = [x["rps"] for x in s[1:first]] + [x["rps"] for x in s[last + 2:-1]]
    return {"started_uptime_s": s[first - 1]["uptime_s"], "cutoff_ms": s[first - 1]["wall_ms"] - RETENTION_MS,
            "seconds": round(t_b - t_a, 1),
            "rows_pruned": pruned, "rows_per_s": pruned / max(1e-6, t_b - t_a),
            "rps_min_during": min(during), "rps_median_during": statistics.median(during),
            "rps_median_outside": statistics.median(outside) if outside else None,
            "wal_max_bytes": max(x["wal_bytes"] for x in s)}


def slim(r):
    return {k: r[k] for k in ("rps", "cpu_pct", "rps_per_core", "p50_ms", "p99_ms", "max_ms", "rss_kib",
                              "heap_inuse_bytes", "cpu0_foreign_pct", "wrk", "metrics_delta", "store_ops")}


# ---- redis: one relay process against two

def redis_axis(ctx):
    a = ctx.args
    tf = tokens_file_of(ctx, a.log_tokens)
    out = {"tokens": a.log_tokens, "conns_total": 2 * a.conns}
    # One relay on CPU 0; wrk, mock and redis on CPU 1 (bench/run's pinning).
    log(f"== scale redis: one relay process (CPU {R.CPU_SUT}), {2 * a.conns} connections")
    rig = Rig(ctx, "relayapi-redis-1", ctx.tmp / "redis-one", "redis")
    try:
        warm_pass(ctx, rig, tf, a.log_tokens, a.warm_s, 2 * a.conns, R.CPU_LOAD)
        m = measure(ctx, [rig], tf, a.window, 2 * a.conns, R.CPU_LOAD)
        r = m["per_relay"][rig.name]
        out["one"] = {"rps": r["rps"], "relays": {rig.name: slim(r)}, "procs_cpu_pct": m["procs_cpu_pct"],
                      "cpu_busy_pct": m["cpu_busy_pct"]}
        log(f"   one relay: {r['rps']:,.0f} req/s (relay CPU {r['cpu_pct']:.0f}%), p99 {r['p99_ms']:.2f} ms; "
            f"CPU busy {m['cpu_busy_pct']}")
    finally:
        rig.stop()
    # Two relays, one per CPU; redis-server, the mock and the two wrk are
    # free to run on either CPU (there is no third core for them).
    both = f"{R.CPU_SUT},{R.CPU_LOAD}"
    log(f"== scale redis: two relay processes (CPU {R.CPU_SUT} and CPU {R.CPU_LOAD}), one redis-server, "
        f"{a.conns} connections each")
    d = ctx.tmp / "redis-two"
    d.mkdir()
    shared = []
    rigs = []
    try:
        _, redis_port = R.start_redis(ctx, d, shared)
        R.run_cmd(["taskset", "-a", "-p", "-c", both, str(shared[0].pid)], quiet=True)
        rigs.append(Rig(ctx, "relayapi-redis-A", d / "A", "redis", cpu=R.CPU_SUT, redis_port=redis_port,
                        mock_cpu=both))
        rigs.append(Rig(ctx, "relayapi-redis-B", d / "B", "redis", cpu=R.CPU_LOAD, redis_port=redis_port,
                        mock_port=rigs[0].mock_port))
        for rig in rigs:
            warm_pass(ctx, rig, tf, a.log_tokens, a.warm_s, a.conns, both)
        m = measure(ctx, rigs, tf, a.window, a.conns, both, extra_procs={"redis-server": shared[0]})
        rp = sum(x["rps"] for x in m["per_relay"].values())
        out["two"] = {"rps": rp, "relays": {k: slim(v) for k, v in m["per_relay"].items()},
                      "procs_cpu_pct": m["procs_cpu_pct"], "cpu_busy_pct": m["cpu_busy_pct"]}
        out["two_over_one"] = rp / out["one"]["rps"]
        log(f"   two relays: {rp:,.0f} req/s total ({out['two_over_one']:.2f}x one): " + ", ".join(
            f"{k} {v['rps']:,.0f} req/s at {v['cpu_pct']:.0f}% CPU" for k, v in m["per_relay"].items()) +
            f"; CPU busy {m['cpu_busy_pct']}")
        out["exact"] = exact_count(ctx, rigs, both)
    finally:
        for rig in rigs:
            rig.stop()
        for p in reversed(shared):
            R.stop(p)
    return out


def exact_count(ctx, rigs, cpu):
    """A token with max_calls M, hammered through both relays at once:
    the 2xx answers both wrk saw must add up to exactly M, and the store's
    count of its calls too."""
    a = ctx.args
    m = a.exact_calls
    tf, jf = ctx.tmp / "limited-token.txt", ctx.tmp / "limited-jti.txt"
    R.run_cmd([ctx.bindir / "mint", "-rai", ctx.keydir / "aes.rai", "-n", 1, "-out", tf, "-jti-out", jf,
               "-provider", "mock", "-expires-in", "2h", "-max-calls", m], env={"RELAYAPI_API_KEY": R.TOKEN_API_KEY},
              quiet=True)
    jti = jf.read_text().strip()
    # Long enough to exhaust M at a few thousand req/s, with wrk still
    # sending: the last answers are refusals, none in flight is a success.
    seconds = max(3, round(3 * m / 2000))
    log(f"== scale redis exact count: max_calls {m:,} through both relays at once for {seconds}s")
    before = {r.name: R.scrape(r.metrics_url) for r in rigs}
    ps = {r.name: start_wrk(ctx, r, tf, seconds, a.conns, cpu) for r in rigs}
    res = {r.name: wrk_result(r, ps[r.name], seconds + 60) for r in rigs}
    time.sleep(0.5)
    per = {}
    for r in rigs:
        w = res[r.name]
        after = R.scrape(r.metrics_url)
        per[r.name] = {"requests": w["requests"], "ok": w["requests"] - w["errors"]["status"],
                       "refused": w["errors"]["status"],
                       "relay_non_2xx": after["non_2xx"] - before[r.name]["non_2xx"],
                       "relay_requests": after["requests"] - before[r.name]["requests"],
                       "refusals_by": {k: v - before[r.name].get("non_2xx_by", {}).get(k, 0)
                                       for k, v in after.get("non_2xx_by", {}).items()}}
    status, _, usage = rigs[0].admin(f"/admin/tokens/{jti}")
    ok = sum(p["ok"] for p in per.values())
    out = {"max_calls": m, "seconds": seconds, "per_relay": per, "ok_total": ok,
           "store_calls": (usage or {}).get("calls") if status == 200 else None,
           "both_served": all(p["ok"] > 0 for p in per.values())}
    out["exact"] = ok == m and out["store_calls"] == m
    log(f"   {' + '.join(str(p['ok']) for p in per.values())} = {ok:,} successes, store counts "
        f"{out['store_calls']}, for max_calls {m:,}: {'EXACT' if out['exact'] else 'NOT EXACT'}")
    return out


# ---------------------------------------------------------------- report

def checks(doc):
    out = []

    def add(check, value, goal, ok):
        out.append({"check": check, "value": value, "goal": goal, "result": "PASS" if ok else "MISS"})
    for t in doc.get("tokens_axis") or []:
        if len(t["points"]) < 2:
            continue
        p = t["points"][-1]
        add(f"req/s/core with {p['tokens']:,} tokens ÷ {t['points'][0]['tokens']:,} ({t['store']})",
            f"{p['rps_per_core_ratio']:.2f}x", f">= {GOAL_TOKENS_RATIO}x", p["rps_per_core_ratio"] >= GOAL_TOKENS_RATIO)
    lg = doc.get("log_axis")
    if lg and len(lg["points"]) > 1:
        p = lg["points"][-1]
        add(f"req/s/core with {p['rows']:,} log rows ÷ {lg['points'][0]['rows']:,} ({lg['store']})",
            f"{p['rps_per_core_ratio']:.2f}x", f">= {GOAL_LOG_RATIO}x", p["rps_per_core_ratio"] >= GOAL_LOG_RATIO)
    pr = doc.get("prune")
    if pr:
        p = pr.get("prune")
        left = p["left_older_than_prune_cutoff"] if p else pr["old_rows_after"]
        add("rows older than retention pruned within one prune run", f"{left:,} left of "
            f"{pr['old_rows_before']:,}", "0 left", left == 0)
        if p and p.get("rps_median_outside"):
            ratio = p["rps_min_during"] / p["rps_median_outside"]
            add("slowest second while pruning ÷ median outside", f"{ratio:.2f}x", ">= 0.5x", ratio >= 0.5)
    rd = doc.get("redis")
    if rd and "exact" in rd:
        e = rd["exact"]
        add("max_calls exact across two relays", f"{e['ok_total']:,} successes, store {e['store_calls']}",
            f"{e['max_calls']:,}", e["exact"])
    return out


def ckpt(r):
    """Forced WAL checkpoints (writer pauses) in a window: count (mean ms)."""
    c = (r.get("store_ops") or {}).get("checkpoint")
    return f"{c['count']:,.0f} ({c['mean_us'] / 1000:.0f})" if c and c["count"] else "0"


def fnum(v, nd=0):
    return "—" if v is None else f"{v:,.{nd}f}"


def mib(kib_or_bytes, is_bytes=False):
    if kib_or_bytes is None:
        return "—"
    return f"{kib_or_bytes / (2**20 if is_bytes else 1024):,.1f}"


def markdown(doc):
    lines = [f"## Scale (bench/run scale) — {doc['machine']['date']}, relay {doc['machine'].get('git')}", ""]

    def table(title, head, rows):
        if not rows:
            return
        lines.extend([f"### {title}", "", "| " + " | ".join(head) + " |",
                      "|" + "|".join("---" if i == 0 else "---:" for i in range(len(head))) + "|"])
        lines.extend("| " + " | ".join(str(c) for c in r) + " |" for r in rows)
        lines.append("")
    for t in doc.get("tokens_axis") or []:
        table(f"Live tokens ({t['store']}, wrk -t1 -c{doc['method']['conns']}, {doc['method']['window_s']:.0f} s "
              f"after a warm-up pass over every token)",
              ["tokens", "req/s", "relay CPU %", "req/s/core", "÷ first", "p99 ms", "max ms", "RSS MiB",
               "Go heap MiB", "RSS B / extra token", "heap B / extra token", "warm-up s"],
              [[f"{p['tokens']:,}", fnum(p["rps"]), fnum(p["cpu_pct"]), fnum(p["rps_per_core"]),
                f"{p['rps_per_core_ratio']:.2f}x", fnum(p["p99_ms"], 2), fnum(p["max_ms"], 1), mib(p["rss_kib"]),
                mib(p["heap_inuse_bytes"], True), fnum(p.get("rss_bytes_per_extra_token")),
                fnum(p.get("heap_bytes_per_extra_token")), fnum(p["warm_s"], 1)] for p in t["points"]])
    lg = doc.get("log_axis")
    if lg:
        sz = lambda s: mib((s.get("db_bytes") or 0) + (s.get("wal_bytes") or 0), True) if "db_bytes" in s else \
            f"{mib(s.get('redis_used_memory'), True)} ({s.get('redis_log_entries'):,} log entries)"
        table(f"Request-log size ({lg['store']}, {lg['tokens']:,} tokens, rows spread over "
              f"{lg['span_days']:.1f} days)",
              ["rows pre-filled", "pre-fill s", "relay ready s", "store MiB", "req/s", "relay CPU %", "req/s/core",
               "÷ first", "p99 ms", "max ms", "RSS MiB", "Go heap MiB"],
              [[f"{p['rows']:,}", fnum(p.get("prefill_s"), 1), fnum(p.get("relay_ready_s"), 2),
                sz(p["store_size"]), fnum(p["rps"]), fnum(p["cpu_pct"]), fnum(p["rps_per_core"]),
                f"{p['rps_per_core_ratio']:.2f}x", fnum(p["p99_ms"], 2), fnum(p["max_ms"], 1), mib(p["rss_kib"]),
                mib(p["heap_inuse_bytes"], True)] for p in lg["points"]])
        names = [q["query"] for q in lg["points"][0]["admin"]]
        rows = []
        for i, name in enumerate(names):
            row = [name]
            for p in lg["points"]:
                q = p["admin"][i]
                cell = f"{q['ms_median']:,.1f}" if q["status"] == 200 else f"HTTP {q['status']}"
                if q.get("truncated"):
                    cell += " (truncated)"
                row.append(cell)
            rows.append(row)
        table("Admin reads on the idle relay after the load (ms, median of 3)",
              ["query"] + [f"{p['rows']:,} rows" for p in lg["points"]], rows)
        ul = [p for p in lg["points"] if p.get("admin_under_load")]
        table("One `/admin/requests?jti=<no row>` (a full scan) one second into a load window",
              ["rows", "query ms under load", "window req/s", "÷ the point's window", "slowest second req/s",
               "p99 ms", "max ms", "forced WAL checkpoints (mean ms)"],
              [[f"{p['rows']:,}", fnum(u["query_ms"]), fnum(u["rps"]), f"{u['rps'] / p['rps']:.2f}x",
                fnum(min(u["rps_per_second"][1:] or u["rps_per_second"] or [None])), fnum(u["p99_ms"], 1),
                fnum(u["max_ms"], 1), ckpt(u)] for p in lg["points"] for u in [p["admin_under_load"]]] if ul else [])
    pr = doc.get("prune")
    if pr:
        p = pr.get("prune") or {}
        b, d = pr["before"], pr["during"]
        table(f"Retention pruning at {pr['rows']:,} rows ({pr['fraction_old']:.0%} older than {pr['retention']})",
              ["", "value"],
              [["rows older than retention before", f"{pr['old_rows_before']:,}"],
               ["rows older than the prune's cutoff after", fnum(p.get("left_older_than_prune_cutoff"))],
               ["prune started at relay uptime s", fnum(p.get("started_uptime_s"), 1)],
               ["seconds the rows fell", fnum(p.get("seconds"), 1)],
               ["rows pruned per second", fnum(p.get("rows_per_s"))],
               ["req/s before (window)", f"{fnum(b['rps'])} (p99 {b['p99_ms']:.2f} ms, max {b['max_ms']:.1f} ms)"],
               ["req/s across the prune (window)",
                f"{fnum(d['rps'])} (p99 {d['p99_ms']:.2f} ms, max {d['max_ms']:.1f} ms)"],
               ["req/s per second while pruning: min / median", f"{fnum(p.get('rps_min_during'))} / "
                                                               f"{fnum(p.get('rps_median_during'))}"],
               ["req/s per second outside the prune: median", fnum(p.get("rps_median_outside"))],
               ["forced WAL checkpoints before / across (mean ms)", f"{ckpt(b)} / {ckpt(d)}"],
               ["WAL max MiB during", mib(p.get("wal_max_bytes"), True)]])
    rd = doc.get("redis")
    if rd:
        rows = []
        for k in ("one", "two"):
            x = rd.get(k)
            if not x:
                continue
            rel = "; ".join(f"{v['rps']:,.0f} req/s at {v['cpu_pct']:.0f}% CPU, p99 {v['p99_ms']:.2f} ms"
                            for v in x["relays"].values())
            others = ", ".join(f"{n} {v:.0f}%" for n, v in sorted(x["procs_cpu_pct"].items())
                               if not n.startswith("relayapi"))
            relay_cpu = sum(v["cpu_pct"] for v in x["relays"].values()) / 100
            rows.append([k, fnum(x["rps"]), f"{x['rps'] / rd['one']['rps']:.2f}x", rel,
                         fnum(1e6 * relay_cpu / x["rps"], 1), others,
                         f"{x['cpu_busy_pct']['0']:.0f}% / {x['cpu_busy_pct']['1']:.0f}%"])
        table(f"Redis: one relay process vs two ({rd['tokens']:,} tokens, {rd['conns_total']} connections in all)",
              ["relays", "req/s total", "÷ one", "each relay", "relay CPU µs / request", "others (CPU %)",
               "CPU 0 / CPU 1 busy"], rows)
        e = rd.get("exact")
        if e:
            table("max_calls across two relays", ["max_calls", "successes per relay", "sum", "store's count",
                                                  "refusals", "exact"],
                  [[f"{e['max_calls']:,}", " + ".join(f"{p['ok']:,}" for p in e["per_relay"].values()),
                    f"{e['ok_total']:,}", fnum(e["store_calls"]),
                    "; ".join(f"{k}: {v:,.0f}" for p in e["per_relay"].values()
                              for k, v in p["refusals_by"].items() if v),
                    "**yes**" if e["exact"] else "**NO**"]])
    if doc.get("checks"):
        table("Checks", ["check", "value", "goal", "result"],
              [[c["check"], c["value"], c["goal"], f"**{c['result']}**"] for c in doc["checks"]])
    if doc.get("failures"):
        lines += ["### FAILURES", ""] + [f"- {f}" for f in doc["failures"]] + [""]
    if doc.get("noisy"):
        lines += ["Noisy (other processes on CPU 0): " + "; ".join(doc["noisy"]), ""]
    lines.append(f"Elapsed {doc['elapsed_s']:.0f} s. Command: `{doc['method']['command']}`")
    return "\n".join(lines)


# ---------------------------------------------------------------- main

def main(argv, run_module):
    global R
    R = run_module
    args = parse_args(argv)
    if (os.cpu_count() or 1) < 2 or R.CPU_LOAD not in os.sched_getaffinity(0):
        print("bench/run scale: needs CPUs 0 and 1", file=sys.stderr)
        return 2
    started = time.monotonic()
    ctx = R.Ctx()
    ctx.args = args
    ctx.tmp = Path(tempfile.mkdtemp(prefix="relayapi-scale-", dir="/tmp"))
    ctx.bindir = ctx.tmp / "bin"
    ctx.bindir.mkdir()
    ctx.nginx = None
    ctx.noisy, ctx.templates, ctx.prefill_s = [], {}, {}
    ctx.span_ms = prefill_span_ms(args.prune_fraction)
    failures, doc = [], {"kind": "scale"}
    code = 1
    prune_rig = None
    try:
        R.ensure_soak_tools(["redis"] if "redis" in args.axes + args.tokens_store + [args.log_store] else [])
        ctx.wrk, ctx.redis = R.find_bin("wrk"), R.find_bin("redis-server")
        git = {"git_head": R.run_cmd(["git", "-C", R.REPO, "log", "-1", "--format=%H %cI %s"], quiet=True).strip(),
               "server_changes": R.run_cmd(["git", "-C", R.REPO, "status", "--porcelain", "--", "server"],
                                           quiet=True).splitlines()}
        R.build(ctx.bindir, ["relayapi"], tools=("./cmd/benchmock", "./cmd/mint"))
        os.sched_setaffinity(0, {R.CPU_LOAD})
        ctx.busy = R.cpu_busy_pct(0.5)
        if ctx.busy > 10:
            log(f"WARNING: the machine is {ctx.busy:.0f}% busy before the run: results will be skewed")
        ctx.keydir = ctx.tmp / "keys"
        ctx.keydir.mkdir(mode=0o700)
        R.make_keys(ctx.bindir, ctx.keydir)
        n_mint = max(args.tokens + [args.log_tokens])
        ctx.tokens_file = ctx.tmp / "tokens.txt"
        t = time.monotonic()
        minted = json.loads(R.run_cmd(
            [ctx.bindir / "mint", "-rai", ctx.keydir / "aes.rai", "-n", n_mint, "-out", ctx.tokens_file,
             "-provider", "mock", "-expires-in", "6h"],
            env={"RELAYAPI_API_KEY": R.TOKEN_API_KEY}, timeout=600).strip().splitlines()[-1])
        log(f"minted {n_mint:,} aes tokens in {time.monotonic() - t:.1f}s (not shown)")
        with open(ctx.tokens_file) as f:
            ctx.first_token = R.secret(f.readline().strip())
        sqlite_rows = args.rows if "log" in args.axes and args.log_store == "sqlite" else []
        need_schema = sqlite_rows or "prune" in args.axes
        ctx.keep_templates = {args.prune_rows} if "prune" in args.axes else set()
        if need_schema:
            ctx.schema_db = make_schema_db(ctx)
        if "prune" in args.axes:
            prune_rig = start_prune_rig(ctx)
            ctx.keep_templates = set()  # it has its copy: the log axis may take the file itself
        doc["method"] = method(ctx, argv, minted)
        for axis, fn, key in (("tokens", tokens_axis, "tokens_axis"), ("log", log_axis, "log_axis"),
                              ("redis", redis_axis, "redis")):
            if axis in args.axes:
                try:
                    doc[key] = fn(ctx)
                except (R.BenchError, OSError, ValueError) as e:
                    msg = R.mask(str(e))
                    log(f"   FAIL ({axis}): {msg}")
                    failures.append(f"{axis}: {msg.splitlines()[0] if msg else type(e).__name__}")
        if prune_rig:
            try:
                doc["prune"] = prune_check(ctx, prune_rig)
            except (R.BenchError, OSError, ValueError) as e:
                msg = R.mask(str(e))
                log(f"   FAIL (prune): {msg}")
                failures.append(f"prune: {msg.splitlines()[0] if msg else type(e).__name__}")
            finally:
                prune_rig.stop()
                prune_rig = None
        if ctx.prefill_s:
            doc["method"]["prefill_s"] = {str(k): round(v, 1) for k, v in ctx.prefill_s.items()}
        info = R.machine_info(ctx)
        info.update(git)
        info["git"] = git["git_head"][:12] + ("+dirty" if git["server_changes"] else "")
        doc["machine"] = info
        exact = doc.get("redis", {}).get("exact")
        if exact and not exact["exact"]:
            failures.append(f"max_calls not exact across two relays: {exact['ok_total']} successes, store "
                            f"{exact['store_calls']}, max_calls {exact['max_calls']}")
        doc["checks"] = checks(doc)
        doc["failures"], doc["noisy"] = failures, ctx.noisy
        doc["ok"] = not failures
        doc["elapsed_s"] = round(time.monotonic() - started, 1)
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d-%H%M%S")
        out = Path(args.out) if args.out else (
            ctx.tmp.parent / f"relayapi-scale-short-{os.getpid()}.json" if args.short else
            R.BENCH / "results" / f"scale-{stamp}.json")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(R.mask(json.dumps(doc, indent=1)) + "\n")
        md = R.mask(markdown(doc))
        print(md)
        if not args.short:
            out.with_suffix(".md").write_text(md + "\n")
        log(f"results: {out}" + ("" if args.short else f", tables: {out.with_suffix('.md')}"))
        if failures:
            log(f"FAILED: {'; '.join(failures)}")
        else:
            log(f"scale OK in {time.monotonic() - started:.1f}s")
        code = 0 if not failures else 1
    except R.BenchError as e:
        log(f"FAIL: {e}")
        code = 1
    except KeyboardInterrupt:
        log("interrupted")
        code = 130
    finally:
        if prune_rig:
            prune_rig.stop()
        R.stop_all()
        if args.keep_tmp:
            log(f"temp dir kept: {ctx.tmp}")
        else:
            shutil.rmtree(ctx.tmp, ignore_errors=True)
    return code


def method(ctx, argv, minted):
    a = ctx.args
    return {
        "command": "bench/run scale " + " ".join(shlex.quote(x) for x in argv),
        "axes": a.axes, "tokens": a.tokens, "tokens_store": a.tokens_store, "rows": a.rows,
        "log_store": a.log_store, "log_tokens": a.log_tokens, "window_s": a.window, "warm_min_s": a.warm_s,
        "conns": a.conns, "exact_calls": a.exact_calls, "minted": minted, "short": a.short,
        "prune_rows": a.prune_rows, "prune_fraction": a.prune_fraction, "retention": RETENTION,
        "pinning": "each relay GOMAXPROCS=1; tokens/log/prune: the relay alone on CPU 0, wrk -t1, benchmock and "
                   "redis-server on CPU 1 (as bench/run); redis two-process: relay A on CPU 0, relay B on CPU 1, "
                   "redis-server, one benchmock and the two wrk (one per relay) free on both CPUs",
        "load": f"wrk -t1 -c<conns> --latency -s bench/tokens.lua (TOKENS_FILE: the first N minted aes tokens, "
                f"cycled in order); warm-up: the same until every token was used once and at least "
                f"{a.warm_s:g} s, stopped; then the measured window on the same relay",
        "rps_per_core": "wrk requests / wrk duration ÷ (relay CPU seconds / wall seconds over the window)",
        "memory": "relay VmRSS and go_memstats_heap_inuse_bytes (/metrics) at the end of the window",
        "prefill": "SQLite: the relay creates its empty database (started once on an empty data dir, stopped); "
                   "a copy gets N request_log rows in one INSERT … SELECT over a recursive CTE (journal off, "
                   "then back to WAL), spread evenly over span_days up to now, 10,007 tokens, 2,003 users, 5 "
                   "models, 95% 200s and 5% errors; Redis: XADD to ra:log with ids at the records' times, capped "
                   f"at {REDIS_LOG_MAX:,}",
        "span_days": ctx.span_ms / 86400e3,
        "admin": "each query 3 times on the idle relay right after its load (metrics listener, admin key), "
                 "median and max wall ms from the client",
        "prune": f"a relay started on a copy of the pre-filled log right after the pre-fill, idle on CPU 1 until "
                 f"~{PRUNE_EVERY_S - 45}s of uptime, then re-pinned to CPU 0 (taskset -a -p), warmed, a "
                 f"reference window, and a load across its first prune (at {PRUNE_EVERY_S}s, at most "
                 f"{PRUNE_TIMEOUT_S}s per run); rows with time < now - retention counted every second through "
                 f"the time index by a read-only connection",
    }
