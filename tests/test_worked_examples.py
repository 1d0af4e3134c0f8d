"""The course's worked examples, computed by glassnet."""

import warnings

import numpy as np
import pytest

import glassnet.functional as F
from glassnet import Tensor, nn

# cs231n's three training images (columns of its figure): scores for (cat, car, frog)
SCORES = np.array([[3.2, 5.1, -1.7],   # a cat
                   [1.3, 4.9, 2.0],    # a car
                   [2.2, 2.5, -3.1]])  # a frog
LABELS = np.array([0, 1, 2])


def test_multiclass_svm_loss_of_the_cat_is_2_9():
    # max(0, 5.1 − 3.2 + 1) + max(0, −1.7 − 3.2 + 1) = 2.9 + 0
    assert F.svm_loss(Tensor(SCORES[:1]), LABELS[:1]).item() == pytest.approx(2.9)
    per_image = F.svm_loss(Tensor(SCORES), LABELS, reduction="none").data
    np.testing.assert_allclose(per_image, [2.9, 0.0, 12.9])
    assert F.svm_loss(Tensor(SCORES), LABELS).item() == pytest.approx(5.27, abs=0.005)  # the course's mean


def test_softmax_of_the_cat_scores_and_its_cross_entropy():
    p = F.softmax(Tensor(SCORES[:1])).data[0]
    assert p[0] == pytest.approx(0.13, abs=0.005)
    loss = F.cross_entropy(Tensor(SCORES[:1]), LABELS[:1]).item()
    assert loss == pytest.approx(-np.log(p[0]))
    assert loss == pytest.approx(2.04, abs=0.005)
    # the course's 0.89 is the same loss in base 10: −log10 0.13
    assert loss / np.log(10) == pytest.approx(0.89, abs=0.005)


def test_l2_prefers_spread_weights_that_score_the_same():
    x = np.ones(4)
    w1, w2 = np.array([1.0, 0, 0, 0]), np.full(4, 0.25)
    assert w1 @ x == w2 @ x == 1.0
    assert F.l2_penalty(Tensor(w1)).item() == pytest.approx(1.0)
    assert F.l2_penalty(Tensor(w2)).item() == pytest.approx(0.25)
    # L1 cannot tell them apart
    assert F.l1_penalty(Tensor(w1)).item() == F.l1_penalty(Tensor(w2)).item() == 1.0


def test_book_l2_convention_gives_weight_decay_lambda_over_n():
    """C = C0 + λ/(2n)·Σw² adds (λ/n)·w to the gradient."""
    lam, n = 5.0, 100
    w = Tensor(np.array([0.5, -2.0, 1.0]), requires_grad=True)
    (F.l2_penalty(w) * (lam / (2 * n))).backward()
    np.testing.assert_allclose(w.grad, lam / n * w.data)


def test_softmax_of_huge_logits_is_finite_without_warnings():
    z = np.array([[1010.0, 1000.0, 990.0]])
    with np.errstate(over="ignore", invalid="ignore"):
        assert np.isnan((np.exp(z) / np.exp(z).sum()).sum())  # the naive formula overflows to inf/inf
    log_sum = np.log1p(np.exp(-10) + np.exp(-20))  # log Σ e^(z − 1010)
    expected_log_p = np.array([0.0, -10.0, -20.0]) - log_sum
    for dtype in (np.float32, np.float64):
        with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
            warnings.simplefilter("error")
            p = F.softmax(Tensor(z.astype(dtype))).data
            log_p = F.log_softmax(Tensor(z.astype(dtype))).data
            loss = F.cross_entropy(Tensor(z.astype(dtype)), np.array([2])).item()
        assert np.all(np.isfinite(p)) and p.sum() == pytest.approx(1.0)
        np.testing.assert_allclose(p[0], np.exp(expected_log_p), rtol=1e-5)
        np.testing.assert_allclose(log_p[0], expected_log_p, rtol=1e-5, atol=1e-7)  # float32 spacing near 1
        assert loss == pytest.approx(-expected_log_p[2], rel=1e-6)


def xor_net():
    """h1 = relu(x + y − 1), h2 = relu(−x − y + 1), out = −h1 − h2 + 1."""
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    net.load_state_dict({"0.weight": np.array([[1.0, 1.0], [-1.0, -1.0]]), "0.bias": np.array([-1.0, 1.0]),
                         "2.weight": np.array([[-1.0, -1.0]]), "2.bias": np.array([1.0])})
    return net


def test_two_relu_units_compute_xor_exactly():
    inputs = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    out = xor_net()(Tensor(inputs)).data[:, 0]
    np.testing.assert_array_equal(out, [0, 1, 1, 0])


def test_xor_is_not_linearly_separable():
    """The best affine fit to XOR (least squares) predicts 0.5 everywhere."""
    inputs = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float64)
    coef, *_ = np.linalg.lstsq(inputs, np.array([0.0, 1, 1, 0]), rcond=None)
    np.testing.assert_allclose(inputs @ coef, 0.5)
