"""Loss options as PyTorch's: cross_entropy's weight, ignore_index,
label_smoothing and (N, C, H, W) scores; nll_loss's weight and ignore_index;
BCE-with-logits' pos_weight and weight; Embedding(max_norm=). Against PyTorch
(forward and backward) and gradchecked in float64."""

import numpy as np
import pytest

import glassnet as gn
import glassnet.functional as F
from glassnet import Tensor, nn
from tests.conftest import assert_close, compare_with_torch

C = 5
WEIGHT = np.array([0.5, 2.0, 1.0, 0.1, 3.0], dtype=np.float32)

CE_CASES = [dict(label_smoothing=0.1), dict(weight=WEIGHT), dict(ignore_index=2), dict(ignore_index=-100),
            dict(weight=WEIGHT, ignore_index=1, label_smoothing=0.2)]


def _labels(rng, shape, ignore=None):
    y = rng.integers(0, C, size=shape)
    if ignore is not None:
        y.flat[::3] = ignore  # some positions ignored
    return y


def _torch_options(torch, options):
    return {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(6,), (2, 3, 4)], ids=["rows", "per-pixel"])
@pytest.mark.parametrize("options", CE_CASES, ids=str)
def test_cross_entropy_options_match_torch(torch, rng, options, shape, reduction):
    logits = rng.standard_normal((shape[0], C) + shape[1:]).astype(np.float32)
    y = _labels(rng, shape, options.get("ignore_index"))
    compare_with_torch(torch, lambda s: F.cross_entropy(s, y, reduction, **options),
                       lambda s: torch.nn.functional.cross_entropy(s, torch.from_numpy(y), reduction=reduction,
                                                                   **_torch_options(torch, options)),
                       [logits], what=f"cross_entropy {options}")


@pytest.mark.parametrize("options", [dict(label_smoothing=0.3), dict(weight=WEIGHT),
                                     dict(weight=WEIGHT, label_smoothing=0.1)], ids=str)
def test_cross_entropy_probability_targets_match_torch(torch, rng, options):
    logits = rng.standard_normal((4, C, 3)).astype(np.float32)
    target = rng.dirichlet(np.ones(C), size=(4, 3)).transpose(0, 2, 1).astype(np.float32)
    compare_with_torch(torch, lambda s, t: F.cross_entropy(s, t, **options),
                       lambda s, t: torch.nn.functional.cross_entropy(s, t, **_torch_options(torch, options)),
                       [logits, target], what=f"soft cross_entropy {options}")


@pytest.mark.parametrize("options", CE_CASES[1:], ids=str)
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_nll_loss_options_match_torch(torch, rng, options, reduction):
    options = {k: v for k, v in options.items() if k != "label_smoothing"}
    log_p = rng.standard_normal((3, C, 2, 2)).astype(np.float32)
    y = _labels(rng, (3, 2, 2), options.get("ignore_index"))
    compare_with_torch(torch, lambda s: F.nll_loss(s, y, reduction, **options),
                       lambda s: torch.nn.functional.nll_loss(s, torch.from_numpy(y), reduction=reduction,
                                                              **_torch_options(torch, options)),
                       [log_p], what=f"nll_loss {options}")


@pytest.mark.parametrize("options", [dict(label_smoothing=0.1), dict(weight=WEIGHT, ignore_index=1,
                                                                     label_smoothing=0.2)], ids=str)
def test_cross_entropy_options_gradcheck(rng, options):
    y = _labels(rng, (2, 3), options.get("ignore_index"))
    options = {k: v.astype(np.float64) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    logits = Tensor(rng.standard_normal((2, C, 3)), requires_grad=True)
    report = gn.gradcheck(lambda s: F.cross_entropy(s, y, "none", **options), [logits])
    assert report.max_rel_error < 1e-6, str(report)


def test_cross_entropy_modules_keep_weight_as_torch(torch):
    ours = nn.CrossEntropyLoss(weight=WEIGHT, ignore_index=3, label_smoothing=0.1)
    theirs = torch.nn.CrossEntropyLoss(weight=torch.from_numpy(WEIGHT), ignore_index=3, label_smoothing=0.1)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == list(torch.nn.CrossEntropyLoss().state_dict()) == []
    logits = np.random.default_rng(0).standard_normal((4, C)).astype(np.float32)
    y = np.array([0, 3, 4, 1])
    assert ours(Tensor(logits), y).item() == pytest.approx(theirs(torch.from_numpy(logits), torch.from_numpy(y)).item(),
                                                           rel=1e-6)
    nll = nn.NLLLoss(weight=WEIGHT, ignore_index=0, reduction="sum")
    expected = torch.nn.NLLLoss(weight=torch.from_numpy(WEIGHT), ignore_index=0, reduction="sum")(
        torch.from_numpy(logits), torch.from_numpy(y))
    assert nll(Tensor(logits), y).item() == pytest.approx(expected.item(), rel=1e-6)


def test_ignored_labels_may_be_out_of_range_and_others_may_not():
    logits = Tensor(np.zeros((3, C), dtype=np.float32))
    assert F.cross_entropy(logits, np.array([-100, 1, 2])).item() == pytest.approx(np.log(C), rel=1e-6)
    with pytest.raises(ValueError, match=r"labels must be in the range \[0, 5\) for 5 classes \(or -100, ignored\)"):
        F.cross_entropy(logits, np.array([7, 1, 2]))
    with pytest.raises(ValueError, match=r"scores \(2, 5, 3\) need labels of shape \(2, 3\), got \(2,\)"):
        F.cross_entropy(Tensor(np.zeros((2, C, 3), dtype=np.float32)), np.array([1, 2]))
    with pytest.raises(ValueError, match=r"weight must have one value per class, shape \(5,\)"):
        F.cross_entropy(logits, np.array([0, 1, 2]), weight=np.ones(4))


@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("options", [dict(pos_weight=np.array([0.5, 3.0, 1.0], dtype=np.float32)),
                                     dict(weight=np.array([2.0, 1.0, 0.0], dtype=np.float32)),
                                     dict(pos_weight=np.array([4.0, 0.2, 1.0], dtype=np.float32),
                                          weight=np.array([[1.0], [0.5], [2.0], [1.0]], dtype=np.float32))], ids=str)
def test_bce_with_logits_weights_match_torch(torch, rng, options, reduction):
    z = (3 * rng.standard_normal((4, 3))).astype(np.float32)
    y = rng.random((4, 3)).astype(np.float32)
    compare_with_torch(torch, lambda z, y: nn.BCEWithLogitsLoss(reduction, **options)(z, y),
                       lambda z, y: torch.nn.BCEWithLogitsLoss(reduction=reduction,
                                                               **_torch_options(torch, options))(z, y),
                       [z, y], what=f"BCEWithLogitsLoss {options}")
    report = gn.gradcheck(lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction, **options),
                          [Tensor(z.astype(np.float64), requires_grad=True),
                           Tensor(y.astype(np.float64), requires_grad=True)])
    assert report.max_rel_error < 1e-6, str(report)


def test_bce_with_logits_pos_weight_is_stable_for_large_logits():
    out = F.binary_cross_entropy_with_logits(Tensor(np.array([-200.0, 200.0])), np.array([1.0, 0.0]),
                                             pos_weight=np.array(3.0))
    assert np.isfinite(out.item()) and out.item() == pytest.approx((3 * 200 + 200) / 2)


def test_embedding_max_norm_renormalizes_rows_as_torch(torch, rng):
    table = (3 * rng.standard_normal((6, 4))).astype(np.float32)
    ours = nn.Embedding.from_pretrained(table, freeze=False, max_norm=1.5)
    theirs = torch.nn.Embedding.from_pretrained(torch.from_numpy(table.copy()), freeze=False, max_norm=1.5)
    ids = np.array([[0, 2, 2], [5, 0, 1]])
    r = rng.standard_normal((2, 3, 4)).astype(np.float32)
    out, expected = ours(ids), theirs(torch.from_numpy(ids))
    assert_close(out, expected, what="Embedding(max_norm) lookup")
    (out * Tensor(r)).sum().backward()
    (expected * torch.from_numpy(r)).sum().backward()
    assert_close(ours.weight.grad, theirs.weight.grad, what="Embedding(max_norm) gradient")
    assert_close(ours.weight, theirs.weight, what="the renormalised table")
    assert np.array_equal(ours.weight.data[3], table[3]), "a row that was not looked up changed"
    assert np.linalg.norm(ours.weight.data[2]) <= 1.5 + 1e-5
