import numpy as np
import pytest

import glassnet as gn
import glassnet.functional as F
from glassnet import nn, optim
from glassnet.nn.finetune import freeze, layerwise_param_groups, replace_head, unfreeze


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU())
        self.body2 = nn.Linear(8, 8)  # shares the prefix "body" as text, not as a layer
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc(F.relu(self.body2(self.body(x))))


def _train(model, opt, steps=3, seed=0):
    rng = np.random.default_rng(seed)
    x, y = gn.Tensor(rng.standard_normal((16, 4)).astype(np.float32)), rng.integers(0, 3, 16)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()


def test_frozen_layers_do_not_change_under_momentum_and_weight_decay():
    model = Net()
    names = freeze(model, "body")
    assert names == ["body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias"]  # not body2
    before = {n: p.data.copy() for n, p in model.named_parameters()}
    _train(model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-2))
    for n, p in model.named_parameters():
        changed = not np.array_equal(p.data, before[n])
        assert changed == (not n.startswith("body.")), n
        if n.startswith("body."):
            assert p.grad is None  # frozen: no gradient is even computed


def test_unfreeze_restores_training():
    model = Net()
    freeze(model, ["body", "fc"])
    assert unfreeze(model, "fc") == ["fc.weight", "fc.bias"]
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["body2.weight", "body2.bias",
                                                                            "fc.weight", "fc.bias"]
    unfreeze(model)
    assert all(p.requires_grad for p in model.parameters())


def test_per_layer_learning_rates_through_param_groups():
    model = Net()
    groups = layerwise_param_groups(model, {"body": 0.01, "body.2": 0.0, "fc": {"lr": 0.5, "momentum": 0.0}},
                                    default_lr=0.1)
    assert [g["name"] for g in groups] == ["body", "body.2", "fc", "default"]
    assert [len(g["params"]) for g in groups] == [2, 2, 2, 2]  # longest prefix wins: body.2 leaves "body"
    opt = optim.SGD(groups, lr=123.0)
    assert [g["lr"] for g in opt.param_groups] == [0.01, 0.0, 0.5, 0.1]
    before = {n: p.data.copy() for n, p in model.named_parameters()}
    _train(model, opt, steps=1)  # one plain SGD step: Δw = −lr·grad exactly
    lr_of = {"body.0": 0.01, "body.2": 0.0, "body2": 0.1, "fc": 0.5}
    for n, p in model.named_parameters():
        expected = before[n] - lr_of[n.rsplit(".", 1)[0]] * p.grad
        np.testing.assert_allclose(p.data, expected, rtol=1e-6, atol=1e-7, err_msg=n)
    np.testing.assert_array_equal(model.body[2].weight.data, before["body.2.weight"])  # learning rate 0


def test_replace_head_defaults_to_the_last_layer_and_returns_the_old_one():
    model = Net()
    old = model.fc
    new = nn.Linear(8, 5)
    assert replace_head(model, new) is old
    assert model.fc is new and model(gn.zeros(2, 4)).shape == (2, 5)
    seq = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
    replace_head(seq, nn.Linear(6, 7))
    assert seq(gn.zeros(1, 4)).shape == (1, 7)
    replace_head(model, nn.Identity(), name="body.2")
    assert isinstance(model.body[2], nn.Identity)


def test_unknown_layer_names_are_reported():
    model = Net()
    with pytest.raises(KeyError, match=r"freeze: no parameter of Net is under \['stem'\]; layers are: body.0"):
        freeze(model, "stem")
    with pytest.raises(KeyError, match="layerwise_param_groups"):
        layerwise_param_groups(model, {"bod": 0.1}, 0.1)
    with pytest.raises(AttributeError, match="replace_head: Sequential has no submodule '9'"):
        replace_head(model, nn.Identity(), name="body.9")
