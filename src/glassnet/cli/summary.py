"""``glassnet summary MODEL``: the layer table of a saved model.

    glassnet summary runs/train/model.safetensors
    glassnet summary model.safetensors --input-shape 1,1,28,28
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
    parser.set_defaults(func=run)
    return parser


def run(args) -> int:
    model, meta = load(args.model), load_metadata(args.model)
    if args.input_shape:
        shape = tuple(int(s) for s in args.input_shape.split(","))
    elif "input_shape" in meta:
        shape = tuple(meta["input_shape"])
    else:
        raise ValueError(f"{args.model} does not record its input shape: pass --input-shape, e.g. 1,784")
    print(model.summary(shape))
    for key in ("dataset", "test_accuracy"):
        if key in meta:
            value = meta[key]
            print(f"{key}: {100 * value:.2f}%" if key == "test_accuracy" else f"{key}: {value}")
    return 0
