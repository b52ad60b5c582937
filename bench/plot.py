#!/usr/bin/env python3
"""Plot a bench/run results file.

    python bench/plot.py RESULTS.json OUT.png

One PNG, two panels: latency percentiles per system (p50 and p99 at the
fixed rate, p50 and p99 at saturation) as grouped bars on a log scale, and
memory per open stream (KiB) per system with the 30 KiB target line
(other gateways, `bench/run --peers`, in grey; one that did not sustain
the fixed rate, or held fewer streams, says so under its name).

A soak results file (`bench/run soak`, "kind": "soak") gets a grid
instead: one column per store, rows req/s, write-ahead log (SQLite -wal,
PostgreSQL pg_wal), store size (SQLite database, PostgreSQL tables with
autovacuum marked, Redis used_memory) and relay RSS / Go heap, over time;
solid lines the N-token load, dotted the one-token load.
Needs matplotlib (bench/requirements.txt).
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TARGET_KIB = 30


def median(doc, scenario, system, key):
    try:
        v = doc["scenarios"][scenario][system]["median"][key]
    except (KeyError, TypeError):
        return None
    return v if isinstance(v, (int, float)) else None


def latency_ticks(doc, systems, rate):
    """x labels of the latency panel: a system that did not sustain the fixed
    rate (a peer, bench/run --peers) says what it achieved, since its
    latencies are then the queue that built up."""
    out = []
    for s in systems:
        runs = ((doc["scenarios"].get("latency") or {}).get(s) or {}).get("runs") or []
        short = sorted(r["achieved_rps"] for r in runs if r.get("rate_not_sustained"))
        out.append(f"{s}\n({short[len(short) // 2]:,.0f} of {rate:,} req/s)" if short else s)
    return out


def label_bars(ax, bars, values, fmt):
    for b, v in zip(bars, values):
        if v is None:
            continue
        ax.annotate(fmt(v), (b.get_x() + b.get_width() / 2, b.get_height()),
                    xytext=(0, 2), textcoords="offset points", ha="center", va="bottom",
                    fontsize=7, rotation=90)


MIB = 2**20


def soak_lines(ax, phases, fn, label, color, n_tokens):
    """fn(sample or series row) -> value or None, drawn for both phases."""
    for ph, style in (("many", "-"), ("one", ":")):
        x = phases.get(ph) or {}
        rows = x.get("series" if fn.__name__ == "series" else "samples") or []
        pts = [(r["t_s"], fn(r)) for r in rows]
        pts = [(t, v) for t, v in pts if v is not None]
        if pts:
            who = f"{n_tokens:,} tokens" if ph == "many" else "1 token"
            ax.plot([t for t, _ in pts], [v for _, v in pts], style, color=color,
                    label=f"{label}, {who}" if label else who, linewidth=1.6 if ph == "many" else 1.2)


def plot_soak(doc, out):
    stores = list(doc["stores"])
    n = doc["method"]["tokens"]
    ceiling = doc["method"].get("wal_ceiling_mib")
    fig, axes = plt.subplots(4, len(stores), figsize=(5.5 * len(stores) + 1, 13), squeeze=False, sharex="col")
    for c, store in enumerate(stores):
        phases = doc["stores"][store]
        ax_rps, ax_wal, ax_size, ax_mem = (axes[r][c] for r in range(4))

        def series(r):
            return None if r.get("partial") else r.get("rps")
        soak_lines(ax_rps, phases, series, "", "#3182bd", n)
        ratio = (doc.get("ratios") or {}).get(store)
        ax_rps.set_title(f"{store}: req/s" + (f" ({n:,} tokens ÷ one: {ratio:.2f}x)" if ratio else ""))
        ax_rps.set_ylim(bottom=0)

        if store == "sqlite":
            soak_lines(ax_wal, phases, lambda r: r.get("wal_bytes", 0) / MIB, "relayapi.db-wal", "#e6550d", n)
            if ceiling:
                ax_wal.axhline(ceiling, color="black", linestyle="--", linewidth=1)
                ax_wal.annotate(f"ceiling {ceiling} MiB", (0, ceiling), xytext=(2, 3), textcoords="offset points",
                                fontsize=8)
            ax_wal.set_title("SQLite WAL file (MiB)")
            soak_lines(ax_size, phases, lambda r: r.get("db_bytes", 0) / MIB, "relayapi.db", "#31a354", n)
            ax_size.set_title("SQLite database file (MiB)")
        elif store == "postgres":
            soak_lines(ax_wal, phases, lambda r: r.get("wal_bytes", 0) / MIB, "pg_wal", "#e6550d", n)
            ax_wal.set_title("PostgreSQL pg_wal (MiB)")
            colors = {"relayapi_request_log": "#31a354", "relayapi_tokens": "#756bb1"}
            for t, col in colors.items():
                def size(r, t=t):
                    tab = (r.get("tables") or {}).get(t)
                    return tab["total"] / MIB if tab else None
                soak_lines(ax_size, phases, size, t.replace("relayapi_", ""), col, n)
            many = (phases.get("many") or {}).get("samples") or []
            marked = False
            for a, b in zip(many, many[1:]):
                runs = sum(((b["tables"].get(t) or {}).get("autovacuum_count") or 0) -
                           ((a["tables"].get(t) or {}).get("autovacuum_count") or 0) for t in b.get("tables", {}))
                if runs > 0 or b.get("autovacuum_workers"):
                    ax_size.axvspan(a["t_s"], b["t_s"], color="#fee391", alpha=0.6, linewidth=0,
                                    label=None if marked else "autovacuum")
                    marked = True
            ax_size.set_title("PostgreSQL table + indexes + TOAST (MiB)")
        else:
            soak_lines(ax_wal, phases, lambda r: (r.get("keys") or 0) / 1000, "DBSIZE", "#e6550d", n)
            ax_wal.set_title("Redis keys (thousands; no AOF or RDB in this run)")
            soak_lines(ax_size, phases, lambda r: (r.get("used_memory") or 0) / MIB, "used_memory", "#31a354", n)
            ax_size.set_title("Redis used_memory (MiB)")
        soak_lines(ax_mem, phases, lambda r: r["relay_rss_kib"] / 1024, "RSS", "#de2d26", n)
        soak_lines(ax_mem, phases, lambda r: (r.get("relay_heap_inuse_bytes") or 0) / MIB, "Go heap", "#fc9272", n)
        ax_mem.set_title("relay RSS and Go heap in use (MiB)")
        ax_mem.set_xlabel("seconds since the load started")
        for ax in (ax_rps, ax_wal, ax_size, ax_mem):
            ax.grid(alpha=0.3)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=7, loc="best")
            ax.set_ylim(bottom=0)
    m = doc["machine"]
    fig.suptitle(f"RelayAPI soak, {m.get('date', '?')} — {n:,} distinct tokens vs one; {m.get('cpu_model', '?')}, "
                 f"{m.get('cores', '?')} cores; relay at {m.get('git', '?')} alone on CPU 0"
                 + (" — SHORT" if doc["method"].get("short") else ""), fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(out, dpi=110)
    return 0


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    with open(argv[0]) as f:
        doc = json.load(f)
    if doc.get("kind") == "soak":
        return plot_soak(doc, argv[1])
    systems = doc["systems"]
    method, machine = doc["method"], doc["machine"]
    rate = method.get("latency_rate", 1000)

    series = [
        (f"p50 @ {rate:,} req/s", "latency", "p50_ms", "#9ecae1"),
        (f"p99 @ {rate:,} req/s", "latency", "p99_ms", "#3182bd"),
        ("p50 saturation", "saturation", "p50_ms", "#fdae6b"),
        ("p99 saturation", "saturation", "p99_ms", "#e6550d"),
    ]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(15, 6.5), gridspec_kw={"width_ratios": [3, 2]})
    width = 0.8 / len(series)
    xs = range(len(systems))
    for i, (label, scenario, key, color) in enumerate(series):
        vals = [median(doc, scenario, s, key) for s in systems]
        pos = [x - 0.4 + width * (i + 0.5) for x in xs]
        bars = ax1.bar(pos, [v if v is not None else 0 for v in vals], width, label=label, color=color)
        label_bars(ax1, bars, vals, lambda v: f"{v:.2f}" if v < 10 else f"{v:.0f}")
    ax1.set_yscale("log")
    ax1.set_ylabel("latency (ms, log scale)")
    ax1.set_title(f"Latency: fixed {rate:,} req/s (open loop) and saturation "
                  f"(wrk -c{method.get('saturation_conns', 64)})")
    ax1.set_xticks(list(xs))
    ax1.set_xticklabels(latency_ticks(doc, systems, rate), rotation=20, ha="right")
    ax1.legend(fontsize=8, loc="upper left")
    ax1.grid(axis="y", which="both", alpha=0.3)
    ax1.margins(y=0.15)

    kib = [median(doc, "memory", s, "kib_per_stream") for s in systems]
    # The 30 KiB target is the relay's: other gateways (bench/run --peers) in grey.
    peers = set(doc.get("peers") or {})
    colors = ["#969696" if s in peers else "#31a354" if v is not None and v <= TARGET_KIB else "#de2d26"
              for s, v in zip(systems, kib)]
    bars = ax2.bar(list(xs), [v if v is not None else 0 for v in kib], 0.6, color=colors)
    label_bars(ax2, bars, kib, lambda v: f"{v:.1f}")
    ax2.axhline(TARGET_KIB, color="black", linestyle="--", linewidth=1)
    ax2.annotate(f"target {TARGET_KIB} KiB", (len(systems) - 0.5, TARGET_KIB), xytext=(-4, 3),
                 textcoords="offset points", ha="right", fontsize=8)
    ax2.set_ylabel("KiB per open stream")
    ax2.set_title(f"Memory per open stream ({method.get('memory_n', '?'):,} slow streams)"
                  if isinstance(method.get("memory_n"), int) else "Memory per open stream")
    ax2.set_xticks(list(xs))
    # A peer measured with fewer streams than asked (bench/peers.py MEMORY_STREAMS) says how many.
    n_open = [median(doc, "memory", s, "n_open") for s in systems]
    ax2.set_xticklabels([f"{s}\n({n:,.0f} streams)" if n and n < (method.get("memory_n") or 0) else s
                         for s, n in zip(systems, n_open)], rotation=20, ha="right")
    ax2.grid(axis="y", alpha=0.3)
    ax2.margins(y=0.15)

    smoke = " — SMOKE (harness check only)" if method.get("smoke") else ""
    fig.suptitle(f"RelayAPI benchmark, {machine.get('date', '?')} — {machine.get('cpu_model', '?')}, "
                 f"{machine.get('cores', '?')} cores; system under test alone on CPU 0; "
                 f"medians of {method.get('runs', '?')} run(s){smoke}", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(argv[1], dpi=120)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
