"""Callbacks: code that ``fit`` runs at fixed points of training.

A callback overrides any of ``on_train_begin(trainer)``, ``on_epoch_begin(trainer)``,
``on_batch_end(trainer, logs)`` (logs: ``loss``, ``batch``, ``size``),
``on_epoch_end(trainer, logs)`` (logs: the epoch's History entry),
``on_interrupt(trainer)`` (after Ctrl-C) and ``on_train_end(trainer)``; it
stops training with ``trainer.stop(reason)``. State that must survive a
resume goes in ``state_dict()`` (JSON values and ndarrays) and comes back
through ``load_state_dict`` before ``on_train_begin``.

"Patience" counts epochs without improvement, as in the book ("no improvement
in n epochs"): with ``patience=n`` the action happens at the n-th such epoch.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..io.serialization import save as save_model
from ..optim.lr_scheduler import ReduceLROnPlateau as _PlateauScheduler
from .history import _resolve_mode


class Callback:
    """Base class: every hook does nothing."""

    def on_train_begin(self, trainer) -> None: ...
    def on_epoch_begin(self, trainer) -> None: ...
    def on_batch_end(self, trainer, logs: dict) -> None: ...
    def on_epoch_end(self, trainer, logs: dict) -> None: ...
    def on_interrupt(self, trainer) -> None: ...
    def on_train_end(self, trainer) -> None: ...

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


def _copy_weights(model) -> dict:
    return {k: v.copy() for k, v in model.state_dict().items()}


def non_finite_entry(model) -> str | None:
    """The name of the first floating state-dict entry of ``model`` holding NaN or ±inf, or None."""
    for name, value in model.state_dict().items():
        if value.dtype.kind in "fc" and not np.isfinite(value).all():
            return name
    return None


class _Monitor:
    """The best value of a History key so far, and whether a new one beats it."""

    def __init__(self, monitor: str, mode: str, min_delta: float, owner: str):
        self.monitor, self.mode = monitor, _resolve_mode(monitor, mode)
        self.min_delta, self.owner = abs(min_delta), owner
        self.best, self.best_epoch = None, 0

    def value(self, logs: dict) -> float:
        if self.monitor not in logs:
            raise KeyError(f"{self.owner} monitors {self.monitor!r}, which this run does not record (it records: "
                           f"{', '.join(logs)}); pass validation data to fit, or monitor a training value")
        return logs[self.monitor]

    def improves(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.best is None:
            return True
        if self.mode == "max":
            return value > self.best + self.min_delta
        return value < self.best - self.min_delta

    def describe(self) -> str:
        return f"best {self.monitor} {self.best:.4g} at epoch {self.best_epoch}"

    def state_dict(self) -> dict:
        return {"best": self.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.best_epoch = state["best"], state["best_epoch"]


class NaNGuard(Callback):
    """Stop as soon as the loss becomes NaN or infinite, or the weights do (they
    are checked after the last batch of each epoch, before any callback saves
    them), say what probably went wrong, and put back the last good weights:
    those at the end of the last epoch with a finite loss and finite weights (or
    the weights training started from, which must be finite)."""

    def __init__(self):
        self._good, self._good_when = None, ""
        self.stopped = False  # whether this guard stopped training

    def _keep(self, trainer, when: str) -> None:
        self._good, self._good_when = _copy_weights(trainer.model), when

    def on_train_begin(self, trainer) -> None:
        bad = non_finite_entry(trainer.model)
        if bad is not None:
            raise ValueError(f"fit: the model's {bad!r} holds NaN or infinite values before training starts")
        if trainer.batch:
            self._keep(trainer, f"epoch {trainer.epoch + 1}, batch {trainer.batch} (where this run resumed)")
        elif trainer.epoch:
            self._keep(trainer, f"the end of epoch {trainer.epoch}")
        else:
            self._keep(trainer, "the start of training")

    def on_epoch_end(self, trainer, logs: dict) -> None:
        if math.isfinite(logs["loss"]):
            self._keep(trainer, f"the end of epoch {len(trainer.history)}")

    def on_batch_end(self, trainer, logs: dict) -> None:
        loss = logs["loss"]
        if math.isfinite(loss):
            if trainer.batch == len(trainer.loader):  # the epoch's last step: its weights are about to be kept
                bad = non_finite_entry(trainer.model)
                if bad is not None:
                    trainer.model.load_state_dict(self._good)
                    self.stopped = True
                    trainer.stop(f"the weights became NaN or infinite ({bad!r}) at epoch {trainer.epoch + 1}, "
                                 f"batch {logs['batch']}, while the loss was still finite: learning rate "
                                 f"{trainer.lr:g} is probably too high; kept the last good weights, "
                                 f"from {self._good_when}")
            return
        what = "NaN" if math.isnan(loss) else "infinite"
        x = trainer.last_batch[0].data if trainer.last_batch else None
        if x is not None and x.dtype.kind == "f" and not np.isfinite(x).all():
            cause = "the input batch itself contains NaN or infinite values: check the data and its preprocessing"
        else:
            cause = f"learning rate {trainer.lr:g} is probably too high"
        trainer.model.load_state_dict(self._good)
        self.stopped = True
        trainer.stop(f"loss became {what} at epoch {trainer.epoch + 1}, batch {logs['batch']}: {cause}; "
                     f"kept the last good weights, from {self._good_when}")


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved (by more than ``min_delta``) for
    ``patience`` epochs: the book's "no improvement in n epochs".

    ``mode``: "max", "min" or "auto" (max for accuracies). With
    ``restore_best_weights`` the model ends with the weights of its best epoch.
    """

    def __init__(self, monitor: str = "val_accuracy", patience: int = 10, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = False):
        if patience < 1:
            raise ValueError(f"EarlyStopping: patience must be >= 1, got {patience}")
        self.patience, self.restore_best_weights = int(patience), restore_best_weights
        self._monitor = _Monitor(monitor, mode, min_delta, "EarlyStopping")
        self.wait = 0
        self.best_weights = None

    def on_epoch_end(self, trainer, logs: dict) -> None:
        m = self._monitor
        value = m.value(logs)
        if m.improves(value):
            m.best, m.best_epoch, self.wait = value, len(trainer.history), 0
            if self.restore_best_weights:
                self.best_weights = _copy_weights(trainer.model)
            return
        self.wait += 1
        if self.wait >= self.patience:
            trainer.stop(f"early stopping: no improvement in {m.monitor} for {self.patience} epochs "
                         f"({m.describe()})")

    def on_train_end(self, trainer) -> None:
        if self.restore_best_weights and self.best_weights is not None \
                and self._monitor.best_epoch != len(trainer.history):
            trainer.model.load_state_dict(self.best_weights)
            trainer.say(f"restored the weights of epoch {self._monitor.best_epoch} ({self._monitor.describe()})")

    def state_dict(self) -> dict:
        return {"monitor": self._monitor.state_dict(), "wait": self.wait, "best_weights": self.best_weights}

    def load_state_dict(self, state: dict) -> None:
        self._monitor.load_state_dict(state["monitor"])
        self.wait, self.best_weights = state["wait"], state["best_weights"]


class LRSchedule(Callback):
    """Step a schedule of ``glassnet.optim.lr_scheduler`` (StepLR, CosineAnnealingLR, ...)
    after every epoch, or after every mini-batch for a ``per_batch`` one (OneCycleLR):
    what ``fit(scheduler=...)`` does with it. Its state is saved as the checkpoint's scheduler."""

    def __init__(self, scheduler):
        self.scheduler = scheduler
        self.per_batch = bool(getattr(scheduler, "per_batch", False))

    def on_batch_end(self, trainer, logs: dict) -> None:
        if self.per_batch:
            self.scheduler.step()

    def on_epoch_end(self, trainer, logs: dict) -> None:
        if not self.per_batch:
            self.scheduler.step()


class ReduceLROnPlateau(Callback):
    """Multiply every learning rate by ``factor`` after ``patience`` epochs
    without improvement of ``monitor``, through
    :class:`glassnet.optim.lr_scheduler.ReduceLROnPlateau`.

    ``stop_below``: stop training once every rate has fallen to
    ``stop_below`` × its value when training began. The book's schedule —
    halve η whenever the validation accuracy has not improved for n epochs,
    stop when η reaches 1/128 of its first value — is
    ``ReduceLROnPlateau("val_accuracy", factor=0.5, patience=n, stop_below=1/128)``.

    ``scheduler``: drive this existing ``optim.lr_scheduler.ReduceLROnPlateau``
    (its own mode, factor, patience, ...) instead of making one; this is what
    ``fit(scheduler=ReduceLROnPlateau(opt, ...))`` does, with ``monitor`` the
    validation loss (accuracy for ``mode="max"``), or the training one without
    validation data.
    """

    def __init__(self, monitor: str = "val_accuracy", factor: float = 0.5, patience: int = 10,
                 mode: str = "auto", min_delta: float = 0.0, cooldown: int = 0, min_lr: float = 0.0,
                 stop_below: float | None = None, scheduler: _PlateauScheduler | None = None):
        if scheduler is not None:
            mode, patience = scheduler.mode, scheduler.patience + 1
        if patience < 1:
            raise ValueError(f"ReduceLROnPlateau: patience must be >= 1, got {patience}")
        self._monitor = _Monitor(monitor, mode, min_delta, "ReduceLROnPlateau")
        self.patience = int(patience)
        self.options = dict(mode=self._monitor.mode, factor=factor, patience=patience - 1, threshold=abs(min_delta),
                            threshold_mode="abs", cooldown=cooldown, min_lr=min_lr)
        self.stop_below = stop_below
        self.scheduler, self._given = scheduler, scheduler is not None
        self.initial_lrs = None
        self._saved = None

    def on_train_begin(self, trainer) -> None:
        if not self._given:
            self.scheduler = _PlateauScheduler(trainer.optimizer, **self.options)
        self.initial_lrs = [g["lr"] for g in trainer.optimizer.param_groups]
        if self._saved is not None:
            self.scheduler.load_state_dict(self._saved["scheduler"])
            self.initial_lrs = self._saved["initial_lrs"]

    def on_epoch_end(self, trainer, logs: dict) -> None:
        before = trainer.lr
        self.scheduler.step(self._monitor.value(logs))
        if trainer.lr < before:
            trainer.say(f"no improvement in {self._monitor.monitor} for {self.patience} epochs: "
                        f"learning rate {before:g} -> {trainer.lr:g}")
        if self.stop_below is not None:
            groups = trainer.optimizer.param_groups
            if all(g["lr"] <= self.stop_below * lr0 * (1 + 1e-9) for g, lr0 in zip(groups, self.initial_lrs)):
                trainer.stop(f"learning rate fell to {trainer.lr:g}, {self.stop_below:g} of its initial "
                             f"{self.initial_lrs[0]:g}: stopping")

    def state_dict(self) -> dict:
        return {"scheduler": self.scheduler.state_dict() if self.scheduler else None, "initial_lrs": self.initial_lrs}

    def load_state_dict(self, state: dict) -> None:
        self._saved = state if state.get("scheduler") is not None else None


def schedule_callback(scheduler, validating: bool) -> Callback:
    """The callback that steps ``fit(scheduler=...)`` after each epoch: a plateau
    schedule gets the monitored value (see :class:`ReduceLROnPlateau`), any other
    schedule a plain ``step()`` (see :class:`LRSchedule`)."""
    if isinstance(scheduler, _PlateauScheduler):
        key = "loss" if scheduler.mode == "min" else "accuracy"
        return ReduceLROnPlateau(f"val_{key}" if validating else key, scheduler=scheduler)
    return LRSchedule(scheduler)


class ModelCheckpoint(Callback):
    """Keep the best model and a resumable checkpoint in ``directory``.

    After each epoch: ``best.safetensors`` (``glassnet.save``, loadable with
    ``glassnet.load``) when ``monitor`` improved, and ``checkpoint.safetensors``
    (a training checkpoint, for ``fit(..., resume=...)``). After Ctrl-C the
    checkpoint is written at the exact batch training stopped. Every file is
    written atomically: a crash leaves the previous one intact.
    """

    def __init__(self, directory, monitor: str = "val_accuracy", mode: str = "auto", save_best: bool = True,
                 save_last: bool = True, best_name: str = "best.safetensors",
                 last_name: str = "checkpoint.safetensors", metadata: dict | None = None):
        self.directory = Path(directory)
        self.best_path, self.last_path = self.directory / best_name, self.directory / last_name
        self.save_best, self.save_last = save_best, save_last
        self.metadata = dict(metadata or {})
        self._monitor = _Monitor(monitor, mode, 0.0, "ModelCheckpoint")

    def on_epoch_end(self, trainer, logs: dict) -> None:
        if self.save_best:
            m = self._monitor
            value = m.value(logs)
            if m.improves(value) and non_finite_entry(trainer.model) is None:
                m.best, m.best_epoch = value, len(trainer.history)
                if trainer.is_root:  # data parallel: process 0 writes
                    save_model(trainer.model, self.best_path, epoch=m.best_epoch, **{m.monitor: value}, **self.metadata)
        if self.save_last:
            trainer.save_checkpoint(self.last_path)

    def on_interrupt(self, trainer) -> None:
        if trainer.save_checkpoint(self.last_path):
            trainer.say(f"resumable checkpoint written to {self.last_path}", err=True)

    def state_dict(self) -> dict:
        return self._monitor.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self._monitor.load_state_dict(state)


class MaxNorm(Callback):
    """Kim's (2014) constraint, after every optimizer step: each row w of the
    parameter ``name`` (one output unit's weights, e.g. ``"fc.weight"``) longer
    than ``limit`` is rescaled to ‖w‖₂ = ``limit``."""

    def __init__(self, name: str = "fc.weight", limit: float = 3.0):
        if not limit > 0:
            raise ValueError(f"MaxNorm: limit must be > 0, got {limit!r}")
        self.name, self.limit = name, float(limit)

    def on_batch_end(self, trainer, logs: dict) -> None:
        weight = dict(trainer.model.named_parameters())[self.name].data
        norms = np.linalg.norm(weight, axis=1, keepdims=True)
        weight *= np.minimum(1.0, self.limit / np.maximum(norms, 1e-12)).astype(weight.dtype)
