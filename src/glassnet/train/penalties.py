"""Regularization penalties for :func:`~glassnet.train.fit`: ``fit(..., penalty=L2(5.0))``.

The book's convention, used throughout glassnet
-----------------------------------------------
With ``n`` training examples (the whole training set, not the mini-batch) and
C₀ the mean loss, ``L2(λ)`` and ``L1(λ)`` minimise

    C = C₀ + (λ/2n)·Σ_w w²        (L2)        C = C₀ + (λ/n)·Σ_w |w|        (L1)

over the *weights* w: every trainable parameter called ``weight`` with ≥ 2
dimensions (Linear and Conv kernels; not biases, not batch norm's γ). Their
gradients, (λ/n)·w and (λ/n)·sign(w), are added to the parameters' gradients
after ``backward()`` (no graph is built for them), so with SGD at rate η the L2
step is the book's w ← (1 − ηλ/n)·w − η·∂C₀/∂w. (PyTorch's ``weight_decay=wd``
is λ = wd·n, applied to biases as well.) ``fit(l1=λ, l2=λ)`` are shorthands
for these two.

A penalty is a :class:`Penalty` with three hooks, each optional:

- ``bind(model, n)``: called once when training starts, with the training set's size;
- ``loss_term(model) -> Tensor | None``: a scalar added to the loss before
  ``backward()`` (autograd differentiates it);
- ``add_gradients() -> None``: called after ``backward()``, adds a closed-form
  gradient to ``.grad``.

Any callable ``model -> scalar Tensor`` is accepted as a penalty too (its value
is the loss term). The loss that ``fit`` reports is C₀ alone, so training and
validation losses compare.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor


def regularized_weights(model) -> list:
    """The parameters the book's L1/L2 terms apply to: trainable weights with ≥ 2 dims."""
    return [p for name, p in model.named_parameters()
            if name.rsplit(".", 1)[-1] == "weight" and p.ndim >= 2 and p.requires_grad]


class Penalty:
    """Base class: every hook does nothing."""

    def bind(self, model, n: int) -> None:
        pass

    def loss_term(self, model) -> Tensor | None:
        return None

    def add_gradients(self) -> None:
        pass


class _WeightPenalty(Penalty):
    """λ/n times a function of the book's weights, with a closed-form gradient."""

    def __init__(self, lam: float):
        if not lam >= 0:
            raise ValueError(f"{type(self).__name__}: λ must be >= 0, got {lam!r}")
        self.lam = float(lam)
        self.weights, self.n = [], None

    def bind(self, model, n: int) -> None:
        self.weights, self.n = regularized_weights(model), int(n)

    def add_gradients(self) -> None:
        scale = self.lam / self.n
        for w in self.weights:
            if w.grad is not None:
                w.grad += scale * self._derivative(w.data)

    def value(self) -> float:
        """The penalty's current value, e.g. (λ/2n)·Σw² for L2 (for reports and tests)."""
        return self.lam / self.n * sum(float(self._term(w.data)) for w in self.weights)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.lam:g})"


class L2(_WeightPenalty):
    """(λ/2n)·Σ_w w², gradient (λ/n)·w: weight decay in the book's convention."""

    @staticmethod
    def _term(w: np.ndarray):
        return 0.5 * np.vdot(w, w)

    @staticmethod
    def _derivative(w: np.ndarray) -> np.ndarray:
        return w


class L1(_WeightPenalty):
    """(λ/n)·Σ_w |w|, (sub)gradient (λ/n)·sign(w): drives small weights to zero."""

    @staticmethod
    def _term(w: np.ndarray):
        return np.abs(w).sum()

    @staticmethod
    def _derivative(w: np.ndarray) -> np.ndarray:
        return np.sign(w)


class LossTerm(Penalty):
    """A callable ``model -> scalar Tensor`` added to the loss before ``backward()``."""

    def __init__(self, function):
        if not callable(function):
            raise TypeError(f"LossTerm: expected a callable model -> Tensor, got {type(function).__name__}")
        self.function = function

    def loss_term(self, model) -> Tensor:
        return self.function(model)

    def __repr__(self) -> str:
        return f"LossTerm({getattr(self.function, '__name__', self.function)!r})"


def as_penalties(l1: float = 0.0, l2: float = 0.0, penalty=None) -> list:
    """``fit``'s ``l1``, ``l2`` and ``penalty`` arguments as a list of Penalty objects
    (``penalty``: a Penalty, a callable, or a list of them)."""
    if l1 < 0 or l2 < 0:
        raise ValueError(f"fit: l1 and l2 must be >= 0, got l1={l1}, l2={l2}")
    penalties = [L2(l2)] if l2 else []
    if l1:
        penalties.append(L1(l1))
    extra = penalty if isinstance(penalty, (list, tuple)) else [] if penalty is None else [penalty]
    for p in extra:
        if isinstance(p, Penalty):
            penalties.append(p)
        elif callable(p):
            penalties.append(LossTerm(p))
        else:
            raise TypeError(f"fit: penalty must be a Penalty or a callable model -> Tensor, got {type(p).__name__}")
    return penalties
