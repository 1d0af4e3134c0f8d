"""Generated 2-D sets: shapes, geometry, labels, seeding."""

import numpy as np
import pytest

from glassnet.data import make_circles, make_moons, make_spiral, make_xor

MAKERS = [make_spiral, make_xor, make_circles, make_moons]


@pytest.mark.parametrize("make", MAKERS)
def test_shapes_dtypes_and_seeding(make):
    kwargs = {"n_per_class": 50} if make is make_spiral else {"n_samples": 150}
    if make is make_xor:
        kwargs["noise"] = 0.1
    x, y = make(**kwargs, generator=np.random.default_rng(1))
    n = 150
    assert x.shape == (n, 2) and x.dtype == np.float32 and y.shape == (n,) and y.dtype == np.int64
    x2, y2 = make(**kwargs, generator=np.random.default_rng(1))
    x3, _ = make(**kwargs, generator=np.random.default_rng(2))
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(x, x3)


def test_spiral_geometry():
    x, y = make_spiral(100, classes=4, noise=0.3, generator=np.random.default_rng(0))
    np.testing.assert_array_equal(np.bincount(y), [100] * 4)
    r = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(r, np.tile(np.linspace(0, 1, 100), 4), atol=1e-6)  # noise moves the angle only
    clean, _ = make_spiral(100, classes=4, noise=0.0)
    t = np.arctan2(clean[1:100, 0], clean[1:100, 1])  # arm 0: angle t = linspace(0, 4)
    np.testing.assert_allclose(np.unwrap(t), np.linspace(0, 4, 100)[1:], atol=1e-5)


def test_xor_truth_table_and_two_relu_solution():
    x, y = make_xor()
    np.testing.assert_array_equal(x, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])
    # The curriculum's exact solution with 2 ReLU units reproduces the labels.
    h1 = np.maximum(x[:, 0] + x[:, 1] - 1, 0)
    h2 = np.maximum(-x[:, 0] - x[:, 1] + 1, 0)
    np.testing.assert_array_equal(-h1 - h2 + 1, y)
    xn, yn = make_xor(400, noise=0.1, generator=np.random.default_rng(0))
    np.testing.assert_array_equal(yn, (xn[:, 0] > 0.5) ^ (xn[:, 1] > 0.5))  # noise 0.1 stays near its corner
    assert np.abs(xn - np.round(xn)).std() > 0.05


def test_circles_and_moons_geometry():
    x, y = make_circles(101, noise=0.0, factor=0.3)
    r = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(r[y == 0], 1, rtol=1e-6)
    np.testing.assert_allclose(r[y == 1], 0.3, rtol=1e-6)
    assert (y == 0).sum() == 50 and (y == 1).sum() == 51
    with pytest.raises(ValueError, match=r"factor must lie in \(0, 1\), got 1.5"):
        make_circles(factor=1.5)
    x, y = make_moons(100, noise=0.0)
    a, b = x[y == 0], x[y == 1]
    np.testing.assert_allclose(np.hypot(*a.T), 1, rtol=1e-6)
    assert (a[:, 1] >= -1e-7).all() and (b[:, 1] <= 0.5 + 1e-7).all()
    np.testing.assert_allclose(np.hypot(1 - b[:, 0], 0.5 - b[:, 1]), 1, rtol=1e-6)
