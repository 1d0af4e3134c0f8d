"""The optional numba kernels (functional._numba_kernels) against the NumPy code they stand in for:
batch norm in training (forward, backward, running statistics), the residual join, max pooling's
backward pass, ReLU's backward pass and Adam's and SGD's updates."""

import numpy as np
import pytest

import glassnet as gn
from glassnet import optim
from glassnet.functional import _numba_kernels
from glassnet.functional.activations import relu
from glassnet.functional.normalization import batch_norm
from glassnet.functional.pooling import max_pool2d
from glassnet.functional.residual import add_relu

pytest.importorskip("numba", reason="numba is not installed: the NumPy code runs alone")


def chwn(a):
    """The same numbers in conv2d's (C, H, W, N) memory order."""
    return np.ascontiguousarray(a.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)


def both(monkeypatch, fn):
    """fn() with the compiled kernels, then with GLASSNET_NUMBA=0 (NumPy)."""
    results = []
    for flag in ("1", "0"):
        monkeypatch.setenv("GLASSNET_NUMBA", flag)
        results.append(fn())
    assert _numba_kernels.available() is False  # the flag is read on each call
    return results


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-10), (np.float32, 2e-4)])
@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("threads", [1, 2])
def test_batch_norm_kernels_equal_numpy(rng, monkeypatch, dtype, tol, relu, affine, threads):
    x = chwn((rng.standard_normal((6, 5, 7, 4)) * 3 + 1).astype(dtype))
    g = chwn(rng.standard_normal(x.shape).astype(dtype))
    gamma, beta = (rng.random(5) + 0.5).astype(dtype), (rng.standard_normal(5) * 0.1).astype(dtype)

    def run():
        xt = gn.Tensor(x, requires_grad=True)
        w, b = (gn.Tensor(gamma, requires_grad=True), gn.Tensor(beta, requires_grad=True)) if affine else (None, None)
        mean, var = np.zeros(5, dtype), np.ones(5, dtype)
        with gn.threads(threads):
            y = batch_norm(xt, mean, var, w, b, training=True, momentum=0.1, relu=relu)
            y.backward(g)
        assert y.data.transpose(1, 2, 3, 0).flags.c_contiguous and y.dtype == dtype
        return [y.data, xt.grad, mean, var] + ([w.grad, b.grad] if affine else [])

    compiled, reference = both(monkeypatch, run)
    for a, r in zip(compiled, reference):
        assert a.dtype == r.dtype == dtype
        np.testing.assert_allclose(a, r, rtol=tol, atol=tol * 10)


def test_batch_norm_kernel_without_input_gradient(rng, monkeypatch):
    x = chwn(rng.standard_normal((4, 3, 5, 5)))
    w = gn.Tensor(np.ones(3), requires_grad=True)

    def run():
        w.grad = None
        batch_norm(gn.Tensor(x), np.zeros(3), np.ones(3), w, None, training=True, relu=True).sum().backward()
        return w.grad.copy()

    compiled, reference = both(monkeypatch, run)
    np.testing.assert_allclose(compiled, reference, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("order", ["chwn", "nchw"])
@pytest.mark.parametrize("threads", [1, 2])
def test_add_relu_kernel_equals_numpy_bit_for_bit(rng, monkeypatch, order, threads):
    make = (lambda s: chwn(rng.standard_normal(s).astype(np.float32))) if order == "chwn" else (
        lambda s: rng.standard_normal(s).astype(np.float32))
    a, b, g = make((3, 4, 5, 6)), make((3, 4, 5, 6)), make((3, 4, 5, 6))

    def run():
        ta, tb = gn.Tensor(a, requires_grad=True), gn.Tensor(b, requires_grad=True)
        with gn.threads(threads):
            y = add_relu(ta, tb)
            y.backward(g)
        assert y.data.strides == a.strides  # the inputs' memory order kept
        return y.data, ta.grad, tb.grad

    compiled, reference = both(monkeypatch, run)
    for c, r in zip(compiled, reference):
        np.testing.assert_array_equal(c, r)


@pytest.mark.parametrize("shape", [(1, 3, 4, 5), (1, 3, 7), (2, 3, 7)])  # one C-contiguous example; a sequence batch
def test_batch_norm_kernels_for_other_layouts(rng, monkeypatch, shape):
    """Rows (1, C, B) also come from a single C-contiguous example; (N, C, L) batches take the NumPy code."""
    x = rng.standard_normal(shape)
    g = rng.standard_normal(shape)

    def run():
        xt, w = gn.Tensor(x, requires_grad=True), gn.Tensor(np.ones(3), requires_grad=True)
        y = batch_norm(xt, np.zeros(3), np.ones(3), w, None, training=True, relu=True)
        y.backward(g)
        assert y.data.flags.c_contiguous
        return y.data, xt.grad, w.grad

    compiled, reference = both(monkeypatch, run)
    for a, r in zip(compiled, reference):
        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel, size", [(2, (6, 8)), (2, (7, 9)), (3, (6, 6)), ((2, 3), (6, 7))])
@pytest.mark.parametrize("threads", [1, 2])
def test_max_pool_backward_kernel_equals_numpy_bit_for_bit(rng, monkeypatch, dtype, kernel, size, threads):
    """Windows with ties (the first maximum wins), with NaN (the last NaN wins) and sizes the windows
    do not tile (the rows and columns past the last window get 0): the same dx as the NumPy code."""
    x = np.round(rng.standard_normal((5, 3) + size) * 2).astype(dtype)  # integers: many ties
    x[0, 0, 0, :2] = np.nan
    x[1, 2, :3, 0] = np.nan
    x[2, 1, 1, 1] = np.nan
    x = chwn(x)
    calls = []
    kernel_fn = _numba_kernels.max_pool_backward
    monkeypatch.setattr(_numba_kernels, "max_pool_backward", lambda *a: calls.append(1) or kernel_fn(*a))

    def run():
        xt = gn.Tensor(x, requires_grad=True)
        with gn.threads(threads):
            y = max_pool2d(xt, kernel)
            y.backward(chwn(rng.standard_normal(y.shape).astype(dtype)))
        return y.data, xt.grad

    rng_state = rng.bit_generator.state
    compiled = run()
    assert calls == [1]  # the compiled kernel ran
    monkeypatch.setenv("GLASSNET_NUMBA", "0")
    rng.bit_generator.state = rng_state  # the same g
    reference = run()
    assert calls == [1]
    for c, r in zip(compiled, reference):
        assert c.dtype == r.dtype == dtype
        np.testing.assert_array_equal(c, r)


@pytest.mark.parametrize("layout, kwargs", [("nchw", {}), ("chwn", {"stride": 1}), ("chwn", {"padding": 1}),
                                            ("chwn", {"ceil_mode": True})])
def test_max_pool_takes_numpy_where_the_kernel_does_not_apply(rng, monkeypatch, layout, kwargs):
    """C-contiguous inputs, overlapping or padded windows and ceil_mode's partial windows: the NumPy code."""
    x = rng.standard_normal((2, 3, 5, 5))
    x = chwn(x) if layout == "chwn" else x
    monkeypatch.setattr(_numba_kernels, "max_pool_backward", lambda *a: pytest.fail("the kernel ran"))
    xt = gn.Tensor(x, requires_grad=True)
    max_pool2d(xt, 2, **kwargs).sum().backward()
    assert xt.grad.shape == x.shape


def optimizer_runs(rng, monkeypatch, dtype, threads, kernel: str, make_optimizer):
    """Five steps of ``make_optimizer([p])`` on a parameter large enough for one slice per thread, with
    an infinite weight, a NaN weight and a NaN gradient among the ordinary ones, first with the compiled
    ``kernel`` (asserted to run each step), then with the NumPy code: (compiled, reference), each
    [weights, *state arrays], the state's step count left out."""
    size = _numba_kernels._FLAT_SLICE_MIN + 1001
    w0 = rng.standard_normal(size).astype(dtype)
    w0[:3] = [np.inf, np.nan, 0.0]
    grads = rng.standard_normal((5, size)).astype(dtype)
    grads[1, 5] = np.nan
    calls = []
    kernel_fn = getattr(_numba_kernels, kernel)
    monkeypatch.setattr(_numba_kernels, kernel, lambda *a, **k: calls.append(1) or kernel_fn(*a, **k))

    def run():
        p = gn.Tensor(w0.copy(), requires_grad=True)
        opt = make_optimizer([p])
        with gn.threads(threads), np.errstate(invalid="ignore"):
            for g in grads:
                p.grad = g.copy()
                opt.step()
        state = opt.state[id(p)]
        return [p.data] + [state[k] for k in sorted(state) if k != "step"]

    compiled = run()
    assert len(calls) == len(grads)  # the compiled kernel ran
    monkeypatch.setenv("GLASSNET_NUMBA", "0")
    reference = run()
    assert len(calls) == len(grads)
    assert np.isnan(reference[0]).sum() >= 2  # the NaNs went through
    for c, r in zip(compiled, reference):
        assert c.dtype == r.dtype == dtype
        assert c.tobytes() == r.tobytes()
    return compiled, reference


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [{}, {"weight_decay": 0.1}, {"weight_decay": 0.1, "decoupled_weight_decay": True},
                                     {"amsgrad": True}, {"maximize": True, "amsgrad": True, "weight_decay": 0.01}])
@pytest.mark.parametrize("threads", [1, 2])
def test_adam_kernel_equals_numpy_bit_for_bit(rng, monkeypatch, dtype, options, threads):
    """Adam's weights and moments, bit for bit, as the NumPy code (NaN where it gives NaN), in every
    option the kernel covers."""
    optimizer_runs(rng, monkeypatch, dtype, threads, "adam", lambda params: optim.Adam(params, lr=1e-2, **options))


@pytest.mark.parametrize("case", ["small", "strided grad", "float16"])
def test_adam_takes_numpy_where_the_kernel_does_not_apply(rng, monkeypatch, case):
    """Parameters under 4,096 numbers, gradients that are not C-contiguous and other dtypes: the NumPy code."""
    shape, dtype = ((10, 10), np.float32) if case == "small" else ((100, 100), np.float16 if case == "float16"
                                                                     else np.float32)
    p = gn.Tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
    g = rng.standard_normal(shape[::-1]).astype(dtype)
    p.grad = g.T if case == "strided grad" else g.T.copy()
    monkeypatch.setattr(_numba_kernels, "adam", lambda *a, **k: pytest.fail("the kernel ran"))
    before = p.data.copy()
    with np.errstate(divide="ignore"):  # float16: ε = 1e-8 rounds to 0
        optim.Adam([p], lr=1e-2).step()
    assert not np.array_equal(p.data, before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [{}, {"weight_decay": 0.1}, {"momentum": 0.9},
                                     {"momentum": 0.9, "nesterov": True, "weight_decay": 5e-4},
                                     {"momentum": 0.5, "dampening": 0.1, "maximize": True}])
@pytest.mark.parametrize("threads", [1, 2])
def test_sgd_kernel_equals_numpy_bit_for_bit(rng, monkeypatch, dtype, options, threads):
    """SGD's weights and momentum buffer (created by the first step), bit for bit, as the NumPy code,
    in every option."""
    _, reference = optimizer_runs(rng, monkeypatch, dtype, threads, "sgd",
                                  lambda params: optim.SGD(params, lr=1e-2, **options))
    assert len(reference) == (2 if options.get("momentum") else 1)


def test_sgd_takes_numpy_where_the_kernel_does_not_apply(rng, monkeypatch):
    """A momentum buffer of another dtype than the parameter (a loaded state): the NumPy code."""
    p = gn.Tensor(rng.standard_normal((100, 100)).astype(np.float32), requires_grad=True)
    opt = optim.SGD([p], lr=1e-2, momentum=0.9)
    opt.state[id(p)] = {"momentum_buffer": np.ones((100, 100))}
    p.grad = rng.standard_normal((100, 100)).astype(np.float32)
    monkeypatch.setattr(_numba_kernels, "sgd", lambda *a, **k: pytest.fail("the kernel ran"))
    expected = p.data - np.float32(1e-2) * (0.9 * np.ones((100, 100)) + p.grad)
    opt.step()
    np.testing.assert_allclose(p.data, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("order", ["chwn", "nchw"])
@pytest.mark.parametrize("threads", [1, 2])
def test_relu_backward_kernel_equals_numpy(rng, monkeypatch, order, threads):
    """g·[x > 0] for a gradient as large as the course CNN's first ReLU, in either memory order."""
    shape = (4, 8, 48, 48)  # 73,728 numbers: over the kernel's minimum
    make = (lambda: chwn(rng.standard_normal(shape).astype(np.float32))) if order == "chwn" else (
        lambda: rng.standard_normal(shape).astype(np.float32))
    x, g = make(), make()
    calls = []
    assert _numba_kernels.available()
    kernel_fn = _numba_kernels._kernels["relu_mask"]
    monkeypatch.setitem(_numba_kernels._kernels, "relu_mask", lambda *a: calls.append(1) or kernel_fn(*a))

    def run():
        xt = gn.Tensor(x, requires_grad=True)
        with gn.threads(threads):
            relu(xt).backward(g)
        return xt.grad

    compiled = run()
    assert calls  # the compiled kernel ran
    monkeypatch.setenv("GLASSNET_NUMBA", "0")
    calls.clear()
    reference = run()
    assert not calls
    assert compiled.shape == reference.shape == x.shape
    np.testing.assert_array_equal(compiled, reference)


@pytest.mark.parametrize("case", ["small", "mixed layouts"])
def test_relu_backward_takes_numpy_where_the_kernel_does_not_apply(rng, monkeypatch, case):
    x = rng.standard_normal((2, 3, 8, 8) if case == "small" else (4, 8, 48, 48)).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    if case == "mixed layouts":
        g = chwn(g)
    monkeypatch.setitem(_numba_kernels._kernels, "relu_mask", lambda *a: pytest.fail("the kernel ran"))
    xt = gn.Tensor(x, requires_grad=True)
    relu(xt).backward(g)
    np.testing.assert_array_equal(xt.grad, g * (x > 0))
