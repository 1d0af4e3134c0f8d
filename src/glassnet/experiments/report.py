"""One HTML page for a set of experiment results: a summary table, then each
claim with its verdict, checks, setting, numbers and figures (inline PNGs, so
the page is a single file a learner can open or send)."""

from __future__ import annotations

import base64
import html
import json
import platform
import time
from pathlib import Path

from .registry import Result, _plain

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1400px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
.agree { color: #17662a; font-weight: bold; } .disagree { color: #b00020; font-weight: bold; }
section { border-top: 2px solid #ddd; margin-top: 2em; padding-top: 0.5em; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
details pre { background: #f6f6f6; padding: 0.6em; max-height: 30em; overflow: auto; font-size: 0.85em; }
.claim { font-size: 1.1em; }
"""


def _numbers_json(numbers: dict, limit: int = 12) -> str:
    """``numbers`` as indented JSON, long lists shortened to their first ``limit`` items."""
    def shorten(x):
        if isinstance(x, dict):
            return {k: shorten(v) for k, v in x.items()}
        if isinstance(x, list):
            items = [shorten(v) for v in x[:limit]]
            return items + [f"... {len(x) - limit} more"] if len(x) > limit else items
        if isinstance(x, float):
            return float(f"{x:.6g}")
        return x
    return json.dumps(shorten(_plain(numbers)), indent=1, ensure_ascii=False, allow_nan=True)


def _image(path: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(Path(path).name)}" src="data:image/png;base64,{data}">'


def _section(r: Result) -> str:
    mark = '<span class="agree">AGREES</span>' if r.agrees else '<span class="disagree">DISAGREES</span>'
    checks = "".join(
        f"<tr><td>{html.escape(c.label)}</td><td>{html.escape(c.comparison())}</td>"
        f"<td>{'✓' if c.passed else '✗'}</td></tr>" for c in r.checks)
    setting = ", ".join(f"{k} = {html.escape(str(v))}" for k, v in _plain(r.setting).items())
    figures = "".join(_image(f) for f in r.figures)
    return (f'<section id="{r.name}"><h2>{r.name} — {mark}</h2>'
            f'<p class="claim">Claim: {html.escape(r.claim)}</p>'
            f"<table><tr><th>check</th><th>measured vs threshold</th><th></th></tr>{checks}</table>"
            f"<p>Setting ({r.mode} mode, seed {r.seed}, {r.seconds:.1f} s): {setting}</p>{figures}"
            f"<details><summary>all numbers</summary><pre>{html.escape(_numbers_json(r.numbers))}</pre>"
            f"</details></section>")


def write_report(results: list, path, failures: dict | None = None) -> Path:
    """Write the page to ``path`` and return it. ``failures`` maps the names of
    experiments that raised to their traceback (shown, and counted as disagreeing)."""
    failures = failures or {}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = "".join(
        f'<tr><td><a href="#{r.name}">{r.name}</a></td>'
        f'<td class="{"agree" if r.agrees else "disagree"}">{"agrees" if r.agrees else "disagrees"}</td>'
        f"<td>{r.mode}</td><td>{r.seconds:.1f} s</td><td>{html.escape(r.claim)}</td></tr>" for r in results)
    rows += "".join(f'<tr><td><a href="#{n}">{n}</a></td><td class="disagree">error</td><td></td><td></td>'
                    f"<td></td></tr>" for n in failures)
    errors = "".join(f'<section id="{n}"><h2>{n} — <span class="disagree">ERROR</span></h2>'
                     f"<pre>{html.escape(tb)}</pre></section>" for n, tb in failures.items())
    agreed = sum(r.agrees for r in results)
    total = len(results) + len(failures)
    page = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>glassnet experiments</title>'
            f"<style>{_STYLE}</style></head><body><h1>glassnet: the curriculum's claims, measured</h1>"
            f"<p>{agreed} of {total} claims agree with what was measured. Generated "
            f"{time.strftime('%Y-%m-%d %H:%M')} on {html.escape(platform.platform())}; every verdict is "
            f"computed from the measured numbers against the thresholds shown.</p>"
            f"<table><tr><th>experiment</th><th>verdict</th><th>mode</th><th>time</th><th>claim</th></tr>"
            f"{rows}</table>{''.join(_section(r) for r in results)}{errors}</body></html>")
    path.write_text(page, encoding="utf-8")
    return path
