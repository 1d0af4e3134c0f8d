"""Crash consistency: a training process killed (SIGKILL) at random moments while it writes a checkpoint after
every batch. After each kill the checkpoint on disk loads, resumes to exactly the weights of an uninterrupted
run, and the next writer removes the dead one's temp files."""

import os
import shutil
import signal
import subprocess
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
KILLS = 6


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


def _child(folder) -> None:
    print("ready", flush=True)
    train(folder, resume=True)


def _temp_files(folder: Path) -> list:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_kill_9_while_writing_checkpoints_leaves_loadable_files_that_resume_bit_identically(tmp_path):
    reference = train(tmp_path / "reference", resume=False).state_dict()
    folder = tmp_path / "run"
    folder.mkdir()
    rng = np.random.default_rng(2026)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    root = Path(__file__).resolve().parents[1]
    leftovers_seen = 0
    for kill in range(KILLS):
        child = subprocess.Popen([sys.executable, "-c", f"from tests.test_crash_consistency import _child; "
                                  f"_child({str(folder)!r})"], cwd=root, env=env, stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        try:
            child.wait(timeout=float(rng.uniform(0.2, 1.2)))  # imported: let it train and write a while
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        path = folder / "checkpoint.safetensors"
        if not path.exists():
            continue
        checkpoint = load_checkpoint(path)  # whatever moment the kill hit, the file on disk is whole
        temps = _temp_files(folder)
        leftovers_seen += bool(temps)
        copy = tmp_path / f"resume-{kill}"
        shutil.copytree(folder, copy)
        resumed = train(copy, resume=True).state_dict()
        for key, value in reference.items():
            np.testing.assert_array_equal(resumed[key], value, err_msg=f"kill {kill} at epoch "
                                          f"{checkpoint.state['epoch']}, batch {checkpoint.state['batch']}: {key}")
        assert _temp_files(copy) == [], "a dead writer's temp file survived the next start"
    print(f"{leftovers_seen} of {KILLS} kills left a temp file behind")
