"""The convolutions of residual nets, in cache-sized blocks of output rows.

``conv2d`` hands this path the convolutions of ``resnet_small`` / ``plain_net``:
3×3 with padding 1 and stride 1 or 2, and 1×1 with padding 0 and stride 1 or 2
(dilation 1; see :func:`applies`). Every other convolution (the course CNN's
5×5 valid ones among them) takes the general im2col path of ``functional.conv``,
unchanged. The arithmetic is the same im2col + GEMM in the same (C, H, W, N)
memory order; what changes is how much memory it moves, and how it uses threads:

- The general path builds the whole im2col matrix (C·k², Ho·Wo·N) — 29 MB for
  16 channels at 28×28 and batch 64, 450 MB for a 1,000-image evaluation chunk —
  writes it to memory, reads it back in the product, and keeps it for the
  weight gradient. Here the matrix is built a block of output rows at a time
  (about ``BLOCK_COLUMNS`` columns, ≤ 1 MB for 16 channels) into a workspace
  that stays in the core's cache, and each block's product writes its rows of
  the output directly.
- Nothing of that size is kept for backward: only the (padded) input, from
  which backward rebuilds each block of columns for the weight gradient
  dW = Σ_blocks G_b cols_bᵀ. dx is, for stride 1, the transposed convolution
  (g padded by k − 1 − p, correlated with the flipped kernel whose channel axes
  are swapped) in the same blocks, and for stride 2 the col2im fold of
  W₂ᵀ G_b, block by block, into the padded input's rows.
- Under ``glassnet.threads(n)`` with n ≥ 2 the blocks run on n Python threads
  (NumPy's copies and BLAS products release the GIL) and the BLAS on one
  thread meanwhile: a thread whose core another process holds delays only its
  own block, where a BLAS split of every product would stall each one. The
  results do not depend on the threads (see :func:`_weight_grad`, and the two
  phases of the stride-2 fold).

Measured on the contended 2-vCPU AMD EPYC (see the commit messages and
benchmarks/resnet_step.py): one 16-channel 3×3 layer at 28×28, batch 64, one
thread, forward 9.9 → 6.8 ms (PyTorch 5.4); a resnet_small training step on
one thread about 1.5× faster than the general path, on two threads under load
3.5× faster.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..tensor import Tensor
from ._blocks import run_blocks as _run_blocks, workers as _workers

BLOCK_COLUMNS = 2048  # output positions (H·W·N columns) per block: ~1 MB of columns for 16 channels
MIN_BLOCKS = 4  # at least this many blocks of rows where the image has the rows: work for each of 2 threads


def _block_rows(h: int, w: int, n: int) -> int:
    """Rows per block for an (h, w) output of n images: about ``BLOCK_COLUMNS`` columns, and
    at least ``MIN_BLOCKS`` blocks (the 7×7 layers: 2 rows, not 4, so two threads get 4+3
    rows as 2+2 and 2+1 instead of one block each). It depends on the shape alone, never on
    the threads, so the blocks and hence the bits are the same on 1 thread or several."""
    return max(1, min(BLOCK_COLUMNS // (w * n), -(-h // MIN_BLOCKS)))



def applies(kernel: tuple, stride: tuple, padding: tuple, dilation: tuple) -> bool:
    """Whether ``conv2d`` takes this path: square 3×3 kernels with padding 1 or 1×1 kernels
    with padding 0, stride 1 or 2 (the same in both axes), dilation 1."""
    return (kernel in ((3, 3), (1, 1)) and padding == ((kernel[0] - 1) // 2,) * 2
            and stride in ((1, 1), (2, 2)) and dilation == (1, 1))


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


def _windows(xp: np.ndarray, k: int = 3, s: int = 1) -> np.ndarray:
    """The k×k windows at stride s of a padded (C, Hp, Wp, N) array as a view (C, k, k, Ho, Wo, N):
    windows[c, u, v, i, j, n] = xp[c, s·i + u, s·j + v, n]."""
    return sliding_window_view(xp, (k, k), axis=(1, 2))[:, ::s, ::s].transpose(0, 4, 5, 1, 2, 3)


def _correlate(windows: np.ndarray, w2: np.ndarray, out: np.ndarray, rows: int, workers: int) -> None:
    """out (M, H, W, N) = w2 (M, C·9) @ im2col(windows), one block of ``rows`` output rows at a time."""
    c, k, _, h, w, n = windows.shape
    m = out.shape[0]

    def work(i, r, state):
        if "work" not in state:
            state["work"] = np.empty((c, k, k, rows, w, n), dtype=out.dtype)
        block = state["work"][:, :, :, :r]
        np.copyto(block, windows[:, :, :, i:i + r])
        np.matmul(w2, block.reshape(c * k * k, r * w * n), out=out[:, i:i + r].reshape(m, r * w * n))

    _run_blocks(h, rows, work, workers)


def _weight_grad(windows: np.ndarray, g2: np.ndarray, rows: int, workers: int) -> np.ndarray:
    """Σ over blocks of im2col(windows)_b @ G_bᵀ: (C·k², C_out). Each block's product has its own
    slot and the slots are summed in block order, so the result does not depend on which
    thread ran which block (the same bits on 1 thread or several)."""
    c, k, _, h, w, n = windows.shape
    parts = np.empty((-(-h // rows), c * k * k, g2.shape[0]), dtype=g2.dtype)

    def work(i, r, state):
        if "work" not in state:
            state["work"] = np.empty((c, k, k, rows, w, n), dtype=g2.dtype)
        block = state["work"][:, :, :, :r]
        np.copyto(block, windows[:, :, :, i:i + r])
        np.matmul(block.reshape(c * k * k, r * w * n), g2[:, i * w * n:(i + r) * w * n].T, out=parts[i // rows])

    _run_blocks(h, rows, work, workers)
    acc = parts[0]
    for part in parts[1:]:
        acc += part
    return acc


def _fold(g2: np.ndarray, w2t: np.ndarray, dxp: np.ndarray, k: int, s: int, ho: int, wo: int,
          rows: int, workers: int) -> None:
    """dxp (C, Hp, Wp, N) += col2im(W₂ᵀ G), block by block: each block's dcols_b = W₂ᵀ G_b
    (C·k², r·Wo·N) added onto the padded input positions its outputs read. Blocks next to
    each other share an input row (k − 1 ≥ s), blocks two apart do not (k − 1 < 2s): the even
    blocks run first, then the odd ones, so no two threads add into one row at once and each
    element receives its additions in the same order whatever the threads."""
    c, n = dxp.shape[0], dxp.shape[3]

    def work(i, r, state):
        if "work" not in state:
            state["work"] = np.empty((c * k * k, rows * wo * n), dtype=dxp.dtype)
        dcols = state["work"][:, :r * wo * n]
        np.matmul(w2t, g2[:, i * wo * n:(i + r) * wo * n], out=dcols)
        dcols = dcols.reshape(c, k, k, r, wo, n)
        for u in range(k):
            for v in range(k):
                dxp[:, s * i + u:s * (i + r - 1) + u + 1:s, v:v + s * (wo - 1) + 1:s] += dcols[:, u, v]

    starts = range(0, ho, rows)
    _run_blocks(ho, rows, work, workers, starts[0::2])
    _run_blocks(ho, rows, work, workers, starts[1::2])


def blocked_conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int = 1) -> Tensor:
    """y = conv2d(x, W, b, stride, padding=(k − 1)/2) for W (C_out, C, k, k), k = 1 or 3, stride 1 or 2:
    x (N, C, H, W) → y (N, C_out, Ho, Wo), Ho = ⌊(H − 1)/s⌋ + 1 (Wo alike).

    The result is an NCHW view of a (C_out, Ho, Wo, N) array, as ``conv2d``'s.
    Backward: dW = Σ_blocks G_b cols_bᵀ (columns rebuilt from the saved padded
    input), db = Σ g, dx for stride 1 the correlation of g padded by k − 1 − p with
    Wᵀ[c, o, u, v] = W[o, c, k−1−u, k−1−v], for stride 2 the blocked col2im fold.
    """
    xd, w = x.data, weight.data
    n, c, h, wd = xd.shape
    c_out, _, k, _ = w.shape
    s, p = int(stride), (k - 1) // 2
    ho, wo = (h - 1) // s + 1, (wd - 1) // s + 1
    xc = xd.transpose(1, 2, 3, 0)  # (C, H, W, N): a view
    xp = _padded(xc) if p else xc
    workers = _workers()
    rows = _block_rows(ho, wo, n)
    y = np.empty((c_out, ho, wo, n), dtype=xd.dtype)
    _correlate(_windows(xp, k, s), w.reshape(c_out, c * k * k), y, rows, workers)
    if bias is not None:
        y += bias.data[:, None, None, None]
    keep = xp if weight.requires_grad else None

    def backward(g):
        gt = np.ascontiguousarray(g.transpose(1, 2, 3, 0))  # (C_out, Ho, Wo, N); free for conv2d-ordered g
        g2 = gt.reshape(c_out, ho * wo * n)
        gx = gw = gb = None
        if weight.requires_grad:
            gw = np.ascontiguousarray(_weight_grad(_windows(keep, k, s), g2, rows, workers).T).reshape(w.shape)
        if bias is not None and bias.requires_grad:
            gb = g2.sum(axis=1)
        if x.requires_grad:
            if s == 1:
                w_t = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)).reshape(c, c_out * k * k)
                dx = np.empty((c, h, wd, n), dtype=g2.dtype)
                _correlate(_windows(_padded(gt) if p else gt, k, 1), w_t, dx, _block_rows(h, wd, n), workers)
            else:
                dxp = np.zeros((c, h + 2 * p, wd + 2 * p, n), dtype=g2.dtype)
                _fold(g2, np.ascontiguousarray(w.reshape(c_out, -1).T), dxp, k, s, ho, wo, rows, workers)
                dx = dxp[:, p:p + h, p:p + wd]
            gx = dx.transpose(3, 0, 1, 2)
        return (gx, gw) if bias is None else (gx, gw, gb)

    parents = (x, weight) if bias is None else (x, weight, bias)
    return Tensor.from_op(y.transpose(3, 0, 1, 2), parents, backward, "conv2d")
