"""Generated 2-D classification sets for quick demos: spiral, XOR, circles, moons, blobs.

Each returns ``(X, y)``: points ``float32 (N, 2)`` and labels ``int64 (N,)``,
ordered class by class (shuffle with a ``DataLoader``). Noise is Gaussian and
drawn from ``generator`` (default: glassnet's global one), so a seed fixes the set.
"""

from __future__ import annotations

import numpy as np

from ..random import get_generator


def _finish(x, y):
    return np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.int64)


def make_spiral(n_per_class: int = 100, classes: int = 3, noise: float = 0.2, generator=None):
    """cs231n's spiral: ``classes`` interleaved arms of ``n_per_class`` points each.

    Arm ``j``: radius ``r = linspace(0, 1, n)``, angle ``t = linspace(4j, 4(j+1), n) + noise * N(0, 1)``,
    point ``r * (sin t, cos t)``. Not linearly separable for ``classes >= 2``.
    N = ``n_per_class * classes``.
    """
    rng = get_generator(generator)
    r = np.tile(np.linspace(0.0, 1.0, n_per_class), classes)
    base = np.linspace(0.0, 4.0, n_per_class)
    t = (np.arange(classes)[:, None] * 4.0 + base).ravel() + noise * rng.standard_normal(n_per_class * classes)
    x = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
    return _finish(x, np.repeat(np.arange(classes), n_per_class))


def make_xor(n_samples: int = 4, noise: float = 0.0, generator=None):
    """The XOR problem: points near the corners of the unit square, label ``x1 XOR x2``.

    Corner ``i % 4`` of (0,0), (0,1), (1,0), (1,1) (labels 0, 1, 1, 0) plus
    ``noise * N(0, I)``. ``make_xor()`` is exactly the 4-row truth table, which a
    linear classifier cannot fit and 2 ReLU hidden units fit exactly.
    """
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    idx = np.arange(n_samples) % 4
    x = corners[idx]
    if noise:
        x = x + noise * get_generator(generator).standard_normal(x.shape)
    return _finish(x, (corners[idx, 0] != corners[idx, 1]).astype(np.int64))


def make_circles(n_samples: int = 200, noise: float = 0.05, factor: float = 0.5, generator=None):
    """Two concentric circles: radius 1 (label 0, ``n_samples // 2`` points) and
    radius ``factor`` (label 1, the rest), evenly spaced in angle, plus ``noise * N(0, I)``."""
    if not 0 < factor < 1:
        raise ValueError(f"make_circles: factor must lie in (0, 1), got {factor}")
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    x = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        factor * np.stack([np.cos(t_in), np.sin(t_in)], 1)])
    if noise:
        x = x + noise * get_generator(generator).standard_normal(x.shape)
    return _finish(x, np.repeat([0, 1], [n_out, n_in]))


def make_moons(n_samples: int = 200, noise: float = 0.1, generator=None):
    """Two interleaving half circles: ``(cos t, sin t)`` for t in [0, pi] (label 0,
    ``n_samples // 2`` points) and ``(1 - cos t, 0.5 - sin t)`` (label 1, the rest),
    plus ``noise * N(0, I)``."""
    n_a = n_samples // 2
    n_b = n_samples - n_a
    t_a = np.linspace(0, np.pi, n_a)
    t_b = np.linspace(0, np.pi, n_b)
    x = np.concatenate([np.stack([np.cos(t_a), np.sin(t_a)], 1),
                        np.stack([1 - np.cos(t_b), 0.5 - np.sin(t_b)], 1)])
    if noise:
        x = x + noise * get_generator(generator).standard_normal(x.shape)
    return _finish(x, np.repeat([0, 1], [n_a, n_b]))


def make_blobs(n_samples: int = 200, centers: int = 3, std: float = 0.2, generator=None):
    """Gaussian blobs: class ``j`` of ``centers`` is ``N(c_j, std² I)`` around
    ``c_j = (cos 2πj/K, sin 2πj/K)`` (K = ``centers``, evenly spaced on the unit
    circle); ``n_samples`` points dealt to the classes in turn."""
    if centers < 1:
        raise ValueError(f"make_blobs: centers must be at least 1, got {centers}")
    labels = np.arange(n_samples) % centers
    angles = 2 * np.pi * np.arange(centers) / centers
    means = np.stack([np.cos(angles), np.sin(angles)], 1)
    x = means[labels] + std * get_generator(generator).standard_normal((n_samples, 2))
    order = np.argsort(labels, kind="stable")
    return _finish(x[order], labels[order])
