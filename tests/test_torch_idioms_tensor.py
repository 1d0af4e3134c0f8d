"""PyTorch idioms on Tensor: dim=/keepdim= aliases, size()/dim()/numel(),
unsqueeze/squeeze, clamp, min, clone, to(), 2 ** x; each against PyTorch
(forward and backward) and gradchecked in float64."""

import numpy as np
import pytest

import glassnet as gn
import glassnet.functional as F
from glassnet import Tensor
from tests.conftest import compare_with_torch


def _x(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


REDUCTIONS = [  # (ours, theirs) with PyTorch's keyword names on both sides
    (lambda x: x.sum(dim=1), lambda x: x.sum(dim=1)),
    (lambda x: x.sum(dim=(0, 2), keepdim=True), lambda x: x.sum(dim=(0, 2), keepdim=True)),
    (lambda x: x.mean(dim=-1, keepdim=True), lambda x: x.mean(dim=-1, keepdim=True)),
    (lambda x: x.mean(dim=[0, 1]), lambda x: x.mean(dim=[0, 1])),
    (lambda x: x.max(dim=1).values, lambda x: x.max(dim=1).values),
    (lambda x: x.max(dim=2, keepdim=True)[0], lambda x: x.max(dim=2, keepdim=True)[0]),
    (lambda x: x.min(dim=0).values, lambda x: x.min(dim=0).values),
    (lambda x: x.min(), lambda x: x.min()),
    (lambda x: F.softmax(x, dim=1), lambda x: x.softmax(dim=1)),
    (lambda x: F.log_softmax(x, dim=0), lambda x: x.log_softmax(dim=0)),
    (lambda x: x.clamp(min=-0.5), lambda x: x.clamp(min=-0.5)),
    (lambda x: x.clamp(max=0.3), lambda x: x.clamp(max=0.3)),
    (lambda x: x.clamp(-0.2, 0.4), lambda x: x.clamp(-0.2, 0.4)),
    (lambda x: x.unsqueeze(1), lambda x: x.unsqueeze(1)),
    (lambda x: x.unsqueeze(-1), lambda x: x.unsqueeze(-1)),
    (lambda x: x.clone() * 2, lambda x: x.clone() * 2),
    (lambda x: 2 ** x, lambda x: 2 ** x),
    (lambda x: x.abs() ** x, lambda x: x.abs() ** x),
]


@pytest.mark.parametrize("k", range(len(REDUCTIONS)))
def test_idiom_matches_torch(torch, rng, k):
    ours, theirs = REDUCTIONS[k]
    compare_with_torch(torch, ours, theirs, [_x(rng, 3, 4, 5)], what=f"idiom {k}")


@pytest.mark.parametrize("k", range(len(REDUCTIONS)))
def test_idiom_gradcheck(rng, k):
    ours, _ = REDUCTIONS[k]
    x = Tensor(rng.standard_normal((3, 4, 5)), requires_grad=True)
    report = gn.gradcheck(ours, [x])
    assert report.max_rel_error < 1e-6, str(report)


def test_max_with_dim_returns_values_and_indices_as_torch(torch, rng):
    data = _x(rng, 4, 6)
    values, indices = Tensor(data).max(dim=1)
    expected = torch.from_numpy(data).max(dim=1)
    np.testing.assert_array_equal(values.data, expected.values.numpy())
    np.testing.assert_array_equal(indices.data, expected.indices.numpy())
    assert Tensor(data).max(axis=1).shape == (4,), "axis= (NumPy's form) still returns the values alone"
    np.testing.assert_array_equal(Tensor(data).argmax(dim=1, keepdim=True).data,
                                  torch.from_numpy(data).argmax(dim=1, keepdim=True).numpy())
    np.testing.assert_array_equal(Tensor(data).argmin(dim=0).data, torch.from_numpy(data).argmin(dim=0).numpy())
    with pytest.raises(TypeError, match="both axis=1 and dim=0"):
        Tensor(data).sum(axis=1, dim=0)


def test_size_dim_numel_squeeze(torch):
    x = gn.zeros(2, 1, 3, 1)
    t = torch.zeros(2, 1, 3, 1)
    assert x.size() == tuple(t.size()) and x.size(0) == t.size(0) == 2 and x.size(-2) == 3
    assert x.dim() == t.dim() == 4 and x.numel() == t.numel() == 6
    assert x.squeeze().shape == tuple(t.squeeze().shape) == (2, 3)
    assert x.squeeze(1).shape == tuple(t.squeeze(1).shape) == (2, 3, 1)
    assert x.squeeze(0).shape == tuple(t.squeeze(0).shape), "squeezing an axis longer than 1 leaves it"
    assert x.squeeze((1, 3)).shape == tuple(t.squeeze((1, 3)).shape)


def test_cat_and_stack_take_dim(torch, rng):
    a, b = _x(rng, 2, 3), _x(rng, 2, 3)
    for ours, theirs in ((gn.cat, torch.cat), (gn.stack, torch.stack)):
        got = ours([Tensor(a), Tensor(b)], dim=1)
        np.testing.assert_array_equal(got.data, theirs([torch.from_numpy(a), torch.from_numpy(b)], dim=1).numpy())


def test_to_casts_or_accepts_cpu():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    assert x.to("cpu") is x and x.to(gn.float32) is x and x.to(device="cpu") is x
    y = x.to(gn.float64)
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32
    assert x.to("cpu", "float64").dtype == np.float64
    with pytest.raises(ValueError, match="CPU only, got device 'cuda'"):
        x.to("cuda")


def test_clone_is_a_copy_in_the_graph():
    x = Tensor(np.ones(3), requires_grad=True)
    y = x.clone()
    assert y.data is not x.data and not np.shares_memory(x.data, y.data)
    (y * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [3, 3, 3])
