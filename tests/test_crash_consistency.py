"""Crash consistency: a training process killed (SIGKILL) at random moments while it writes a checkpoint after
every batch (the run is in tests/helpers/crash_runs.py, which the child process runs). After each kill the
checkpoint on disk loads, resumes to exactly the weights of an uninterrupted run, and the next writer removes
the dead one's temp files."""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from glassnet.io import load_checkpoint
from tests.helpers.crash_runs import train

KILLS = 6


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
        child = subprocess.Popen([sys.executable, "-m", "tests.helpers.crash_runs", str(folder)], cwd=root, env=env,
                                 stdout=subprocess.PIPE, text=True)
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
