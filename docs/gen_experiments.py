"""Build-time page: the experiment gallery, generated from results/experiments/*.json.

Each committed result (written by ``glassnet experiments run --out results/experiments``)
describes one claim of the curriculum: its name, the claim, the kind of experiment, the
measured metrics and the verdict. This script tabulates whatever is there; figures next
to a result (``<name>.png`` or ``<name>/*.png``) are copied into the site and shown.
"""

from __future__ import annotations

import json
from pathlib import Path

import mkdocs_gen_files

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results" / "experiments"


def _results() -> list[tuple[Path, dict]]:
    found = []
    for path in sorted(RESULTS.glob("**/*.json")) if RESULTS.is_dir() else []:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "name" in data:
            found.append((path, data))
    return found


def _metric(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)) and len(value) <= 4:
        return ", ".join(_metric(v) for v in value)
    if isinstance(value, dict) and {"mean", "low", "high"} <= set(value):
        return f"{_metric(value['mean'])} [{_metric(value['low'])}, {_metric(value['high'])}]"
    return str(value) if not isinstance(value, (list, dict)) else "…"


def _figures(path: Path, name: str) -> list[Path]:
    candidates = [path.with_suffix(".png"), *sorted((path.parent / name).glob("*.png")),
                  *sorted(path.parent.glob(f"{name}*.png"))]
    return list(dict.fromkeys(p for p in candidates if p.is_file()))


def page() -> str:
    results = _results()
    lines = ["# Experiment gallery", "",
             "Every claim of the curriculum is an experiment with a stated rule and a verdict "
             "(`glassnet experiments list`, `glassnet experiments run NAME`). This page is generated "
             "when the site is built from the committed full-run results in `results/experiments/`.", ""]
    if not results:
        lines += ["!!! note \"No committed results yet\"",
                  "    `results/experiments/` holds no result files in this checkout: run "
                  "`glassnet experiments run --all --out results/experiments` and rebuild the site.", ""]
        return "\n".join(lines)
    lines += ["| experiment | kind | verdict |", "|---|---|---|"]
    for _, data in results:
        verdict = str(data.get("verdict", "")).replace("|", "\\|").replace("\n", " ")
        lines.append(f"| [{data['name']}](#{data['name']}) | {data.get('kind', '')} | {verdict} |")
    lines.append("")
    for path, data in results:
        name = data["name"]
        lines += [f"## {name}", ""]
        if data.get("claim"):
            lines += [f"**Claim.** {data['claim']}", ""]
        if data.get("verdict"):
            lines += [f"**Verdict.** {data['verdict']}", ""]
        metrics = data.get("metrics") or data.get("numbers") or {}
        if isinstance(metrics, dict) and metrics:
            lines += ["| metric | value |", "|---|---|"]
            lines += [f"| {key} | {_metric(value)} |" for key, value in metrics.items()]
            lines.append("")
        for figure in _figures(path, name):
            target = f"experiments/{name}/{figure.name}"
            with mkdocs_gen_files.open(target, "wb") as out:
                out.write(figure.read_bytes())
            lines += [f"![{name}: {figure.stem}]({target})", ""]
        lines += [f"<small>Source: `{path.relative_to(ROOT)}`</small>", ""]
    return "\n".join(lines)


with mkdocs_gen_files.open("experiments.md", "w") as f:
    f.write(page())
