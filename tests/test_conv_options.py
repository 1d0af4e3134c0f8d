"""Conv2d's PyTorch options: groups (grouped and depthwise), padding='same' /
'valid', padding_mode, unbatched input; and F.pad. Each against PyTorch
(forward and backward) and gradchecked in float64."""

import numpy as np
import pytest

import glassnet as gn
import glassnet.functional as F
from glassnet import Tensor, nn
from tests.conftest import assert_close, compare_with_torch

PAD_CASES = [((1, 2), "constant"), ((1, 2, 2, 0), "constant"), ((2, 1, 1, 2), "reflect"),
             ((3, 0, 1, 2), "replicate"), ((2, 3, 1, 0), "circular"), ((1, 1, 0, 0), "reflect")]


@pytest.mark.parametrize("amounts,mode", PAD_CASES, ids=str)
def test_pad_matches_torch(torch, rng, amounts, mode):
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    compare_with_torch(torch, lambda x: F.pad(x, amounts, mode), lambda x: torch.nn.functional.pad(x, amounts, mode),
                       [x], what=f"pad {mode} {amounts}")


@pytest.mark.parametrize("amounts,mode", PAD_CASES, ids=str)
def test_pad_gradcheck(rng, amounts, mode):
    x = Tensor(rng.standard_normal((1, 2, 4, 5)), requires_grad=True)
    report = gn.gradcheck(lambda x: F.pad(x, amounts, mode), [x])
    assert report.max_rel_error < 1e-6, str(report)


def test_pad_errors():
    x = Tensor(np.zeros((1, 1, 3, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="reflect padding of \\(3, 0\\) on axis 3 of size 3"):
        F.pad(x, (3, 0), "reflect")
    with pytest.raises(ValueError, match="mode must be one of"):
        F.pad(x, (1, 1), "mirror")
    with pytest.raises(ValueError, match="even number of amounts"):
        F.pad(x, (1, 1, 1))


CONVS = [  # (C_in, C_out, kernel, options)
    (4, 6, 3, dict(groups=2, padding=1)),
    (6, 6, 3, dict(groups=3, stride=2, bias=False)),
    (3, 3, 3, dict(groups=3, padding=1)),  # depthwise
    (3, 6, 3, dict(groups=3, stride=2, padding=2, dilation=2)),  # depthwise, multiplier 2
    (2, 4, (2, 3), dict(groups=2, padding=(1, 0), stride=(1, 2))),  # depthwise, rectangular
    (3, 4, 3, dict(padding="same")),
    (3, 4, 4, dict(padding="same", dilation=2)),  # even kernel: the extra border at the bottom/right
    (3, 4, 2, dict(padding="same", groups=1, padding_mode="reflect")),
    (3, 4, 3, dict(padding="valid")),
    (3, 4, 3, dict(padding=1, padding_mode="reflect")),
    (3, 4, 3, dict(padding=(2, 1), padding_mode="replicate")),
    (3, 6, 3, dict(padding=2, padding_mode="circular", groups=3)),
]


def _pair(torch, c_in, c_out, kernel, options, rng, dtype=np.float32):
    ours = nn.Conv2d(c_in, c_out, kernel, **options)
    theirs = torch.nn.Conv2d(c_in, c_out, kernel, **options)
    for p in ours.parameters():
        p.data[...] = rng.standard_normal(p.shape)
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("c_in,c_out,kernel,options", CONVS, ids=str)
def test_conv_options_match_torch(torch, rng, c_in, c_out, kernel, options):
    ours, theirs = _pair(torch, c_in, c_out, kernel, options, rng)
    assert ours.weight.shape == tuple(theirs.weight.shape)
    x = rng.standard_normal((2, c_in, 7, 8)).astype(np.float32)
    compare_with_torch(torch, ours, theirs, [x], rtol=1e-4, atol=1e-4, what=f"Conv2d {options}")
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-4, what=f"Conv2d {options}: {name} gradient")


@pytest.mark.parametrize("c_in,c_out,kernel,options", [CONVS[i] for i in (0, 2, 3, 6, 10, 11)], ids=str)
def test_conv_options_gradcheck(rng, c_in, c_out, kernel, options):
    conv = nn.Conv2d(c_in, c_out, kernel, **options).double()
    x = Tensor(rng.standard_normal((2, c_in, 6, 7)), requires_grad=True)
    params = list(conv.parameters())

    def run(x, *weights):
        for p, w in zip(params, weights):
            p.data = w.data
        return conv(x)

    report = gn.gradcheck(run, [x] + params)
    assert report.max_rel_error < 1e-6, str(report)


def test_unbatched_input_as_torch(torch, rng):
    ours, theirs = _pair(torch, 3, 4, 3, dict(padding=1, groups=1), rng)
    x = rng.standard_normal((3, 6, 6)).astype(np.float32)
    out = ours(Tensor(x))
    assert out.shape == (4, 6, 6)
    assert_close(out, theirs(torch.from_numpy(x)), rtol=1e-4, atol=1e-4)


def test_depthwise_weight_gradcheck_directly(rng):
    x = Tensor(rng.standard_normal((2, 3, 5, 5)), requires_grad=True)
    w = Tensor(rng.standard_normal((6, 1, 3, 3)), requires_grad=True)
    b = Tensor(rng.standard_normal(6), requires_grad=True)
    report = gn.gradcheck(lambda x, w, b: F.depthwise_conv2d(x, w, b, stride=2, padding=1), [x, w, b])
    assert report.max_rel_error < 1e-6, str(report)


def test_conv_option_errors():
    with pytest.raises(ValueError, match="groups=2 must divide in_channels and out_channels"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' needs stride 1"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match=r"expected input \(N, 3, H, W\), got \(2, 5, 5\) \(unbatched \(3, H, W\) also works\)"):
        nn.Conv2d(3, 4, 3)(Tensor(np.zeros((2, 5, 5), dtype=np.float32)))


def test_conv_options_survive_save_and_load(tmp_path, rng):
    model = nn.Sequential(nn.Conv2d(4, 8, 3, padding="same", groups=4, padding_mode="reflect"), nn.ReLU())
    gn.save(model, tmp_path / "m.safetensors")
    again = gn.load(tmp_path / "m.safetensors")
    x = Tensor(rng.standard_normal((1, 4, 5, 5)).astype(np.float32))
    assert_close(again(x), model(x), rtol=0, atol=0)
    assert "groups=4" in repr(again) and "padding_mode='reflect'" in repr(again)
