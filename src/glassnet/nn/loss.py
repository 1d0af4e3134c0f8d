"""Loss modules: ``criterion = nn.CrossEntropyLoss(); loss = criterion(logits, y)``.

Each one calls the function of the same name in ``glassnet.functional.losses``,
where the formula and its gradient are documented.
"""

from __future__ import annotations

import numpy as np

from ..functional import losses
from ..tensor import Tensor
from .module import Module


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        losses._check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"

    def _weights(self, **named) -> None:
        """Keep class/element weights as buffers (in ``state_dict``, as PyTorch's), or None."""
        for name, value in named.items():
            if value is None:
                setattr(self, name, None)
            else:
                self.register_buffer(name, np.array(value.data if isinstance(value, Tensor) else value))


class QuadraticCost(_Loss):
    """The book's quadratic cost (1/N) Σ_x ½‖a − y‖² (see ``quadratic_cost``)."""

    def forward(self, a, y):
        return losses.quadratic_cost(a, y, self.reduction)


class MSELoss(_Loss):
    """Mean squared error over every element, as PyTorch's (see ``mse_loss``)."""

    def forward(self, a, y):
        return losses.mse_loss(a, y, self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities (see ``binary_cross_entropy``)."""

    def forward(self, p, y):
        return losses.binary_cross_entropy(p, y, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy, fused and stable, with PyTorch's ``weight``
    and ``pos_weight`` (see ``binary_cross_entropy_with_logits``)."""

    def __init__(self, reduction: str = "mean", *, weight=None, pos_weight=None):
        super().__init__(reduction)
        self._weights(weight=weight, pos_weight=pos_weight)

    def forward(self, z, y):
        return losses.binary_cross_entropy_with_logits(z, y, self.reduction, self.weight, self.pos_weight)


class CrossEntropyLoss(_Loss):
    """Softmax + log-likelihood on logits, with integer labels or probability
    rows, (N, C, d₁, …) scores, and PyTorch's ``weight``, ``ignore_index`` and
    ``label_smoothing`` (see ``cross_entropy``)."""

    def __init__(self, reduction: str = "mean", *, weight=None, ignore_index: int = -100,
                 label_smoothing: float = 0.0):
        super().__init__(reduction)
        self._weights(weight=weight)
        self.ignore_index, self.label_smoothing = int(ignore_index), float(label_smoothing)

    def forward(self, logits, target):
        return losses.cross_entropy(logits, target, self.reduction, self.weight, self.ignore_index,
                                    self.label_smoothing)


class NLLLoss(_Loss):
    """Negative log-likelihood of integer labels given log-probabilities (see ``nll_loss``)."""

    def __init__(self, reduction: str = "mean", *, weight=None, ignore_index: int = -100):
        super().__init__(reduction)
        self._weights(weight=weight)
        self.ignore_index = int(ignore_index)

    def forward(self, log_probs, labels):
        return losses.nll_loss(log_probs, labels, self.reduction, self.weight, self.ignore_index)


class SVMLoss(_Loss):
    """cs231n's multiclass SVM hinge loss Σ_{j≠y} max(0, s_j − s_y + Δ) (see ``svm_loss``)."""

    def __init__(self, margin: float = 1.0, reduction: str = "mean"):
        super().__init__(reduction)
        self.margin = margin

    def forward(self, scores, labels):
        return losses.svm_loss(scores, labels, self.margin, self.reduction)

    def extra_repr(self) -> str:
        return f"margin={self.margin}, reduction={self.reduction!r}"


class MultiMarginLoss(SVMLoss):
    """PyTorch's MultiMarginLoss: the SVM loss divided by the number of classes
    (see ``multi_margin_loss``)."""

    def forward(self, scores, labels):
        return losses.multi_margin_loss(scores, labels, self.margin, self.reduction)
