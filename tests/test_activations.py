"""Activations: gradcheck (float64), agreement with PyTorch (float32), the
curriculum's facts, and the activation/dropout modules."""

import warnings

import numpy as np
import pytest

import glassnet as gn
import glassnet.functional as F
from glassnet import Tensor, nn

TOL = 1e-6


def away_from_zero(rng, *shape, dtype=np.float64):
    """Random values with |x| >= 0.1, so no element sits on a ReLU-type kink."""
    x = rng.standard_normal(shape)
    return (np.sign(x) * (np.abs(x) + 0.1)).astype(dtype)


def check(fn, *arrays):
    report = gn.gradcheck(fn, [Tensor(a, requires_grad=True) for a in arrays])
    assert report.max_rel_error < TOL, str(report)


# --------------------------------------------------------------- gradcheck
@pytest.mark.parametrize("name, fn", [
    ("sigmoid", F.sigmoid),
    ("tanh", F.tanh),
    ("relu", F.relu),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2)),
    ("rrelu-eval", lambda x: F.rrelu(x, 0.1, 0.3, training=False)),
    ("rrelu-train", lambda x: F.rrelu(x, 0.1, 0.3, training=True, generator=np.random.default_rng(5))),
    ("softmax-last", F.softmax),
    ("softmax-axis0", lambda x: F.softmax(x, axis=0)),
    ("log_softmax-last", F.log_softmax),
    ("log_softmax-axis1", lambda x: F.log_softmax(x, axis=1)),
    ("dropout", lambda x: F.dropout(x, 0.3, training=True, generator=np.random.default_rng(7))),
])
def test_activation_gradcheck(rng, name, fn):
    check(fn, away_from_zero(rng, 3, 4, 2))


@pytest.mark.parametrize("channels", [1, 3])
def test_prelu_gradcheck_input_and_slope(rng, channels):
    check(F.prelu, away_from_zero(rng, 4, 3, 2), rng.uniform(0.1, 0.5, channels))


# ------------------------------------------------------------ vs PyTorch
@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "softmax", "log_softmax",
                                  "softmax-axis1", "rrelu-eval"])
def test_activation_matches_torch(torch, rng, name, compare_with_torch):
    tf = torch.nn.functional
    ours, theirs = {
        "sigmoid": (F.sigmoid, torch.sigmoid),
        "tanh": (F.tanh, torch.tanh),
        "relu": (F.relu, tf.relu),
        "leaky_relu": (lambda x: F.leaky_relu(x, 0.05), lambda x: tf.leaky_relu(x, 0.05)),
        "softmax": (F.softmax, lambda x: tf.softmax(x, dim=-1)),
        "log_softmax": (F.log_softmax, lambda x: tf.log_softmax(x, dim=-1)),
        "softmax-axis1": (lambda x: F.softmax(x, axis=1), lambda x: tf.softmax(x, dim=1)),
        "rrelu-eval": (lambda x: F.rrelu(x, 0.1, 0.3), lambda x: tf.rrelu(x, 0.1, 0.3, training=False)),
    }[name]
    x = away_from_zero(rng, 8, 5, 3, dtype=np.float32) * 3
    out, _ = compare_with_torch(torch, ours, theirs, [x], what=name)
    assert out.dtype == np.float32


@pytest.mark.parametrize("channels", [1, 4])
def test_prelu_matches_torch_images(torch, rng, channels, compare_with_torch):
    x = away_from_zero(rng, 2, 4, 3, 3, dtype=np.float32)
    w = rng.uniform(0.1, 0.4, channels).astype(np.float32)
    compare_with_torch(torch, F.prelu, torch.nn.functional.prelu, [x, w], what="prelu")


def test_prelu_module_matches_torch_module(torch, rng, assert_close, compare_with_torch):
    ours, theirs = nn.PReLU(num_parameters=4), torch.nn.PReLU(num_parameters=4)
    np.testing.assert_array_equal(ours.weight.data, theirs.weight.detach().numpy())  # both 0.25
    assert ours.weight.dtype == np.float32 and ours.num_parameters() == 4
    x = away_from_zero(rng, 5, 4, dtype=np.float32)
    compare_with_torch(torch, ours, theirs, [x], what="PReLU")
    assert_close(ours.weight.grad, theirs.weight.grad, what="PReLU slope gradient")


def test_activation_modules_match_torch_modules(torch, rng, compare_with_torch):
    pairs = [(nn.Sigmoid(), torch.nn.Sigmoid()), (nn.Tanh(), torch.nn.Tanh()), (nn.ReLU(), torch.nn.ReLU()),
             (nn.LeakyReLU(0.1), torch.nn.LeakyReLU(0.1)), (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
             (nn.LogSoftmax(dim=1), torch.nn.LogSoftmax(dim=1)), (nn.Identity(), torch.nn.Identity()),
             (nn.Flatten(), torch.nn.Flatten()), (nn.Flatten(0, 1), torch.nn.Flatten(0, 1))]
    x = away_from_zero(rng, 4, 3, 2, dtype=np.float32)
    for ours, theirs in pairs:
        compare_with_torch(torch, ours, theirs, [x], what=type(ours).__name__)


# ------------------------------------------------------- curriculum facts
def test_sigmoid_slope_peaks_at_a_quarter_and_tanh_is_scaled_sigmoid():
    x = Tensor(np.linspace(-6, 6, 121), requires_grad=True)
    F.sigmoid(x).sum().backward()
    assert x.grad.max() == pytest.approx(0.25) and x.grad[60] == pytest.approx(0.25)
    assert x.grad[0] < 0.003  # saturated: σ′(−6) ≈ 0.0025
    np.testing.assert_allclose(F.tanh(x).data, 2 * F.sigmoid(x * 2).data - 1, atol=1e-12)


def test_sigmoid_and_softmax_stable_for_huge_inputs():
    x = Tensor(np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=np.float32))
    # underflow to 0 is the right answer; overflow, 0/0 or log 0 would be bugs
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        s = F.sigmoid(x).data
        lp = F.log_softmax(Tensor(np.array([[1e4, 0.0, -1e4]], dtype=np.float32))).data
    np.testing.assert_allclose(s, [0, 1.9287e-22, 0.5, 1, 1], rtol=1e-4)
    np.testing.assert_allclose(lp, [[0, -1e4, -2e4]])


def test_relu_dead_unit_gets_no_gradient():
    x = Tensor(np.array([-3.0, -0.5, 0.5, 2.0]), requires_grad=True)
    F.relu(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 0, 1, 1])


def test_rrelu_training_slopes_random_in_range_and_reproducible(rng):
    x = Tensor(-np.abs(away_from_zero(rng, 1000)).astype(np.float32), requires_grad=True)
    out = F.rrelu(x, 0.1, 0.3, training=True, generator=np.random.default_rng(3))
    slopes = out.data / x.data
    assert 0.1 <= slopes.min() and slopes.max() <= 0.3
    assert slopes.std() > 0.05  # random, not one slope (uniform on [0.1, 0.3]: std ≈ 0.058)
    assert abs(slopes.mean() - 0.2) < 0.01
    out.sum().backward()
    np.testing.assert_allclose(x.grad, slopes, rtol=1e-6)  # the gradient is the slope used
    again = F.rrelu(x, 0.1, 0.3, training=True, generator=np.random.default_rng(3))
    np.testing.assert_array_equal(again.data, out.data)
    positive = Tensor(np.abs(x.data))
    np.testing.assert_array_equal(F.rrelu(positive, training=True).data, positive.data)


def test_rrelu_module_uses_training_flag():
    m = nn.RReLU(0.1, 0.3, generator=np.random.default_rng(0))
    x = Tensor(-np.ones(500, dtype=np.float32))
    assert np.unique(m(x).data).size > 100
    m.eval()
    np.testing.assert_allclose(m(x).data, -0.2)
    with pytest.raises(ValueError, match="lower"):
        nn.RReLU(0.5, 0.1)


def test_dropout_is_inverted_and_reproducible(rng):
    x = Tensor(np.ones((200, 100), dtype=np.float32), requires_grad=True)
    out = F.dropout(x, 0.25, training=True, generator=np.random.default_rng(1))
    kept = out.data != 0
    assert abs(kept.mean() - 0.75) < 0.01  # 20k draws: std of the kept fraction ≈ 0.003
    np.testing.assert_allclose(out.data[kept], 1 / 0.75)  # scaled at training time
    assert abs(out.data.mean() - 1) < 0.02  # expectation unchanged
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, out.data)  # gradient mask/(1−p) = out for x = 1
    again = F.dropout(x, 0.25, training=True, generator=np.random.default_rng(1))
    np.testing.assert_array_equal(again.data, out.data)
    assert F.dropout(x, 0.25, training=False) is x
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        F.dropout(x, 1.0)


def test_dropout_module_follows_train_and_eval():
    m = nn.Dropout(0.5)
    x = Tensor(np.ones((50, 40), dtype=np.float32))
    assert (m(x).data == 0).mean() == pytest.approx(0.5, abs=0.05)
    assert m.eval()(x) is x
    gn.seed(11)
    a = nn.Dropout(0.5).train()(x).data
    gn.seed(11)
    np.testing.assert_array_equal(nn.Dropout(0.5)(x).data, a)  # the global seed makes it reproducible
    with pytest.raises(ValueError, match="Dropout"):
        nn.Dropout(1.5)


def test_prelu_slope_count_must_match_channels():
    with pytest.raises(ValueError, match=r"3 slopes.*\(2, 4\)"):
        nn.PReLU(3)(Tensor(np.ones((2, 4), dtype=np.float32)))


def test_flatten_and_identity():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)
    assert nn.Flatten(1, 1)(x).shape == (2, 3, 4)
    assert nn.Identity()(x) is x
    nn.Flatten()(x).sum().backward()
    assert x.grad.shape == (2, 3, 4)
    with pytest.raises(ValueError, match="start_dim"):
        nn.Flatten(2, 1)(x)


def test_module_reprs():
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.Dropout(0.3)) == "Dropout(p=0.3)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert repr(nn.PReLU()) == "PReLU(num_parameters=1)"
