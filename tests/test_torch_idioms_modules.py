"""PyTorch idioms on modules: ModuleList, ModuleDict, Sequential(OrderedDict),
apply, non-persistent buffers, inplace=, MSELoss, LayerNorm, load_state_dict's
keys, .to("cpu"); against PyTorch and gradchecked in float64."""

from collections import OrderedDict

import numpy as np
import pytest

import glassnet as gn
import glassnet.functional as F
from glassnet import Tensor, nn
from tests.conftest import assert_close, compare_with_torch


def _copy_weights(ours, theirs, torch):
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()})


class Tower(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
        self.heads = nn.ModuleDict({"cls": nn.Linear(4, 2), "box": nn.Linear(4, 3)})

    def forward(self, x):
        for block in self.blocks:
            x = F.relu(block(x))
        return gn.cat([self.heads["cls"](x), self.heads["box"](x)], dim=1)


def test_module_list_and_dict_match_torch_and_round_trip(torch, tmp_path, rng):
    class TorchTower(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = torch.nn.ModuleList([torch.nn.Linear(4, 4) for _ in range(3)])
            self.heads = torch.nn.ModuleDict({"cls": torch.nn.Linear(4, 2), "box": torch.nn.Linear(4, 3)})

        def forward(self, x):
            for block in self.blocks:
                x = torch.relu(block(x))
            return torch.cat([self.heads["cls"](x), self.heads["box"](x)], dim=1)

    ours, theirs = Tower(), TorchTower()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _copy_weights(ours, theirs, torch)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    assert_close(ours(Tensor(x)), theirs(torch.from_numpy(x)), what="ModuleList/ModuleDict model")
    path = tmp_path / "tower.safetensors"
    gn.nn.register_module(Tower)
    gn.save(ours, path)
    again = gn.load(path)
    assert_close(again(Tensor(x)), ours(Tensor(x)), rtol=0, atol=0, what="reloaded")


def test_module_list_operations():
    blocks = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    blocks.append(nn.Linear(2, 3))
    blocks.insert(0, nn.Identity())
    assert [type(m).__name__ for m in blocks] == ["Identity", "Linear", "ReLU", "Linear"]
    assert isinstance(blocks[-1], nn.Linear) and blocks[-1].weight.shape == (3, 2)
    del blocks[0]
    assert len(blocks) == 3 and list(blocks.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(blocks[1:]) == 2
    with pytest.raises(IndexError, match="index 3 out of range for 3 modules"):
        blocks[3]
    with pytest.raises(TypeError, match="expected a Module"):
        blocks.append(np.zeros(2))
    heads = nn.ModuleDict({"a": nn.Linear(2, 2)})
    heads["b"] = nn.Linear(2, 1)
    assert list(heads) == ["a", "b"] and "b" in heads and len(heads) == 2
    assert [k for k, _ in heads.items()] == ["a", "b"]
    heads.pop("a")
    with pytest.raises(KeyError, match="no module 'a' \\(has: b\\)"):
        heads["a"]


def test_sequential_from_ordered_dict_matches_torch(torch, tmp_path, rng):
    ours = nn.Sequential(OrderedDict([("fc1", nn.Linear(3, 5)), ("act", nn.ReLU(inplace=True)),
                                      ("fc2", nn.Linear(5, 2))]))
    theirs = torch.nn.Sequential(OrderedDict([("fc1", torch.nn.Linear(3, 5)), ("act", torch.nn.ReLU(inplace=True)),
                                              ("fc2", torch.nn.Linear(5, 2))]))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["fc1.weight", "fc1.bias", "fc2.weight",
                                                                    "fc2.bias"]
    _copy_weights(ours, theirs, torch)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    assert_close(ours(Tensor(x)), theirs(torch.from_numpy(x)), what="named Sequential")
    assert ours.fc1 is ours[0]
    gn.save(ours, tmp_path / "seq.safetensors")
    again = gn.load(tmp_path / "seq.safetensors")
    assert list(again.state_dict()) == list(ours.state_dict())
    assert_close(again(Tensor(x)), ours(Tensor(x)), rtol=0, atol=0)


def test_apply_visits_children_first_as_torch(torch):
    ours = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Linear(3, 1)))
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(3, 1)))
    seen_ours, seen_theirs = [], []
    assert ours.apply(lambda m: seen_ours.append(type(m).__name__)) is ours
    theirs.apply(lambda m: seen_theirs.append(type(m).__name__))
    assert seen_ours == seen_theirs == ["Linear", "ReLU", "Linear", "Sequential", "Sequential"]

    def zero_biases(m):
        if isinstance(m, nn.Linear):
            gn.init.zeros_(m.bias)

    ours.apply(zero_biases)
    assert all(not p.data.any() for name, p in ours.named_parameters() if name.endswith("bias"))


def test_non_persistent_buffer_stays_out_of_state_dict(torch):
    class Masked(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("scale", np.ones(3, dtype=np.float32))
            self.register_buffer("mask", np.ones(3, dtype=np.float32), persistent=False)

    class TorchMasked(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("scale", torch.ones(3))
            self.register_buffer("mask", torch.ones(3), persistent=False)

    ours = Masked()
    assert list(ours.state_dict()) == list(TorchMasked().state_dict()) == ["scale"]
    assert [name for name, _ in ours.named_buffers()] == ["scale", "mask"]
    ours.mask = ours.mask * 2  # reassigning keeps it a non-persistent buffer
    assert "mask" not in ours.state_dict()
    ours.to(np.float64)
    assert ours.mask.dtype == np.float64 and ours.scale.dtype == np.float64


def test_load_state_dict_returns_missing_and_unexpected_keys_as_torch(torch):
    ours, theirs = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1)), torch.nn.Sequential(torch.nn.Linear(2, 2),
                                                                                        torch.nn.Linear(2, 1))
    state = {"0.weight": np.zeros((2, 2), dtype=np.float32), "0.bias": np.zeros(2, dtype=np.float32),
             "extra.weight": np.zeros(1, dtype=np.float32)}
    got = ours.load_state_dict(state, strict=False)
    expected = theirs.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=False)
    assert got.missing_keys == expected.missing_keys == ["1.weight", "1.bias"]
    assert got.unexpected_keys == expected.unexpected_keys == ["extra.weight"]
    assert not ours[0].weight.data.any()
    full = ours.load_state_dict(ours.state_dict())
    assert full == ([], []) and not full.missing_keys


def test_to_cpu_and_inplace_flags_are_accepted(rng):
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(inplace=True), nn.LeakyReLU(0.1, True), nn.Dropout(0.5, True),
                          nn.RReLU(inplace=True))
    assert model.to("cpu") is model and model.to(device="cpu") is model
    assert model[0].weight.dtype == np.float32
    model.to("cpu", np.float64)
    assert model[0].weight.dtype == np.float64
    with pytest.raises(ValueError, match="Sequential.to: glassnet computes with NumPy on the CPU only"):
        model.to("cuda:0")
    x = Tensor(rng.standard_normal((3, 2)))
    relu = nn.ReLU(inplace=True)
    y = relu(x)
    assert y.data is not x.data and np.array_equal(y.data, np.maximum(x.data, 0))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_matches_torch(torch, rng, reduction):
    a, y = rng.standard_normal((4, 3, 2)).astype(np.float32), rng.standard_normal((4, 3, 2)).astype(np.float32)
    compare_with_torch(torch, lambda a, y: nn.MSELoss(reduction=reduction)(a, y),
                       lambda a, y: torch.nn.MSELoss(reduction=reduction)(a, y), [a, y], what=f"MSELoss {reduction}")
    report = gn.gradcheck(lambda a, y: F.mse_loss(a, y, reduction),
                          [Tensor(a.astype(np.float64), requires_grad=True),
                           Tensor(y.astype(np.float64), requires_grad=True)])
    assert report.max_rel_error < 1e-6, str(report)


LAYER_NORMS = [((5, 8), 8, {}), ((2, 3, 4, 5), (4, 5), {}), ((6, 7), 7, dict(elementwise_affine=False)),
               ((3, 4, 6), 6, dict(bias=False, eps=1e-3))]


@pytest.mark.parametrize("shape,normalized,options", LAYER_NORMS, ids=str)
def test_layer_norm_matches_torch(torch, rng, shape, normalized, options):
    ours = nn.LayerNorm(normalized, **options)
    theirs = torch.nn.LayerNorm(normalized, **options)
    for p in ours.parameters():  # not the trivial ones and zeros
        p.data[...] = rng.standard_normal(p.shape)
    _copy_weights(ours, theirs, torch)
    x = (3 * rng.standard_normal(shape) + 1).astype(np.float32)
    compare_with_torch(torch, ours, theirs, [x], what="LayerNorm")
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert_close(p.grad, q.grad, what="LayerNorm parameter gradient")
    ours.eval()
    assert_close(ours(Tensor(x)), theirs(torch.from_numpy(x)), what="LayerNorm in eval mode")


@pytest.mark.parametrize("shape,normalized,options", LAYER_NORMS[:2], ids=str)
def test_layer_norm_gradcheck(rng, shape, normalized, options):
    norm = nn.LayerNorm(normalized, **options).double()
    for p in norm.parameters():
        p.data[...] = rng.standard_normal(p.shape)
    x = Tensor(rng.standard_normal(shape), requires_grad=True)
    report = gn.gradcheck(lambda x, w, b: F.layer_norm(x, normalized, w, b), [x, norm.weight, norm.bias])
    assert report.max_rel_error < 1e-6, str(report)


def test_layer_norm_shape_errors():
    with pytest.raises(ValueError, match=r"last axes are \(4,\), got shape \(2, 3\)"):
        nn.LayerNorm(4)(Tensor(np.zeros((2, 3), dtype=np.float32)))
