#!/usr/bin/env python3
"""Plot a bench/run results file.

    python bench/plot.py RESULTS.json OUT.png

One PNG, two panels: latency percentiles per system (p50 and p99 at the
fixed rate, p50 and p99 at saturation) as grouped bars on a log scale, and
memory per open stream (KiB) per system with the 30 KiB target line.
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


def label_bars(ax, bars, values, fmt):
    for b, v in zip(bars, values):
        if v is None:
            continue
        ax.annotate(fmt(v), (b.get_x() + b.get_width() / 2, b.get_height()),
                    xytext=(0, 2), textcoords="offset points", ha="center", va="bottom",
                    fontsize=7, rotation=90)


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    with open(argv[0]) as f:
        doc = json.load(f)
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
    ax1.set_xticklabels(systems, rotation=20, ha="right")
    ax1.legend(fontsize=8, loc="upper left")
    ax1.grid(axis="y", which="both", alpha=0.3)
    ax1.margins(y=0.15)

    kib = [median(doc, "memory", s, "kib_per_stream") for s in systems]
    colors = ["#31a354" if v is not None and v <= TARGET_KIB else "#de2d26" for v in kib]
    bars = ax2.bar(list(xs), [v if v is not None else 0 for v in kib], 0.6, color=colors)
    label_bars(ax2, bars, kib, lambda v: f"{v:.1f}")
    ax2.axhline(TARGET_KIB, color="black", linestyle="--", linewidth=1)
    ax2.annotate(f"target {TARGET_KIB} KiB", (len(systems) - 0.5, TARGET_KIB), xytext=(-4, 3),
                 textcoords="offset points", ha="right", fontsize=8)
    ax2.set_ylabel("KiB per open stream")
    ax2.set_title(f"Memory per open stream ({method.get('memory_n', '?'):,} slow streams)"
                  if isinstance(method.get("memory_n"), int) else "Memory per open stream")
    ax2.set_xticks(list(xs))
    ax2.set_xticklabels(systems, rotation=20, ha="right")
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
