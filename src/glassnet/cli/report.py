"""Figures and the report of a training run (matplotlib on the Agg canvas, no GUI).

- :func:`learning_curves`: loss and accuracy per epoch, training and validation.
- :func:`confusion_matrix_figure`: counts of (true, predicted) classes, with per-class accuracy.
- :func:`misclassified_grid`: test images the model got wrong, with true and predicted labels.
- :func:`write_report`: ``report.md`` listing the numbers and the figures.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..io.serialization import atomic_write_text


def _save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, dpi=110)
    return path


def learning_curves(history, path) -> Path:
    """Two panels — loss, accuracy (%) — each with the training and (if
    recorded) validation curve against the epoch."""
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    axes = fig.subplots(1, 2)
    epochs = history.epochs
    for ax, key, label in ((axes[0], "loss", "loss"), (axes[1], "accuracy", "accuracy (%)")):
        scale = 100 if key == "accuracy" else 1
        for prefix, style, name in (("", "o-", "training"), ("val_", "s-", "validation")):
            if prefix + key in history:
                ax.plot(epochs, np.asarray(history[prefix + key], dtype=float) * scale, style, ms=3, label=name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    axes[0].set_title("loss per epoch")
    axes[1].set_title("accuracy per epoch")
    return _save(fig, Path(path))


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """(C, C) counts: row = true class, column = predicted class."""
    return np.bincount(np.asarray(y_true) * num_classes + np.asarray(y_pred),
                       minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def confusion_matrix_figure(matrix: np.ndarray, classes, path, title: str = "confusion matrix (test set)") -> Path:
    """The matrix as a heat map with the count in each cell; the y labels add
    each class's accuracy (diagonal / row sum)."""
    c = len(classes)
    fig = Figure(figsize=(1.0 + 0.62 * c, 0.8 + 0.55 * c), layout="constrained")
    ax = fig.subplots()
    shown = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)  # colour by row fraction
    ax.imshow(shown, cmap="Blues", vmin=0, vmax=1)
    for i in range(c):
        for j in range(c):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if shown[i, j] > 0.5 else "black")
    per_class = np.diag(matrix) / np.maximum(matrix.sum(axis=1), 1)
    ax.set_xticks(range(c), classes, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(c), [f"{name} ({100 * a:.0f}%)" for name, a in zip(classes, per_class)], fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true (per-class accuracy)")
    ax.set_title(title)
    return _save(fig, Path(path))


def misclassified_grid(images: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, classes, path,
                       columns: int = 8, rows: int = 4) -> Path:
    """Up to ``columns × rows`` of the misclassified ``images`` (N, H, W),
    titled "true → predicted"."""
    wrong = np.flatnonzero(np.asarray(y_true) != np.asarray(y_pred))[: columns * rows]
    rows = max(1, -(-len(wrong) // columns))
    fig = Figure(figsize=(1.55 * columns, 1.75 * rows), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), wrong):
        ax.imshow(images[i], cmap="gray_r")
        ax.set_title(f"{classes[y_true[i]]}\n→ {classes[y_pred[i]]}", fontsize=7.5, color="firebrick")
    fig.suptitle(f"misclassified test examples (true → predicted): first {len(wrong)}", fontsize=10)
    return _save(fig, Path(path))


def write_report(out_dir, title: str, numbers: dict, figures: dict, sections: dict | None = None) -> Path:
    """``out_dir/report.md``: a table of ``numbers``, optional text ``sections``
    (heading → preformatted text) and the ``figures`` (caption → file in out_dir)."""
    out_dir = Path(out_dir)
    lines = [f"# {title}", "", "| | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in numbers.items()]
    for heading, text in (sections or {}).items():
        lines += ["", f"## {heading}", "", "```", text.rstrip(), "```"]
    for caption, name in figures.items():
        lines += ["", f"## {caption}", "", f"![{caption}]({Path(name).name})"]
    return atomic_write_text(out_dir / "report.md", "\n".join(lines) + "\n")
