"""Shared test helpers.

Tests that compare with PyTorch take the ``torch`` fixture: it skips the test
when torch is not installed (it is a test-only dependency, never imported by
glassnet itself).
"""

import numpy as np
import pytest

import glassnet


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
