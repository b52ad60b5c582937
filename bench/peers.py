"""Other LLM gateways measured beside the relay: `bench/run --peers` (Python 3 standard library only).

    bench/run --peers               every peer below, beside the default systems
    bench/run --peers litellm       the named ones (comma separated)
    bench/run --systems direct,bareproxy,litellm    a peer can also be named among the systems

A peer is started like the relay: alone on CPU 0 (taskset -c 0, one worker
process), against the same benchmock on CPU 1, fresh for every measurement,
answering the harness's own request body with the same model name. Its
software lives in a venv of its own that bench/run creates on first use from
a pinned requirements file (bench/peers/requirements-<peer>.txt) and reuses
afterwards; bench/run without a peer needs none of it.

Only `litellm` for now: the LiteLLM proxy (pip `litellm`, its `proxy` extra),
one uvicorn worker, a master key (no per-key checks: no database), no
callbacks, telemetry off. See bench/README.md "Beside LiteLLM".
"""

import hashlib
import json
import os
import secrets
import shutil
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent

LITELLM = "litellm"
NAMES = [LITELLM]  # every known peer, in report order (after the relays)

LITELLM_VERSION = "1.110.2"
LITELLM_REQS = BENCH / "peers" / "requirements-litellm.txt"
LITELLM_VENV = BENCH / ".venv-litellm"  # git-ignored
# Written into the venv once the install succeeded: the requirements file's
# hash and the Python that made the venv. A mismatch means a new venv.
STAMP = ".bench-stamp"

# Scenarios a peer cannot run, with the reason recorded in the results and
# shown in the tables ("skipped: ..."). None for LiteLLM 1.110.2: all five
# scenarios, Realtime WebSocket sessions included, run through it.
SKIP = {LITELLM: {}}

# The latency scenario offers a fixed rate (1,000 req/s) open loop: a peer
# that cannot keep up is still sent every request, later, and answers all of
# them. bench/run waits for that as if the peer did at least this many
# requests per second (then gives up), and reports the rate it achieved.
SLOWEST_RPS = 40

# LiteLLM's own switches for what it would do per request besides proxying,
# or at start-up, that this benchmark does not want (the relay's own request
# log and metrics stay on, so this favours LiteLLM if anything).
LITELLM_ENV = {
    # The remote model price map is fetched at start-up otherwise (retried,
    # and no network here): use the copy inside the package.
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    # Usage telemetry of this release (litellm/proxy/telemetry); `--telemetry
    # False` is a no-op kept for old command lines. LITELLM_TELEMETRY is the
    # switch of earlier releases.
    "LITELLM_TELEMETRY_DISABLED": "True",
    "LITELLM_TELEMETRY": "False",
    # Errors only: uvicorn's access log line per request (INFO) and LiteLLM's
    # INFO/DEBUG lines go away; nginx runs with access_log off too.
    "LITELLM_LOG": "ERROR",
    # No .env read from the working directory.
    "LITELLM_MODE": "PRODUCTION",
    # The admin UI is not served (start-up only).
    "DISABLE_ADMIN_UI": "True",
    # The upstream is loopback: never an HTTP proxy from the environment.
    "DISABLE_AIOHTTP_TRUST_ENV": "True",
    # Upstream connections capped as nginx's worker_connections (10000), not
    # LiteLLM's default 1,000, 500 per host: past the cap a request waits for
    # a connection, and the memory scenario's 2,000 streams to the one mock
    # would wait for each other. (0 is not "no cap": it leaves aiohttp's own
    # default, 100.) The relay has no cap.
    "AIOHTTP_CONNECTOR_LIMIT": "10000",
    "AIOHTTP_CONNECTOR_LIMIT_PER_HOST": "10000",
}
# Variables that would give LiteLLM a database, a cache or a proxy (unset).
LITELLM_UNSET = ["DATABASE_URL", "DIRECT_URL", "REDIS_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD",
                 "LITELLM_MASTER_KEY", "LITELLM_CONFIG_PATH", "CONFIG_FILE_PATH",
                 "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"]


def parse(value):
    """The --peers value: None (flag absent) -> [], "all" (flag alone) -> every
    peer, else a comma separated list. Raises ValueError on an unknown name."""
    if value is None:
        return []
    names = NAMES if value.strip() == "all" else [s.strip() for s in value.split(",") if s.strip()]
    for n in names:
        if n not in NAMES:
            raise ValueError(f"unknown peer {n!r} (known: {', '.join(NAMES)})")
    return names


def skip_reason(system, scenario):
    """Why `system` does not run `scenario`, or None."""
    return SKIP.get(system, {}).get(scenario)


# ---------------------------------------------------------------- install

def _stamp_text(reqs):
    digest = hashlib.sha256(reqs.read_bytes()).hexdigest()
    return f"{digest} {sys.executable} {sys.version.split()[0]}\n"


def ensure_venv(h):
    """bench/.venv-litellm with exactly the pinned requirements: reused when
    its stamp matches, otherwise made anew (python3 -m venv, pip install
    --no-deps -r, pip check). Returns the venv's litellm command."""
    venv, reqs = LITELLM_VENV, LITELLM_REQS
    rel = venv.relative_to(BENCH.parent)
    exe = venv / "bin" / "litellm"
    stamp = venv / STAMP
    want = _stamp_text(reqs)
    if exe.exists() and stamp.exists() and stamp.read_text() == want:
        h.log(f"litellm: reusing {rel} (pinned by {reqs.relative_to(BENCH.parent)}, unchanged)")
        return exe
    if venv.exists():
        h.log(f"litellm: {rel} does not match {reqs.name} (or an install did not finish): removing it")
        shutil.rmtree(venv)
    t = time.monotonic()
    n = sum(1 for line in reqs.read_text().splitlines() if line.strip() and not line.startswith("#"))
    h.log(f"litellm: creating {rel} ({sys.executable} -m venv) and installing {n} pinned packages "
          f"from {reqs.relative_to(BENCH.parent)} (first time only: about a minute, ~800 MB)")
    h.run_cmd([sys.executable, "-m", "venv", venv], timeout=300)
    pip = venv / "bin" / "pip"
    # --no-deps: the file is a complete freeze; nothing unpinned comes in.
    h.run_cmd([pip, "install", "--quiet", "--disable-pip-version-check", "--no-deps", "-r", reqs], timeout=1200)
    h.run_cmd([pip, "check", "--disable-pip-version-check"], timeout=120)
    if not exe.exists():
        raise h.BenchError(f"litellm: {exe} missing after installing {reqs.name}")
    stamp.write_text(want)
    h.log(f"litellm: {rel} ready in {time.monotonic() - t:.0f}s")
    return exe


def prepare(names, h):
    """Install what the peers in `names` need (before any measurement);
    returns their versions and settings, the results' "peers" section."""
    info = {}
    if LITELLM in names:
        exe = ensure_venv(h)
        version = h.run_cmd([exe.parent / "python", "-c",
                             "import importlib.metadata as m; print(m.version('litellm'))"], quiet=True).strip()
        if version != LITELLM_VERSION:
            raise h.BenchError(f"litellm: {LITELLM_VENV.name} holds litellm {version}, not {LITELLM_VERSION}")
        info[LITELLM] = {"version": version, "exe": str(exe),
                         "requirements": str(LITELLM_REQS.relative_to(BENCH.parent)), **method_info()}
    return info


def method_info():
    """How LiteLLM runs, for the results file (no secret in it)."""
    return {
        "command": "taskset -c 0 env -u " + " -u ".join(LITELLM_UNSET) + " " +
                   " ".join(f"{k}={v}" for k, v in LITELLM_ENV.items()) +
                   " bench/.venv-litellm/bin/litellm --config <tmp>/litellm.yaml --host 127.0.0.1 --port <port> "
                   "--num_workers 1",
        "config": litellm_config("<mock>", "<master key>"),
        "notes": "uvicorn, one worker process, uvloop and h11 (what litellm's proxy extra installs; no httptools); "
                 "master key only: no database, so no virtual keys, budgets or spend logs; no cache, no "
                 "callbacks; the client sends the master key as its Bearer token",
        "warm_up": f"{WARM_JSON} JSON and {WARM_STREAMS} streamed requests once it is up, then bench/run's own",
        "saturation_wrk_extra": wrk_args(LITELLM),
        "latency": f"the fixed rate is offered whatever the peer does; bench/run waits for every answer (at "
                   f"{SLOWEST_RPS} req/s at worst) and reports the rate achieved (rate_not_sustained)",
        "memory_streams": f"{MEMORY_STREAMS[LITELLM]} for streams of {MEMORY_STREAMS_FOR_MS} ms, fewer in "
                          f"proportion for shorter ones; every stream checked open at once",
    }


# ---------------------------------------------------------------- start

def litellm_config(mock_port, master_key):
    """The proxy's config: the harness's model names (bench/run BODY and the
    realtime scenario's model) routed to the benchmock as an OpenAI-compatible
    provider with a fake key, everything optional off."""
    base = f"http://127.0.0.1:{mock_port}/v1"
    model = lambda name: {"model_name": name, "litellm_params": {
        "model": f"openai/{name}", "api_base": base,
        "api_key": "sk-bench-upstream"}}  # bench/run's UPSTREAM_KEY: the mock ignores it
    return {
        "model_list": [model("gpt-4o-mini"), model("gpt-realtime")],
        "litellm_settings": {
            "callbacks": [], "success_callback": [], "failure_callback": [],
            "set_verbose": False, "json_logs": False,
            # No copy of the messages kept for logging; no end-user cost
            # tracking; no user-agent tag added to each request.
            "turn_off_message_logging": True,
            "disable_end_user_cost_tracking": True,
            "disable_add_user_agent_to_request_tags": True,
            "request_timeout": 600,
        },
        "router_settings": {"num_retries": 0},  # as the relay (upstream.max_retries 0)
        "general_settings": {
            "master_key": master_key,
            # No database anyway: say so, so nothing queues spend rows.
            "disable_spend_logs": True,
            "disable_spend_updates": True,
        },
    }


def start(system, d, mock_port, port, procs, h):
    """Start `system` on CPU 0 against the mock; returns (process, token,
    log path) once it answers its liveness probe. h: bench/run's module
    (spawn, wait_ready, http_ok, secret, CPU_SUT, BenchError)."""
    if system != LITELLM:
        raise h.BenchError(f"unknown peer {system!r}")
    exe = LITELLM_VENV / "bin" / "litellm"
    if not exe.exists():
        raise h.BenchError(f"{exe} missing: bench/run --peers litellm installs it")
    key = h.secret("sk-" + secrets.token_urlsafe(32))
    cfg = d / "litellm.yaml"
    fd = os.open(cfg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(litellm_config(mock_port, key), f, indent=2)  # JSON is YAML
    log = d / "litellm.log"
    argv = ["env"] + [a for k in LITELLM_UNSET for a in ("-u", k)] + [
        exe, "--config", cfg, "--host", "127.0.0.1", "--port", port, "--num_workers", 1]
    p = h.spawn(system, argv, h.CPU_SUT, env=LITELLM_ENV, cwd=d, logfile=log)
    procs.append(p)
    # Start-up imports the whole SDK and proxy on one core: ~8 s here.
    h.wait_ready(system, p, log, h.http_ok(f"http://127.0.0.1:{port}/health/liveliness"), timeout=120)
    warm_up(system, port, key, log, h)
    return p, key, log


# Requests sent once a peer is up, before bench/run's own warm-up request:
# Python imports some modules on the first request that needs them (the
# streaming path's on the first stream), which a compiled relay does not
# pay; without this the first scenario's first seconds would carry it.
WARM_JSON, WARM_STREAMS = 20, 5


def warm_up(system, port, key, log, h):
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    for body in [h.BODY] * WARM_JSON + [h.STREAM_BODY] * WARM_STREAMS:
        status, ctype, answer = h.http("POST", url, body, headers, timeout=30.0)
        if status != 200:
            raise h.BenchError(f"{system}: warm-up answered {status} {ctype}: "
                               f"{h.mask(answer.decode(errors='replace')[:400])}\n{h.tail(log)}")


def wrk_args(system):
    """Extra wrk flags for the saturation scenario. wrk counts an answer
    slower than 2 s as a timeout error, and any error fails the run: 64
    connections queued on a peer doing ~70 req/s wait ~0.9 s each, and a
    few answers take over 2 s (LiteLLM: 5 of 1,233 in one 16 s load). A
    timeout changes no latency figure, only what counts as an error."""
    return ["--timeout", "30s"] if system in NAMES else []


def latency_timeout(seconds, rate):
    """How long bench/run waits for `loadgen rate` against a peer: every
    request of warm-up + window, at SLOWEST_RPS at worst."""
    return seconds * max(1.0, rate / SLOWEST_RPS) + 60


def ratio_table(results, systems, relays, med):
    """Markdown: each relay's req/s per core over each peer's (saturation),
    the other way round from bench/run's ratio table, which would show a
    peer two orders of magnitude slower as 0.00x."""
    rows = []
    for p in [s for s in systems if s in NAMES]:
        pv = med(results, "saturation", p, "rps_per_core")
        for r in [s for s in systems if s in relays]:
            rv = med(results, "saturation", r, "rps_per_core")
            if pv and rv:
                rows.append(f"| {r} ÷ {p} | {rv:,.0f} | {pv:,.0f} | {rv / pv:,.0f}x |")
    if not rows:
        return []
    return (["## The relay beside other gateways (req/s/core, saturation)", "",
             "| relay ÷ gateway | relay req/s/core | gateway req/s/core | ratio |", "|---|---:|---:|---:|"]
            + rows + [""])


# The memory scenario opens 2,000 slow streams (20 chunks x 500 ms: each
# lasts ~10 s) at once and reads the memory when every one has its first
# byte. One LiteLLM worker opens ~60 streams per second (measured with
# 1.110.2: 500 streams all open after 8.3 s, 1,000 after ~35 s with the
# default connection cap), so 2,000 are never open at the same time: the
# first have ended before the last begin. It gets this many instead, which
# it does hold all at once (check_all_open verifies it on every run; with
# 500, one run in three opened its last stream after 9.7 s and failed); fewer
# for shorter streams (--smoke: 5 x 100 ms), in proportion.
MEMORY_STREAMS = {LITELLM: 400}
MEMORY_STREAMS_FOR_MS = 19 * 500  # the stream length MEMORY_STREAMS is for


def memory_streams(system, n, chunks, delay_ms):
    if system not in MEMORY_STREAMS:
        return n
    scale = min(1.0, (chunks - 1) * delay_ms / MEMORY_STREAMS_FOR_MS)
    return max(1, min(n, int(MEMORY_STREAMS[system] * scale)))


def check_all_open(system, out, chunks, delay_ms, h):
    """For a peer: fail the memory measurement unless every stream was open
    at the moment memory was read. A stream lasts at least (chunks - 1) x
    delay from its request; if the last first byte came later than that,
    some streams had already ended, and KiB per stream would be wrong."""
    if system in NAMES and out["ttfb_max_ms"] >= (chunks - 1) * delay_ms:
        raise h.BenchError(f"{system}: memory: the last of {out['streams']} streams began after "
                           f"{out['ttfb_max_ms']:,.0f} ms, when the first (>= {(chunks - 1) * delay_ms:,} ms "
                           f"long) could have ended: they were not all open at once; lower "
                           f"MEMORY_STREAMS[{system!r}] in bench/peers.py")
    return out


def memory_notes(results, systems, p):
    """Markdown lines under the memory table for peers measured with fewer
    streams; p: bench/run's parameters (memory_n, _chunks, _delay_ms)."""
    n, life_s = p["memory_n"], (p["memory_chunks"] - 1) * p["memory_delay_ms"] / 1000
    out = []
    for s in systems:
        m = (results.get("memory", {}).get(s) or {}).get("median") or {}
        if s in NAMES and m.get("n_open") and m["n_open"] < n:
            out.append(f"- {s}: {m['n_open']:,.0f} streams, not {n:,}: one worker opens them too slowly for "
                       f"{n:,} to be open at once (the last of {m['n_open']:,.0f} began after "
                       f"{m.get('ttfb_max_ms', 0) / 1000:.1f} s; a stream lasts {life_s:g} s or more); "
                       f"KiB/stream is over those {m['n_open']:,.0f}.")
    return out + ([""] if out else [])


def latency_notes(results, systems, rate):
    """Markdown lines under the latency table for the peers that did not
    sustain the offered rate."""
    out = []
    for s in systems:
        if s not in NAMES:
            continue
        runs = results.get("latency", {}).get(s, {}).get("runs", [])
        short = [r["achieved_rps"] for r in runs if r.get("rate_not_sustained")]
        if short:
            out.append(f"{s}: {rate:,} req/s not sustained in {len(short)} of {len(runs)} run(s) (achieved "
                       f"{', '.join(f'{v:,.0f}' for v in short)} req/s): every request was still sent and "
                       f"answered; its latencies, counted from each request's intended send time, are the "
                       f"queue that built up, not a per-request overhead.")
    return [f"- {line}" for line in out] + ([""] if out else [])
