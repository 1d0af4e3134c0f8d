"""Pooling: max and average over windows, adaptive bins and spatial pyramids.

Every op takes x of shape (N, C, H, W) in any memory layout and returns its
result in the same layout (see ``conv.py``: convolutions hand over arrays in
(C, H, W, N) order), with hand-derived backward passes:

- max routes g to the winner of each window (one winner per window: the first
  maximum in row-major order, as in PyTorch), so dL/dx is g at the argmax and 0
  elsewhere;
- average spreads g evenly over the window, g/(kh·kw);
- where windows overlap (stride < kernel) an input that belongs to several
  windows sums the gradients of all of them.

Windows are strided slices, one per kernel offset: a loop over the kh·kw
offsets, never over images or output positions. For the common kernel == stride
case this is the same arithmetic as reshaping (H, W) into (Ho, kh, Wo, kw) tiles
and reducing over the tile axes, but ``np.maximum`` of kh·kw strided slices runs
much faster than ``tiles.max(axis=(3, 5))`` (NumPy reduces short strided axes
slowly; figures in benchmarks/README.md), so the slices serve both; without
overlap, backward assigns instead of adding.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, cat
from . import _numba_kernels
from .conv import pair


def _check_input(name: str, xd: np.ndarray) -> None:
    if xd.ndim != 4:
        raise ValueError(f"{name}: expected input (N, C, H, W), got shape {xd.shape}")


def pool_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int = 1,
                     ceil_mode: bool = False) -> int:
    """PyTorch's pooled length: ⌊(size + 2p − d(k − 1) − 1)/s⌋ + 1, or with
    ``ceil_mode`` ⌈…⌉ + 1 minus one if that last window would start in the right padding."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    return out - 1 if (out - 1) * stride >= size + padding else out


def _window_args(name: str, xd: np.ndarray, kernel_size, stride, padding, dilation=1, ceil_mode: bool = False):
    """Normalised (kh, kw), (sh, sw), (ph, pw), (dh, dw), (Ho, Wo) and the extra
    (bottom, right) padding that ceil_mode's last windows reach; stride defaults to the kernel."""
    _check_input(name, xd)
    (kh, kw) = pair(kernel_size, "kernel_size")
    (sh, sw) = pair(kernel_size if stride is None else stride, "stride")
    (ph, pw) = pair(padding, "padding")
    (dh, dw) = pair(dilation, "dilation")
    if 2 * ph > kh or 2 * pw > kw:
        raise ValueError(f"{name}: padding ({ph}, {pw}) must be at most half the kernel ({kh}, {kw})")
    ho = pool_output_size(xd.shape[2], kh, sh, ph, dh, ceil_mode)
    wo = pool_output_size(xd.shape[3], kw, sw, pw, dw, ceil_mode)
    if ho < 1 or wo < 1:
        raise ValueError(f"{name}: input {xd.shape[2]}×{xd.shape[3]} with padding ({ph}, {pw}) is "
                         f"smaller than the kernel {kh}×{kw}")
    extra = tuple(max(0, (o - 1) * s + d * (k - 1) + 1 - (size + 2 * p)) for o, s, d, k, size, p in
                  ((ho, sh, dh, kh, xd.shape[2], ph), (wo, sw, dw, kw, xd.shape[3], pw)))
    return (kh, kw), (sh, sw), (ph, pw), (dh, dw), (ho, wo), extra


def _pad(xd: np.ndarray, ph: int, pw: int, value: float, extra=(0, 0)) -> np.ndarray:
    """x with ``value`` around H and W (and ``extra`` more rows and columns at
    the bottom and right), in x's memory layout."""
    if not ph and not pw and not any(extra):
        return xd
    n, c, h, w = xd.shape
    out = np.full_like(xd, value, shape=(n, c, h + 2 * ph + extra[0], w + 2 * pw + extra[1]))
    out[:, :, ph:ph + h, pw:pw + w] = xd
    return out


def _windows(kernel, stride, out_hw, dilation=(1, 1)):
    """For each kernel offset (u, v), row-major: the slice of the padded input
    that offset reads for every output position."""
    (kh, kw), (sh, sw), (ho, wo), (dh, dw) = kernel, stride, out_hw, dilation
    for u in range(kh):
        for v in range(kw):
            yield (slice(None), slice(None),
                   slice(dh * u, dh * u + sh * (ho - 1) + 1, sh), slice(dw * v, dw * v + sw * (wo - 1) + 1, sw))


def _fold(ufunc, xp: np.ndarray, kernel, stride, out_hw, dilation=(1, 1)) -> np.ndarray:
    """ufunc(…ufunc(w₁, w₂)…, w_k) over the window slices, in xp's memory layout."""
    out = None
    for window in _windows(kernel, stride, out_hw, dilation):
        out = xp[window].copy(order="K") if out is None else ufunc(out, xp[window], out=out)
    return out


def _in_layout(a: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``a`` in the memory layout of ``like`` (an elementwise op between
    mismatched layouts is far slower than one copy into the same layout)."""
    if np.argsort(a.strides, kind="stable").tolist() == np.argsort(like.strides, kind="stable").tolist():
        return a
    out = np.empty_like(like, dtype=a.dtype)
    out[...] = a
    return out


def _grad_buffer(like: np.ndarray, padded_shape: tuple, kernel, stride, out_hw, dilation=(1, 1)) -> np.ndarray:
    """The padded array backward scatters into, laid out like x: zeros, unless the
    windows tile it exactly (every element written once, so no fill is needed)."""
    tiled = dilation == (1, 1) and all(k == s and n * k == size for k, s, n, size in
                                       zip(kernel, stride, out_hw, padded_shape[2:]))
    return (np.empty_like if tiled else np.zeros_like)(like, shape=padded_shape)


def _overlap(kernel, stride, dilation=(1, 1)) -> bool:
    """Whether an input element can belong to more than one window."""
    return any(s < d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))


def _crop(dxp: np.ndarray, ph: int, pw: int, shape: tuple) -> np.ndarray:
    return dxp[:, :, ph:ph + shape[2], pw:pw + shape[3]]


def max_pool2d(x: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """y[n, c, i, j] = max over the window xp[n, c, s·i + d·u, s·j + d·v] (0 ≤ u < kh,
    0 ≤ v < kw), xp = x padded with −∞ (padding at most half the kernel),
    s = stride (default: the kernel size), d = dilation.

    Shapes: x (N, C, H, W) → y (N, C, Ho, Wo), Ho = ⌊(H + 2p − d(kh − 1) − 1)/s⌋ + 1
    (⌈…⌉ with ``ceil_mode``: windows that run past the bottom/right edge count,
    see ``pool_output_size``). ``return_indices``: also the position of each
    maximum as a flat index h·W + w into its (H, W) plane (int64, as PyTorch's).
    Backward: dx = g at each window's argmax (the first maximum in row-major
    order; in a window holding NaN, whose maximum is NaN, the last NaN, as
    PyTorch), 0 elsewhere, summed where windows overlap. The winners are found in
    backward, offset by offset: the elements equal to the maximum that no
    earlier offset of the same window claimed.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor
        >>> import glassnet.functional as F
        >>> x = Tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4), requires_grad=True)
        >>> y, where = F.max_pool2d(x, 2, return_indices=True)
        >>> y
        tensor([[[[ 5.,  7.],
                  [13., 15.]]]], requires_grad=True)
        >>> where.data.ravel().tolist()  # flat h·W + w of each maximum
        [5, 7, 13, 15]
        >>> y.sum().backward()
        >>> x.grad[0, 0]  # g routed to the winners only
        array([[0., 0., 0., 0.],
               [0., 1., 0., 1.],
               [0., 0., 0., 0.],
               [0., 1., 0., 1.]], dtype=float32)
    """
    xd = x.data
    kernel, stride, padding, dilation, out_hw, extra = _window_args("max_pool2d", xd, kernel_size, stride, padding,
                                                                    dilation, ceil_mode)
    xp = _pad(xd, *padding, -np.inf, extra)
    out = _fold(np.maximum, xp, kernel, stride, out_hw, dilation)
    overlap = _overlap(kernel, stride, dilation)

    def winners():
        """For each kernel offset: its window slice and where it holds the window's first maximum
        (in a window whose maximum is NaN: its last NaN, and no other element)."""
        windows = list(_windows(kernel, stride, out_hw, dilation))
        claimed = np.isnan(out)
        last_nan = {}
        if claimed.any():
            todo = claimed.copy()
            for offset in reversed(range(len(windows))):
                last_nan[offset] = np.isnan(xp[windows[offset]]) & todo
                todo &= ~last_nan[offset]
        for offset, window in enumerate(windows):
            wins = xp[window] == out
            wins &= ~claimed
            claimed |= wins
            if last_nan:
                wins |= last_nan[offset]
            yield offset, window, wins

    compiled = (stride == kernel and xp is xd and dilation == (1, 1) and xd.dtype in (np.float32, np.float64)
                and xd.transpose(1, 2, 3, 0).flags.c_contiguous and _numba_kernels.available())

    def backward(g):
        g = _in_layout(g, out)
        if compiled:  # one pass (numba; the NumPy code below is the reference)
            dx = _numba_kernels.max_pool_backward(xd.transpose(1, 2, 3, 0), out.transpose(1, 2, 3, 0),
                                                  g.transpose(1, 2, 3, 0), kernel)
            return (dx.transpose(3, 0, 1, 2),)
        dxp = _grad_buffer(xp, xp.shape, kernel, stride, out_hw, dilation)
        for _, window, wins in winners():
            if overlap:
                dxp[window] += g * wins
            else:
                np.multiply(g, wins, out=dxp[window])
        return (_crop(dxp, *padding, xd.shape),)

    result = Tensor.from_op(out, (x,), backward, "max_pool2d")
    if not return_indices:
        return result
    (_, kw), (sh, sw), (ph, pw), (dh, dw), (ho, wo) = kernel, stride, padding, dilation, out_hw
    rows = (np.arange(ho) * sh - ph)[:, None]
    cols = (np.arange(wo) * sw - pw)[None, :]
    indices = np.zeros(out.shape, dtype=np.int64)
    for offset, _, wins in winners():
        u, v = divmod(offset, kw)
        indices[wins] = np.broadcast_to((rows + dh * u) * xd.shape[3] + cols + dw * v, out.shape)[wins]
    return result, Tensor(indices)


def _divisors(size: int, out: int, kernel: int, stride: int, padding: int, include_pad: bool) -> np.ndarray:
    """How many elements each output position's window averages along one axis
    (PyTorch's rule): the window clipped to the padded input, or with
    ``include_pad=False`` to the input itself."""
    starts = np.arange(out) * stride - padding
    ends = np.minimum(starts + kernel, size + padding)
    if include_pad:
        return ends - starts
    return np.minimum(ends, size) - np.maximum(starts, 0)


def avg_pool2d(x: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """y[n, c, i, j] = (1/D) Σ over the window of xp (x padded with zeros).

    D is kh·kw by default (the padding counts, PyTorch's ``count_include_pad=True``);
    with ``count_include_pad=False`` D counts only the window's elements inside x;
    windows that ``ceil_mode`` lets run past the padded input count only the part
    inside it; ``divisor_override`` fixes D.
    Shapes: x (N, C, H, W) → y (N, C, Ho, Wo), Ho = ⌊(H + 2p − kh)/s⌋ + 1 (⌈…⌉ with ceil_mode).
    Backward: every element of a window receives g/D, summed where windows overlap.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor
        >>> import glassnet.functional as F
        >>> x = Tensor(np.ones((1, 1, 2, 2), dtype=np.float32))
        >>> F.avg_pool2d(x, 2, stride=1, padding=1)[0, 0]  # the padding counts in the divisor...
        tensor([[0.25, 0.5 , 0.25],
                [0.5 , 1.  , 0.5 ],
                [0.25, 0.5 , 0.25]])
        >>> F.avg_pool2d(x, 2, stride=1, padding=1, count_include_pad=False)[0, 0]  # ...unless told not to
        tensor([[1., 1., 1.],
                [1., 1., 1.],
                [1., 1., 1.]])
    """
    xd = x.data
    kernel, stride, padding, _, out_hw, extra = _window_args("avg_pool2d", xd, kernel_size, stride, padding,
                                                             1, ceil_mode)
    if divisor_override is not None:
        if int(divisor_override) < 1:
            raise ValueError(f"avg_pool2d: divisor_override must be a positive int, got {divisor_override!r}")
        scale = xd.dtype.type(1 / int(divisor_override))
    elif count_include_pad and not any(extra):
        scale = xd.dtype.type(1 / (kernel[0] * kernel[1]))
    else:
        dh, dw = (_divisors(size, out, k, s, p, count_include_pad) for size, out, k, s, p in
                  zip(xd.shape[2:], out_hw, kernel, stride, padding))
        scale = (1 / np.outer(dh, dw)).astype(xd.dtype)
    xp = _pad(xd, *padding, 0, extra)
    out = _fold(np.add, xp, kernel, stride, out_hw)
    out *= scale
    padded_shape, overlap = xp.shape, _overlap(kernel, stride)

    def backward(g):
        gs = _in_layout(g, out) * scale
        dxp = _grad_buffer(xd, padded_shape, kernel, stride, out_hw)
        for window in _windows(kernel, stride, out_hw):
            if overlap:
                dxp[window] += gs
            else:
                dxp[window] = gs
        return (_crop(dxp, *padding, xd.shape),)

    return Tensor.from_op(out, (x,), backward, "avg_pool2d")


def global_avg_pool2d(x: Tensor) -> Tensor:
    """y[n, c] = mean over H and W of x[n, c]: (N, C, H, W) → (N, C).
    (``adaptive_avg_pool2d(x, 1)`` gives the same numbers as (N, C, 1, 1).)"""
    _check_input("global_avg_pool2d", x.data)
    return x.mean(axis=(2, 3))


def adaptive_bins(size: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's bins: bin i covers [⌊i·size/out⌋, ⌈(i+1)·size/out⌉) (bins overlap
    when out does not divide size; every input index is in some bin)."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def _adaptive_pool(name: str, x: Tensor, output_size, mode: str) -> Tensor:
    """Max or mean over each bin of the adaptive grid: a loop over the oh·ow bins,
    or over the kernel offsets of the window pools when bins tile x and are fewer
    offsets than bins (e.g. 8×8 → 4×4); a Python loop costs per pass, not per element.

    The bin loop works in conv2d's (C, H, W, N) memory order, where a bin
    flattened to (C, bh·bw, N) is a copy of rows of N contiguous numbers and the
    max or mean runs along its middle axis.
    """
    xd = x.data
    _check_input(name, xd)
    oh, ow = pair(output_size, "output_size")
    if oh < 1 or ow < 1:
        raise ValueError(f"{name}: output_size must be positive, got ({oh}, {ow})")
    n, c, h, w = xd.shape
    if h % oh == 0 and w % ow == 0 and (h // oh) * (w // ow) <= oh * ow:
        pool = max_pool2d if mode == "max" else avg_pool2d
        return pool(x, (h // oh, w // ow))
    bins = [(i, j, rows, cols) for i, rows in enumerate(adaptive_bins(h, oh))
            for j, cols in enumerate(adaptive_bins(w, ow))]
    xc = np.ascontiguousarray(xd.transpose(1, 2, 3, 0))  # (C, H, W, N): free for conv2d's output
    out = np.empty((c, oh, ow, n), dtype=xd.dtype)
    firsts = {}
    for i, j, (r0, r1), (c0, c1) in bins:
        block = xc[:, r0:r1, c0:c1].reshape(c, -1, n)
        if mode == "max":
            firsts[i, j] = block.argmax(axis=1)[:, None]  # the first maximum, row-major
            out[:, i, j] = np.take_along_axis(block, firsts[i, j], axis=1)[:, 0]
        else:
            out[:, i, j] = block.mean(axis=1)

    def backward(g):
        gc = np.ascontiguousarray(g.transpose(1, 2, 3, 0))
        dxc = np.zeros_like(xc)
        for i, j, (r0, r1), (c0, c1) in bins:
            size = (r1 - r0) * (c1 - c0)
            if mode == "max":
                d = np.zeros((c, size, n), dtype=xd.dtype)
                np.put_along_axis(d, firsts[i, j], gc[:, i, j, None], axis=1)
                dxc[:, r0:r1, c0:c1] += d.reshape(c, r1 - r0, c1 - c0, n)
            else:
                dxc[:, r0:r1, c0:c1] += gc[:, i, j, None, None] / size
        return (dxc.transpose(3, 0, 1, 2),)

    return Tensor.from_op(out.transpose(3, 0, 1, 2), (x,), backward, name)


def adaptive_max_pool2d(x: Tensor, output_size) -> Tensor:
    """Max over PyTorch's adaptive bins (see ``adaptive_bins``): (N, C, H, W) →
    (N, C, oh, ow) for any H, W. Backward: g to each bin's first maximum,
    summed over overlapping bins."""
    return _adaptive_pool("adaptive_max_pool2d", x, output_size, "max")


def adaptive_avg_pool2d(x: Tensor, output_size) -> Tensor:
    """Mean over PyTorch's adaptive bins: (N, C, H, W) → (N, C, oh, ow) for any
    H, W. Backward: each element of a bin receives g/|bin|, summed over overlapping bins."""
    return _adaptive_pool("adaptive_avg_pool2d", x, output_size, "avg")


def spatial_pyramid_pool2d(x: Tensor, levels=(1, 2, 4), mode: str = "max") -> Tensor:
    """Spatial pyramid pooling (He et al., 2014): for each level l, pool x
    adaptively to an l×l grid and flatten; concatenate the levels.

    Shapes: x (N, C, H, W) with any H, W → (N, C·Σ l²), ordered level by level,
    each level as (C, l, l). The length does not depend on H or W, so the layers
    after it accept images of every size.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor
        >>> import glassnet.functional as F
        >>> [F.spatial_pyramid_pool2d(Tensor(np.zeros((2, 8, h, w), dtype=np.float32)), (1, 2, 4)).shape
        ...  for h, w in ((13, 13), (20, 7))]  # 8·(1 + 4 + 16) whatever the size
        [(2, 168), (2, 168)]
    """
    if mode not in ("max", "avg"):
        raise ValueError(f"spatial_pyramid_pool2d: mode must be 'max' or 'avg', got {mode!r}")
    pool = adaptive_max_pool2d if mode == "max" else adaptive_avg_pool2d
    n = x.shape[0]
    return cat([pool(x, level).reshape(n, -1) for level in levels], axis=1)


def pyramid_length(channels: int, levels) -> int:
    """C·Σ l²: the length of ``spatial_pyramid_pool2d``'s output per image."""
    return channels * sum(level * level for level in levels)
