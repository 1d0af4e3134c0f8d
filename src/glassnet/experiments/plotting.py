"""Figures for experiments: matplotlib without pyplot (no GUI, no global state).

``fig, axes = figure(1, 2)`` makes a Figure on the Agg canvas; ``save(fig,
config, "curves")`` writes ``<out_dir>/curves.png`` and returns its path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


def figure(nrows: int = 1, ncols: int = 1, width: float = 5.0, height: float = 3.8,
           layout: str | None = "constrained", **kwargs):
    """A Figure with an ``nrows × ncols`` grid of axes of ``width × height``
    inches each; ``axes`` is a 2-D array unless the grid is 1×1. Large grids
    render much faster with ``layout=None`` and ``fig.subplots_adjust``."""
    fig = Figure(figsize=(width * ncols, height * nrows), layout=layout)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kwargs)
    return fig, (axes[0, 0] if nrows == ncols == 1 else axes)


def save(fig: Figure, config, stem: str) -> Path:
    """Write ``fig`` as ``<config.out_dir>/<stem>.png`` and return the path.
    Axes whose x label starts with "epoch" get whole-number ticks."""
    for ax in fig.axes:
        if ax.get_xlabel().startswith("epoch"):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    path = config.path(f"{stem}.png")
    fig.savefig(path, dpi=100)
    return path


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
