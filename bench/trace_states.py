#!/usr/bin/env python3
"""Where goroutines spend a time window, from a Go execution trace.

    curl -o trace.out 'http://METRICS/debug/pprof/trace?seconds=2'   # metrics.pprof on
    go tool trace -d=parsed trace.out > trace.txt
    bench/trace_states.py trace.txt 300 345        # window in ms from the trace's start
    bench/trace_states.py trace.txt --busy         # the one P's busy share per ms

For every goroutine the time inside the window is summed by state
(Running, Runnable, Waiting, Syscall) and, for Waiting and Syscall, by the
reason and the first two relay frames of the stack that blocked (else the
first net/http frame). With the relay under GOMAXPROCS=1 this says, for a
burst of new streams, how much of their wait is the one core (Runnable),
the store, the dial, the provider and the client. Standard library only.
"""

import argparse
import re
from collections import defaultdict

EVENT = re.compile(r'StateTransition Time=(\d+) GoID=(\d+) (\w+)->(\w+) Reason="([^"]*)"')


def parse(path):
    """(ms since the first event, goroutine, from, to, reason, stack) per transition."""
    events, t0, pending, collecting = [], None, None, False
    with open(path) as f:
        for line in f:
            if line.startswith("M="):
                if pending:
                    events.append(pending)
                pending, collecting = None, False
                m = re.search(r"Time=(\d+)", line)
                if m and t0 is None:
                    t0 = int(m.group(1))
                st = EVENT.search(line)
                if st:
                    t, g, a, b, r = st.groups()
                    pending = ((int(t) - t0) / 1e6, int(g), a, b, r, [])
            elif line.startswith("TransitionStack="):
                collecting = True
            elif not line.startswith("\t"):
                collecting = False  # another section (Stack=, …) or a blank line
            elif collecting and pending and not line.startswith("\t\t"):
                pending[5].append(line.strip().split(" @")[0])
    if pending:
        events.append(pending)
    return events


def where(stack):
    relay = [f.rsplit("/", 1)[-1] for f in stack if "relayapi" in f]
    if relay:
        return " < ".join(relay[:2])
    nethttp = [f.rsplit("/", 1)[-1] for f in stack if "net/http" in f]
    if nethttp:
        return nethttp[0]
    return stack[0].rsplit("/", 1)[-1] if stack else ""


def states(events, lo, hi):
    since, acc = {}, defaultdict(float)
    for t, g, _, to, reason, stack in events:
        if g in since:
            state, t_in, why = since[g]
            a, b = max(t_in, lo), min(t, hi)
            if b > a:
                acc[(state,) + why] += b - a
        why = (reason, where(stack)) if to in ("Waiting", "Syscall") else ("", "")
        since[g] = (to, t, why)
    return acc


def busy(events):
    """Per millisecond, the share of it some goroutine was Running."""
    per_ms, running = defaultdict(float), {}
    for t, g, _, to, _, _ in events:
        if g in running:
            a = running.pop(g)
            while a < t:
                ms = int(a)
                b = min(t, ms + 1)
                per_ms[ms] += b - a
                a = b
        if to == "Running":
            running[g] = t
    return per_ms


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("parsed", help="output of go tool trace -d=parsed")
    ap.add_argument("start_ms", nargs="?", type=float, default=0)
    ap.add_argument("end_ms", nargs="?", type=float, default=1e12)
    ap.add_argument("--busy", action="store_true", help="print the busy share per ms instead")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    events = parse(args.parsed)
    if args.busy:
        per_ms = busy(events)
        for row in range(0, int(max(per_ms, default=0)) + 1, 50):
            print(f"{row:6d} ms", " ".join(f"{int(100 * per_ms.get(ms, 0)):3d}" for ms in range(row, row + 50)))
        return
    acc = states(events, args.start_ms, args.end_ms)
    for (state, reason, frame), ms in sorted(acc.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"{ms:10.1f} ms  {state:9s} {reason:14s} {frame}")


if __name__ == "__main__":
    main()
