"""The README's thread table from bench.py JSON files: one column pair per situation and thread setting.

    python benchmarks/thread_table.py idle=results/quiet.json "one busy core=results/busy1.json"
    python benchmarks/thread_table.py --pairs 13:30=results/idle.json 13:02=results/idle-1302.json

Each argument is ``label=path`` of a ``bench.py --json`` file (e.g. one run of ``--quick`` on an
idle machine and one with ``--busy-cores 1``). For every workload and thread setting in the files
the table gives glassnet's and the other contender's images/s, the threads each used, and the
ratio glassnet time / other time (below 1: glassnet is faster), as markdown.

``--pairs``: the paired ratios instead, pooled over the rows of a workload that ran the same
threads (on a 2-core machine ``--quick``'s "default" and "2" rows are one configuration twice):
their median, range and count, one column per file.
"""

from __future__ import annotations

import json
import statistics
import sys


def cell(summary: dict) -> str:
    g = summary["contenders"]["glassnet"]
    other = summary["contenders"].get(summary.get("other"))
    threads = g["threads"].get("blas_threads")
    if other is None:
        return f"{g['images_per_s_median']:,.0f} ({threads} thr)"
    return (f"**{summary['ratio_glassnet_time_over_other']:.2f}** ({g['images_per_s_median']:,.0f} / "
            f"{other['images_per_s_median']:,.0f}; {threads}/{other['threads'].get('torch_threads', '—')} thr)")


def table(sources: list) -> str:
    """``sources``: [(label, bench.py JSON dict)] → a markdown table, workloads as rows."""
    columns, rows = [], {}
    for label, data in sources:
        for s in data["results"]:
            column = f"{label}, threads {s['threads']}"
            if column not in columns:
                columns.append(column)
            rows.setdefault(s["workload"], {})[column] = cell(s)
    lines = ["| workload | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for workload, cells in rows.items():
        lines.append(f"| {workload} | " + " | ".join(cells.get(c, "—") for c in columns) + " |")
    notes = []
    for label, data in sources:
        m = data["machine"]
        peaks = ", ".join(f"{v:.0f} GFLOP/s on {k}" for k, v in m["gemm_peak_gflops"].items())
        notes.append(f"- {label}: {m['date']}, {m['cpu_model']} ({m['cpus']} CPUs), load average at start "
                     f"{m['load_average'][0]:.1f}, busy-loop processes {m.get('busy_cores', 0)}, GEMM peak {peaks}; "
                     f"`python {m['command']}`")
    return "\n".join(lines + [""] + notes) + "\n"


def pairs_table(sources: list) -> str:
    """``sources``: [(label, bench.py JSON dict)] → markdown: per workload and thread counts
    (glassnet/other), the median of the pooled paired ratios, their range and how many."""
    columns, pooled = [label for label, _ in sources], {}
    for label, data in sources:
        for s in data["results"]:
            threads = (s["contenders"]["glassnet"]["threads"].get("blas_threads"),
                       s["contenders"][s["other"]]["threads"].get("torch_threads", "—"))
            pooled.setdefault((s["workload"], threads), {}).setdefault(label, []).extend(s["ratio_pairs"])
    lines = ["| workload (threads g/o) | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for (workload, (g, o)), cells in pooled.items():
        lines.append(f"| {workload} ({g}/{o}) | " + " | ".join(
            f"**{statistics.median(r):.2f}** ({min(r):.2f}–{max(r):.2f}, {len(r)} pair{'s' * (len(r) != 1)})" if (r := cells.get(c)) else "—"
            for c in columns) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    make = pairs_table if argv[:1] == ["--pairs"] else table
    argv = argv[1:] if make is pairs_table else argv
    if not argv or any("=" not in a for a in argv):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    sources = []
    for arg in argv:
        label, path = arg.split("=", 1)
        with open(path) as f:
            sources.append((label, json.load(f)))
    print(make(sources), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
