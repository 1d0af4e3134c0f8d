"""The training run of tests/test_crash_consistency.py: 4 epochs of 8 batches, a checkpoint written
after every batch. ``python -m tests.helpers.crash_runs FOLDER`` is the child the test kills: it prints
``ready`` once imported, then resumes (or starts) the run in FOLDER."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import glassnet
from glassnet import nn, optim
from glassnet.data import make_spiral
from glassnet.io import load_checkpoint
from glassnet.models.mlp import mlp
from glassnet.train import Callback, fit

EPOCHS = 4


class CheckpointEveryBatch(Callback):
    def __init__(self, path):
        self.path = path

    def on_batch_end(self, trainer, logs):
        trainer.save_checkpoint(self.path)


def train(folder, resume: bool) -> nn.Module:
    """The run: 4 epochs of 8 batches, a checkpoint (~0.6 MB) written after every batch; resumes if asked."""
    path = Path(folder) / "checkpoint.safetensors"
    checkpoint = load_checkpoint(path) if resume and path.exists() else None
    glassnet.seed(3)
    model = checkpoint.build_model() if checkpoint else mlp("2-256-256-3", batch_norm=True, dropout=0.2)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    data = make_spiral(40, 3, generator=np.random.default_rng(0))
    fit(model, data, nn.CrossEntropyLoss(), opt, EPOCHS, batch_size=16, seed=1, resume=checkpoint,
        callbacks=[CheckpointEveryBatch(path)], verbose=False)
    return model


def child(folder) -> None:
    print("ready", flush=True)
    train(folder, resume=True)


if __name__ == "__main__":
    child(sys.argv[1])
