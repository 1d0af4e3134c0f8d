"""Pooling: finite differences (no ties, by construction), PyTorch as the oracle
(ties included), layouts, the pyramid's fixed length, errors."""

import numpy as np
import pytest

import glassnet as gn
import glassnet.functional as F
from glassnet import nn


def distinct(rng, shape) -> gn.Tensor:
    """float64 values that are pairwise ≥ 0.1 apart (a shuffled ramp): no window
    has a tie, so max pooling is differentiable at the point."""
    values = rng.permutation(np.prod(shape)).reshape(shape) * 0.1
    return gn.Tensor(values - values.mean(), requires_grad=True)


def check(fn, x) -> None:
    """Pooling is linear between ties, and no step of h = 1e-3 on values 0.1
    apart crosses one, so the central difference is exact up to round-off,
    which a larger h keeps small."""
    report = gn.gradcheck(fn, [x], eps=1e-3)
    assert report.max_rel_error < 1e-6, str(report)


def chw_n(a: np.ndarray) -> np.ndarray:
    """The same (N, C, H, W) values in (C, H, W, N) memory order, as conv2d returns them."""
    return np.ascontiguousarray(a.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)


def nchw(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a)


def in_layout(layout, module):
    """``module`` applied to its input re-laid out by ``layout`` (an identity op
    in the graph, so the gradient reaches the caller's tensor)."""
    return lambda t: module(gn.Tensor.from_op(layout(t.data), (t,), lambda g: (g,), "relayout"))


WINDOW_CASES = [  # input shape, kernel, stride, padding
    ((2, 3, 7, 9), 2, None, 0),      # odd sizes: the last row and column are dropped
    ((2, 2, 7, 7), 3, 2, 0),         # overlapping windows
    ((1, 3, 6, 7), 3, 2, 1),         # overlapping with padding
    ((2, 2, 5, 8), (2, 3), (1, 2), (1, 0)),
]


@pytest.mark.parametrize("shape, kernel, stride, padding", WINDOW_CASES)
@pytest.mark.parametrize("pool", [F.max_pool2d, F.avg_pool2d])
def test_pool_gradcheck(rng, pool, shape, kernel, stride, padding):
    check(lambda x: pool(x, kernel, stride, padding), distinct(rng, shape))


@pytest.mark.parametrize("output_size", [(3, 2), (4, 4), 1, (2, 5)])
@pytest.mark.parametrize("pool", [F.adaptive_max_pool2d, F.adaptive_avg_pool2d])
def test_adaptive_pool_gradcheck(rng, pool, output_size):
    check(lambda x: pool(x, output_size), distinct(rng, (2, 2, 7, 5)))


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_spatial_pyramid_gradcheck(rng, mode):
    check(lambda x: F.spatial_pyramid_pool2d(x, (1, 2, 3), mode), distinct(rng, (2, 2, 7, 5)))


@pytest.mark.parametrize("layout", [nchw, chw_n])
@pytest.mark.parametrize("shape, kernel, stride, padding", WINDOW_CASES + [((4, 5, 24, 24), 2, 2, 0)])
def test_max_pool_matches_torch(torch, rng, layout, shape, kernel, stride, padding, compare_with_torch):
    x = rng.standard_normal(shape).astype(np.float32)
    compare_with_torch(torch, in_layout(layout, nn.MaxPool2d(kernel, stride, padding)),
                       torch.nn.MaxPool2d(kernel, stride, padding), [x], what="MaxPool2d")


@pytest.mark.parametrize("layout", [nchw, chw_n])
@pytest.mark.parametrize("kernel, stride", [(2, None), (3, 2), (3, 1)])
def test_max_pool_ties_go_to_one_winner_like_torch(torch, rng, layout, kernel, stride, compare_with_torch):
    """After a ReLU whole windows are 0; with integer values many windows tie.
    The gradient goes to the first maximum of each window, as in PyTorch."""
    x = np.maximum(np.round(rng.standard_normal((3, 4, 9, 9)) * 1.5), 0).astype(np.float32)
    compare_with_torch(torch, in_layout(layout, nn.MaxPool2d(kernel, stride)), torch.nn.MaxPool2d(kernel, stride),
                       [x], what="MaxPool2d with ties")


@pytest.mark.parametrize("layout", [nchw, chw_n])
@pytest.mark.parametrize("shape, kernel, stride, padding", WINDOW_CASES)
def test_avg_pool_matches_torch(torch, rng, layout, shape, kernel, stride, padding, compare_with_torch):
    x = rng.standard_normal(shape).astype(np.float32)
    compare_with_torch(torch, in_layout(layout, nn.AvgPool2d(kernel, stride, padding)),
                       torch.nn.AvgPool2d(kernel, stride, padding), [x], what="AvgPool2d")


@pytest.mark.parametrize("layout", [nchw, chw_n])
@pytest.mark.parametrize("shape, output_size", [((2, 3, 9, 11), (4, 3)), ((2, 3, 8, 8), 4), ((2, 3, 8, 8), 2),
                                                ((2, 3, 3, 3), 4), ((1, 2, 10, 7), (3, 5))])
@pytest.mark.parametrize("kind", ["Max", "Avg"])
def test_adaptive_pools_match_torch(torch, rng, kind, shape, output_size, layout, compare_with_torch):
    x = rng.standard_normal(shape).astype(np.float32)
    compare_with_torch(torch, in_layout(layout, getattr(nn, f"Adaptive{kind}Pool2d")(output_size)),
                       getattr(torch.nn, f"Adaptive{kind}Pool2d")(output_size), [x], what=f"Adaptive{kind}Pool2d")


def test_adaptive_max_pool_ties_like_torch(torch, rng, compare_with_torch):
    x = np.round(rng.standard_normal((2, 3, 9, 7))).astype(np.float32)
    compare_with_torch(torch, nn.AdaptiveMaxPool2d((4, 3)), torch.nn.AdaptiveMaxPool2d((4, 3)), [x],
                       what="AdaptiveMaxPool2d with ties")


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_spatial_pyramid_is_the_levels_side_by_side(torch, rng, mode, assert_close):
    x = rng.standard_normal((3, 4, 13, 10)).astype(np.float32)
    pool = torch.nn.functional.adaptive_max_pool2d if mode == "max" else torch.nn.functional.adaptive_avg_pool2d
    expected = torch.cat([pool(torch.from_numpy(x), level).flatten(1) for level in (1, 2, 4)], dim=1)
    out = nn.SpatialPyramidPool2d((1, 2, 4), mode)(gn.Tensor(x))
    assert_close(out, expected, what=f"SPP ({mode})")


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_spatial_pyramid_length_does_not_depend_on_size(rng, mode):
    spp = nn.SpatialPyramidPool2d((1, 2, 4), mode)
    lengths = {spp(gn.Tensor(rng.standard_normal((2, 40, s, s)).astype(np.float32))).shape for s in (28, 32, 5, 13)}
    assert lengths == {(2, 40 * 21)} and spp.output_length(40) == 40 * 21


def test_global_avg_pool(torch, rng, compare_with_torch):
    x = rng.standard_normal((3, 5, 7, 6)).astype(np.float32)
    out, _ = compare_with_torch(torch, nn.GlobalAvgPool2d(),
                                lambda t: torch.nn.functional.adaptive_avg_pool2d(t, 1).flatten(1), [x],
                                what="GlobalAvgPool2d")
    assert out.shape == (3, 5)


def test_pools_keep_dtype_and_layout(rng):
    x = chw_n(rng.standard_normal((4, 3, 8, 8)).astype(np.float32))
    for pool in (F.max_pool2d, F.avg_pool2d):
        y = pool(gn.Tensor(x), 2)
        assert y.dtype == np.float32
        assert np.argsort(y.data.strides).tolist() == np.argsort(x.strides).tolist()


def test_pool_errors():
    x = gn.zeros(1, 2, 4, 4)
    with pytest.raises(ValueError, match="max_pool2d: padding .* at most half the kernel"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match=r"avg_pool2d: input 4×4 .* smaller than the kernel 5×5"):
        F.avg_pool2d(x, 5)
    with pytest.raises(ValueError, match=r"expected input \(N, C, H, W\), got shape \(2, 4, 4\)"):
        F.max_pool2d(gn.zeros(2, 4, 4), 2)
    with pytest.raises(ValueError, match="mode must be 'max' or 'avg'"):
        nn.SpatialPyramidPool2d(mode="median")
