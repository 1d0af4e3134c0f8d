"""``glassnet summary MODEL``: the layer table of a saved model.

    glassnet summary runs/train/model.safetensors
    glassnet summary model.safetensors --input-shape 1,1,28,28
    glassnet summary model.safetensors --graph            # also draws the forward graph (model.graph.svg)
    glassnet summary model.safetensors --graph --graph-file net.png
"""

from __future__ import annotations

import argparse

from ..io import load, load_metadata


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("summary", help="print the layers, output shapes and parameter counts of a model",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a model file written by glassnet train or glassnet.save")
    parser.add_argument("--input-shape", help="input shape with the batch axis, e.g. 1,784 "
                                              "(default: from the model's metadata)")
    parser.add_argument("--graph", action="store_true",
                        help="also draw the forward computation graph of one random input (needs glassnet[viz])")
    parser.add_argument("--graph-file", help="where to write the graph: .svg, .png, .pdf or .dot "
                                             "(default: MODEL's name with .graph.svg; .dot when Graphviz's "
                                             "dot program is missing)")
    parser.set_defaults(func=run)
    return parser


def input_shape(args, meta: dict) -> tuple:
    """The input shape a command feeds a saved model: ``--input-shape`` (e.g. "1,784"), else the
    one its file records; a model file that records none needs the option."""
    if args.input_shape:
        return tuple(int(s) for s in args.input_shape.split(","))
    if "input_shape" in meta:
        return tuple(meta["input_shape"])
    raise ValueError(f"{args.model} does not record its input shape: pass --input-shape, e.g. 1,784")


def draw_graph(model, shape: tuple, model_path: str, out: str | None) -> str:
    """Write the forward graph of ``model`` on a random input of ``shape``; returns the file written."""
    import shutil
    from pathlib import Path

    import numpy as np

    from .. import viz
    from ..tensor import Tensor
    from .export import example_input

    x = example_input(model, shape, np.random.default_rng(0))
    model.eval()
    root = model(Tensor(x))
    dot = viz.graph(root, dict(model.named_parameters()), title=f"{Path(model_path).name}: forward graph")
    target = Path(out) if out else Path(model_path).with_suffix(".graph.svg")
    kind = target.suffix.lstrip(".").lower()
    if kind != "dot" and shutil.which("dot") is None:
        target, kind = target.with_suffix(".dot"), "dot"
        print("Graphviz's dot program is not installed (Debian: apt install graphviz): writing the DOT text")
    if kind == "dot":
        target.write_text(dot.source, encoding="utf-8")
    else:
        target.write_bytes(dot.pipe(format=kind))
    return str(target)


def run(args) -> int:
    model, meta = load(args.model), load_metadata(args.model)
    shape = input_shape(args, meta)
    print(model.summary(shape))
    if args.graph:
        print(f"forward graph: {draw_graph(model, shape, args.model, args.graph_file)}")
    for key in ("dataset", "test_accuracy"):
        if key in meta:
            value = meta[key]
            print(f"{key}: {100 * value:.2f}%" if key == "test_accuracy" else f"{key}: {value}")
    return 0
