"""Figures for experiments: matplotlib without pyplot (no GUI, no global state).

Every experiment gets ``<name>.png``: one dot plot per metric its rules read
(or the book quotes), each condition's mean with its 95% CI as an error bar,
the per-seed values as faint dots, the rule's threshold as a dashed line and
the book's value as a red ×. Dot plots need no zero baseline, so nothing is
exaggerated by a truncated bar. An experiment's own ``plot(result, out_dir)``
adds curves (mean with a CI band, :func:`band`).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter


def figure(nrows: int = 1, ncols: int = 1, width: float = 5.0, height: float = 3.8,
           layout: str | None = "constrained", **kwargs):
    """A Figure with an ``nrows × ncols`` grid of axes of ``width × height``
    inches each; ``axes`` is a 2-D array unless the grid is 1×1."""
    fig = Figure(figsize=(width * ncols, height * nrows), layout=layout)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kwargs)
    return fig, (axes[0, 0] if nrows == ncols == 1 else axes)


def save(fig: Figure, out_dir: Path, stem: str) -> Path:
    """Write ``fig`` as ``<out_dir>/<stem>.png`` (small: 80 dpi) and return the path.
    Axes whose x label starts with "epoch" get whole-number ticks; titles wider
    than their axes are wrapped (a character is about 0.55 of the font size wide)."""
    for ax in fig.axes:
        if ax.get_xlabel().startswith("epoch"):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        title = ax.title
        width_in = ax.get_position().width * fig.get_figwidth()
        fits = max(20, int(width_in * 72 / (0.55 * title.get_fontsize())))
        if "\n" not in title.get_text() and len(title.get_text()) > fits:
            title.set_text("\n".join(textwrap.wrap(title.get_text(), fits)))
    path = Path(out_dir) / f"{stem}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    return path


def band(ax, table: dict, condition: str, x=None, color=None, label=None, **kwargs) -> None:
    """Draw ``table[condition]`` (a curve summary: mean and ci95 per point) as a
    line with its 95% CI as a shaded band."""
    mean = np.asarray(table[condition]["mean"], dtype=float)
    lo, hi = (np.asarray(v, dtype=float) for v in table[condition]["ci95"])
    x = np.arange(1, len(mean) + 1) if x is None else np.asarray(x)[:len(mean)]
    line, = ax.plot(x, mean, color=color, label=label or condition, **kwargs)
    ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2, lw=0)


def loss_curves(result: dict, out_dir: Path, stem: str, title: str) -> list:
    """The figure ``<stem>.png``: each condition's "training loss per epoch" curve
    (mean with its 95% CI band) on a log scale; returns [its path]."""
    fig, ax = figure(width=6.0)
    for i, c in enumerate(result["conditions"]):
        band(ax, result["curves"]["training loss per epoch"], c, color=f"C{i}", marker="o", ms=3)
    ax.set(yscale="log", title=title, xlabel="epoch", ylabel="training loss (epoch mean)")
    ax.legend()
    return [save(fig, out_dir, stem)]


def summary_metrics(result: dict) -> list:
    """The metrics the dot plots show: those the rules read, then those the book quotes."""
    return list(dict.fromkeys([r["metric"] for r in result["rules"]] +
                              [m for m in result["book"] if m in result["metrics"]]))


def panels(result: dict) -> list:
    """``(metric, labels)`` per dot plot: each summary metric's conditions, and
    its paired differences (``"a − b"``) on a panel of their own, since a
    difference lives on another scale than the values it compares."""
    out = []
    for metric in summary_metrics(result):
        table = result["metrics"][metric]
        conditions = [c for c in table if c in result["conditions"]]
        differences = [c for c in table if c not in result["conditions"]]
        out += [(metric, labels) for labels in (conditions, differences) if labels]
    return out


def dot_plot(ax, result: dict, metric: str, labels: list) -> None:
    """One metric over ``labels`` (its conditions, or its paired differences: see :func:`panels`):
    mean ± 95% CI, per-seed dots, the rules' thresholds, the book's ×."""
    table = result["metrics"][metric]
    differences = not set(labels) & set(result["conditions"])
    for i, c in enumerate(labels):
        s = table[c]
        lo, hi = s["ci95"]
        ax.errorbar([i], [s["mean"]], yerr=[[s["mean"] - lo], [hi - s["mean"]]], fmt="o", color="C0",
                    capsize=4, ms=6, zorder=3)
        ax.plot(np.full(len(s["per_seed"]), i) + np.linspace(-0.12, 0.12, len(s["per_seed"])), s["per_seed"],
                ".", color="0.5", ms=4, zorder=2)
    book = {c: v for c, v in result["book"].get(metric, {}).items() if c in labels}
    for i, c in enumerate(labels):
        if c in book:
            ax.plot([i], [book[c]], "x", color="C3", ms=9, mew=2, zorder=4,
                    label="the book" if "the book" not in ax.get_legend_handles_labels()[1] else None)
    for r in result["rules"]:
        if r["metric"] == metric and r["quantity"] in labels:
            i = labels.index(r["quantity"])
            ax.plot([i - 0.35, i + 0.35], [r["threshold"]] * 2, "--", color="C2", lw=1.2,
                    label="rule's threshold" if "rule's threshold" not in ax.get_legend_handles_labels()[1] else None)
    values = np.array([v for c in labels for v in table[c]["per_seed"]] + list(book.values()), dtype=float)
    if len(values) and np.all(values[np.isfinite(values)] > 0) and values.max() > 30 * values.min():
        ax.set_yscale("log")  # ratios and gradient norms spanning decades: ticks at 1, 2, 5 × 10^k, plainly written
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    width = max(10, 34 // max(1, len(labels)))  # characters per label line: narrower when crowded
    ax.set_xticks(range(len(labels)), ["\n".join(textwrap.wrap(c, width, break_long_words=False)) for c in labels], fontsize=7)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    title = metric + (" (paired differences)" if differences else "")
    ax.set_title("\n".join(textwrap.wrap(title, 48)), fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    if ax.get_legend_handles_labels()[1]:
        ax.legend(fontsize=7)


def draw_figures(result: dict, out_dir: Path) -> list:
    """``<name>.png`` (dot plots of the summary metrics) and the experiment's own figures."""
    from . import registry

    plot = registry.get(result["name"]).plot
    paths = [] if plot is None else list(plot(result, Path(out_dir)))
    todo = panels(result)
    if result["kind"] == "demonstration" or not todo:  # exact facts: the check table says it all
        return paths
    cols = min(3, len(todo))
    rows = -(-len(todo) // cols)
    fig, axes = figure(rows, cols, width=4.2, height=3.6)
    axes = np.atleast_2d(axes)
    for ax, (metric, labels) in zip(axes.ravel(), todo):
        dot_plot(ax, result, metric, labels)
    for ax in axes.ravel()[len(todo):]:
        ax.set_visible(False)
    title = (f"{result['name']} ({result['mode']}, {len(result['seeds'])} seeds): {result['verdict']} — "
             f"mean and 95% CI, grey dots per seed")
    fig.suptitle("\n".join(textwrap.wrap(title, 40 * cols)), fontsize=10)
    return [save(fig, out_dir, result["name"])] + paths


def decision_regions(ax, predict, x: np.ndarray, y: np.ndarray, title: str, steps: int = 200) -> None:
    """Shade ``predict(grid) -> class`` over the bounding box of the 2-D points
    ``x`` (N, 2) and draw the points coloured by their labels ``y`` (N,)."""
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = 0.15 * (hi - lo) + 0.1
    gx, gy = np.meshgrid(np.linspace(lo[0] - pad[0], hi[0] + pad[0], steps),
                         np.linspace(lo[1] - pad[1], hi[1] + pad[1], steps))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    classes = np.asarray(predict(grid)).reshape(gx.shape)
    k = int(max(classes.max(), y.max())) + 1
    cmap = ListedColormap([f"C{c}" for c in range(k)])
    ax.contourf(gx, gy, classes, levels=np.arange(k + 1) - 0.5, cmap=cmap, alpha=0.25)
    for c in range(k):
        ax.scatter(x[y == c, 0], x[y == c, 1], color=cmap(c), edgecolors="k",
                   s=25 if len(x) > 20 else 80, label=f"class {c}")
    ax.legend(fontsize=8, loc="lower center", ncol=min(k, 5), framealpha=0.8)
    ax.set_title(title)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
