"""One place that all randomness comes from.

``glassnet.seed(n)`` replaces the global ``numpy.random.Generator``; every random
thing in glassnet (initializers, dropout, RReLU slopes, data shuffling,
augmentation) draws from ``generator=`` when one is passed and from this global
generator otherwise. The same seed therefore gives the same run, bit for bit.
Its state is plain JSON (``get_state``/``set_state``) so checkpoints can store it.
"""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng(0)


def seed(n: int) -> np.random.Generator:
    """Reseed the global generator with ``n`` and return it."""
    global _generator
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"seed must be a non-negative integer, got {n!r}")
    _generator = np.random.default_rng(int(n))
    return _generator


def get_generator(generator: np.random.Generator | None = None) -> np.random.Generator:
    """``generator`` if given, else the global generator."""
    return _generator if generator is None else generator


def get_state(generator: np.random.Generator | None = None) -> dict:
    """The JSON-serialisable state of ``generator`` (default: the global one)."""
    return get_generator(generator).bit_generator.state


def set_state(state: dict, generator: np.random.Generator | None = None) -> None:
    """Restore a state produced by :func:`get_state`."""
    get_generator(generator).bit_generator.state = state
