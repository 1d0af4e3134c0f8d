"""The blocked convolution path of residual nets (functional.blocked_conv: 3×3 padding 1 and 1×1,
stride 1 or 2) against the general im2col path, finite differences and PyTorch."""

import numpy as np
import pytest

import glassnet as gn
import glassnet.functional as F
from glassnet.functional import blocked_conv as blocked


KERNELS = [(3, 1), (3, 2), (1, 1), (1, 2)]  # kernel, stride; padding (k - 1) / 2


def general(x, w, b, stride=1, padding=1):
    """conv2d on the general im2col path (the reference)."""
    applies, blocked.applies = blocked.applies, lambda *a: False
    try:
        return F.conv2d(x, w, b, stride=stride, padding=padding)
    finally:
        blocked.applies = applies


@pytest.mark.parametrize("k, stride", KERNELS)
@pytest.mark.parametrize("block_columns", [1, 13, 2048])  # one row per block, a ragged last block, one block
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batch_last", [True, False])
def test_blocked_path_equals_general_path(rng, monkeypatch, k, stride, block_columns, bias, batch_last):
    monkeypatch.setattr(blocked, "BLOCK_COLUMNS", block_columns)
    p = (k - 1) // 2
    x = rng.standard_normal((3, 4, 7, 6))
    if batch_last:  # another convolution's output order
        x = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    w, b = rng.standard_normal((5, 4, k, k)), rng.standard_normal(5) if bias else None
    ho, wo = (7 - 1) // stride + 1, (6 - 1) // stride + 1
    g = rng.standard_normal((3, 5, ho, wo))
    results = []
    for conv in (lambda *t: F.conv2d(*t, stride=stride, padding=p), lambda *t: general(*t, stride, p)):
        xt, wt = gn.Tensor(x, requires_grad=True), gn.Tensor(w, requires_grad=True)
        bt = gn.Tensor(b, requires_grad=True) if bias else None
        y = conv(xt, wt, bt)
        y.backward(g)
        results.append([y.data, xt.grad, wt.grad] + ([bt.grad] if bias else []))
    ours, reference = results
    assert ours[0].transpose(1, 2, 3, 0).flags.c_contiguous  # the (C, H, W, N) order conv2d hands over
    for a, r in zip(ours, reference):
        assert a.shape == r.shape and a.dtype == r.dtype == np.float64
        np.testing.assert_allclose(a, r, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("k, stride", KERNELS)
def test_blocked_path_gradcheck(rng, monkeypatch, k, stride):
    monkeypatch.setattr(blocked, "BLOCK_COLUMNS", 20)
    inputs = [gn.Tensor(rng.standard_normal(s), requires_grad=True) for s in ((2, 3, 5, 6), (4, 3, k, k), (4,))]
    report = gn.gradcheck(lambda *t: F.conv2d(*t, stride=stride, padding=(k - 1) // 2), inputs, eps=1e-3)
    assert report.max_rel_error < 1e-6, str(report)


@pytest.mark.parametrize("k, stride", KERNELS)
def test_blocked_path_float32_matches_torch(torch, rng, assert_close, k, stride):
    x = rng.standard_normal((6, 8, 9, 9)).astype(np.float32)
    w = (rng.standard_normal((16, 8, k, k)) * 0.2).astype(np.float32)
    size = (9 - 1) // stride + 1
    g = rng.standard_normal((6, 16, size, size)).astype(np.float32)
    xt, wt = gn.Tensor(x, requires_grad=True), gn.Tensor(w, requires_grad=True)
    y = F.conv2d(xt, wt, stride=stride, padding=(k - 1) // 2)
    y.backward(g)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ty = torch.nn.functional.conv2d(tx, tw, stride=stride, padding=(k - 1) // 2)
    ty.backward(torch.from_numpy(g))
    assert y.dtype == xt.grad.dtype == wt.grad.dtype == np.float32
    assert_close(y.data, ty.detach().numpy(), rtol=1e-4, atol=1e-4, what="blocked output")
    assert_close(xt.grad, tx.grad.numpy(), rtol=1e-4, atol=1e-4, what="blocked input grad")
    assert_close(wt.grad, tw.grad.numpy(), rtol=1e-4, atol=1e-3, what="blocked weight grad")


def test_only_input_or_only_weight_gradient(rng):
    x, w = rng.standard_normal((2, 2, 4, 4)), rng.standard_normal((3, 2, 3, 3))
    for x_grad, w_grad in ((True, False), (False, True)):
        xt, wt = gn.Tensor(x, requires_grad=x_grad), gn.Tensor(w, requires_grad=w_grad)
        F.conv2d(xt, wt, padding=1).sum().backward()
        assert (xt.grad is not None) == x_grad and (wt.grad is not None) == w_grad


def test_path_taken_only_for_the_residual_nets_convolutions():
    for kernel, stride, padding in (((3, 3), (1, 1), (1, 1)), ((3, 3), (2, 2), (1, 1)), ((1, 1), (2, 2), (0, 0)),
                                    ((1, 1), (1, 1), (0, 0))):
        assert blocked.applies(kernel, stride, padding, (1, 1))
    for kernel, stride, padding, dilation in (((5, 5), (1, 1), (0, 0), (1, 1)),  # the course CNN's layers
                                              ((3, 3), (1, 1), (0, 0), (1, 1)), ((3, 3), (1, 1), (1, 1), (2, 2)),
                                              ((3, 3), (3, 3), (1, 1), (1, 1)), ((3, 3), (1, 2), (1, 1), (1, 1)),
                                              ((1, 1), (1, 1), (1, 1), (1, 1)), ((3, 2), (1, 1), (1, 1), (1, 1))):
        assert not blocked.applies(kernel, stride, padding, dilation)


@pytest.mark.parametrize("k, stride", KERNELS)
def test_blocks_on_two_threads_give_the_same_bits(rng, monkeypatch, k, stride):
    """Under glassnet.threads(2) the blocks run on two Python threads (BLAS on one meanwhile);
    each block's weight-gradient product is summed in block order, so every bit matches one thread's."""
    monkeypatch.setattr(blocked, "BLOCK_COLUMNS", 16)
    x = rng.standard_normal((4, 3, 9, 8)).astype(np.float32)
    w = rng.standard_normal((5, 3, k, k)).astype(np.float32)
    g = rng.standard_normal((4, 5, (9 - 1) // stride + 1, (8 - 1) // stride + 1)).astype(np.float32)
    results = []
    for threads in (1, 2, 2):
        with gn.threads(threads):
            xt, wt = gn.Tensor(x, requires_grad=True), gn.Tensor(w, requires_grad=True)
            y = F.conv2d(xt, wt, stride=stride, padding=(k - 1) // 2)
            y.backward(g)
        results.append((y.data, xt.grad, wt.grad))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)


def test_a_7x7_image_is_cut_into_blocks_for_two_threads(rng):
    """At the default block size a 7×7 output of 64 images (the resnet's last stage) would fit
    in 2 blocks of 4 and 3 rows; it is cut into 4 (2, 2, 2, 1 rows), whatever the threads, and
    two threads give one thread's bits."""
    assert blocked._block_rows(7, 7, 64) == 2 and blocked._block_rows(28, 28, 64) == 1
    x = rng.standard_normal((64, 8, 7, 7)).astype(np.float32)
    w = rng.standard_normal((8, 8, 3, 3)).astype(np.float32)
    g = rng.standard_normal((64, 8, 7, 7)).astype(np.float32)
    results = []
    for threads in (1, 2):
        with gn.threads(threads):
            xt, wt = gn.Tensor(x, requires_grad=True), gn.Tensor(w, requires_grad=True)
            y = F.conv2d(xt, wt, padding=1)
            y.backward(g)
        results.append((y.data, xt.grad, wt.grad))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_blocks_on_two_threads_in_a_forked_child(rng, monkeypatch):
    """A process forked after the block threads started makes its own (the parent's are not in it)."""
    import multiprocessing

    monkeypatch.setattr(blocked, "BLOCK_COLUMNS", 16)  # several blocks: the threads are used

    x = rng.standard_normal((4, 2, 8, 8)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    with gn.threads(2):
        expected = F.conv2d(gn.Tensor(x), gn.Tensor(w), padding=1).data
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        got = pool.apply_async(_conv_on_two_threads, (x, w)).get(timeout=60)
    np.testing.assert_array_equal(got, expected)


def _conv_on_two_threads(x, w):
    with gn.threads(2):
        return np.ascontiguousarray(F.conv2d(gn.Tensor(x), gn.Tensor(w), padding=1).data)


@pytest.mark.parametrize("k, stride", KERNELS)
def test_blocked_path_single_example_and_unbatched(rng, k, stride):
    x = rng.standard_normal((1, 2, 5, 6))
    w = rng.standard_normal((3, 2, k, k))
    xt, wt = gn.Tensor(x, requires_grad=True), gn.Tensor(w, requires_grad=True)
    y = F.conv2d(xt, wt, stride=stride, padding=(k - 1) // 2)
    y.sum().backward()
    rx, rw = gn.Tensor(x, requires_grad=True), gn.Tensor(w, requires_grad=True)
    r = general(rx, rw, None, stride, (k - 1) // 2)
    r.sum().backward()
    for a, b in ((y.data, r.data), (xt.grad, rx.grad), (wt.grad, rw.grad)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    layer = gn.nn.Conv2d(2, 3, k, stride=stride, padding=(k - 1) // 2, dtype=np.float64)
    assert layer(gn.Tensor(x[0])).shape == r.shape[1:]  # unbatched (C, H, W)


@pytest.mark.parametrize("blocks", [1, 3])
def test_blocks_under_two_threads_run_the_blas_on_one(blocks):
    """Under glassnet.threads(2) every block sees a one-thread BLAS, a lone block too (a product the
    BLAS split would leave its worker spinning on the core the next blocks need); afterwards the
    setting is 2 again."""
    from glassnet.functional._blocks import run_blocks

    seen = []
    with gn.threads(2):
        run_blocks(blocks, 1, lambda i, r, state: seen.append(gn.get_num_threads()), workers=2)
        after = gn.get_num_threads()
    assert seen == [1] * blocks
    assert after == 2


def test_resnet_gradients_are_the_same_bits_on_one_and_two_threads(rng):
    """A whole resnet_small forward and backward: every parameter's gradient is bit for bit the same
    under glassnet.threads(1) and (2) (the lone blocks of the small layers once ran their products on
    both BLAS threads, whose split changed the last bits)."""
    from glassnet.models.resnet import resnet_small

    x = rng.random((16, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 16)
    grads = []
    for threads in (1, 2):
        gn.seed(0)
        model = resnet_small()
        with gn.threads(threads):
            F.cross_entropy(model(gn.Tensor(x)), y).backward()
        grads.append([p.grad for p in model.parameters()])
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)
