"""Loss modules: ``criterion = nn.CrossEntropyLoss(); loss = criterion(logits, y)``.

Each one calls the function of the same name in ``glassnet.functional.losses``,
where the formula and its gradient are documented.
"""

from __future__ import annotations

from ..functional import losses
from .module import Module


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        losses._check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


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
    """Sigmoid + binary cross-entropy, fused and stable (see ``binary_cross_entropy_with_logits``)."""

    def forward(self, z, y):
        return losses.binary_cross_entropy_with_logits(z, y, self.reduction)


class CrossEntropyLoss(_Loss):
    """Softmax + log-likelihood on logits, with integer labels or probability
    rows (see ``cross_entropy``)."""

    def forward(self, logits, target):
        return losses.cross_entropy(logits, target, self.reduction)


class NLLLoss(_Loss):
    """Negative log-likelihood of integer labels given log-probabilities (see ``nll_loss``)."""

    def forward(self, log_probs, labels):
        return losses.nll_loss(log_probs, labels, self.reduction)


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
