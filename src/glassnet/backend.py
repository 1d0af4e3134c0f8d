"""What glassnet computes with: NumPy arrays, their default floating dtype
(float32 unless asked) and the number of threads the BLAS under NumPy uses.

The ops call NumPy directly (``np.``) and hold ``numpy.ndarray`` data. A GPU
backend (CuPy) would need more than a renamed namespace -- every ``isinstance``
check, the in-place ``out=`` kernels, the ``as_strided`` windows of the
convolutions and the pooling loops -- so no ``xp`` alias pretends otherwise.
This module also owns the BLAS threads and malloc settings glassnet's own work
runs with. Importing glassnet changes neither: ``fit``, the command line and
the benchmarks apply them while they work (``threads()``,
``tune_allocator_once()``), and ``set_num_threads`` / ``tune_allocator`` apply
them when called.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import time

import numpy as np

_default_dtype = np.dtype(np.float32)


def default_dtype() -> np.dtype:
    """The dtype new tensors get when the data does not fix one (float32)."""
    return _default_dtype


def set_default_dtype(dtype) -> None:
    """Set the default floating dtype: ``float32`` (the default) or ``float64``."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"default dtype must be float32 or float64, got {dtype}")
    _default_dtype = dtype


def as_array(data, dtype=None) -> np.ndarray:
    """Turn ``data`` into an ndarray.

    A floating ndarray keeps its dtype (as ``torch.from_numpy`` does); Python
    numbers, lists and integer arrays meant as values become the default dtype.
    Integer and boolean arrays stay integer/boolean (labels, masks, indices).
    """
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    if isinstance(data, np.ndarray):
        return data
    arr = np.asarray(data)
    if arr.dtype.kind == "f":
        return arr.astype(_default_dtype, copy=False)
    return arr


_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_chosen_threads: int | None = None  # the last set_num_threads(n)
_allocator_tuned = False


def tune_allocator(mmap_threshold_mb: int = 32, trim_threshold_mb: int = 64) -> bool:
    """Let glibc's malloc keep freed large blocks for reuse (process-wide, once).

    NumPy takes every large temporary (im2col buffers, activations, gradients:
    tens of megabytes per training step) from malloc. glibc serves big blocks
    with fresh mmap'd pages, which the kernel zeroes on first touch, and unmaps
    them again on free, so each step page-faults its working set anew: a large
    share of a convolutional net's step (figures in benchmarks/README.md,
    "Threads"). Raising the mmap and trim
    thresholds keeps those blocks on the heap instead.

    Never called at import. ``fit``, the ``glassnet`` command line and the
    benchmarks call it when they start (unless ``GLASSNET_TUNE_MALLOC=0``); the
    setting then stays for the life of the process, since glibc cannot report
    the previous one to restore. Returns whether the C library accepted it
    (False where malloc is not glibc's).
    """
    global _allocator_tuned
    m_trim_threshold, m_mmap_threshold = -1, -3  # from <malloc.h>
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError, TypeError):
        return False
    _allocator_tuned = bool(mallopt(m_mmap_threshold, mmap_threshold_mb << 20)) and bool(
        mallopt(m_trim_threshold, trim_threshold_mb << 20))
    return _allocator_tuned


def tune_allocator_once() -> None:
    """:func:`tune_allocator` on the first call in this process unless ``GLASSNET_TUNE_MALLOC=0``."""
    if not _allocator_tuned and os.environ.get("GLASSNET_TUNE_MALLOC", "1") != "0":
        tune_allocator()


def set_num_threads(n: int) -> None:
    """Let the BLAS under NumPy (matrix products, so Linear and conv layers) use ``n`` threads.

    An explicit, process-wide setting (it also applies to NumPy code outside
    glassnet); ``fit`` and the command line then keep it instead of choosing
    their own (see :func:`default_num_threads`).
    """
    global _chosen_threads
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive integer, got {n!r}")
    from threadpoolctl import threadpool_limits
    threadpool_limits(limits=int(n), user_api="blas")
    _chosen_threads = int(n)


def get_num_threads() -> int:
    """The number of threads of the BLAS under NumPy (the largest, if several are loaded)."""
    from threadpoolctl import threadpool_info
    return max((lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"), default=1)


def idle_cores(interval: float = 0.1) -> float:
    """How many of the cores this process may run on were idle over the next
    ``interval`` seconds (from /proc/stat; this process sleeps meanwhile, so it
    does not count itself). Where /proc/stat cannot be read: all of them."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)

    def sample():
        times = {}
        with open("/proc/stat") as stat:
            for line in stat:
                name, *fields = line.split()
                if name.startswith("cpu") and name[3:].isdigit():
                    values = [int(v) for v in fields[:8]]
                    times[int(name[3:])] = (values[3] + values[4], sum(values))  # idle + iowait, total
        return times

    try:
        before = sample()
        time.sleep(interval)
        after = sample()
    except (OSError, ValueError):
        return float(len(cpus))
    idle = 0.0
    for cpu in cpus:
        if cpu in before and cpu in after:
            total = after[cpu][1] - before[cpu][1]
            idle += (after[cpu][0] - before[cpu][0]) / total if total > 0 else 1.0
    return idle


def default_num_threads() -> int | None:
    """The BLAS threads glassnet's own work (``fit``, the CLI, the benchmarks) runs with:

    1. the last :func:`set_num_threads` ``n``;
    2. else ``GLASSNET_NUM_THREADS``;
    3. else None — the BLAS as configured — when OMP_NUM_THREADS,
       OPENBLAS_NUM_THREADS or MKL_NUM_THREADS is set;
    4. else the cores that are idle right now (:func:`idle_cores`, rounded, at least 1).

    Why not simply all cores: OpenBLAS splits each product between threads that
    must all finish, so a thread whose core another process holds stalls every
    product, and two threads on a shared machine can run many times slower than
    one (figures in benchmarks/README.md, "Threads"). On idle cores, all of them pay.
    """
    if _chosen_threads is not None:
        return _chosen_threads
    if os.environ.get("GLASSNET_NUM_THREADS"):
        value = os.environ["GLASSNET_NUM_THREADS"]
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"GLASSNET_NUM_THREADS must be a positive integer, got {value!r}")
        return int(value)
    if any(os.environ.get(name) for name in _THREAD_VARIABLES):
        return None
    return max(1, round(idle_cores()))


_active_threads: list = []  # the settings of the threads() blocks being run, innermost last


@contextlib.contextmanager
def threads(n: int | None = None):
    """Run a block with ``n`` BLAS threads, then put the previous setting back:
    ``with glassnet.threads(): ...``. Without ``n``: the enclosing ``threads``
    block's setting if there is one (so ``fit`` inside ``with threads(2)`` keeps
    2), else :func:`default_num_threads`. ``fit`` trains inside one."""
    if n is None:
        n = _active_threads[-1] if _active_threads else default_num_threads()
    if n is not None and (not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1):
        raise ValueError(f"threads: expected a positive integer, got {n!r}")
    _active_threads.append(n)
    try:
        if n is None:
            yield None
        else:
            from threadpoolctl import threadpool_limits
            with threadpool_limits(limits=int(n), user_api="blas"):
                yield int(n)
    finally:
        _active_threads.pop()
