"""The training run of tests/test_checkpoint.py's bit-exact resume tests, importable by a fresh
process (``python -m tests.helpers.resume_runs CHECKPOINT OUT`` resumes CHECKPOINT and saves the
final model to OUT) as well as by the tests."""

from __future__ import annotations

import sys

import numpy as np

import glassnet
from glassnet import nn, optim
from glassnet.data import DataLoader, make_spiral


class Jitter:
    """A loader transform with its own generator (as RandomShift has): Gaussian noise."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def __call__(self, x):
        return x + 0.05 * self.rng.standard_normal(x.shape).astype(x.dtype)

    def rng_state(self):  # the rng_state protocol (see glassnet.random)
        return {"rng": self.rng.bit_generator.state}

    def load_rng_state(self, state):
        self.rng.bit_generator.state = state["rng"]


def run_parts():
    """Data, a model with dropout (global generator and its own) and batch norm, a
    loader with a random transform, and how to make the optimizer and schedule."""
    data = make_spiral(40, 3, generator=np.random.default_rng(3))
    val = make_spiral(20, 3, generator=np.random.default_rng(4))

    def model():
        glassnet.seed(11)
        return nn.Sequential(nn.Linear(2, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.3),
                             nn.Linear(32, 32), nn.ReLU(), nn.Dropout(0.2, generator=np.random.default_rng(9)),
                             nn.Linear(32, 3))

    def training(net, loader_seed):
        opt = optim.Adam(net.parameters(), lr=0.01)
        loader = DataLoader(data, batch_size=16, shuffle=True, generator=np.random.default_rng(loader_seed),
                            transform=Jitter(loader_seed))
        return opt, optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7), loader

    return model, training, val


def resume_in_this_process(checkpoint_path: str, out: str) -> None:
    """Resume the checkpoint with parts built afresh (loader seed 0), train to 2 epochs, save the model."""
    from glassnet.io import load_checkpoint
    from glassnet.train import fit
    _, training, val = run_parts()
    checkpoint = load_checkpoint(checkpoint_path)
    net = checkpoint.build_model()
    opt, sched, loader = training(net, 0)
    fit(net, loader, nn.CrossEntropyLoss(), opt, 2, validation_data=val, scheduler=sched, resume=checkpoint,
        verbose=False)
    glassnet.save(net, out)


if __name__ == "__main__":
    resume_in_this_process(sys.argv[1], sys.argv[2])
