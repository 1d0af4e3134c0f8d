"""The book's chapter-6 sequence of networks, run with glassnet.classic.network3 over several seeds.

    python scripts/chapter6.py [--steps all|NAME,...] [--seeds 0 1 2] [--epochs N] [--train-size N]
                               [--dataset fashion-mnist|mnist] [--out results/chapter6]

Each step is the chapter's network, written as the chapter writes it (the code
inside each ``step_*`` function is the book's call, apart from the import), with
the chapter's mini-batch 10, learning rate, lmbda and data. The chapter trains
for 60 epochs (40 for dropout) on MNIST; ``--epochs`` shortens every step to at
most that many epochs and ``--train-size`` uses the first N training images (N
originals before expansion), which the results record as deviations. Per step
and seed the script records the best validation accuracy, the test accuracy at
that epoch (the chapter's reported number) and the wall time; per step the mean
and a 95% confidence interval (Student t over the seeds). The ensemble step is
the majority vote of the dropout step's networks, one per seed (the chapter's
ensemble is five such networks), so it is a single number. Results: one JSON
per step in ``--out`` and a markdown table ``--out``/table.md.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import time
from pathlib import Path

import numpy as np
from scipy import stats

from glassnet.classic import network3
from glassnet.classic.network3 import ConvPoolLayer, FullyConnectedLayer, Network, ReLU, SoftmaxLayer

MINI_BATCH = 10


def conv_pool_layers(mini_batch_size, activation_fn=network3.sigmoid):
    """The chapter's two convolutional-pooling layers: 20 then 40 5x5 filters, 2x2 max-pooling."""
    return [ConvPoolLayer(image_shape=(mini_batch_size, 1, 28, 28), filter_shape=(20, 1, 5, 5),
                          poolsize=(2, 2), activation_fn=activation_fn),
            ConvPoolLayer(image_shape=(mini_batch_size, 20, 12, 12), filter_shape=(40, 20, 5, 5),
                          poolsize=(2, 2), activation_fn=activation_fn)]


def step_fc(mbs):
    return Network([FullyConnectedLayer(n_in=784, n_out=100), SoftmaxLayer(n_in=100, n_out=10)], mbs)


def step_conv1(mbs):
    return Network([conv_pool_layers(mbs)[0], FullyConnectedLayer(n_in=20 * 12 * 12, n_out=100),
                    SoftmaxLayer(n_in=100, n_out=10)], mbs)


def step_conv2(mbs):
    return Network(conv_pool_layers(mbs) + [FullyConnectedLayer(n_in=40 * 4 * 4, n_out=100),
                                            SoftmaxLayer(n_in=100, n_out=10)], mbs)


def step_relu(mbs):
    return Network(conv_pool_layers(mbs, ReLU) + [FullyConnectedLayer(n_in=40 * 4 * 4, n_out=100, activation_fn=ReLU),
                                                  SoftmaxLayer(n_in=100, n_out=10)], mbs)


def step_extra_fc(mbs):
    return Network(conv_pool_layers(mbs, ReLU) + [
        FullyConnectedLayer(n_in=40 * 4 * 4, n_out=100, activation_fn=ReLU),
        FullyConnectedLayer(n_in=100, n_out=100, activation_fn=ReLU),
        SoftmaxLayer(n_in=100, n_out=10)], mbs)


def step_dropout(mbs):
    return Network(conv_pool_layers(mbs, ReLU) + [
        FullyConnectedLayer(n_in=40 * 4 * 4, n_out=1000, activation_fn=ReLU, p_dropout=0.5),
        FullyConnectedLayer(n_in=1000, n_out=1000, activation_fn=ReLU, p_dropout=0.5),
        SoftmaxLayer(n_in=1000, n_out=10, p_dropout=0.5)], mbs)


# name -> (builder, epochs, eta, lmbda, expanded data, what the chapter reports on MNIST (test accuracy %))
STEPS = {
    "fc": (step_fc, 60, 0.1, 0.0, False, 97.80),
    "conv1": (step_conv1, 60, 0.1, 0.0, False, 98.78),
    "conv2": (step_conv2, 60, 0.1, 0.0, False, 99.06),
    "relu": (step_relu, 60, 0.03, 0.1, False, 99.23),
    "expanded": (step_relu, 60, 0.03, 0.1, True, 99.37),
    "extra-fc": (step_extra_fc, 60, 0.03, 0.1, True, 99.43),
    "dropout": (step_dropout, 40, 0.03, 0.0, True, 99.60),
}
ENSEMBLE_BOOK = 99.67
ABOUT = {
    "fc": "one hidden layer of 100 sigmoid neurons",
    "conv1": "+ one conv-pool layer (20 5x5 filters, 2x2 max-pool)",
    "conv2": "+ a second conv-pool layer (40 5x5 filters)",
    "relu": "ReLU instead of sigmoid, eta 0.03, lmbda 0.1",
    "expanded": "+ training data expanded by one-pixel shifts (5x)",
    "extra-fc": "+ a second fully connected layer of 100",
    "dropout": "two FC layers of 1,000 with dropout 0.5, 40 epochs",
    "ensemble": "majority vote of the dropout networks (one per seed)",
}


def ci95(values):
    """(mean, (low, high)): Student-t 95% interval of the mean; (mean, None) for fewer than 2 values."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, None
    half = float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))
    return mean, (mean - half, mean + half)


def load(dataset, train_size, expanded):
    """The chapter's three data sets, the training part cut to ``train_size`` originals (then expanded)."""
    training, validation, test = network3.load_data_shared(dataset)
    if train_size:
        training = (training[0][:train_size], training[1][:train_size])
    if expanded:
        training = network3.expand_training_data(training)
    return training, validation, test


def run_step(name, seeds, epochs_cap, train_size, dataset, out):
    build, epochs, eta, lmbda, expanded, book = STEPS[name]
    epochs = min(epochs, epochs_cap) if epochs_cap else epochs
    training, validation, test = load(dataset, train_size, expanded)
    per_seed, predictions = [], []
    for seed in seeds:
        np.random.seed(seed)
        net = build(MINI_BATCH)
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            net.SGD(training, epochs, MINI_BATCH, eta, validation, test, lmbda=lmbda)
        seconds = time.perf_counter() - started
        per_seed.append({"seed": seed, "best_validation_accuracy": net.best_validation_accuracy,
                         "test_accuracy_at_best_validation": net.test_accuracy,
                         "best_iteration": net.best_iteration, "seconds": round(seconds, 1)})
        predictions.append(net.predict(test[0]))
        print(f"  {name:9s} seed {seed}: test {100 * net.test_accuracy:.2f}% "
              f"(validation {100 * net.best_validation_accuracy:.2f}%), {seconds:.0f} s", flush=True)
    mean, interval = ci95([100 * r["test_accuracy_at_best_validation"] for r in per_seed])
    result = {"step": name, "about": ABOUT[name], "dataset": dataset, "epochs": epochs, "book_epochs": STEPS[name][1],
              "eta": eta, "lmbda": lmbda, "expanded": expanded, "mini_batch_size": MINI_BATCH,
              "training_images": len(training[0]), "seeds": list(seeds), "per_seed": per_seed,
              "test_accuracy_mean": mean, "test_accuracy_ci95": interval, "book_mnist_test_accuracy": book}
    (out / f"{name}.json").write_text(json.dumps(result, indent=1))
    return result, predictions, test[1]


def run_ensemble(predictions, labels, seeds, out, dataset):
    votes = np.stack(predictions)  # (networks, N)
    counts = np.apply_along_axis(np.bincount, 0, votes, minlength=10)  # (10, N)
    accuracy = 100 * float(np.mean(counts.argmax(axis=0) == labels))
    result = {"step": "ensemble", "about": ABOUT["ensemble"], "dataset": dataset, "networks": len(predictions),
              "seeds": list(seeds), "test_accuracy_mean": accuracy, "test_accuracy_ci95": None,
              "book_mnist_test_accuracy": ENSEMBLE_BOOK}
    (out / "ensemble.json").write_text(json.dumps(result, indent=1))
    print(f"  ensemble of {len(predictions)}: test {accuracy:.2f}%")


def table(out):
    """The markdown table of every step's JSON in ``out``, in the chapter's order."""
    rows = ["| step | network | epochs (book) | training images | seeds | test accuracy, mean [95% CI] | "
            "the book on MNIST |", "|---|---|---|---|---|---|---|"]
    for name in list(STEPS) + ["ensemble"]:
        path = out / f"{name}.json"
        if not path.exists():
            continue
        r = json.loads(path.read_text())
        interval = r["test_accuracy_ci95"]
        ci = f" [{interval[0]:.2f}, {interval[1]:.2f}]" if interval else ""
        epochs = f"{r['epochs']} ({r['book_epochs']})" if "epochs" in r else "—"
        images = f"{r['training_images']:,}" if "training_images" in r else "—"
        rows.append(f"| {name} | {r['about']} | {epochs} | {images} | {len(r['seeds'])} | "
                    f"{r['test_accuracy_mean']:.2f}%{ci} | {r['book_mnist_test_accuracy']:.2f}% |")
    return "\n".join(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", default="all", help=f"comma-separated among {', '.join(STEPS)}, ensemble; or all")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=0, help="at most this many epochs per step (0: the book's)")
    parser.add_argument("--train-size", type=int, default=0, help="first N training images (0: all 50,000)")
    parser.add_argument("--dataset", default="fashion-mnist", choices=["fashion-mnist", "mnist"])
    parser.add_argument("--out", type=Path, default=Path("results/chapter6"))
    args = parser.parse_args(argv)
    names = list(STEPS) + ["ensemble"] if args.steps == "all" else args.steps.split(",")
    unknown = set(names) - set(STEPS) - {"ensemble"}
    if unknown:
        parser.error(f"unknown steps {sorted(unknown)}; expected among {list(STEPS) + ['ensemble']}")
    args.out.mkdir(parents=True, exist_ok=True)
    predictions = None
    for name in names:
        if name == "ensemble":
            if predictions is None:
                parser.error("the ensemble step needs the dropout step in the same run")
            run_ensemble(predictions, labels, args.seeds, args.out, args.dataset)
            continue
        _, step_predictions, labels = run_step(name, args.seeds, args.epochs, args.train_size, args.dataset, args.out)
        if name == "dropout":
            predictions = step_predictions
    (args.out / "table.md").write_text(table(args.out) + "\n")
    print(table(args.out))


if __name__ == "__main__":
    main()
