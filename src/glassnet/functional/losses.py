"""Costs (losses) and weight penalties, each one fused graph node with a
hand-derived backward pass.

Shapes: ``N`` is the batch size, ``C`` the number of classes or outputs.
Every loss first computes one value per example (or per element, for the
binary cross-entropies) and then applies ``reduction``:

* ``"mean"`` (default): the average of those values, so the gradient of each
  value is divided by their count;
* ``"sum"``: their sum;
* ``"none"``: the values themselves, one per example (or element).

Targets are plain arrays or tensors; float targets may require a gradient
(it is computed), integer labels never do.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .activations import _sigmoid, log_softmax_array, sigmoid

_REDUCTIONS = ("mean", "sum", "none")


# ----------------------------------------------------------------- plumbing
def _as_target(y, like: np.ndarray) -> Tensor:
    """``y`` as a Tensor of ``like``'s dtype (a float target; a tensor that
    requires a gradient is cast inside the graph)."""
    if isinstance(y, Tensor):
        return y if y.data.dtype == like.dtype else y.astype(like.dtype)
    return Tensor(np.asarray(y, dtype=like.dtype))


def _check_reduction(op: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _check_same_shape(op: str, what: str, a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{op}: input has shape {a.shape} but {what} has shape {b.shape}; they must match")


def _labels(op: str, labels, n: int, num_classes: int, ignore_index: int | None = None) -> np.ndarray:
    """Integer class labels of shape (n,), each in [0, num_classes) or equal to ``ignore_index``."""
    y = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    if y.dtype.kind not in "iu":
        raise TypeError(f"{op}: class labels must be integers, got dtype {y.dtype}")
    if y.shape != (n,):
        raise ValueError(f"{op}: expected labels of shape ({n},) for input with {n} rows, got {y.shape}")
    kept = y if ignore_index is None else y[y != ignore_index]
    if kept.size and (kept.min() < 0 or kept.max() >= num_classes):
        raise ValueError(f"{op}: labels must be in the range [0, {num_classes}) for {num_classes} classes"
                         f"{'' if ignore_index is None else f' (or {ignore_index}, ignored)'}, "
                         f"got values from {kept.min()} to {kept.max()}")
    return y


def _class_weights(op: str, weight, num_classes: int, like: np.ndarray) -> np.ndarray | None:
    """The per-class weights as an array of ``like``'s dtype (C,), or None."""
    if weight is None:
        return None
    w = np.asarray(weight.data if isinstance(weight, Tensor) else weight, dtype=like.dtype)
    if w.shape != (num_classes,):
        raise ValueError(f"{op}: weight must have one value per class, shape ({num_classes},), got {w.shape}")
    return w


def _classes_last(op: str, scores: Tensor, target):
    """PyTorch's (N, C, d₁, …) scores with (N, d₁, …) labels as (N·d₁…, C) rows and
    (N·d₁…,) labels, and a function that gives ``"none"`` results their (N, d₁, …) shape."""
    s = scores.data
    if s.ndim < 2:
        raise ValueError(f"{op}: expected scores of shape (N, C) or (N, C, d1, ...), got {s.shape}")
    if s.ndim == 2:
        return scores, target, lambda out: out
    raw = target.data if isinstance(target, Tensor) else np.asarray(target)
    wanted = (s.shape[0],) + s.shape[2:]
    if raw.dtype.kind in "iu" and raw.shape != wanted:
        raise ValueError(f"{op}: scores {s.shape} need labels of shape {wanted}, got {raw.shape}")
    order = (0,) + tuple(range(2, s.ndim)) + (1,)
    rows = scores.transpose(order).reshape(-1, s.shape[1])
    if raw.dtype.kind in "iu":
        target = raw.reshape(-1)
    else:
        target = (target if isinstance(target, Tensor) else Tensor(raw)).transpose(order).reshape(-1, s.shape[1])
    return rows, target, lambda out: out.reshape(wanted) if out.ndim == 1 else out  # "none": one value per position


def _reduced(op: str, values: np.ndarray, reduction: str, parents: tuple, grads, count=None) -> Tensor:
    """Apply ``reduction`` to the unreduced loss ``values`` and build the node.

    ``grads(w)`` returns the gradient of each parent given ``w = dL/d values``,
    which is a scalar (``"mean"``: g/count, ``"sum"``: g) or an array shaped like
    ``values`` (``"none"``); ``_expand`` lines it up with an input's axes.
    ``count``: what ``"mean"`` divides by (default: the number of values; the
    weighted losses divide by the total weight of the examples that count).
    """
    if reduction == "none":
        return Tensor.from_op(values, parents, grads, op)
    if reduction == "sum":
        return Tensor.from_op(np.asarray(values.sum()), parents, grads, op)
    if count is not None:
        scale = values.dtype.type(1 / count if count else np.nan)
        return Tensor.from_op(np.asarray(values.sum() * scale), parents, lambda g: grads(g * scale), op)
    scale = values.dtype.type(1 / max(values.size, 1))
    return Tensor.from_op(np.asarray(values.sum() * scale), parents, lambda g: grads(g * scale), op)


def _expand(w: np.ndarray, ndim: int) -> np.ndarray:
    """``w`` (a scalar or one value per example) with trailing axes added to
    broadcast against an input of ``ndim`` axes."""
    w = np.asarray(w)
    return w if w.ndim == 0 else w.reshape(w.shape + (1,) * (ndim - w.ndim))


def _raw_array(x):
    return x.data if isinstance(x, Tensor) else x


def _wanted(t: Tensor, grad):
    """``grad()`` if ``t`` needs a gradient, else None (skips the arithmetic)."""
    return grad() if t.requires_grad else None


# ----------------------------------------------------------------- the costs
def quadratic_cost(a: Tensor, y, reduction: str = "mean") -> Tensor:
    """The book's quadratic cost C = (1/N) Σ_x ½‖a(x) − y(x)‖².

    a, y: (N,) or (N, ...) with equal shapes; one value ½Σ(a−y)² per example.
    Gradient: dC/da = (a − y)/N (``"mean"``), the factor that makes the
    output error δ = (a − y)·σ′(z) slow when a sigmoid saturates.
    (PyTorch's MSELoss instead averages (a−y)² over every element, without ½.)

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor
        >>> import glassnet.functional as F
        >>> a = Tensor(np.array([[1.0, 2.0], [0.0, 0.0]], dtype=np.float32))
        >>> F.quadratic_cost(a, np.array([[1.0, 4.0], [0.0, 1.0]], dtype=np.float32))  # (½·4 + ½·1)/2
        tensor(1.25)
    """
    _check_reduction("quadratic_cost", reduction)
    y = _as_target(y, a.data)
    _check_same_shape("quadratic_cost", "target", a.data, y.data)
    diff = a.data - y.data
    axes = tuple(range(1, diff.ndim))
    values = 0.5 * (diff * diff).sum(axis=axes) if axes else 0.5 * diff * diff

    def grads(w):
        d = diff * _expand(w, diff.ndim)
        return d, _wanted(y, lambda: -d)

    return _reduced("quadratic_cost", values, reduction, (a, y), grads)


def mse_loss(a: Tensor, y, reduction: str = "mean") -> Tensor:
    """PyTorch's mean squared error ℓ = (a − y)² per element, ``"mean"`` over all
    elements (no ½, and not per example: compare :func:`quadratic_cost`).

    a, y: any shape, equal. Gradient: dℓ/da = 2(a − y), divided by the number
    of elements for ``"mean"``.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor
        >>> import glassnet.functional as F
        >>> a = Tensor(np.array([[1.0, 2.0], [0.0, 0.0]], dtype=np.float32))
        >>> F.mse_loss(a, np.array([[1.0, 4.0], [0.0, 1.0]], dtype=np.float32))  # (0 + 4 + 0 + 1)/4
        tensor(1.25)
    """
    _check_reduction("mse_loss", reduction)
    y = _as_target(y, a.data)
    _check_same_shape("mse_loss", "target", a.data, y.data)
    diff = a.data - y.data

    def grads(w):
        d = 2 * diff * w
        return d, _wanted(y, lambda: -d)

    return _reduced("mse_loss", diff * diff, reduction, (a, y), grads)


def binary_cross_entropy(p: Tensor, y, reduction: str = "mean") -> Tensor:
    """Cross-entropy of probabilities p ∈ [0, 1] against targets y (same shape):

        ℓ = −[y ln p + (1 − y) ln(1 − p)]  per element, ``"mean"`` over all elements.

    Each log is clamped at −100 (as PyTorch does), so p = 0 or 1 gives a finite
    loss. Gradient: dℓ/dp = (p − y) / (p(1 − p)), with p(1 − p) floored at 1e-12.
    The book sums over the output neurons and averages over examples; that is
    this loss times the number of outputs. Prefer the fused
    :func:`binary_cross_entropy_with_logits` after a sigmoid.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor
        >>> import glassnet.functional as F
        >>> p = Tensor(np.array([0.5, 0.9], dtype=np.float32))
        >>> F.binary_cross_entropy(p, np.ones(2, dtype=np.float32), reduction="none")  # −ln 0.5, −ln 0.9
        tensor([0.6931, 0.1054])
    """
    _check_reduction("binary_cross_entropy", reduction)
    y = _as_target(y, p.data)
    _check_same_shape("binary_cross_entropy", "target", p.data, y.data)
    pd, yd = p.data, y.data
    if pd.size and (pd.min() < 0 or pd.max() > 1):
        raise ValueError(f"binary_cross_entropy: input must hold probabilities in [0, 1], "
                         f"got values from {pd.min()} to {pd.max()}")
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(pd), -100)
        log_q = np.maximum(np.log1p(-pd), -100)
    values = -(yd * log_p + (1 - yd) * log_q)

    def grads(w):
        gp = w * (pd - yd) / np.maximum(pd * (1 - pd), 1e-12)
        return gp.astype(pd.dtype, copy=False), _wanted(y, lambda: w * (log_q - log_p))

    return _reduced("binary_cross_entropy", values, reduction, (p, y), grads)


def binary_cross_entropy_with_logits(z: Tensor, y, reduction: str = "mean", weight=None,
                                     pos_weight=None) -> Tensor:
    """Sigmoid and binary cross-entropy fused, stable for any logit z:

        ℓ = −[y ln σ(z) + (1 − y) ln(1 − σ(z))] = max(z, 0) − z·y + ln(1 + e^(−|z|)).

    z, y: the same shape; ``"mean"`` averages over all elements (count of them).
    Gradient: dℓ/dz = σ(z) − y (σ′ cancels: the book's reason for this cost),
    divided by the count for ``"mean"``.

    As PyTorch's: ``pos_weight`` p (broadcast along the last axis, one per
    class) weighs the positive term, ℓ = −[p·y ln σ(z) + (1 − y) ln(1 − σ(z))]
    = p·y·softplus(−z) + (1 − y)·softplus(z), with dℓ/dz = (1 − y)·σ(z) − p·y·σ(−z)
    and dℓ/dy = p·softplus(−z) − softplus(z); ``weight`` (broadcast to z) multiplies ℓ.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor
        >>> import glassnet.functional as F
        >>> z = Tensor(np.array([-100.0, 0.0, 100.0], dtype=np.float32))
        >>> F.binary_cross_entropy_with_logits(z, np.ones(3, dtype=np.float32), reduction="none").data.round(4)
        array([100.    ,   0.6931,   0.    ], dtype=float32)
    """
    op = "binary_cross_entropy_with_logits"
    _check_reduction(op, reduction)
    y = _as_target(y, z.data)
    _check_same_shape(op, "target", z.data, y.data)
    zd, yd = z.data, y.data
    scale = None if weight is None else np.asarray(_raw_array(weight), dtype=zd.dtype)
    if pos_weight is None:
        values = np.maximum(zd, 0) - zd * yd + np.log1p(np.exp(-np.abs(zd)))

        def local(w):
            return (_sigmoid(zd) - yd) * w, _wanted(y, lambda: -zd * w)
    else:
        p = np.asarray(_raw_array(pos_weight), dtype=zd.dtype)
        softplus_z = np.maximum(zd, 0) + np.log1p(np.exp(-np.abs(zd)))  # −ln(1 − σ(z))
        softplus_neg = softplus_z - zd  # −ln σ(z)
        values = p * yd * softplus_neg + (1 - yd) * softplus_z

        def local(w):
            return ((1 - yd) * _sigmoid(zd) - p * yd * _sigmoid(-zd)) * w, _wanted(
                y, lambda: (p * softplus_neg - softplus_z) * w)
    if scale is not None:
        values = values * scale

    def grads(w):
        return local(w if scale is None else w * scale)

    return _reduced("binary_cross_entropy_with_logits", values, reduction, (z, y), grads)


def cross_entropy(logits: Tensor, target, reduction: str = "mean", weight=None, ignore_index: int = -100,
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax and negative log-likelihood fused: for scores s (N, C),

        p = softmax(s),   ℓ_n = −Σ_c y_nc ln p_nc,

    where ``target`` is either integer labels (N,) in [0, C) (then
    ℓ_n = −ln p_n,label) or one-hot / probability rows (N, C).
    Gradient: dℓ/ds = (p − y), divided by N for ``"mean"``: the output error
    δ = p − y of softmax with log-likelihood, without the softmax Jacobian.

    Worked example (cs231n): scores cat 3.2, car 5.1, frog −1.7 with true class
    cat give p(cat) ≈ 0.13 and loss −ln 0.13 ≈ 2.04. The course prints 0.89,
    which is −log₁₀ 0.13: this loss uses the natural logarithm, as PyTorch does.

    PyTorch's options, with its conventions:

    - scores (N, C, d₁, …) with labels (N, d₁, …) (per pixel): every position is an example;
    - ``weight`` w (C,): ℓ_n = −w_{y_n} ln p_{n,y_n}, and ``"mean"`` divides by Σ_n w_{y_n}
      (probability targets: ℓ_n = −Σ_c w_c y_nc ln p_nc, ``"mean"`` divides by N);
    - ``ignore_index``: labels equal to it give ℓ_n = 0 and do not count in the mean;
    - ``label_smoothing`` ε: the target becomes (1 − ε)·y + ε/C, so for labels
      ℓ_n = (1 − ε)·w_{y}(−ln p_{n,y}) + (ε/C)·Σ_c w_c (−ln p_nc); the gradient is
      dℓ_n/ds_nc = (1 − ε)·w_y·(p_nc − [c = y]) + (ε/C)·(p_nc·Σ_c' w_c' − w_c).

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor
        >>> import glassnet.functional as F
        >>> scores = Tensor(np.array([[3.2, 5.1, -1.7]], dtype=np.float32), requires_grad=True)
        >>> loss = F.cross_entropy(scores, np.array([0]))  # cs231n's cat: −ln 0.13
        >>> loss
        tensor(2.0404, requires_grad=True)
        >>> loss.backward()
        >>> scores.grad.round(3)  # p − y
        array([[-0.87 ,  0.869,  0.001]], dtype=float32)
        >>> F.cross_entropy(Tensor(np.array([[1000.0, 0.0]], dtype=np.float32)), np.array([1]))  # no overflow
        tensor(1000.)
    """
    op = "cross_entropy"
    _check_reduction(op, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    logits, target, shaped = _classes_last(op, logits, target)
    s = logits.data
    n, c = s.shape
    log_p = log_softmax_array(s, axis=1)
    class_w = _class_weights(op, weight, c, s)
    raw = target.data if isinstance(target, Tensor) else np.asarray(target)
    eps = s.dtype.type(label_smoothing)
    if raw.dtype.kind in "iu":
        labels = _labels(op, raw, n, c, ignore_index)
        kept = labels != ignore_index
        safe = np.where(kept, labels, 0)
        rows = np.arange(n)
        w_y = (np.ones(n, dtype=s.dtype) if class_w is None else class_w[safe]) * kept
        values = -log_p[rows, safe] * w_y
        if eps:
            smooth = -(log_p if class_w is None else log_p * class_w).sum(axis=1) * kept
            values = (1 - eps) * values + (eps / c) * smooth
        simple = class_w is None and not eps and kept.all()

        def grads(w):
            p = np.exp(log_p)
            d = p * ((1 - eps) * w_y)[:, None]
            d[rows, safe] -= (1 - eps) * w_y
            if eps:
                total = c if class_w is None else class_w.sum()
                d += (eps / c) * (p * total - (1 if class_w is None else class_w)) * kept[:, None]
            d *= _expand(w, 2)
            return (d,)

        count = None if simple else w_y.sum()
        return shaped(_reduced(op, values, reduction, (logits,), grads, count))

    y = _as_target(target, s)
    _check_same_shape(op, "target (N, C) probabilities", s, y.data)
    yd = y.data if not eps else (1 - eps) * y.data + eps / c
    weighted_log_p = log_p if class_w is None else log_p * class_w
    values = -(yd * weighted_log_p).sum(axis=1)

    def grads_soft(w):
        w = _expand(w, 2)
        wy = yd if class_w is None else yd * class_w
        # Σ_c w_c y_nc need not be 1 for a general target: dℓ/ds = p·Σ_c w_c y_c − w·y.
        d = (np.exp(log_p) * wy.sum(axis=1, keepdims=True) - wy) * w
        return d, _wanted(y, lambda: -weighted_log_p * w * (1 - eps))

    return shaped(_reduced(op, values, reduction, (logits, y), grads_soft))


def nll_loss(log_probs: Tensor, labels, reduction: str = "mean", weight=None, ignore_index: int = -100) -> Tensor:
    """Negative log-likelihood of integer labels: ℓ_n = −w_{y_n}·log_probs[n, y_n].

    log_probs: (N, C) (or (N, C, d₁, …) with labels (N, d₁, …)), e.g. from
    ``log_softmax``; labels in [0, C). ``weight`` w (C,) as PyTorch's (default 1;
    ``"mean"`` divides by Σ_n w_{y_n}); labels equal to ``ignore_index`` give 0
    and do not count. Gradient: −w_{y_n} at each example's label (÷ the count for
    ``"mean"``), 0 elsewhere.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor
        >>> import glassnet.functional as F
        >>> log_p = F.log_softmax(Tensor(np.array([[3.2, 5.1, -1.7]], dtype=np.float32)), axis=1)
        >>> F.nll_loss(log_p, np.array([0]))  # = cross_entropy of the scores
        tensor(2.0404)
    """
    op = "nll_loss"
    _check_reduction(op, reduction)
    log_probs, labels, shaped = _classes_last(op, log_probs, labels)
    lp = log_probs.data
    n, c = lp.shape
    y = _labels(op, labels, n, c, ignore_index)
    class_w = _class_weights(op, weight, c, lp)
    kept = y != ignore_index
    safe = np.where(kept, y, 0)
    rows = np.arange(n)
    w_y = (np.ones(n, dtype=lp.dtype) if class_w is None else class_w[safe]) * kept

    def grads(w):
        d = np.zeros_like(lp)
        d[rows, safe] = -np.broadcast_to(w, (n,)) * w_y
        return (d,)

    count = None if class_w is None and kept.all() else w_y.sum()
    return shaped(_reduced(op, -lp[rows, safe] * w_y, reduction, (log_probs,), grads, count))


def _hinge(op: str, scores: Tensor, labels, margin: float, scale: float, reduction: str) -> Tensor:
    """scale · Σ_{j≠y} max(0, s_j − s_y + Δ) per example, with its gradient:
    +scale for every j ≠ y whose margin is violated, −scale·(their count) at y."""
    _check_reduction(op, reduction)
    s = scores.data
    if s.ndim != 2:
        raise ValueError(f"{op}: expected scores of shape (N, C), got {s.shape}")
    n, c = s.shape
    y = _labels(op, labels, n, c)
    rows = np.arange(n)
    margins = s - s[rows, y][:, None] + s.dtype.type(margin)
    margins[rows, y] = 0
    np.maximum(margins, 0, out=margins)
    values = margins.sum(axis=1) * s.dtype.type(scale)

    def grads(w):
        d = (margins > 0).astype(s.dtype)
        d[rows, y] = -d.sum(axis=1)
        d *= _expand(np.asarray(w) * scale, 2)
        return (d,)

    return _reduced(op, values, reduction, (scores,), grads)


def svm_loss(scores: Tensor, labels, margin: float = 1.0, reduction: str = "mean") -> Tensor:
    """The multiclass SVM (hinge) loss of cs231n:

        ℓ_n = Σ_{j ≠ y_n} max(0, s_nj − s_n,y_n + Δ),   Δ = ``margin``,

    averaged over the batch (``"mean"``). scores: (N, C); labels: (N,) in [0, C).
    Worked example: scores cat 3.2, car 5.1, frog −1.7, true class cat:
    max(0, 5.1 − 3.2 + 1) + max(0, −1.7 − 3.2 + 1) = 2.9 + 0 = 2.9.
    PyTorch's ``multi_margin_loss`` divides each ℓ_n by C; see
    :func:`multi_margin_loss`.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor
        >>> import glassnet.functional as F
        >>> scores = Tensor(np.array([[3.2, 5.1, -1.7]], dtype=np.float32))  # cs231n's cat image
        >>> F.svm_loss(scores, np.array([0]))  # max(0, 5.1 − 3.2 + 1) + max(0, −1.7 − 3.2 + 1)
        tensor(2.9)
    """
    return _hinge("svm_loss", scores, labels, margin, 1.0, reduction)


def multi_margin_loss(scores: Tensor, labels, margin: float = 1.0, reduction: str = "mean") -> Tensor:
    """PyTorch's ``multi_margin_loss`` (p = 1): :func:`svm_loss` divided by the
    number of classes C, ℓ_n = (1/C) Σ_{j ≠ y_n} max(0, s_nj − s_n,y_n + Δ)."""
    return _hinge("multi_margin_loss", scores, labels, margin, 1.0 / scores.data.shape[-1], reduction)


# ---------------------------------------------------------------- penalties
def _penalty(op: str, params, value, grad) -> Tensor:
    params = (params,) if isinstance(params, Tensor) else tuple(params)
    if not params:
        raise ValueError(f"{op}: got no parameters")
    dtype = np.result_type(*(p.data.dtype for p in params))
    total = np.asarray(sum(value(p.data) for p in params), dtype=dtype)
    return Tensor.from_op(total, params, lambda g: tuple(g * grad(p.data) for p in params), op)


def l1_penalty(params) -> Tensor:
    """Σ|w| over every element of ``params`` (a tensor or an iterable of them).
    Gradient: sign(w) (0 at w = 0). The book's L1-regularized cost is
    C = C0 + (λ/n)·l1_penalty(weights)."""
    return _penalty("l1_penalty", params, lambda w: np.abs(w).sum(), np.sign)


def l2_penalty(params) -> Tensor:
    """Σw² over every element of ``params`` (a tensor or an iterable of them);
    no ½, so [1, 0, 0, 0] scores 1.0 and [0.25]*4 scores 0.25.
    Gradient: 2w.

    The book's L2-regularized cost is C = C0 + (λ/2n) Σw², that is
    C0 + (λ/(2n))·l2_penalty(weights), n the size of the training set, whose
    gradient adds (λ/n)·w (weight decay). The book regularizes weights, not
    biases: pass e.g. ``[p for name, p in model.named_parameters() if name.endswith("weight")]``.
    """
    return _penalty("l2_penalty", params, lambda w: np.vdot(w, w), lambda w: 2 * w)


# ------------------------------------------------ the book's costs, by name
def _one_hot_targets(op: str, z: Tensor, y) -> np.ndarray:
    """(N, C) float targets of ``z``'s dtype from integer labels (N,) or one-hot rows (N, C)."""
    y = y.data if isinstance(y, Tensor) else np.asarray(y)
    if y.ndim == 2:
        return y.astype(z.data.dtype, copy=False)
    labels = _labels(op, y, z.shape[0], z.shape[1])
    target = np.zeros(z.shape, dtype=z.data.dtype)
    target[np.arange(len(labels)), labels] = 1
    return target


def sigmoid_cross_entropy(z: Tensor, y) -> Tensor:
    """The book's ``CrossEntropyCost`` on sigmoid outputs a = σ(z), summed over
    the C outputs and averaged over the N examples:

        C = (1/N) Σ_x Σ_j −[y_j ln a_j + (1 − y_j) ln(1 − a_j)].

    z: logits (N, C); y: integer labels (N,) or one-hot rows (N, C).
    Gradient: dC/dz = (σ(z) − y)/N (no σ′: the cost's reason to exist).
    """
    target = _one_hot_targets("sigmoid_cross_entropy", z, y)
    return binary_cross_entropy_with_logits(z, target, "sum") * (1.0 / len(target))


def sigmoid_quadratic_cost(z: Tensor, y) -> Tensor:
    """The book's ``QuadraticCost`` on sigmoid outputs: (1/N) Σ_x ½‖σ(z) − y‖².

    z: logits (N, C); y: integer labels (N,) or one-hot rows (N, C).
    Gradient: dC/dz = (σ(z) − y)·σ′(z)/N, which vanishes when σ saturates.
    """
    return quadratic_cost(sigmoid(z), _one_hot_targets("sigmoid_quadratic_cost", z, y))


#: The costs by the names ``glassnet train --cost`` takes: ``COSTS[name](logits, labels)``.
COSTS = {
    "cross-entropy": cross_entropy,  # softmax + log-likelihood
    "sigmoid-cross-entropy": sigmoid_cross_entropy,
    "quadratic": sigmoid_quadratic_cost,
    "svm": svm_loss,
}
