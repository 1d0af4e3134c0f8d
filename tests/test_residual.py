import numpy as np
import pytest

import glassnet as gn
import glassnet.functional as F
from glassnet import nn
from glassnet.functional.residual import add_relu
from glassnet.models.resnet import ResNet, plain_net, resnet_small
from glassnet.nn.finetune import freeze, layerwise_param_groups, replace_head
from glassnet.nn.residual import ResidualBlock


def _block_gradcheck(block, x):
    params = list(block.parameters())

    def run(x, *_):
        return block(x)

    return gn.gradcheck(run, [x] + params)


@pytest.mark.parametrize("in_ch, out_ch, stride", [(3, 3, 1), (2, 3, 2)])
def test_residual_block_gradcheck_in_training_mode(rng, in_ch, out_ch, stride):
    block = ResidualBlock(in_ch, out_ch, stride, generator=np.random.default_rng(0)).double()
    assert (block.shortcut is None) == (in_ch == out_ch and stride == 1)
    for bn in (block.bn1, block.bn2):  # γ, β away from their initial 1, 0
        bn.weight.data[...] = rng.uniform(0.5, 1.5, bn.weight.shape)
        bn.bias.data[...] = rng.uniform(-0.5, 0.5, bn.bias.shape)
    x = gn.Tensor(rng.standard_normal((2, in_ch, 5, 5)), requires_grad=True)
    report = _block_gradcheck(block, x)
    assert report.max_rel_error < 1e-6, str(report)


def test_plain_block_gradcheck(rng):
    block = ResidualBlock(2, 2, residual=False, generator=np.random.default_rng(0)).double()
    assert block.shortcut is None
    x = gn.Tensor(rng.standard_normal((2, 2, 4, 4)), requires_grad=True)
    report = _block_gradcheck(block, x)
    assert report.max_rel_error < 1e-6, str(report)


def test_add_relu_gradcheck_and_value(rng):
    a = gn.Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = gn.Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    np.testing.assert_array_equal(add_relu(a, b).data, np.maximum(a.data + b.data, 0))
    report = gn.gradcheck(add_relu, [a, b])
    assert report.max_rel_error < 1e-6, str(report)
    with pytest.raises(ValueError, match=r"add_relu: inputs must have the same shape, got \(3, 4\) and \(4,\)"):
        add_relu(a, gn.zeros(4))


def _torch_block(torch, block):
    """The same block in PyTorch, with ``block``'s weights."""
    tn = torch.nn

    class TorchBlock(tn.Module):
        def __init__(self):
            super().__init__()
            i, o, s = block.in_channels, block.out_channels, block.stride
            self.conv1, self.bn1 = tn.Conv2d(i, o, 3, s, 1, bias=False), tn.BatchNorm2d(o)
            self.conv2, self.bn2 = tn.Conv2d(o, o, 3, 1, 1, bias=False), tn.BatchNorm2d(o)
            self.shortcut = (tn.Sequential(tn.Conv2d(i, o, 1, s, bias=False), tn.BatchNorm2d(o))
                             if block.shortcut is not None else None)

        def forward(self, x):
            f = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
            return torch.relu(f + (x if self.shortcut is None else self.shortcut(x)))

    ref = TorchBlock()
    ref.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in block.state_dict().items()})
    return ref


@pytest.mark.parametrize("in_ch, out_ch, stride", [(4, 4, 1), (4, 8, 2)])
def test_residual_block_matches_torch(torch, rng, in_ch, out_ch, stride, assert_close):
    block = ResidualBlock(in_ch, out_ch, stride)
    for module in block.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.weight.data[...] = rng.uniform(0.5, 1.5, module.weight.shape)
            module.bias.data[...] = rng.uniform(-0.5, 0.5, module.bias.shape)
    ref = _torch_block(torch, block)
    x = rng.standard_normal((5, in_ch, 9, 9)).astype(np.float32)
    g = None
    for step in range(2):  # two training steps: outputs, all gradients, running statistics
        xs = gn.Tensor(x + step, requires_grad=True)
        xt = torch.tensor(x + step, requires_grad=True)
        out, expected = block(xs), ref(xt)
        assert_close(out, expected, rtol=1e-4, atol=1e-5, what="block forward (training)")
        g = rng.standard_normal(out.shape).astype(np.float32)
        block.zero_grad()
        ref.zero_grad()
        out.backward(g)
        expected.backward(torch.from_numpy(g))
        assert_close(xs.grad, xt.grad, rtol=1e-4, atol=1e-5, what="block dx")
        theirs = dict(ref.named_parameters())
        for name, p in block.named_parameters():
            assert_close(p.grad, theirs[name].grad, rtol=1e-4, atol=1e-4, what=f"grad {name}")
    buffers = dict(ref.named_buffers())
    for name, value in block.named_buffers():
        assert_close(value, buffers[name], rtol=1e-5, atol=1e-6, what=f"buffer {name}")
    block.eval()
    ref.eval()
    assert_close(block(gn.Tensor(x)), ref(torch.from_numpy(x)), rtol=1e-4, atol=1e-5, what="block forward (eval)")


def test_resnet_shapes_depth_and_plain_twin():
    model = resnet_small(blocks_per_stage=(1, 2, 1), generator=np.random.default_rng(0))
    assert model.depth == 2 + 2 * 4
    x = gn.zeros(3, 1, 28, 28)
    assert model(x).shape == (3, 10)
    assert model.stages[1][0].shortcut is not None and model.stages[1][1].shortcut is None
    plain = plain_net(blocks_per_stage=(1, 2, 1))
    assert plain.depth == model.depth and all(b.shortcut is None for s in plain.stages for b in s)
    assert plain.num_parameters() < model.num_parameters()  # the projections are the only difference
    with pytest.raises(ValueError, match="ResNet: blocks_per_stage must be a positive int or one per stage"):
        ResNet(widths=(8, 16), blocks_per_stage=(1, 1, 1))


def test_spp_resnet_classifies_other_image_sizes():
    model = resnet_small(widths=(4, 8), blocks_per_stage=1, spp=(1, 2, 4)).eval()
    assert model.fc.in_features == 8 * (1 + 4 + 16)
    small, padded = gn.zeros(2, 1, 28, 28), gn.zeros(2, 1, 32, 32)
    assert model(small).shape == model(padded).shape == (2, 10)


def test_resnet_gradients_reach_the_stem(rng):
    """One backward pass through a small ResNet in float64: every parameter gets a finite, non-zero gradient."""
    model = resnet_small(widths=(4, 8), blocks_per_stage=1).double()
    x = gn.Tensor(rng.standard_normal((4, 1, 12, 12)))
    F.cross_entropy(model(x), np.array([0, 1, 2, 3])).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and np.all(np.isfinite(p.grad)) and np.abs(p.grad).sum() > 0, name


def test_fine_tuning_a_resnet(rng):
    model = resnet_small(widths=(4, 8), blocks_per_stage=1)
    old = replace_head(model, nn.Linear(8, 3))
    assert old is not model.fc and model.fc.out_features == 3
    frozen = freeze(model, ["stem", "stages.0"])
    assert frozen and all(n.startswith(("stem.", "stages.0.")) for n in frozen)
    groups = layerwise_param_groups(model, {"stages.1": 0.01}, default_lr=0.1)
    assert [g["name"] for g in groups] == ["stages.1", "default"]
    opt = gn.optim.SGD(groups, lr=0.1, momentum=0.9)
    before = {n: p.data.copy() for n, p in model.named_parameters()}
    x = gn.Tensor(rng.standard_normal((6, 1, 12, 12)).astype(np.float32))
    for _ in range(2):
        opt.zero_grad()
        F.cross_entropy(model(x), np.array([0, 1, 2, 0, 1, 2])).backward()
        opt.step()
    for n, p in model.named_parameters():
        assert np.array_equal(p.data, before[n]) == (n in frozen), n


def test_resnet_save_and_load_round_trip(tmp_path, rng):
    model = resnet_small(widths=(4, 8), blocks_per_stage=(1, 2), spp=(1, 2), generator=np.random.default_rng(0))
    x = gn.Tensor(rng.standard_normal((2, 1, 12, 12)).astype(np.float32))
    model(x)  # one training-mode pass moves the running statistics
    gn.save(model, tmp_path / "resnet.glassnet")
    loaded = gn.load(tmp_path / "resnet.glassnet")
    assert isinstance(loaded, ResNet) and loaded.depth == model.depth
    np.testing.assert_array_equal(loaded.eval()(x).data, model.eval()(x).data)
