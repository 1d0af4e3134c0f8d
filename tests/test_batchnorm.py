"""Batch normalization: gradcheck in training and evaluation mode, agreement
with PyTorch's BatchNorm1d/2d over several steps (outputs, gradients, running
statistics), dtypes, state and errors."""

import numpy as np
import pytest

import glassnet as gn
import glassnet.functional as F
from glassnet import Tensor, nn

TOL = 1e-6
SHAPES = {"(N,C)": (6, 3), "(N,C,L)": (4, 3, 5), "(N,C,H,W)": (3, 2, 3, 4)}


def batch(rng, shape, dtype=np.float64):
    """Inputs with a per-channel offset and scale, so statistics matter."""
    c = shape[1]
    offset = np.arange(c).reshape((1, c) + (1,) * (len(shape) - 2))
    return (rng.standard_normal(shape) * (1 + offset) + 2 * offset - 1).astype(dtype)


# ---------------------------------------------------------------- gradcheck
@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_batch_norm_gradcheck(rng, shape, training):
    c = shape[1]
    x = Tensor(batch(rng, shape), requires_grad=True)
    gamma = Tensor(rng.uniform(0.5, 1.5, c), requires_grad=True)
    beta = Tensor(rng.standard_normal(c), requires_grad=True)
    mean, var = rng.standard_normal(c), rng.uniform(0.5, 2.0, c)
    report = gn.gradcheck(lambda x, g, b: F.batch_norm(x, mean.copy(), var.copy(), g, b, training=training),
                          [x, gamma, beta])
    assert report.max_rel_error < TOL, str(report)


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_fused_batch_norm_relu_gradcheck_and_value(rng, training):
    """relu=True is max(BN(x), 0): same values as the two ops, exact gradients."""
    c = 3
    x = Tensor(batch(rng, (4, c, 3, 2)), requires_grad=True)
    gamma = Tensor(rng.uniform(0.5, 1.5, c), requires_grad=True)
    beta = Tensor(rng.standard_normal(c), requires_grad=True)
    mean, var = rng.standard_normal(c), rng.uniform(0.5, 2.0, c)

    def fused(x, g, b):
        return F.batch_norm(x, mean.copy(), var.copy(), g, b, training=training, relu=True)

    expected = np.maximum(F.batch_norm(x, mean.copy(), var.copy(), gamma, beta, training=training).data, 0)
    np.testing.assert_allclose(fused(x, gamma, beta).data, expected, rtol=1e-12, atol=1e-12)
    assert 0 < (expected > 0).mean() < 1  # both sides of the kink are exercised
    report = gn.gradcheck(fused, [x, gamma, beta])
    assert report.max_rel_error < TOL, str(report)


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_batch_norm_keeps_conv_memory_order(rng, training):
    """An image batch in conv2d's (C, H, W, N) memory order is normalized in that
    order (no copy: output and input gradient keep it) with the same numbers as
    a C-contiguous one."""
    x = batch(rng, (3, 2, 4, 5))
    gamma, beta = rng.uniform(0.5, 1.5, 2), rng.standard_normal(2)
    g = rng.standard_normal(x.shape)
    results = []
    for data in (x, np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)):
        xt, gt, bt = (Tensor(a, requires_grad=True) for a in (data, gamma, beta))
        y = F.batch_norm(xt, np.zeros(2), np.ones(2), gt, bt, training=training)
        y.backward(g)
        results.append((y.data, xt.grad, gt.grad, bt.grad))
    assert results[1][0].transpose(1, 2, 3, 0).flags.c_contiguous
    assert results[1][1].transpose(1, 2, 3, 0).flags.c_contiguous
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_batch_norm_gradcheck_without_affine_or_running_stats(rng):
    x = Tensor(batch(rng, (5, 3, 2)), requires_grad=True)
    report = gn.gradcheck(lambda x: F.batch_norm(x, training=True), [x])
    assert report.max_rel_error < TOL, str(report)


def test_batch_norm_module_gradcheck_in_training_mode(rng):
    for layer, shape in [(nn.BatchNorm1d(3).double(), (6, 3)), (nn.BatchNorm2d(2).double(), (3, 2, 3, 3))]:
        layer.weight.data[:] = rng.uniform(0.5, 1.5, layer.num_features)
        layer.bias.data[:] = rng.standard_normal(layer.num_features)
        report = gn.gradcheck(lambda x, g, b, layer=layer: layer(x), [Tensor(batch(rng, shape), requires_grad=True),
                                                         layer.weight, layer.bias])
        assert report.max_rel_error < TOL, f"{layer}: {report}"


def test_training_output_is_normalised_per_channel(rng):
    x = Tensor(batch(rng, (8, 3, 4, 4), np.float32))
    y = nn.BatchNorm2d(3)(x).data
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-6)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-4)  # var/(var+eps)


# ---------------------------------------------------------------- vs PyTorch
def make_pair(torch, kind, c, rng, **kwargs):
    ours = getattr(nn, kind)(c, **kwargs)
    theirs = getattr(torch.nn, kind)(c, **kwargs)
    if ours.affine:
        w, b = rng.uniform(0.5, 1.5, c).astype(np.float32), rng.standard_normal(c).astype(np.float32)
        ours.weight.data[:], ours.bias.data[:] = w, b
        with torch.no_grad():
            theirs.weight.copy_(torch.from_numpy(w))
            theirs.bias.copy_(torch.from_numpy(b))
    return ours, theirs


@pytest.fixture
def step_both(assert_close):
    def step(torch, ours, theirs, x, rng, what):
        """One forward/backward on the same input; compare outputs and gradients."""
        xo, xt = Tensor(x.copy(), requires_grad=True), torch.tensor(x, requires_grad=True)
        out, expected = ours(xo), theirs(xt)
        assert_close(out, expected, atol=1e-5, what=f"{what}: output")
        r = rng.standard_normal(x.shape).astype(np.float32)
        (out * Tensor(r)).sum().backward()
        (expected * torch.from_numpy(r)).sum().backward()
        assert_close(xo.grad, xt.grad, atol=1e-5, what=f"{what}: input gradient")
        if ours.affine:
            assert_close(ours.weight.grad, theirs.weight.grad, atol=1e-4, what=f"{what}: weight gradient")
            assert_close(ours.bias.grad, theirs.bias.grad, atol=1e-4, what=f"{what}: bias gradient")
            ours.zero_grad()
            theirs.zero_grad()
        assert out.dtype == np.float32
    return step


@pytest.mark.parametrize("kind, shape", [("BatchNorm1d", (16, 5)), ("BatchNorm1d", (8, 5, 7)),
                                         ("BatchNorm2d", (8, 5, 6, 6))])
@pytest.mark.parametrize("options", [{}, {"momentum": None}, {"affine": False}, {"momentum": 0.3, "eps": 1e-3}],
                         ids=["default", "cumulative", "no-affine", "momentum-eps"])
def test_batch_norm_matches_torch_over_several_steps(torch, rng, kind, shape, options, assert_close, step_both):
    ours, theirs = make_pair(torch, kind, shape[1], rng, **options)
    for step in range(4):
        step_both(torch, ours, theirs, batch(rng, shape, np.float32), rng, f"{kind} training step {step}")
    assert_close(ours.running_mean, theirs.running_mean, what="running_mean")
    assert_close(ours.running_var, theirs.running_var, what="running_var")
    assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked) == 4
    assert ours.running_mean.dtype == np.float32
    ours.eval()
    theirs.eval()
    for step in range(2):
        step_both(torch, ours, theirs, batch(rng, shape, np.float32), rng, f"{kind} evaluation step {step}")
    assert int(ours.num_batches_tracked) == 4  # evaluation leaves the statistics alone


def test_without_running_stats_uses_batch_statistics_in_both_modes(torch, rng, step_both):
    ours, theirs = make_pair(torch, "BatchNorm1d", 4, rng, track_running_stats=False)
    assert ours.state_dict().keys() == {"weight", "bias"}
    ours.eval()
    theirs.eval()
    step_both(torch, ours, theirs, batch(rng, (10, 4), np.float32), rng, "track_running_stats=False")


# ------------------------------------------------------- dtypes and state
def test_float64_module_computes_in_float64(rng):
    layer = nn.BatchNorm1d(3).double()
    x = Tensor(batch(rng, (5, 3)), requires_grad=True)
    out = layer(x)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == layer.weight.grad.dtype == layer.running_var.dtype == np.float64


def test_buffers_in_state_dict_and_restored(rng):
    layer = nn.BatchNorm2d(3)
    for _ in range(3):
        layer(Tensor(batch(rng, (4, 3, 2, 2), np.float32)))
    state = {k: np.array(v) for k, v in layer.state_dict().items()}
    assert set(state) == {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}
    assert state["num_batches_tracked"] == 3
    fresh = nn.BatchNorm2d(3)
    fresh.load_state_dict(state)
    x = Tensor(batch(rng, (2, 3, 2, 2), np.float32))
    np.testing.assert_array_equal(fresh.eval()(x).data, layer.eval()(x).data)
    fresh.reset_running_stats()
    assert fresh.running_mean.sum() == 0 and fresh.running_var.sum() == 3 and fresh.num_batches_tracked == 0


# ---------------------------------------------------------------- errors
def test_channel_mismatch_names_layer_and_both_shapes():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(16.*\(N, 16, H, W\).*\(8, 3, 32, 32\)"):
        nn.BatchNorm2d(16)(Tensor(np.zeros((8, 3, 32, 32), dtype=np.float32)))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(4.*\(N, 4\) or \(N, 4, L\).*\(2, 5\)"):
        nn.BatchNorm1d(4)(Tensor(np.zeros((2, 5), dtype=np.float32)))
    with pytest.raises(ValueError, match=r"BatchNorm2d.*\(2, 3\)"):
        nn.BatchNorm2d(3)(Tensor(np.zeros((2, 3), dtype=np.float32)))
    with pytest.raises(ValueError, match=r"batch_norm.*\(2, 3\).*weight.*\(4,\)"):
        F.batch_norm(Tensor(np.zeros((2, 3))), weight=Tensor(np.ones(4)), training=True)


def test_training_needs_more_than_one_value_per_channel():
    with pytest.raises(ValueError, match="more than 1 value"):
        nn.BatchNorm1d(3)(Tensor(np.zeros((1, 3), dtype=np.float32)))
    out = nn.BatchNorm1d(3).eval()(Tensor(np.ones((1, 3), dtype=np.float32)))  # fine in evaluation
    np.testing.assert_allclose(out.data, 1 / np.sqrt(1 + 1e-5))
    with pytest.raises(ValueError, match="running_mean"):
        F.batch_norm(Tensor(np.ones((2, 3))), training=False)
