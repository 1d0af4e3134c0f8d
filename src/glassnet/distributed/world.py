"""The MPI world: which process this is, and the collectives data parallel needs.

:class:`MPIWorld` wraps an ``mpi4py`` communicator (``MPI.COMM_WORLD`` by
default). mpi4py is imported only when an ``MPIWorld`` is made, never when
glassnet is imported. Every collective runs under a watchdog: a process that
waits longer than ``timeout`` seconds for the others (one of them died, hangs
or was stopped) prints what it was waiting for and aborts the whole job
(``MPI_Abort``), instead of hanging forever.

:func:`active` is the world of the data-parallel step in progress (see
:meth:`glassnet.distributed.DataParallel.step`); ``nn.SyncBatchNorm`` takes
its statistics over it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time

import numpy as np

DEFAULT_TIMEOUT = 60.0  # seconds; GLASSNET_MPI_TIMEOUT overrides it
# Variables MPI launchers set in each process: (name, holds the world size)
LAUNCHER_VARIABLES = (("OMPI_COMM_WORLD_SIZE", True), ("PMI_SIZE", True), ("MV2_COMM_WORLD_SIZE", True),
                      ("PMIX_RANK", False))


class DistributedError(RuntimeError):
    """A data-parallel run cannot go on (processes disagree, or MPI is missing)."""


def launched_size(environ=None) -> int | None:
    """The number of processes the MPI launcher started (``mpirun -n K``,
    ``srun``), read from its environment variables without importing MPI:
    1 outside a launcher, None when launched but the size is not in the
    environment (PMIx alone: ask MPI)."""
    environ = os.environ if environ is None else environ
    for name, is_size in LAUNCHER_VARIABLES:
        if name in environ:
            if not is_size:
                return None
            try:
                return int(environ[name])
            except ValueError:
                raise DistributedError(f"{name}={environ[name]!r}: expected the number of MPI processes") from None
    return 1


def local_size(environ=None) -> int:
    """Processes of this job on this machine (Open MPI, MPICH, Slurm say so; 1 if unknown)."""
    environ = os.environ if environ is None else environ
    for name in ("OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"):
        value = environ.get(name, "").split("(")[0]
        if value.isdigit():
            return int(value)
    return 1


def _import_mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise DistributedError(f"data-parallel training needs mpi4py and an MPI library ({e}): "
                               f"pip install 'glassnet[mpi]' (and Debian's openmpi-bin libopenmpi-dev)") from None
    return MPI


class _Watchdog:
    """A daemon thread that aborts the job when one collective outlasts the timeout.

    ``with watchdog.waiting(what):`` around a blocking call; mpi4py releases the
    GIL while MPI blocks, so the thread runs meanwhile."""

    def __init__(self, world: MPIWorld):
        self.world = world
        self._what, self._since = None, 0.0
        self._wake = threading.Event()
        threading.Thread(target=self._watch, name="glassnet-mpi-watchdog", daemon=True).start()

    @contextlib.contextmanager
    def waiting(self, what: str):
        self._what, self._since = what, time.monotonic()
        try:
            yield
        finally:
            self._what = None

    def _watch(self) -> None:
        timeout = self.world.timeout
        while not self._wake.wait(min(1.0, timeout / 4)):
            what = self._what
            if what is not None and time.monotonic() - self._since > timeout:
                self.world.abort(f"no answer from the other processes for {timeout:g} s in {what}: a process "
                                 f"died, hangs or was stopped. Stopping every process; the last checkpoint "
                                 f"resumes with any number of processes")


class MPIWorld:
    """An MPI communicator through mpi4py: ``rank``, ``size`` and the collectives
    of data-parallel training, each aborting the job after ``timeout`` seconds.

    ``timeout`` defaults to $GLASSNET_MPI_TIMEOUT or 60 s; ``comm`` to
    ``MPI.COMM_WORLD``."""

    def __init__(self, comm=None, timeout: float | None = None):
        MPI = _import_mpi()
        if timeout is None:
            timeout = float(os.environ.get("GLASSNET_MPI_TIMEOUT", DEFAULT_TIMEOUT))
        if not timeout > 0:
            raise ValueError(f"MPIWorld: timeout must be a positive number of seconds, got {timeout!r}")
        self._MPI = MPI
        self.comm = MPI.COMM_WORLD if comm is None else comm
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.timeout = float(timeout)
        self._watchdog = _Watchdog(self)

    def __repr__(self) -> str:
        return f"MPIWorld(rank {self.rank} of {self.size}, timeout {self.timeout:g} s)"

    def allreduce_sum_(self, buffer: np.ndarray, what: str) -> np.ndarray:
        """Replace ``buffer`` (contiguous) by its sum over all processes, in place."""
        with self._watchdog.waiting(what):
            self.comm.Allreduce(self._MPI.IN_PLACE, buffer, op=self._MPI.SUM)
        return buffer

    def allgather(self, array: np.ndarray, what: str) -> np.ndarray:
        """Every process's ``array`` (same shape and dtype everywhere), stacked in rank order: (size, *shape)."""
        array = np.ascontiguousarray(array)
        out = np.empty((self.size,) + array.shape, dtype=array.dtype)
        with self._watchdog.waiting(what):
            self.comm.Allgather(array, out)
        return out

    def broadcast_(self, buffer: np.ndarray, what: str, root: int = 0) -> np.ndarray:
        """Overwrite ``buffer`` (contiguous) with process ``root``'s, in place."""
        with self._watchdog.waiting(what):
            self.comm.Bcast(buffer, root=root)
        return buffer

    def broadcast_json(self, value, what: str, root: int = 0):
        """Process ``root``'s JSON-able ``value``, on every process (sent as JSON text, never pickled)."""
        text = json.dumps(value).encode() if self.rank == root else b""
        length = self.broadcast_(np.array([len(text)], dtype=np.int64), what, root)
        data = np.frombuffer(text, dtype=np.uint8).copy() if self.rank == root else np.empty(length[0], np.uint8)
        return json.loads(self.broadcast_(data, what, root).tobytes())

    def abort(self, message: str, code: int = 1) -> None:
        """Print ``message`` and stop every process of the job (MPI_Abort)."""
        print(f"glassnet.distributed (process {self.rank} of {self.size}): {message}", file=sys.stderr, flush=True)
        self.comm.Abort(code)


_active: MPIWorld | None = None


def active():
    """The world of the data-parallel step in progress, or None (one process)."""
    return _active


@contextlib.contextmanager
def activate(world):
    """Make ``world`` the :func:`active` one within this block."""
    global _active
    outer, _active = _active, world
    try:
        yield world
    finally:
        _active = outer
