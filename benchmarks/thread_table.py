"""The README's thread table from bench.py JSON files: one column pair per situation and thread setting.

    python benchmarks/thread_table.py idle=results/quiet.json "one busy core=results/busy1.json"

Each argument is ``label=path`` of a ``bench.py --json`` file (e.g. one run of ``--quick`` on an
idle machine and one with ``--busy-cores 1``). For every workload and thread setting in the files
the table gives glassnet's and the other contender's images/s, the threads each used, and the
ratio glassnet time / other time (below 1: glassnet is faster), as markdown.
"""

from __future__ import annotations

import json
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


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or any("=" not in a for a in argv):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    sources = []
    for arg in argv:
        label, path = arg.split("=", 1)
        with open(path) as f:
            sources.append((label, json.load(f)))
    print(table(sources), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
