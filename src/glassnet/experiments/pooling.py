"""Pooling (cs231n, "Pooling layer"; Krizhevsky et al. 2012, §3.4; He et al. 2014).

The course's two-conv network (conv 20@5×5 → ReLU → pool → conv 40@5×5 → ReLU →
pool → FC 100 → FC 10) trained on all 60,000 Fashion-MNIST images, identical
except for its two pooling layers: max 2×2 stride 2, average 2×2 stride 2, and
AlexNet's overlapping max 3×3 stride 2, padded by 1 so that both poolings give
the same output sizes (24 → 12, 8 → 4) and the classifier keeps its 640
inputs; unpadded, the overlapping pool would shrink them to 360 and the
comparison would change two things at once. The conditions share each seed's
initial weights (same shapes) and data order, so differences are paired.
AlexNet reports a 0.4-point gain from overlapping pooling: smaller than the
seed-to-seed noise here, so the rule is non-inferiority (no worse than 0.5
point), not "better".

Spatial pyramid pooling replaces the last pooling layer by max pools over a
1×1, 2×2 and 4×4 grid of each feature map, whatever its size. Trained on
28×28 images and the same images rescaled to 36×36 (alternating every
mini-batch, SPP-net's multi-size training), one network classifies both
sizes; it is tested on rescaled images (the object grows) and on zero-padded
ones (it does not).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import zoom

from .. import nn, optim
from ..data import DataLoader
from ..models.cnn import spp_cnn
from ..tensor import Tensor, no_grad
from ..train import evaluate, fit
from .common import fashion_mnist
from .registry import Check, Outcome, reproduction
from .stats import Rule

CLAIM = ("In the same CNN, max pooling beats average pooling, and overlapping 3×3/2 max pooling (padded to the "
         "same output size) is no worse than 2×2/2 (AlexNet's 0.4-point gain is within noise); a spatial "
         "pyramid pooling net trained on two sizes classifies 28×28 and rescaled 36×36 images about equally well.")

MAX, AVG, OVERLAP, SPP = "max 2×2/2", "average 2×2/2", "overlapping max 3×3/2, padding 1", "SPP (1, 2, 4), two sizes"
TEST, TRAIN = "test accuracy after the last epoch", "training accuracy after the last epoch"
RESCALED, PADDED = ("test accuracy on 36×36 rescaled images − on 28×28", "test accuracy on 36×36 zero-padded "
                    "images − on 28×28")
POOLS = {MAX: (nn.MaxPool2d, 2, 2, 0), AVG: (nn.AvgPool2d, 2, 2, 0), OVERLAP: (nn.MaxPool2d, 3, 2, 1)}


def pooled_cnn(pool: str, generator) -> nn.Sequential:
    """conv 20@5×5 → ReLU → pool → conv 40@5×5 → ReLU → pool → FC 100 → ReLU → FC 10."""
    kind, size, stride, padding = POOLS[pool]
    features = nn.Sequential(nn.Conv2d(1, 20, 5, generator=generator), nn.ReLU(), kind(size, stride, padding),
                             nn.Conv2d(20, 40, 5, generator=generator), nn.ReLU(), kind(size, stride, padding),
                             nn.Flatten())
    with no_grad():
        width = features(Tensor(np.zeros((1, 1, 28, 28), dtype=np.float32))).shape[1]
    return nn.Sequential(*features, nn.Linear(width, 100, generator=generator), nn.ReLU(),
                         nn.Linear(100, 10, generator=generator))


def pad(images: np.ndarray, size: int) -> np.ndarray:
    """(N, 1, H, W) → (N, 1, size, size), the image centred on a black border."""
    border = (size - images.shape[-1]) // 2
    return np.pad(images, ((0, 0), (0, 0), (border, border), (border, border)))


def rescale(images: np.ndarray, size: int) -> np.ndarray:
    """(N, 1, H, W) → (N, 1, size, size) by bilinear interpolation."""
    factor = size / images.shape[-1]
    return zoom(images, (1, 1, factor, factor), order=1).astype(images.dtype)


class AlternateSize:
    """A DataLoader transform for multi-size training: every second mini-batch
    is rescaled to ``size``×``size``, the others pass unchanged, so the network
    sees both sizes throughout training."""

    def __init__(self, size: int):
        self.size, self.calls = size, 0

    def __call__(self, images: np.ndarray) -> np.ndarray:
        self.calls += 1
        return rescale(images, self.size) if self.calls % 2 == 0 else images


def _train(model, x, y, config, seed, transform=None):
    loader = DataLoader((x, y), batch_size=config.batch_size, shuffle=True, generator=config.generator(seed, 2),
                        transform=transform)
    fit(model, loader, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=config.lr, momentum=0.9),
        epochs=config.epochs, verbose=False)


@reproduction(
    "pooling", claim=CLAIM,
    source="cs231n notes (pooling layer); Krizhevsky et al. 2012, §3.4 (overlapping pooling); He et al. 2014 (SPP)",
    dataset="Fashion-MNIST: all 60,000 training images, tested on the 10,000 test images",
    conditions=(MAX, AVG, OVERLAP, SPP),
    setup=dict(n_train=60000, n_test=10000, epochs=10, batch_size=64, lr=0.05, big=36),
    quick=dict(n_train=300, n_test=200, epochs=1),
    rules=[Rule(TEST, MAX, ">", 0.0, baseline=AVG), Rule(TEST, OVERLAP, ">", -0.005, baseline=MAX),
           Rule(RESCALED, SPP, ">", -0.02)],
    deviations=["Fashion-MNIST instead of ImageNet (AlexNet) and of the course's MNIST: the full MNIST training "
                "files are not on this machine, and this comparison needs all 60,000 images.",
                "SGD with momentum 0.9, lr 0.05, mini-batches of 64, 10 epochs (the sources train far larger nets "
                "far longer).",
                "SPP's second size is 36×36 by bilinear rescaling (the paper uses 180 and 224 pixels)."],
)
def trial(config, seed, condition):
    (x, y), (x_test, y_test) = fashion_mnist(config.n_train, config.n_test, config.generator(seed, 0))
    x, x_test = x.reshape(-1, 1, 28, 28), x_test.reshape(-1, 1, 28, 28)
    metrics, checks = {}, []
    if condition != SPP:
        model = pooled_cnn(condition, config.generator(seed, 1))
        _train(model, x, y, config, seed)
        with no_grad():
            width = model[:7](Tensor(x[:1])).shape[1]
        checks.append(Check(f"{condition}: classifier inputs", width, "==", 640))
    else:
        model = spp_cnn(levels=(1, 2, 4), generator=config.generator(seed, 1))
        _train(model, x, y, config, seed, AlternateSize(config.big))
        with no_grad():
            lengths = [spp_length(model, s) for s in (28, config.big)]
        checks.append(Check(f"SPP feature length, {config.big}×{config.big} − 28×28", lengths[1] - lengths[0], "==", 0))
        accuracy = evaluate(model, (x_test, y_test))["accuracy"]
        metrics[RESCALED] = evaluate(model, (rescale(x_test, config.big), y_test))["accuracy"] - accuracy
        metrics[PADDED] = evaluate(model, (pad(x_test, config.big), y_test))["accuracy"] - accuracy
    metrics[TEST] = evaluate(model, (x_test, y_test))["accuracy"]
    metrics[TRAIN] = evaluate(model, (x, y))["accuracy"]
    return Outcome(metrics=metrics, checks=checks)


def spp_length(model, size: int) -> int:
    """The length of the SPP net's pyramid features for a size×size input."""
    return int(model[:6](Tensor(np.zeros((1, 1, size, size), dtype=np.float32))).shape[1])
