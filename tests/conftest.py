"""Shared test helpers.

Tests that compare with PyTorch take the ``torch`` fixture: it skips the test
when torch is not installed (it is a test-only dependency, never imported by
glassnet itself).
"""

import os
from pathlib import Path

import numpy as np
import pytest

import glassnet
from glassnet.data import datasets


def _shared_data() -> Path:
    """The project's shared data folder (real MNIST 10k test files, rt-polarity):
    $GLASSNET_SHARED_DATA, else ``../shared/data`` beside the checkout, else /work/shared/data."""
    root = Path(__file__).resolve().parents[1]
    candidates = [Path(p) for p in (os.environ.get("GLASSNET_SHARED_DATA"),) if p]
    candidates += [root.parent / "shared" / "data", Path("/work/shared/data")]
    return next((p for p in candidates if p.is_dir()), candidates[0])


SHARED_DATA = _shared_data()
MNIST_DIR = SHARED_DATA / "mnist"


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No $GLASSNET_DATA, the cache under tmp_path/cache, an empty system folder; returns tmp_path."""
    monkeypatch.delenv("GLASSNET_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "system").mkdir()
    monkeypatch.setattr(datasets, "SYSTEM_DIR", str(tmp_path / "system"))
    monkeypatch.setattr(datasets, "_verified", set())
    return tmp_path


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.fixture
def rng():
    """A fresh generator per test, so tests do not depend on their order."""
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _reseed():
    glassnet.seed(0)
    yield


def to_numpy(x) -> np.ndarray:
    """An ndarray from a glassnet Tensor, a torch tensor or an array."""
    return x.detach().numpy() if hasattr(x, "detach") else np.asarray(x)


def assert_close(actual, expected, rtol=1e-5, atol=1e-6, what="value"):
    """Compare glassnet Tensors, torch tensors or ndarrays, with a message."""
    a, e = to_numpy(actual), to_numpy(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=what)


def compare_with_torch(torch, ours, theirs, arrays, rtol=1e-5, atol=1e-6, seed=0, what="op"):
    """Run ``ours`` on glassnet tensors and ``theirs`` on torch tensors made
    from the same (float32) ``arrays``; compare the outputs and the gradients
    of Σ out ⊙ R (R a fixed random array) for every floating input.
    Returns (our output, torch output)."""
    ours_in = [glassnet.Tensor(a.copy(), requires_grad=a.dtype.kind == "f") for a in arrays]
    torch_in = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out, expected = ours(*ours_in), theirs(*torch_in)
    assert_close(out, expected, rtol, atol, what=f"{what}: forward")
    r = np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)
    (out * glassnet.Tensor(r)).sum().backward()
    (expected * torch.from_numpy(r)).sum().backward()
    for i, (a, t) in enumerate(zip(ours_in, torch_in)):
        if a.requires_grad:
            assert_close(a.grad, t.grad, rtol, atol, what=f"{what}: gradient of input {i}")
    return out, expected
