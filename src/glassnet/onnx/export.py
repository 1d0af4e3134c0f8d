"""Write a glassnet model as an ONNX graph, layer by layer.

Each module class has a *converter* that emits the ONNX nodes computing its
forward pass in evaluation mode (dropout is the identity, batch norm uses its
running statistics), registered with :func:`register_converter`. The exporter
walks the module tree from the model down, so

- every node is named after the module that made it (``stages.1.0.conv1``),
  and every weight after its ``state_dict`` key (``stages.1.0.conv1.weight``):
  Netron shows the structure ``glassnet summary`` prints;
- a module without a converter stops the export with an :class:`ExportError`
  naming the module, its class and its place in the model.

While converting, the exporter also runs each module on the example input, so
a converter knows the actual shapes it works on. The batch axis of the graph's
input is dynamic; so are the spatial axes (and a sentence's length) when the
model accepts any size (spatial pyramid, adaptive or global pooling, TextCNN).

Mapped: Sequential, Linear, Conv1d, Conv2d (groups, padding modes), the
activations, Softmax/LogSoftmax, Dropout/Dropout2d/Identity, Flatten,
BatchNorm1d/2d, LayerNorm (opset ≥ 17), Max/AvgPool2d, GlobalAvgPool2d,
adaptive pools, SpatialPyramidPool2d, Embedding, ResidualBlock, ResNet, TextCNN.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .. import nn
from ..models.resnet import ResNet
from ..models.textcnn import TextCNN
from ..nn.module import Module
from ..tensor import Tensor, cat, no_grad

DEFAULT_OPSET = 17
MIN_OPSET = 13


class ExportError(ValueError):
    """A model cannot be written as ONNX (a module without a mapping, an unsupported option)."""


_converters: dict[type, object] = {}


def register_converter(cls: type):
    """Decorator: ``fn(graph, module, name, x) -> output`` converts instances of
    ``cls`` (subclasses too, unless they have their own). ``x`` is the input
    :class:`Value`; the converter adds nodes with ``graph.node`` and returns the
    output Value (``graph.run(module, x)`` gives the output's actual tensor)."""
    def register(fn):
        _converters[cls] = fn
        return fn
    return register


class Value:
    """An ONNX tensor name together with the glassnet tensor it holds for the example input."""

    def __init__(self, name: str, tensor: Tensor):
        self.name, self.tensor = name, tensor

    @property
    def shape(self) -> tuple:
        return self.tensor.shape


class Graph:
    """The nodes and initializers being built, and the opset they target."""

    def __init__(self, opset: int):
        from onnx import helper  # the optional dependency, imported on use

        self.helper, self.opset = helper, opset
        self.nodes, self.initializers, self._names = [], [], set()
        self._integers: dict[tuple, str] = {}

    def unique(self, name: str) -> str:
        candidate, k = name, 1
        while candidate in self._names:
            k += 1
            candidate = f"{name}_{k}"
        self._names.add(candidate)
        return candidate

    def constant(self, name: str, array) -> str:
        """An initializer (a weight, or a constant such as a shape); returns its name."""
        from onnx import numpy_helper

        name = self.unique(name)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def integers(self, *values: int) -> str:
        """A shared int64 constant (a shape, an axis, a factor): one initializer per distinct value."""
        if values not in self._integers:
            name = "const_" + "_".join(str(v).replace("-", "m") for v in values)
            self._integers[values] = self.constant(name, np.array(values, dtype=np.int64))
        return self._integers[values]

    def weight(self, module_name: str, key: str, array) -> str:
        """A module's parameter or buffer under its state_dict name ``<module>.<key>``."""
        return self.constant(f"{module_name}.{key}" if module_name else key, np.asarray(array))

    def node(self, op: str, inputs: list, name: str, outputs: int = 1, **attributes):
        """Add one node named ``name``; returns its output name (or names)."""
        node_name = self.unique(name or op)
        names = [node_name if outputs == 1 else f"{node_name}:{i}" for i in range(outputs)]
        self.nodes.append(self.helper.make_node(op, inputs, names, name=node_name, **attributes))
        return names[0] if outputs == 1 else names

    def reduce(self, op: str, x: str, axes: list, name: str, keepdims: int) -> str:
        """ReduceMax/ReduceMean over ``axes``: an attribute before opset 18, an input from 18."""
        if self.opset >= 18 or op == "ReduceSum":
            return self.node(op, [x, self.integers(*axes)], name, keepdims=keepdims)
        return self.node(op, [x], name, axes=axes, keepdims=keepdims)

    @staticmethod
    def run(module: Module, x: Value) -> Tensor:
        return module(x.tensor)

    def convert(self, module: Module, name: str, x: Value) -> Value:
        """The nodes of ``module`` (called ``name`` in the model) applied to ``x``."""
        for cls in type(module).__mro__:
            if cls in _converters:
                return _converters[cls](self, module, name, x)
        raise ExportError(f"ONNX export: no mapping for module {name or '(the model)'!r} of class "
                          f"{type(module).__module__}.{type(module).__qualname__}; register one with "
                          f"glassnet.onnx.register_converter({type(module).__name__})")


def _child(name: str, key: str) -> str:
    return f"{name}.{key}" if name else key


# ------------------------------------------------------------------ converters
@register_converter(nn.Sequential)
def _sequential(g: Graph, m, name, x):
    for key, child in m.named_children():
        x = g.convert(child, _child(name, key), x)
    return x


def _unsupported(name, m, what):
    raise ExportError(f"ONNX export: {name!r} ({type(m).__name__}) uses {what}, which has no ONNX mapping here")


@register_converter(nn.Linear)
def _linear(g, m, name, x):
    """Gemm (y = x Wᵀ + b) on (N, in) inputs; MatMul with Wᵀ (stored transposed) and Add on more axes."""
    bias = [g.weight(name, "bias", m.bias.data)] if m.bias is not None else []
    if len(x.shape) == 2:
        return Value(g.node("Gemm", [x.name, g.weight(name, "weight", m.weight.data)] + bias, name, transB=1),
                     g.run(m, x))
    out = g.node("MatMul", [x.name, g.constant(f"{name}.weight_transposed", m.weight.data.T)], name)
    if bias:
        out = g.node("Add", [out] + bias, f"{name}.add_bias")
    return Value(out, g.run(m, x))


def _simple(op, **fixed):
    def convert(g, m, name, x):
        return Value(g.node(op, [x.name], name, **fixed), g.run(m, x))
    return convert


for _cls, _op in ((nn.ReLU, "Relu"), (nn.Sigmoid, "Sigmoid"), (nn.Tanh, "Tanh"), (nn.Identity, "Identity"),
                  (nn.Dropout, "Identity"), (nn.Dropout2d, "Identity")):
    register_converter(_cls)(_simple(_op))


@register_converter(nn.LeakyReLU)
def _leaky_relu(g, m, name, x):
    return Value(g.node("LeakyRelu", [x.name], name, alpha=float(m.negative_slope)), g.run(m, x))


@register_converter(nn.RReLU)
def _rrelu(g, m, name, x):  # evaluation mode: the mean slope
    return Value(g.node("LeakyRelu", [x.name], name, alpha=float((m.lower + m.upper) / 2)), g.run(m, x))


@register_converter(nn.PReLU)
def _prelu(g, m, name, x):
    slope = m.weight.data
    if slope.size > 1:  # one slope per channel (axis 1): broadcast over the axes after it
        slope = slope.reshape((-1,) + (1,) * (len(x.shape) - 2))
    return Value(g.node("PRelu", [x.name, g.weight(name, "weight", slope)], name), g.run(m, x))


@register_converter(nn.Softmax)
def _softmax(g, m, name, x):
    op = "LogSoftmax" if isinstance(m, nn.LogSoftmax) else "Softmax"
    return Value(g.node(op, [x.name], name, axis=int(m.dim)), g.run(m, x))


@register_converter(nn.Flatten)
def _flatten(g, m, name, x):
    rank = len(x.shape)
    start, end = m.start_dim % rank, m.end_dim % rank
    if end != rank - 1:
        _unsupported(name, m, f"end_dim={m.end_dim}")
    return Value(g.node("Flatten", [x.name], name, axis=start), g.run(m, x))


@register_converter(nn.BatchNorm1d)
def _batch_norm(g, m, name, x):
    if not m.track_running_stats:
        _unsupported(name, m, "track_running_stats=False (batch statistics at inference)")
    c, dtype = m.num_features, np.asarray(m.running_mean).dtype
    scale = m.weight.data if m.affine else np.ones(c, dtype)
    shift = m.bias.data if m.affine else np.zeros(c, dtype)
    inputs = [x.name, g.weight(name, "weight", scale), g.weight(name, "bias", shift),
              g.weight(name, "running_mean", m.running_mean), g.weight(name, "running_var", m.running_var)]
    return Value(g.node("BatchNormalization", inputs, name, epsilon=float(m.eps)), g.run(m, x))


register_converter(nn.BatchNorm2d)(_batch_norm)


@register_converter(nn.LayerNorm)
def _layer_norm(g, m, name, x):
    if g.opset < 17:
        _unsupported(name, m, f"LayerNormalization at opset {g.opset} (it needs opset 17 or later)")
    inputs = [x.name] + [g.weight(name, key, getattr(m, key).data) for key in ("weight", "bias")
                         if getattr(m, key) is not None]
    if m.weight is None:
        inputs.append(g.weight(name, "weight", np.ones(m.normalized_shape, dtype=x.tensor.dtype)))
    return Value(g.node("LayerNormalization", inputs, name, axis=-len(m.normalized_shape), epsilon=float(m.eps)),
                 g.run(m, x))


_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@register_converter(nn.Conv2d)
def _conv2d(g, m, name, x):
    (top, bottom), (left, right) = m._borders()
    source = x.name
    if m.padding_mode != "zeros" and (top or bottom or left or right):
        if m.padding_mode == "circular" and g.opset < 19:
            _unsupported(name, m, f"padding_mode='circular' at opset {g.opset} (Pad's 'wrap' needs opset 19)")
        pads = g.integers(0, 0, top, left, 0, 0, bottom, right)
        source = g.node("Pad", [source, pads], f"{name}.pad", mode=_PAD_MODES[m.padding_mode])
        top = bottom = left = right = 0
    inputs = [source, g.weight(name, "weight", m.weight.data)]
    if m.bias is not None:
        inputs.append(g.weight(name, "bias", m.bias.data))
    out = g.node("Conv", inputs, name, kernel_shape=list(m.kernel_size), strides=list(m.stride),
                 dilations=list(m.dilation), pads=[top, left, bottom, right], group=m.groups)
    return Value(out, g.run(m, x))


@register_converter(nn.Conv1d)
def _conv1d(g, m, name, x):
    inputs = [x.name, g.weight(name, "weight", m.weight.data)]
    if m.bias is not None:
        inputs.append(g.weight(name, "bias", m.bias.data))
    out = g.node("Conv", inputs, name, kernel_shape=[m.kernel_size], strides=[m.stride],
                 pads=[m.padding, m.padding])
    return Value(out, g.run(m, x))


@register_converter(nn.MaxPool2d)
def _max_pool(g, m, name, x):
    if m.return_indices:
        _unsupported(name, m, "return_indices=True")
    (ph, pw) = m.padding
    out = g.node("MaxPool", [x.name], name, kernel_shape=list(m.kernel_size), strides=list(m.stride),
                 pads=[ph, pw, ph, pw], dilations=list(m.dilation), ceil_mode=int(m.ceil_mode))
    return Value(out, g.run(m, x))


@register_converter(nn.AvgPool2d)
def _avg_pool(g, m, name, x):
    if m.divisor_override:
        _unsupported(name, m, "divisor_override")
    (ph, pw) = m.padding
    out = g.node("AveragePool", [x.name], name, kernel_shape=list(m.kernel_size), strides=list(m.stride),
                 pads=[ph, pw, ph, pw], ceil_mode=int(m.ceil_mode), count_include_pad=int(m.count_include_pad))
    return Value(out, g.run(m, x))


@register_converter(nn.GlobalAvgPool2d)
def _global_avg_pool(g, m, name, x):
    pooled = g.node("GlobalAveragePool", [x.name], f"{name}.pool")
    return Value(g.node("Flatten", [pooled], name, axis=1), g.run(m, x))


def _adaptive_grid(g, x: str, output_size, mode: str, name: str) -> str:
    """(N, C, H, W) → (N, C, oh, ow) over PyTorch's adaptive bins, for any H, W:
    bin i of an axis of length L is [⌊i·L/o⌋, ⌈(i+1)·L/o⌉), computed in the graph
    from the input's shape, each bin a Slice reduced by ReduceMax / ReduceMean."""
    oh, ow = output_size
    if (oh, ow) == (1, 1):
        return g.node("GlobalMaxPool" if mode == "max" else "GlobalAveragePool", [x], name)
    shape = g.node("Shape", [x], f"{name}.shape")
    sizes = {axis: g.node("Gather", [shape, g.integers(axis)], f"{name}.size{axis}", axis=0) for axis in (2, 3)}

    def bounds(axis: int, count: int) -> list:
        """[(⌊i·L/count⌋, ⌈(i+1)·L/count⌉) for each bin i], as one-element int64 tensors."""
        def bound(numerator: int, ceil: bool) -> str:
            scaled = g.node("Mul", [sizes[axis], g.integers(numerator)], f"{name}.mul")
            if ceil:
                scaled = g.node("Add", [scaled, g.integers(count - 1)], f"{name}.add")
            return g.node("Div", [scaled, g.integers(count)], f"{name}.div")
        return [(bound(i, False), bound(i + 1, True)) for i in range(count)]

    axes, reduce = g.integers(2, 3), "ReduceMax" if mode == "max" else "ReduceMean"
    columns = bounds(3, ow)
    rows = []
    for i, (h0, h1) in enumerate(bounds(2, oh)):
        cells = []
        for j, (w0, w1) in enumerate(columns):
            starts = g.node("Concat", [h0, w0], f"{name}.start", axis=0)
            ends = g.node("Concat", [h1, w1], f"{name}.end", axis=0)
            block = g.node("Slice", [x, starts, ends, axes], f"{name}.bin{i}_{j}")
            cells.append(g.reduce(reduce, block, [2, 3], f"{name}.{reduce.lower()}{i}_{j}", keepdims=1))
        rows.append(cells[0] if ow == 1 else g.node("Concat", cells, f"{name}.row{i}", axis=3))
    return rows[0] if oh == 1 else g.node("Concat", rows, name, axis=2)


@register_converter(nn.AdaptiveMaxPool2d)
def _adaptive_max(g, m, name, x):
    return Value(_adaptive_grid(g, x.name, m.output_size, "max", name), g.run(m, x))


@register_converter(nn.AdaptiveAvgPool2d)
def _adaptive_avg(g, m, name, x):
    return Value(_adaptive_grid(g, x.name, m.output_size, "avg", name), g.run(m, x))


@register_converter(nn.SpatialPyramidPool2d)
def _spp(g, m, name, x):
    levels = [g.node("Flatten", [_adaptive_grid(g, x.name, (level, level), m.mode, f"{name}.level{level}")],
                     f"{name}.flatten{level}", axis=1) for level in m.levels]
    return Value(g.node("Concat", levels, name, axis=1), g.run(m, x))


@register_converter(nn.Embedding)
def _embedding(g, m, name, x):
    if m.max_norm is not None:
        _unsupported(name, m, "max_norm (it rescales the table while looking up)")
    return Value(g.node("Gather", [g.weight(name, "weight", m.weight.data), x.name], name, axis=0), g.run(m, x))


@register_converter(nn.ResidualBlock)
def _residual_block(g, m, name, x):
    """ReLU(bn2(conv2(ReLU(bn1(conv1(x))))) + shortcut(x)), as ResidualBlock.forward."""
    h = g.convert(m.bn1, _child(name, "bn1"), g.convert(m.conv1, _child(name, "conv1"), x))
    h = Value(g.node("Relu", [h.name], _child(name, "relu1")), F.relu(h.tensor))
    h = g.convert(m.bn2, _child(name, "bn2"), g.convert(m.conv2, _child(name, "conv2"), h))
    if m.residual:
        s = x if m.shortcut is None else g.convert(m.shortcut, _child(name, "shortcut"), x)
        h = Value(g.node("Add", [h.name, s.name], _child(name, "add")), h.tensor + s.tensor)
    return Value(g.node("Relu", [h.name], _child(name, "relu")), g.run(m, x))


@register_converter(ResNet)
def _resnet(g, m, name, x):
    for key in ("stem", "stages", "pool", "fc"):
        x = g.convert(getattr(m, key), _child(name, key), x)
    return x


@register_converter(TextCNN)
def _textcnn(g, m, name, x):
    pad = max(m.widths) - 1
    pads = g.integers(0, pad, 0, pad)
    fill = g.constant(_child(name, "pad_id"), np.array(m.padding_idx, dtype=np.int64))
    ids = Value(g.node("Pad", [x.name, pads, fill], _child(name, "pad"), mode="constant"),
                Tensor(np.pad(np.asarray(x.tensor.data), ((0, 0), (pad, pad)), constant_values=m.padding_idx)))
    words = g.convert(m.embed, _child(name, "embed"), ids)
    if m.mode == "multichannel":
        static = g.convert(m.embed_static, _child(name, "embed_static"), ids)
        words = Value(g.node("Concat", [words.name, static.name], _child(name, "channels"), axis=2),
                      Tensor(np.concatenate([words.tensor.data, static.tensor.data], axis=2)))
    seq = Value(g.node("Transpose", [words.name], _child(name, "transpose"), perm=[0, 2, 1]),
                words.tensor.transpose(0, 2, 1))
    features, tensors = [], []
    for h in m.widths:
        maps = g.convert(getattr(m, f"conv{h}"), _child(name, f"conv{h}"), seq)
        top = g.reduce("ReduceMax", maps.name, [2], _child(name, f"max_over_time{h}"), keepdims=0)
        features.append(g.node("Relu", [top], _child(name, f"relu{h}")))
        tensors.append(F.relu(maps.tensor.max(axis=2)))
    z = g.node("Concat", features, _child(name, "features"), axis=1)
    z = g.node("Identity", [z], _child(name, "dropout"))  # evaluation mode
    return g.convert(m.fc, _child(name, "fc"), Value(z, cat(tensors, axis=1)))


# ------------------------------------------------------------------ export
def _any_size(model: Module) -> bool:
    """Whether the model accepts inputs of any spatial size (or sentence length)."""
    flexible = (nn.SpatialPyramidPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.GlobalAvgPool2d, TextCNN)
    return any(isinstance(m, flexible) for m in model.modules())


def _elem_type(dtype: np.dtype) -> int:
    from onnx import helper

    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def export(model: Module, path, example_input, opset: int = DEFAULT_OPSET, input_name: str = "input",
           output_name: str = "output", dynamic_size: bool | None = None):
    """Write ``model`` (in evaluation mode) to ``path`` as ONNX; return the ModelProto.

    ``example_input``: an array or Tensor of the shape the model takes (batch
    axis first), used to trace shapes. The graph's batch axis is dynamic
    (``"batch"``); with ``dynamic_size`` (default: when the model accepts any
    size) the other axes after the channels are too. The model is checked
    with ``onnx.checker.check_model(full_check=True)`` before it is written.
    The model's training flags are restored afterwards.
    """
    try:
        import onnx
    except ImportError as e:
        raise ImportError("glassnet.onnx needs the onnx package: pip install 'glassnet[onnx]'") from e
    if not MIN_OPSET <= int(opset) <= onnx.defs.onnx_opset_version():
        raise ExportError(f"ONNX export: opset must be between {MIN_OPSET} and {onnx.defs.onnx_opset_version()}, "
                          f"got {opset}")
    x = example_input if isinstance(example_input, Tensor) else Tensor(np.asarray(example_input))
    flags = [(m, m.training) for m in model.modules()]
    graph = Graph(int(opset))
    try:
        model.eval()
        with no_grad():
            out = graph.convert(model, "", Value(input_name, x))
    finally:
        for m, flag in flags:
            m.training = flag
    if out.name == input_name:
        out = Value(graph.node("Identity", [out.name], "identity"), out.tensor)
    for node in graph.nodes:  # the graph's output takes the name output_name
        node.input[:] = [output_name if n == out.name else n for n in node.input]
        node.output[:] = [output_name if n == out.name else n for n in node.output]
    dynamic = _any_size(model) if dynamic_size is None else dynamic_size
    text = isinstance(model, TextCNN)
    names = ["batch", "length"] if text else ["batch", "channels", "height", "width"] if x.ndim == 4 else \
        ["batch"] + [f"size{i}" for i in range(1, x.ndim)]
    in_dims = ["batch"] + [names[i] if dynamic and (text or i >= 2) else n for i, n in enumerate(x.shape) if i > 0]
    out_dims = ["batch"] + list(out.tensor.shape[1:])
    helper = graph.helper
    onnx_graph = helper.make_graph(
        graph.nodes, type(model).__name__,
        [helper.make_tensor_value_info(input_name, _elem_type(x.dtype), in_dims)],
        [helper.make_tensor_value_info(output_name, _elem_type(out.tensor.dtype), out_dims)],
        graph.initializers)
    proto = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", int(opset))],
                              producer_name="glassnet")
    proto.ir_version = min(proto.ir_version, 10)  # readable by onnxruntime releases of the last years
    onnx.checker.check_model(proto, full_check=True)
    onnx.save(proto, str(path))
    return proto
