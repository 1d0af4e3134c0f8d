"""Training runs for tests/test_distributed.py, the same in one process and under mpirun.

    mpirun -n K python -m tests.helpers.distributed_runs OUT RUN[:ARG] ...

runs each RUN on every process with ``fit(..., distributed=True)``; process 0
writes ``OUT/RUN.npz`` (the final state_dict and the History's losses) and
every process ``OUT/RUN.rank<r>.json`` (what it saw: stop reason, batches,
a digest of its buffers). The tests call :func:`train` in one process for the
reference of each run.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np

import glassnet as gn
from glassnet import nn, optim
from glassnet.functional import cross_entropy
from glassnet.train import Callback, ModelCheckpoint, fit

N, FEATURES, CLASSES, BATCH = 110, 12, 3, 25  # 25 over 2 processes: 13 + 12; the last batch of 10: 5 + 5


def data(seed: int = 5):
    """(x, y) training and validation arrays: 3 Gaussian blobs in 12 dimensions."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, CLASSES, N + 40)
    centers = rng.standard_normal((CLASSES, FEATURES)).astype(np.float32)
    x = (centers[y] + rng.standard_normal((N + 40, FEATURES))).astype(np.float32)
    return (x[:N], y[:N]), (x[N:], y[N:])


def build(kind: str):
    """The model of run ``kind``, from seed 1 (its own dropout generator seeded too)."""
    gn.seed(1)
    layers = {
        "plain": lambda: [nn.Linear(FEATURES, 16), nn.ReLU(), nn.Linear(16, CLASSES)],
        "dropout": lambda: [nn.Linear(FEATURES, 16), nn.RReLU(), nn.Dropout(0.3, generator=np.random.default_rng(9)),
                            nn.Linear(16, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, CLASSES)],
        "batchnorm": lambda: [nn.Linear(FEATURES, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, CLASSES)],
        "syncbn": lambda: [nn.Linear(FEATURES, 16), nn.SyncBatchNorm(16), nn.ReLU(), nn.Linear(16, CLASSES)],
    }[kind]
    return nn.Sequential(*layers())


class At(Callback):
    """Calls ``action(trainer)`` after batch ``batch`` of epoch ``epoch`` (1-based), on process ``rank``."""

    def __init__(self, epoch: int, batch: int, action, rank: int | None = None):
        self.epoch, self.batch, self.action, self.rank = epoch, batch, action, rank

    def on_batch_end(self, trainer, logs):
        if (trainer.epoch + 1, trainer.batch) == (self.epoch, self.batch) and \
                self.rank in (None, trainer.distributed.rank):
            self.action(trainer)


def train(kind: str = "plain", distributed=None, epochs: int = 3, resume=None, callbacks=(), x=None):
    """One run: SGD with momentum, L2, validation data, global batch 25, seed 3."""
    (x_train, y_train), validation = data()
    if x is not None:
        x_train = x
    model = build("batchnorm" if kind == "syncbn-reference" else kind)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    history = fit(model, (x_train, y_train), cross_entropy, opt, epochs, validation_data=validation,
                  callbacks=list(callbacks), batch_size=BATCH, seed=3, l2=0.5, verbose=False,
                  distributed=distributed, resume=resume)
    return model, history


def _digest(arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def layer_case():
    """Input (10, 3, 4, 4), upstream gradient and a float64 SyncBatchNorm (γ, β not 1, 0) for the layer check."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((10, 3, 4, 4)) * 3 + 1
    g = rng.standard_normal((10, 3, 4, 4))
    layer = nn.SyncBatchNorm(3, dtype=np.float64)
    layer.weight.data[:] = [1.0, 2.0, 0.5]
    layer.bias.data[:] = [0.0, 1.0, 2.0]
    return x, g, layer


def run_layer(out: Path, rank: int) -> None:
    """This process's rows of one SyncBatchNorm forward and backward, and the summed dγ, dβ."""
    from glassnet.distributed import DataParallel
    data_parallel = DataParallel()
    x, g, layer = layer_case()
    with data_parallel.step(gn.Tensor(x), gn.Tensor(g)) as (x_local, g_local):
        x_local = gn.Tensor(x_local.data, requires_grad=True)
        y = layer(x_local)
        (y * g_local).sum().backward()
    grads = data_parallel.sum(np.concatenate([layer.weight.grad, layer.bias.grad]), "test")
    np.savez(out / f"layer.rank{rank}.npz", y=y.data, dx=x_local.grad, dgamma_dbeta=grads,
             running_mean=layer.running_mean, running_var=layer.running_var)


def run(name: str, arg: str | None, out: Path, rank: int) -> None:
    if name == "layer":
        return run_layer(out, rank)
    kind = name if name in ("plain", "dropout", "batchnorm", "syncbn") else "plain"
    callbacks, x = [], None
    if name == "checkpoint":  # a mid-epoch checkpoint, for a resume with another number of processes
        callbacks = [At(2, 2, lambda t: t.save_checkpoint(out / "checkpoint.safetensors"))]
    elif name == "interrupt":  # mpirun's SIGTERM reaches process 1 only: every process stops after that batch
        callbacks = [ModelCheckpoint(out / "interrupted", monitor="val_loss"),
                     At(2, 3, lambda t: os.kill(os.getpid(), signal.SIGTERM), rank=1)]
    elif name == "nan":  # a NaN input in process 1's rows of one batch: the guard stops every process there
        (x, _), _ = data()
        x = x.copy()
        x[np.random.default_rng(3).permutation(N)[BATCH + 20]] = np.nan  # epoch 1, batch 2, row 20 (process 1)
    elif name == "hang":  # process 1 stops answering: the others give up after GLASSNET_MPI_TIMEOUT
        callbacks = [ModelCheckpoint(out / "hang", monitor="val_loss"), At(2, 1, lambda t: time.sleep(600), rank=1)]
    elif name == "die":  # process 1 dies in epoch 2: mpirun stops the others; epoch 1's checkpoint remains
        callbacks = [ModelCheckpoint(out / "die", monitor="val_loss"), At(2, 1, lambda t: os._exit(3), rank=1)]
    model, history = train(kind, distributed=True, resume=arg, callbacks=callbacks, x=x)
    state = model.state_dict()
    seen = {"stop_reason": history.stop_reason, "interrupted": history.interrupted, "epochs": len(history),
            "losses": list(history["loss"]) if len(history) else [],
            "buffers": _digest(b for _, b in model.named_buffers()), "weights": _digest(state.values())}
    (out / f"{name}.rank{rank}.json").write_text(json.dumps(seen))
    if rank == 0:
        np.savez(out / f"{name}.npz", **state)


def main(argv) -> int:
    out = Path(argv[0])
    from mpi4py import MPI
    rank = MPI.COMM_WORLD.Get_rank()
    for item in argv[1:]:
        name, _, arg = item.partition(":")
        run(name, arg or None, out, rank)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
