"""``glassnet export MODEL OUT.onnx``: a saved model as ONNX, checked.

    glassnet export runs/train/model.safetensors model.onnx
    glassnet export model.safetensors model.onnx --opset 18 --input-shape 1,1,28,28

The ONNX graph keeps the layer names (open it in Netron); its batch axis is
dynamic (and its spatial size, for models that accept any). The file is
checked with onnx.checker (full check); when onnxruntime is installed, the
command also runs both on a random input and prints the largest difference.
"""

from __future__ import annotations

import argparse

import numpy as np

from ..io import load, load_metadata
from .summary import input_shape


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("export", help="write a model as ONNX (needs glassnet[onnx])",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a model file written by glassnet train or glassnet.save")
    parser.add_argument("out", help="the .onnx file to write")
    parser.add_argument("--opset", type=int, default=None, help="ONNX opset version (default 17)")
    parser.add_argument("--input-shape", help="input shape with the batch axis, e.g. 1,784 "
                                              "(default: from the model's metadata)")
    parser.set_defaults(func=run)
    return parser


def example_input(model, shape: tuple, rng: np.random.Generator) -> np.ndarray:
    """A random input of ``shape``: word ids for a model that starts with an embedding, else floats."""
    from ..nn import Embedding

    embeddings = [m for m in model.modules() if isinstance(m, Embedding)]
    if embeddings:
        return rng.integers(1, embeddings[0].num_embeddings, size=shape)
    dtype = next(model.parameters()).dtype
    return rng.standard_normal(shape).astype(dtype)


def run(args) -> int:
    from ..onnx import DEFAULT_OPSET, export

    model, meta = load(args.model), load_metadata(args.model)
    shape = input_shape(args, meta)
    rng = np.random.default_rng(0)
    x = example_input(model, shape, rng)
    opset = DEFAULT_OPSET if args.opset is None else args.opset
    proto = export(model, args.out, x, opset=opset)
    dims = [[d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
            for v in (proto.graph.input[0], proto.graph.output[0])]
    print(f"wrote {args.out}: {len(proto.graph.node)} nodes, opset {opset}, input {dims[0]} -> output {dims[1]}; "
          f"onnx.checker (full check) passed")
    try:
        import onnxruntime
    except ImportError:
        print("onnxruntime is not installed: the outputs were not compared (pip install 'glassnet[onnx]')")
        return 0
    from ..tensor import Tensor, no_grad

    batch = example_input(model, (4,) + shape[1:], rng)
    session = onnxruntime.InferenceSession(args.out, providers=["CPUExecutionProvider"])
    got = session.run(None, {proto.graph.input[0].name: batch})[0]
    model.eval()
    with no_grad():
        expected = model(Tensor(batch)).data
    error = float(np.abs(got - expected).max() / max(np.abs(expected).max(), 1e-30))
    print(f"onnxruntime vs glassnet on a random batch of 4: largest difference {error:.1e} of the largest output")
    return 0
