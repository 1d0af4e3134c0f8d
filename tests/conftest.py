"""Shared test fixtures.

Tests that compare with PyTorch take the ``torch`` fixture; tests that read the
project's shared data (real MNIST 10k test files, rt-polarity) take the
``shared_data`` fixture. Without torch or the data these tests skip, saying why
(``pytest -rs`` lists the reasons); with ``GLASSNET_TEST_STRICT=1`` (set by
``.ci/run``) such a skip is a failure instead, so CI cannot pass by skipping the
oracles. torch is a test-only dependency, never imported by glassnet itself.

The shared data folder is ``$GLASSNET_SHARED_DATA`` (``bootstrap.py test`` sets it).
Unset, it is ``shared/data`` beside the repository's main checkout (a git worktree
counts as the checkout it belongs to).
"""

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import glassnet
from glassnet.data import datasets

# One BLAS thread for every fit in the suite (and the child processes it starts), unless set: the default
# follows the cores idle at that moment, which changes with the load between two runs of a bit-identity
# test, and another thread count sums in another order (test_threads.py tests the default itself).
os.environ.setdefault("GLASSNET_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
STRICT = os.environ.get("GLASSNET_TEST_STRICT") == "1"


def _main_checkout() -> Path:
    try:
        common = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--path-format=absolute", "--git-common-dir"],
                                capture_output=True, text=True, timeout=30, check=True).stdout.strip()
        return Path(common).parent
    except (OSError, subprocess.SubprocessError):
        return ROOT


SHARED_DATA = Path(os.environ.get("GLASSNET_SHARED_DATA") or _main_checkout().parent / "shared" / "data")


def missing(reason: str):
    """Skip the calling test for ``reason``; a failure under GLASSNET_TEST_STRICT=1."""
    if STRICT:
        pytest.fail(f"{reason} (GLASSNET_TEST_STRICT=1 forbids skipping it)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data_root() -> Path:
    """The root of the shared data ($GLASSNET_SHARED_DATA, else ``shared/data`` beside the main checkout)."""
    return SHARED_DATA


@pytest.fixture(scope="session")
def shared_data():
    """``shared_data("mnist")``: that folder of the shared data, or a skip naming where it was looked for."""
    def folder(name: str) -> Path:
        path = SHARED_DATA / name
        if not path.is_dir() or not any(path.iterdir()):
            missing(f"shared data {name!r} not found at {path} (set GLASSNET_SHARED_DATA)")
        return path
    return folder


@pytest.fixture(scope="session")
def mnist(shared_data):
    """The real MNIST 10k test files (``shared_data("mnist")``)."""
    return shared_data("mnist")


@pytest.fixture(scope="session")
def fashion_mnist_dir():
    """The system copy of Fashion-MNIST (Debian's dataset-fashion-mnist), or a skip."""
    path = Path(datasets.SYSTEM_DIR) / "fashion-mnist"
    if not (path / "train-images-idx3-ubyte.gz").is_file():
        missing(f"Fashion-MNIST is not installed at {path} (apt-get install dataset-fashion-mnist)")
    return path


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No $GLASSNET_DATA, the cache under tmp_path/cache, an empty system folder; returns tmp_path."""
    monkeypatch.delenv("GLASSNET_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "system").mkdir()
    monkeypatch.setattr(datasets, "SYSTEM_DIR", str(tmp_path / "system"))
    monkeypatch.setattr(datasets, "_verified", set())
    return tmp_path


@pytest.fixture(scope="session")
def torch():
    """The torch module, for oracle tests (skipped without it, failed under GLASSNET_TEST_STRICT=1)."""
    try:
        import torch
    except ImportError:
        missing("PyTorch is not installed: the oracle test against it cannot run")
    return torch


@pytest.fixture
def rng():
    """A fresh generator per test, so tests do not depend on their order."""
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _reseed():
    glassnet.seed(0)
    yield


def _to_numpy(x) -> np.ndarray:
    """An ndarray from a glassnet Tensor, a torch tensor or an array."""
    return x.detach().numpy() if hasattr(x, "detach") else np.asarray(x)


def _assert_close(actual, expected, rtol=1e-5, atol=1e-6, what="value"):
    a, e = _to_numpy(actual), _to_numpy(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=what)


@pytest.fixture(scope="session")
def assert_close():
    """``assert_close(actual, expected, rtol, atol, what)``: compare glassnet Tensors,
    torch tensors or ndarrays (shapes first), with a message."""
    return _assert_close


@pytest.fixture(scope="session")
def compare_with_torch():
    """``compare_with_torch(torch, ours, theirs, arrays, rtol, atol, seed, what)``: run ``ours``
    on glassnet tensors and ``theirs`` on torch tensors made from the same (float32)
    ``arrays``; compare the outputs and the gradients of Σ out ⊙ R (R a fixed random
    array) for every floating input. Returns (our output, torch output)."""
    def compare(torch, ours, theirs, arrays, rtol=1e-5, atol=1e-6, seed=0, what="op"):
        ours_in = [glassnet.Tensor(a.copy(), requires_grad=a.dtype.kind == "f") for a in arrays]
        torch_in = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
        out, expected = ours(*ours_in), theirs(*torch_in)
        _assert_close(out, expected, rtol, atol, what=f"{what}: forward")
        r = np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)
        (out * glassnet.Tensor(r)).sum().backward()
        (expected * torch.from_numpy(r)).sum().backward()
        for i, (a, t) in enumerate(zip(ours_in, torch_in)):
            if a.requires_grad:
                _assert_close(a.grad, t.grad, rtol, atol, what=f"{what}: gradient of input {i}")
        return out, expected
    return compare
