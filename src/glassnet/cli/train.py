"""``glassnet train``: train a network and write a report folder.

    glassnet train                                  # the default: a strong MLP on Fashion-MNIST
    glassnet train --arch 784-100-10 --activation sigmoid --cost sigmoid-cross-entropy --init book \\
                   --optimizer sgd --lr 0.1 --l2 5 --batch-size 10 --epochs 30 --no-batch-norm \\
                   --dropout 0 --schedule none          # the book's improved network
    glassnet train --config run.toml --epochs 5     # options from a TOML file; the command line wins
    glassnet train --resume runs/train/checkpoint.safetensors --epochs 40

The output folder (``--out``) receives ``model.safetensors`` (glassnet.load
rebuilds it), ``checkpoint.safetensors`` (resumable), ``best.safetensors``,
``history.json``, ``run.json`` (options and results), ``learning_curves.png``,
``confusion_matrix.png``, ``misclassified.png`` and ``report.md``. A TOML
config uses the long option names as keys (``batch-size = 64`` or
``batch_size = 64``). Ctrl-C stops after the current batch and keeps a
checkpoint to resume from.

``mpirun -n K glassnet train ...`` trains data-parallel on K processes (see
glassnet.distributed): --batch-size stays the global batch, process 0 prints
and writes the output folder, and the weights equal one process's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from .. import functional as F
from .. import init as initializers
from .. import optim
from .. import random as grandom
from ..distributed import from_environment, local_size
from ..data import DataLoader, RandomShift, Standardizer, dataset_info, load_split, train_val_split
from ..data.synthetic import make_circles, make_moons, make_spiral, make_xor
from ..data.transforms import one_hot
from ..io import load_checkpoint, save
from ..io.serialization import atomic_write_text
from ..models.mlp import ACTIVATIONS, mlp, parse_sizes
from ..tensor import Tensor
from ..train import EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, fit, predict

IMAGE_DATASETS = ("fashion-mnist", "mnist")
GENERATED = {  # name -> (maker(n, generator) -> (x, y), class names)
    "spiral": (lambda n, g: make_spiral(n // 3, 3, generator=g), ("arm 0", "arm 1", "arm 2")),
    "xor": (lambda n, g: make_xor(n, noise=0.15, generator=g), ("0", "1")),
    "circles": (lambda n, g: make_circles(n, generator=g), ("outer", "inner")),
    "moons": (lambda n, g: make_moons(n, generator=g), ("moon 0", "moon 1")),
}


# ------------------------------------------------------------------ costs
def _one_hot_like(z, y):
    labels = y.data if y.data.ndim == 1 else y.data.argmax(axis=1)
    return one_hot(labels, z.shape[1], dtype=z.data.dtype)


def _quadratic(z, y):
    """The book's quadratic cost on sigmoid outputs: (1/N) Σ ½‖σ(z) − y‖²."""
    return F.quadratic_cost(F.sigmoid(z), _one_hot_like(z, y))


def _sigmoid_cross_entropy(z, y):
    """The book's CrossEntropyCost on sigmoid outputs: (1/N) Σ_x Σ_j −[y ln a + (1−y) ln(1−a)]."""
    return F.binary_cross_entropy_with_logits(z, _one_hot_like(z, y), "sum") * (1.0 / len(z))


COSTS = {
    "cross-entropy": F.cross_entropy,  # softmax + log-likelihood
    "sigmoid-cross-entropy": _sigmoid_cross_entropy,
    "quadratic": _quadratic,
    "svm": F.svm_loss,
}


# ---------------------------------------------------------------- options
DEFAULTS = {
    "dataset": "fashion-mnist", "data-dir": None, "arch": None, "activation": "relu",
    "cost": "cross-entropy", "init": "he_normal", "optimizer": "adam", "lr": None, "momentum": 0.9,
    "l1": 0.0, "l2": 0.0, "dropout": 0.3, "input-dropout": 0.1, "batch-norm": True, "epochs": 30,
    "batch-size": 128, "seed": 0, "val": 10000, "augment": 0, "schedule": "cosine", "early-stopping": 0,
    "out": "runs/train", "limit": None, "quiet": False, "threads": "auto",
}
DEFAULT_ARCH = {"fashion-mnist": "784-1024-512-10", "mnist": "784-1024-512-10"}
DEFAULT_LR = {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adam": 1e-3, "adamw": 1e-3,
              "rmsprop": 1e-3, "adagrad": 1e-2}
SCHEDULES = ("none", "cosine", "plateau", "halving")
# options a resumed run may change; the others come from the checkpoint
RESUMABLE = ("epochs", "out", "quiet", "data-dir", "threads")


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("train", help="train a network and write a report folder",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                   argument_default=argparse.SUPPRESS)
    a = parser.add_argument
    a("--config", type=Path, help="TOML file of options (keys: the long option names)")
    a("--resume", type=Path, metavar="CHECKPOINT", help="continue the run saved in this checkpoint")
    a("--dataset", choices=IMAGE_DATASETS + tuple(GENERATED), help="data to train on (default fashion-mnist)")
    a("--data-dir", help="folder with the IDX files (default: the usual search path)")
    a("--arch", help="layer sizes, e.g. 784-100-10 (default 784-1024-512-10 for images, 2-64-64-K for 2-D sets)")
    a("--activation", choices=tuple(ACTIVATIONS), help="hidden-layer activation (default relu)")
    a("--cost", choices=tuple(COSTS), help="loss (default cross-entropy: softmax + log-likelihood)")
    a("--init", choices=initializers.SCHEMES + ("default",), help="weight initialization (default he_normal)")
    a("--optimizer", choices=tuple(DEFAULT_LR), help="default adam; momentum/nesterov are SGD with --momentum")
    a("--lr", type=float, help="learning rate η (default depends on the optimizer: " +
      ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items()) + ")")
    a("--momentum", type=float, help="momentum μ for momentum/nesterov (default 0.9)")
    a("--l1", type=float, help="L1 strength λ: cost + (λ/n)·Σ|w| (default 0)")
    a("--l2", type=float, help="L2 strength λ: cost + (λ/2n)·Σw², the book's convention (default 0)")
    a("--dropout", type=float, help="dropout probability after each hidden layer (default 0.3)")
    a("--input-dropout", type=float, help="dropout probability of the input features (default 0.1)")
    a("--batch-norm", action=argparse.BooleanOptionalAction, help="batch norm in hidden layers (default on)")
    a("--epochs", type=int, help="number of epochs (default 30)")
    a("--batch-size", type=int, help="mini-batch size (default 128)")
    a("--seed", type=int, help="seed of every random draw (default 0)")
    a("--val", type=int, help="training examples held out for validation, the last ones (default 10000; 0: none)")
    a("--augment", type=int, nargs="?", const=1, metavar="PIXELS",
      help="shift each training image by a random offset of up to PIXELS (default 1 when given; 0: off)")
    a("--schedule", choices=SCHEDULES, help="learning-rate schedule: cosine decay (default), halve on plateau, "
      "the book's halving (η/2 after 10 epochs without progress, stop at η/128), or none")
    a("--early-stopping", type=int, metavar="N", help="stop after N epochs without validation progress (0: off)")
    a("--out", help="output folder (default runs/train)")
    a("--limit", type=int, metavar="N", help="use only the first N training examples (quick tests)")
    a("--quiet", action=argparse.BooleanOptionalAction, help="no progress bar or per-epoch lines")
    a("--threads", help="BLAS threads: a number, or auto (default): 1 when the machine is already busy, "
      "else the library's default (two threads lose most of their speed when another process holds a core)")
    parser.set_defaults(func=run)
    return parser


def _read_config(path: Path) -> dict:
    try:
        import tomllib  # Python >= 3.11
    except ImportError:  # Python 3.10: the same parser as a package
        try:
            import tomli as tomllib
        except ImportError:
            raise ValueError("--config needs Python 3.11+ (tomllib) or `pip install tomli`") from None
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    options = {key.replace("_", "-"): value for key, value in raw.items()}
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"{path}: unknown option(s) {', '.join(unknown)}; known: {', '.join(DEFAULTS)}")
    return options


def resolve_options(args: argparse.Namespace, checkpoint=None) -> dict:
    """Defaults, then the TOML file, then the command line (or, resuming from
    ``checkpoint``, its options with only the resumable ones overridden)."""
    given = {k.replace("_", "-"): v for k, v in vars(args).items() if k not in ("func", "config", "resume", "command")}
    from_file = _read_config(args.config) if getattr(args, "config", None) else {}
    if checkpoint is not None:
        saved = checkpoint.metadata.get("options")
        if saved is None:
            raise ValueError(f"{args.resume} does not record the options of a `glassnet train` run")
        ignored = sorted(set(given) - set(RESUMABLE))
        if ignored:
            print(f"--resume: the run's own options are kept; ignoring {', '.join('--' + k for k in ignored)}",
                  file=sys.stderr)
        return {**saved, **{k: v for k, v in {**from_file, **given}.items() if k in RESUMABLE}}
    options = {**DEFAULTS, **from_file, **given}
    if options["arch"] is None:
        name = options["dataset"]
        options["arch"] = DEFAULT_ARCH[name] if name in DEFAULT_ARCH else f"2-64-64-{len(GENERATED[name][1])}"
    if options["lr"] is None:
        options["lr"] = DEFAULT_LR[options["optimizer"]]
    return options


# ------------------------------------------------------------------- data
def load_data(options: dict):
    """``(x_train, y_train), (x_test, y_test), classes``: raw images uint8
    (N, H, W) or 2-D points float32 (N, 2), labels int64; the first
    ``limit`` training examples only when given."""
    name = options["dataset"]
    if name in IMAGE_DATASETS:
        train = load_split(name, "train", options["data-dir"])
        test = load_split(name, "test", options["data-dir"])
        classes = dataset_info(name).classes
    else:
        make, classes = GENERATED[name]
        rng = np.random.default_rng([options["seed"], 7])
        train, test = make(1200, rng), make(600, rng)
    if options["limit"]:
        train = (train[0][: options["limit"]], train[1][: options["limit"]])
    return train, test, tuple(classes)


def preprocessing_for(x_train: np.ndarray, images: bool) -> dict:
    """How raw inputs become network inputs: x = (raw·scale − mean)/std, with
    the mean and std of the (scaled) training inputs for images."""
    if not images:
        return {"scale": 1.0, "mean": 0.0, "std": 1.0}
    stats = Standardizer(per="global").fit(x_train.reshape(len(x_train), -1) / np.float32(255))
    return {"scale": 1 / 255, "mean": float(stats.mean), "std": float(stats.std)}


def prepare(raw: np.ndarray, preprocessing: dict, input_shape) -> np.ndarray:
    """Network inputs (float32, shaped ``(N, *input_shape[1:])``) from raw data."""
    x = raw.astype(np.float32) * np.float32(preprocessing["scale"])
    x = (x - np.float32(preprocessing["mean"])) / np.float32(preprocessing["std"])
    return x.reshape((len(x),) + tuple(input_shape[1:]))


class _ShiftThenStandardize:
    """Loader transform for --augment: shift raw-scaled images (background 0) by
    up to ``pixels`` in each direction, then standardize."""

    def __init__(self, pixels: int, preprocessing: dict, generator):
        self.shift = RandomShift(pixels, generator=generator)
        self.mean, self.std = np.float32(preprocessing["mean"]), np.float32(preprocessing["std"])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return (self.shift(x) - self.mean) / self.std


# ----------------------------------------------------------------- pieces
def blas_threads(setting, processes_here: int = 1) -> int | None:
    """The BLAS thread limit for ``--threads``: an integer, or for "auto" 1 when
    the 1-minute load average already fills all but half a core (None: no limit);
    with several processes of an MPI job on this machine, their share of the cores."""
    if str(setting) != "auto":
        return int(setting)
    if processes_here > 1:
        return max(1, (os.cpu_count() or 1) // processes_here)
    return 1 if os.getloadavg()[0] > (os.cpu_count() or 1) - 0.5 else None


def make_optimizer(options: dict, params):
    name, lr = options["optimizer"], options["lr"]
    if name == "sgd":
        return optim.SGD(params, lr=lr)
    if name in ("momentum", "nesterov"):
        return optim.SGD(params, lr=lr, momentum=options["momentum"], nesterov=name == "nesterov")
    return {"adam": optim.Adam, "adamw": optim.AdamW, "rmsprop": optim.RMSprop, "adagrad": optim.Adagrad}[name](
        params, lr=lr)


def make_schedule(options: dict, optimizer, validating: bool):
    """(scheduler for fit, callbacks) for ``--schedule``."""
    monitor = "val_accuracy" if validating else "accuracy"
    kind = options["schedule"]
    if kind == "cosine":
        return optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(options["epochs"], 1)), []
    if kind == "plateau":
        return None, [ReduceLROnPlateau(monitor, factor=0.5, patience=3)]
    if kind == "halving":
        return None, [ReduceLROnPlateau(monitor, factor=0.5, patience=10, stop_below=1 / 128)]
    return None, []


def build_model(options: dict, n_inputs: int, n_classes: int):
    sizes = parse_sizes(options["arch"])
    if sizes[0] != n_inputs or sizes[-1] != n_classes:
        raise ValueError(f"--arch {options['arch']}: {options['dataset']} needs {n_inputs} inputs and "
                         f"{n_classes} outputs, e.g. --arch {n_inputs}-100-{n_classes}")
    return mlp(sizes, options["activation"], dropout=options["dropout"], batch_norm=options["batch-norm"],
               init=options["init"], input_dropout=options["input-dropout"])


# -------------------------------------------------------------------- run
def run(args) -> int:
    started = time.perf_counter()
    distributed = from_environment()  # None unless mpirun/srun started several of us
    root = distributed is None or distributed.is_root  # the process that prints and writes files
    checkpoint = load_checkpoint(args.resume) if getattr(args, "resume", None) else None
    options = resolve_options(args, checkpoint)
    out = Path(options["out"])
    out.mkdir(parents=True, exist_ok=True)
    verbose = not options["quiet"] and root
    images = options["dataset"] in IMAGE_DATASETS

    (x_all, y_all), (x_test_raw, y_test), classes = load_data(options)
    n_val = options["val"]
    if n_val >= len(x_all) // 2:  # a small set (--limit, generated data): hold out a sixth
        n_val = len(x_all) // 6
    if n_val:  # the book's split (the last n_val) for images; generated sets come ordered by class
        (x_train, y_train), (x_val, y_val) = train_val_split(
            x_all, y_all, n_val, shuffle=not images, generator=np.random.default_rng([options["seed"], 3]))
    else:
        (x_train, y_train), (x_val, y_val) = (x_all, y_all), (None, None)
    preprocessing = preprocessing_for(x_train, images)
    n_inputs = int(np.prod(x_train.shape[1:]))
    input_shape = [1, n_inputs]

    grandom.seed(options["seed"])
    shuffle_rng = np.random.default_rng([options["seed"], 1])
    if options["augment"] and images:
        transform = _ShiftThenStandardize(int(options["augment"]), preprocessing,
                                          np.random.default_rng([options["seed"], 2]))
        train_x = x_train.reshape(len(x_train), -1).astype(np.float32) * np.float32(preprocessing["scale"])
    else:
        transform, train_x = None, prepare(x_train, preprocessing, input_shape)
    loader = DataLoader((train_x, y_train), options["batch-size"], shuffle=True, generator=shuffle_rng,
                        transform=transform)
    validation = None if x_val is None else (prepare(x_val, preprocessing, input_shape), y_val)

    model = checkpoint.build_model() if checkpoint else build_model(options, n_inputs, len(classes))
    optimizer = make_optimizer(options, model.parameters())
    scheduler, callbacks = make_schedule(options, optimizer, validation is not None)
    monitor = "val_accuracy" if validation is not None else "accuracy"
    if options["early-stopping"]:
        callbacks.append(EarlyStopping(monitor, patience=options["early-stopping"], restore_best_weights=True))
    callbacks.append(ModelCheckpoint(out, monitor=monitor))
    loss = COSTS[options["cost"]]
    if verbose:
        print(f"glassnet train: {options['dataset']}, {len(x_train)} training / "
              f"{0 if x_val is None else len(x_val)} validation / {len(x_test_raw)} test examples; "
              f"model {options['arch']} ({options['activation']}, dropout {options['dropout']}, "
              f"batch norm {'on' if options['batch-norm'] else 'off'}, {model.num_parameters():,} parameters); "
              f"{options['optimizer']} lr {options['lr']:g}, {options['schedule']} schedule; output {out}/",
              flush=True)

    with threadpool_limits(blas_threads(options["threads"], local_size() if distributed else 1)):
        history = fit(model, loader, loss, optimizer, options["epochs"], validation_data=validation,
                      callbacks=callbacks, scheduler=scheduler, l1=options["l1"], l2=options["l2"],
                      verbose=verbose, resume=checkpoint, metadata={"options": options}, distributed=distributed)
    if not root:
        return 130 if history.interrupted else 0
    history.save(out / "history.json")
    if history.interrupted:
        print(f"interrupted: resume with  glassnet train --resume {out / 'checkpoint.safetensors'}", file=sys.stderr)
        return 130

    x_test = prepare(x_test_raw, preprocessing, input_shape)
    outputs = predict(model, x_test)
    predicted = outputs.argmax(axis=1)
    test_accuracy = float((predicted == y_test).mean())
    test_loss = float(loss(Tensor(outputs), Tensor(y_test)).data)
    metadata = {"dataset": options["dataset"], "classes": list(classes), "input_shape": input_shape,
                "preprocessing": preprocessing, "test_accuracy": test_accuracy, "test_loss": test_loss,
                "cost": options["cost"], "options": options}
    save(model, out / "model.safetensors", **metadata)
    wall = time.perf_counter() - started
    results = {"test_accuracy": test_accuracy, "test_loss": test_loss, "epochs_run": len(history),
               "stop_reason": history.stop_reason, "wall_time_s": round(wall, 1),
               "processes": 1 if distributed is None else distributed.size}
    if len(history) and "val_accuracy" in history:
        results["best_val_accuracy"] = history.best("val_accuracy")[1]
    atomic_write_text(out / "run.json", json.dumps({"options": options, "results": results}, indent=1) + "\n")
    _write_figures_and_report(out, history, model, options, classes, x_test_raw, y_test, predicted, results,
                              input_shape)
    print(f"test accuracy: {100 * test_accuracy:.2f}% ({int((predicted == y_test).sum())}/{len(y_test)}), "
          f"test loss {test_loss:.4f}; {len(history)} epochs, {wall:.0f} s; report: {out / 'report.md'}")
    return 0


def _write_figures_and_report(out, history, model, options, classes, x_test_raw, y_test, predicted, results,
                              input_shape) -> None:
    from . import report
    figures = {}
    if len(history):
        figures["Learning curves"] = report.learning_curves(history, out / "learning_curves.png")
    matrix = report.confusion_matrix(y_test, predicted, len(classes))
    figures["Confusion matrix"] = report.confusion_matrix_figure(matrix, classes, out / "confusion_matrix.png")
    if options["dataset"] in IMAGE_DATASETS:
        figures["Misclassified test examples"] = report.misclassified_grid(
            x_test_raw, y_test, predicted, classes, out / "misclassified.png")
    else:
        figures["Decision regions"] = _decision_regions(model, x_test_raw, y_test, out / "decision_regions.png")
    per_class = np.diag(matrix) / np.maximum(matrix.sum(axis=1), 1)
    numbers = {"dataset": options["dataset"], "model": f"{options['arch']} {options['activation']}",
               "test accuracy": f"{100 * results['test_accuracy']:.2f}%",
               "test loss": f"{results['test_loss']:.4f}", "epochs": results["epochs_run"],
               "wall time": f"{results['wall_time_s']} s"}
    if "best_val_accuracy" in results:
        numbers["best validation accuracy"] = f"{100 * results['best_val_accuracy']:.2f}%"
    if results["stop_reason"]:
        numbers["stopped"] = results["stop_reason"]
    sections = {
        "Per-class test accuracy": "\n".join(f"{name:14s} {100 * a:6.2f}%" for name, a in zip(classes, per_class)),
        "Model": model.summary(tuple(input_shape)),
        "Options": "\n".join(f"{k} = {v!r}" for k, v in options.items()),
    }
    report.write_report(out, f"glassnet train: {options['dataset']}", numbers, figures, sections)


def _decision_regions(model, x, y, path):
    from ..experiments.plotting import decision_regions, figure
    fig, ax = figure(1, 1, width=5, height=4.5)
    decision_regions(ax, lambda grid: predict(model, grid.astype(np.float32)).argmax(axis=1), x, y,
                     "decision regions (test points)")
    fig.savefig(path, dpi=110)
    return path


def main(argv=None) -> int:
    """``python -m glassnet.cli.train ...`` (same as ``glassnet train ...``)."""
    from .main import main as glassnet_main
    return glassnet_main(["train", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
