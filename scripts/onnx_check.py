"""Train a model briefly on Fashion-MNIST, export it to ONNX, and compare
onnxruntime's outputs with glassnet's on the 10,000 test images.

    python scripts/onnx_check.py --model book_cnn --epochs 1
    python scripts/onnx_check.py --model spp_cnn --epochs 1 --train-limit 20000

Prints the test accuracy of both, the number of differing predictions and the
largest relative difference of the logits (max |ort − glassnet| / max |glassnet|).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import glassnet as gn
from glassnet import models, nn, optim
from glassnet.data import load_dataset
from glassnet.data.transforms import to_float
from glassnet.onnx import export
from glassnet.train import fit

BUILDERS = {"mlp": lambda: models.mlp("784-256-10", batch_norm=True), "book_cnn": models.book_cnn,
            "spp_cnn": models.spp_cnn, "resnet_small": lambda: models.resnet_small(blocks_per_stage=1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=sorted(BUILDERS), default="book_cnn")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--train-limit", type=int, default=60000, help="train on the first N images")
    parser.add_argument("--opset", type=int, default=17)
    args = parser.parse_args()
    import onnxruntime

    (x_train, y_train), (x_test, y_test) = load_dataset("fashion-mnist")
    shape = (-1, 784) if args.model == "mlp" else (-1, 1, 28, 28)
    x_train, x_test = to_float(x_train[:args.train_limit]).reshape(shape), to_float(x_test).reshape(shape)
    y_train = y_train[:args.train_limit]
    gn.seed(0)
    model = BUILDERS[args.model]()
    start = time.perf_counter()
    fit(model, (x_train, y_train), nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3),
                 args.epochs, batch_size=64, seed=0, verbose=False)
    trained = time.perf_counter() - start
    path = Path(tempfile.mkdtemp()) / f"{args.model}.onnx"
    export(model, path, x_test[:1], opset=args.opset)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = np.concatenate([session.run(None, {"input": x_test[i:i + 1000]})[0] for i in range(0, 10000, 1000)])
    model.eval()
    with gn.no_grad():
        expected = np.concatenate([model(gn.Tensor(x_test[i:i + 1000])).data for i in range(0, 10000, 1000)])
    differ = int((got.argmax(1) != expected.argmax(1)).sum())
    error = float(np.abs(got - expected).max() / np.abs(expected).max())
    print(f"{args.model}: trained {args.epochs} epoch(s) on {len(x_train)} images in {trained:.0f} s; "
          f"test accuracy glassnet {100 * (expected.argmax(1) == y_test).mean():.2f}%, "
          f"onnxruntime {100 * (got.argmax(1) == y_test).mean():.2f}%; {differ} of 10,000 predictions differ; "
          f"largest relative difference of the logits {error:.1e} (opset {args.opset})")


if __name__ == "__main__":
    main()
