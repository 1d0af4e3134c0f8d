"""Data-parallel training on MPI: K processes give the one-process result.

The MPI tests start ``mpirun --oversubscribe -n K python -m tests.helpers.distributed_runs``
(see that module for the runs) and compare what process 0 wrote with the same
run in this process. Each mpirun is started once per test session, also under
pytest-xdist (a file lock shares its results between workers). They are
skipped, with the reason, only where Open MPI or mpi4py is missing.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn
from glassnet import random as grandom
from glassnet.distributed import DataParallel, launched_size, shard_bounds, split_sizes
from glassnet.io import load_checkpoint
from tests.helpers.distributed_runs import At, layer_case, train

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-5  # float32 summation order after 3 epochs: ~2e-7 measured; a wrong weighting of the shards ~1e-2


def _mpi_missing() -> str | None:
    if shutil.which("mpirun") is None:
        return "Open MPI's mpirun is not installed (Debian: apt-get install openmpi-bin libopenmpi-dev)"
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return "mpi4py is not installed (pip install 'glassnet[mpi]')"
    return None


needs_mpi = pytest.mark.skipif(_mpi_missing() is not None, reason=_mpi_missing() or "")


def mpirun(k: int, out: Path, *runs: str, timeout_s: float | None = None, check: bool = True):
    """``mpirun -n k python -m tests.helpers.distributed_runs out runs...``; the CompletedProcess."""
    command = ["mpirun", "--oversubscribe", "-n", str(k)]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-run-as-root")
    command += [sys.executable, "-m", "tests.helpers.distributed_runs", str(out), *runs]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    if timeout_s is not None:
        env["GLASSNET_MPI_TIMEOUT"] = str(timeout_s)
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=240)
    if check and done.returncode != 0:
        raise AssertionError(f"mpirun -n {k} failed (exit {done.returncode}):\n{done.stdout[-2000:]}\n"
                             f"{done.stderr[-4000:]}")
    return done


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory, worker_id):
    """A folder every xdist worker of this session sees, and a lock on it."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


def _once(shared: Path, name: str, make):
    """Run ``make(folder)`` once per session (under a file lock); the folder."""
    from filelock import FileLock
    folder = shared / f"mpi-{name}"
    with FileLock(str(folder) + ".lock"):
        if not (folder / "done").exists():
            folder.mkdir(exist_ok=True)
            make(folder)
            (folder / "done").write_text("")
    return folder


@pytest.fixture(scope="session")
def two(shared_dir):
    """The runs on 2 processes (one mpirun)."""
    return _once(shared_dir, "two", lambda out: mpirun(
        2, out, "plain", "plain-again", "dropout", "syncbn", "batchnorm", "checkpoint", "interrupt", "nan", "layer"))


@pytest.fixture(scope="session")
def one_process_checkpoint(shared_dir):
    """A one-process run's checkpoint, epoch 2 batch 2, and its final weights."""
    def make(out):
        model, _ = train("plain", callbacks=[At(2, 2, lambda t: t.save_checkpoint(out / "checkpoint.safetensors"))])
        np.savez(out / "final.npz", **model.state_dict())
    return _once(shared_dir, "one", make)


@pytest.fixture(scope="session")
def three(shared_dir, one_process_checkpoint):
    """The runs on 3 processes (one mpirun), one of them resuming the one-process checkpoint."""
    return _once(shared_dir, "three", lambda out: mpirun(
        3, out, "plain", f"resume:{one_process_checkpoint / 'checkpoint.safetensors'}"))


def _weights(folder: Path, name: str) -> dict:
    with np.load(folder / f"{name}.npz") as f:
        return dict(f)


def _seen(folder: Path, name: str, k: int) -> list:
    return [json.loads((folder / f"{name}.rank{r}.json").read_text()) for r in range(k)]


def _max_difference(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float(np.abs(np.asarray(a[k], np.float64) - b[k]).max()) for k in a)


def _reference(kind: str) -> dict:
    model, _ = train(kind)
    return {k: v.copy() for k, v in model.state_dict().items()}


# --------------------------------------------------------------- no MPI needed
def test_split_is_as_even_as_possible():
    assert split_sizes(25, 2) == [13, 12] and split_sizes(10, 3) == [4, 3, 3] and split_sizes(64, 4) == [16] * 4
    for n, k in [(25, 2), (10, 3), (7, 7), (100, 6)]:
        bounds = [shard_bounds(n, k, r) for r in range(k)]
        assert bounds[0][0] == 0 and bounds[-1][1] == n
        assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
        assert [stop - start for start, stop in bounds] == split_sizes(n, k)


def test_per_example_draws_are_those_of_the_global_batch():
    """Each shard's dropout mask, RReLU slopes and channel-dropout mask are its rows of the one-process draw,
    and every shard leaves the generator where one process leaves it."""
    x = gn.Tensor(np.ones((10, 4, 3, 3), dtype=np.float32))
    layers = lambda g: [nn.Dropout(0.5, generator=g), nn.Dropout2d(0.5, generator=g), nn.RReLU()]
    for layer_index in range(3):
        gn.seed(4)
        whole_layer = layers(np.random.default_rng(2))[layer_index]
        whole = whole_layer(-x).data
        end_state = (grandom.get_state(), getattr(whole_layer, "generator", None) and
                     whole_layer.generator.bit_generator.state)
        for k in (2, 3):
            parts = []
            for r in range(k):
                gn.seed(4)
                layer = layers(np.random.default_rng(2))[layer_index]
                start, stop = shard_bounds(10, k, r)
                with grandom.batch_shard(10, start, stop):
                    parts.append(layer(-gn.Tensor(x.data[start:stop])).data)
                assert (grandom.get_state(), getattr(layer, "generator", None) and
                        layer.generator.bit_generator.state) == end_state
            np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_one_process_never_imports_mpi():
    code = ("import sys, numpy as np, glassnet as gn\n"
            "from glassnet import nn, optim\nfrom glassnet.train import fit\n"
            "m = nn.Sequential(nn.Linear(2, 3), nn.SyncBatchNorm(3), nn.Linear(3, 2))\n"
            "fit(m, (np.ones((8, 2), np.float32), np.zeros(8, np.int64)), gn.functional.cross_entropy,\n"
            "    optim.SGD(m.parameters(), lr=0.1), 1, batch_size=4, verbose=False)\n"
            "import glassnet.cli.train\n"
            "assert 'mpi4py' not in sys.modules, 'mpi4py was imported'\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_", "PMI", "PMIX"))}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]


def test_launcher_environment():
    assert launched_size({}) == 1
    assert launched_size({"OMPI_COMM_WORLD_SIZE": "4"}) == 4
    assert launched_size({"PMI_SIZE": "2"}) == 2
    assert launched_size({"PMIX_RANK": "0"}) is None  # launched, size unknown: ask MPI


def test_sync_batch_norm_in_one_process_is_batch_norm():
    x = gn.Tensor(np.random.default_rng(0).standard_normal((6, 3, 2, 2)))
    plain, sync = nn.BatchNorm2d(3, dtype=np.float64), nn.SyncBatchNorm(3, dtype=np.float64)
    np.testing.assert_array_equal(plain(x).data, sync(x).data)
    np.testing.assert_array_equal(plain.running_var, sync.running_var)
    with pytest.raises(ValueError, match=r"SyncBatchNorm.*\(N, 3, \*\)"):
        sync(gn.Tensor(np.ones((6, 4))))


def test_convert_sync_batchnorm_keeps_parameters_and_statistics():
    model = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.Sequential(nn.BatchNorm1d(5, momentum=None)))
    model[1].running_mean[:] = 3.0
    params = list(model.parameters())
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert converted is model and isinstance(model[1], nn.SyncBatchNorm) and isinstance(model[2][0], nn.SyncBatchNorm)
    assert all(a is b for a, b in zip(params, model.parameters()))  # an optimizer made before still trains them
    assert model[2][0].momentum is None and float(model[1].running_mean[0]) == 3.0
    rebuilt = gn.io.architecture.from_config(gn.io.architecture.to_config(model))
    assert isinstance(rebuilt[1], nn.SyncBatchNorm)


class _FakeWorld:
    def __init__(self, size: int):
        self.rank, self.size = 0, size


def test_an_uneven_split_is_said():
    assert DataParallel(world=_FakeWorld(2)).describe_split(25) == (
        "data parallel over 2 processes (MPI): global batch 25 = 13 + 12 "
        "(25 is not divisible by 2: split as evenly as possible)")
    assert DataParallel(world=_FakeWorld(4)).describe_split(64).endswith("global batch 64 = 4 × 16")


def test_data_parallel_needs_a_batch_for_every_process():
    dp = DataParallel(world=_FakeWorld(4))
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="a mini-batch of 3 examples leaves some process without any"):
        dp.begin(model, 3, 100, False, {}, True)
    with pytest.raises(ValueError, match=r"2 examples \(the last of each epoch\).*or drop_last"):
        dp.begin(model, 8, 98, False, {}, True)


# ------------------------------------------------------------------ under MPI
@needs_mpi
def test_two_processes_give_the_weights_of_one(two):
    """No dropout, no batch norm; batch 25 = 13 + 12, SGD with momentum, L2, validation data."""
    reference = _reference("plain")
    assert _max_difference(reference, _weights(two, "plain")) < TOLERANCE
    _, history = train("plain")
    seen = _seen(two, "plain", 2)
    np.testing.assert_allclose(seen[0]["losses"], history["loss"], rtol=1e-5)
    assert seen[0]["weights"] == seen[1]["weights"]  # every process holds the same weights, bit for bit


@needs_mpi
def test_dropout_masks_are_drawn_per_global_batch(two):
    assert _max_difference(_reference("dropout"), _weights(two, "dropout")) < TOLERANCE


@needs_mpi
def test_sync_batch_norm_trains_like_one_process_batch_norm(two):
    assert _max_difference(_reference("syncbn-reference"), _weights(two, "syncbn")) < TOLERANCE


@needs_mpi
def test_sync_batch_norm_layer_forward_and_backward(two):
    """float64: the shards' outputs and input gradients are the one-process layer's, to rounding."""
    x, g, layer = layer_case()
    reference = nn.BatchNorm2d(3, dtype=np.float64)
    reference.load_state_dict(layer.state_dict())
    xt = gn.Tensor(x, requires_grad=True)
    y = reference(xt)
    (y * gn.Tensor(g)).sum().backward()
    parts = [np.load(two / f"layer.rank{r}.npz") for r in range(2)]
    np.testing.assert_allclose(np.concatenate([p["y"] for p in parts]), y.data, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.concatenate([p["dx"] for p in parts]), xt.grad, rtol=0, atol=1e-12)
    expected = np.concatenate([reference.weight.grad, reference.bias.grad])
    for p in parts:
        np.testing.assert_allclose(p["dgamma_dbeta"], expected, rtol=1e-12)
        np.testing.assert_allclose(p["running_var"], reference.running_var, rtol=1e-12)  # unbiased, m = 160
        np.testing.assert_allclose(p["running_mean"], reference.running_mean, atol=1e-12)


@needs_mpi
def test_per_process_batch_norm_keeps_every_process_alike(two):
    """Plain BatchNorm normalises each process's rows alone (so it differs from one process), but the
    running statistics are process 0's everywhere after each epoch and the weights stay equal."""
    seen = _seen(two, "batchnorm", 2)
    assert seen[0]["buffers"] == seen[1]["buffers"] and seen[0]["weights"] == seen[1]["weights"]
    assert _max_difference(_reference("batchnorm"), _weights(two, "batchnorm")) > 1e-3


@needs_mpi
def test_same_seed_and_processes_same_run_bit_for_bit(two, three):
    a, b = _weights(two, "plain"), _weights(two, "plain-again")
    assert all(np.array_equal(a[k], b[k]) for k in a)
    c = _weights(three, "plain")  # 3 processes: 9 + 8 + 8, the last batch 4 + 3 + 3
    assert _max_difference(_reference("plain"), c) < TOLERANCE
    assert not all(np.array_equal(a[k], c[k]) for k in a)  # another K sums in another order


@needs_mpi
def test_resume_with_another_number_of_processes(two, three, one_process_checkpoint):
    # written by 2 processes at epoch 2, batch 2; resumed by one
    model, _ = train("plain", resume=str(two / "checkpoint.safetensors"))
    assert _max_difference(_weights(two, "checkpoint"), model.state_dict()) < TOLERANCE
    # written by one process; resumed by 3
    assert _max_difference(_weights(one_process_checkpoint, "final"), _weights(three, "resume")) < TOLERANCE


@needs_mpi
def test_stop_signal_on_one_process_stops_every_process(two):
    """SIGTERM (what mpirun sends on Ctrl-C) reaches process 1 only: both stop after the same batch,
    process 0 writes a checkpoint, and one process resumes it to the uninterrupted weights."""
    seen = _seen(two, "interrupt", 2)
    assert seen[0]["interrupted"] and seen[1]["interrupted"]
    assert seen[0]["stop_reason"] == seen[1]["stop_reason"] == "interrupted at epoch 2, batch 4"
    checkpoint = load_checkpoint(two / "interrupted" / "checkpoint.safetensors")
    assert (checkpoint.state["epoch"], checkpoint.state["batch"]) == (1, 4)
    model, history = train("plain", resume=checkpoint)
    assert not history.interrupted and len(history) == 3
    assert _max_difference(_reference("plain"), model.state_dict()) < TOLERANCE


@needs_mpi
def test_nan_on_one_process_stops_every_process(two):
    seen = _seen(two, "nan", 2)
    assert seen[0]["stop_reason"] == seen[1]["stop_reason"]
    assert seen[0]["stop_reason"].startswith("loss became NaN at epoch 1, batch 2: the input batch itself")
    assert seen[0]["weights"] == seen[1]["weights"]
    assert all(np.isfinite(w).all() for w in _weights(two, "nan").values())  # the last good weights


@needs_mpi
def test_a_process_that_hangs_times_out_and_stops_all(tmp_path):
    started = time.perf_counter()
    done = mpirun(2, tmp_path, "hang", timeout_s=2, check=False)
    assert done.returncode != 0
    assert "no answer from the other processes for 2 s in the gradient Allreduce of epoch 2, batch 2" in done.stderr
    assert time.perf_counter() - started < 60
    checkpoint = load_checkpoint(tmp_path / "hang" / "checkpoint.safetensors")  # the end of epoch 1
    assert (checkpoint.state["epoch"], checkpoint.state["batch"]) == (1, 0)


@needs_mpi
def test_a_process_that_dies_stops_all_and_the_checkpoint_resumes(tmp_path):
    done = mpirun(2, tmp_path, "die", check=False)
    assert done.returncode != 0 and "exited with non-zero status" in done.stderr
    model, history = train("plain", resume=str(tmp_path / "die" / "checkpoint.safetensors"))
    assert len(history) == 3
    assert _max_difference(_reference("plain"), model.state_dict()) < TOLERANCE


@needs_mpi
def test_mpirun_glassnet_train(tmp_path):
    """`mpirun -n 2 glassnet train` just works: process 0 alone prints and writes the report, and with dropout
    and --sync-batch-norm the model is the one-process one."""
    options = ["train", "--dataset", "spiral", "--epochs", "2", "--sync-batch-norm", "--batch-size", "50",
               "--quiet", "--val", "0"]
    command = ["mpirun", "--oversubscribe", "-n", "2"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
    command += [sys.executable, "-m", "glassnet.cli.main", *options, "--out", str(tmp_path / "two")]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=240,
                          env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("test accuracy") == 1  # process 0 alone prints
    from glassnet.cli.main import main
    assert main([*options, "--out", str(tmp_path / "one")]) == 0
    one, two = (gn.load(tmp_path / name / "model.safetensors") for name in ("one", "two"))
    assert _max_difference(one.state_dict(), two.state_dict()) < TOLERANCE
    run = json.loads((tmp_path / "two" / "run.json").read_text())
    assert run["results"]["processes"] == 2
