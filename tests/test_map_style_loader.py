"""DataLoader over a map-style dataset (one example per __getitem__), with
PyTorch's default collate; the array fast path is unchanged."""

import numpy as np
import pytest

from glassnet import nn, optim
from glassnet.data import DataLoader, default_collate
from glassnet.train import fit


class Squares:
    """A PyTorch-style dataset: example i is (features, label)."""

    def __init__(self, n=10):
        self.x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
        self.y = np.arange(n) % 2

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], int(self.y[i])


def test_map_style_batches_equal_torch(torch):
    ours = list(DataLoader(Squares(), batch_size=4))
    theirs = list(torch.utils.data.DataLoader(Squares(), batch_size=4))
    assert len(ours) == len(theirs) == 3
    for (xb, yb), (tx, ty) in zip(ours, theirs):
        np.testing.assert_array_equal(xb.data, tx.numpy())
        np.testing.assert_array_equal(yb.data, ty.numpy())
        assert xb.dtype == np.float32 and yb.dtype == np.int64 == ty.numpy().dtype


def test_default_collate_structures_as_torch(torch):
    samples = [{"image": np.full((2, 2), i, dtype=np.float32), "label": i, "name": f"n{i}", "score": 0.5 * i,
                "pair": (i, np.float32(i))} for i in range(3)]
    ours = default_collate(samples)
    theirs = torch.utils.data.default_collate(samples)
    np.testing.assert_array_equal(ours["image"].data, theirs["image"].numpy())
    np.testing.assert_array_equal(ours["label"].data, theirs["label"].numpy())
    assert ours["name"] == theirs["name"] == ["n0", "n1", "n2"]
    np.testing.assert_allclose(ours["score"].data, theirs["score"].numpy())
    assert ours["score"].dtype == np.float32, "Python floats collate to glassnet's default dtype"
    np.testing.assert_array_equal(ours["pair"][0].data, theirs["pair"][0].numpy())
    with pytest.raises(ValueError, match="different shapes"):
        default_collate([np.zeros(2), np.zeros(3)])


def test_map_style_shuffle_drop_last_and_resume_replay():
    loader = DataLoader(Squares(10), batch_size=3, shuffle=True, drop_last=True, generator=np.random.default_rng(4))
    assert len(loader) == 3
    epoch = [yb.data.tolist() for _, yb in loader]
    seen = np.concatenate([xb.data[:, 0] // 3 for xb, _ in DataLoader(Squares(10), batch_size=3, shuffle=True,
                                                                       generator=np.random.default_rng(4))])
    assert sorted(seen.tolist()) == list(range(10)), "each example once per epoch"
    again = DataLoader(Squares(10), batch_size=3, shuffle=True, drop_last=True, generator=np.random.default_rng(4))
    it = iter(again)
    next(it)
    state = again.state_dict()
    resumed = DataLoader(Squares(10), batch_size=3, shuffle=True, drop_last=True, generator=np.random.default_rng(9))
    resumed.load_state_dict(state)
    assert [yb.data.tolist() for _, yb in resumed] == epoch[1:]


def test_fit_trains_on_a_map_style_loader():
    model = nn.Linear(3, 2)
    history = fit(model, DataLoader(Squares(12), batch_size=4, shuffle=True), nn.CrossEntropyLoss(),
                  optim.SGD(model.parameters(), lr=0.01), 2, verbose=False)
    assert len(history) == 2 and np.isfinite(history.loss).all()


def test_map_style_errors():
    with pytest.raises(ValueError, match="map-style dataset \\(Squares\\) applies its transforms in __getitem__"):
        DataLoader(Squares(), transform=lambda x: x)
    with pytest.raises(TypeError, match="needs __len__ and __getitem__, got a int"):
        DataLoader(3)
    batches = list(DataLoader(Squares(5), batch_size=2, collate_fn=lambda examples: len(examples)))
    assert batches == [2, 2, 1]
