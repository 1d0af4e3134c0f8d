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


# ---------------------------------------------------------------- the rng_state protocol
# Whatever draws from a Generator of its own while training -- a module built with
# ``generator=g`` (Dropout, Dropout2d, RReLU), a transform (RandomShift), a loader's
# transform pipeline -- implements
#
#     rng_state() -> dict            {name: bit-generator state}, JSON
#     load_rng_state(state) -> None  restore a dict returned by rng_state()
#
# and training checkpoints save exactly these states, next to the global generator's.
# Modules implement it once in ``Module`` over ``own_generators()``; see there.

def generator_states(generators: dict) -> dict:
    """``{name: generator.bit_generator.state}``: the JSON form of named generators."""
    return {name: g.bit_generator.state for name, g in generators.items()}


def load_generator_states(generators: dict, states: dict) -> None:
    """Restore each named generator whose name is in ``states`` (the others are
    left alone; ``set(rng_state()) - set(saved)`` names them)."""
    for name, g in generators.items():
        if name in states:
            g.bit_generator.state = states[name]


def rng_state_of(obj) -> dict:
    """``obj.rng_state()`` if ``obj`` implements the protocol, else ``{}`` (e.g. a plain function)."""
    method = getattr(obj, "rng_state", None)
    return method() if callable(method) else {}


def undeclared_generators(obj, declared=()) -> list:
    """Attributes of ``obj`` (also items of a list, tuple or dict attribute) that
    are Generators not in ``declared``, or objects with random state of their own
    (a RandomShift inside a wrapper transform): state a checkpoint would miss. A
    diagnostic for objects that hold a generator but do not implement the protocol."""
    known = {id(g) for g in declared}
    found = []
    for key, value in getattr(obj, "__dict__", {}).items():
        items = (value.items() if isinstance(value, dict) else enumerate(value)
                 if isinstance(value, (list, tuple)) else [(None, value)])
        for index, item in items:
            if (isinstance(item, np.random.Generator) and id(item) not in known) or \
                    (not isinstance(item, type) and callable(getattr(item, "rng_state", None))
                     and not hasattr(item, "named_modules") and item.rng_state()):
                found.append(key if index is None else f"{key}[{index!r}]")
    return found
