"""Mini-batches: ``TensorDataset`` and ``DataLoader``.

``DataLoader((x, y), batch_size=10, shuffle=True, generator=rng)`` yields
``(xb, yb)`` tuples of glassnet Tensors, ``xb`` of shape ``(B, ...)`` and ``yb``
``(B,)``, with ``B = batch_size`` except possibly the last batch. Each epoch
(each ``iter()``) draws a fresh permutation of ``0..N-1`` from ``generator``:
every example is seen exactly once per epoch (sampling without replacement),
and the same generator state gives the same order, bit for bit.

A batch costs one fancy-index per array (``x[perm[i:i+B]]``; a plain slice
without shuffling), never a Python loop over examples.

Any other dataset is *map-style*, as PyTorch's: ``dataset[i]`` returns one
example and ``len(dataset)`` counts them; the loader fetches the B examples of
a batch one by one and merges them with ``collate_fn`` (default:
:func:`default_collate`). This costs a Python call per example: for data
that fits in arrays the array path is much faster.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from .. import backend
from ..random import get_generator
from ..tensor import Tensor


class TensorDataset:
    """Arrays sharing their first axis (N); item ``i`` is ``tuple(a[i] for a in arrays)``.

    Indexing with an integer array or a slice returns the batch of every array
    at once: ``ds[[3, 1]] -> (x[[3, 1]], y[[3, 1]])``. Tensors are stored as
    their ndarrays.
    """

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        arrays = tuple(a.data if isinstance(a, Tensor) else np.asarray(a) for a in arrays)
        if any(a.ndim == 0 for a in arrays):
            raise ValueError(f"TensorDataset: arrays need a first (example) axis, got shapes {[a.shape for a in arrays]}")
        if len({len(a) for a in arrays}) != 1:
            raise ValueError(f"TensorDataset: arrays differ in length along axis 0: shapes {[a.shape for a in arrays]}")
        self.arrays = arrays

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index):
        if isinstance(index, np.ndarray):  # take() is about twice as fast as fancy indexing
            return tuple(a.take(index, axis=0) for a in self.arrays)
        return tuple(a[index] for a in self.arrays)


def _to_tensor(a: np.ndarray) -> Tensor:
    """Floating arrays keep their dtype; integer arrays (labels) become int64."""
    if a.dtype.kind in "iu" and a.dtype != np.int64:
        a = a.astype(np.int64)
    return Tensor(a)


def default_collate(samples: list):
    """Merge a list of examples into one batch, as PyTorch's ``default_collate``:

    - arrays / Tensors of one shape (and NumPy scalars) → one Tensor (B, ...),
      floating dtypes kept, integers as int64;
    - Python ints → an int64 Tensor (B,), floats → a Tensor (B,) of glassnet's
      default dtype (float32; PyTorch makes float64), bools → a bool Tensor;
    - tuples, lists and dicts → the same structure, each field collated
      (PyTorch turns tuples into lists; here a tuple stays a tuple);
    - strings (and other objects) → the list of them.
    """
    first = samples[0]
    if isinstance(first, Tensor) or isinstance(first, (np.ndarray, np.generic)):
        arrays = [np.asarray(s.data if isinstance(s, Tensor) else s) for s in samples]
        shapes = {a.shape for a in arrays}
        if len(shapes) != 1:
            raise ValueError(f"default_collate: examples of different shapes {sorted(shapes)} cannot be stacked; "
                             f"pad them in the dataset or pass a collate_fn")
        return _to_tensor(np.stack(arrays))
    if isinstance(first, (bool, np.bool_)):
        return Tensor(np.array(samples, dtype=bool))
    if isinstance(first, numbers.Integral):
        return Tensor(np.array(samples, dtype=np.int64))
    if isinstance(first, numbers.Real):
        return Tensor(np.array(samples, dtype=backend.default_dtype()))
    if isinstance(first, Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, Sequence) and not isinstance(first, str):
        if len({len(s) for s in samples}) != 1:
            raise ValueError("default_collate: examples are sequences of different lengths; pass a collate_fn")
        fields = [default_collate(list(column)) for column in zip(*samples)]
        return tuple(fields) if isinstance(first, tuple) else fields
    return list(samples)


class DataLoader:
    """Iterate over a dataset in mini-batches of glassnet Tensors.

    Args:
        dataset: a ``TensorDataset`` or a tuple/list of arrays (wrapped in one):
            the fast path, one indexing per batch; or a map-style dataset, any
            object with ``__len__`` and ``__getitem__(i)`` returning one example
            (PyTorch's ``Dataset``), whose examples ``collate_fn`` merges. An
            object whose ``__getitem__`` takes an integer index array and returns
            a tuple of arrays can say so with ``batch_indexing = True``.
        batch_size: examples per batch (B).
        shuffle: draw a new permutation each epoch; otherwise the stored order.
        drop_last: drop the last batch when it has fewer than ``batch_size`` examples.
        generator: the ``numpy.random.Generator`` the permutations come from
            (default: glassnet's global one, see :mod:`glassnet.random`).
        transform: applied to the first array of each batch (the inputs) before
            it becomes a Tensor, e.g. ``to_float`` (keep uint8 images in memory,
            scale per batch) or a ``RandomShift`` augmentation. It must return a
            new array, not modify its argument in place. (Array datasets only:
            a map-style dataset transforms its examples in ``__getitem__``.)
        collate_fn: for a map-style dataset, merges the list of B examples into
            a batch (default :func:`default_collate`).

    Batches: floating arrays keep their dtype, integer arrays become int64.
    ``len(loader)`` is the number of batches per epoch.

    Checkpointing: ``state_dict()`` holds the generator's state and, during an
    epoch, the state the epoch's permutation was drawn from and how many
    batches were handed out; after ``load_state_dict`` the next ``iter()``
    replays that permutation and continues after those batches, so an
    interrupted run resumes bit for bit.
    """

    def __init__(self, dataset, batch_size: int = 32, shuffle: bool = False, drop_last: bool = False,
                 generator: np.random.Generator | None = None, transform=None, collate_fn=None):
        if isinstance(dataset, (tuple, list)):
            dataset = TensorDataset(*dataset)
        elif isinstance(dataset, (np.ndarray, Tensor)):
            dataset = TensorDataset(dataset)
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader: a dataset needs __len__ and __getitem__, got a {type(dataset).__name__}")
        self.map_style = not (isinstance(dataset, TensorDataset) or getattr(dataset, "batch_indexing", False))
        if self.map_style and transform is not None:
            raise ValueError("DataLoader: transform= works on array datasets; a map-style dataset "
                             f"({type(dataset).__name__}) applies its transforms in __getitem__")
        self.collate_fn = collate_fn or default_collate
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.transform = transform
        self._generator = generator
        self._epoch_start_state = None  # generator state before this epoch's permutation
        self._batches_done = 0  # batches handed out in the current epoch
        self._resume = None  # (epoch_start_state, batches_done) to replay on the next iter()

    @property
    def generator(self) -> np.random.Generator:
        """The generator the permutations come from (save ``generator.bit_generator.state``)."""
        return get_generator(self._generator)

    def __len__(self) -> int:
        n, b = len(self.dataset), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def _permutation(self, epoch_start_state):
        """This epoch's order: a fresh draw, or the replay of a checkpointed one."""
        n = len(self.dataset)
        if epoch_start_state is None:
            self._epoch_start_state = self.generator.bit_generator.state
            return self.generator.permutation(n)
        replay = np.random.Generator(type(self.generator.bit_generator)())
        replay.bit_generator.state = epoch_start_state
        self._epoch_start_state = epoch_start_state
        return replay.permutation(n)

    def __iter__(self):
        epoch_start_state, skip = self._resume or (None, 0)
        self._resume = None
        order = self._permutation(epoch_start_state) if self.shuffle else None
        n, b = len(self.dataset), self.batch_size
        stop = n - n % b if self.drop_last else n
        self._batches_done = skip
        for i in range(skip * b, stop, b):
            if self.map_style:
                indices = order[i:i + b] if order is not None else range(i, min(i + b, n))
                self._batches_done += 1
                yield self.collate_fn([self.dataset[int(j)] for j in indices])
                continue
            batch = self.dataset[order[i:i + b] if order is not None else slice(i, i + b)]
            if self.transform is not None:
                batch = (self.transform(batch[0]),) + tuple(batch[1:])
            self._batches_done += 1
            yield tuple(_to_tensor(a) for a in batch)
        self._epoch_start_state, self._batches_done = None, 0

    def state_dict(self) -> dict:
        """JSON-serialisable position: the generator's state (also when only a transform
        draws from it), and the epoch in progress if any."""
        return {
            "generator": self.generator.bit_generator.state,
            "epoch_start": self._epoch_start_state,
            "batches_done": self._batches_done,
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore a :meth:`state_dict`; the next ``iter()`` continues the saved epoch."""
        if state.get("generator") is not None:
            self.generator.bit_generator.state = state["generator"]
        done = int(state.get("batches_done", 0))
        self._resume = (state.get("epoch_start"), done) if done else None
