"""DataLoader: batches, per-epoch shuffling without replacement, seeding, checkpoint/resume."""

import json

import numpy as np
import pytest

import glassnet
from glassnet import Tensor
from glassnet.data import DataLoader, RandomShift, TensorDataset, to_float


def _indices(loader):
    """The example indices of each batch of one epoch (the dataset's x is arange)."""
    return [xb.data.astype(int).tolist() for xb, *_ in loader]


def _data(n=23):
    return np.arange(n, dtype=np.float32), np.arange(n) % 3


@pytest.mark.parametrize("drop_last, sizes", [(False, [5, 5, 5, 5, 3]), (True, [5, 5, 5, 5])])
def test_batches_sizes_and_len(drop_last, sizes):
    loader = DataLoader(_data(), batch_size=5, drop_last=drop_last)
    batches = _indices(loader)
    assert [len(b) for b in batches] == sizes and len(loader) == len(sizes)
    assert sum(batches, []) == list(range(sum(sizes)))  # unshuffled: the stored order


def test_shuffle_is_a_new_permutation_each_epoch():
    loader = DataLoader(_data(), batch_size=4, shuffle=True, generator=np.random.default_rng(7))
    epochs = [sum(_indices(loader), []) for _ in range(3)]
    for order in epochs:
        assert sorted(order) == list(range(23))  # every example exactly once: without replacement
    assert epochs[0] != epochs[1] != epochs[2]
    expected = np.random.default_rng(7)  # exactly one permutation drawn per epoch
    assert epochs == [expected.permutation(23).tolist() for _ in range(3)]


def test_drop_last_with_shuffle_drops_a_random_remainder():
    loader = DataLoader(_data(), batch_size=5, shuffle=True, drop_last=True, generator=np.random.default_rng(1))
    seen = [set(sum(_indices(loader), [])) for _ in range(4)]
    assert all(len(s) == 20 for s in seen) and len(set.union(*seen)) == 23


def test_global_seed_reproduces_the_order():
    loader = DataLoader(_data(), batch_size=4, shuffle=True)
    glassnet.seed(3)
    first = _indices(loader)
    glassnet.seed(3)
    assert _indices(loader) == first
    assert _indices(loader) != first


def test_batches_are_tensors_with_float_inputs_and_int64_labels():
    x = np.random.default_rng(0).random((10, 3))
    for xdtype in (np.float32, np.float64):
        xb, yb = next(iter(DataLoader((x.astype(xdtype), np.arange(10, dtype=np.uint8)), batch_size=4)))
        assert isinstance(xb, Tensor) and isinstance(yb, Tensor)
        assert xb.dtype == xdtype and xb.shape == (4, 3) and not xb.requires_grad
        assert yb.dtype == np.int64 and yb.shape == (4,)
        np.testing.assert_array_equal(xb.data, x[:4].astype(xdtype))


def test_transform_applies_to_inputs_only():
    x = np.arange(6 * 4, dtype=np.uint8).reshape(6, 4)
    y = np.arange(6)
    loader = DataLoader(TensorDataset(x, y), batch_size=6, shuffle=True, transform=to_float,
                        generator=np.random.default_rng(0))
    xb, yb = next(iter(loader))
    assert xb.dtype == np.float32
    np.testing.assert_allclose(xb.data, x[yb.data] / 255, rtol=1e-6)


def test_one_index_per_batch_no_per_example_loop():
    """The dataset is asked once per batch, with an index array of the whole batch."""

    class Recording(TensorDataset):
        calls = []

        def __getitem__(self, index):
            self.calls.append(np.asarray(index) if not isinstance(index, slice) else index)
            return super().__getitem__(index)

    ds = Recording(*_data())
    list(DataLoader(ds, batch_size=10, shuffle=True, generator=np.random.default_rng(0)))
    assert [len(c) for c in Recording.calls] == [10, 10, 3]
    Recording.calls.clear()
    list(DataLoader(ds, batch_size=10))
    assert Recording.calls == [slice(0, 10), slice(10, 20), slice(20, 30)]


def test_tensor_dataset_checks_and_accepts_tensors():
    ds = TensorDataset(Tensor(np.ones((4, 2))), np.arange(4))
    assert len(ds) == 4 and isinstance(ds.arrays[0], np.ndarray)
    with pytest.raises(ValueError, match=r"differ in length.*\(4, 2\), \(5,\)"):
        TensorDataset(np.ones((4, 2)), np.arange(5))
    with pytest.raises(ValueError, match="at least one array"):
        TensorDataset()
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        DataLoader(ds, batch_size=0)


@pytest.mark.parametrize("shuffle", [True, False])
def test_resume_mid_epoch_is_bit_identical(shuffle):
    """Stop after 2 batches of epoch 2, save as JSON, resume in a fresh loader: same batches.

    The RandomShift shares the loader's generator, so its draws are part of the state too."""
    x = np.random.default_rng(0).random((23, 4, 4)).astype(np.float32)
    y = np.arange(23)

    def make():
        g = np.random.default_rng(42)
        return DataLoader((x, y), batch_size=5, shuffle=shuffle, generator=g, transform=RandomShift(1, generator=g))

    def run(loader, epochs):
        return [[(xb.data.copy(), yb.data.copy()) for xb, yb in loader] for _ in range(epochs)]

    reference = run(make(), 3)

    first = make()
    list(first)  # epoch 1
    it = iter(first)
    got = [next(it), next(it)]  # 2 batches of epoch 2, then "Ctrl-C"
    state = json.loads(json.dumps(first.state_dict()))

    resumed = make()
    resumed.load_state_dict(state)
    rest = [(xb.data, yb.data) for xb, yb in resumed]
    epoch2 = [(xb.data, yb.data) for xb, yb in got] + rest
    epoch3 = run(resumed, 1)[0]
    for ours, theirs in zip(epoch2 + epoch3, reference[1] + reference[2], strict=True):
        np.testing.assert_array_equal(ours[0], theirs[0])
        np.testing.assert_array_equal(ours[1], theirs[1])


def test_state_between_epochs_has_no_epoch_in_progress():
    loader = DataLoader(_data(), batch_size=5, shuffle=True, generator=np.random.default_rng(0))
    list(loader)
    state = loader.state_dict()
    assert state["batches_done"] == 0 and state["epoch_start"] is None
    nxt = _indices(loader)
    loader2 = DataLoader(_data(), batch_size=5, shuffle=True, generator=np.random.default_rng(99))
    loader2.load_state_dict(state)
    assert _indices(loader2) == nxt
