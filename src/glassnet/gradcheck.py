"""Numerical gradient checking: the test every backward pass must pass.

For a function ``f`` of tensors, the analytic gradient from ``backward()`` is
compared element by element with the central difference

    ∂L/∂x_i ≈ (L(x + h·e_i) − L(x − h·e_i)) / 2h,     L = Σ f(x) ⊙ R,

where ``R`` is a fixed random array (so every output element matters) and the
inputs are float64. The relative error of element i is

    |a_i − n_i| / max(|a_i|, |n_i|, floor)

(cs231n's measure; ``floor`` keeps elements whose true gradient is ~0 from
dividing round-off by zero). Below 1e-7 is excellent, above 1e-2 is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tensor import Tensor


@dataclass
class GradcheckReport:
    """The outcome: the worst relative error, where it occurred, and both values."""

    max_rel_error: float
    input_index: int
    element: tuple
    analytic: float
    numeric: float
    per_input: list

    def __str__(self) -> str:
        return (f"worst relative error {self.max_rel_error:.3e} at input {self.input_index}, "
                f"element {self.element}: analytic {self.analytic:.10g}, numeric {self.numeric:.10g}")


def gradcheck(fn, inputs, eps: float = 1e-6, floor: float = 1e-4, seed: int = 0,
              tol: float | None = None) -> GradcheckReport:
    """Check ``fn(*inputs)`` against central differences.

    ``inputs``: tensors (or arrays); those with ``requires_grad`` (all floating
    ones, if none is marked) are checked and must be float64. ``fn`` must be
    deterministic (reseed any randomness inside it). Returns a report; when
    ``tol`` is given, raises ``AssertionError`` if the worst error exceeds it.
    """
    tensors = [x if isinstance(x, Tensor) else Tensor(np.asarray(x)) for x in inputs]
    checked = [t for t in tensors if t.requires_grad]
    if not checked:
        checked = [t for t in tensors if t.data.dtype.kind == "f"]
        for t in checked:
            t.requires_grad = True
    for t in checked:
        if t.data.dtype != np.float64:
            raise TypeError(f"gradcheck needs float64 inputs, got {t.data.dtype} for shape {t.data.shape}")

    out = fn(*tensors)
    weights = np.random.default_rng(seed).standard_normal(out.data.shape)

    def scalar() -> float:
        return float(np.sum(fn(*tensors).data * weights))

    for t in checked:
        t.grad = None
    (out * Tensor(weights)).sum().backward()
    analytic = [np.zeros_like(t.data) if t.grad is None else t.grad.copy() for t in checked]

    worst = None
    per_input = []
    for k, (t, a) in enumerate(zip(checked, analytic)):
        numeric = np.zeros_like(t.data)
        flat = t.data.reshape(-1)  # a view: writing it perturbs the input
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + eps
            plus = scalar()
            flat[i] = original - eps
            minus = scalar()
            flat[i] = original
            numeric.reshape(-1)[i] = (plus - minus) / (2 * eps)
        rel = np.abs(a - numeric) / np.maximum(np.maximum(np.abs(a), np.abs(numeric)), floor)
        per_input.append(float(rel.max()) if rel.size else 0.0)
        if rel.size:
            i = int(rel.argmax())
            if worst is None or rel.reshape(-1)[i] > worst.max_rel_error:
                element = np.unravel_index(i, rel.shape)
                worst = GradcheckReport(float(rel.reshape(-1)[i]), k, tuple(int(e) for e in element),
                                        float(a.reshape(-1)[i]), float(numeric.reshape(-1)[i]), per_input)
    if worst is None:
        worst = GradcheckReport(0.0, -1, (), 0.0, 0.0, per_input)
    worst.per_input = per_input
    if tol is not None and worst.max_rel_error > tol:
        raise AssertionError(f"gradcheck failed: {worst}")
    return worst
