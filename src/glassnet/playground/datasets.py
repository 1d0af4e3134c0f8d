"""The playground's 2-D data: glassnet's generated sets, or the learner's own CSV file.

:func:`make_split` turns a :class:`Config` (and, for ``dataset=csv``, a parsed file) into
train and test points; the same seed gives the same points and the same split.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

import numpy as np

from ..data import make_blobs, make_circles, make_moons, make_spiral, make_xor
from .config import MAX_POINTS, Config


class CSVError(ValueError):
    """A CSV file the playground cannot use; the message names the line and the reason."""


@dataclass(frozen=True)
class CSVData:
    """A parsed CSV file: points ``x`` float32 (N, 2), labels ``y`` int64 (N,) in 0..K−1,
    and ``class_names[k]``, the file's own label text of class k (labels sorted as numbers
    when they all are numbers, else as text)."""

    x: np.ndarray
    y: np.ndarray
    class_names: tuple
    name: str = "data.csv"


@dataclass(frozen=True)
class Split:
    """Train and test points (float32 (N, 2)), labels (int64 (N,)), the class count and the
    square region of the plane the views show, ``bounds = (x_min, x_max, y_min, y_max)``."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int
    bounds: tuple


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_csv(text: str, name: str = "data.csv") -> CSVData:
    """Read ``x1,x2,label`` rows (an optional header line first; blank lines skipped).

    Up to 10,000 rows; features are finite numbers; labels any text, 2 to 10 distinct ones.
    Raises :class:`CSVError` naming the first bad line and what is wrong with it.
    """
    if not text.strip():
        raise CSVError(f"{name}: the file is empty; expected rows of x1,x2,label")
    points, labels = [], []
    for line_no, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        fields = [f.strip() for f in row]
        if not any(fields):
            continue
        if not points and line_no == 1 and len(fields) == 3 and not (_is_number(fields[0]) and _is_number(fields[1])):
            continue  # a header line
        if len(fields) != 3:
            raise CSVError(f"{name}, line {line_no}: expected 3 comma-separated fields (x1, x2, label), "
                           f"got {len(fields)}: {','.join(fields)[:80]!r}")
        try:
            x1, x2 = float(fields[0]), float(fields[1])
        except ValueError:
            bad = fields[0] if not _is_number(fields[0]) else fields[1]
            raise CSVError(f"{name}, line {line_no}: the features must be numbers, got {bad[:40]!r}") from None
        if not (math.isfinite(x1) and math.isfinite(x2)):
            raise CSVError(f"{name}, line {line_no}: the features must be finite numbers, got {x1}, {x2}")
        if not fields[2]:
            raise CSVError(f"{name}, line {line_no}: the label (third field) is empty")
        if len(points) == MAX_POINTS:
            raise CSVError(f"{name}: more than {MAX_POINTS:,} rows (line {line_no}); the playground takes at most "
                           f"{MAX_POINTS:,}")
        points.append((x1, x2))
        labels.append(fields[2])
    if len(points) < 10:
        raise CSVError(f"{name}: expected at least 10 rows of x1,x2,label, got {len(points)}")
    names = sorted(set(labels), key=float) if all(_is_number(s) for s in labels) else sorted(set(labels))
    if not 2 <= len(names) <= 10:
        raise CSVError(f"{name}: expected 2 to 10 distinct labels, got {len(names)}"
                       f" ({', '.join(names[:12])}{', ...' if len(names) > 12 else ''})")
    index = {s: k for k, s in enumerate(names)}
    return CSVData(np.asarray(points, dtype=np.float32), np.asarray([index[s] for s in labels], dtype=np.int64),
                   tuple(names), name)


def generate(config: Config, generator: np.random.Generator):
    """The points and labels of a generated set (``config.dataset`` other than csv)."""
    n, noise, k = config.points, config.noise, config.classes
    if config.dataset == "spiral":
        return make_spiral(max(1, n // k), k, noise, generator=generator)
    if config.dataset == "xor":
        return make_xor(n, noise, generator=generator)
    if config.dataset == "circles":
        return make_circles(n, noise, 0.5, generator=generator)
    if config.dataset == "moons":
        return make_moons(n, noise, generator=generator)
    if config.dataset == "blobs":
        return make_blobs(n, k, noise, generator=generator)
    raise ValueError(f"dataset: expected one of spiral, xor, circles, moons, blobs, got {config.dataset!r}")


def square_bounds(x: np.ndarray) -> tuple:
    """A square around the points, 10% wider than they reach: (x_min, x_max, y_min, y_max)."""
    low, high = x.min(axis=0).astype(float), x.max(axis=0).astype(float)
    center, half = (low + high) / 2, max(float((high - low).max()) / 2 * 1.1, 1e-3)
    return (center[0] - half, center[0] + half, center[1] - half, center[1] + half)


def make_split(config: Config, csv_data: CSVData | None = None) -> Split:
    """Train/test points of the setup: data drawn from ``default_rng(seed)``, then a
    permutation from the same generator; the first ``train_fraction`` of it is the training set."""
    generator = np.random.default_rng(config.seed)
    if config.dataset == "csv":
        if csv_data is None:
            raise ValueError("dataset=csv: no CSV file loaded yet; choose one with the file button")
        x, y, classes = csv_data.x, csv_data.y, len(csv_data.class_names)
    else:
        (x, y), classes = generate(config, generator), config.classes
    order = generator.permutation(len(x))
    n_train = min(len(x) - 1, max(1, round(config.train_fraction * len(x))))
    train, test = order[:n_train], order[n_train:]
    return Split(x[train], y[train], x[test], y[test], classes, square_bounds(x))
