"""The blocked 3×3 "same" convolution path (functional.conv3x3) against the general im2col path,
finite differences and PyTorch."""

import numpy as np
import pytest

import glassnet as gn
import glassnet.functional as F
from glassnet.functional import conv3x3


def general(x, w, b):
    """conv2d on the general im2col path (the reference)."""
    applies, conv3x3.applies = conv3x3.applies, lambda *a: False
    try:
        return F.conv2d(x, w, b, padding=1)
    finally:
        conv3x3.applies = applies


@pytest.mark.parametrize("block_columns", [1, 13, 2048])  # one row per block, a ragged last block, one block
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batch_last", [True, False])
def test_blocked_path_equals_general_path(rng, monkeypatch, block_columns, bias, batch_last):
    monkeypatch.setattr(conv3x3, "BLOCK_COLUMNS", block_columns)
    x = rng.standard_normal((3, 4, 7, 6))
    if batch_last:  # another convolution's output order
        x = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    w, b = rng.standard_normal((5, 4, 3, 3)), rng.standard_normal(5) if bias else None
    g = rng.standard_normal((3, 5, 7, 6))
    results = []
    for conv in (lambda *t: F.conv2d(*t, padding=1), general):
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


def test_blocked_path_gradcheck(rng, monkeypatch):
    monkeypatch.setattr(conv3x3, "BLOCK_COLUMNS", 20)
    inputs = [gn.Tensor(rng.standard_normal(s), requires_grad=True) for s in ((2, 3, 5, 6), (4, 3, 3, 3), (4,))]
    report = gn.gradcheck(lambda *t: F.conv2d(*t, padding=1), inputs, eps=1e-3)
    assert report.max_rel_error < 1e-6, str(report)


def test_blocked_path_float32_matches_torch(torch, rng, assert_close):
    x = rng.standard_normal((6, 8, 9, 9)).astype(np.float32)
    w = (rng.standard_normal((16, 8, 3, 3)) * 0.2).astype(np.float32)
    g = rng.standard_normal((6, 16, 9, 9)).astype(np.float32)
    xt, wt = gn.Tensor(x, requires_grad=True), gn.Tensor(w, requires_grad=True)
    y = F.conv2d(xt, wt, padding=1)
    y.backward(g)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ty = torch.nn.functional.conv2d(tx, tw, padding=1)
    ty.backward(torch.from_numpy(g))
    assert y.dtype == xt.grad.dtype == wt.grad.dtype == np.float32
    assert_close(y.data, ty.detach().numpy(), rtol=1e-4, atol=1e-4, what="conv3x3 output")
    assert_close(xt.grad, tx.grad.numpy(), rtol=1e-4, atol=1e-4, what="conv3x3 input grad")
    assert_close(wt.grad, tw.grad.numpy(), rtol=1e-4, atol=1e-3, what="conv3x3 weight grad")


def test_only_input_or_only_weight_gradient(rng):
    x, w = rng.standard_normal((2, 2, 4, 4)), rng.standard_normal((3, 2, 3, 3))
    for x_grad, w_grad in ((True, False), (False, True)):
        xt, wt = gn.Tensor(x, requires_grad=x_grad), gn.Tensor(w, requires_grad=w_grad)
        F.conv2d(xt, wt, padding=1).sum().backward()
        assert (xt.grad is not None) == x_grad and (wt.grad is not None) == w_grad


def test_path_taken_only_for_3x3_same_stride_1():
    assert conv3x3.applies((3, 3), (1, 1), (1, 1), (1, 1))
    for kernel, stride, padding, dilation in (((5, 5), (1, 1), (0, 0), (1, 1)), ((3, 3), (2, 2), (1, 1), (1, 1)),
                                              ((3, 3), (1, 1), (0, 0), (1, 1)), ((3, 3), (1, 1), (1, 1), (2, 2))):
        assert not conv3x3.applies(kernel, stride, padding, dilation)


def test_blocks_on_two_threads_give_the_same_bits(rng, monkeypatch):
    """Under glassnet.threads(2) the blocks run on two Python threads (BLAS on one meanwhile);
    each block's weight-gradient product is summed in block order, so every bit matches one thread's."""
    monkeypatch.setattr(conv3x3, "BLOCK_COLUMNS", 16)
    x = rng.standard_normal((4, 3, 9, 8)).astype(np.float32)
    w = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)
    g = rng.standard_normal((4, 5, 9, 8)).astype(np.float32)
    results = []
    for threads in (1, 2, 2):
        with gn.threads(threads):
            xt, wt = gn.Tensor(x, requires_grad=True), gn.Tensor(w, requires_grad=True)
            y = F.conv2d(xt, wt, padding=1)
            y.backward(g)
        results.append((y.data, xt.grad, wt.grad))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)
