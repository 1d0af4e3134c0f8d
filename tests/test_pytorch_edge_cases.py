"""Edge cases where glassnet disagreed with PyTorch (issue 11, bug 9): each compared with PyTorch itself."""

import numpy as np
import pytest

import glassnet
from glassnet import functional as F
from glassnet import nn, optim
from glassnet.tensor import Tensor, where


def _grad(fn, x):
    t = Tensor(np.array(x), requires_grad=True)
    fn(t).sum().backward()
    return t.grad


def _torch_grad(torch, fn, x):
    t = torch.tensor(np.array(x), requires_grad=True)
    fn(t).sum().backward()
    return t.grad.numpy()


def test_a_broadcasting_array_exponent_gives_a_gradient_of_the_base_shape(torch, rng):
    x = rng.uniform(0.5, 2.0, (5, 1))
    e = np.array([1.0, 2.0, 3.0])
    got = _grad(lambda t: t ** e, x)
    assert got.shape == (5, 1)
    np.testing.assert_allclose(got, _torch_grad(torch, lambda t: t ** torch.tensor(e), x), rtol=1e-12)
    assert glassnet.gradcheck(lambda t: t ** e, [Tensor(x, requires_grad=True)])


def test_x_to_the_power_zero_has_gradient_zero_also_at_zero(torch):
    x = [0.0, 1.0, -2.0]
    np.testing.assert_array_equal(_grad(lambda t: t ** 0, x), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(_grad(lambda t: t ** 0, x), _torch_grad(torch, lambda t: t ** 0, x))
    e = np.array([0.0, 2.0, 3.0])  # an array exponent with a zero
    np.testing.assert_array_equal(_grad(lambda t: t ** e, x), _torch_grad(torch, lambda t: t ** torch.tensor(e), x))


def test_plateau_schedule_ignores_a_nan_first_metric_as_pytorch(torch):
    metrics = [float("nan"), 1.0, 0.9, 0.95, 0.96, 0.97, 0.8]
    layer = nn.Linear(1, 1)
    ours = optim.lr_scheduler.ReduceLROnPlateau(optim.SGD(layer.parameters(), lr=1.0), factor=0.5, patience=1)
    theirs_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs_opt, factor=0.5, patience=1)
    for m in metrics:
        ours.step(m)
        theirs.step(m)
        assert ours.optimizer.param_groups[0]["lr"] == theirs_opt.param_groups[0]["lr"], m
    assert ours.best == theirs.best == 0.8


def test_where_with_a_python_number_keeps_the_tensors_dtype(torch):
    x32 = Tensor(np.arange(4, dtype=np.float32))
    mask = np.array([True, False, True, False])
    assert where(mask, 0.0, x32).dtype == np.float32 == where(mask, x32, 1).dtype
    assert str(torch.where(torch.tensor(mask), 0.0, torch.arange(4.0)).dtype) == "torch.float32"
    x64 = Tensor(np.arange(4, dtype=np.float64))
    assert where(mask, 0.5, x64).dtype == np.float64


@pytest.mark.parametrize("training", [False, True])
def test_rrelu_at_exactly_zero_has_the_negative_slope_as_gradient(torch, training):
    x = np.array([0.0, -1.0, 1.0])
    got = _grad(lambda t: F.rrelu(t, training=training, generator=np.random.default_rng(0)), x)
    if not training:
        theirs = _torch_grad(torch, lambda t: torch.nn.functional.rrelu(t, training=False), x)
        np.testing.assert_allclose(got, theirs, rtol=1e-12)
    else:  # random slopes: x = 0 gets one in [lower, upper], as x < 0 does; x > 0 gets 1
        assert 1 / 8 <= got[0] <= 1 / 3 and 1 / 8 <= got[1] <= 1 / 3 and got[2] == 1.0


@pytest.mark.parametrize("kernel,stride", [((1, 4), None), ((2, 2), 1), ((3, 3), 2)])
def test_max_pool_routes_the_gradient_of_a_nan_window_to_its_nan(torch, rng, kernel, stride):
    x = rng.standard_normal((2, 2, 6, 8))
    x[0, 0, 0, 1] = x[0, 0, 0, 3] = x[1, 1, 2, 2] = np.nan
    x[1, 0, 4, 4] = x[1, 0, 4, 5] = 5.0  # an exact tie: first maximum
    got = _grad(lambda t: F.max_pool2d(t, kernel, stride), x)
    theirs = _torch_grad(torch, lambda t: torch.nn.functional.max_pool2d(t, kernel, stride), x)
    np.testing.assert_array_equal(got, theirs)
    assert got[0, 0, 0, 3] >= 1  # the NaN gets the gradient
