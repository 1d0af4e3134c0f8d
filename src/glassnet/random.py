"""One place that all randomness comes from.

``glassnet.seed(n)`` replaces the global ``numpy.random.Generator``; every random
thing in glassnet (initializers, dropout, RReLU slopes, data shuffling,
augmentation) draws from ``generator=`` when one is passed and from this global
generator otherwise. The same seed therefore gives the same run, bit for bit.
Its state is plain JSON (``get_state``/``set_state``) so checkpoints can store it.

Draws with one value per example (dropout masks, RReLU slopes) go through
:func:`per_example`. In a data-parallel step (:func:`batch_shard`, set by
``glassnet.distributed``) a process holds only rows ``start:stop`` of the
global mini-batch; it then draws for the whole global batch and keeps its rows,
so every process sees the masks one process would, and every generator
advances exactly as in the one-process run.
"""

from __future__ import annotations

import contextlib

import numpy as np

_generator = np.random.default_rng(0)
_shard: tuple[int, int, int] | None = None  # (global batch size, start, stop) during a data-parallel step


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


@contextlib.contextmanager
def batch_shard(size: int, start: int, stop: int):
    """Within this block the mini-batch is rows ``start:stop`` of a global batch
    of ``size`` examples (see :func:`per_example`)."""
    global _shard
    if not 0 <= start <= stop <= size:
        raise ValueError(f"batch_shard: rows {start}:{stop} are not within a batch of {size}")
    outer, _shard = _shard, (int(size), int(start), int(stop))
    try:
        yield
    finally:
        _shard = outer


def per_example(draw, shape: tuple) -> np.ndarray:
    """``draw(shape)`` for an array whose axis 0 is the mini-batch.

    Inside :func:`batch_shard` with ``shape[0]`` equal to this process's rows,
    draws ``(global size, *shape[1:])`` and returns rows ``start:stop``: the
    values the one-process run gives these examples."""
    shape = tuple(shape)
    if _shard is not None and shape and shape[0] == _shard[2] - _shard[1]:
        size, start, stop = _shard
        return draw((size,) + shape[1:])[start:stop]
    return draw(shape)
