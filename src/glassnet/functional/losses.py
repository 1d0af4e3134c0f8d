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


def _labels(op: str, labels, n: int, num_classes: int) -> np.ndarray:
    """Integer class labels of shape (n,), each in [0, num_classes)."""
    y = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    if y.dtype.kind not in "iu":
        raise TypeError(f"{op}: class labels must be integers, got dtype {y.dtype}")
    if y.shape != (n,):
        raise ValueError(f"{op}: expected labels of shape ({n},) for input with {n} rows, got {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"{op}: labels must be in the range [0, {num_classes}) for {num_classes} classes, "
                         f"got values from {y.min()} to {y.max()}")
    return y


def _reduced(op: str, values: np.ndarray, reduction: str, parents: tuple, grads) -> Tensor:
    """Apply ``reduction`` to the unreduced loss ``values`` and build the node.

    ``grads(w)`` returns the gradient of each parent given ``w = dL/d values``,
    which is a scalar (``"mean"``: g/count, ``"sum"``: g) or an array shaped like
    ``values`` (``"none"``); ``_expand`` lines it up with an input's axes.
    """
    if reduction == "none":
        return Tensor._from_op(values, parents, grads, op)
    if reduction == "sum":
        return Tensor._from_op(np.asarray(values.sum()), parents, grads, op)
    scale = values.dtype.type(1 / max(values.size, 1))
    return Tensor._from_op(np.asarray(values.sum() * scale), parents, lambda g: grads(g * scale), op)


def _expand(w: np.ndarray, ndim: int) -> np.ndarray:
    """``w`` (a scalar or one value per example) with trailing axes added to
    broadcast against an input of ``ndim`` axes."""
    w = np.asarray(w)
    return w if w.ndim == 0 else w.reshape(w.shape + (1,) * (ndim - w.ndim))


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


def binary_cross_entropy(p: Tensor, y, reduction: str = "mean") -> Tensor:
    """Cross-entropy of probabilities p ∈ [0, 1] against targets y (same shape):

        ℓ = −[y ln p + (1 − y) ln(1 − p)]  per element, ``"mean"`` over all elements.

    Each log is clamped at −100 (as PyTorch does), so p = 0 or 1 gives a finite
    loss. Gradient: dℓ/dp = (p − y) / (p(1 − p)), with p(1 − p) floored at 1e-12.
    The book sums over the output neurons and averages over examples; that is
    this loss times the number of outputs. Prefer the fused
    :func:`binary_cross_entropy_with_logits` after a sigmoid.
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


def binary_cross_entropy_with_logits(z: Tensor, y, reduction: str = "mean") -> Tensor:
    """Sigmoid and binary cross-entropy fused, stable for any logit z:

        ℓ = −[y ln σ(z) + (1 − y) ln(1 − σ(z))] = max(z, 0) − z·y + ln(1 + e^(−|z|)).

    z, y: the same shape; ``"mean"`` averages over all elements (count of them).
    Gradient: dℓ/dz = σ(z) − y (σ′ cancels: the book's reason for this cost),
    divided by the count for ``"mean"``.
    """
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    y = _as_target(y, z.data)
    _check_same_shape("binary_cross_entropy_with_logits", "target", z.data, y.data)
    zd, yd = z.data, y.data
    values = np.maximum(zd, 0) - zd * yd + np.log1p(np.exp(-np.abs(zd)))

    def grads(w):
        return (_sigmoid(zd) - yd) * w, _wanted(y, lambda: -zd * w)

    return _reduced("binary_cross_entropy_with_logits", values, reduction, (z, y), grads)


def cross_entropy(logits: Tensor, target, reduction: str = "mean") -> Tensor:
    """Softmax and negative log-likelihood fused: for scores s (N, C),

        p = softmax(s),   ℓ_n = −Σ_c y_nc ln p_nc,

    where ``target`` is either integer labels (N,) in [0, C) (then
    ℓ_n = −ln p_n,label) or one-hot / probability rows (N, C).
    Gradient: dℓ/ds = (p − y), divided by N for ``"mean"``: the output error
    δ = p − y of softmax with log-likelihood, without the softmax Jacobian.

    Worked example (cs231n): scores cat 3.2, car 5.1, frog −1.7 with true class
    cat give p(cat) ≈ 0.13 and loss −ln 0.13 ≈ 2.04. The course prints 0.89,
    which is −log₁₀ 0.13: this loss uses the natural logarithm, as PyTorch does.
    """
    _check_reduction("cross_entropy", reduction)
    s = logits.data
    if s.ndim != 2:
        raise ValueError(f"cross_entropy: expected logits of shape (N, C), got {s.shape}")
    n, c = s.shape
    log_p = log_softmax_array(s, axis=1)
    raw = target.data if isinstance(target, Tensor) else np.asarray(target)
    if raw.dtype.kind in "iu":
        labels = _labels("cross_entropy", raw, n, c)
        rows = np.arange(n)
        values = -log_p[rows, labels]

        def grads(w):
            d = np.exp(log_p)
            d[rows, labels] -= 1
            d *= _expand(w, 2)
            return (d,)

        return _reduced("cross_entropy", values, reduction, (logits,), grads)

    y = _as_target(target, s)
    _check_same_shape("cross_entropy", "target (N, C) probabilities", s, y.data)
    yd = y.data
    values = -(yd * log_p).sum(axis=1)

    def grads_soft(w):
        w = _expand(w, 2)
        # Σ_c y_nc need not be 1 for a general target: dℓ/ds = p·Σ_c y − y.
        d = (np.exp(log_p) * yd.sum(axis=1, keepdims=True) - yd) * w
        return d, _wanted(y, lambda: -log_p * w)

    return _reduced("cross_entropy", values, reduction, (logits, y), grads_soft)


def nll_loss(log_probs: Tensor, labels, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of integer labels: ℓ_n = −log_probs[n, label_n].

    log_probs: (N, C), e.g. from ``log_softmax``; labels: (N,) in [0, C).
    Gradient: −1 at each example's label (÷N for ``"mean"``), 0 elsewhere.
    """
    _check_reduction("nll_loss", reduction)
    lp = log_probs.data
    if lp.ndim != 2:
        raise ValueError(f"nll_loss: expected log-probabilities of shape (N, C), got {lp.shape}")
    n, c = lp.shape
    y = _labels("nll_loss", labels, n, c)
    rows = np.arange(n)

    def grads(w):
        d = np.zeros_like(lp)
        d[rows, y] = -np.broadcast_to(w, (n,))
        return (d,)

    return _reduced("nll_loss", -lp[rows, y], reduction, (log_probs,), grads)


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
    return Tensor._from_op(total, params, lambda g: tuple(g * grad(p.data) for p in params), op)


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
