"""ONNX export: every builder of glassnet.models exports, passes
onnx.checker's full check, and onnxruntime gives glassnet's outputs (eval mode)
to 1e-5 relative, with a dynamic batch axis (and spatial size where the model
accepts any); layer names are kept; unmapped modules get a clear error; a
trained model predicts the same classes on the 10,000 Fashion-MNIST test images."""


import numpy as np
import pytest

import glassnet as gn
from glassnet import models, nn, optim
from glassnet.cli.main import main
from glassnet.data import load_dataset
from glassnet.data.transforms import flatten, to_float
from glassnet.onnx import ExportError, export
from glassnet.train import fit

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")



def _randomize_statistics(model, rng):
    """Non-trivial batch-norm statistics and affine parameters, so eval mode differs from train mode."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.running_mean[...] = rng.standard_normal(m.num_features) * 0.1
            m.running_var[...] = rng.uniform(0.5, 2.0, m.num_features)
            if m.affine:
                m.weight.data[...] = rng.uniform(0.5, 1.5, m.num_features)
                m.bias.data[...] = rng.standard_normal(m.num_features) * 0.1
    return model


def _relative_error(got, expected):
    return float(np.abs(got - expected).max() / np.abs(expected).max())


def _check(tmp_path, model, inputs, **options):
    """Export with inputs[0]; run onnxruntime on every input; return the worst relative error."""
    path = tmp_path / "model.onnx"
    proto = export(model, path, inputs[0], **options)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    model.eval()
    worst = 0.0
    for x in inputs:
        got = session.run(None, {"input": x})[0]
        with gn.no_grad():
            expected = model(gn.Tensor(x)).data
        assert got.shape == expected.shape
        worst = max(worst, _relative_error(got, expected))
    assert worst < 1e-5, f"onnxruntime differs from glassnet by {worst:.2e} (relative)"
    return proto


def _images(rng, n, h=28, w=28):
    return rng.random((n, 1, h, w), dtype=np.float32)


BUILDERS = {
    "mlp": (lambda: models.mlp("784-64-32-10", batch_norm=True, dropout=0.2, activation="prelu"),
            lambda rng: [rng.random((5, 784), dtype=np.float32), rng.random((1, 784), dtype=np.float32)]),
    "book_cnn": (models.book_cnn, lambda rng: [_images(rng, 3), _images(rng, 1)]),
    "spp_cnn": (models.spp_cnn, lambda rng: [_images(rng, 3), _images(rng, 2, 32, 32), _images(rng, 1, 20, 37)]),
    "resnet_small": (lambda: models.resnet_small(blocks_per_stage=1),
                     lambda rng: [_images(rng, 2), _images(rng, 1, 32, 24)]),
    "resnet_small_spp": (lambda: models.resnet_small(blocks_per_stage=1, spp=(1, 2, 4)),
                         lambda rng: [_images(rng, 2), _images(rng, 3, 33, 30)]),
    "plain_net": (lambda: models.plain_net(blocks_per_stage=1), lambda rng: [_images(rng, 2), _images(rng, 4)]),
    "TextCNN": (lambda: models.TextCNN(60, 12, mode="multichannel", maps=6),
                lambda rng: [rng.integers(1, 60, (4, 9)), rng.integers(0, 60, (2, 23))]),
}


@pytest.mark.parametrize("builder", list(BUILDERS))
def test_every_builder_exports_and_matches_onnxruntime(tmp_path, rng, builder):
    make, inputs = BUILDERS[builder]
    model = _randomize_statistics(make(), rng)
    proto = _check(tmp_path, model, inputs(rng))
    dims = [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims[0] == "batch"
    if builder in ("spp_cnn", "resnet_small_spp", "resnet_small", "plain_net"):
        assert all(isinstance(d, str) for d in dims[2:]), f"{builder}: spatial size should be dynamic, got {dims}"
    if builder == "book_cnn":
        assert dims[1:] == [1, 28, 28]
    if builder == "TextCNN":
        assert dims == ["batch", "length"]


def test_layer_names_are_kept(tmp_path, rng):
    model = _randomize_statistics(models.resnet_small(blocks_per_stage=1), rng)
    proto = export(model, tmp_path / "r.onnx", _images(rng, 1))
    nodes = {n.name for n in proto.graph.node}
    for name, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.BatchNorm2d, nn.Linear)):
            assert name in nodes, f"no ONNX node named {name!r}"
    weights = {i.name for i in proto.graph.initializer}
    assert set(model.state_dict()) - {k for k in model.state_dict() if k.endswith("num_batches_tracked")} <= weights


@pytest.mark.parametrize("opset", [13, 18, 19])
def test_layer_options_export(tmp_path, rng, opset):
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding="same", padding_mode="reflect"), nn.LeakyReLU(0.2),
        nn.Conv2d(4, 8, 3, groups=4, padding=1, padding_mode="replicate"), nn.Tanh(),
        nn.MaxPool2d(3, 2, 1, ceil_mode=True), nn.Conv2d(8, 8, 2, groups=2, padding=1), nn.RReLU(),
        nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False), nn.Sigmoid(),
        nn.AdaptiveAvgPool2d((3, 2)), nn.Dropout2d(0.3), nn.Flatten(), nn.Linear(48, 5), nn.LogSoftmax(dim=1))
    _check(tmp_path, model, [_images(rng, 2, 13, 11)], opset=opset)
    if opset >= 17:
        norm = nn.Sequential(nn.Linear(6, 8), nn.LayerNorm(8), nn.Softmax(dim=-1))
        _check(tmp_path, norm, [rng.random((3, 6), dtype=np.float32)], opset=opset)
    if opset >= 19:
        circular = nn.Sequential(nn.Conv2d(1, 2, 3, padding=2, padding_mode="circular"))
        _check(tmp_path, circular, [_images(rng, 2, 6, 7)], opset=opset)


def test_unmapped_module_gets_a_clear_error(tmp_path):
    class Custom(nn.Module):
        def forward(self, x):
            return x * 2

    model = nn.Sequential(nn.Linear(3, 3), nn.Sequential(Custom()))
    with pytest.raises(ExportError, match=r"no mapping for module '1.0' of class .*Custom; register one"):
        export(model, tmp_path / "x.onnx", np.zeros((1, 3), dtype=np.float32))
    with pytest.raises(ExportError, match="return_indices=True"):
        export(nn.MaxPool2d(2, return_indices=True), tmp_path / "x.onnx", _images(np.random.default_rng(0), 1))
    with pytest.raises(ExportError, match="opset must be between 13 and"):
        export(nn.ReLU(), tmp_path / "x.onnx", np.zeros((1, 3), dtype=np.float32), opset=7)
    assert not (tmp_path / "x.onnx").exists()


def test_export_keeps_the_training_flags(tmp_path):
    model = models.mlp("4-3-2", dropout=0.5)
    export(model, tmp_path / "m.onnx", np.zeros((1, 4), dtype=np.float32))
    assert all(m.training for m in model.modules())


def test_cli_export(tmp_path, rng, capsys):
    model = _randomize_statistics(models.spp_cnn(), rng)
    gn.save(model, tmp_path / "m.safetensors", input_shape=[1, 1, 28, 28])
    assert main(["export", str(tmp_path / "m.safetensors"), str(tmp_path / "m.onnx"), "--opset", "18"]) == 0
    out = capsys.readouterr().out
    assert "opset 18, input ['batch', 1, 'height', 'width'] -> output ['batch', 10]" in out
    error = float(out.rsplit("largest difference ", 1)[1].split()[0])
    assert error < 1e-5
    assert onnx.load(str(tmp_path / "m.onnx")).opset_import[0].version == 18


def test_trained_model_predicts_the_same_classes_on_the_fashion_mnist_test_set(tmp_path, fashion_mnist_dir):
    (x_train, y_train), (x_test, y_test) = load_dataset("fashion-mnist", data_dir=fashion_mnist_dir)
    prepare = lambda x: flatten(to_float(x))  # noqa: E731
    gn.seed(0)
    model = models.mlp("784-128-10", batch_norm=True)
    fit(model, (prepare(x_train[:6000]), y_train[:6000]), nn.CrossEntropyLoss(),
                 optim.Adam(model.parameters(), lr=1e-3), 1, batch_size=100, seed=0, verbose=False)
    x = prepare(x_test)
    path = tmp_path / "mlp.onnx"
    export(model, path, x[:1])
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    model.eval()
    with gn.no_grad():
        expected = model(gn.Tensor(x)).data
    assert (expected.argmax(1) == y_test).mean() > 0.75, "the quick model did not learn"
    assert np.array_equal(got.argmax(1), expected.argmax(1)), \
        f"{(got.argmax(1) != expected.argmax(1)).sum()} of 10,000 predictions differ"
    assert _relative_error(got, expected) < 1e-5
