"""Run experiments: seeds × conditions in parallel, summaries, verdicts, results on disk.

Every (experiment, seed, condition) is one task. Tasks run through joblib:
in loky worker processes on this machine (``jobs`` of them, one BLAS thread
each), or on a Dask cluster (``scheduler="tcp://host:8786"``, joblib's dask
backend over ``dask.distributed``). A task seeds everything it draws from its
own (seed, stream) generators and runs with one BLAS thread wherever it runs,
so a seed's numbers are bit-identical whatever the number of workers.

The result of one experiment is written as ``<out>/<name>.json``::

    {name, claim, source, kind, dataset, setup, deviations, seeds,
     metrics: {metric: {condition: {per_seed, mean, ci95}}},
     book, test, verdict,
     mode, rules, curves, figures, seconds, core_seconds, cpu_seconds, errors}

(``seconds``: wall time from the start of the run to the experiment's last
task; ``core_seconds``: the sum of its tasks' wall times; ``cpu_seconds``: the
CPU time its tasks used, which is what a busy shared machine does not inflate.)

(``metrics`` also holds the paired differences ``"a − b"`` the rules read),
and its figures as ``<out>/<name>*.png``.
"""

from __future__ import annotations

import io
import json
import math
import platform
import time
import traceback
from pathlib import Path

import numpy as np

from .. import __version__
from ..random import seed as seed_glassnet
from . import registry
from .stats import Rule, difference_name, summarize, verdict

#: Significant digits kept for curves in the JSON (they are for figures, not decisions).
CURVE_DIGITS = 5


def _task(name: str, mode: str, seed: int, condition: str) -> dict:
    """Run one condition of one seed of experiment ``name`` (in a worker process)."""
    from threadpoolctl import threadpool_limits

    exp = registry.get(name)
    config = exp.config(mode)
    start, cpu = time.perf_counter(), time.process_time()
    try:
        with threadpool_limits(limits=1), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            seed_glassnet(seed)
            outcome = exp.trial(config, seed, condition)
        if not isinstance(outcome, registry.Outcome):
            outcome = registry.Outcome(*outcome)
        metrics = {k: float(v) for k, v in outcome.metrics.items()}
        metrics.update({c.label: c.value for c in outcome.checks})
        out = {"metrics": metrics, "checks": [[c.label, c.op, c.threshold] for c in outcome.checks],
               "curves": {k: [float(x) for x in np.ravel(v)] for k, v in outcome.curves.items()},
               "figures": {stem: _png(fig) for stem, fig in outcome.figures.items()}}
    except Exception:  # one broken task must not hide the other experiments' results
        out = {"error": traceback.format_exc()}
    out.update(name=name, seed=seed, condition=condition, seconds=time.perf_counter() - start,
               cpu_seconds=time.process_time() - cpu)
    return out


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()


def _check_rules(outputs: list) -> list:
    """One :class:`Rule` per check the trials returned (the same op and threshold on every seed)."""
    specs = {}
    for o in outputs:
        for label, op, threshold in o.get("checks", []):
            key = (label, o["condition"])
            if specs.setdefault(key, (op, threshold)) != (op, threshold):
                raise ValueError(f"check {label!r} of {o['name']} changes its rule between seeds: "
                                 f"{specs[key]} and {(op, threshold)}")
    return [Rule(label, condition, op, threshold) for (label, condition), (op, threshold) in specs.items()]


def _parallel_context(jobs: int | None, scheduler: str | None):
    """joblib's backend: loky with one BLAS thread per worker, or dask on ``scheduler``."""
    import joblib

    if scheduler:
        from dask.distributed import Client

        client = Client(scheduler)
        return client, joblib.parallel_config(backend="dask")
    return None, joblib.parallel_config(backend="loky", n_jobs=jobs or -1, inner_max_num_threads=1)


def run_tasks(tasks: list, jobs: int | None = None, scheduler: str | None = None, progress=None) -> list:
    """Run ``(name, mode, seed, condition)`` tasks; returns their outputs in order.

    ``jobs=1`` without a scheduler runs in this process (same numbers as any
    other number of workers). ``progress(output)`` is called as each finishes."""
    import joblib

    if jobs == 1 and not scheduler:
        results = []
        for t in tasks:
            results.append(_task(*t))
            if progress:
                progress(results[-1])
        return results
    client, context = _parallel_context(jobs, scheduler)
    try:
        with context:
            parallel = joblib.Parallel(n_jobs=-1 if scheduler else (jobs or -1), return_as="generator")
            results = []
            for out in parallel(joblib.delayed(_task)(*t) for t in tasks):
                results.append(out)
                if progress:
                    progress(out)
        return results
    finally:
        if client is not None:
            client.close()


def _round(x: float) -> float:
    return float(f"{x:.{CURVE_DIGITS}g}") if math.isfinite(x) else x


def summarize_experiment(exp: registry.Experiment, mode: str, seeds: list, outputs: list) -> dict:
    """The result dict of one experiment from the outputs of its tasks."""
    config = exp.config(mode)
    conditions = exp.conditions_of(config)
    rules = exp.rules_of(config) + _check_rules(outputs)
    by_key = {(o["seed"], o["condition"]): o for o in outputs}
    errors = [f"seed {o['seed']}, {o['condition']}:\n{o['error']}" for o in outputs if "error" in o]
    metrics, curves = {}, {}
    if not errors:
        names = list(dict.fromkeys(m for o in outputs for m in o["metrics"]))
        for metric in names:
            table = {}
            for c in conditions:
                values = [by_key[(s, c)]["metrics"].get(metric) for s in seeds]
                if all(v is not None for v in values):
                    table[c] = summarize(values)
            metrics[metric] = table
        for rule in rules:  # the paired differences the rules read
            if rule.baseline is not None:
                a, b = (metrics.get(rule.metric, {}).get(c) for c in (rule.condition, rule.baseline))
                if a is None or b is None:
                    raise KeyError(f"{exp.name}: rule on {rule.metric!r} needs conditions {rule.condition!r} "
                                   f"and {rule.baseline!r}, measured: {sorted(metrics.get(rule.metric, {}))}")
                diffs = np.array(a["per_seed"]) - np.array(b["per_seed"])
                metrics[rule.metric][difference_name(rule.condition, rule.baseline)] = summarize(diffs)
        for curve in dict.fromkeys(k for o in outputs for k in o["curves"]):
            table = {}
            for c in conditions:
                rows = [by_key[(s, c)]["curves"].get(curve) for s in seeds]
                if any(r is None for r in rows):
                    continue
                length = min(len(r) for r in rows)
                stats = [summarize([r[i] for r in rows]) for i in range(length)]
                table[c] = {"mean": [_round(s["mean"]) for s in stats],
                            "ci95": [[_round(s["ci95"][0]) for s in stats], [_round(s["ci95"][1]) for s in stats]]}
            curves[curve] = table
    outcomes = []
    exact = exp.kind == "demonstration"  # facts by construction must hold on every seed
    for rule in rules:
        summary = metrics.get(rule.metric, {}).get(rule.quantity)
        outcome = rule.decide(summary, every_seed=exact) if summary else "inconclusive"
        outcomes.append({"rule": rule.text(exact), "metric": rule.metric, "quantity": rule.quantity, "op": rule.op,
                         "threshold": rule.threshold, "outcome": outcome,
                         "mean": summary["mean"] if summary else None,
                         "ci95": summary["ci95"] if summary else None})
    deviations = list(exp.deviations(config) if callable(exp.deviations) else exp.deviations)
    dataset = exp.dataset(config) if callable(exp.dataset) else exp.dataset
    return {
        "name": exp.name, "claim": exp.claim, "source": exp.source, "kind": exp.kind, "dataset": dataset,
        "setup": _plain(config.params), "deviations": deviations, "seeds": list(seeds), "metrics": metrics,
        "book": exp.book, "test": "; and ".join(r.text(exact) for r in rules) + ". Agrees when every rule holds, "
        + ("disagrees when any fails (a seed on the other side)." if exact else
           "disagrees when any fails (its whole CI on the other side), inconclusive otherwise."),
        "verdict": "error" if errors else verdict(o["outcome"] for o in outcomes),
        "mode": mode, "conditions": list(conditions), "rules": outcomes, "curves": curves, "errors": errors,
        "core_seconds": sum(o["seconds"] for o in outputs),
        "cpu_seconds": sum(o.get("cpu_seconds", 0.0) for o in outputs),
        "glassnet": __version__, "python": platform.python_version(),
    }


def run_experiments(names: list, mode: str = "full", out_dir="results/experiments", jobs: int | None = None,
                    scheduler: str | None = None, seeds: int | None = None, log=print) -> list:
    """Run the named experiments, write ``<out_dir>/<name>.json`` and figures; return the result dicts."""
    out_dir = Path(out_dir)
    exps = [registry.get(n) for n in names]
    seed_lists = {e.name: list(range(seeds or (e.quick_seeds if mode == "quick" else e.seeds))) for e in exps}
    tasks = [(e.name, mode, s, c) for e in exps for s in seed_lists[e.name] for c in e.conditions_of(e.config(mode))]
    pending = {e.name: sum(1 for t in tasks if t[0] == e.name) for e in exps}
    outputs = {e.name: [] for e in exps}
    started = time.perf_counter()
    results = []

    def finished(out):
        name = out["name"]
        outputs[name].append(out)
        pending[name] -= 1
        if "error" in out:
            log(f"ERROR {name} seed {out['seed']} {out['condition']}: {out['error'].strip().splitlines()[-1]}")
        if pending[name] == 0:
            try:
                result = summarize_experiment(registry.get(name), mode, seed_lists[name], outputs[name])
            except Exception:  # a broken rule must not lose the other experiments' results
                outputs[name].append({"name": name, "seed": -1, "condition": "summary", "seconds": 0.0,
                                      "error": traceback.format_exc()})
                result = summarize_experiment(registry.get(name), mode, seed_lists[name], outputs[name][-1:])
            result["seconds"] = time.perf_counter() - started
            result["jobs"] = jobs
            first = min(seed_lists[name])
            illustrations = {f"{name}-{stem}": png for o in outputs[name] if o["seed"] == first
                             for stem, png in o.get("figures", {}).items()}
            results.append(write_result(result, out_dir, illustrations))
            log(summary_line(result))

    run_tasks(tasks, jobs=jobs, scheduler=scheduler, progress=finished)
    order = {n: i for i, n in enumerate(names)}
    return sorted(results, key=lambda r: order[r["name"]])


def write_result(result: dict, out_dir: Path, illustrations: dict | None = None) -> dict:
    """Draw the figures of ``result`` into ``out_dir``, write the first seed's
    ``illustrations`` (``{stem: PNG bytes}``) and ``<name>.json``; returns the result."""
    from .plotting import draw_figures

    out_dir.mkdir(parents=True, exist_ok=True)
    result["figures"] = [] if result["errors"] else [p.name for p in draw_figures(result, out_dir)]
    for stem, png in (illustrations or {}).items():
        (out_dir / f"{stem}.png").write_bytes(png)
        result["figures"].append(f"{stem}.png")
    _write_json(result, out_dir)
    return result


def redraw_figures(result: dict, out_dir: Path) -> dict:
    """Draw the figures of a stored ``result`` again (after a change to the
    plotting code; the numbers stay as they are), keeping its illustrations."""
    from .plotting import draw_figures

    drawn = [p.name for p in draw_figures(result, Path(out_dir))]
    result["figures"] = drawn + [f for f in result.get("figures", []) if f not in drawn]
    _write_json(result, Path(out_dir))
    return result


def _write_json(result: dict, out_dir: Path) -> None:
    """``<out_dir>/<name>.json``, written to a temporary file first and renamed (never half a file)."""
    path = out_dir / f"{result['name']}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(_plain(result), indent=1, ensure_ascii=False, allow_nan=True) + "\n", encoding="utf-8")
    tmp.replace(path)


def summary_line(result: dict) -> str:
    """One line: verdict, kind, name, mode, seeds, time and each rule's quantity with its CI
    (for a demonstration, decided on every seed: the range of the per-seed values)."""
    parts = []
    for r in result["rules"]:
        if r["ci95"] is not None:
            if result["kind"] == "demonstration":
                values = result["metrics"][r["metric"]][r["quantity"]]["per_seed"]
                spread = f"seeds {min(values):.4g} … {max(values):.4g}"
            else:
                spread = f"95% CI {r['ci95'][0]:.4g} … {r['ci95'][1]:.4g}"
            parts.append(f"{r['quantity']} [{r['metric']}] = {r['mean']:.4g} ({spread}) {r['op']} "
                         f"{r['threshold']:g}: {r['outcome']}")
    return (f"{result['verdict'].upper():12s} {result['kind']:13s} {result['name']} ({result['mode']}, "
            f"{len(result['seeds'])} seeds, {result.get('seconds', float('nan')):.0f} s): " + "; ".join(parts))


def load_results(out_dir) -> list:
    """The result dicts saved in ``out_dir``, in curriculum order (unknown names last)."""
    out_dir = Path(out_dir)
    found = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(out_dir.glob("*.json"))}
    order = {n: i for i, n in enumerate(registry.names())}
    return sorted((r for r in found.values() if isinstance(r, dict) and "verdict" in r),
                  key=lambda r: (order.get(r["name"], len(order)), r["name"]))


def _plain(x):
    """``x`` with NumPy scalars/arrays and paths turned into JSON-able Python values."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return _plain(x.tolist())
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, Path):
        return str(x)
    return x


__all__ = ["run_experiments", "run_tasks", "summarize_experiment", "load_results", "summary_line"]
