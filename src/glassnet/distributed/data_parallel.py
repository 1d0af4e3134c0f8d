"""Data-parallel training: K processes, one global mini-batch, the one-process result.

Every process runs the same ``fit`` over the same data. The loader hands every
process the same global batch of B examples (the same shuffling generator,
checked equal on every process when training starts); process r keeps its
n_r rows (:func:`split_sizes`: B/K each, or as even as possible), runs forward
and backward on them with its loss weighted by n_r/B, and one Allreduce of a
single fused buffer sums the gradients: for a loss that is a mean over
examples, Σ_r (n_r/B)·∇(mean loss of r's rows) = ∇(mean loss of the batch),
the one-process gradient up to the order of float32 summation. Every process
then takes the same optimizer step and keeps the same weights.

Random draws per example (dropout masks, RReLU slopes) are drawn for the whole
global batch on every process, which keeps its rows (:func:`glassnet.random.
per_example`): the masks, and every generator's state, are the one-process
run's. Batch norm normalises each process's rows on their own; ``nn.
SyncBatchNorm`` normalises over the global batch. Running statistics come
from process 0 (sent to all after each epoch), as in PyTorch's DDP.

The same fused Allreduce carries the step's loss, correct count and stop
request, so the NaN guard and Ctrl-C act on every process at the same batch;
only process 0 writes files and prints. A checkpoint holds nothing that
depends on K: any number of processes resumes it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import signal
import traceback
import warnings

import numpy as np

from .. import random as grandom
from ..tensor import Tensor
from . import world as _world


def split_sizes(n: int, k: int) -> list[int]:
    """Examples per process when ``n`` are split over ``k``: as even as possible,
    the first ``n % k`` processes one more (``split_sizes(10, 3) == [4, 3, 3]``)."""
    base, extra = divmod(int(n), int(k))
    return [base + (r < extra) for r in range(k)]


def shard_bounds(n: int, k: int, rank: int) -> tuple[int, int]:
    """Rows ``start:stop`` of process ``rank`` in a batch of ``n`` split over ``k``."""
    base, extra = divmod(int(n), int(k))
    start = rank * base + min(rank, extra)
    return start, start + base + (rank < extra)


def _digest(*parts) -> int:
    """A 63-bit hash of arrays and JSON-able values, to compare states across processes."""
    h = hashlib.blake2b(digest_size=8)
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(str((part.dtype.str, part.shape)).encode())
            h.update(np.ascontiguousarray(part).data)
        else:
            h.update(json.dumps(part, sort_keys=True, default=str).encode())
    return int.from_bytes(h.digest(), "little") >> 1


class OneProcess:
    """What ``fit`` does without data parallelism: the hooks of
    :class:`DataParallel`, each doing nothing (``fit``'s default)."""

    rank, size, is_root = 0, 1, True
    stop_signals = (signal.SIGINT,)

    def local(self, xb: Tensor, yb: Tensor):
        """This process's rows of the batch ``(xb, yb)``: all of them."""
        return xb, yb

    @contextlib.contextmanager
    def step(self, xb: Tensor, yb: Tensor, where: str = "training"):
        yield xb, yb

    def loss_gradient(self, loss: Tensor):
        return None  # backward() starts from 1

    def reduce(self, parameters, loss: float, correct: int, stop: bool) -> tuple:
        return loss, correct, stop

    def sum(self, values, what: str) -> list:
        return list(values)

    def any(self, flag: bool, what: str) -> bool:
        return bool(flag)

    def begin(self, model, batch_size: int, n_train: int, drop_last: bool, states: dict,
              verbose: bool) -> str | None:
        return None

    def end_epoch(self, model) -> None:
        pass

    @contextlib.contextmanager
    def errors_stop_all(self):
        yield


class DataParallel(OneProcess):
    """The data-parallel side of ``fit(..., distributed=DataParallel())``.

    Args:
        world: an :class:`~glassnet.distributed.MPIWorld` (default: MPI_COMM_WORLD,
            which imports mpi4py).
        timeout: seconds a process waits for the others in a collective before
            it stops the job (default $GLASSNET_MPI_TIMEOUT or 60; only with
            the default world).
        loss_reduction: "mean" (the default of every glassnet loss: each
            process's loss is weighted by its share n_r/B of the batch) or "sum".

    ``fit`` calls :meth:`begin` once, :meth:`step` and :meth:`reduce` for each
    mini-batch, :meth:`end_epoch` after each epoch and :meth:`rows` in
    evaluation. ``is_root``: this is process 0, the one that writes files.
    """

    stop_signals = (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1)  # mpirun turns Ctrl-C into SIGTERM

    def __init__(self, world=None, timeout: float | None = None, loss_reduction: str = "mean"):
        if loss_reduction not in ("mean", "sum"):
            raise ValueError(f"DataParallel: loss_reduction must be 'mean' or 'sum', got {loss_reduction!r}")
        if world is not None and timeout is not None:
            raise ValueError("DataParallel: give the timeout to the world you pass (MPIWorld(timeout=...))")
        self.world = world if world is not None else _world.MPIWorld(timeout=timeout)
        self.rank, self.size = self.world.rank, self.world.size
        self.is_root = self.rank == 0
        self.loss_reduction = loss_reduction
        self._buffer, self._layout = None, None  # the fused Allreduce buffer, for these parameters' shapes
        self._share = 1.0  # n_r / B of the step in progress
        self._where = "training"  # what a collective is part of, for the timeout message

    def __repr__(self) -> str:
        return f"DataParallel(process {self.rank} of {self.size})"

    # ------------------------------------------------------------ sharding
    def rows(self, n: int) -> slice:
        """This process's rows of a batch of ``n``."""
        return slice(*shard_bounds(n, self.size, self.rank))

    def describe_split(self, batch_size: int) -> str:
        sizes = split_sizes(batch_size, self.size)
        line = (f"data parallel over {self.size} processes (MPI): global batch {batch_size} = "
                f"{' + '.join(map(str, sizes)) if len(set(sizes)) > 1 else f'{self.size} × {sizes[0]}'}")
        if batch_size % self.size:
            line += f" ({batch_size} is not divisible by {self.size}: split as evenly as possible)"
        return line

    def local(self, xb: Tensor, yb: Tensor):
        """This process's rows of the batch ``(xb, yb)``, as Tensors."""
        rows = self.rows(len(xb))
        return Tensor(xb.data[rows]), Tensor(yb.data[rows])

    @contextlib.contextmanager
    def step(self, xb: Tensor, yb: Tensor, where: str = "training"):
        """Within this block: this process's rows of the global batch ``(xb, yb)``
        (yielded as Tensors), per-example random draws of the global batch, and
        ``nn.SyncBatchNorm`` over every process."""
        n = len(xb)
        rows = self.rows(n)
        self._share = (rows.stop - rows.start) / n if self.loss_reduction == "mean" else 1.0
        self._where = where
        with grandom.batch_shard(n, rows.start, rows.stop), _world.activate(self.world):
            yield self.local(xb, yb)

    def loss_gradient(self, loss: Tensor) -> np.ndarray:
        """The gradient to start this process's backward pass with: its share n_r/B
        of the global mean loss (1 for a summed loss)."""
        return np.full(loss.shape, self._share, dtype=loss.data.dtype)

    # ---------------------------------------------------------- collectives
    def reduce(self, parameters, loss: float, correct: int, stop: bool) -> tuple:
        """Sum every process's gradients of ``parameters`` with one Allreduce over
        one fused buffer that also carries this process's ``loss`` (the mean
        over its rows), ``correct`` count and ``stop`` request. The gradients
        are replaced by the sums (a parameter without a gradient on every
        process keeps ``grad = None``); returns the global batch's mean loss,
        correct count, and whether any process asked to stop."""
        params = [p for p in parameters if p.requires_grad]
        layout = [(p.shape, p.data.dtype) for p in params]
        if layout != self._layout:
            self._layout = layout
            dtype = np.result_type(np.float32, *(dtype for _, dtype in layout))
            # [every gradient, flattened | 1 per parameter that has one | loss share, correct, stop]
            self._buffer = np.zeros(sum(p.data.size for p in params) + len(params) + 3, dtype=dtype)
        buf = self._buffer
        flags = len(buf) - 3 - len(params)
        offset = 0
        for i, p in enumerate(params):
            size = p.data.size
            buf[offset:offset + size] = 0 if p.grad is None else p.grad.reshape(-1)
            buf[flags + i] = p.grad is not None
            offset += size
        buf[-3:] = loss * self._share, correct, stop
        self.world.allreduce_sum_(buf, f"the gradient Allreduce of {self._where}")
        offset = 0
        for i, p in enumerate(params):
            size = p.data.size
            if buf[flags + i] > 0:
                summed = buf[offset:offset + size].reshape(p.shape)
                if p.grad is None:
                    p.grad = summed.astype(p.data.dtype)
                else:
                    np.copyto(p.grad, summed)
            offset += size
        loss, correct, stop = buf[-3:].tolist()
        return loss, round(correct), stop > 0

    def sum(self, values, what: str) -> list[float]:
        """Sums over all processes of a few numbers (float64)."""
        return self.world.allreduce_sum_(np.array(values, dtype=np.float64), what).tolist()

    def any(self, flag: bool, what: str) -> bool:
        """Whether ``flag`` is true on any process."""
        return self.sum([float(flag)], what)[0] > 0

    @contextlib.contextmanager
    def errors_stop_all(self):
        """An exception on one process stops the whole job at once (the others
        would wait for it in the next collective), with its traceback."""
        try:
            yield
        except Exception:
            self.world.abort(f"training failed on this process:\n{traceback.format_exc()}")
            raise  # (abort does not return)

    # --------------------------------------------------------------- hooks
    def begin(self, model, batch_size: int, n_train: int, drop_last: bool, states: dict,
              verbose: bool) -> str:
        """Before the first step: check that the run can be split and that every
        process starts from the same weights and generator states (JSON-able
        ``states``: the generators and the loader); returns the line describing
        the split (when not ``verbose``, an uneven split is a warning)."""
        last = 0 if drop_last else n_train % batch_size
        if batch_size < self.size or 0 < last < self.size:
            small = batch_size if batch_size < self.size else last
            raise ValueError(f"data parallel over {self.size} processes: a mini-batch of {small} examples "
                             f"{'(the last of each epoch) ' if small == last else ''}leaves some process without "
                             f"any; use a batch size of at least {self.size}"
                             f"{' or drop_last' if small == last else ''}")
        weights = _digest(*model.state_dict().values())
        mine = np.array([weights, _digest(states)], dtype=np.int64)
        every = self.world.allgather(mine, "the check that every process starts alike")
        for column, what, fix in ((0, "weights", "build the model with the same seed everywhere"),
                                  (1, "generator states (shuffling, dropout, augmentation)",
                                   "seed every generator the same way on every process")):
            differ = [r for r in range(self.size) if every[r, column] != every[0, column]]
            if differ:
                raise _world.DistributedError(
                    f"process(es) {', '.join(map(str, differ))} start with other {what} than process 0: {fix} "
                    f"(and resume every process from the same checkpoint)")
        if batch_size % self.size and self.is_root and not verbose:
            warnings.warn(self.describe_split(batch_size), stacklevel=4)
        return self.describe_split(batch_size)

    def end_epoch(self, model) -> None:
        """After each epoch: every process gets process 0's floating buffers
        (batch norm's running statistics, which per-process batch norm
        updates with its own rows), and the weights are checked to be equal
        everywhere (process 0's are sent to all, with a warning, if not)."""
        self._where = "the end of an epoch"
        buffers = [b for _, b in model.named_buffers() if isinstance(b, np.ndarray) and b.dtype.kind == "f"]
        if buffers:
            flat = np.concatenate([b.astype(np.float64).reshape(-1) for b in buffers])
            self.world.broadcast_(flat, "sending process 0's running statistics")
            offset = 0
            for b in buffers:
                b[...] = flat[offset:offset + b.size].reshape(b.shape)
                offset += b.size
        params = [p.data for p in model.parameters()]
        digests = self.world.allgather(np.array([_digest(*params)], dtype=np.int64), "the check of equal weights")
        if (digests != digests[0]).any():
            warnings.warn("data parallel: the processes' weights drifted apart (an MPI reduction that is not "
                          "bitwise identical everywhere); continuing with process 0's", stacklevel=2)
            for p in params:
                self.world.broadcast_(p, "sending process 0's weights")
