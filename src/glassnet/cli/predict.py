"""``glassnet predict MODEL INPUT...``: classify images or sentences with a saved model.

    glassnet predict runs/train/model.safetensors shoe.png shirt.jpg
    glassnet predict resnet14-fashion photo.jpg --top 3       # a zoo model
    glassnet predict runs/textcnn/model.safetensors "a gripping, funny film" "dull and far too long"
    glassnet predict course-cnn-fashion boot.png --json

MODEL is a model file written by ``glassnet train`` or a zoo name. For an image
model each INPUT is a PNG or JPEG file: it is grey-scaled, resized to the
model's input size and (``--invert auto``, the default) inverted when its
border is light, since the training images are light objects on black; then
the preprocessing stored in the model file makes it a network input. For a
text model each INPUT is a sentence. Prints the ``--top`` classes with their
softmax probabilities, or with ``--json`` one JSON document.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ..data.preprocessing import load_image
from ..functional.activations import softmax
from ..tensor import Tensor
from .evaluate import model_and_metadata, outputs

#: file endings taken for images (a text model refuses such a file instead of reading its name as a sentence)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp")


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("predict", help="classify images or sentences with a saved model",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a model file written by glassnet train, or a zoo model name")
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files (image models) or sentences")
    parser.add_argument("--top", type=int, default=3, metavar="K", help="classes to show per input (default 3)")
    parser.add_argument("--invert", choices=("auto", "yes", "no"), default="auto",
                        help="invert the grey levels (auto: when the image's border is light)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    parser.set_defaults(func=run)
    return parser


def classify(model, meta: dict, inputs, top: int = 3, invert: str = "auto") -> list[dict]:
    """``[{"input", "predictions": [{"class", "index", "probability"}, ...]}]`` for
    image paths or sentences, the ``top`` most probable classes first."""
    preprocessing, classes = meta["preprocessing"], meta["classes"]
    if preprocessing["kind"] == "image":
        missing = [path for path in inputs if not Path(path).is_file()]
        if missing:
            raise ValueError(f"{missing[0]!r}: no such file; this model classifies images (PNG or JPEG files)")
        raw = np.stack([load_image(path, preprocessing, invert) for path in inputs])
    elif preprocessing["kind"] == "text":
        images = [s for s in inputs if Path(s).suffix.lower() in IMAGE_SUFFIXES and Path(s).is_file()]
        if images:
            raise ValueError(f"{images[0]}: this model classifies sentences, not images")
        raw = np.asarray(list(inputs), dtype=object)
    else:
        raise ValueError(f"glassnet predict classifies images and sentences; this model takes "
                         f"{preprocessing['kind']}")
    probabilities = softmax(Tensor(outputs(model, raw, preprocessing)), axis=1).data
    top = max(1, min(int(top), len(classes)))
    results = []
    for name, p in zip(inputs, probabilities):
        order = np.argsort(-p, kind="stable")[:top]
        results.append({"input": str(name), "predictions": [
            {"class": classes[i], "index": int(i), "probability": float(p[i])} for i in order]})
    return results


def run(args) -> int:
    model, meta = model_and_metadata(args.model)
    if args.top < 1:
        raise ValueError(f"--top must be at least 1, got {args.top}")
    results = classify(model, meta, args.inputs, args.top, args.invert)
    if args.json:
        print(json.dumps({"model": args.model, "results": results}, indent=1))
        return 0
    for result in results:
        print(result["input"])
        for rank, guess in enumerate(result["predictions"], start=1):
            print(f"  {rank}. {guess['class']:<14s} {100 * guess['probability']:6.2f}%")
    return 0
