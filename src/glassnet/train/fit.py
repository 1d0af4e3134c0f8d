"""The training loop: ``history = fit(model, (x, y), loss, optimizer, epochs=10)``.

Each epoch: mini-batches from a shuffling :class:`~glassnet.data.DataLoader`,
for each one forward, loss, ``backward()``, ``optimizer.step()``; then the
validation data in evaluation mode without a graph; then the scheduler and the
callbacks; a progress bar (tqdm, on stderr, only on a terminal) and one summary
line per epoch.

Regularization: ``l2=λ``, ``l1=λ`` or ``penalty=`` (penalty objects, or a
callable ``model -> Tensor`` added to the loss), in the book's λ/n convention:
see :mod:`glassnet.train.penalties`. The reported ``loss`` is C₀ alone.

Reproducibility
---------------
All randomness comes from numpy Generators: the loader's shuffling generator,
generators held by modules (``Dropout(generator=...)``) or transforms, and
glassnet's global one. What owns a generator says so through the rng_state
protocol (``rng_state()`` / ``load_rng_state()``, see :mod:`glassnet.random`):
the model (``Module.own_generators``) and the loader (its transform). A
checkpoint stores all their states, the loader's position within the epoch
and the running sums, so ``fit(..., resume=path)`` continues an interrupted run
to bit-identical weights. A generator that nothing declares (an attribute of a
transform or module that does not implement the protocol) is reported with a
warning when training starts.
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

from .. import backend
from .. import random as grandom
from ..data.loader import DataLoader
from ..distributed.data_parallel import OneProcess
from ..io.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from ..io.serialization import tensors_sha256
from ..nn.module import training_mode
from ..nn.normalization import BatchNorm1d
from ..random import undeclared_generators
from ..tensor import Tensor, no_grad
from .callbacks import Callback, NaNGuard, non_finite_entry, schedule_callback
from .history import History
from .penalties import L1, L2, as_penalties


# ------------------------------------------------------------------ helpers
def _as_loader(data, batch_size: int, shuffle: bool, generator=None) -> DataLoader:
    """A DataLoader as given, or one over an ``(x, y)`` pair of arrays."""
    if isinstance(data, DataLoader):
        return data
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return DataLoader(tuple(data), batch_size=batch_size, shuffle=shuffle, generator=generator)
    raise TypeError(f"expected a DataLoader or an (x, y) pair of arrays, got {type(data).__name__}")


def _no_last_batch_of_one(model, loader) -> None:
    """BatchNorm1d cannot normalize a mini-batch of one example: rather than fail
    at the end of the first epoch, drop such a last batch (``drop_last``, as
    PyTorch's DataLoader does), with a warning."""
    n, b = len(loader.dataset), loader.batch_size
    if n == 0:
        raise ValueError("fit: the training data has no examples")
    if getattr(loader, "drop_last", True) or n % b != 1 or n == 1:
        return
    if any(isinstance(m, BatchNorm1d) for m in model.modules()):
        loader.drop_last = True
        warnings.warn(f"fit: {n} examples in batches of {b} leave a last batch of 1 example, which batch norm "
                      f"cannot normalize: it is dropped every epoch (drop_last=True), so each epoch trains on "
                      f"{n - 1} examples (a different one left out each epoch when shuffled)", stacklevel=3)


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
    """model in evaluation mode and no graph, then every module's flag back as it was."""
    with training_mode(model, False), no_grad():
        yield


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


def _warn_undeclared_generators(model, loader) -> None:
    """Warn about generators a checkpoint would miss (see the module docstring)."""
    missed = [f"model.{name}.{attr}" if name else f"model.{attr}" for name, m in model.named_modules()
              for attr in undeclared_generators(m, m.own_generators().values())]
    transform = getattr(loader, "transform", None)
    if transform is not None and not hasattr(transform, "rng_state"):
        missed += [f"transform.{attr}" for attr in undeclared_generators(transform)]
    if missed:
        warnings.warn(f"fit: {', '.join(missed)} hold numpy Generators that no rng_state() declares, so a "
                      f"checkpoint cannot save them and a resumed run will differ; declare them (a module: "
                      f"override own_generators(); a transform: define rng_state() and load_rng_state())",
                      stacklevel=4)


def _data_identity(loader) -> dict:
    """What a resumed run must share with the saved one: the batch size and the
    training data (its size, and the SHA-256 of its arrays when they are arrays)."""
    arrays = getattr(loader.dataset, "arrays", None)
    digest = tensors_sha256({str(i): a for i, a in enumerate(arrays)}) if isinstance(arrays, tuple) else None
    return {"batch_size": loader.batch_size, "examples": len(loader.dataset), "data_sha256": digest}


def _check_same_run(saved: dict, now: dict, path) -> None:
    """Refuse a resume with another batch size or other data; warn about another BLAS thread count."""
    if saved.get("batch_size") != now["batch_size"]:
        raise ValueError(f"resume: {path} was trained with batch size {saved.get('batch_size')}, this run has "
                         f"{now['batch_size']}: resume with the same batch size, or start a new run from its "
                         f"weights (load_checkpoint(path).build_model())")
    if saved.get("examples") != now["examples"] or None not in (saved.get("data_sha256"), now["data_sha256"]) \
            and saved["data_sha256"] != now["data_sha256"]:
        raise ValueError(f"resume: the training data differs from the run saved in {path}: "
                         f"{saved.get('examples')} examples (SHA-256 {str(saved.get('data_sha256'))[:12]}) then, "
                         f"{now['examples']} (SHA-256 {str(now['data_sha256'])[:12]}) now")
    if saved.get("blas_threads") not in (None, now["blas_threads"]):
        warnings.warn(f"resume: {path} was written with {saved['blas_threads']} BLAS threads, this run has "
                      f"{now['blas_threads']}: it continues, but sums may round differently, so not bit for bit "
                      f"as an uninterrupted run (set the same count with glassnet.set_num_threads)", stacklevel=4)


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
        self.model, self.loader, self.loss, self.optimizer = model, loader, loss, optimizer
        self.epochs, self.val_loader, self.scheduler = int(epochs), val_loader, scheduler
        self.penalties, self.accuracy = as_penalties(l1, l2, penalty), accuracy
        self.distributed = distributed or OneProcess()  # the data-parallel hooks (glassnet.distributed)
        self.is_root = self.distributed.is_root  # the process that prints and writes files
        self.verbose, self.metadata = verbose and self.is_root, dict(metadata or {})
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"fit: callbacks must be Callback instances, got {type(cb).__name__}")
        if scheduler is not None:  # stepped first after each epoch, before the other callbacks
            self.callbacks.insert(0, schedule_callback(scheduler, validating=val_loader is not None))
        self.n_train = len(loader.dataset)
        for p in self.penalties:
            p.bind(model, self.n_train)
        self.history = History()
        self.epoch = self.batch = 0
        self.stop_training = False
        self.interrupted = False
        self.last_batch = None
        self._interrupt_requested = False  # Ctrl-C on this process
        # where a second Ctrl-C (KeyboardInterrupt at any point) can land: "between" batches (a clean
        # point), in a batch's "forward" part (only buffers such as batch norm's running statistics
        # changed: they are put back, and the checkpoint resumes from the start of that batch), or in an
        # "update" (the optimizer step or an epoch's bookkeeping, half done: no checkpoint is written)
        self._phase = "between"
        self._buffers_before = {}
        self._stop_agreed = False  # ... on any process, as of the last step
        self._running = [0.0, 0, 0]  # sum of batch loss × size, correct, examples, this epoch
        self._epoch_time = 0.0  # seconds already spent on this epoch (before a resume)
        self._epoch_start = None  # perf_counter() when the epoch (re)started, while it runs
        self._rng_before_batch = None  # generator states before the batch in progress
        _warn_undeclared_generators(model, loader)
        self._identity = None  # _data_identity(loader), computed when a checkpoint is first written or read

    # ---------------------------------------------------------------- state
    @property
    def lr(self) -> float:
        """The learning rate of parameter group 0."""
        return float(self.optimizer.param_groups[0]["lr"])

    def _penalty_weight(self, kind) -> float:
        return sum(p.lam for p in self.penalties if type(p) is kind)

    @property
    def l1(self) -> float:
        """λ of the L1 penalties (0 without)."""
        return self._penalty_weight(L1)

    @property
    def l2(self) -> float:
        """λ of the L2 penalties (0 without)."""
        return self._penalty_weight(L2)

    def stop(self, reason: str) -> None:
        """End training after the current batch, recording ``reason`` in the History."""
        self.stop_training = True
        self.history.stop_reason = reason

    def _run_identity(self) -> dict:
        if self._identity is None:
            self._identity = _data_identity(self.loader)
        return self._identity

    def _rng_states(self) -> dict:
        """Every generator's state: the model's and the loader's (rng_state protocol), and the global one."""
        states = {f"model.{key}": value for key, value in self.model.rng_state().items()}
        states.update(self.loader.rng_state())
        states["global"] = grandom.get_state()
        return states

    def save_checkpoint(self, path) -> bool:
        """Write a training checkpoint of the current position (atomically; in
        data-parallel training process 0 writes it, the same on every process);
        returns whether it was written. Nothing is written in the middle of a
        batch (after a second Ctrl-C: the weights would belong to another batch
        than the recorded position) or when a weight is NaN or infinite: the
        previous checkpoint stays."""
        if not self.is_root:
            return False
        if self._phase != "between":
            self.say(f"aborted in the middle of an update at epoch {self.epoch + 1}, batch {self.batch + 1}: no "
                     f"checkpoint written to {path} (the last one written, if any, is kept)", err=True)
            return False
        bad = non_finite_entry(self.model)
        if bad is not None:
            self.say(f"the model's {bad!r} is NaN or infinite: no checkpoint written to {path} "
                     f"(the last one written, if any, is kept)", err=True)
            return False
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
            "run": dict(self._run_identity(), blas_threads=backend.get_num_threads()),
        }
        save_checkpoint(path, self.model, self.optimizer, self.scheduler, state, arrays, self.metadata)
        return True

    def load_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Continue from ``checkpoint``: weights, optimizer, scheduler, position,
        History, callbacks, loader and every generator's state."""
        state = checkpoint.state
        if isinstance(state.get("run"), dict):
            _check_same_run(state["run"], dict(self._run_identity(), blas_threads=backend.get_num_threads()),
                            checkpoint.path)
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
        for key in self._rng_states().keys() - rng.keys():
            warnings.warn(f"resume: no saved state for generator {key}", stacklevel=3)
        grandom.set_state(rng["global"])
        self.model.load_rng_state({k[len("model."):]: v for k, v in rng.items() if k.startswith("model.")})
        self.loader.load_rng_state(rng)

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
                if self._phase == "forward":  # nothing but buffers changed: back to the start of the batch
                    self.model.load_state_dict(self._buffers_before, strict=False)
                    self._phase = "between"
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
                self._buffers_before = {k: np.array(v) for k, v in self.model.named_buffers()}
                self._phase = "forward"
                self._rng_before_batch = self._rng_states()
                try:
                    xb, yb = next(batches)
                except StopIteration:
                    self._rng_before_batch = None
                    self._phase = "between"
                    break
                loss_value = self._step(xb, yb)
                self._rng_before_batch = None
                self.batch += 1
                self._phase = "between"
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
        with self.distributed.step(xb, yb, (self.epoch, self.batch)) as (x_local, y_local):
            out = self.model(x_local)
            loss = total = self.loss(out, y_local)
            for penalty in self.penalties:
                term = penalty.loss_term(self.model)
                if term is not None:
                    total = total + term
            self.optimizer.zero_grad()
            total.backward(self.distributed.loss_gradient(total))
            correct = correct_count(out.data, y_local.data) if self.accuracy else 0
            value, correct, self._stop_agreed = self.distributed.reduce(
                self.model.parameters(), float(loss.data), correct, self._interrupt_requested)
        self._phase = "update"  # from here on the weights and the optimizer's state change
        for penalty in self.penalties:  # closed-form gradients, after the gradients are summed
            penalty.add_gradients()
        self.optimizer.step()
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
        self._phase = "update"
        self.history.append(**logs)
        self.epoch, self.batch = self.epoch + 1, 0
        self._running, self._epoch_time = [0.0, 0, 0], 0.0
        self._phase = "between"
        self.say(f"epoch {len(self.history)}/{self.epochs}: {_format_logs(logs)}")
        self._call("on_epoch_end", logs)

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
            print("\nCtrl-C: stopping after this batch (press again to abort at once, without a checkpoint)",
                  file=sys.stderr, flush=True)

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
            epoch by a callback put first (``ReduceLROnPlateau`` with the validation
            loss, or accuracy for ``mode="max"``; the training one without
            validation data; after each optimizer step for a ``per_batch`` schedule
            such as OneCycleLR: see :func:`~glassnet.train.callbacks.schedule_callback`).
        l1, l2, penalty: regularization with the book's λ/n convention: ``l1=λ``
            and ``l2=λ`` are ``L1(λ)`` and ``L2(λ)``; ``penalty``: a
            :class:`~glassnet.train.penalties.Penalty`, a callable
            ``model -> scalar Tensor`` added to the loss, or a list of them.
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

    Speed settings: the run uses :func:`glassnet.threads` (BLAS threads: the
    idle cores, or ``set_num_threads`` / ``GLASSNET_NUM_THREADS``; the previous
    setting is put back when fit returns) and tunes glibc's malloc once per
    process (:func:`glassnet.tune_allocator`; ``GLASSNET_TUNE_MALLOC=0`` skips it).
    """
    if seed is not None:
        if generator is not None:
            raise ValueError("fit: pass either generator or seed, not both")
        generator = np.random.default_rng(seed)
    loader = _as_loader(train_data, batch_size, shuffle, generator)
    _no_last_batch_of_one(model, loader)
    val_loader = None if validation_data is None else _as_loader(validation_data, 1000, shuffle=False)
    callbacks = list(callbacks)
    if nan_guard and not any(isinstance(cb, NaNGuard) for cb in callbacks):
        callbacks.append(NaNGuard())
    if distributed is True:
        from ..distributed import DataParallel
        distributed = DataParallel()
    trainer = Trainer(model, loader, loss, optimizer, epochs, val_loader, callbacks, scheduler, l1, l2,
                      penalty, accuracy, verbose, metadata, distributed or None)
    backend.tune_allocator_once()
    with backend.threads():  # the BLAS threads of this run, put back afterwards
        if resume is not None:  # inside: the resume check compares the thread count this run uses
            trainer.load_checkpoint(resume if isinstance(resume, Checkpoint) else load_checkpoint(resume))
        return trainer.run()
