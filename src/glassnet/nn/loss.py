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
    """The book's quadratic cost (1/N) Σ_x ½‖a − y‖² (see ``quadratic_cost``).

    Args:
        reduction: ``"mean"`` (default), ``"sum"`` or ``"none"`` (one value per example).

    Shape:
        - Input: a (N, ...), the network's outputs; target y of the same shape.
        - Output: a scalar, or (N,) with ``reduction="none"``.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> a = Tensor(np.array([[1.0, 2.0]], dtype=np.float32))
        >>> nn.QuadraticCost()(a, np.array([[1.0, 4.0]], dtype=np.float32))  # ½·(0² + 2²)
        tensor(2.)
    """

    def forward(self, a, y):
        return losses.quadratic_cost(a, y, self.reduction)


class MSELoss(_Loss):
    """Mean squared error over every element, as PyTorch's (see ``mse_loss``).

    Args:
        reduction: ``"mean"`` (default), ``"sum"`` or ``"none"`` (one value per element).

    Shape:
        - Input: a of any shape; target y of the same shape.
        - Output: a scalar, or a's shape with ``reduction="none"``.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> nn.MSELoss()(Tensor(np.array([1.0, 2.0], dtype=np.float32)), np.array([1.0, 4.0], dtype=np.float32))
        tensor(2.)
    """

    def forward(self, a, y):
        return losses.mse_loss(a, y, self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities (see ``binary_cross_entropy``).
    After a sigmoid, prefer the fused and stable :class:`BCEWithLogitsLoss`.

    Args:
        reduction: ``"mean"`` (default), ``"sum"`` or ``"none"`` (one value per element).

    Shape:
        - Input: p of any shape, probabilities in [0, 1]; target y of the same shape.
        - Output: a scalar, or p's shape with ``reduction="none"``.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> nn.BCELoss()(Tensor(np.array([0.5, 0.5], dtype=np.float32)), np.array([1.0, 0.0], dtype=np.float32))  # ln 2
        tensor(0.6931)
    """

    def forward(self, p, y):
        return losses.binary_cross_entropy(p, y, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy, fused and stable, with PyTorch's ``weight``
    and ``pos_weight`` (see ``binary_cross_entropy_with_logits``).

    Args:
        reduction: ``"mean"`` (default), ``"sum"`` or ``"none"`` (one value per element).
        weight: multiplies each element's loss (broadcast to the input).
        pos_weight: weighs the positive term, one value per class (the last axis).

    Shape:
        - Input: logits z of any shape; target y of the same shape, in [0, 1].
        - Output: a scalar, or z's shape with ``reduction="none"``.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> z = Tensor(np.array([0.0, 0.0], dtype=np.float32), requires_grad=True)
        >>> loss = nn.BCEWithLogitsLoss()(z, np.array([1.0, 0.0], dtype=np.float32))
        >>> loss
        tensor(0.6931, requires_grad=True)
        >>> loss.backward()
        >>> z.grad  # (σ(z) − y)/N: no σ′ factor
        array([-0.25,  0.25], dtype=float32)
    """

    def __init__(self, reduction: str = "mean", *, weight=None, pos_weight=None):
        super().__init__(reduction)
        self._weights(weight=weight, pos_weight=pos_weight)

    def forward(self, z, y):
        return losses.binary_cross_entropy_with_logits(z, y, self.reduction, self.weight, self.pos_weight)


class CrossEntropyLoss(_Loss):
    """Softmax + log-likelihood on logits, with integer labels or probability
    rows, (N, C, d₁, …) scores, and PyTorch's ``weight``, ``ignore_index`` and
    ``label_smoothing`` (see ``cross_entropy``).

    Args:
        reduction: ``"mean"`` (default), ``"sum"`` or ``"none"`` (one value per example).
        weight: one weight per class, (C,).
        ignore_index: a label that gives no loss and does not count in the mean.
        label_smoothing: ε in [0, 1]: the target becomes (1 − ε)·y + ε/C.

    Shape:
        - Input: logits (N, C), or (N, C, d₁, …) per position.
        - Target: integer labels (N,) in [0, C) (or (N, d₁, …)), or probability rows (N, C).
        - Output: a scalar, or (N,) (or (N, d₁, …)) with ``reduction="none"``.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> logits = Tensor(np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]], dtype=np.float32), requires_grad=True)
        >>> loss = nn.CrossEntropyLoss()(logits, np.array([0, 2]))
        >>> loss  # the mean of −ln p(label): ln(1 + 2/e²) and ln 3
        tensor(0.6691, requires_grad=True)
        >>> loss.backward()
        >>> logits.grad.round(4)  # (p − y)/N
        array([[-0.1065,  0.0533,  0.0533],
               [ 0.1667,  0.1667, -0.3333]], dtype=float32)
    """

    def __init__(self, reduction: str = "mean", *, weight=None, ignore_index: int = -100,
                 label_smoothing: float = 0.0):
        super().__init__(reduction)
        self._weights(weight=weight)
        self.ignore_index, self.label_smoothing = int(ignore_index), float(label_smoothing)

    def forward(self, logits, target):
        return losses.cross_entropy(logits, target, self.reduction, self.weight, self.ignore_index,
                                    self.label_smoothing)


class NLLLoss(_Loss):
    """Negative log-likelihood of integer labels given log-probabilities (see ``nll_loss``):
    after ``LogSoftmax`` it is :class:`CrossEntropyLoss`.

    Args:
        reduction: ``"mean"`` (default), ``"sum"`` or ``"none"`` (one value per example).
        weight: one weight per class, (C,).
        ignore_index: a label that gives no loss and does not count in the mean.

    Shape:
        - Input: log-probabilities (N, C); labels (N,) in [0, C).
        - Output: a scalar, or (N,) with ``reduction="none"``.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> log_p = Tensor(np.log(np.array([[0.5, 0.25, 0.25]], dtype=np.float32)))
        >>> nn.NLLLoss()(log_p, np.array([0]))  # −ln 0.5
        tensor(0.6931)
    """

    def __init__(self, reduction: str = "mean", *, weight=None, ignore_index: int = -100):
        super().__init__(reduction)
        self._weights(weight=weight)
        self.ignore_index = int(ignore_index)

    def forward(self, log_probs, labels):
        return losses.nll_loss(log_probs, labels, self.reduction, self.weight, self.ignore_index)


class SVMLoss(_Loss):
    """cs231n's multiclass SVM hinge loss Σ_{j≠y} max(0, s_j − s_y + Δ) (see ``svm_loss``).

    Args:
        margin: Δ, how far the true class's score must lead the others (default 1).
        reduction: ``"mean"`` (default), ``"sum"`` or ``"none"`` (one value per example).

    Shape:
        - Input: scores (N, C); labels (N,) in [0, C).
        - Output: a scalar, or (N,) with ``reduction="none"``.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> scores = Tensor(np.array([[3.0, 2.5, 0.0]], dtype=np.float32))
        >>> nn.SVMLoss()(scores, np.array([0]))  # max(0, 2.5 − 3 + 1) + max(0, 0 − 3 + 1)
        tensor(0.5)
    """

    def __init__(self, margin: float = 1.0, reduction: str = "mean"):
        super().__init__(reduction)
        self.margin = margin

    def forward(self, scores, labels):
        return losses.svm_loss(scores, labels, self.margin, self.reduction)

    def extra_repr(self) -> str:
        return f"margin={self.margin}, reduction={self.reduction!r}"


class MultiMarginLoss(SVMLoss):
    """PyTorch's MultiMarginLoss: the SVM loss divided by the number of classes
    (see ``multi_margin_loss``). Arguments and shapes as :class:`SVMLoss`.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> scores = Tensor(np.array([[3.0, 2.5, 0.0]], dtype=np.float32))
        >>> nn.MultiMarginLoss()(scores, np.array([0]))  # 0.5 / 3 classes
        tensor(0.1667)
    """

    def forward(self, scores, labels):
        return losses.multi_margin_loss(scores, labels, self.margin, self.reduction)
