"""``glassnet evaluate MODEL``: accuracy, loss and per-class accuracy on a test set.

    glassnet evaluate runs/train/model.safetensors
    glassnet evaluate runs/train/model.safetensors --dataset mnist

The model file's metadata (written by ``glassnet train``) says which dataset
it was trained on, how raw inputs are preprocessed and the input shape.
"""

from __future__ import annotations

import argparse

from ..io import load, load_metadata
from ..tensor import Tensor
from ..train import predict


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("evaluate", help="accuracy and loss of a saved model on a test set",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a model file written by glassnet train or glassnet.save")
    parser.add_argument("--dataset", help="test set to use (default: the one the model was trained on)")
    parser.add_argument("--data-dir", help="folder with the IDX files (default: the usual search path)")
    parser.set_defaults(func=run)
    return parser


def run(args) -> int:
    from .train import COSTS, GENERATED, IMAGE_DATASETS, load_data, prepare
    model, meta = load(args.model), load_metadata(args.model)
    missing = [k for k in ("dataset", "preprocessing", "input_shape", "classes") if k not in meta]
    if missing:
        raise ValueError(f"{args.model} lacks the metadata glassnet evaluate needs ({', '.join(missing)}); "
                         f"it is written by glassnet train")
    dataset = args.dataset or meta["dataset"]
    if dataset not in IMAGE_DATASETS + tuple(GENERATED):
        raise ValueError(f"unknown dataset {dataset!r}; known: {', '.join(IMAGE_DATASETS + tuple(GENERATED))}")
    options = {"dataset": dataset, "data-dir": args.data_dir, "seed": meta.get("options", {}).get("seed", 0),
               "limit": None}
    _, (x_raw, y), classes = load_data(options)
    outputs = predict(model, prepare(x_raw, meta["preprocessing"], meta["input_shape"]))
    if outputs.shape[1] != len(classes):
        raise ValueError(f"the model has {outputs.shape[1]} outputs but {dataset} has {len(classes)} classes")
    predicted = outputs.argmax(axis=1)
    cost = meta.get("cost", "cross-entropy")
    loss = float(COSTS[cost](Tensor(outputs), Tensor(y)).data)
    print(f"{args.model} on the {dataset} test set ({len(y)} examples):")
    print(f"accuracy: {100 * (predicted == y).mean():.2f}% ({int((predicted == y).sum())}/{len(y)})")
    print(f"loss ({cost}): {loss:.4f}")
    print("per-class accuracy:")
    for c, name in enumerate(classes):
        mask = y == c
        acc = (predicted[mask] == c).mean() if mask.any() else float("nan")
        print(f"  {c}  {name:14s} {100 * acc:6.2f}%  ({int(mask.sum())} examples)")
    return 0
