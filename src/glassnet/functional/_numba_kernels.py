"""Optional compiled kernels (numba) for batch norm in training, two passes where NumPy makes ten,
for the residual join max(a + b, 0), for max pooling's backward pass, and for Adam's and SGD's updates.

``functional.normalization.batch_norm`` uses these when numba is importable, the
input lies in conv2d's (C, H, W, N) memory order (rows (C, H·W·N)) and
``GLASSNET_NUMBA`` is not "0"; otherwise, and always in evaluation, it runs its
NumPy code, which stays the reference (``tests/test_batchnorm.py`` runs both and
compares them). Each kernel works on a range of channels with the GIL released
(``nogil``), so ``functional._blocks.one_range_per_worker`` spreads channel groups over the
threads of ``glassnet.threads(n)``; numba's own threading layer is never used
(choosing one is process-wide).

Forward, per channel: Σx, then Σ(x − μ)², then y = (x − μ)·s + β (rectified with
``relu``): three reads of x and one write of y; x − μ is not stored (backward
recomputes it from x). Backward: Σg and Σg·(x − μ) in one pass (g masked by
[y > 0] with ``relu``), dx in a second. Sums run in float64 whatever the dtype.

Max pooling (``functional.pooling.max_pool2d``, non-overlapping windows on an
input in (C, H, W, N) order): one pass finds each window's winner — its first
maximum, or in a window holding NaN its last NaN, as the NumPy code and PyTorch
— and writes g there and 0 at the window's other elements, where NumPy makes
about five passes per kernel offset. The loops run over the N images of a pixel
innermost, with selects instead of branches, so they vectorize.

Adam (``optim.Adam`` for float32/float64 parameters of 4,096 numbers or more): one pass over w, g,
m and v where NumPy makes thirteen over arrays as large as the parameter (Kim's text CNN's
5.7M-number embedding: its training step on 2 threads 133 → 122 ms). Compiled
without fastmath, every operation in NumPy's order on scalars rounded as NumPy rounds them, so
the weights and moments are the same bits (tests/test_numba_kernels.py).
"""

from __future__ import annotations

import os

import numpy as np

from ._blocks import one_range_per_worker

_kernels: dict = {}
_FLAT_SLICE_MIN = 1 << 16  # flat kernels on fewer numbers run on the calling thread: a thread costs more
_RELU_MIN_SIZE = 1 << 16  # smaller ReLU gradients keep NumPy's two passes (a few microseconds)


def available() -> bool:
    """Whether the compiled kernels can be used (numba importable, GLASSNET_NUMBA not "0")."""
    if os.environ.get("GLASSNET_NUMBA", "1") == "0":
        return False
    if "forward" not in _kernels:
        try:
            _compile()
        except ImportError:
            _kernels["forward"] = None
    return _kernels["forward"] is not None


def _compile() -> None:
    import numba

    @numba.njit(nogil=True, cache=True, fastmath={"reassoc", "contract", "nsz"})
    def forward(x, gamma, beta, eps, relu, c0, c1, out, mean, var, inv_std, scale):  # pragma: no cover (compiled)
        b = x.shape[1]
        for c in range(c0, c1):
            s = 0.0
            for i in range(b):
                s += x[c, i]
            mu = s / b
            v = 0.0
            for i in range(b):
                d = x[c, i] - mu
                v += d * d
            v /= b
            inv = 1.0 / np.sqrt(v + eps)
            sc = inv * gamma[c]
            shift = beta[c] - mu * sc
            mean[c], var[c], inv_std[c], scale[c] = mu, v, inv, sc
            if relu:
                for i in range(b):
                    out[c, i] = max(x[c, i] * sc + shift, 0.0)
            else:
                for i in range(b):
                    out[c, i] = x[c, i] * sc + shift

    @numba.njit(nogil=True, cache=True, fastmath={"reassoc", "contract", "nsz"})
    def backward(g, x, out, mean, inv_std, scale, relu, want_dx, c0, c1, dx, g_sum, gx_sum):  # pragma: no cover
        b = x.shape[1]
        for c in range(c0, c1):
            mu = mean[c]
            sg = 0.0
            sgx = 0.0
            if relu:
                for i in range(b):
                    gi = g[c, i] if out[c, i] > 0 else 0.0
                    sg += gi
                    sgx += gi * (x[c, i] - mu)
            else:
                for i in range(b):
                    gi = g[c, i]
                    sg += gi
                    sgx += gi * (x[c, i] - mu)
            inv = inv_std[c]
            sgx *= inv  # Σ g·x̂
            g_sum[c], gx_sum[c] = sg, sgx
            if want_dx:
                sc = scale[c]
                # dx = s·(g − Σg/m − x̂·Σg·x̂/m) = a·g + k·x + d
                k = -sc * inv * sgx / b
                d = -sc * sg / b - k * mu
                if relu:
                    for i in range(b):
                        gi = g[c, i] if out[c, i] > 0 else 0.0
                        dx[c, i] = sc * gi + k * x[c, i] + d
                else:
                    for i in range(b):
                        dx[c, i] = sc * g[c, i] + k * x[c, i] + d

    @numba.njit(nogil=True, cache=True, fastmath={"reassoc", "contract", "nsz"})
    def add_relu(a, b, out):  # pragma: no cover (compiled)
        for i in range(a.size):  # from 0: a loop from a variable start was not vectorized (3x slower)
            out[i] = max(a[i] + b[i], 0.0)

    @numba.njit(nogil=True, cache=True, fastmath={"reassoc", "contract", "nsz"})
    def relu_mask(g, out, gs):  # pragma: no cover (compiled)
        for i in range(g.size):
            gs[i] = g[i] if out[i] > 0 else 0.0

    @numba.njit(nogil=True, cache=True)
    def max_pool_backward(x, out, g, kh, kw, c0, c1, dx):  # pragma: no cover (compiled)
        n = g.shape[3]
        win = np.empty(n, np.int32)
        for c in range(c0, c1):
            for i in range(g.shape[1]):
                for j in range(g.shape[2]):
                    win[:] = 0
                    for o in range(kh * kw - 1, -1, -1):  # the first maximum: the smallest offset equal to it
                        u, v = o // kw, o % kw
                        for q in range(n):
                            win[q] = o if x[c, i * kh + u, j * kw + v, q] == out[c, i, j, q] else win[q]
                    for o in range(kh * kw):  # a window holding NaN: its last NaN (NaN equals nothing above)
                        u, v = o // kw, o % kw
                        for q in range(n):
                            value = x[c, i * kh + u, j * kw + v, q]
                            win[q] = o if value != value else win[q]
                    for o in range(kh * kw):
                        u, v = o // kw, o % kw
                        for q in range(n):
                            dx[c, i * kh + u, j * kw + v, q] = g[c, i, j, q] if win[q] == o else 0.0

    @numba.njit(nogil=True, cache=True)  # no fastmath: each operation as NumPy does it, the same bits
    def adam(w, g, m, v, v_max, decay, coupled_decay, one_minus_beta1, beta2, one_minus_beta2, amsgrad,
             bias2_root, eps, step):  # pragma: no cover (compiled)
        for i in range(w.size):
            wi = w[i] * decay
            gi = g[i] + coupled_decay * wi if coupled_decay != 0 else g[i]
            mi = m[i] + one_minus_beta1 * (gi - m[i])
            vi = v[i] * beta2 + one_minus_beta2 * (gi * gi)
            m[i] = mi
            v[i] = vi
            if amsgrad:  # np.maximum: NaN if either is NaN
                vm = v_max[i]
                vi = vm if (vm != vm or vm >= vi) and vi == vi else vi
                v_max[i] = vi
            w[i] = wi - step * (mi / (np.sqrt(vi) / bias2_root + eps))

    @numba.njit(nogil=True, cache=True)  # no fastmath: NumPy's operations in NumPy's order, the same bits
    def sgd(w, g, buf, weight_decay, momentum, one_minus_dampening, first, nesterov, lr):  # pragma: no cover
        for i in range(w.size):
            gi = g[i] + weight_decay * w[i] if weight_decay != 0 else g[i]
            if momentum != 0:
                if first:
                    bi = gi
                else:
                    bi = buf[i] * momentum + (gi if one_minus_dampening == 1 else one_minus_dampening * gi)
                buf[i] = bi
                gi = gi + momentum * bi if nesterov else bi
            w[i] = w[i] - lr * gi

    _kernels.update(forward=forward, backward=backward, add_relu=add_relu, relu_mask=relu_mask,
                    max_pool_backward=max_pool_backward, adam=adam, sgd=sgd)


def _flat_runs(size: int, kernel, *arrays) -> None:
    """``kernel(*slices)`` over the flat arrays, one slice per thread of ``glassnet.threads()``
    (the whole arrays on the calling thread below ``_FLAT_SLICE_MIN`` numbers)."""
    if size < _FLAT_SLICE_MIN:
        kernel(*arrays)
    else:
        one_range_per_worker(size, lambda i, r, state: kernel(*(a[i:i + r] for a in arrays)))


def add_relu(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """max(a + b, 0) for flat C-contiguous arrays of one dtype, in one pass."""
    out = np.empty_like(a)
    _flat_runs(a.size, _kernels["add_relu"], a, b, out)
    return out


def flat_view(a: np.ndarray) -> tuple:
    """(``a`` as a flat view in its own memory order, that order): C order gives (view, None),
    conv2d's (C, H, W, N) order (view, (1, 2, 3, 0)); any other layout (None, None)."""
    if a.flags.c_contiguous:
        return a.reshape(-1), None
    if a.ndim == 4 and a.transpose(1, 2, 3, 0).flags.c_contiguous:
        return a.transpose(1, 2, 3, 0).reshape(-1), (1, 2, 3, 0)
    return None, None


def unflatten(flat: np.ndarray, shape: tuple, order) -> np.ndarray:
    """The inverse of :func:`flat_view`: the flat array as ``shape`` in the memory ``order``."""
    return flat.reshape(shape) if order is None else flat.reshape(tuple(shape[i] for i in order)).transpose(3, 0, 1, 2)


def relu_mask(g: np.ndarray, out: np.ndarray) -> np.ndarray | None:
    """g·[out > 0] in one pass when g and out share a memory order (:func:`flat_view`) and a float
    dtype, hold at least ``_RELU_MIN_SIZE`` numbers and the kernels are available; otherwise None
    (the caller's NumPy code runs)."""
    if g.size < _RELU_MIN_SIZE:
        return None
    (fg, order), (fo, order_out) = flat_view(g), flat_view(out)
    if (fg is None or fo is None or order != order_out or g.dtype != out.dtype
            or g.dtype not in (np.float32, np.float64) or not available()):
        return None
    gs = np.empty_like(fg)
    _flat_runs(fg.size, _kernels["relu_mask"], fg, fo, gs)
    return unflatten(gs, g.shape, order)


def max_pool_backward(x4: np.ndarray, out4: np.ndarray, g4: np.ndarray, kernel: tuple) -> np.ndarray:
    """dx (C, H, W, N) of a max pooling with windows kernel = (kh, kw) at stride kernel:
    g4[c, i, j, n] at each window's winner in x4 (C, H, W, N), 0 elsewhere (rows and columns
    past the last whole window too); out4, g4 (C, Ho, Wo, N). Channel groups on the threads
    of ``glassnet.threads()``."""
    (kh, kw), (c, ho, wo, _) = kernel, g4.shape
    tiled = x4.shape[1] == ho * kh and x4.shape[2] == wo * kw
    dx = (np.empty_like if tiled else np.zeros_like)(x4)
    kernel_fn = _kernels["max_pool_backward"]
    one_range_per_worker(c, lambda i, r, state: kernel_fn(x4, out4, g4, kh, kw, i, i + r, dx))
    return dx


def adam(w, g, m, v, v_max, *, decay: float, coupled_decay: float, beta1: float, beta2: float,
         bias2_root: float, eps: float, step: float) -> None:
    """One Adam update in place, in one pass over flat C-contiguous arrays of one dtype (w, g, m, v;
    v_max for AMSGrad, else None), the operations and their order those of ``optim.Adam``'s NumPy code:
    w ← w·decay;  g ← g + λ·w (λ = coupled_decay, skipped when 0);  m ← m + (1−β₁)(g − m);
    v ← v·β₂ + (1−β₂)·g²;  (AMSGrad: v ← v_max ← max(v_max, v));  w ← w − step·m / (√v / bias2_root + ε).
    The scalars are rounded to the arrays' dtype first, as NumPy rounds a Python float it meets an
    array of that dtype with. Large arrays are cut into one slice per thread (:func:`_flat_runs`)."""
    dt = w.dtype.type
    scalars = (dt(decay), dt(coupled_decay), dt(1 - beta1), dt(beta2), dt(1 - beta2), v_max is not None,
               dt(bias2_root), dt(eps), dt(step))
    kernel = _kernels["adam"]
    _flat_runs(w.size, lambda *slices: kernel(*slices, *scalars), w, g, m, v, v if v_max is None else v_max)


def sgd(w, g, buf, *, weight_decay: float, momentum: float, dampening: float, first: bool, nesterov: bool,
        lr: float) -> None:
    """One SGD update in place, in one pass over flat C-contiguous arrays of one dtype (w, g; buf the
    momentum buffer, None without momentum), the operations and their order those of ``optim.SGD``'s
    NumPy code: g ← g + λ·w (skipped when λ = 0);  with momentum μ: buf ← g on the ``first`` step, else
    buf ← buf·μ + (1−dampening)·g, and g ← g + μ·buf (Nesterov) or buf;  w ← w − η·g. Scalars rounded
    to the arrays' dtype, as NumPy rounds them; large arrays in one slice per thread (:func:`_flat_runs`)."""
    dt = w.dtype.type
    scalars = (dt(weight_decay), dt(momentum), dt(1 - dampening), bool(first), bool(nesterov), dt(lr))
    kernel = _kernels["sgd"]
    _flat_runs(w.size, lambda *slices: kernel(*slices, *scalars), w, g, w if buf is None else buf)


def forward(x2: np.ndarray, gamma, beta, eps: float, relu: bool) -> tuple:
    """x2 (C, B) C-contiguous → (y (C, B), mean, var, inv_std, scale), the statistics per channel in float64;
    channel groups on the threads of ``glassnet.threads()``."""
    c = x2.shape[0]
    dtype = x2.dtype
    gamma = np.ones(c, dtype) if gamma is None else np.ascontiguousarray(gamma, dtype)
    beta = np.zeros(c, dtype) if beta is None else np.ascontiguousarray(beta, dtype)
    out = np.empty_like(x2)
    stats = [np.empty(c, np.float64) for _ in range(4)]
    kernel = _kernels["forward"]
    one_range_per_worker(c, lambda i, r, state: kernel(x2, gamma, beta, float(eps), bool(relu), i, i + r, out, *stats))
    return (out, *stats)


def backward(g2: np.ndarray, x2: np.ndarray, out: np.ndarray, mean, inv_std, scale, relu: bool,
             want_dx: bool) -> tuple:
    """(dx (C, B) or None, Σg, Σg·x̂) for g2, x2, out (C, B) C-contiguous."""
    c = x2.shape[0]
    dx = np.empty_like(x2) if want_dx else np.empty((c, 0), x2.dtype)
    g_sum, gx_sum = np.empty(c, np.float64), np.empty(c, np.float64)
    stats = [np.ascontiguousarray(s, np.float64) for s in (mean, inv_std, scale)]
    kernel = _kernels["backward"]
    one_range_per_worker(c, lambda i, r, state: kernel(g2, x2, out, *stats, bool(relu), bool(want_dx), i, i + r, dx,
                                                        g_sum, gx_sum))
    return (dx if want_dx else None), g_sum.astype(x2.dtype), gx_sum.astype(x2.dtype)
