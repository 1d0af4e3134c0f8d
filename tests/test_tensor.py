"""Tensor and autograd: every op passes a float64 gradient check, and the
graph semantics (reuse, second backward, no_grad, detach) hold."""

import numpy as np
import pytest

import glassnet as gn
from glassnet import Tensor
from glassnet.tensor import unbroadcast

TOL = 1e-6


def leaf(rng, *shape, low=None):
    """A float64 leaf with standard-normal entries (or uniform in [low, low+1))."""
    data = rng.standard_normal(shape) if low is None else low + rng.random(shape)
    return Tensor(np.asarray(data, dtype=np.float64), requires_grad=True)


def check(fn, *inputs):
    report = gn.gradcheck(fn, list(inputs))
    assert report.max_rel_error < TOL, str(report)


# ------------------------------------------------------------ arithmetic
BROADCAST_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((4,), ())]


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
def test_binary_ops_gradcheck_with_broadcasting(rng, op, shapes):
    a = leaf(rng, *shapes[0])
    b = leaf(rng, *shapes[1], low=0.5)  # away from 0 for div
    fn = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b,
          "mul": lambda a, b: a * b, "div": lambda a, b: a / b}[op]
    out = fn(a, b)
    assert out.shape == np.broadcast_shapes(shapes[0], shapes[1])
    check(fn, a, b)


def test_reflected_ops_and_negation_gradcheck(rng):
    x = leaf(rng, 3, 4, low=0.5)
    check(lambda x: 2.0 - x, x)
    check(lambda x: 3.0 / x, x)
    check(lambda x: -x * 2.5 + 1.0, x)
    with gn.no_grad():
        np.testing.assert_allclose((3.0 / x).data, 3.0 / x.data)
        np.testing.assert_allclose((2.0 - x).data, 2.0 - x.data)


@pytest.mark.parametrize("p", [2, 3, 0.5, -1.5])
def test_pow_gradcheck(rng, p):
    check(lambda x: x ** p, leaf(rng, 3, 4, low=0.5))


MATMUL_SHAPES = [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 5)),
                 ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4,))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_gradcheck_batched_and_broadcast(rng, shapes):
    a, b = leaf(rng, *shapes[0]), leaf(rng, *shapes[1])
    out = a @ b
    np.testing.assert_allclose(out.data, a.data @ b.data)
    check(lambda a, b: a @ b, a, b)


def test_matmul_shape_error_names_both_shapes(rng):
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(5, 2\)"):
        Tensor(np.ones((3, 4))) @ Tensor(np.ones((5, 2)))


# ------------------------------------------------------------- reductions
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("op", ["sum", "mean", "max"])
def test_reductions_gradcheck(rng, op, axis, keepdims):
    x = leaf(rng, 2, 3, 4)  # distinct values: no ties for max
    out = getattr(x, op)(axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.data, getattr(x.data, op)(axis=axis, keepdims=keepdims))
    check(lambda x: getattr(x, op)(axis=axis, keepdims=keepdims), x)


def test_max_gradient_keeps_float32():
    """Regression: the tie count was int64, so g / count turned a float32
    gradient into float64 (and the sentence CNN's conv1d backward, fed that
    gradient, ran its products in float64 with casts: 3× slower)."""
    x = Tensor(np.arange(12, dtype=np.float32).reshape(3, 4), requires_grad=True)
    x.max(axis=1).sum().backward()
    assert x.grad.dtype == np.float32


def test_max_routes_gradient_to_winner_and_splits_ties():
    x = Tensor(np.array([[1.0, 5.0, 2.0], [3.0, 3.0, 0.0]]), requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1, 0], [0.5, 0.5, 0]])


# ---------------------------------------------------------------- shapes
def test_reshape_transpose_gradcheck(rng):
    x = leaf(rng, 2, 3, 4)
    check(lambda x: x.reshape(6, 4), x)
    check(lambda x: x.reshape(-1), x)
    check(lambda x: x.transpose(), x)
    check(lambda x: x.transpose(2, 0, 1), x)
    check(lambda x: x.T, leaf(rng, 3, 5))
    check(lambda x: x.flatten(1), x)
    assert x.transpose(2, 0, 1).shape == (4, 2, 3)


@pytest.mark.parametrize("index", [
    (slice(1, 3), slice(None, None, 2)),
    ([0, 0, 2, 0],),                      # repeated rows: gradients add up
    (np.array([1, 1, 0]), np.array([2, 2, 3])),  # repeated (row, col) pairs
    (Ellipsis, 1),
    (1,),
], ids=["slices", "repeated-rows", "repeated-pairs", "ellipsis", "int"])
def test_getitem_gradcheck(rng, index):
    x = leaf(rng, 3, 4)
    index = index[0] if len(index) == 1 else index
    np.testing.assert_array_equal(x[index].data, x.data[index])
    check(lambda x: x[index], x)


def test_getitem_repeated_index_accumulates():
    x = Tensor(np.arange(4.0), requires_grad=True)
    x[[0, 0, 0, 3]].sum().backward()
    np.testing.assert_array_equal(x.grad, [3, 0, 0, 1])


def test_getitem_boolean_mask_and_tensor_index(rng):
    x = leaf(rng, 3, 4)
    mask = x.data > 0
    check(lambda x: x[mask], x)
    idx = Tensor(np.array([2, 0]))
    np.testing.assert_array_equal(x[idx].data, x.data[[2, 0]])


# ---------------------------------------------------------------- unary
@pytest.mark.parametrize("op", ["exp", "log", "sqrt", "abs"])
def test_unary_gradcheck(rng, op):
    x = leaf(rng, 3, 4, low=0.5)  # positive, away from 0 (log, sqrt, the kink of abs)
    np.testing.assert_allclose(getattr(x, op)().data, getattr(np, op)(x.data))
    check(lambda x: getattr(x, op)(), x)


def test_clip_gradcheck_away_from_bounds():
    x = Tensor(np.array([-2.0, -0.7, 0.1, 0.6, 3.0]), requires_grad=True)
    check(lambda x: x.clip(-1, 1), x)
    x.grad = None
    x.clip(-1, 1).sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 1, 1, 1, 0])


def test_where_gradcheck_with_broadcasting(rng):
    a, b = leaf(rng, 3, 4), leaf(rng, 4)
    cond = rng.random((3, 4)) > 0.5
    np.testing.assert_array_equal(gn.where(cond, a, b).data, np.where(cond, a.data, b.data))
    check(lambda a, b: gn.where(cond, a, b), a, b)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_cat_and_stack_gradcheck(rng, axis):
    a, b, c = leaf(rng, 2, 3), leaf(rng, 2, 3), leaf(rng, 2, 3)
    np.testing.assert_array_equal(gn.cat([a, b], axis=axis).data, np.concatenate([a.data, b.data], axis=axis))
    np.testing.assert_array_equal(gn.stack([a, b, c], axis=axis).data, np.stack([a.data, b.data, c.data], axis=axis))
    check(lambda a, b, c: gn.cat([a, b, c], axis=axis), a, b, c)
    check(lambda a, b, c: gn.stack([a, b, c], axis=axis), a, b, c)


def test_cat_of_unequal_pieces(rng):
    a, b = leaf(rng, 2, 3), leaf(rng, 2, 5)
    check(lambda a, b: gn.cat([a, b], axis=1), a, b)


def test_composite_expression_gradcheck(rng):
    x, w = leaf(rng, 4, 3), leaf(rng, 3, 2)
    check(lambda x, w: ((x @ w).exp().sum(axis=1).log() * (x ** 2).mean()), x, w)


# ------------------------------------------------------ graph semantics
def test_reused_node_sums_its_gradients(rng):
    x = leaf(rng, 5)
    (x * x + x).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.data + 1)
    check(lambda x: x * x + x, x)


def test_diamond_graph_is_visited_once_per_node(rng):
    x = leaf(rng, 4)
    y = x.exp()
    z = y * y + y * 3.0  # y feeds two ops
    z.sum().backward()
    e = np.exp(x.data)
    np.testing.assert_allclose(x.grad, (2 * e + 3) * e)


def test_second_backward_raises_without_retain_graph(rng):
    x = leaf(rng, 3)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        loss.backward()


def test_retain_graph_allows_second_backward_and_leaf_grads_accumulate(rng):
    x = leaf(rng, 3)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    first = x.grad.copy()
    loss.backward()
    np.testing.assert_allclose(x.grad, 2 * first)
    (x * x).sum().backward()  # a fresh graph: accumulates again
    np.testing.assert_allclose(x.grad, 3 * first)


def test_two_leaves_never_share_a_gradient_array():
    a, b = (Tensor(np.ones(3), requires_grad=True) for _ in range(2))
    g = np.ones(3)
    (a + b).backward(g)
    a.grad += 1  # an in-place update (as an optimizer might do) touches only a
    np.testing.assert_array_equal(b.grad, [1, 1, 1])
    np.testing.assert_array_equal(g, [1, 1, 1])
    a.grad = b.grad = None
    (a.reshape(3, 1) + b.reshape(3, 1)).sum().backward()
    assert not np.shares_memory(a.grad, b.grad)


def test_backward_needs_scalar_or_explicit_grad(rng):
    x = leaf(rng, 3)
    with pytest.raises(RuntimeError, match="one-element"):
        (x * 2).backward()
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        (x * 2).backward(np.ones(2))
    (x * 2).backward(np.ones(3))
    np.testing.assert_array_equal(x.grad, [2, 2, 2])
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).backward()


def test_no_grad_records_nothing(rng):
    x = leaf(rng, 3)
    with gn.no_grad():
        y = x * 2
        assert not gn.is_grad_enabled()
        with gn.enable_grad():
            assert (x * 2).requires_grad
    assert gn.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf

    @gn.no_grad()
    def f(t):
        return t * 3

    assert not f(x).requires_grad


def test_detach_shares_data_and_stops_gradient(rng):
    x = leaf(rng, 3)
    d = x.detach()
    assert np.shares_memory(d.data, x.data) and not d.requires_grad
    (x * d).sum().backward()  # d is a constant: d/dx (x·d) = d
    np.testing.assert_allclose(x.grad, x.data)


# ---------------------------------------------------------- dtypes, misc
def test_float32_default_and_preserved():
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert x.dtype == np.float32
    y = (x * 2.5 + 1) / 3 - x ** 2
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32
    assert Tensor(np.zeros(2)).dtype == np.float64  # float64 arrays stay float64
    assert gn.zeros(2, 3).dtype == np.float32 and gn.ones(2, dtype=np.float64).dtype == np.float64


def test_astype_casts_gradient_back(rng):
    x = Tensor(rng.standard_normal(3).astype(np.float32), requires_grad=True)
    (x.double() * 2).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [2, 2, 2])


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="floating"):
        Tensor(np.arange(3), requires_grad=True)


def test_item_numpy_comparisons():
    x = Tensor([[1.0, -2.0]])
    assert Tensor([3.5]).item() == 3.5
    with pytest.raises(ValueError, match="one-element"):
        x.item()
    assert x.numpy() is x.data
    np.testing.assert_array_equal((x > 0).data, [[True, False]])
    np.testing.assert_array_equal((x <= -2).data, [[False, True]])
    np.testing.assert_array_equal(x.eq(1.0).data, [[True, False]])
    assert (x > 0).dtype == bool


def test_unbroadcast_sums_added_and_stretched_axes():
    g = np.ones((2, 3, 4))
    np.testing.assert_array_equal(unbroadcast(g, (3, 1)), np.full((3, 1), 8.0))
    np.testing.assert_array_equal(unbroadcast(g, (4,)), np.full(4, 6.0))
    np.testing.assert_array_equal(unbroadcast(g, ()), 24.0)
    assert unbroadcast(g, (2, 3, 4)) is g
