#!/usr/bin/env python3
"""Where the relay's CPU goes, by component, from a CPU profile.

    python3 bench/costs.py cpu.pprof        # runs `go tool pprof -traces` (from server/)

Every sample goes to exactly one component, so the shares add up to 100%:
allocation and GC, the network's system calls and the store wherever they
appear in its stack; otherwise the component of the frame nearest the leaf
that has one (the relay's parts, Go's net/http server and transport, the
scheduler). bench/README.md ("Where the time
goes") records the results; re-run it after each change that matters.
Python 3 standard library only.
"""
import re
import subprocess
import sys
from pathlib import Path

# Components a sample belongs to wherever in its stack they appear: the
# runtime's allocation and collection, the sockets' system calls, and the
# store (its writer goroutine, its client's pipeline).
WHOLE_STACK = [
    ("allocation and GC", ("runtime.mallocgc", "runtime.gcBgMarkWorker", "runtime.gcAssistAlloc",
                           "runtime.bgsweep", "runtime.bgscavenge", "runtime.growslice", "runtime.newobject",
                           "runtime.makeslice", "runtime.gcStart")),
    # Sockets only: SQLite's file I/O goes through the same system calls.
    ("network system calls (read, write, accept, epoll)", ("net.(*netFD)", "net.(*conn).Read",
                                                           "net.(*conn).Write", "runtime.netpoll")),
    ("store: request log", ("sqlitestore.logOp", "internal/requestlog.", "redisstore.(*Store).Log",
                            "pgstore.(*Store).Log")),
    ("store: admission, renewal, settlement", ("sqlitestore.", "redisstore.", "pgstore.",
                                               "modernc.org/sqlite", "redis/go-redis")),
]
# The rest goes to the component of the frame nearest the leaf that has
# one: time in net/http's response writer called by the relay is the
# server's, time in the relay's own code is the relay's.
NEAREST = [
    ("token: decode and cache", ("tokencache.", "go-jose", "relayapi/sdk/go/token", "internal/policy.",
                                 "crypto/")),
    ("request body: JSON scan and rewrite", ("internal/reqbody.", "internal/rewrite.", "internal/jsonscan.",
                                             "internal/intake.")),
    ("answer: usage metering", ("internal/usage.", "internal/streamedit.", "relay.(*meteredBody)")),
    ("logs and metrics", ("log/slog", "internal/reqlog.", "prometheus", "internal/metrics.")),
    ("upstream exchange (net/http transport)", ("net/http.(*Transport)", "net/http.(*persistConn)",
                                                "net/http.(*transferWriter)", "internal/upstream.",
                                                "net/http.(*Request).write", "net/http.ReadResponse")),
    ("net/http server (parse, respond)", ("net/http.", "net/textproto", "bufio.")),
    ("relay logic (other)", ("relayapi/server/internal/",)),
    ("Go scheduler", ("runtime.schedule", "runtime.findRunnable", "runtime.park_m", "runtime.mcall",
                      "runtime.goexit0", "runtime.futex")),
]
OTHER = "other"

VALUE = re.compile(r"^\s*([\d.]+)(ns|us|µs|ms|s)\s+(\S.*)$")
UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0}


def traces(profile):
    """Yields (seconds, frames leaf first) for each stack of the profile."""
    out = subprocess.run(["go", "tool", "pprof", "-traces", str(profile)], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parent.parent / "server").stdout
    value, frames = None, []
    for line in out.splitlines():
        if line.startswith("-----------+"):
            if value is not None:
                yield value, frames
            value, frames = None, []
            continue
        m = VALUE.match(line)
        if m and value is None:
            value, frames = float(m.group(1)) * UNIT[m.group(2)], [m.group(3).strip()]
        elif value is not None and line.strip():
            frames.append(line.strip())
    if value is not None:
        yield value, frames


def component(frames):
    for name, marks in WHOLE_STACK:
        if any(mark in f for f in frames for mark in marks):
            return name
    for f in frames:  # leaf first
        for name, marks in NEAREST:
            if any(mark in f for mark in marks):
                return name
    return OTHER


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    totals = {}
    for value, frames in traces(argv[1]):
        c = component(frames)
        totals[c] = totals.get(c, 0.0) + value
    all_s = sum(totals.values()) or 1.0
    print("| component | CPU s | share |\n|---|---:|---:|")
    for name, s in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {s:.2f} | {100 * s / all_s:.1f}% |")
    print(f"| total | {all_s:.2f} | 100% |")


if __name__ == "__main__":
    main(sys.argv)
