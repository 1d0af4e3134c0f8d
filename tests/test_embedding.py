import numpy as np
import pytest

import glassnet as gn
import glassnet.functional as F
from glassnet import nn, optim


def test_embedding_gradcheck_with_repeated_indices(rng):
    weight = gn.Tensor(rng.standard_normal((7, 3)), requires_grad=True)
    ids = np.array([[1, 4, 1], [6, 1, 0]])  # id 1 three times
    report = gn.gradcheck(lambda w: F.embedding(ids, w), [weight])
    assert report.max_rel_error < 1e-6, str(report)


def test_gradient_lives_only_in_looked_up_rows_and_repeats_add_up(rng):
    weight = gn.Tensor(rng.standard_normal((6, 4)), requires_grad=True)
    ids = np.array([2, 5, 2, 2])
    g = rng.standard_normal((4, 4))
    F.embedding(ids, weight).backward(g)
    expected = np.zeros((6, 4))
    expected[2] = g[0] + g[2] + g[3]
    expected[5] = g[1]
    np.testing.assert_allclose(weight.grad, expected, rtol=1e-12)
    assert not weight.grad[[0, 1, 3, 4]].any()


def test_embedding_matches_torch_forward_and_backward(torch, rng, assert_close):
    layer = nn.Embedding(11, 5, padding_idx=0)
    ref = torch.nn.Embedding(11, 5, padding_idx=0)
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(layer.weight.data))
    ids = rng.integers(0, 11, size=(4, 9))
    ids[0, :3] = 0  # padding ids
    ids[1, :4] = 3  # repeats
    g = rng.standard_normal((4, 9, 5)).astype(np.float32)

    out = layer(ids)
    expected = ref(torch.from_numpy(ids))
    assert_close(out, expected, what="embedding forward")
    out.backward(g)
    expected.backward(torch.from_numpy(g))
    assert_close(layer.weight.grad, ref.weight.grad, what="embedding weight grad")
    assert not layer.weight.grad[0].any()  # the padding row gets nothing


def test_padding_row_starts_at_zero_and_stays_there():
    layer = nn.Embedding(5, 3, padding_idx=2)
    assert not layer.weight.data[2].any()
    opt = optim.SGD(layer.parameters(), lr=0.5)
    for _ in range(3):
        opt.zero_grad()
        (layer(np.array([2, 2, 1])) ** 2).sum().backward()
        opt.step()
    assert not layer.weight.data[2].any()


def test_from_pretrained_copies_and_freezes(rng):
    table = rng.standard_normal((4, 3)).astype(np.float32)
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(frozen(np.array([3, 0])).data, table[[3, 0]])
    table[0] = 99  # a copy, not a view of the caller's array
    assert frozen.weight.data[0, 0] != 99

    trainable = nn.Embedding.from_pretrained(table, freeze=False)
    out = trainable(np.array([1]))
    assert out.requires_grad
    out.sum().backward()
    assert trainable.weight.grad[1].sum() == pytest.approx(3.0)


def test_embedding_errors_name_the_op():
    layer = nn.Embedding(4, 2)
    with pytest.raises(IndexError, match=r"embedding: indices must lie in \[0, 4\)"):
        layer(np.array([0, 4]))
    with pytest.raises(TypeError, match="embedding: indices must be integers"):
        layer(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="Embedding: _weight has shape"):
        nn.Embedding(4, 2, _weight=np.zeros((3, 2)))
