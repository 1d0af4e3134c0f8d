"""The array namespace glassnet computes with.

Everything above this layer does arithmetic through ``xp`` (NumPy today), so a
GPU array library with NumPy's interface (CuPy) could replace it in one place.
This module also owns the default floating dtype: float32 unless asked.
"""

from __future__ import annotations

import ctypes
import os

import numpy as np

xp = np

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
