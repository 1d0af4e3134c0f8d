"""Losses and penalties: gradcheck (float64), agreement with PyTorch (float32,
both label forms, every reduction), stability, and errors."""

import warnings

import numpy as np
import pytest

import glassnet as gn
import glassnet.functional as F
from glassnet import Tensor, nn

TOL = 1e-6
REDUCTIONS = ["mean", "sum", "none"]
N, C = 6, 4


def check(fn, *inputs):
    report = gn.gradcheck(fn, list(inputs))
    assert report.max_rel_error < TOL, str(report)


def logits(rng, dtype=np.float64):
    return (2 * rng.standard_normal((N, C))).astype(dtype)


def labels(rng):
    return rng.integers(0, C, N)


def probs(rng, dtype=np.float64):
    """Rows of a probability distribution (soft targets)."""
    e = np.exp(rng.standard_normal((N, C)))
    return (e / e.sum(axis=1, keepdims=True)).astype(dtype)


def scores_without_hinge_kinks(rng, y, margin=1.0):
    """Scores whose margins s_j − s_y + Δ (j ≠ y) are all at least 0.05 away
    from 0, the hinge's kink (at j = y the margin is Δ)."""
    s = 2 * rng.standard_normal((N, C))
    m = s - s[np.arange(N), y][:, None] + margin
    s[np.abs(m) < 0.05] += 0.1
    return s


# ---------------------------------------------------------------- gradcheck
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_losses_gradcheck(rng, reduction):
    y = labels(rng)
    target = rng.random((N, C))
    p = Tensor(rng.uniform(0.05, 0.95, (N, C)), requires_grad=True)
    cases = {
        "quadratic": (F.quadratic_cost, [Tensor(logits(rng), requires_grad=True), Tensor(target, requires_grad=True)]),
        "quadratic-1d": (F.quadratic_cost, [Tensor(rng.standard_normal(N), requires_grad=True), rng.random(N)]),
        "bce": (F.binary_cross_entropy, [p, Tensor(target, requires_grad=True)]),
        "bce-logits": (F.binary_cross_entropy_with_logits,
                       [Tensor(logits(rng), requires_grad=True), Tensor(target, requires_grad=True)]),
        "ce-labels": (lambda s: F.cross_entropy(s, y, reduction), [Tensor(logits(rng), requires_grad=True)]),
        "ce-probs": (F.cross_entropy, [Tensor(logits(rng), requires_grad=True), Tensor(probs(rng), requires_grad=True)]),
        "ce-unnormalised-targets": (F.cross_entropy, [Tensor(logits(rng), requires_grad=True), Tensor(target)]),
        "nll": (lambda lp: F.nll_loss(lp, y, reduction), [Tensor(logits(rng), requires_grad=True)]),
        "svm": (lambda s: F.svm_loss(s, y, reduction=reduction),
                [Tensor(scores_without_hinge_kinks(rng, y), requires_grad=True)]),
        "svm-margin2": (lambda s: F.svm_loss(s, y, margin=2.0, reduction=reduction),
                        [Tensor(scores_without_hinge_kinks(rng, y, 2.0), requires_grad=True)]),
        "multi-margin": (lambda s: F.multi_margin_loss(s, y, reduction=reduction),
                         [Tensor(scores_without_hinge_kinks(rng, y), requires_grad=True)]),
    }
    for name, (fn, inputs) in cases.items():
        two_args = len(inputs) == 2
        wrapped = (lambda a, b, fn=fn: fn(a, b, reduction=reduction)) if two_args else fn
        report = gn.gradcheck(wrapped, inputs)
        assert report.max_rel_error < TOL, f"{name}: {report}"


def test_penalties_gradcheck(rng):
    w1, w2 = (Tensor(rng.standard_normal(s), requires_grad=True) for s in [(3, 4), (5,)])
    check(lambda a, b: F.l2_penalty([a, b]), w1, w2)
    check(lambda a, b: F.l1_penalty([a, b]), w1, w2)  # no element at the kink 0
    check(F.l2_penalty, w1)


def test_loss_reductions_are_consistent(rng):
    s, y = Tensor(logits(rng)), labels(rng)
    per_example = F.cross_entropy(s, y, reduction="none")
    assert per_example.shape == (N,)
    assert F.cross_entropy(s, y, reduction="sum").item() == pytest.approx(per_example.data.sum())
    assert F.cross_entropy(s, y).item() == pytest.approx(per_example.data.mean())
    assert F.binary_cross_entropy_with_logits(s, np.ones((N, C)), reduction="none").shape == (N, C)
    assert F.quadratic_cost(s, np.zeros((N, C)), reduction="none").shape == (N,)


# ---------------------------------------------------------------- vs PyTorch
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_matches_torch_with_labels_and_probabilities(torch, rng, reduction, assert_close, compare_with_torch):
    tf = torch.nn.functional
    compare_with_torch(torch, lambda s, y: F.cross_entropy(s, y, reduction),
                       lambda s, y: tf.cross_entropy(s, y, reduction=reduction),
                       [logits(rng, np.float32), labels(rng)], what="cross_entropy(labels)")
    compare_with_torch(torch, lambda s, y: F.cross_entropy(s, y, reduction),
                       lambda s, y: tf.cross_entropy(s, y, reduction=reduction),
                       [logits(rng, np.float32), probs(rng, np.float32)], what="cross_entropy(probabilities)")
    one_hot = np.eye(C, dtype=np.float32)[labels(rng)]
    s = logits(rng, np.float32)
    assert_close(F.cross_entropy(Tensor(s), one_hot, reduction),
                 F.cross_entropy(Tensor(s), one_hot.argmax(axis=1), reduction), what="one-hot = labels")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_matches_torch(torch, rng, reduction, compare_with_torch):
    lp = F.log_softmax(Tensor(logits(rng, np.float32))).data
    compare_with_torch(torch, lambda a, y: F.nll_loss(a, y, reduction),
                       lambda a, y: torch.nn.functional.nll_loss(a, y, reduction=reduction),
                       [lp, labels(rng)], what="nll_loss")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropies_match_torch(torch, rng, reduction, compare_with_torch):
    tf = torch.nn.functional
    p = rng.uniform(0.02, 0.98, (N, C)).astype(np.float32)
    y = rng.random((N, C)).astype(np.float32)
    compare_with_torch(torch, lambda p, y: F.binary_cross_entropy(p, y, reduction),
                       lambda p, y: tf.binary_cross_entropy(p, y, reduction=reduction),
                       [p, y], rtol=1e-5, atol=1e-5, what="binary_cross_entropy")
    z = (5 * rng.standard_normal((N, C))).astype(np.float32)
    z[0, :2] = [80.0, -80.0]  # far into saturation
    compare_with_torch(torch, lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction),
                       lambda z, y: tf.binary_cross_entropy_with_logits(z, y, reduction=reduction),
                       [z, y], what="binary_cross_entropy_with_logits")


@pytest.mark.parametrize("margin", [1.0, 2.5])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_hinge_losses_match_torch(torch, rng, margin, reduction, compare_with_torch):
    y = labels(rng)
    s = scores_without_hinge_kinks(rng, y, margin).astype(np.float32)
    theirs = lambda s, y: torch.nn.functional.multi_margin_loss(s, y, margin=margin, reduction=reduction)
    compare_with_torch(torch, lambda s, y: F.multi_margin_loss(s, y, margin, reduction), theirs,
                       [s, y], what="multi_margin_loss")
    # the SVM loss is PyTorch's times C (PyTorch divides by the number of classes)
    compare_with_torch(torch, lambda s, y: F.svm_loss(s, y, margin, reduction) * (1.0 / C), theirs,
                       [s, y], what="svm_loss / C")


def test_quadratic_cost_matches_torch_expression(torch, rng, compare_with_torch):
    a, y = logits(rng, np.float32), rng.random((N, C)).astype(np.float32)
    compare_with_torch(torch, F.quadratic_cost, lambda a, y: 0.5 * ((a - y) ** 2).sum(dim=1).mean(),
                       [a, y], what="quadratic_cost")
    # = PyTorch's MSELoss (mean over all elements) × C/2
    mse = torch.nn.functional.mse_loss(torch.from_numpy(a), torch.from_numpy(y)).item()
    assert F.quadratic_cost(Tensor(a), y).item() == pytest.approx(mse * C / 2, rel=1e-5)


def test_penalties_match_torch(torch, rng, compare_with_torch):
    w1, w2 = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(5).astype(np.float32)
    compare_with_torch(torch, lambda a, b: F.l2_penalty([a, b]), lambda a, b: (a ** 2).sum() + (b ** 2).sum(),
                       [w1, w2], what="l2_penalty")
    compare_with_torch(torch, lambda a, b: F.l1_penalty([a, b]), lambda a, b: a.abs().sum() + b.abs().sum(),
                       [w1, w2], what="l1_penalty")


def test_loss_modules_match_torch_modules(torch, rng, compare_with_torch):
    y, s = labels(rng), logits(rng, np.float32)
    p, t = rng.uniform(0.05, 0.95, (N, C)).astype(np.float32), rng.random((N, C)).astype(np.float32)
    pairs = [
        (nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), [s, y]),
        (nn.CrossEntropyLoss(reduction="sum"), torch.nn.CrossEntropyLoss(reduction="sum"), [s, probs(rng, np.float32)]),
        (nn.NLLLoss(), torch.nn.NLLLoss(), [s, y]),
        (nn.BCELoss(), torch.nn.BCELoss(), [p, t]),
        (nn.BCEWithLogitsLoss(reduction="none"), torch.nn.BCEWithLogitsLoss(reduction="none"), [s, t]),
        (nn.MultiMarginLoss(margin=0.5), torch.nn.MultiMarginLoss(margin=0.5),
         [scores_without_hinge_kinks(rng, y, 0.5).astype(np.float32), y]),
    ]
    for ours, theirs, arrays in pairs:
        compare_with_torch(torch, ours, theirs, arrays, atol=1e-5, what=repr(ours))


def test_svm_and_quadratic_modules_equal_functions(rng):
    y, s = labels(rng), Tensor(logits(rng))
    assert nn.SVMLoss(margin=2.0)(s, y).item() == F.svm_loss(s, y, margin=2.0).item()
    t = rng.random((N, C))
    assert nn.QuadraticCost(reduction="sum")(s, t).item() == F.quadratic_cost(s, t, "sum").item()
    assert repr(nn.SVMLoss()) == "SVMLoss(margin=1.0, reduction='mean')"
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss(reduction='mean')"


# ------------------------------------------------------------ the book's δ
def test_output_errors_of_the_three_costs(rng):
    """δ = dC/dz for one example: quadratic (a−y)σ′(z), sigmoid cross-entropy
    a−y, softmax log-likelihood p−y."""
    z = Tensor(rng.standard_normal((1, C)), requires_grad=True)
    y = np.eye(C)[[2]]
    a = F.sigmoid(z)
    F.quadratic_cost(a, y).backward()
    np.testing.assert_allclose(z.grad, (a.data - y) * a.data * (1 - a.data))
    z.grad = None
    F.binary_cross_entropy_with_logits(z, y, reduction="sum").backward()
    np.testing.assert_allclose(z.grad, a.data - y)
    z.grad = None
    F.cross_entropy(z, y).backward()
    np.testing.assert_allclose(z.grad, F.softmax(z).data - y)


# ---------------------------------------------------------------- stability
def test_bce_with_logits_stable_for_any_logit():
    z = Tensor(np.array([-1000.0, -100.0, 0.0, 100.0, 1000.0], dtype=np.float32), requires_grad=True)
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0], dtype=np.float32)
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        loss = F.binary_cross_entropy_with_logits(z, y, reduction="none")
        loss.sum().backward()
    np.testing.assert_allclose(loss.data, [1000, 0, np.log(2), 0, 1000], atol=1e-6)
    np.testing.assert_allclose(z.grad, [-1, 0, -0.5, 0, 1], atol=1e-6)


def test_bce_on_probabilities_is_clip_safe(torch, assert_close):
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5], dtype=np.float32)
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = F.binary_cross_entropy(Tensor(p), y, reduction="none").data
    np.testing.assert_allclose(ours, [0, 0, 100, 100, np.log(2)], rtol=1e-6)  # log clamped at −100
    expected = torch.nn.functional.binary_cross_entropy(torch.from_numpy(p), torch.from_numpy(y), reduction="none")
    assert_close(ours, expected)


def test_cross_entropy_stable_for_huge_logits():
    s = Tensor(np.array([[1e4, 0.0, -1e4], [0.0, 0.0, 0.0]], dtype=np.float32), requires_grad=True)
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        loss = F.cross_entropy(s, np.array([1, 2]), reduction="none")
        loss.sum().backward()
    np.testing.assert_allclose(loss.data, [1e4, np.log(3)], rtol=1e-6)
    np.testing.assert_allclose(s.grad, [[1, -1, 0], [1 / 3, 1 / 3, -2 / 3]], atol=1e-6)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss, F.svm_loss, F.multi_margin_loss])
@pytest.mark.parametrize("bad", [-1, 4])
def test_labels_out_of_range_are_rejected_with_the_range(fn, bad):
    y = np.array([0, 1, bad, 2])
    with pytest.raises(ValueError, match=r"\[0, 4\)") as info:
        fn(Tensor(np.zeros((4, 4), dtype=np.float32)), y)
    assert fn.__name__ in str(info.value)


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss, F.svm_loss])
def test_labels_of_wrong_shape_or_type(fn):
    s = Tensor(np.zeros((4, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"\(4,\).*\(3,\)"):
        fn(s, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        fn(Tensor(np.zeros(3, dtype=np.float32)), np.array([0, 1, 2]))
    if fn is not F.cross_entropy:  # cross_entropy reads float targets as probabilities
        with pytest.raises(TypeError, match="integers"):
            fn(s, np.array([0.0, 1.0, 2.0, 0.0]))


@pytest.mark.parametrize("fn", [F.quadratic_cost, F.binary_cross_entropy, F.binary_cross_entropy_with_logits,
                                F.cross_entropy])
def test_target_shape_mismatch_names_both_shapes(fn):
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(4, 2\)"):
        fn(Tensor(np.full((4, 3), 0.5, dtype=np.float32)), np.zeros((4, 2), dtype=np.float32))


def test_bad_reduction_and_bad_probabilities():
    s = Tensor(np.full((2, 2), 0.5, dtype=np.float32))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(s, np.array([0, 1]), reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        nn.BCELoss(reduction="max")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        F.binary_cross_entropy(Tensor(np.array([0.5, 1.5], dtype=np.float32)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="no parameters"):
        F.l2_penalty([])


def test_float32_losses_stay_float32(rng):
    s = Tensor(logits(rng, np.float32), requires_grad=True)
    for loss in [F.cross_entropy(s, labels(rng)), F.svm_loss(s, labels(rng)), F.quadratic_cost(s, np.zeros((N, C))),
                 F.binary_cross_entropy_with_logits(s, np.ones((N, C))), F.l2_penalty(s)]:
        assert loss.dtype == np.float32
        s.grad = None
        loss.backward()
        assert s.grad.dtype == np.float32


# ------------------------------------------------------ the book's costs by name
def test_the_books_costs_equal_their_formulas_and_pass_gradcheck(rng, assert_close):
    z = rng.normal(size=(5, 4))
    labels = np.array([0, 3, 1, 1, 2])
    y = np.eye(4)[labels]
    a = 1 / (1 + np.exp(-z))
    expected_ce = -(y * np.log(a) + (1 - y) * np.log(1 - a)).sum(axis=1).mean()
    expected_quadratic = 0.5 * ((a - y) ** 2).sum(axis=1).mean()
    for target in (labels, y):  # integer labels or one-hot rows
        assert_close(F.sigmoid_cross_entropy(Tensor(z), target).data, expected_ce, rtol=1e-12)
        assert_close(F.sigmoid_quadratic_cost(Tensor(z), target).data, expected_quadratic, rtol=1e-12)
    for cost in (F.sigmoid_cross_entropy, F.sigmoid_quadratic_cost):
        report = gn.gradcheck(lambda t, cost=cost: cost(t, labels), [Tensor(z, requires_grad=True)])
        assert report.max_rel_error < 1e-7, report
    assert set(F.losses.COSTS) == {"cross-entropy", "sigmoid-cross-entropy", "quadratic", "svm"}
    with pytest.raises(ValueError, match="labels must be in the range"):
        F.sigmoid_cross_entropy(Tensor(z), np.array([0, 1, 2, 3, 4]))
