"""BLAS threads and the allocator: nothing changes at import; glassnet.threads(),
set_num_threads and fit apply them."""

import json
import os
import subprocess
import sys

import pytest

import glassnet as gn
from glassnet import backend

needs_two = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs 2 CPUs to set 2 BLAS threads")
THREAD_VARIABLES = ("GLASSNET_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def run_python(code: str, **env) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES + ("GLASSNET_TUNE_MALLOC",)}
    return subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True,
                          check=True).stdout


IMPORT_CHECK = """
import json, sys
import numpy
from threadpoolctl import threadpool_info
seen = []
sys.addaudithook(lambda event, args: seen.append(args[1]) if event == "ctypes.dlsym" else None)
before = [lib["num_threads"] for lib in threadpool_info()]
import glassnet, glassnet.nn, glassnet.functional, glassnet.train, glassnet.models, glassnet.cli.main
after = [lib["num_threads"] for lib in threadpool_info()]
print(json.dumps({"before": before, "after": after, "symbols": [str(s) for s in seen]}))
"""


@pytest.mark.parametrize("env", [{}, {"GLASSNET_NUM_THREADS": "1"}], ids=["plain", "GLASSNET_NUM_THREADS=1"])
def test_import_changes_neither_threads_nor_malloc(env):
    """Importing glassnet (and its subpackages) leaves every thread pool as it
    was and never looks up mallopt (the audit hook sees each ctypes symbol lookup)."""
    out = json.loads(run_python(IMPORT_CHECK, **env))
    assert out["before"] == out["after"], out
    assert "mallopt" not in out["symbols"], out


def test_tune_allocator_looks_up_mallopt_when_called():
    """The audit hook of the import test does see mallopt when the allocator is tuned."""
    out = run_python("import sys; seen = []\n"
                     "sys.addaudithook(lambda e, a: seen.append(str(a[1])) if e == 'ctypes.dlsym' else None)\n"
                     "import glassnet; glassnet.tune_allocator_once(); print('mallopt' in seen)")
    assert out.strip() == "True"


@needs_two
def test_set_and_get_num_threads():
    before = gn.get_num_threads()
    try:
        gn.set_num_threads(2)
        assert gn.get_num_threads() == 2
        assert backend.default_num_threads() == 2  # an explicit choice wins
        gn.set_num_threads(1)
        assert gn.get_num_threads() == 1
    finally:
        gn.set_num_threads(before)
        backend._chosen_threads = None
    with pytest.raises(ValueError, match="set_num_threads: expected a positive integer, got 0"):
        gn.set_num_threads(0)


@needs_two
def test_threads_context_sets_and_restores():
    before = gn.get_num_threads()
    other = 1 if before != 1 else 2
    with gn.threads(other) as n:
        assert n == other and gn.get_num_threads() == other
    assert gn.get_num_threads() == before
    with pytest.raises(ValueError, match="threads: expected a positive integer, got 0"):
        with gn.threads(0):
            pass


@pytest.mark.parametrize("env,expected", [({"GLASSNET_NUM_THREADS": "3"}, 3), ({"OMP_NUM_THREADS": "2"}, None)])
def test_default_num_threads_policy(env, expected):
    """GLASSNET_NUM_THREADS decides; a BLAS variable leaves the BLAS as configured (None)."""
    out = run_python("from glassnet import backend; print(backend.default_num_threads())", **env)
    assert out.strip() == str(expected)


def test_default_without_settings_counts_idle_cores(monkeypatch):
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(backend, "idle_cores", lambda interval=0.1: 0.3)
    assert backend.default_num_threads() == 1  # every core busy: one thread, never zero
    monkeypatch.setattr(backend, "idle_cores", lambda interval=0.1: 1.8)
    assert backend.default_num_threads() == 2


def test_idle_cores_is_between_zero_and_the_cores_we_may_use():
    idle = backend.idle_cores(0.05)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert 0 <= idle <= cores + 1e-9


@needs_two
def test_fit_trains_inside_its_thread_setting_and_restores_it():
    """fit runs with glassnet.threads() (here GLASSNET_NUM_THREADS=1) and puts the BLAS back."""
    code = """
import numpy as np, glassnet as gn
from glassnet import nn, optim
from glassnet.train import Callback, fit
gn.set_num_threads(2); gn.backend._chosen_threads = None  # a user's setting before fit
seen = []
class Watch(Callback):
    def on_epoch_end(self, trainer, *args, **kwargs):
        seen.append(gn.get_num_threads())
rng = np.random.default_rng(0)
x, y = rng.standard_normal((40, 3)).astype(np.float32), rng.integers(0, 2, 40)
model = nn.Linear(3, 2)
fit(model, (x, y), nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), 1, batch_size=10,
    callbacks=[Watch()], verbose=False)
print(seen[0], gn.get_num_threads())
"""
    assert run_python(code, GLASSNET_NUM_THREADS="1").split() == ["1", "2"]


@needs_two
def test_an_enclosing_threads_block_decides_for_fit_inside_it():
    with gn.threads(2):
        with gn.threads() as inner:  # what fit does
            assert inner == 2 and gn.get_num_threads() == 2
