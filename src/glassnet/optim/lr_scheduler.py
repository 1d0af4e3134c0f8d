"""Learning-rate schedules, as in ``torch.optim.lr_scheduler``.

Call ``scheduler.step()`` once per epoch, after the epoch's optimizer steps
(``ReduceLROnPlateau.step(metric)`` takes the epoch's validation metric). Each
schedule writes the new rate into every parameter group's ``"lr"`` and keeps
per-group ``base_lrs`` (the rates at construction, also stored as
``group["initial_lr"]``). Like PyTorch's, the schedules are *chainable*: each
step multiplies the group's current rate by a factor, so two schedules, or a
manual change of ``group["lr"]``, compose. ``state_dict()`` is plain JSON.
"""

from __future__ import annotations

import math

from .optimizer import Optimizer


class _Scheduler:
    """What every schedule shares: the optimizer, the last rates, and saving."""

    optimizer: Optimizer

    def _check_optimizer(self, optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__} needs a glassnet Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer

    def _current_lrs(self) -> list:
        return [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list:
        """The rate of each parameter group after the latest step."""
        return self._last_lr

    def state_dict(self) -> dict:
        """Every attribute except the optimizer (JSON-able)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state: dict) -> None:
        self.__dict__.update(state)


class LRScheduler(_Scheduler):
    """Base of the epoch-indexed schedules: ``step()`` advances ``last_epoch``
    and sets each group's rate to :meth:`get_lr`.

    ``last_epoch=-1`` starts a schedule (``last_epoch`` becomes 0 and the rates
    are left as they are); a larger value resumes one, which needs
    ``group["initial_lr"]`` in every group (it is saved with the optimizer).
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        self._check_optimizer(optimizer)
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"{type(self).__name__}: resuming at last_epoch={last_epoch} needs "
                               f"'initial_lr' in parameter group {i}; load the optimizer's state first")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch + 1
        self._last_lr = self._current_lrs()

    def get_lr(self) -> list:
        """The rates for epoch ``self.last_epoch`` (≥ 1), from the current ones."""
        raise NotImplementedError

    def step(self) -> None:
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = self._current_lrs()


class StepLR(LRScheduler):
    """η ← γ·η every ``step_size`` epochs: η_t = η₀·γ^⌊t/step_size⌋."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        if not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        factor = self.gamma if self.last_epoch % self.step_size == 0 else 1.0
        return [lr * factor for lr in self._current_lrs()]


class ExponentialLR(LRScheduler):
    """η ← γ·η every epoch: η_t = η₀·γᵗ."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        return [lr * self.gamma for lr in self._current_lrs()]


class CosineAnnealingLR(LRScheduler):
    """η_t = η_min + (η₀ − η_min)·(1 + cos(π·t/T_max))/2: from η₀ down to η_min
    at t = T_max, then back up (period 2·T_max).

    Applied as PyTorch does, by the ratio of consecutive values,
    η_t − η_min = (η_{t−1} − η_min)·(1 + cos(π t/T))/(1 + cos(π (t−1)/T)), with
    the additive form where that ratio is 0/0 (just after each minimum).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be >= 1, got {T_max}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        t, period, low = self.last_epoch, self.T_max, self.eta_min
        if (t - 1 - period) % (2 * period) == 0:
            return [lr + (base - low) * (1 - math.cos(math.pi / period)) / 2
                    for lr, base in zip(self._current_lrs(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * t / period)) / (1 + math.cos(math.pi * (t - 1) / period))
        return [low + ratio * (lr - low) for lr in self._current_lrs()]


class ReduceLROnPlateau(_Scheduler):
    """Multiply η by ``factor`` when a metric has stopped improving.

    ``step(metric)`` once per epoch. The metric improves when it beats the best
    so far by more than ``threshold`` (``threshold_mode`` "rel": by a factor
    1 ± threshold; "abs": by threshold), upwards for ``mode="max"`` (accuracy)
    and downwards for ``mode="min"`` (loss). After more than ``patience`` epochs
    without improvement, η ← max(factor·η, min_lr) (changes smaller than ``eps``
    are skipped) and the next ``cooldown`` epochs do not count.

    The book's "halve η when the validation accuracy stops improving" is
    ``ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=...)``.
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: float | list = 0.0, eps: float = 1e-8):
        self._check_optimizer(optimizer)
        if not factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1, got {factor}")
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != groups:
                raise ValueError(f"ReduceLROnPlateau: {len(min_lr)} min_lr values for {groups} parameter groups")
            self.min_lrs = list(min_lr)
        else:
            self.min_lrs = [min_lr] * groups
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.eps = cooldown, eps
        self.best = None  # no metric seen yet
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = self._current_lrs()

    def _is_better(self, value: float) -> bool:
        if self.best is None:
            return True
        sign = 1.0 if self.mode == "max" else -1.0
        if self.threshold_mode == "rel":
            return sign * value > sign * self.best * (1 + sign * self.threshold)
        return sign * value > sign * self.best + self.threshold

    def step(self, metric) -> None:
        value = float(metric)
        self.last_epoch += 1
        if self._is_better(value):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                new_lr = max(group["lr"] * self.factor, min_lr)
                if group["lr"] - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = self._current_lrs()
