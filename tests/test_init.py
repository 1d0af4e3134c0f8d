"""Initializers: distributions within sampling error of their formulas and of
PyTorch's initializers, gains as in PyTorch, and schemes applied to a model."""

import math

import numpy as np
import pytest

import glassnet as gn
from glassnet import init, nn

SHAPE = (300, 200)  # 60,000 draws: fan_in 200, fan_out 300
CONV = (32, 16, 5, 5)  # fan_in 400, fan_out 800

# (name, glassnet call, torch call, expected std, kurtosis of the distribution)
CASES = [
    ("normal", lambda t: init.normal_(t, 0.0, 1.0), lambda t, nn_init: nn_init.normal_(t, 0.0, 1.0), 1.0, 3.0),
    ("normal_fan_in", init.normal_fan_in_, lambda t, nn_init: nn_init.normal_(t, 0.0, 1 / math.sqrt(200)),
     1 / math.sqrt(200), 3.0),
    ("small", lambda t: init.normal_(t, 0.0, 0.01), lambda t, nn_init: nn_init.normal_(t, 0.0, 0.01), 0.01, 3.0),
    ("uniform", lambda t: init.uniform_(t, -2.0, 2.0), lambda t, nn_init: nn_init.uniform_(t, -2.0, 2.0),
     4 / math.sqrt(12), 1.8),
    ("xavier_uniform", lambda t: init.xavier_uniform_(t, gain=5 / 3),
     lambda t, nn_init: nn_init.xavier_uniform_(t, gain=5 / 3), 5 / 3 * math.sqrt(2 / 500), 1.8),
    ("xavier_normal", init.xavier_normal_, lambda t, nn_init: nn_init.xavier_normal_(t), math.sqrt(2 / 500), 3.0),
    ("kaiming_uniform", lambda t: init.kaiming_uniform_(t, nonlinearity="relu"),
     lambda t, nn_init: nn_init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(2 / 200), 1.8),
    ("kaiming_normal_fan_out", lambda t: init.kaiming_normal_(t, a=0.2, mode="fan_out"),
     lambda t, nn_init: nn_init.kaiming_normal_(t, a=0.2, mode="fan_out"),
     math.sqrt(2 / 1.04) / math.sqrt(300), 3.0),
]


def _sampling_errors(std: float, kurtosis: float, n: int) -> tuple[float, float]:
    """Standard errors of the sample mean and of the sample std of n draws of a
    zero-mean distribution with this std and kurtosis: σ/√n and σ·√((κ−1)/(4n))."""
    return std / math.sqrt(n), std * math.sqrt((kurtosis - 1) / (4 * n))


@pytest.mark.parametrize("name,ours,_theirs,std,kurtosis", CASES, ids=[c[0] for c in CASES])
def test_distribution_matches_formula(name, ours, _theirs, std, kurtosis):
    t = gn.zeros(*SHAPE)
    assert ours(t) is t
    values = t.data.astype(np.float64)
    se_mean, se_std = _sampling_errors(std, kurtosis, values.size)
    assert abs(values.mean()) < 5 * se_mean, f"{name}: mean {values.mean()}"
    assert abs(values.std() - std) < 5 * se_std, f"{name}: std {values.std()} vs {std}"
    if kurtosis < 2:  # uniform: the bound is √3·σ, and it is nearly reached
        bound = math.sqrt(3) * std
        assert np.abs(values).max() <= bound * (1 + 1e-6) and np.abs(values).max() > 0.999 * bound


@pytest.mark.parametrize("name,ours,theirs,std,kurtosis", CASES, ids=[c[0] for c in CASES])
def test_std_matches_torch(torch, name, ours, theirs, std, kurtosis):
    t = ours(gn.zeros(*SHAPE)).data.astype(np.float64)
    torch.manual_seed(0)
    r = theirs(torch.zeros(*SHAPE), torch.nn.init).numpy().astype(np.float64)
    _, se_std = _sampling_errors(std, kurtosis, t.size)
    assert abs(t.std() - r.std()) < 5 * math.sqrt(2) * se_std, f"{name}: {t.std()} vs torch {r.std()}"


def test_conv_fans_match_torch(torch):
    assert init.fan_in_and_fan_out(CONV) == torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*CONV))
    t = init.kaiming_normal_(gn.zeros(*CONV), nonlinearity="relu")
    se_mean, se_std = _sampling_errors(math.sqrt(2 / 400), 3.0, t.numel())
    assert abs(t.data.std() - math.sqrt(2 / 400)) < 5 * se_std


@pytest.mark.parametrize("nonlinearity,param", [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None), ("conv_transpose2d", None),
    ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
    ("leaky_relu", 1), ("selu", None)])
def test_calculate_gain_equals_torch(torch, nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15)


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'softplus'"):
        init.calculate_gain("softplus")
    with pytest.raises(ValueError, match="negative_slope True"):
        init.calculate_gain("leaky_relu", True)
    with pytest.raises(ValueError, match="fan in/out needs a weight with at least 2 dimensions"):
        init.xavier_normal_(gn.zeros(5))
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_normal_(gn.zeros(5, 5), mode="fan")
    with pytest.raises(TypeError, match="got ndarray"):
        init.zeros_(np.ones(3))


def test_constant_fills_and_dtype_kept():
    t = gn.Tensor(np.empty((3, 4)))  # float64
    assert init.constant_(t, 0.25).data.dtype == np.float64
    assert np.all(t.data == 0.25)
    assert np.all(init.ones_(t).data == 1) and np.all(init.zeros_(t).data == 0)
    p = nn.Parameter(np.empty((3, 4), dtype=np.float32))
    assert init.xavier_uniform_(p).data.dtype == np.float32 and p.requires_grad


def test_generator_and_global_seed_reproduce_draws():
    a = init.kaiming_uniform_(gn.zeros(4, 5), generator=np.random.default_rng(7)).data.copy()
    b = init.kaiming_uniform_(gn.zeros(4, 5), generator=np.random.default_rng(7)).data
    np.testing.assert_array_equal(a, b)
    gn.seed(3)
    c = init.normal_(gn.zeros(4, 5)).data.copy()
    gn.seed(3)
    np.testing.assert_array_equal(c, init.normal_(gn.zeros(4, 5)).data)


class _WithNorm(nn.Module):
    """A layer with a 1-D weight (like batch norm's γ) between two Linear layers."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(400, 300)
        self.norm = nn.Module()
        self.norm.weight = nn.Parameter(np.ones(300, dtype=np.float32))
        self.norm.bias = nn.Parameter(np.zeros(300, dtype=np.float32))
        self.fc2 = nn.Linear(300, 200, bias=False)


def _std_ok(values, std, kurtosis=3.0):
    _, se_std = _sampling_errors(std, kurtosis, values.size)
    return abs(values.astype(np.float64).std() - std) < 5 * se_std


@pytest.mark.parametrize("scheme,weight_std,bias_std,kwargs", [
    ("large", lambda n_in, n_out: 1.0, 1.0, {}),
    ("book", lambda n_in, n_out: 1 / math.sqrt(n_in), 1.0, {}),
    ("small", lambda n_in, n_out: 0.01, 0.0, {}),
    ("xavier_normal", lambda n_in, n_out: math.sqrt(2 / (n_in + n_out)), 0.0, {}),
    ("xavier_normal", lambda n_in, n_out: 5 / 3 * math.sqrt(2 / (n_in + n_out)), 0.0, {"nonlinearity": "tanh"}),
    ("he_normal", lambda n_in, n_out: math.sqrt(2 / n_in), 0.0, {}),
    ("kaiming_normal", lambda n_in, n_out: math.sqrt(2 / 1.01) / math.sqrt(n_in), 0.0,
     {"nonlinearity": "leaky_relu", "param": 0.1}),
])
def test_apply_scheme_to_model(scheme, weight_std, bias_std, kwargs):
    model = _WithNorm()
    assert init.apply(model, scheme, **kwargs) is model
    for layer in (model.fc1, model.fc2):
        n_out, n_in = layer.weight.shape
        assert _std_ok(layer.weight.data, weight_std(n_in, n_out)), (scheme, layer)
    if bias_std:
        assert _std_ok(model.fc1.bias.data, bias_std)
    else:
        assert np.all(model.fc1.bias.data == 0)
    assert np.all(model.norm.weight.data == 1) and np.all(model.norm.bias.data == 0), "1-D weights must be left alone"


def test_apply_uniform_and_constant_schemes():
    model = init.apply(_WithNorm(), "he_uniform", generator=np.random.default_rng(0))
    w = model.fc1.weight.data
    assert np.abs(w).max() <= math.sqrt(6 / 400) and _std_ok(w, math.sqrt(2 / 400), 1.8)
    model = init.apply(_WithNorm(), "xavier_uniform")
    assert _std_ok(model.fc2.weight.data, math.sqrt(2 / 500), 1.8)
    model = init.apply(_WithNorm(), "constant", value=0.5)
    assert np.all(model.fc1.weight.data == 0.5) and np.all(model.fc1.bias.data == 0)
    model = init.apply(_WithNorm(), "zeros")
    assert not model.fc1.weight.data.any() and not model.fc2.weight.data.any()


def test_apply_unknown_scheme_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown scheme 'glorot'.*xavier_normal"):
        init.apply(_WithNorm(), "glorot")
