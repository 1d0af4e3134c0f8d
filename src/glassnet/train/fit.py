"""The training loop: ``history = fit(model, (x, y), loss, optimizer, epochs=10)``.

Each epoch: mini-batches from a shuffling :class:`~glassnet.data.DataLoader`,
for each one forward, loss, ``backward()``, ``optimizer.step()``; then the
validation data in evaluation mode without a graph; then the scheduler and the
callbacks; a progress bar (tqdm, on stderr, only on a terminal) and one summary
line per epoch.

Regularization: the book's convention, used throughout glassnet
----------------------------------------------------------------
With ``n`` training examples (the whole training set, not the mini-batch) and
C₀ the mean loss, ``l2=λ`` and ``l1=λ`` minimise

    C = C₀ + (λ/2n)·Σ_w w²        (L2)        C = C₀ + (λ/n)·Σ_w |w|        (L1)

over the *weights* w: every parameter called ``weight`` with ≥ 2 dimensions
(Linear and Conv kernels; not biases, not batch norm's γ). Their gradients,
(λ/n)·w and (λ/n)·sign(w), are added to the parameters' gradients after
``backward()``, so with SGD at rate η the L2 step is the book's
w ← (1 − ηλ/n)·w − η·∂C₀/∂w. (PyTorch's ``weight_decay=wd`` is λ = wd·n, applied
to biases as well.) Any other penalty: ``penalty=lambda model: ...`` returning a
scalar Tensor that is added to the loss before ``backward()``. The reported
``loss`` is C₀ alone, so training and validation losses compare.

Reproducibility
---------------
All randomness comes from numpy Generators: the loader's shuffling generator,
generators held by modules (``Dropout(generator=...)``) or transforms, and
glassnet's global one. A checkpoint stores all their states, the loader's
position within the epoch and the running sums, so ``fit(..., resume=path)``
continues an interrupted run to bit-identical weights.
"""

from __future__ import annotations

import contextlib
import math
import signal
import sys
import threading
import time
import warnings

import numpy as np
from tqdm.auto import tqdm

from .. import random as grandom
from ..data.loader import DataLoader
from ..distributed.data_parallel import OneProcess
from ..io.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from ..nn.module import Module
from ..optim.lr_scheduler import ReduceLROnPlateau as _PlateauScheduler
from ..tensor import Tensor, no_grad
from .callbacks import Callback, NaNGuard
from .history import History


# ------------------------------------------------------------------ helpers
def _as_loader(data, batch_size: int, shuffle: bool, generator=None) -> DataLoader:
    """A DataLoader as given, or one over an ``(x, y)`` pair of arrays."""
    if isinstance(data, DataLoader):
        return data
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return DataLoader(tuple(data), batch_size=batch_size, shuffle=shuffle, generator=generator)
    raise TypeError(f"expected a DataLoader or an (x, y) pair of arrays, got {type(data).__name__}")


def correct_count(outputs: np.ndarray, targets: np.ndarray) -> int:
    """How many rows are classified right: argmax of ``outputs`` (N, C) against
    integer labels (N,) or the argmax of one-hot/probability rows (N, C); for a
    single output column (N, 1) or (N,), ``output > 0`` (a logit) against 0/1 labels."""
    outputs, targets = np.asarray(outputs), np.asarray(targets)
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        predicted = outputs.argmax(axis=1)
        if targets.ndim == 2:
            targets = targets.argmax(axis=1)
    else:
        predicted = outputs.reshape(len(outputs)) > 0
        targets = targets.reshape(len(targets)) > 0.5
    return int((predicted == targets).sum())


@contextlib.contextmanager
def _evaluation_mode(model):
    """model.eval() and no graph, then every module's flag back as it was."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with no_grad():
            yield
    finally:
        for m, mode in modes:
            object.__setattr__(m, "training", mode)


def predict(model, x, batch_size: int = 1000) -> np.ndarray:
    """The model's outputs for inputs ``x`` (N, ...) as one array, in evaluation
    mode and without a graph, ``batch_size`` examples at a time."""
    x = x.data if isinstance(x, Tensor) else np.asarray(x)
    with _evaluation_mode(model):
        return np.concatenate([model(Tensor(x[i:i + batch_size])).data for i in range(0, len(x), batch_size)])


def evaluate(model, data, loss=None, batch_size: int = 1000, accuracy: bool = True, distributed=None) -> dict:
    """Mean ``loss`` and accuracy of ``model`` on ``data`` ((x, y) arrays or a
    DataLoader), in evaluation mode without a graph: ``{"loss", "accuracy"}``
    (each only when asked for). With ``distributed`` (a
    :class:`~glassnet.distributed.DataParallel`) each process evaluates its
    share of every batch and the sums are combined."""
    distributed = distributed or OneProcess()
    loader = _as_loader(data, batch_size, shuffle=False)
    total_loss, correct, count = 0.0, 0, 0
    with _evaluation_mode(model):
        for xb, yb in loader:
            xb, yb = distributed.local(xb, yb)
            if not len(xb):
                continue
            out = model(xb)
            n = len(xb)
            if loss is not None:
                total_loss += float(loss(out, yb).data) * n
            if accuracy:
                correct += correct_count(out.data, yb.data)
            count += n
    total_loss, correct, count = distributed.sum([total_loss, correct, count], "the evaluation")
    if count == 0:
        raise ValueError("evaluate: the data has no examples")
    result = {}
    if loss is not None:
        result["loss"] = total_loss / count
    if accuracy:
        result["accuracy"] = correct / count
    return result


def _regularized_weights(model) -> list:
    """The parameters the book's L1/L2 terms apply to: trainable weights with ≥ 2 dims."""
    return [p for name, p in model.named_parameters()
            if name.rsplit(".", 1)[-1] == "weight" and p.ndim >= 2 and p.requires_grad]


def _generators_of(obj, prefix: str, depth: int = 3) -> dict:
    """Generators held as attributes of ``obj`` or of plain objects it holds
    (e.g. a transform's RandomShift), by dotted attribute path."""
    found = {}
    for key, value in vars(obj).items():
        if isinstance(value, np.random.Generator):
            found[f"{prefix}.{key}"] = value
        elif depth > 1 and hasattr(value, "__dict__") and not isinstance(value, (type, Module)) \
                and type(value).__module__ != "builtins":
            found.update(_generators_of(value, f"{prefix}.{key}", depth - 1))
    return found


def _format_logs(logs: dict) -> str:
    parts = []
    for key, value in logs.items():
        if key == "time":
            parts.append(f"{value:.1f} s" if value >= 1 else f"{1000 * value:.0f} ms")
        elif key == "lr":
            parts.append(f"lr {value:.4g}")
        elif "accuracy" in key:
            parts.append(f"{key} {100 * value:.2f}%")
        else:
            parts.append(f"{key} {value:.4f}")
    return ", ".join(parts)


# ------------------------------------------------------------------ trainer
class Trainer:
    """The state of one run of :func:`fit`; callbacks receive it.

    Attributes callbacks use: ``model``, ``optimizer``, ``scheduler``,
    ``history``, ``epoch`` (0-based index of the epoch in progress; after an
    epoch ends it already points at the next one), ``batch`` (mini-batches
    completed in the current epoch), ``epochs`` (the total), ``last_batch``
    (the latest (x, y) Tensors), ``stop(reason)`` and :meth:`save_checkpoint`.
    """

    def __init__(self, model, loader: DataLoader, loss, optimizer, epochs: int, val_loader=None,
                 callbacks=(), scheduler=None, l1: float = 0.0, l2: float = 0.0, penalty=None,
                 accuracy: bool = True, verbose: bool = True, metadata: dict | None = None, distributed=None):
        if not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
        if l1 < 0 or l2 < 0:
            raise ValueError(f"fit: l1 and l2 must be >= 0, got l1={l1}, l2={l2}")
        self.model, self.loader, self.loss, self.optimizer = model, loader, loss, optimizer
        self.epochs, self.val_loader, self.scheduler = int(epochs), val_loader, scheduler
        self.l1, self.l2, self.penalty, self.accuracy = float(l1), float(l2), penalty, accuracy
        self.distributed = distributed or OneProcess()  # the data-parallel hooks (glassnet.distributed)
        self.is_root = self.distributed.is_root  # the process that prints and writes files
        self.verbose, self.metadata = verbose and self.is_root, dict(metadata or {})
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"fit: callbacks must be Callback instances, got {type(cb).__name__}")
        self.n_train = len(loader.dataset)
        self.history = History()
        self.epoch = self.batch = 0
        self.stop_training = False
        self.interrupted = False
        self.last_batch = None
        self._interrupt_requested = False  # Ctrl-C on this process
        self._stop_agreed = False  # ... on any process, as of the last step
        self._running = [0.0, 0, 0]  # sum of batch loss × size, correct, examples, this epoch
        self._epoch_time = 0.0  # seconds already spent on this epoch (before a resume)
        self._epoch_start = None  # perf_counter() when the epoch (re)started, while it runs
        self._rng_before_batch = None  # generator states before the batch in progress
        self._weights = _regularized_weights(model) if (l1 or l2) else []
        transform = getattr(loader, "transform", None)
        self._generators = _generators_of(transform, "transform") if hasattr(transform, "__dict__") else {}
        for name, module in model.named_modules():
            self._generators.update(_generators_of(module, f"model.{name}" if name else "model", depth=1))

    # ---------------------------------------------------------------- state
    @property
    def lr(self) -> float:
        """The learning rate of parameter group 0."""
        return float(self.optimizer.param_groups[0]["lr"])

    def stop(self, reason: str) -> None:
        """End training after the current batch, recording ``reason`` in the History."""
        self.stop_training = True
        self.history.stop_reason = reason

    def _rng_states(self) -> dict:
        states = {key: g.bit_generator.state for key, g in self._generators.items()}
        states["global"] = grandom.get_state()
        return states

    def save_checkpoint(self, path) -> None:
        """Write a training checkpoint of the current position (atomically; in
        data-parallel training process 0 writes it, the same on every process)."""
        if not self.is_root:
            return
        loader_state = self.loader.state_dict()
        loader_state["batches_done"] = self.batch  # batches completed, not merely fetched
        if self.batch == 0 and loader_state.get("epoch_start") is not None:
            # nothing of this epoch is kept: draw its permutation again on resume
            loader_state["generator"], loader_state["epoch_start"] = loader_state["epoch_start"], None
        callbacks, arrays = [], {}
        for i, cb in enumerate(self.callbacks):
            state, cb_arrays = _split_arrays(cb.state_dict(), f"callbacks.{i}")
            callbacks.append({"class": type(cb).__name__, "state": state})
            arrays.update(cb_arrays)
        state = {
            "epoch": self.epoch, "batch": self.batch, "epochs": self.epochs,
            "running": self._running, "epoch_time": self._epoch_time_now(),
            "history": self.history.to_dict(), "loader": loader_state,
            "rng": self._rng_before_batch or self._rng_states(),
            "callbacks": callbacks, "regularization": {"l1": self.l1, "l2": self.l2, "n": self.n_train},
        }
        save_checkpoint(path, self.model, self.optimizer, self.scheduler, state, arrays, self.metadata)

    def load_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Continue from ``checkpoint``: weights, optimizer, scheduler, position,
        History, callbacks, loader and every generator's state."""
        state = checkpoint.state
        checkpoint.restore(self.model, self.optimizer, self.scheduler)
        self.epoch, self.batch = int(state["epoch"]), int(state["batch"])
        self._running = list(state["running"])
        self._epoch_time = float(state["epoch_time"])
        self.history = History.from_dict(state["history"])
        self.history.interrupted, self.history.stop_reason = False, None
        saved = list(state["callbacks"])  # the k-th callback of a class gets the k-th saved state of that class
        for cb in self.callbacks:
            name = type(cb).__name__
            match = next((entry for entry in saved if entry["class"] == name), None)
            if match is not None:
                saved.remove(match)
                cb.load_state_dict(_join_arrays(match["state"], checkpoint.arrays))
            elif type(cb).state_dict is not Callback.state_dict:
                warnings.warn(f"resume: {checkpoint.path} has no saved state for callback {name}; "
                              f"it starts afresh", stacklevel=3)
        self.loader.load_state_dict(state["loader"])
        rng = state["rng"]
        grandom.set_state(rng["global"])
        for key, g in self._generators.items():
            if key in rng:
                g.bit_generator.state = rng[key]
            else:
                warnings.warn(f"resume: no saved state for generator {key}", stacklevel=3)

    # ---------------------------------------------------------------- loop
    def _call(self, hook: str, *args) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(self, *args)

    def _epoch_time_now(self) -> float:
        return self._epoch_time if self._epoch_start is None else time.perf_counter() - self._epoch_start

    def run(self) -> History:
        split = self.distributed.begin(
            self.model, self.loader.batch_size, self.n_train, getattr(self.loader, "drop_last", False),
            {"rng": self._rng_states(), "loader": self.loader.state_dict()}, self.verbose)
        if split:
            self.say(split)
        self._call("on_train_begin")
        with _sigint_stops_after_batch(self), self.distributed.errors_stop_all():
            try:
                while self.epoch < self.epochs and not self.stop_training:
                    self._call("on_epoch_begin")
                    self._train_epoch()
                    if self.stop_training or self.interrupted:
                        break
                    self._end_epoch()
                    if self.distributed.any(self._interrupt_requested, "the check for Ctrl-C"):
                        self.interrupted = True
                        break
            except KeyboardInterrupt:
                self.interrupted = True
        if self.interrupted:
            self.history.interrupted = True
            self.history.stop_reason = f"interrupted at epoch {self.epoch + 1}, batch {self.batch}"
            self.say(f"{self.history.stop_reason}: stopping", err=True)
            self._call("on_interrupt")
        elif self.history.stop_reason:
            self.say(self.history.stop_reason, err=True)
        self._call("on_train_end")
        return self.history

    def _train_epoch(self) -> None:
        self.model.train()
        self._epoch_start = time.perf_counter() - self._epoch_time
        bar = tqdm(total=len(self.loader), initial=self.batch, desc=f"epoch {self.epoch + 1}/{self.epochs}",
                   unit="batch", leave=False, file=sys.stderr, dynamic_ncols=True,
                   disable=True if not self.verbose else None)
        try:
            batches = iter(self.loader)
            while True:
                self._rng_before_batch = self._rng_states()
                try:
                    xb, yb = next(batches)
                except StopIteration:
                    self._rng_before_batch = None
                    break
                loss_value = self._step(xb, yb)
                self._rng_before_batch = None
                self.batch += 1
                bar.update()
                if self.batch % 16 == 0 and not bar.disable:
                    bar.set_postfix_str(_format_logs(self._running_logs()), refresh=False)
                self._call("on_batch_end", {"loss": loss_value, "batch": self.batch, "size": len(xb)})
                if self._stop_agreed or (self._interrupt_requested and self.distributed.size == 1):
                    self.interrupted = True  # (several processes act together, on the step's agreed flag)
                if self.stop_training or self.interrupted:
                    return
        finally:
            self._epoch_time = time.perf_counter() - self._epoch_start
            self._epoch_start = None
            bar.close()

    def _step(self, xb, yb) -> float:
        """One mini-batch: forward, loss, backward, regularization, optimizer step
        (data parallel: forward and backward on this process's rows, then the
        gradients, loss, correct count and Ctrl-C of every process summed)."""
        self.last_batch = (xb, yb)
        with self.distributed.step(xb, yb, f"epoch {self.epoch + 1}, batch {self.batch + 1}") as (x_local, y_local):
            out = self.model(x_local)
            loss = self.loss(out, y_local)
            total = loss if self.penalty is None else loss + self.penalty(self.model)
            self.optimizer.zero_grad()
            total.backward(self.distributed.loss_gradient(total))
            correct = correct_count(out.data, y_local.data) if self.accuracy else 0
            value, correct, self._stop_agreed = self.distributed.reduce(
                self.model.parameters(), float(loss.data), correct, self._interrupt_requested)
        if self._weights:
            scale1, scale2 = self.l1 / self.n_train, self.l2 / self.n_train
            for w in self._weights:
                if w.grad is None:
                    continue
                if scale2:
                    w.grad += scale2 * w.data
                if scale1:
                    w.grad += scale1 * np.sign(w.data)
        self.optimizer.step()
        if getattr(self.scheduler, "per_batch", False):  # OneCycleLR: one step per mini-batch
            self.scheduler.step()
        n = len(xb)
        self._running[0] += value * n
        self._running[1] += correct
        self._running[2] += n
        return value

    def _running_logs(self) -> dict:
        total, correct, count = self._running
        logs = {"loss": total / count if count else math.nan}
        if self.accuracy:
            logs["accuracy"] = correct / count if count else math.nan
        return logs

    def _end_epoch(self) -> None:
        logs = self._running_logs()
        self.distributed.end_epoch(self.model)
        if self.val_loader is not None:
            val = evaluate(self.model, self.val_loader, self.loss, accuracy=self.accuracy,
                           distributed=self.distributed)
            logs.update({f"val_{k}": v for k, v in val.items()})
        logs["lr"] = self.lr
        logs["time"] = self._epoch_time
        self.history.append(**logs)
        self._step_scheduler(logs)
        self.epoch, self.batch = self.epoch + 1, 0
        self._running, self._epoch_time = [0.0, 0, 0], 0.0
        self.say(f"epoch {len(self.history)}/{self.epochs}: {_format_logs(logs)}")
        self._call("on_epoch_end", logs)

    def _step_scheduler(self, logs: dict) -> None:
        if self.scheduler is None or getattr(self.scheduler, "per_batch", False):
            return
        if isinstance(self.scheduler, _PlateauScheduler):
            key = "loss" if self.scheduler.mode == "min" else "accuracy"
            self.scheduler.step(logs.get(f"val_{key}", logs.get(key)))
        else:
            self.scheduler.step()

    def say(self, line: str, err: bool = False) -> None:
        """Print ``line`` (to stderr with ``err``) unless quiet."""
        if self.verbose:
            print(line, file=sys.stderr if err else sys.stdout, flush=True)


@contextlib.contextmanager
def _sigint_stops_after_batch(trainer: Trainer):
    """While training, the first Ctrl-C asks the loop to stop after the current
    mini-batch (a clean, resumable point); a second one raises KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if trainer._interrupt_requested:
            raise KeyboardInterrupt
        trainer._interrupt_requested = True
        if trainer.verbose:
            print("\nCtrl-C: stopping after this batch (press again to abort at once)", file=sys.stderr, flush=True)

    signals = trainer.distributed.stop_signals  # data parallel: also mpirun's SIGTERM, Slurm's SIGUSR1
    previous = {s: signal.signal(s, handler) for s in signals}
    try:
        yield
    finally:
        for s, handler_before in previous.items():
            signal.signal(s, handler_before if handler_before is not None else signal.default_int_handler)


def _split_arrays(obj, prefix: str):
    """(JSON-able copy of ``obj`` with each ndarray replaced by ``{"$array": name}``, {name: array})."""
    arrays = {}

    def walk(value, path):
        if isinstance(value, np.ndarray):
            arrays[path] = value
            return {"$array": path}
        if isinstance(value, dict):
            return {k: walk(v, f"{path}.{k}") for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v, f"{path}.{i}") for i, v in enumerate(value)]
        return value

    return walk(obj, prefix), arrays


def _join_arrays(obj, arrays: dict):
    """Undo :func:`_split_arrays`."""
    if isinstance(obj, dict):
        if set(obj) == {"$array"}:
            return np.array(arrays[obj["$array"]])
        return {k: _join_arrays(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_join_arrays(v, arrays) for v in obj]
    return obj


# ---------------------------------------------------------------------- fit
def fit(model, train_data, loss, optimizer, epochs: int, validation_data=None, callbacks=(),
        batch_size: int = 32, scheduler=None, l1: float = 0.0, l2: float = 0.0, penalty=None,
        shuffle: bool = True, generator: np.random.Generator | None = None, seed: int | None = None,
        accuracy: bool = True, verbose: bool = True, nan_guard: bool = True, resume=None,
        metadata: dict | None = None, distributed=None) -> History:
    """Train ``model`` and return its :class:`History`.

    Args:
        train_data: a DataLoader, or an ``(x, y)`` pair of arrays (then batched
            by ``batch_size``, shuffled each epoch without replacement).
        loss: ``loss(outputs, targets) -> scalar Tensor`` (e.g. ``nn.CrossEntropyLoss()``).
        optimizer: a ``glassnet.optim`` optimizer over the model's parameters.
        epochs: the total number of epochs (a resumed run continues up to it).
        validation_data: ``(x, y)`` arrays or a DataLoader, evaluated after each epoch.
        callbacks: :mod:`glassnet.train.callbacks` instances (early stopping,
            checkpoints, η schedules…). A :class:`NaNGuard` is added unless one
            is given or ``nan_guard=False``.
        scheduler: a ``glassnet.optim.lr_scheduler`` schedule, stepped after each
            epoch (``ReduceLROnPlateau`` with the validation loss, or accuracy for
            ``mode="max"``; the training one without validation data), or after
            each optimizer step for a ``per_batch`` schedule (OneCycleLR).
        l1, l2, penalty: regularization, with the book's λ/n convention (see the
            module docstring).
        generator, seed: the shuffling generator for array data (``seed`` makes
            a fresh one); default: glassnet's global generator.
        accuracy: also measure classification accuracy (see :func:`correct_count`).
        verbose: progress bar and one summary line per epoch; False is quiet.
        resume: a checkpoint path (or loaded :class:`~glassnet.io.Checkpoint`) to
            continue from; the model, optimizer and scheduler must be built as
            for the original run (``checkpoint.build_model()`` rebuilds the model).
        metadata: JSON-able description of the run, stored in checkpoints.
        distributed: data-parallel training over the processes ``mpirun`` started:
            True (MPI_COMM_WORLD) or a :class:`glassnet.distributed.DataParallel`.
            ``train_data`` and ``batch_size`` are the global ones; every process
            passes the same; the weights equal one process's up to float32
            summation order (see :mod:`glassnet.distributed`).

    Ctrl-C stops after the current mini-batch, lets the callbacks write a
    resumable checkpoint (see ``ModelCheckpoint``) and returns the History
    with ``interrupted=True``.
    """
    if seed is not None:
        if generator is not None:
            raise ValueError("fit: pass either generator or seed, not both")
        generator = np.random.default_rng(seed)
    loader = _as_loader(train_data, batch_size, shuffle, generator)
    val_loader = None if validation_data is None else _as_loader(validation_data, 1000, shuffle=False)
    callbacks = list(callbacks)
    if nan_guard and not any(isinstance(cb, NaNGuard) for cb in callbacks):
        callbacks.append(NaNGuard())
    if distributed is True:
        from ..distributed import DataParallel
        distributed = DataParallel()
    trainer = Trainer(model, loader, loss, optimizer, epochs, val_loader, callbacks, scheduler, l1, l2,
                      penalty, accuracy, verbose, metadata, distributed or None)
    if resume is not None:
        trainer.load_checkpoint(resume if isinstance(resume, Checkpoint) else load_checkpoint(resume))
    return trainer.run()
