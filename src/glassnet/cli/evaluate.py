"""``glassnet evaluate MODEL``: accuracy, loss and per-class accuracy on a test set.

    glassnet evaluate runs/train/model.safetensors
    glassnet evaluate runs/train/model.safetensors --dataset mnist
    glassnet evaluate resnet14-fashion                     # a zoo model
    glassnet evaluate runs/textcnn/model.safetensors --dataset reviews.csv
    glassnet evaluate runs/spp_cnn/model.safetensors --pad 2     # the same network on 32x32 images

MODEL is a model file written by ``glassnet train`` or a zoo name (``glassnet
zoo list``). Its metadata says which dataset it was trained on and how raw
inputs become its inputs (the preprocessing); the test set is that dataset's,
or ``--dataset``'s (of the same kind: images, 2-D points or sentences).
"""

from __future__ import annotations

import argparse

import numpy as np

from ..data import DataLoader
from ..data.preprocessing import prepare, vocabulary
from ..data.tasks import kind_of, load_task
from ..data.text import SentenceDataset, pad_collate, tokenize
from ..functional.losses import COSTS
from ..io import load, load_metadata
from ..models.model_zoo import resolve_model_file
from ..tensor import Tensor


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("evaluate", help="accuracy and loss of a saved model on a test set",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a model file written by glassnet train, or a zoo model name")
    parser.add_argument("--dataset", help="test set to use (default: the one the model was trained on)")
    parser.add_argument("--data-dir", help="folder with the data files (default: the usual search path)")
    parser.add_argument("--pad", type=int, default=0, metavar="P", help="zero-pad each test image by P pixels on "
                        "every side (28x28 -> 32x32 for P = 2): for networks that take any size (SPP, global pooling)")
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N test examples (quick checks)")
    parser.set_defaults(func=run)
    return parser


def model_and_metadata(name_or_path):
    """(model, metadata) of a model file or zoo name; an error if the file lacks
    what evaluate and predict need."""
    path = resolve_model_file(name_or_path)
    meta = load_metadata(path)
    missing = [k for k in ("dataset", "preprocessing", "classes") if k not in meta]
    if missing:
        raise ValueError(f"{name_or_path} lacks the metadata needed here ({', '.join(missing)}); "
                         f"it is written by glassnet train")
    return load(path), meta


def outputs(model, raw, preprocessing: dict, batch_size: int = 500) -> np.ndarray:
    """The model's outputs (N, C) for raw examples (images, points or sentences),
    in evaluation mode, ``batch_size`` at a time."""
    from ..train.fit import _evaluation_mode
    if preprocessing["kind"] == "text":
        vocab = vocabulary(preprocessing)
        dataset = SentenceDataset([vocab.encode(tokenize(s)) for s in raw], np.zeros(len(raw), dtype=np.int64))
        loader = DataLoader(dataset, batch_size, collate_fn=pad_collate)
    else:
        loader = DataLoader((prepare(raw, preprocessing),), batch_size)
    with _evaluation_mode(model):
        return np.concatenate([model(batch[0]).data for batch in loader])


def run(args) -> int:
    model, meta = model_and_metadata(args.model)
    dataset = args.dataset or meta["dataset"]
    preprocessing = meta["preprocessing"]
    kind = kind_of(dataset)
    if kind != preprocessing["kind"]:
        def what(k):
            return {"image": "images", "text": "sentences", "points": "2-D points"}.get(k, k)
        raise ValueError(f"{args.model} takes {what(preprocessing['kind'])}, but --dataset {dataset} holds {what(kind)}")
    task = load_task(dataset, args.data_dir, meta.get("options", {}).get("seed", 0))
    x_raw, y = task.test
    if args.limit:
        x_raw, y = x_raw[:args.limit], y[:args.limit]
    if args.pad:
        if preprocessing["kind"] != "image" or len(preprocessing["input_shape"]) != 4:
            raise ValueError(f"--pad needs a convolutional image model; {args.model} takes inputs of shape "
                             f"{preprocessing.get('input_shape')}")
        x_raw = np.pad(x_raw, ((0, 0), (args.pad, args.pad), (args.pad, args.pad)))
        preprocessing = {**preprocessing, "input_shape": [1, 1, *x_raw.shape[1:]]}
    scores = outputs(model, x_raw, preprocessing)
    if scores.shape[1] != len(task.classes):
        raise ValueError(f"the model has {scores.shape[1]} outputs but {dataset} has {len(task.classes)} classes")
    predicted = scores.argmax(axis=1)
    cost = meta.get("cost", "cross-entropy")
    loss = float(COSTS[cost](Tensor(scores), Tensor(y)).data)
    padded = f", zero-padded to {x_raw.shape[1]}x{x_raw.shape[2]}" if args.pad else ""
    print(f"{args.model} on the {dataset} test set ({len(y)} examples{padded}):")
    print(f"accuracy: {100 * (predicted == y).mean():.2f}% ({int((predicted == y).sum())}/{len(y)})")
    print(f"loss ({cost}): {loss:.4f}")
    print("per-class accuracy:")
    for c, name in enumerate(task.classes):
        mask = y == c
        acc = (predicted[mask] == c).mean() if mask.any() else float("nan")
        print(f"  {c}  {name:14s} {100 * acc:6.2f}%  ({int(mask.sum())} examples)")
    return 0
