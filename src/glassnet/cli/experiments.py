"""``glassnet experiments``: list and run the curriculum's claims.

    glassnet experiments list
    glassnet experiments run NAME [NAME ...] [--quick] [--seed N] [--out DIR]
    glassnet experiments run --all [--quick] [--seed N] [--out DIR]
    glassnet experiments report [--out DIR]

Each run writes ``DIR/<name>/`` (PNG figures, ``result.json``) and prints one
verdict line; ``--all`` also writes ``DIR/report.html``, and ``report``
rebuilds that page from the ``result.json`` files already in DIR (after
re-running some experiments). The exit status is 0 when every verdict agrees
with its claim, 1 when any disagrees or fails.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``experiments`` command to an argparse ``subparsers`` object."""
    parser = subparsers.add_parser("experiments", help="run the curriculum's claims as experiments",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _fill(parser)
    return parser


def _fill(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="experiments_command", metavar="{list,run,report}", required=True)
    commands.add_parser("list", help="list the experiments and their claims").set_defaults(func=_list)
    run = commands.add_parser("run", help="run experiments and print their verdicts")
    run.add_argument("names", nargs="*", metavar="NAME", help="experiments to run (see `list`)")
    run.add_argument("--all", action="store_true", help="run every experiment and write report.html")
    run.add_argument("--quick", action="store_true", help="small settings that finish in seconds")
    run.add_argument("--seed", type=int, default=0, help="seed for every random draw (default 0)")
    run.add_argument("--out", type=Path, default=Path("runs/experiments"),
                     help="output folder (default runs/experiments)")
    run.set_defaults(func=_run)
    report = commands.add_parser("report", help="rebuild report.html from the results saved in --out")
    report.add_argument("--out", type=Path, default=Path("runs/experiments"),
                        help="folder holding <name>/result.json (default runs/experiments)")
    report.set_defaults(func=_report)


def _list(args) -> int:
    from ..experiments import registry
    for name in registry.names():
        print(f"{name:24s} {registry.get(name).claim}")
    return 0


def _run(args) -> int:
    from ..experiments import registry, report
    known = registry.names()
    if args.all == bool(args.names):
        print("glassnet experiments run: give experiment names or --all (not both)", file=sys.stderr)
        return 2
    unknown = [n for n in args.names if n not in known]
    if unknown:
        print(f"glassnet experiments run: unknown experiment(s) {', '.join(unknown)}; "
              f"known: {', '.join(known)}", file=sys.stderr)
        return 2
    mode = "quick" if args.quick else "full"
    results, failures = [], {}
    for name in (known if args.all else args.names):
        try:
            result = registry.run_experiment(name, mode, args.seed, args.out)
        except Exception:  # one broken experiment must not hide the others' verdicts
            failures[name] = traceback.format_exc()
            print(f"ERROR {name}: {failures[name].strip().splitlines()[-1]}", flush=True)
            continue
        results.append(result)
        print(f"{'ok  ' if result.agrees else 'FAIL'} {name} ({mode}, {result.seconds:.1f} s): {result.verdict}",
              flush=True)
    if args.all:
        path = report.write_report(results, args.out / "report.html", failures)
        print(f"report: {path}")
    agreed = sum(r.agrees for r in results)
    print(f"{agreed}/{len(results) + len(failures)} claims agree")
    return 0 if agreed == len(results) and not failures else 1


def _report(args) -> int:
    import json

    from ..experiments import registry, report
    results = [registry.Result.from_dict(json.loads((args.out / name / "result.json").read_text()))
               for name in registry.names() if (args.out / name / "result.json").exists()]
    if not results:
        print(f"glassnet experiments report: no <name>/result.json under {args.out}", file=sys.stderr)
        return 2
    print(f"report: {report.write_report(results, args.out / 'report.html')}")
    agreed = sum(r.agrees for r in results)
    print(f"{agreed}/{len(results)} claims agree")
    return 0 if agreed == len(results) else 1


def main(argv=None) -> int:
    """``python -m glassnet.cli.experiments ...`` (same as ``glassnet experiments ...``)."""
    parser = argparse.ArgumentParser(prog="glassnet experiments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _fill(parser)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
