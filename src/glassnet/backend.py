"""What glassnet computes with: NumPy arrays, their default floating dtype
(float32 unless asked) and the number of threads the BLAS under NumPy uses.

The ops call NumPy directly (``np.``) and hold ``numpy.ndarray`` data. A GPU
backend (CuPy) would need more than a renamed namespace -- every ``isinstance``
check, the in-place ``out=`` kernels, the ``as_strided`` windows of the
convolutions and the pooling loops -- so no ``xp`` alias pretends otherwise.
"""

from __future__ import annotations

import ctypes
import os

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


def tune_allocator(mmap_threshold_mb: int = 32, trim_threshold_mb: int = 64) -> bool:
    """Let glibc's malloc keep freed large blocks for reuse.

    NumPy takes every large temporary (im2col buffers, activations, gradients:
    tens of megabytes per training step) from malloc. glibc serves big blocks
    with fresh mmap'd pages, which the kernel zeroes on first touch, and unmaps
    them again on free, so each step page-faults its working set anew (measured
    on the course CNN: ~4,000 faults and ~40% of a training step). Raising the
    mmap and trim thresholds keeps those blocks on the heap instead. Called once
    at import unless ``GLASSNET_TUNE_MALLOC=0``; returns whether the C library
    accepted the setting (False where malloc is not glibc's).
    """
    m_trim_threshold, m_mmap_threshold = -1, -3  # from <malloc.h>
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError, TypeError):
        return False
    return bool(mallopt(m_mmap_threshold, mmap_threshold_mb << 20)) and bool(
        mallopt(m_trim_threshold, trim_threshold_mb << 20))


if os.environ.get("GLASSNET_TUNE_MALLOC", "1") != "0":
    tune_allocator()


_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def set_num_threads(n: int) -> None:
    """Let the BLAS under NumPy (matrix products, so Linear and conv layers) use ``n`` threads.

    glassnet sets 1 at import, unless ``GLASSNET_NUM_THREADS`` says otherwise or
    one of OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS is set (then
    the BLAS keeps that choice). This is process-wide: it also applies to NumPy
    code outside glassnet. Why one: OpenBLAS splits a product between threads
    that must all run to finish it, so on a machine whose cores are busy each
    product waits for a descheduled thread. Measured on a shared 2-core machine:
    a 128×784 @ 784×512 product took 1.1 ms on one thread and 0.59 ms on two
    when both cores were free, but 56–72 ms on two when they were not; one epoch
    of a 784-512-512-10 MLP at batch 128 ran at 7,200 images/s on one thread and
    390 on two. With idle cores and large products, more threads pay: raise it.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive integer, got {n!r}")
    from threadpoolctl import threadpool_limits
    threadpool_limits(limits=int(n), user_api="blas")


def get_num_threads() -> int:
    """The number of threads of the BLAS under NumPy (the largest, if several are loaded)."""
    from threadpoolctl import threadpool_info
    return max((lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"), default=1)


if os.environ.get("GLASSNET_NUM_THREADS"):
    set_num_threads(int(os.environ["GLASSNET_NUM_THREADS"]))
elif not any(os.environ.get(name) for name in _THREAD_VARIABLES):
    set_num_threads(1)
