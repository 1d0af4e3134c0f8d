"""Pooling's PyTorch options: ceil_mode, count_include_pad=False,
divisor_override, dilation, return_indices, unbatched input; against PyTorch
(forward and backward) and gradchecked in float64."""

import numpy as np
import pytest

import glassnet as gn
from glassnet import Tensor, nn
from tests.conftest import compare_with_torch

MAX_CASES = [dict(kernel_size=3, stride=2, ceil_mode=True), dict(kernel_size=2, ceil_mode=True),
             dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), dict(kernel_size=3, stride=1, dilation=2),
             dict(kernel_size=(2, 3), stride=(2, 1), padding=(1, 1), dilation=(1, 2), ceil_mode=True)]
AVG_CASES = [dict(kernel_size=3, stride=2, ceil_mode=True), dict(kernel_size=3, stride=2, padding=1,
                                                                 count_include_pad=False),
             dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
             dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
             dict(kernel_size=2, padding=1, divisor_override=3), dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 0),
                                                                      ceil_mode=True, count_include_pad=False)]
SHAPES = [(2, 3, 7, 8), (1, 2, 6, 5)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("kind,options", [("MaxPool2d", o) for o in MAX_CASES] + [("AvgPool2d", o) for o in AVG_CASES],
                         ids=str)
def test_pool_options_match_torch(torch, rng, kind, options, shape):
    x = rng.standard_normal(shape).astype(np.float32)
    compare_with_torch(torch, getattr(nn, kind)(**options), getattr(torch.nn, kind)(**options), [x],
                       what=f"{kind} {options}")


@pytest.mark.parametrize("kind,options", [("MaxPool2d", o) for o in MAX_CASES] + [("AvgPool2d", o) for o in AVG_CASES],
                         ids=str)
def test_pool_options_gradcheck(rng, kind, options):
    x = Tensor(rng.standard_normal((1, 2, 7, 6)), requires_grad=True)
    report = gn.gradcheck(getattr(nn, kind)(**options), [x])
    assert report.max_rel_error < 1e-6, str(report)


@pytest.mark.parametrize("options", MAX_CASES + [dict(kernel_size=2)], ids=str)
def test_max_pool_return_indices_as_torch(torch, rng, options):
    x = rng.standard_normal((2, 3, 7, 8)).astype(np.float32)
    values, indices = nn.MaxPool2d(return_indices=True, **options)(Tensor(x))
    expected_values, expected_indices = torch.nn.MaxPool2d(return_indices=True, **options)(torch.from_numpy(x))
    np.testing.assert_array_equal(values.data, expected_values.numpy())
    np.testing.assert_array_equal(indices.data, expected_indices.numpy())
    assert indices.dtype == np.int64


def test_pools_take_unbatched_input(torch, rng):
    x = rng.standard_normal((3, 6, 6)).astype(np.float32)
    for ours, theirs in ((nn.MaxPool2d(2, ceil_mode=True), torch.nn.MaxPool2d(2, ceil_mode=True)),
                         (nn.AvgPool2d(3, 2, 1, count_include_pad=False),
                          torch.nn.AvgPool2d(3, 2, 1, count_include_pad=False))):
        out = ours(Tensor(x))
        np.testing.assert_allclose(out.data, theirs(torch.from_numpy(x)).numpy(), rtol=1e-6)
    values, indices = nn.MaxPool2d(2, return_indices=True)(Tensor(x))
    assert values.shape == indices.shape == (3, 3, 3)
