"""The 3×3, padding-1, stride-1 convolution of residual nets, in cache-sized blocks of rows.

``conv2d`` hands this path the "same" 3×3 convolutions (kernel 3×3, padding 1,
stride 1, dilation 1); every other convolution takes the general im2col path of
``functional.conv``. The arithmetic is the same im2col + GEMM, in the same
(C, H, W, N) memory order; what changes is how much memory it moves:

- The general path builds the whole im2col matrix (C·9, H·W·N) — 29 MB for 16
  channels at 28×28 and batch 64 — writes it to memory, and reads it back in the
  product (and keeps it for the weight gradient). Here the matrix is built a
  block of output rows at a time (about 2,000 columns, ≤ 1 MB) into one
  workspace that stays in the core's cache, and each block's product writes its
  rows of the output directly.
- Nothing of that size is kept for backward: only the zero-padded input
  (C, H+2, W+2, N), from which backward rebuilds each block of columns for the
  weight gradient dW = Σ_blocks G_b cols_bᵀ, while dx, the transposed
  convolution (g padded by 1, correlated with the flipped kernel whose channel
  axes are swapped), runs in the same blocks.

Measured (1 thread, batch 64, one 16-channel layer at 28×28, contended 2-vCPU
AMD EPYC, best of 30): forward 9.9 ms → 6.8 ms; PyTorch 5.4 ms. See
benchmarks/resnet_step.py for the whole step.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import backend
from ..tensor import Tensor

BLOCK_COLUMNS = 2048  # output positions (H·W·N columns) per block: ~1 MB of columns for 16 channels

_pool: list = [None, 0]  # a ThreadPoolExecutor and its size, made on first use
_blas: list = []  # threadpoolctl's controllers of the BLAS libraries, found on first use


def applies(kernel: tuple, stride: tuple, padding: tuple, dilation: tuple) -> bool:
    """Whether ``conv2d`` takes this path: 3×3 kernels, padding 1, stride 1, dilation 1."""
    return kernel == (3, 3) and stride == (1, 1) and padding == (1, 1) and dilation == (1, 1)


def _padded(a: np.ndarray) -> np.ndarray:
    """(C, H, W, N) → a fresh C-contiguous (C, H+2, W+2, N) with a zero border of 1."""
    c, h, w, n = a.shape
    out = np.empty((c, h + 2, w + 2, n), dtype=a.dtype)
    out[:, 0] = 0
    out[:, h + 1] = 0
    out[:, 1:h + 1, 0] = 0
    out[:, 1:h + 1, w + 1] = 0
    out[:, 1:h + 1, 1:w + 1] = a
    return out


def _windows(xp: np.ndarray) -> np.ndarray:
    """The 3×3 windows of a padded (C, H+2, W+2, N) array as a view (C, 3, 3, H, W, N):
    windows[c, u, v, i, j, n] = xp[c, i + u, j + v, n]."""
    return sliding_window_view(xp, (3, 3), axis=(1, 2)).transpose(0, 4, 5, 1, 2, 3)


def _workers() -> int:
    """Threads for the blocks: those of the enclosing ``glassnet.threads()`` block (1 outside one)."""
    threads = backend._active_threads[-1] if backend._active_threads else None
    return max(1, int(threads or 1))


@contextlib.contextmanager
def _blas_single_thread():
    """The BLAS on one thread while the blocks run on several Python threads, then as before."""
    if not _blas:
        from threadpoolctl import ThreadpoolController
        _blas.append(ThreadpoolController().select(user_api="blas"))
    with _blas[0].limit(limits=1):
        yield


def _run_blocks(h: int, rows: int, work, workers: int) -> list:
    """Call ``work(i, r, state)`` for each block of ``r`` ≤ ``rows`` output rows starting at
    row ``i``; returns each worker's ``state`` (a dict it may fill, e.g. a partial sum).

    With several workers the blocks are handed out one at a time to whichever thread is free
    (NumPy's copies and BLAS products release the GIL), and the BLAS runs on one thread
    meanwhile: a thread whose core another process holds then delays only its own block,
    where a BLAS split of each product across threads would stall every product."""
    starts = list(range(0, h, rows))
    if workers == 1 or len(starts) == 1:
        state: dict = {}
        for i in starts:
            work(i, min(rows, h - i), state)
        return [state]
    queue = iter(starts)  # next() on a list iterator is atomic under the GIL
    lock = threading.Lock()

    def drain():
        state: dict = {}
        while True:
            with lock:
                i = next(queue, None)
            if i is None:
                return state
            work(i, min(rows, h - i), state)

    if _pool[1] != workers:
        if _pool[0] is not None:
            _pool[0].shutdown(wait=False)
        _pool[:] = [concurrent.futures.ThreadPoolExecutor(workers - 1, thread_name_prefix="glassnet-conv"),
                    workers]
    with _blas_single_thread():
        helpers = [_pool[0].submit(drain) for _ in range(workers - 1)]
        states = [drain()]
        states += [f.result() for f in helpers]
    return states


def _correlate(windows: np.ndarray, w2: np.ndarray, out: np.ndarray, rows: int, workers: int) -> None:
    """out (M, H, W, N) = w2 (M, C·9) @ im2col(windows), one block of ``rows`` output rows at a time."""
    c, _, _, h, w, n = windows.shape
    m = out.shape[0]

    def work(i, r, state):
        if "work" not in state:
            state["work"] = np.empty((c, 3, 3, rows, w, n), dtype=out.dtype)
        block = state["work"][:, :, :, :r]
        np.copyto(block, windows[:, :, :, i:i + r])
        np.matmul(w2, block.reshape(c * 9, r * w * n), out=out[:, i:i + r].reshape(m, r * w * n))

    _run_blocks(h, rows, work, workers)


def _weight_grad(windows: np.ndarray, g2: np.ndarray, rows: int, workers: int) -> np.ndarray:
    """Σ over blocks of im2col(windows)_b @ G_bᵀ: (C·9, C_out). Each block's product has its own
    slot and the slots are summed in block order, so the result does not depend on which
    thread ran which block (the same bits on 1 thread or several)."""
    c, _, _, h, w, n = windows.shape
    parts = np.empty((-(-h // rows), c * 9, g2.shape[0]), dtype=g2.dtype)

    def work(i, r, state):
        if "work" not in state:
            state["work"] = np.empty((c, 3, 3, rows, w, n), dtype=g2.dtype)
        block = state["work"][:, :, :, :r]
        np.copyto(block, windows[:, :, :, i:i + r])
        np.matmul(block.reshape(c * 9, r * w * n), g2[:, i * w * n:(i + r) * w * n].T, out=parts[i // rows])

    _run_blocks(h, rows, work, workers)
    acc = parts[0]
    for part in parts[1:]:
        acc += part
    return acc


def conv3x3(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = conv2d(x, W, b, stride=1, padding=1) for W (C_out, C, 3, 3), x (N, C, H, W) → y (N, C_out, H, W).

    The result is an NCHW view of a (C_out, H, W, N) array, as ``conv2d``'s.
    Backward: dW = Σ_blocks G_b cols_bᵀ (columns rebuilt from the saved padded
    input), db = Σ g, dx = the correlation of g padded by 1 with
    Wᵀ[c, o, u, v] = W[o, c, 2−u, 2−v], block by block.
    """
    xd, w = x.data, weight.data
    n, c, h, wd = xd.shape
    c_out = w.shape[0]
    xp = _padded(xd.transpose(1, 2, 3, 0))
    workers = _workers()
    rows = max(1, BLOCK_COLUMNS // (wd * n))
    y = np.empty((c_out, h, wd, n), dtype=xd.dtype)
    _correlate(_windows(xp), w.reshape(c_out, c * 9), y, rows, workers)
    if bias is not None:
        y += bias.data[:, None, None, None]
    keep = xp if weight.requires_grad else None

    def backward(g):
        gt = np.ascontiguousarray(g.transpose(1, 2, 3, 0))  # (C_out, H, W, N); free for conv2d-ordered g
        g2 = gt.reshape(c_out, h * wd * n)
        gx = gw = gb = None
        if weight.requires_grad:
            gw = np.ascontiguousarray(_weight_grad(_windows(keep), g2, rows, workers).T).reshape(w.shape)
        if bias is not None and bias.requires_grad:
            gb = g2.sum(axis=1)
        if x.requires_grad:
            w_t = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)).reshape(c, c_out * 9)
            dx = np.empty((c, h, wd, n), dtype=g2.dtype)
            _correlate(_windows(_padded(gt)), w_t, dx, rows, workers)
            gx = dx.transpose(3, 0, 1, 2)
        return (gx, gw) if bias is None else (gx, gw, gb)

    parents = (x, weight) if bias is None else (x, weight, bias)
    return Tensor._from_op(y.transpose(3, 0, 1, 2), parents, backward, "conv2d")
