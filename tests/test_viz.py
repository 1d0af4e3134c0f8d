"""glassnet.viz.graph: the DOT text of a computation graph (op, shape, value
statistics, gradient norms after backward) and `glassnet summary --graph`."""

import re
import shutil

import numpy as np
import pytest

import glassnet as gn
import glassnet.functional as F
from glassnet import nn, viz
from glassnet.cli.main import main

pytest.importorskip("graphviz")


def _labels(dot) -> list:
    return re.findall(r'label="([^"]*)"', dot.source)


def test_nodes_show_op_shape_and_statistics_before_backward():
    w = gn.Tensor(np.array([[1.0, -2.0], [3.0, 0.5]]), requires_grad=True)
    x = gn.Tensor(np.array([[1.0, 1.0]]))
    loss = F.relu(x @ w).sum()
    dot = viz.graph(loss, {"w": w})
    assert "backward() has not run yet: no gradients" in dot.source
    labels = _labels(dot)
    assert "w\\n(2, 2) float64\\nmean 0.625 ± 1.78\\n[-2, 3]" in labels
    assert any(label.startswith("matmul\\n(1, 2) float64\\nmean 1.25 ± 2.75\\n[-1.5, 4]") for label in labels)
    assert any(label.startswith("relu\\n(1, 2)") for label in labels)
    assert any(label.startswith("sum\\n() float64\\nvalue 4") for label in labels)
    assert any(label.startswith("input\\n(1, 2)") for label in labels)
    assert not any("‖grad‖" in label for label in labels)
    assert dot.source.count("->") == 4  # x, w → matmul → relu → sum


def test_gradient_norms_after_backward(rng):
    w = gn.Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    x = gn.Tensor(rng.standard_normal((5, 3)))
    hidden = F.relu(x @ w)
    loss = (hidden * hidden).mean()
    loss.backward(retain_graph=True)
    dot = viz.graph(loss, {"w": w})
    assert "after backward(): ‖∂L/∂t‖ per node" in dot.source
    labels = _labels(dot)
    w_label = next(label for label in labels if label.startswith("w\\n"))
    assert f"‖grad‖ {np.linalg.norm(w.grad):.3g}" in w_label
    expected_hidden = np.linalg.norm(2 * hidden.data / hidden.data.size)  # ∂L/∂h = 2h/n
    relu_label = next(label for label in labels if label.startswith("relu\\n"))
    assert f"‖grad‖ {expected_hidden:.3g}" in relu_label
    input_label = next(label for label in labels if label.startswith("input\\n"))
    assert "grad" not in input_label


def test_freed_graph_and_bad_input_get_clear_errors():
    w = gn.Tensor(np.ones(2), requires_grad=True)
    loss = (w * 2).sum()
    loss.backward()
    with pytest.raises(ValueError, match="backward\\(\\) already freed this graph.*retain_graph=True"):
        viz.graph(loss)
    with pytest.raises(TypeError, match="expected a glassnet Tensor, got a ndarray"):
        viz.graph(np.ones(2))


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot program (Debian: graphviz)")
def test_renders_svg():
    block = nn.ResidualBlock(2, 4, stride=2)
    out = block(gn.randn(1, 2, 6, 6))
    svg = viz.graph(out, dict(block.named_parameters())).pipe(format="svg").decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "add_relu" in svg and "conv1.weight" in svg


def test_summary_draws_the_forward_graph(tmp_path, capsys):
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    gn.save(model, tmp_path / "m.safetensors", input_shape=[1, 4])
    target = tmp_path / "m.dot"
    assert main(["summary", str(tmp_path / "m.safetensors"), "--graph", "--graph-file", str(target)]) == 0
    assert f"forward graph: {target}" in capsys.readouterr().out
    text = target.read_text()
    assert "m.safetensors: forward graph" in text and "0.weight\\n(3, 4) float32" in text and "relu" in text
