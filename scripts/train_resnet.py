"""A small ResNet with batch norm and random-shift augmentation on Fashion-MNIST, with glassnet.

The network is ``glassnet.models.resnet.resnet_small``: a 3×3 stem, three stages
of residual blocks (widths 16, 32, 64 at 28×28, 14×14, 7×7), global average
pooling (or, with ``--spp 1,2,4``, spatial pyramid pooling) and a linear
classifier; two blocks per stage by default (14 weighted layers, 175k
parameters). Training: SGD with Nesterov momentum 0.9 at lr 0.05, weight
decay 5e-4, a cosine learning-rate schedule over the epochs (one step per
epoch), mini-batches of 128, each image shifted by up to ``--shift`` pixels
(zero padding) every time it is drawn; inputs scaled to [0, 1] and
standardized with the training set's mean and std. The 10,000 test images are evaluated after every epoch (the curve);
the reported accuracy is the last epoch's, not the best.

After training, the test set is also classified as 32×32 images (each 28×28
image zero-padded by 2 pixels on every side): with global average pooling or
spatial pyramid pooling the same network accepts them without any change.

    nice -n 10 python scripts/train_resnet.py --out results/resnet.json                  # 93.75%, ~65 min here
    nice -n 10 python scripts/train_resnet.py --spp 1,2,4 --out results/resnet_spp.json
    python scripts/train_resnet.py --epochs 1 --limit 5000    # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

import glassnet as gn
from glassnet import nn, optim
from glassnet.data import RandomShift, Standardizer, load_dataset, to_float
from glassnet.models.resnet import resnet_small
from glassnet.train import evaluate, fit


class ShiftAndStandardize:
    """The loader's transform: shift the uint8 images (background 0 comes in at
    the edges), then scale to [0, 1] and standardize."""

    def __init__(self, shift: RandomShift | None, standardizer: Standardizer):
        self.shift, self.standardizer = shift, standardizer

    def __call__(self, images):
        return self.standardizer(to_float(self.shift(images) if self.shift else images))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder holding the IDX files (default: glassnet's lookup)")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--widths", default="16,32,64")
    parser.add_argument("--blocks", default="2", help="residual blocks per stage: one int, or one per stage")
    parser.add_argument("--spp", default=None, help="spatial pyramid levels, e.g. 1,2,4 (default: global average pooling)")
    parser.add_argument("--shift", type=int, default=2, help="random shift in pixels (0: no augmentation)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="train on only this many images (a quick look)")
    parser.add_argument("--floor", type=float, default=0.93, help="the test-accuracy floor the README states")
    parser.add_argument("--out", default=None, help="write the results as JSON to this path")
    parser.add_argument("--save", default=None, help="save the trained model (glassnet.save) to this path")
    args = parser.parse_args(argv)

    gn.seed(args.seed)
    rng = np.random.default_rng(args.seed)
    (x_train, y_train), (x_test, y_test) = load_dataset("fashion-mnist", data_dir=args.data_dir)
    x_train, x_test = x_train[:, None], x_test[:, None]  # (N, 1, 28, 28) uint8
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    standardizer = Standardizer("global").fit(to_float(x_train))
    test_28 = standardizer(to_float(x_test))
    test_32 = standardizer(to_float(np.pad(x_test, ((0, 0), (0, 0), (2, 2), (2, 2)))))

    widths = tuple(int(w) for w in args.widths.split(","))
    blocks = [int(b) for b in args.blocks.split(",")]
    spp = tuple(int(level) for level in args.spp.split(",")) if args.spp else None
    model = resnet_small(widths=widths, blocks_per_stage=blocks[0] if len(blocks) == 1 else blocks, spp=spp,
                         generator=rng)
    print(f"{type(model).__name__}: depth {model.depth}, {model.num_parameters():,} parameters, "
          f"{'SPP ' + str(spp) if spp else 'global average pooling'}", flush=True)

    shift = RandomShift(args.shift, generator=rng) if args.shift else None
    loader = gn.data.DataLoader((x_train, y_train), batch_size=args.batch_size, shuffle=True, generator=rng,
                                transform=ShiftAndStandardize(shift, standardizer))
    opt = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=args.weight_decay)
    schedule = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    start = time.perf_counter()
    # test batches of 200: the im2col buffers of a 1000-image batch would take ~0.5 GB per convolution
    test_loader = gn.data.DataLoader((test_28, y_test), batch_size=200)
    history = fit(model, loader, nn.CrossEntropyLoss(), opt, epochs=args.epochs, validation_data=test_loader,
                  scheduler=schedule)
    train_seconds = time.perf_counter() - start

    accuracy_28 = history["val_accuracy"][-1]
    accuracy_32 = evaluate(model, (test_32, y_test), batch_size=200)["accuracy"]
    floor_met = accuracy_28 >= args.floor
    print(f"TEST accuracy (28x28): {accuracy_28:.4f}; floor {args.floor:.2f} {'met' if floor_met else 'NOT met'}")
    print(f"TEST accuracy of the same network on 32x32 padded images: {accuracy_32:.4f}")
    print(f"wall time: {train_seconds:.0f} s for {args.epochs} epochs "
          f"({np.mean(history['time']):.0f} s per epoch incl. the test pass)")
    if args.save:
        gn.save(model, args.save)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump({"args": vars(args), "depth": model.depth, "parameters": model.num_parameters(),
                       "test_accuracy_28": accuracy_28, "test_accuracy_32_padded": accuracy_32,
                       "floor_met": floor_met, "train_seconds": train_seconds,
                       "history": {k: list(v) for k, v in history.history.items()},
                       "machine": f"{platform.node()} ({os.cpu_count()} CPUs), numpy {np.__version__}"}, f, indent=2)


if __name__ == "__main__":
    main()
