"""One benchmark run in its own process: train one workload for one epoch with
one framework, then print one JSON line with the result.

    python benchmarks/worker.py --workload mlp-book-b10 --framework glassnet --images 60000

Prints ``{"seconds", "images", "images_per_s", "test_accuracy", "peak_rss_mb", ...}``.
Only the training epoch is timed: imports, data loading, model construction,
a short untimed warm-up on a throw-away copy of the model, and the evaluation
on the 10,000 test images are not. ``peak_rss_mb`` is this process's VmHWM
(the high-water mark of resident memory) at the end, so it covers everything.

Both contenders get the same float32 arrays (loaded with ``glassnet.data``),
the same architecture, initialisation scheme, loss, optimizer and batch size.
glassnet batches with its ``DataLoader``; PyTorch indexes a random permutation
of its tensors (faster than ``torch.utils.data.DataLoader`` at small batches).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time

import numpy as np

WARMUP_BATCHES = 20
EVAL_CHUNK = 1000


# ------------------------------------------------------------------- data
def load_fashion_mnist(images: int, kind: str):
    """(x_train, y_train, x_test, y_test): float32 pixels in [0, 1], int64 labels.

    ``kind`` "flat" gives (N, 784) rows, "image" gives (N, 1, 28, 28)."""
    from glassnet.data import load_dataset, to_float

    (x_train, y_train), (x_test, y_test) = load_dataset("fashion-mnist")
    shape = (-1, 784) if kind == "flat" else (-1, 1, 28, 28)
    x_train = to_float(x_train[:images]).reshape(shape)
    x_test = to_float(x_test).reshape(shape)
    return x_train, y_train[:images].astype(np.int64), x_test, y_test.astype(np.int64)


TEXT_LENGTH = 56  # tokens per sentence after padding/cutting (the longest rt-polarity sentence has 59)


def load_rt_polarity(sentences: int):
    """(x_train, y_train, x_test, y_test) for Kim's CNN: word ids (N, TEXT_LENGTH)
    int64 and labels, from ``glassnet.data.text.load_rt_polarity`` (the project's
    data search path); a fixed shuffle (seed 0) and a 90/10 split, the vocabulary
    built from the training part. ``sentences`` caps the training sentences."""
    from glassnet.data.text import Vocabulary, load_rt_polarity as load, pad_sequences, tokenize

    texts, labels = load()
    order = np.random.default_rng(0).permutation(len(texts))
    tokens = [tokenize(texts[i]) for i in order]
    labels = np.asarray(labels)[order].astype(np.int64)
    cut = len(tokens) * 9 // 10
    vocab = Vocabulary.build(tokens[:cut])
    ids = pad_sequences([vocab.encode(t) for t in tokens], TEXT_LENGTH, vocab.pad_index)
    return ids[:min(cut, sentences)], labels[:min(cut, sentences)], ids[cut:], labels[cut:], len(vocab)


def one_hot(labels: np.ndarray) -> np.ndarray:
    out = np.zeros((len(labels), 10), dtype=np.float32)
    out[np.arange(len(labels)), labels] = 1
    return out


# ------------------------------------------------------------- workloads
# Each workload: batch size, input kind, and how each framework builds
# (model, loss(outputs, targets), optimizer, targets-from-labels).
WORKLOADS = {
    "mlp-book-b10": dict(batch=10, kind="flat",
                         about="784-100-10 sigmoid, sigmoid outputs + cross-entropy summed over outputs, "
                               "SGD lr 0.1, book init N(0,1/n_in)"),
    "mlp-relu-b128": dict(batch=128, kind="flat",
                          about="784-512-512-10 ReLU, softmax cross-entropy, SGD lr 0.01 momentum 0.9, "
                                "PyTorch default init"),
    "cnn-book-b64": dict(batch=64, kind="image",
                         about="conv 20@5x5, ReLU, max-pool 2, conv 40@5x5, ReLU, max-pool 2, FC 640-100 ReLU, "
                               "FC 100-10, softmax cross-entropy, SGD lr 0.05, PyTorch default init"),
    "resnet-small-b64": dict(batch=64, kind="image",
                             about="glassnet.models.resnet_small (stem + 3 stages x 2 residual blocks, widths "
                                   "16/32/64, batch norm, global average pool), SGD lr 0.05 momentum 0.9"),
    "textcnn-b50": dict(batch=50, kind="text", quick_images=2000,
                        about="Kim's CNN-rand on rt-polarity: embedding 300, filters 3/4/5 x 100 maps, max over "
                              "time, ReLU, dropout 0.5, linear; Adam lr 1e-3, sentences padded to 56 words"),
    "classic-b10": dict(batch=10, kind="flat", other="reference",
                        about="784-100-10 through glassnet.classic.network2 (float64, vectorised) vs "
                              "the book's per-example loop"),
    "classic1-b10": dict(batch=10, kind="flat", other="reference",
                         about="chapter 1's 784-30-10 through glassnet.classic.network (float64, vectorised, "
                               "quadratic cost, eta 0.5) vs our per-example implementation"),
    "resnet14-tta93": dict(batch=128, kind="image", time_to_accuracy=dict(target=0.93, epochs=15, train=50000),
                           about="seconds of training to 93% test accuracy: configs/resnet14.toml's recipe "
                                 "(resnet_small 16/32/64, 2 blocks a stage; SGD Nesterov 0.9, lr 0.05, cosine over "
                                 "15 epochs, weight decay 5e-4, batch 128, random shifts of up to 2 pixels, the "
                                 "first 50,000 training images standardized), at most 15 epochs; opt-in"),
    "network3-b10": dict(batch=10, kind="flat",
                         about="chapter 6's two conv-pool ReLU network through glassnet.classic.network3 "
                               "(conv 20@5x5, max-pool 2, ReLU, conv 40@5x5, max-pool 2, ReLU, FC 640-100 ReLU, "
                               "softmax 100-10; SGD eta 0.03, lmbda 0.1, in order) vs the same in PyTorch"),
}


def build_glassnet(workload: str, vocab_size: int = 0):
    import glassnet as gn
    import glassnet.functional as F
    from glassnet import nn, optim

    if workload == "mlp-book-b10":
        model = gn.init.apply(nn.Sequential(nn.Linear(784, 100), nn.Sigmoid(), nn.Linear(100, 10)), "book")

        return model, F.sigmoid_cross_entropy, optim.SGD(model.parameters(), lr=0.1), one_hot
    if workload == "mlp-relu-b128":
        model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
        return model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.01, momentum=0.9), lambda y: y
    if workload == "cnn-book-b64":
        from glassnet.models import book_cnn
        model = book_cnn()
        return model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.05), lambda y: y
    if workload == "resnet-small-b64":
        from glassnet.models.resnet import resnet_small
        model = resnet_small()
        return model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.05, momentum=0.9), lambda y: y
    if workload == "textcnn-b50":
        from glassnet.models.textcnn import TextCNN
        model = TextCNN(vocab_size, 300, 2, mode="rand", generator=np.random.default_rng(0))
        return model, F.cross_entropy, optim.Adam(model.parameters(), lr=1e-3), lambda y: y
    raise ValueError(f"glassnet has no workload {workload!r}")


def build_torch(workload: str, vocab_size: int = 0):
    import math

    import torch
    import torch.nn.functional as F
    from torch import nn

    if workload == "mlp-book-b10":
        model = nn.Sequential(nn.Linear(784, 100), nn.Sigmoid(), nn.Linear(100, 10))
        with torch.no_grad():
            for layer in (model[0], model[2]):
                nn.init.normal_(layer.weight, 0.0, 1 / math.sqrt(layer.in_features))
                nn.init.normal_(layer.bias, 0.0, 1.0)

        def loss_fn(out, y):
            return F.binary_cross_entropy_with_logits(out, y, reduction="sum") * (1.0 / len(y))

        return model, loss_fn, torch.optim.SGD(model.parameters(), lr=0.1), lambda y: torch.from_numpy(one_hot(y))
    if workload == "mlp-relu-b128":
        model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
        return (model, F.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9),
                torch.from_numpy)
    if workload == "cnn-book-b64":
        model = nn.Sequential(nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(20, 40, 5), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(640, 100), nn.ReLU(), nn.Linear(100, 10))
        return model, F.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.05), torch.from_numpy
    if workload == "resnet-small-b64":
        model = torch_resnet_small()
        return (model, F.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9),
                torch.from_numpy)
    if workload == "textcnn-b50":
        model = torch_textcnn(vocab_size)
        return model, F.cross_entropy, torch.optim.Adam(model.parameters(), lr=1e-3), torch.from_numpy
    raise ValueError(f"torch has no workload {workload!r}")


def torch_textcnn(vocab_size: int, embed_dim: int = 300, widths=(3, 4, 5), maps: int = 100):
    """PyTorch's twin of ``glassnet.models.TextCNN(mode="rand")``: embedding
    U(−0.25, 0.25) with a zero padding row, sentences padded by max(widths) − 1
    on both ends, one Conv1d per width, max over time, ReLU, dropout 0.5, linear."""
    import torch
    from torch import nn

    class TextCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
            with torch.no_grad():
                self.embed.weight.uniform_(-0.25, 0.25)
                self.embed.weight[0] = 0
            self.convs = nn.ModuleList(nn.Conv1d(embed_dim, maps, h) for h in widths)
            self.dropout = nn.Dropout(0.5)
            self.fc = nn.Linear(len(widths) * maps, 2)

        def forward(self, ids):
            pad = max(widths) - 1
            x = self.embed(nn.functional.pad(ids, (pad, pad))).transpose(1, 2)
            return self.fc(self.dropout(torch.cat([torch.relu(c(x).amax(dim=2)) for c in self.convs], dim=1)))

    return TextCNN()


def torch_resnet_small(widths=(16, 32, 64), blocks_per_stage=2):
    """PyTorch's twin of ``glassnet.models.resnet_small``: the same layers, the
    same initialisation (convolutions He normal with fan_out, batch norm γ = 1,
    β = 0, the classifier PyTorch's default)."""
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                             if stride != 1 or cin != cout else nn.Identity())

        def forward(self, x):
            f = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
            return torch.relu(f + self.shortcut(x))

    layers = [nn.Conv2d(1, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU()]
    channels = widths[0]
    for i, width in enumerate(widths):
        for b in range(blocks_per_stage):
            layers.append(Block(channels, width, 2 if (i > 0 and b == 0) else 1))
            channels = width
    model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, 10))
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
    return model


# --------------------------------------------------------------- training
def run_glassnet(workload, x, y, x_test, y_test, seed, vocab_size=0):
    import glassnet as gn
    from glassnet.data import DataLoader

    batch = WORKLOADS[workload]["batch"]
    gn.seed(seed)
    warm_model, warm_loss, warm_opt, targets = build_glassnet(workload, vocab_size)
    for xb, yb in _take(DataLoader((x, targets(y)), batch_size=batch, shuffle=True,
                                   generator=np.random.default_rng(seed + 1)), WARMUP_BATCHES):
        _glassnet_step(warm_model, warm_loss, warm_opt, xb, yb)
    del warm_model, warm_opt

    model, loss_fn, opt, targets = build_glassnet(workload, vocab_size)
    loader = DataLoader((x, targets(y)), batch_size=batch, shuffle=True, generator=np.random.default_rng(seed))
    start = time.perf_counter()
    for xb, yb in loader:
        loss = _glassnet_step(model, loss_fn, opt, xb, yb)
    seconds = time.perf_counter() - start
    flops = training_flops_per_example(model, x[:1])

    model.eval()
    with gn.no_grad():
        predictions = np.concatenate([model(gn.Tensor(x_test[i:i + EVAL_CHUNK])).data.argmax(axis=1)
                                      for i in range(0, len(x_test), EVAL_CHUNK)])
    return seconds, float(loss.item()), float((predictions == y_test).mean()), flops


def training_flops_per_example(model, example) -> float:
    """Floating-point operations of one training example's matrix products:
    3 × (2 × multiply-adds of the forward pass's Linear, Conv1d and Conv2d
    layers), the usual count (forward, input gradient, weight gradient).
    The multiply-adds are counted on one forward pass of ``example``."""
    import glassnet as gn
    from glassnet import nn

    macs = 0

    def count(module, out):
        nonlocal macs
        w = module.weight.data
        if isinstance(module, nn.Linear):
            macs += w.size * (out.data.size // out.data.shape[-1])
        else:  # Conv1d, Conv2d: weights × output positions of one example
            macs += w.size * int(np.prod(out.data.shape[2:]))

    layers = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d))]
    for m in layers:
        def forward(*args, _m=m, _f=m.forward, **kwargs):
            out = _f(*args, **kwargs)
            count(_m, out)
            return out
        m.forward = forward
    try:
        model.eval()
        with gn.no_grad():
            model(gn.Tensor(example))
    finally:
        for m in layers:
            del m.forward  # back to the class's method
    return 6.0 * macs


def _glassnet_step(model, loss_fn, opt, xb, yb):
    loss = loss_fn(model(xb), yb)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss


def _take(iterable, n):
    for _, item in zip(range(n), iterable):
        yield item


def run_torch(workload, x, y, x_test, y_test, seed, vocab_size=0):
    import torch

    batch = WORKLOADS[workload]["batch"]
    torch.manual_seed(seed)
    xt = torch.from_numpy(x)

    def epoch(model, loss_fn, opt, targets, limit=None):
        yt = targets(y)
        order = torch.randperm(len(xt))
        stop = len(xt) if limit is None else min(len(xt), limit * batch)
        loss = None
        for i in range(0, stop, batch):
            index = order[i:i + batch]
            loss = loss_fn(model(xt[index]), yt[index])
            opt.zero_grad()
            loss.backward()
            opt.step()
        return loss

    warm_model, warm_loss, warm_opt, targets = build_torch(workload, vocab_size)
    epoch(warm_model, warm_loss, warm_opt, targets, limit=WARMUP_BATCHES)
    del warm_model, warm_opt

    model, loss_fn, opt, targets = build_torch(workload, vocab_size)
    start = time.perf_counter()
    loss = epoch(model, loss_fn, opt, targets)
    seconds = time.perf_counter() - start

    model.eval()
    with torch.no_grad():
        predictions = np.concatenate([model(torch.from_numpy(x_test[i:i + EVAL_CHUNK])).argmax(dim=1).numpy()
                                      for i in range(0, len(x_test), EVAL_CHUNK)])
    return seconds, float(loss.item()), float((predictions == y_test).mean()), None


def run_classic(workload, implementation, x, y, x_test, y_test, seed, weights_out):
    """One epoch in float64, seeded as the book is (random and np.random), batch 10:
    ``classic-b10`` the book's network2 (784-100-10, cross-entropy, eta 0.1),
    ``classic1-b10`` chapter 1's network (784-30-10, quadratic cost, eta 0.5)."""
    import contextlib
    import io
    import random

    if implementation != "glassnet":  # the per-example reference of both chapters
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
        import book_network2
    if workload == "classic-b10":
        if implementation == "glassnet":
            from glassnet.classic import network2 as module
        else:
            module = book_network2
        sizes, eta = [784, 100, 10], 0.1

        def make(sizes):
            return module.Network(sizes, cost=module.CrossEntropyCost)
    else:
        if implementation == "glassnet":
            from glassnet.classic import network
            make = network.Network
        else:
            make = book_network2.Chapter1Network
        # eta 0.5, not the book's 3.0: at 3.0 this N(0, 1) net is chaotic enough to grow the 1e-16
        # differences of summation order to 9e-2 in 600 steps (measured), and the weight check would say nothing
        sizes, eta = [784, 30, 10], 0.5

    x64 = x.astype(np.float64)
    targets = one_hot(y).astype(np.float64)
    training_data = [(x64[i].reshape(784, 1), targets[i].reshape(10, 1)) for i in range(len(x64))]
    random.seed(seed)
    np.random.seed(seed)
    net = make(sizes)
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        net.SGD(training_data, 1, WORKLOADS[workload]["batch"], eta)
    seconds = time.perf_counter() - start
    if weights_out:
        np.savez(weights_out, *net.weights, *net.biases)
    correct = sum(int(np.argmax(net.feedforward(row.astype(np.float64).reshape(784, 1))) == label)
                  for row, label in zip(x_test, y_test))
    return seconds, None, correct / len(y_test), 6.0 * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def run_network3(framework, x, y, x_test, y_test, seed):
    """One epoch of chapter 6's two conv-pool ReLU network at mini-batch 10, in the
    stored order (network3 does not shuffle), from the same initial weights
    (network3's, seeded by np.random) in both frameworks. PyTorch gets the book's
    L2 term as SGD weight decay lmbda / num_batches on the weights only."""
    from glassnet.classic.network3 import ConvPoolLayer, FullyConnectedLayer, Network, ReLU, SoftmaxLayer

    batch, eta, lmbda = WORKLOADS["network3-b10"]["batch"], 0.03, 0.1
    np.random.seed(seed)
    net = Network([
        ConvPoolLayer(image_shape=(batch, 1, 28, 28), filter_shape=(20, 1, 5, 5), poolsize=(2, 2), activation_fn=ReLU),
        ConvPoolLayer(image_shape=(batch, 20, 12, 12), filter_shape=(40, 20, 5, 5), poolsize=(2, 2),
                      activation_fn=ReLU),
        FullyConnectedLayer(n_in=40 * 4 * 4, n_out=100, activation_fn=ReLU),
        SoftmaxLayer(n_in=100, n_out=10)], batch)
    flops = 6.0 * (20 * 25 * 24 * 24 + 40 * 20 * 25 * 8 * 8 + 640 * 100 + 100 * 10)
    if framework == "glassnet":
        import contextlib
        import io
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            net.SGD((x, y), 1, batch, eta, (x_test[:batch], y_test[:batch]), None, lmbda=lmbda)
        seconds = time.perf_counter() - start
        return seconds, None, net.accuracy((x_test, y_test)), flops

    import torch
    from torch import nn
    model = nn.Sequential(nn.Conv2d(1, 20, 5), nn.MaxPool2d(2), nn.ReLU(), nn.Conv2d(20, 40, 5), nn.MaxPool2d(2),
                          nn.ReLU(), nn.Flatten(), nn.Linear(640, 100), nn.ReLU(), nn.Linear(100, 10))
    with torch.no_grad():
        for layer, ours in zip([model[0], model[3], model[7], model[9]], net.layers):
            w = ours.w.data if isinstance(ours, ConvPoolLayer) else ours.w.data.T
            layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(w)))
            layer.bias.copy_(torch.from_numpy(ours.b.data))
    num_batches = len(x) // batch
    weights = [m.weight for m in model if hasattr(m, "weight")]
    biases = [m.bias for m in model if hasattr(m, "bias")]
    opt = torch.optim.SGD([{"params": weights, "weight_decay": lmbda / num_batches},
                           {"params": biases, "weight_decay": 0.0}], lr=eta)
    xt, yt = torch.from_numpy(x).reshape(-1, 1, 28, 28), torch.from_numpy(y)
    start = time.perf_counter()
    for i in range(num_batches):
        loss = torch.nn.functional.cross_entropy(model(xt[i * batch:(i + 1) * batch]), yt[i * batch:(i + 1) * batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        predictions = np.concatenate([model(torch.from_numpy(x_test[i:i + EVAL_CHUNK]).reshape(-1, 1, 28, 28))
                                      .argmax(dim=1).numpy() for i in range(0, len(x_test), EVAL_CHUNK)])
    return seconds, None, float((predictions == y_test).mean()), flops


def run_time_to_accuracy(workload, framework, x, y, x_test, y_test, seed, target=None, epochs=None):
    """Train ``resnet_small`` (glassnet) or its twin (PyTorch) with configs/resnet14.toml's recipe,
    evaluate on the test images after each epoch (untimed), and stop at the first epoch whose test
    accuracy reaches ``target``. Both contenders read the same batches: glassnet's ``DataLoader`` with
    the ``ShiftThenStandardize`` transform ``glassnet train --augment 2`` uses, on the same seeds.
    Returns (training seconds up to that epoch, or all of them when the target was not reached,
    images trained on meanwhile, final test accuracy, details)."""
    from glassnet.data import DataLoader
    from glassnet.data.preprocessing import ShiftThenStandardize

    spec = WORKLOADS[workload]["time_to_accuracy"]
    target = spec["target"] if target is None else target
    epochs = spec["epochs"] if epochs is None else epochs
    x, y = x[:spec["train"]], y[:spec["train"]]
    mean, std = float(x.mean()), float(x.std())  # one global mean and std, as glassnet train's contract
    prep = {"input_shape": [1, 1, 28, 28], "mean": mean, "std": std}
    loader = DataLoader((x, y), batch_size=WORKLOADS[workload]["batch"], shuffle=True,
                        generator=np.random.default_rng([seed, 1]),
                        transform=ShiftThenStandardize(2, prep, np.random.default_rng([seed, 2])))
    x_test = (x_test - np.float32(mean)) / np.float32(std)
    lr, momentum, weight_decay = 0.05, 0.9, 5e-4

    if framework == "glassnet":
        import glassnet as gn
        import glassnet.functional as F
        from glassnet import optim
        from glassnet.models.resnet import resnet_small

        gn.seed(seed)
        model = resnet_small()
        opt = optim.SGD(model.parameters(), lr=lr, momentum=momentum, nesterov=True, weight_decay=weight_decay)
        schedule = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)

        def train_epoch():
            model.train()
            for xb, yb in loader:
                _glassnet_step(model, F.cross_entropy, opt, xb, yb)

        def accuracy():
            model.eval()
            with gn.no_grad():
                predictions = np.concatenate([model(gn.Tensor(x_test[i:i + EVAL_CHUNK])).data.argmax(axis=1)
                                              for i in range(0, len(x_test), EVAL_CHUNK)])
            return float((predictions == y_test).mean())
    else:
        import torch

        torch.manual_seed(seed)
        model = torch_resnet_small()
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, nesterov=True, weight_decay=weight_decay)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)

        def train_epoch():
            model.train()
            for xb, yb in loader:  # glassnet Tensors: their ndarrays, shared with torch without a copy
                loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(np.asarray(xb.data))),
                                                         torch.from_numpy(np.asarray(yb.data)))
                opt.zero_grad()
                loss.backward()
                opt.step()

        def accuracy():
            model.eval()
            with torch.no_grad():
                predictions = np.concatenate([model(torch.from_numpy(x_test[i:i + EVAL_CHUNK])).argmax(dim=1).numpy()
                                              for i in range(0, len(x_test), EVAL_CHUNK)])
            return float((predictions == y_test).mean())

    seconds, accuracies, epoch_seconds = 0.0, [], []
    for _ in range(epochs):
        start = time.perf_counter()
        train_epoch()
        epoch_seconds.append(time.perf_counter() - start)
        seconds += epoch_seconds[-1]
        schedule.step()
        accuracies.append(accuracy())
        if accuracies[-1] >= target:
            break
    reached = accuracies[-1] >= target
    details = {"target_accuracy": target, "reached": reached, "epochs_run": len(accuracies),
               "epochs_to_target": len(accuracies) if reached else None, "test_accuracies": accuracies,
               "epoch_seconds": epoch_seconds}
    return seconds, len(accuracies) * len(x), accuracies[-1], details


# ------------------------------------------------------------------- main
def read_result(stdout: str) -> dict:
    """The JSON object a worker printed: the last line of its stdout that holds one. What a library
    writes around it is skipped (numba, where colorama is installed, resets the terminal colours at
    exit when stdout is a terminal, as it is under mpirun)."""
    for line in reversed(stdout.splitlines()):
        if "{" in line:
            with contextlib.suppress(ValueError):
                return json.JSONDecoder().raw_decode(line[line.index("{"):])[0]
    raise ValueError(f"the worker printed no JSON line; its output ended:\n{stdout[-2000:]}")


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM), in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", required=True, choices=sorted(WORKLOADS))
    parser.add_argument("--framework", required=True, choices=["glassnet", "torch", "reference"])
    parser.add_argument("--images", type=int, default=60000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads (threadpoolctl) and torch threads; default: the libraries' own")
    parser.add_argument("--weights-out", default=None, help="classic-b10, classic1-b10: save the trained weights (npz)")
    parser.add_argument("--epochs", type=int, default=None, help="time-to-accuracy workloads: at most this many epochs")
    parser.add_argument("--target", type=float, default=None, help="time-to-accuracy workloads: the test accuracy")
    parser.add_argument("--test-images", type=int, default=None, help="evaluate on the first this many test images")
    args = parser.parse_args(argv)

    import glassnet

    info = {}
    if args.framework == "torch":
        import torch
        if args.threads is not None:
            torch.set_num_threads(args.threads)
        info["torch_threads"] = torch.get_num_threads()
    kind = WORKLOADS[args.workload]["kind"]
    if kind == "text":
        x, y, x_test, y_test, vocab_size = load_rt_polarity(args.images)
    else:
        (x, y, x_test, y_test), vocab_size = load_fashion_mnist(args.images, kind), 0
    if args.test_images is not None:
        x_test, y_test = x_test[:args.test_images], y_test[:args.test_images]
    details: dict = {}
    # glassnet's own work runs as fit() runs it: allocator tuned, BLAS threads
    # chosen by glassnet.threads() (the idle cores, unless --threads says).
    if hasattr(glassnet, "threads"):
        glassnet.tune_allocator_once()
        thread_setting = glassnet.threads(args.threads if args.framework != "torch" else None)
    else:  # a glassnet from before 2026-12-01 (set its threads and malloc at import): for before/after runs
        from threadpoolctl import threadpool_limits
        thread_setting = threadpool_limits(args.threads) if args.threads else contextlib.nullcontext()
    trained = None  # images trained on, where not one epoch of x
    with thread_setting as blas_threads:
        blas_threads = blas_threads if isinstance(blas_threads, int) else None
        info["blas_threads"] = blas_threads or glassnet.get_num_threads()
        if "time_to_accuracy" in WORKLOADS[args.workload]:
            seconds, trained, accuracy, details = run_time_to_accuracy(
                args.workload, args.framework, x, y, x_test, y_test, args.seed, args.target, args.epochs)
            loss, flops = None, None
        elif WORKLOADS[args.workload].get("other") == "reference":
            seconds, loss, accuracy, flops = run_classic(args.workload, args.framework, x, y, x_test, y_test,
                                                         args.seed, args.weights_out)
        elif args.workload == "network3-b10":
            seconds, loss, accuracy, flops = run_network3(args.framework, x, y, x_test, y_test, args.seed)
        elif args.framework == "glassnet":
            seconds, loss, accuracy, flops = run_glassnet(args.workload, x, y, x_test, y_test, args.seed, vocab_size)
        else:
            seconds, loss, accuracy, flops = run_torch(args.workload, x, y, x_test, y_test, args.seed, vocab_size)
    images = trained or len(x)
    print(json.dumps({"workload": args.workload, "framework": args.framework, "images": images,
                      "seconds": seconds, "images_per_s": images / seconds, "final_loss": loss,
                      "test_accuracy": accuracy, "peak_rss_mb": peak_rss_mb(),
                      "training_flops_per_example": flops, **details, **info}))


if __name__ == "__main__":
    main()
