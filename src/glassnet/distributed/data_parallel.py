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


class DataParallel:
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
        self._buffer = None  # the fused gradient buffer, made at the first step
        self._buffer_layout, self._buffer_size = None, 0
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
            yield Tensor(xb.data[rows]), Tensor(yb.data[rows])

    def loss_gradient(self, loss: Tensor) -> np.ndarray:
        """The gradient to start this process's backward pass with: its share n_r/B
        of the global mean loss (1 for a summed loss)."""
        return np.full(loss.shape, self._share, dtype=loss.data.dtype)

    # ---------------------------------------------------------- collectives
    def reduce(self, parameters, *stats: float) -> tuple:
        """Sum every process's gradients of ``parameters`` and the numbers
        ``stats`` with one Allreduce over one fused buffer; the gradients are
        replaced by the sums, the summed stats returned. A parameter without a
        gradient on every process keeps ``grad = None``."""
        params = [p for p in parameters if p.requires_grad]
        if self._buffer is None or self._buffer_layout != [(p.shape, p.data.dtype) for p in params] \
                or len(self._buffer) != self._buffer_size + len(params) + len(stats):
            self._make_buffer(params, len(stats))
        buf, offset = self._buffer, 0
        for i, p in enumerate(params):
            size = p.data.size
            if p.grad is None:
                buf[offset:offset + size] = 0
            else:
                buf[offset:offset + size] = p.grad.reshape(-1)
            buf[self._buffer_size + i] = p.grad is not None
            offset += size
        tail = self._buffer_size + len(params)
        buf[tail:] = stats
        self.world.allreduce_sum_(buf, f"the gradient Allreduce ({self._where})")
        offset = 0
        for i, p in enumerate(params):
            size = p.data.size
            if buf[self._buffer_size + i] > 0:
                summed = buf[offset:offset + size].reshape(p.shape)
                if p.grad is None:
                    p.grad = summed.astype(p.data.dtype)
                else:
                    np.copyto(p.grad, summed)
            offset += size
        return tuple(float(v) for v in buf[tail:])

    def _make_buffer(self, params, n_stats: int) -> None:
        dtype = np.result_type(np.float32, *(p.data.dtype for p in params))
        self._buffer_layout = [(p.shape, p.data.dtype) for p in params]
        self._buffer_size = sum(p.data.size for p in params)
        self._buffer = np.zeros(self._buffer_size + len(params) + n_stats, dtype=dtype)

    def sum(self, values, what: str) -> list[float]:
        """Sums over all processes of a few numbers (float64)."""
        return self.world.allreduce_sum_(np.asarray(values, dtype=np.float64).copy(), what).tolist()

    # --------------------------------------------------------------- hooks
    def begin(self, model, batch_size: int, n_train: int, drop_last: bool, states: dict) -> str:
        """Before the first step: check that the run can be split and that every
        process starts from the same weights and generator states (JSON-able
        ``states``: the generators and the loader); returns the line describing
        the split."""
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
