"""``glassnet experiments``: run the curriculum's claims over several seeds and decide them.

    glassnet experiments list
    glassnet experiments run NAME [NAME ...] [--quick] [--seeds N] [--jobs N | --scheduler ADDRESS] [--out DIR]
    glassnet experiments run --all ...
    glassnet experiments report [--out DIR] [--readme README.md] [--redraw]

``run`` runs every seed × condition of each experiment in parallel (joblib:
``--jobs N`` local worker processes with one BLAS thread each, default all
cores; ``--scheduler tcp://HOST:8786`` sends them to a dask.distributed
cluster instead) and writes ``DIR/<name>.json`` (per-seed values, means, 95%
confidence intervals, the decision rule and the verdict) and its figures.
Full runs go to results/experiments/ (the committed results); quick runs
(small settings that test the code, not the claim) to runs/experiments-quick/.
``--all`` also writes ``DIR/report.html``; ``report`` rebuilds it from the
JSON files in DIR, with ``--readme`` rewrites the experiment table
between the markers in that README, and with ``--redraw`` draws the figures
again from the JSON files (after a change to the plotting code).

Verdicts: *agrees* when every rule's CI lies on the claimed side of its
threshold, *disagrees* when one lies wholly on the other side, *inconclusive*
when a CI straddles its threshold. Reproductions (claims tested on data) and
demonstrations (facts that hold by construction) are counted apart. The exit
status is 0 when every experiment ran, 1 when any raised an error, 2 for
bad arguments.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

FULL_OUT, QUICK_OUT = Path("results/experiments"), Path("runs/experiments-quick")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``experiments`` command to an argparse ``subparsers`` object."""
    parser = subparsers.add_parser("experiments", help="run the curriculum's claims as experiments",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _fill(parser)
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {value}")
    return value


def _fill(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="experiments_command", metavar="{list,run,report}", required=True)
    commands.add_parser("list", help="list the experiments by kind, with their claims").set_defaults(func=_list)
    run = commands.add_parser("run", help="run experiments over their seeds and print the verdicts")
    run.add_argument("names", nargs="*", metavar="NAME", help="experiments to run (see `list`)")
    run.add_argument("--all", action="store_true", help="run every experiment and write report.html")
    run.add_argument("--quick", action="store_true", help="small settings that finish in seconds (test the code)")
    run.add_argument("--seeds", type=_positive, help="number of seeds (default: the experiment's, 5+ for "
                                                     "reproductions; 2 in --quick)")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=_positive, default=os.cpu_count() or 1,
                       help="local worker processes (default: all cores, here %(default)s)")
    where.add_argument("--scheduler", metavar="ADDRESS", help="a dask.distributed scheduler, e.g. tcp://host:8786")
    run.add_argument("--out", type=Path, help=f"output folder (default {FULL_OUT}, with --quick {QUICK_OUT})")
    run.set_defaults(func=_run)
    report = commands.add_parser("report", help="rebuild report.html from the saved results")
    report.add_argument("--out", type=Path, default=FULL_OUT, help="folder of <name>.json (default %(default)s)")
    report.add_argument("--readme", type=Path, help="also rewrite the experiment table in this README")
    report.add_argument("--redraw", action="store_true",
                        help="draw every experiment's figures again from its JSON file (the numbers stay)")
    report.set_defaults(func=_report)


def _list(args) -> int:
    from ..experiments import registry
    for kind in registry.KINDS:
        names = registry.names(kind)
        print(f"{len(names)} {kind}s:")
        for name in names:
            print(f"  {name:26s} {registry.get(name).claim}")
    return 0


def _run(args) -> int:
    from ..experiments import registry, report, runner
    known = registry.names()
    if args.all == bool(args.names):
        print("glassnet experiments run: give experiment names or --all (not both)", file=sys.stderr)
        return 2
    unknown = [n for n in args.names if n not in known]
    if unknown:
        print(f"glassnet experiments run: unknown experiment(s) {', '.join(unknown)}; known: {', '.join(known)}",
              file=sys.stderr)
        return 2
    mode = "quick" if args.quick else "full"
    out = args.out or (QUICK_OUT if args.quick else FULL_OUT)
    names = known if args.all else list(dict.fromkeys(args.names))
    fewer = [n for n in names if mode == "full" and args.seeds and args.seeds < registry.get(n).seeds]
    if fewer:
        print(f"glassnet experiments run: a full run keeps each experiment's seeds (at least 5 for a reproduction); "
              f"--seeds {args.seeds} is fewer than {', '.join(f'{n} ({registry.get(n).seeds})' for n in fewer)}",
              file=sys.stderr)
        return 2
    where = f"dask scheduler {args.scheduler}" if args.scheduler else f"{args.jobs} local worker(s)"
    print(f"running {len(names)} experiment(s) in {mode} mode on {where}; results in {out}/", flush=True)
    start = time.perf_counter()
    results = runner.run_experiments(names, mode, out, jobs=None if args.scheduler else args.jobs,
                                     scheduler=args.scheduler, seeds=args.seeds,
                                     log=lambda line: print(line, flush=True))
    if args.all:
        print(f"report: {report.write_report(runner.load_results(out), out / 'report.html')}")
    print(f"{report.count_line(results)} ({time.perf_counter() - start:.0f} s)")
    return 1 if any(r["verdict"] == "error" for r in results) else 0


def _report(args) -> int:
    from ..experiments import report, runner
    results = runner.load_results(args.out)
    if not results:
        print(f"glassnet experiments report: no <name>.json results under {args.out}", file=sys.stderr)
        return 2
    if args.redraw:
        results = [runner.redraw_figures(r, args.out) for r in results if r["verdict"] != "error"]
    print(f"report: {report.write_report(results, args.out / 'report.html')}")
    if args.readme:
        print(f"README table: {report.write_readme_table(results, args.readme)}")
    print(report.count_line(results))
    return 0


def main(argv=None) -> int:
    """``python -m glassnet.cli.experiments ...`` (same as ``glassnet experiments ...``)."""
    parser = argparse.ArgumentParser(prog="glassnet experiments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _fill(parser)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
