"""Convolution: finite differences, PyTorch as the oracle, initialisation, errors, channel dropout."""

import numpy as np
import pytest

import glassnet as gn
import glassnet.functional as F
from glassnet import nn
from glassnet.functional import conv as conv_module
from glassnet.functional.conv import _matmul_nt

# Stride-1 convolutions with C·kw >= TAP_MIN_ROWS multiply by kernel row, the others through
# im2col: the gradient and PyTorch checks run every case both ways.
PATHS = {"im2col": 10**9, "kernel rows": 1}


@pytest.fixture(params=list(PATHS))
def conv_path(request, monkeypatch):
    monkeypatch.setattr(conv_module, "TAP_MIN_ROWS", PATHS[request.param])
    return request.param

GRADCHECK_CASES = [  # x shape, weight shape, stride, padding, dilation, bias
    ((2, 3, 7, 6), (4, 3, 3, 3), 1, 0, 1, True),
    ((2, 3, 7, 6), (4, 3, 3, 2), 2, 1, 1, True),       # odd sizes, stride 2, padding 1, non-square kernel
    ((1, 2, 6, 7), (3, 2, 2, 3), (2, 1), (0, 2), 1, False),  # tuples, no bias
    ((2, 2, 7, 7), (2, 2, 3, 3), 1, 1, 2, True),       # dilation
    ((2, 2, 5, 4), (3, 2, 2, 2), 1, (2, 0), 1, False),  # padding beyond the kernel: dx crops g
    ((2, 2, 8, 7), (3, 2, 3, 2), 1, (1, 2), (2, 1), True),  # dilation and padding differ by axis
]


@pytest.mark.parametrize("xs, ws, stride, padding, dilation, bias", GRADCHECK_CASES)
def test_conv2d_gradcheck(rng, conv_path, xs, ws, stride, padding, dilation, bias):
    inputs = [gn.Tensor(rng.standard_normal(xs), requires_grad=True),
              gn.Tensor(rng.standard_normal(ws), requires_grad=True)]
    if bias:
        inputs.append(gn.Tensor(rng.standard_normal(ws[0]), requires_grad=True))
    # conv2d is linear in each input, so the central difference is exact for any
    # step h; h = 1e-3 keeps the round-off of the ~100-term sums out of it.
    report = gn.gradcheck(lambda *t: F.conv2d(*t, stride=stride, padding=padding, dilation=dilation), inputs,
                          eps=1e-3)
    assert report.max_rel_error < 1e-6, str(report)


ORACLE_CASES = [  # in, out, kernel, stride, padding, bias, input shape
    (1, 20, 5, 1, 0, True, (8, 1, 28, 28)),  # the course's first layer
    (20, 40, 5, 1, 0, True, (8, 20, 12, 12)),  # and its second
    (3, 5, (3, 2), 2, 1, False, (4, 3, 9, 8)),
    (4, 6, 3, (1, 2), (2, 0), True, (3, 4, 7, 10)),
]


@pytest.mark.parametrize("cin, cout, k, stride, padding, bias, shape", ORACLE_CASES)
def test_conv2d_matches_torch(torch, rng, conv_path, cin, cout, k, stride, padding, bias, shape, assert_close,
                              compare_with_torch):
    ours = nn.Conv2d(cin, cout, k, stride=stride, padding=padding, bias=bias)
    theirs = torch.nn.Conv2d(cin, cout, k, stride=stride, padding=padding, bias=bias)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weight.data))
        if bias:
            theirs.bias.copy_(torch.from_numpy(ours.bias.data))
    x = rng.standard_normal(shape).astype(np.float32)
    out, _ = compare_with_torch(torch, ours, theirs, [x], rtol=1e-4, atol=1e-5, what="Conv2d")
    assert out.dtype == np.float32
    assert_close(ours.weight.grad, theirs.weight.grad, rtol=1e-4, atol=1e-4, what="Conv2d weight grad")
    assert ours.weight.grad.dtype == np.float32
    if bias:
        assert_close(ours.bias.grad, theirs.bias.grad, rtol=1e-4, atol=1e-4, what="Conv2d bias grad")


def test_course_cnn_front_matches_torch(torch, rng, assert_close, compare_with_torch):
    """conv → ReLU → max-pool → conv → ReLU → max-pool → linear: the arrays passed
    between layers keep conv2d's (C, H, W, N) memory order, and gradients flow
    back through them unchanged."""
    ours = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 8, 3, padding=1),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 6 * 6, 5))
    T = torch.nn
    theirs = T.Sequential(T.Conv2d(1, 6, 5), T.ReLU(), T.MaxPool2d(2), T.Conv2d(6, 8, 3, padding=1),
                          T.ReLU(), T.MaxPool2d(2), T.Flatten(), T.Linear(8 * 6 * 6, 5))
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            q.copy_(torch.from_numpy(p.data))
    x = rng.standard_normal((5, 1, 28, 28)).astype(np.float32)
    compare_with_torch(torch, ours, theirs, [x], rtol=1e-4, atol=1e-5, what="two-conv network")
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-5, what=f"grad of {name}")


@pytest.mark.parametrize("ws, padding, dilation", [((4, 3, 3, 3), 1, 1), ((2, 3, 2, 3), (2, 0), 1),
                                                   ((3, 3, 3, 2), (0, 1), (2, 1))])
def test_stride_one_input_gradient_by_kernel_rows_equals_col2im(rng, ws, padding, dilation):
    """For stride 1, dx is the transpose of the kernel-row products (dxs_u += W_uᵀ G, the
    column shifts added back); it must equal the col2im fold used for strides > 1."""
    from glassnet.functional.conv import _input_grad_by_kernel_rows, _input_grad_col2im, _pad_hw, output_size, pair
    (ph, pw), (dh, dw) = pair(padding), pair(dilation)
    c, h, wd, n = 3, 7, 6, 2
    w = rng.standard_normal(ws)
    ho, wo = output_size(h, ws[2], 1, ph, dh), output_size(wd, ws[3], 1, pw, dw)
    g2 = rng.standard_normal((ws[0], ho * wo * n))
    padded_shape = _pad_hw(np.zeros((c, h, wd, n)), ph, ph, pw, pw).shape
    by_rows = _input_grad_by_kernel_rows(g2, w, padded_shape, (h, wd), (ph, pw), (dh, dw))
    by_col2im = _input_grad_col2im(g2, w.reshape(ws[0], -1), padded_shape, (h, wd), ws[2:], (1, 1), (ph, pw),
                                   (dh, dw))
    np.testing.assert_allclose(by_rows, by_col2im, rtol=1e-12, atol=1e-12)


def test_the_course_cnns_second_layer_multiplies_by_kernel_rows(rng, monkeypatch):
    """20 channels × 5 columns = 100 ≥ TAP_MIN_ROWS: the layer takes the kernel-row path (not im2col)."""
    unfolded = []
    original = conv_module._unfold
    monkeypatch.setattr(conv_module, "_unfold", lambda *a: unfolded.append(a[1:3]) or original(*a))
    x = rng.standard_normal((2, 20, 12, 12)).astype(np.float32)
    F.conv2d(gn.Tensor(x), gn.Tensor(rng.standard_normal((40, 20, 5, 5)).astype(np.float32)))
    F.conv2d(gn.Tensor(x[:, :1]), gn.Tensor(rng.standard_normal((4, 1, 5, 5)).astype(np.float32)))
    assert unfolded == [(5, 5)]  # only the 1-channel layer unfolded


def test_conv2d_reads_either_memory_order(rng):
    """An input in (C, H, W, N) memory order (another conv's output) and the same
    numbers C-contiguous give the same output and gradients; the output keeps
    the (C, H, W, N) order."""
    x = rng.standard_normal((3, 2, 6, 5))
    w = rng.standard_normal((4, 2, 3, 3))
    results = []
    for data in (x, np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)):
        xt, wt = gn.Tensor(data, requires_grad=True), gn.Tensor(w, requires_grad=True)
        y = F.conv2d(xt, wt, padding=1)
        assert y.data.transpose(1, 2, 3, 0).flags.c_contiguous
        (y * gn.Tensor(np.arange(y.data.size).reshape(y.shape) % 7)).sum().backward()
        results.append((y.data, xt.grad, wt.grad))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_conv2d_float64_stays_float64(rng):
    x = gn.Tensor(rng.standard_normal((2, 2, 5, 5)), requires_grad=True)
    w = gn.Tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == w.grad.dtype == np.float64


def test_conv2d_init_like_torch():
    layer = nn.Conv2d(16, 32, (5, 3))
    bound = 1 / np.sqrt(16 * 5 * 3)
    w, b = layer.weight.data, layer.bias.data
    assert w.shape == (32, 16, 5, 3) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.03 * bound  # the std of U(−a, a) is a/√3
    assert np.abs(b).max() <= bound


def test_conv2d_errors_name_layer_and_shapes():
    layer = nn.Conv2d(3, 8, 5)
    with pytest.raises(ValueError, match=r"Conv2d\(3, 8.*expected input \(N, 3, H, W\), got \(2, 1, 28, 28\)"):
        layer(gn.zeros(2, 1, 28, 28))
    with pytest.raises(ValueError, match=r"Conv2d\(3, 8.*\(2, 3, 4, 28\) is too small.*H ≥ 5"):
        layer(gn.zeros(2, 3, 4, 28))
    with pytest.raises(ValueError, match="expects 3 input channels"):
        F.conv2d(gn.zeros(1, 2, 5, 5), layer.weight)
    with pytest.raises(TypeError, match="share a dtype"):
        F.conv2d(gn.zeros(1, 3, 5, 5, dtype=np.float64), layer.weight)


def test_blocked_weight_gradient_product(rng):
    """The long, thin product behind the weight gradient, computed in blocks,
    equals the plain one (shape of the course's first layer: 20 × 25 weights,
    36864 positions)."""
    a, b = rng.standard_normal((20, 36864)), rng.standard_normal((25, 36864))
    np.testing.assert_allclose(_matmul_nt(a, b), a @ b.T, rtol=1e-10, atol=1e-9)


def test_dropout2d_drops_whole_channels(rng):
    x = gn.Tensor(rng.random((50, 40, 3, 4)).astype(np.float32) + 1, requires_grad=True)
    layer = nn.Dropout2d(0.3, generator=np.random.default_rng(5))
    y = layer(x)
    kept = (y.data != 0).reshape(50, 40, -1)
    assert np.all(kept.all(axis=-1) | ~kept.any(axis=-1)), "a map was partly dropped"
    kept = kept[..., 0][:, :, None, None]
    expected = np.where(kept, x.data * np.float32(1 / 0.7), 0)
    np.testing.assert_allclose(y.data, expected, rtol=1e-6)
    assert abs(1 - kept.mean() - 0.3) < 0.03
    y.backward(np.ones(y.shape, dtype=np.float32))
    np.testing.assert_allclose(x.grad, np.broadcast_to(np.where(kept, np.float32(1 / 0.7), 0), x.shape), rtol=1e-6)
    layer.eval()
    assert layer(x) is x


def test_dropout2d_is_reproducible():
    x = gn.ones(4, 6, 2, 2)
    a = F.dropout2d(x, 0.5, generator=np.random.default_rng(3)).data
    b = F.dropout2d(x, 0.5, generator=np.random.default_rng(3)).data
    np.testing.assert_array_equal(a, b)
