"""Learning-rate schedules, as in ``torch.optim.lr_scheduler``.

Call ``scheduler.step()`` once per epoch, after the epoch's optimizer steps
(``ReduceLROnPlateau.step(metric)`` takes the epoch's validation metric), or
once per mini-batch for the schedules with ``per_batch = True`` (OneCycleLR;
``glassnet.train.fit`` steps those after every optimizer step). Each
schedule writes the new rate into every parameter group's ``"lr"`` and keeps
per-group ``base_lrs`` (the rates at construction, also stored as
``group["initial_lr"]``). Like PyTorch's, the schedules are *chainable*: each
step multiplies the group's current rate by a factor, so two schedules, or a
manual change of ``group["lr"]``, compose. ``state_dict()`` is plain JSON.
"""

from __future__ import annotations

import bisect
import math
import types

from .optimizer import Optimizer


class _Scheduler:
    """What every schedule shares: the optimizer, the last rates, and saving."""

    optimizer: Optimizer
    per_batch = False  # True: step after every mini-batch, not every epoch

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
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """Advance ``last_epoch`` by one; starting (epoch 0), set the epoch-0 rates."""
        self.last_epoch += 1
        if self.last_epoch == 0:
            self._set_lrs(self.start_lrs())
        self._last_lr = self._current_lrs()

    def restart(self) -> None:
        """Start over at epoch 0 from ``base_lrs`` (what SequentialLR does at a milestone)."""
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = base
        self.last_epoch = -1
        self._initial_step()

    def start_lrs(self) -> list:
        """The rates at epoch 0, from the current ones (most schedules leave them)."""
        return self._current_lrs()

    def get_lr(self) -> list:
        """The rates for epoch ``self.last_epoch`` (≥ 1), from the current ones."""
        raise NotImplementedError

    def _set_lrs(self, lrs: list) -> None:
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr

    def step(self) -> None:
        self.last_epoch += 1
        self._set_lrs(self.get_lr())
        self._last_lr = self._current_lrs()


def _per_group(scheduler: _Scheduler, name: str, value) -> list:
    """One value per parameter group: a list of that length, or one value repeated."""
    groups = len(scheduler.optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != groups:
            raise ValueError(f"{type(scheduler).__name__}: {len(value)} values of {name} "
                             f"for {groups} parameter groups")
        return list(value)
    return [value] * groups


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


class MultiStepLR(LRScheduler):
    """η ← γ·η at each milestone epoch: η_t = η₀·γ^(number of milestones ≤ t)
    (a milestone listed twice multiplies by γ²)."""

    def __init__(self, optimizer: Optimizer, milestones, gamma: float = 0.1, last_epoch: int = -1):
        milestones = sorted(milestones)
        if not all(isinstance(m, int) and m >= 0 for m in milestones):
            raise ValueError(f"MultiStepLR: milestones must be non-negative integers, got {milestones}")
        self.milestones, self.gamma = milestones, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        factor = self.gamma ** self.milestones.count(self.last_epoch)
        return [lr * factor for lr in self._current_lrs()]


class LambdaLR(LRScheduler):
    """η_t = η₀·f(t) for a function f of the epoch (one per parameter group, or one for all).

    ``state_dict()`` leaves plain functions out (a lambda cannot be saved):
    build the schedule with the same functions, then load the state.
    """

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1):
        self._check_optimizer(optimizer)
        self.lr_lambdas = _per_group(self, "lr_lambda", lr_lambda)
        if not all(callable(f) for f in self.lr_lambdas):
            raise TypeError(f"LambdaLR: lr_lambda must be callable, got {lr_lambda!r}")
        super().__init__(optimizer, last_epoch)

    def start_lrs(self) -> list:
        return self.get_lr()

    def get_lr(self) -> list:
        return [base * f(self.last_epoch) for f, base in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self) -> dict:
        state = {k: v for k, v in super().state_dict().items() if k != "lr_lambdas"}
        state["lr_lambdas"] = [None if isinstance(f, types.FunctionType) else dict(vars(f))
                               for f in self.lr_lambdas]
        return state

    def load_state_dict(self, state: dict) -> None:
        state = dict(state)
        for f, saved in zip(self.lr_lambdas, state.pop("lr_lambdas")):
            if saved is not None:
                vars(f).update(saved)
        super().load_state_dict(state)


class LinearLR(LRScheduler):
    """Linear warm-up (or decay) of the factor on η₀: from ``start_factor`` at
    epoch 0 to ``end_factor`` at ``total_iters``, then constant:
    η_t = η₀·(s + (e − s)·min(t, T)/T).

    Applied as PyTorch does, by the ratio of consecutive factors,
    η_t = η_{t−1}·(1 + (e − s)/(T·s + (t − 1)·(e − s))).
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1):
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1], got {start_factor}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: end_factor must be in [0, 1], got {end_factor}")
        if not isinstance(total_iters, int) or total_iters < 1:
            raise ValueError(f"LinearLR: total_iters must be a positive integer, got {total_iters!r}")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def start_lrs(self) -> list:
        return [lr * self.start_factor for lr in self._current_lrs()]

    def get_lr(self) -> list:
        if self.last_epoch > self.total_iters:
            return self._current_lrs()
        change = self.end_factor - self.start_factor
        factor = 1.0 + change / (self.total_iters * self.start_factor + (self.last_epoch - 1) * change)
        return [lr * factor for lr in self._current_lrs()]


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR (Loshchilov & Hutter): η_t = η_min + (η₀ − η_min)·(1 + cos(π·T_cur/T_i))/2,
    where T_cur counts the epochs since the last restart; a restart (back to η₀)
    comes when T_cur reaches T_i, and then T_i ← T_mult·T_i (first T_i = T_0).
    """

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1):
        if not isinstance(T_0, int) or T_0 < 1:
            raise ValueError(f"CosineAnnealingWarmRestarts: T_0 must be a positive integer, got {T_0!r}")
        if not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"CosineAnnealingWarmRestarts: T_mult must be an integer >= 1, got {T_mult!r}")
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur = last_epoch + 1  # the epoch the scheduler starts at, then within its cycle
        while self.T_cur >= self.T_i:
            self.T_cur -= self.T_i
            self.T_i *= self.T_mult
        super().__init__(optimizer, last_epoch)

    def restart(self) -> None:
        self.T_i, self.T_cur = self.T_0, 0
        super().restart()

    def start_lrs(self) -> list:
        return self.get_lr()

    def get_lr(self) -> list:
        low, cycle = self.eta_min, (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
        return [low + (base - low) * cycle for base in self.base_lrs]

    def step(self) -> None:
        self.T_cur += 1
        if self.T_cur >= self.T_i:
            self.T_cur -= self.T_i
            self.T_i *= self.T_mult
        super().step()


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, "Super-Convergence", 2017), stepped after
    every mini-batch: η rises from η_max/div_factor to ``max_lr`` over the first
    ``pct_start`` of ``total_steps``, then anneals to η_max/(div_factor·final_div_factor)
    at the last step (``three_phase``: back down to the start over as many steps,
    then to the minimum). Each phase interpolates with
    cos: end + (start − end)·(1 + cos(π·p))/2, or linear: start + (end − start)·p,
    where p ∈ [0, 1] is the fraction of the phase done. With ``cycle_momentum``
    the momentum (Adam's β₁) moves the other way, between ``max_momentum`` and
    ``base_momentum``. Not chainable: it sets the rates outright.

    ``total_steps``, or ``epochs`` and ``steps_per_epoch`` (total = their product).
    """

    per_batch = True

    def __init__(self, optimizer: Optimizer, max_lr, total_steps: int | None = None, epochs: int | None = None,
                 steps_per_epoch: int | None = None, pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum=0.85, max_momentum=0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False, last_epoch: int = -1):
        self._check_optimizer(optimizer)
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("OneCycleLR: give total_steps, or epochs and steps_per_epoch")
            for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
                if not isinstance(value, int) or value < 1:
                    raise ValueError(f"OneCycleLR: {name} must be a positive integer, got {value!r}")
            total_steps = epochs * steps_per_epoch
        if not isinstance(total_steps, int) or total_steps < 1:
            raise ValueError(f"OneCycleLR: total_steps must be a positive integer, got {total_steps!r}")
        if not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: pct_start must be in [0, 1], got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self.total_steps, self.anneal_strategy = total_steps, anneal_strategy
        rise = float(pct_start * total_steps) - 1
        if three_phase:  # (last step of the phase, start rate, end rate, start momentum, end momentum)
            self.phases = [(rise, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                           (float(2 * pct_start * total_steps) - 2, "max_lr", "initial_lr",
                            "base_momentum", "max_momentum"),
                           (total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            self.phases = [(rise, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                           (total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(f"OneCycleLR: cycle_momentum needs an optimizer with momentum or betas; "
                                 f"{type(optimizer).__name__} has neither (pass cycle_momentum=False)")
            self.use_beta1 = "betas" in optimizer.defaults
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, _per_group(self, "max_lr", max_lr)):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
            if cycle_momentum:
                for group, high, low in zip(optimizer.param_groups, _per_group(self, "max_momentum", max_momentum),
                                            _per_group(self, "base_momentum", base_momentum)):
                    group["max_momentum"], group["base_momentum"] = high, low
                    self._set_momentum(group, high)
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group: dict, value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start: float, end: float, fraction: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * fraction) + 1)
        return (end - start) * fraction + start

    def start_lrs(self) -> list:
        return self.get_lr()

    def get_lr(self) -> list:
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {t} times, but total_steps is {self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            phase_start = 0.0
            for i, (phase_end, lr0, lr1, m0, m1) in enumerate(self.phases):
                if t <= phase_end or i == len(self.phases) - 1:
                    fraction = (t - phase_start) / (phase_end - phase_start)
                    lrs.append(self._anneal(group[lr0], group[lr1], fraction))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(group[m0], group[m1], fraction))
                    break
                phase_start = phase_end
        return lrs


class SequentialLR(LRScheduler):
    """Run ``schedulers[0]`` until epoch ``milestones[0]``, then restart
    ``schedulers[1]`` from the base rates, and so on (warm-up, then decay:
    ``SequentialLR(opt, [LinearLR(opt, 0.1, total_iters=5), CosineAnnealingLR(opt, 95)], [5])``).
    """

    def __init__(self, optimizer: Optimizer, schedulers: list, milestones: list, last_epoch: int = -1):
        self._check_optimizer(optimizer)
        if not schedulers:
            raise ValueError("SequentialLR: give at least one scheduler")
        for i, scheduler in enumerate(schedulers):
            if not isinstance(scheduler, LRScheduler) or isinstance(scheduler, SequentialLR):
                raise TypeError(f"SequentialLR: scheduler {i} must be an epoch schedule (not ReduceLROnPlateau "
                                f"or SequentialLR), got {type(scheduler).__name__}")
            if scheduler.optimizer is not optimizer:
                raise ValueError(f"SequentialLR: scheduler {i} ({type(scheduler).__name__}) "
                                 f"belongs to another optimizer")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR: {len(schedulers)} schedulers need {len(schedulers) - 1} milestones, "
                             f"got {len(milestones)}")
        self.schedulers, self.milestones = list(schedulers), list(milestones)
        self.per_batch = any(s.per_batch for s in self.schedulers)
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch + 1
        self._current().restart()
        self._last_lr = self._current_lrs()

    def _current(self) -> LRScheduler:
        return self.schedulers[bisect.bisect_right(self.milestones, self.last_epoch)]

    def step(self) -> None:
        self.last_epoch += 1
        if self.last_epoch in self.milestones:
            self._current().restart()
        else:
            self._current().step()
        self._last_lr = self._current_lrs()

    def state_dict(self) -> dict:
        state = {k: v for k, v in super().state_dict().items() if k != "schedulers"}
        state["schedulers"] = [s.state_dict() for s in self.schedulers]
        return state

    def load_state_dict(self, state: dict) -> None:
        state = dict(state)
        for scheduler, saved in zip(self.schedulers, state.pop("schedulers")):
            scheduler.load_state_dict(saved)
        super().load_state_dict(state)


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
