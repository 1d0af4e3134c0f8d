"""``glassnet train``: train a network and write a report folder.

    glassnet train                                  # the default: a strong MLP on Fashion-MNIST
    glassnet train --model book_cnn                 # the course's CNN, with its recipe (SGD Nesterov, 12 epochs)
    glassnet train --model resnet_small --blocks 2 --widths 16,32,64 --augment 2
    glassnet train --model spp_cnn --spp 1,2,4
    glassnet train --model textcnn --dataset rt-polarity --textcnn-mode multichannel
    glassnet train --model textcnn --dataset reviews.csv      # any text,label CSV (or a folder of .neg/.pos)
    glassnet train --finetune resnet14-fashion --dataset mnist-10k --per-class 10 --freeze body
    glassnet train --schedule onecycle --epochs 10  # PyTorch's one-cycle learning-rate policy
    glassnet train --config configs/book_cnn.toml   # options from a TOML file; the command line wins
    glassnet train --resume runs/train/checkpoint.safetensors --epochs 40

Models (``--model``): mlp, book_cnn, spp_cnn, resnet_small, plain_net, textcnn;
each has its own options (``--arch`` for mlp, ``--blocks``/``--widths``/``--spp``
for the ResNets, ``--textcnn-mode``/``--vectors`` for textcnn, ...) and a
default recipe (optimizer, rate, batch size, epochs) that the options override.
A part of the training data is always held out for validation (``--val``);
the test set is used once, after training.

The output folder (``--out``) receives ``model.safetensors`` (glassnet.load
rebuilds it; it records the preprocessing, so ``glassnet evaluate`` and
``glassnet predict`` feed it what it was trained on), ``checkpoint.safetensors``
(resumable), ``best.safetensors``, ``history.json``, ``run.json`` (options and
results), ``learning_curves.png``, ``confusion_matrix.png``, the misclassified
examples and ``report.md``. A TOML config uses the long option names as keys
(``batch-size = 64`` or ``batch_size = 64``). Ctrl-C stops after the current
batch and keeps a checkpoint to resume from.

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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import backend
from .. import init as initializers
from .. import nn, optim
from .. import random as grandom
from ..data import DataLoader, train_val_split
from ..data.preprocessing import ShiftThenStandardize, fit_preprocessing, prepare, scale, text_preprocessing, vocabulary
from ..data.tasks import GENERATED, NAMES, kind_of, load_task
from ..data.text import SentenceDataset, Vocabulary, load_word_vectors, pad_collate, tokenize
from ..data.transforms import per_class_subset
from ..distributed import from_environment, local_size
from ..functional.losses import COSTS
from ..io import load, load_checkpoint, load_metadata, save
from ..io.serialization import atomic_write_text
from ..models.mlp import ACTIVATIONS
from ..models.model_zoo import resolve_model_file
from ..nn import Linear
from ..nn.finetune import freeze, layer_names, layerwise_param_groups, replace_head
from ..tensor import Tensor
from ..train import EarlyStopping, MaxNorm, ModelCheckpoint, NaNGuard, ReduceLROnPlateau, fit
from . import models as catalog
from .evaluate import outputs as test_outputs
from .validation import check_config, harden

# ---------------------------------------------------------------- options
COMMON = {
    "model": "mlp", "dataset": "fashion-mnist", "data-dir": None, "cost": "cross-entropy", "optimizer": "adam",
    "lr": None, "momentum": 0.9, "weight-decay": 0.0, "l1": 0.0, "l2": 0.0, "epochs": 30, "batch-size": 128,
    "seed": 0, "val": 10000, "augment": 0, "schedule": "cosine", "early-stopping": 0, "out": "runs/train",
    "limit": None, "test-limit": None, "per-class": None, "finetune": None, "freeze": "none", "body-lr-scale": 1.0, "quiet": False, "figures": True,
    "threads": "auto", "sync-batch-norm": False, "warmup": 0.3,
}
KNOWN = sorted(set(COMMON) | set(catalog.MODEL_OPTIONS))
DEFAULT_LR = {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adam": 1e-3, "adamw": 1e-3,
              "rmsprop": 1e-3, "adagrad": 1e-2}
SCHEDULES = ("none", "cosine", "onecycle", "plateau", "halving")
# options a resumed run may change; the others come from the checkpoint
RESUMABLE = ("epochs", "out", "quiet", "data-dir", "threads", "figures")


def add_data_and_model_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that choose the data, the model and its training (shared by train and lr-find)."""
    a = parser.add_argument
    a("--config", type=Path, help="TOML file of options (keys: the long option names)")
    a("--model", choices=tuple(catalog.MODELS), help="the network (default mlp): " +
      "; ".join(f"{k}: {v.about}" for k, v in catalog.MODELS.items()))
    a("--dataset", help=f"data: {', '.join(NAMES)}, a folder of .neg/.pos files or a text,label CSV "
      "(default fashion-mnist; rt-polarity for textcnn)")
    a("--data-dir", help="folder with the data files (default: the usual search path)")
    a("--limit", type=int, metavar="N", help="use only the first N training examples (quick tests)")
    a("--test-limit", type=int, metavar="N", help="test on only the first N test examples (quick checks: the "
      "accuracy is then not the test set's)")
    a("--per-class", type=int, metavar="K", help="train on K random labelled examples of each class (few-shot)")
    m = parser.add_argument_group("mlp options")
    m.add_argument("--arch", help="layer sizes, e.g. 784-100-10 (default 784-1024-512-10 for images, 2-64-64-K "
                   "for 2-D sets)")
    m.add_argument("--activation", choices=tuple(ACTIVATIONS), help="hidden-layer activation (default relu)")
    m.add_argument("--init", choices=initializers.SCHEMES + ("default",), help="weight init (default he_normal)")
    m.add_argument("--dropout", type=float, help="dropout after each hidden layer (mlp, default 0.3) or before "
                   "the classifier (textcnn, default 0.5)")
    m.add_argument("--input-dropout", type=float, help="dropout probability of the input features (default 0.1)")
    m.add_argument("--batch-norm", action=argparse.BooleanOptionalAction, help="batch norm in hidden layers "
                   "(default on)")
    c = parser.add_argument_group("CNN and ResNet options")
    c.add_argument("--spp", help="spatial pyramid levels, e.g. 1,2,4 (spp_cnn; resnet_small/plain_net instead of "
                   "global average pooling)")
    c.add_argument("--blocks", help="residual blocks per stage: one count or one per stage (default 2)")
    c.add_argument("--widths", help="channels per stage (default 16,32,64)")
    t = parser.add_argument_group("textcnn options")
    t.add_argument("--textcnn-mode", help="rand (default), static, non-static or multichannel")
    t.add_argument("--vectors", help="GloVe / word2vec text file for the pretrained modes (default: skip-gram "
                   "vectors glassnet trains on the training sentences)")
    t.add_argument("--embed-dim", type=int, help="embedding size of rand / skip-gram vectors (default 300)")
    t.add_argument("--maps", type=int, help="feature maps per filter width (default 100)")
    t.add_argument("--max-norm", type=float, help="Kim's limit on the classifier rows' L2 norm (default 3; 0: off)")
    t.add_argument("--sg-epochs", type=int, help="epochs of skip-gram pretraining (default 5)")
    o = parser.add_argument_group("training")
    o.add_argument("--cost", choices=tuple(COSTS), help="loss (default cross-entropy: softmax + log-likelihood)")
    o.add_argument("--optimizer", choices=tuple(DEFAULT_LR), help="default adam (sgd nesterov for the CNNs); "
                   "momentum/nesterov are SGD with --momentum")
    o.add_argument("--lr", type=float, help="learning rate η (the peak rate for onecycle; default: " +
                   ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items()) + ")")
    o.add_argument("--momentum", type=float, help="momentum μ for momentum/nesterov (default 0.9)")
    o.add_argument("--weight-decay", type=float, help="the optimizer's weight decay, PyTorch's convention: "
                   "every parameter (default 0; 5e-4 for the CNNs)")
    o.add_argument("--l1", type=float, help="L1 strength λ: cost + (λ/n)·Σ|w| (default 0)")
    o.add_argument("--l2", type=float, help="L2 strength λ: cost + (λ/2n)·Σw², the book's convention (default 0)")
    o.add_argument("--batch-size", type=int, help="mini-batch size (default 128)")
    o.add_argument("--seed", type=int, help="seed of every random draw (default 0)")
    o.add_argument("--val", type=int, help="training examples held out for validation (default 10000; a sixth "
                   "of a small set)")
    o.add_argument("--augment", type=int, nargs="?", const=1, metavar="PIXELS",
                   help="shift each training image by a random offset of up to PIXELS (default 1 when given)")
    f = parser.add_argument_group("fine-tuning")
    f.add_argument("--finetune", metavar="MODEL", help="start from a zoo model (glassnet zoo list) or a model file; "
                   "its classifier head is replaced for the new classes")
    f.add_argument("--freeze", help="body (all but the head), none (default), or N (the first N layers)")
    f.add_argument("--body-lr-scale", type=float, metavar="S", help="learning rate of every layer but the head: "
                   "S·lr (default 1)")
    parser.add_argument("--threads", help="BLAS threads: a number, or auto (default): 1 when the machine is "
                        "already busy, else the library's default")


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("train", help="train a network and write a report folder",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                   argument_default=argparse.SUPPRESS)
    parser.add_argument("--resume", type=Path, metavar="CHECKPOINT", help="continue the run saved in this checkpoint")
    add_data_and_model_arguments(parser)
    a = parser.add_argument
    a("--sync-batch-norm", action=argparse.BooleanOptionalAction,
      help="under mpirun: batch norm statistics over every process's rows (nn.SyncBatchNorm), so that K processes "
           "train exactly as one; default: each process's own rows")
    a("--epochs", type=int, help="number of epochs (default 30)")
    a("--schedule", choices=SCHEDULES, help="learning-rate schedule: cosine decay (default), onecycle (warm up to "
      "--lr over the --warmup share of the steps, then anneal), halve on plateau, the book's halving (η/2 after 10 epochs "
      "without progress, stop at η/128), or none")
    a("--warmup", type=float, metavar="FRACTION", help="onecycle: the fraction of the steps that warm the rate up "
      "(PyTorch's pct_start; default 0.3)")
    a("--early-stopping", type=int, metavar="N", help="stop after N epochs without validation progress and keep "
      "the best epoch's weights (0: off)")
    a("--out", help="output folder (default runs/train)")
    a("--quiet", action=argparse.BooleanOptionalAction, help="no progress bar or per-epoch lines")
    a("--figures", action=argparse.BooleanOptionalAction, help="draw the report's figures (default on; "
      "--no-figures for quick runs: report.md keeps the numbers)")
    parser.set_defaults(func=run)
    return parser


def read_config(path: Path) -> dict:
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
    options = check_config(harden(add_parser(argparse.ArgumentParser().add_subparsers())), options, path)
    unknown = sorted(set(options) - set(KNOWN))
    if unknown:
        raise ValueError(f"{path}: unknown option(s) {', '.join(unknown)}; known: {', '.join(KNOWN)}")
    return options


def resolve_options(args: argparse.Namespace, checkpoint=None) -> dict:
    """Defaults (common ones, then the model's recipe and its own options),
    then the TOML file, then the command line (or, resuming from
    ``checkpoint``, its options with only the resumable ones overridden)."""
    given = {k.replace("_", "-"): v for k, v in vars(args).items() if k not in ("func", "config", "resume", "command")}
    from_file = read_config(args.config) if getattr(args, "config", None) else {}
    if checkpoint is not None:
        saved = checkpoint.metadata.get("options")
        if saved is None:
            raise ValueError(f"{args.resume} does not record the options of a `glassnet train` run")
        ignored = sorted(set(given) - set(RESUMABLE))
        if ignored:
            print(f"--resume: the run's own options are kept; ignoring {', '.join('--' + k for k in ignored)}",
                  file=sys.stderr)
        return {**saved, **{k: v for k, v in {**from_file, **given}.items() if k in RESUMABLE}}
    chosen = {**from_file, **given}
    finetune_spec = _finetune_model_name(chosen)
    name = chosen.get("model", finetune_spec or COMMON["model"])
    if name not in catalog.MODELS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(catalog.MODELS)}")
    if finetune_spec and name != finetune_spec:
        raise ValueError(f"--finetune {chosen['finetune']} is a {finetune_spec}, not --model {name}")
    spec = catalog.MODELS[name]
    if finetune_spec:
        misfits = sorted(k for k in chosen if k in catalog.MODEL_OPTIONS)
        if misfits:
            raise ValueError(f"--finetune takes the architecture from {chosen['finetune']}: "
                             f"{', '.join('--' + k for k in misfits)} cannot change it")
    misfits = sorted(k for k in chosen if k in catalog.MODEL_OPTIONS and k not in spec.options)
    if misfits:
        k = misfits[0]
        raise ValueError(f"--{k} does not apply to --model {name} (it is an option of "
                         f"{', '.join(catalog.models_taking(k))}); {name}'s own options: "
                         f"{', '.join('--' + o for o in spec.options) or 'none'}")
    options = {**COMMON, **spec.recipe, **spec.options, **chosen, "model": name}
    kind = kind_of(options["dataset"])
    if (spec.kind == "text") != (kind == "text"):
        raise ValueError(f"--model {name} takes {'sentences' if spec.kind == 'text' else 'images or 2-D points'}, "
                         f"but --dataset {options['dataset']} holds {kind if kind != 'points' else '2-D points'}"
                         + ("; text needs --model textcnn" if kind == "text" else ""))
    if spec.kind == "image" and kind != "image":
        raise ValueError(f"--model {name} takes images, but --dataset {options['dataset']} holds 2-D points")
    if name == "mlp" and options["arch"] is None and not finetune_spec:
        options["arch"] = f"2-64-64-{len(GENERATED[options['dataset']][1])}" if kind == "points" else None
    if options["lr"] is None:
        options["lr"] = DEFAULT_LR[options["optimizer"]]
    if "warmup" in chosen and options["schedule"] != "onecycle":
        raise ValueError(f"--warmup is the one-cycle schedule's warm-up fraction; it needs --schedule onecycle, "
                         f"not {options['schedule']}")
    if options["augment"] and kind != "image":
        raise ValueError(f"--augment shifts images; --dataset {options['dataset']} holds {kind}")
    return options


def _finetune_model_name(chosen: dict) -> str | None:
    """The --model of the network --finetune starts from (read from its file)."""
    if not chosen.get("finetune"):
        return None
    return load_metadata(resolve_model_file(chosen["finetune"])).get("options", {}).get("model", "mlp")


# ------------------------------------------------------------------- data
@dataclass
class Prepared:
    """Everything a run trains on: the loaders and the model, before fit."""

    options: dict
    task: object
    preprocessing: dict
    model: object
    loader: DataLoader
    validation: DataLoader | None
    n_train: int
    n_val: int
    head: str | None  # the classifier layer's name when fine-tuning, else None


def split_training_data(options: dict, x_all, y_all):
    """((x_train, y_train), (x_val, y_val) or (None, None)): ``--per-class``
    K examples of each class (validation from the rest), else the last
    ``--val`` examples for images (the book's split), a random part for
    others, and a sixth of a small set."""
    generator = np.random.default_rng([options["seed"], 3])
    if options["per-class"]:
        chosen = per_class_subset(y_all, options["per-class"], generator)
        rest = np.setdiff1d(np.arange(len(y_all)), chosen)
        val = generator.permutation(rest)[:options["val"]]
        train = generator.permutation(chosen)
        return (x_all[train], y_all[train]), ((x_all[val], y_all[val]) if val.size else (None, None))
    n_val = options["val"]
    if n_val >= len(x_all) // 2:  # a small set (--limit, generated data): hold out a sixth
        n_val = len(x_all) // 6
    if not n_val:
        return (x_all, y_all), (None, None)
    return train_val_split(x_all, y_all, n_val, shuffle=kind_of(options["dataset"]) != "image", generator=generator)


def _loader(x, y, preprocessing: dict, options: dict, train: bool):
    batch_size = options["batch-size"] if train else 500
    generator = np.random.default_rng([options["seed"], 1]) if train else None
    if preprocessing["kind"] == "text":
        vocab = vocabulary(preprocessing)
        ids = [vocab.encode(tokenize(s)) for s in x]
        return DataLoader(SentenceDataset(ids, y), batch_size, shuffle=train, generator=generator,
                          collate_fn=pad_collate)
    if train and options["augment"]:
        transform = ShiftThenStandardize(int(options["augment"]), preprocessing,
                                         np.random.default_rng([options["seed"], 2]))
        shape = (len(x),) + tuple(preprocessing["input_shape"][1:])
        return DataLoader((scale(x, preprocessing).reshape(shape), y), batch_size, shuffle=True,
                          generator=generator, transform=transform)
    return DataLoader((prepare(x, preprocessing), y), batch_size, shuffle=train, generator=generator)


def prepare_run(options: dict, checkpoint=None, verbose: bool = False) -> Prepared:
    """Load the data, split it, fix the preprocessing and build (or load) the
    model and the loaders for ``options``; ``checkpoint`` restores a run's
    model and preprocessing."""
    task = load_task(options["dataset"], options["data-dir"], options["seed"])
    x_all, y_all = task.train
    if options["limit"]:
        x_all, y_all = x_all[:options["limit"]], y_all[:options["limit"]]
    if options["test-limit"]:
        task.test = tuple(a[:options["test-limit"]] for a in task.test)
    (x_train, y_train), (x_val, y_val) = split_training_data(options, x_all, y_all)
    grandom.seed(options["seed"])
    model_rng = np.random.default_rng([options["seed"], 4])
    head = None
    if checkpoint is not None:
        preprocessing = checkpoint.metadata["preprocessing"]
        model = checkpoint.build_model()
        head = checkpoint.metadata.get("head")
    elif options["finetune"]:
        model, preprocessing, head = _pretrained_with_new_head(options, task, x_train, model_rng)
    else:
        if task.kind == "text":
            preprocessing = text_preprocessing(Vocabulary.build(tokenize(s) for s in x_train))
        else:
            shape = catalog.input_shape(options["model"], x_train.shape[1:])
            preprocessing = fit_preprocessing(x_train, task.kind, shape)
            if options["model"] == "mlp" and options["arch"] is None:
                options["arch"] = f"{shape[1]}-1024-512-{len(task.classes)}"
        model = catalog.build(options, preprocessing.get("input_shape", [1]), len(task.classes),
                              len(preprocessing.get("vocabulary", ())), generator=model_rng)
        if options["model"] == "textcnn" and options["textcnn-mode"] != "rand":
            model.load_vectors(_word_vectors(options, x_train, preprocessing, model_rng, verbose))
        if options.get("sync-batch-norm"):  # under mpirun: statistics over every process's rows
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    _apply_freeze(model, options, head)
    loader = _loader(x_train, y_train, preprocessing, options, train=True)
    validation = None if x_val is None else _loader(x_val, y_val, preprocessing, options, train=False)
    return Prepared(options, task, preprocessing, model, loader, validation, len(x_train),
                    0 if x_val is None else len(x_val), head)


def _word_vectors(options, sentences, preprocessing, generator, verbose):
    vocab = vocabulary(preprocessing)
    if options["vectors"]:
        table, found = load_word_vectors(options["vectors"], vocab, generator=generator)
        if verbose:
            print(f"word vectors: {int(found.sum()):,} of {len(vocab):,} words found in {options['vectors']}")
        if table.shape[1] != options["embed-dim"]:
            options["embed-dim"] = int(table.shape[1])
        return table
    from ..models.skipgram import pretrain_skipgram
    if verbose:
        print(f"word vectors: skip-gram, {options['embed-dim']} dimensions, {options['sg-epochs']} epochs on the "
              f"training sentences", flush=True)
    table, _ = pretrain_skipgram([tokenize(s) for s in sentences], vocab, dim=options["embed-dim"],
                                 epochs=options["sg-epochs"], generator=generator)
    return table


def _pretrained_with_new_head(options, task, x_train, generator):
    """The model of --finetune with a freshly initialised head for the task's
    classes, and its preprocessing (the body expects the inputs it was trained on)."""
    path = resolve_model_file(options["finetune"])
    model, meta = load(path), load_metadata(path)
    preprocessing = meta.get("preprocessing")
    if not preprocessing:
        raise ValueError(f"--finetune {options['finetune']}: the file records no preprocessing (written by an old "
                         f"glassnet train?)")
    if (preprocessing["kind"] == "text") != (task.kind == "text"):
        raise ValueError(f"--finetune {options['finetune']} takes {preprocessing['kind']} inputs, "
                         f"--dataset {options['dataset']} holds {task.kind}")
    if preprocessing["kind"] == "image":
        expected = tuple(int(s) for s in preprocessing["input_shape"][1:])
        got = catalog.input_shape(options["model"], x_train.shape[1:])[1:]
        if int(np.prod(expected)) != int(np.prod(got)):
            raise ValueError(f"--finetune {options['finetune']} takes images of shape {expected}, "
                             f"--dataset {options['dataset']} has {tuple(x_train.shape[1:])}")
    source = meta.get("options", {})  # the architecture's own options, for the record
    options.update({k: source[k] for k in catalog.MODELS[options["model"]].options if k in source})
    head = [n for n, m in model.named_modules() if n and m._parameters][-1]
    old = model.get_submodule(head)
    if not isinstance(old, Linear):
        raise ValueError(f"--finetune: the last layer with parameters, {head}, is a {type(old).__name__}, "
                         f"not a Linear classifier")
    replace_head(model, Linear(old.in_features, len(task.classes), generator=generator), head)
    model.train()
    return model, preprocessing, head


def _apply_freeze(model, options: dict, head: str | None) -> None:
    """--freeze body|none|N: parameters of the body, or of the first N layers, get requires_grad False."""
    setting = str(options["freeze"])
    layers = layer_names(model)
    if setting == "none":
        return
    if setting == "body":
        head = head or layers[-1]
        freeze(model, [name for name in layers if name != head and not name.startswith(head + ".")])
        return
    if not setting.isdigit() or not 0 < int(setting) < len(layers):
        raise ValueError(f"--freeze must be body, none or a number of layers 1..{len(layers) - 1}; the model's "
                         f"layers are {', '.join(layers)}; got {setting!r}")
    freeze(model, layers[:int(setting)])

    def rng_state(self) -> dict:  # the rng_state protocol: checkpoints resume the shifts
        return self.shift.rng_state()

    def load_rng_state(self, state: dict) -> None:
        self.shift.load_rng_state(state)


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


def parameter_groups(model, options: dict, head: str | None):
    """The trainable parameters, in one group, or (``--body-lr-scale s``) the
    head at lr and the rest at s·lr."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    if float(options["body-lr-scale"]) == 1.0:
        return trainable
    head = head or layer_names(model)[-1]
    groups = layerwise_param_groups(model, {head: options["lr"]}, default_lr=options["lr"] * options["body-lr-scale"])
    for group in groups:
        group["params"] = [p for p in group["params"] if p.requires_grad]
    return [g for g in groups if g["params"]]


def make_optimizer(options: dict, params):
    name, lr, wd = options["optimizer"], options["lr"], options["weight-decay"]
    if name == "sgd":
        return optim.SGD(params, lr=lr, weight_decay=wd)
    if name in ("momentum", "nesterov"):
        return optim.SGD(params, lr=lr, momentum=options["momentum"], nesterov=name == "nesterov", weight_decay=wd)
    return {"adam": optim.Adam, "adamw": optim.AdamW, "rmsprop": optim.RMSprop, "adagrad": optim.Adagrad}[name](
        params, lr=lr, weight_decay=wd)


def make_schedule(options: dict, optimizer, validating: bool, steps_per_epoch: int):
    """(scheduler for fit, callbacks) for ``--schedule``."""
    monitor = "val_accuracy" if validating else "accuracy"
    kind = options["schedule"]
    if kind == "cosine":
        return optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(options["epochs"], 1)), []
    if kind == "onecycle":
        peaks = [group["lr"] for group in optimizer.param_groups]
        return optim.lr_scheduler.OneCycleLR(optimizer, max_lr=peaks, epochs=max(options["epochs"], 1),
                                             steps_per_epoch=max(steps_per_epoch, 1),
                                             pct_start=options.get("warmup", 0.3)), []  # older runs: 0.3
    if kind == "plateau":
        return None, [ReduceLROnPlateau(monitor, factor=0.5, patience=3)]
    if kind == "halving":
        return None, [ReduceLROnPlateau(monitor, factor=0.5, patience=10, stop_below=1 / 128)]
    return None, []


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
    prepared = prepare_run(options, checkpoint, verbose)
    model, task = prepared.model, prepared.task

    optimizer = make_optimizer(options, parameter_groups(model, options, prepared.head))
    validating = prepared.validation is not None
    scheduler, callbacks = make_schedule(options, optimizer, validating, len(prepared.loader))
    monitor = "val_accuracy" if validating else "accuracy"
    if options["early-stopping"]:
        callbacks.append(EarlyStopping(monitor, patience=options["early-stopping"], restore_best_weights=True))
    if options["model"] == "textcnn" and options["max-norm"]:
        callbacks.append(MaxNorm("fc.weight", options["max-norm"]))
    described = {"dataset": task.name, "classes": list(task.classes), "preprocessing": prepared.preprocessing,
                 "input_shape": prepared.preprocessing.get("input_shape"), "cost": options["cost"], "options": options}
    callbacks.append(ModelCheckpoint(out, monitor=monitor, metadata=described))  # best.safetensors: a model file
    nan_guard = NaNGuard()
    callbacks.append(nan_guard)
    loss = COSTS[options["cost"]]
    if verbose:
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        print(f"glassnet train: {task.name}, {prepared.n_train} training / {prepared.n_val} validation / "
              f"{len(task.test[1])} test examples; model {catalog.describe(options, model)}, "
              f"{model.num_parameters():,} parameters ({trainable:,} trainable)"
              f"{', fine-tuned from ' + options['finetune'] if options['finetune'] else ''}; "
              f"{options['optimizer']} lr {options['lr']:g}, {options['schedule']} schedule; output {out}/", flush=True)

    run_metadata = {"options": options, "preprocessing": prepared.preprocessing, "head": prepared.head}
    with backend.threads(blas_threads(options["threads"], local_size() if distributed else 1)):
        history = fit(model, prepared.loader, loss, optimizer, options["epochs"], validation_data=prepared.validation,
                      callbacks=callbacks, scheduler=scheduler, l1=options["l1"], l2=options["l2"],
                      verbose=verbose, resume=checkpoint, metadata=run_metadata, distributed=distributed)
        if not root:
            return 130 if history.interrupted else 0
        history.save(out / "history.json")
        if history.interrupted:
            print(f"interrupted: resume with  glassnet train --resume {out / 'checkpoint.safetensors'}",
                  file=sys.stderr)
            return 130
        if nan_guard.stopped:  # also under --quiet: a diverged run is a failed run
            print(f"glassnet train: training failed: {history.stop_reason}", file=sys.stderr)
            return 3
        x_test_raw, y_test = task.test
        outputs = test_outputs(model, x_test_raw, prepared.preprocessing)
    predicted = outputs.argmax(axis=1)
    test_accuracy = float((predicted == y_test).mean())
    test_loss = float(loss(Tensor(outputs), Tensor(y_test)).data)
    save(model, out / "model.safetensors", **described, test_accuracy=test_accuracy, test_loss=test_loss)
    wall = time.perf_counter() - started
    results = {"test_accuracy": test_accuracy, "test_loss": test_loss, "epochs_run": len(history),
               "stop_reason": history.stop_reason, "wall_time_s": round(wall, 1),
               "processes": 1 if distributed is None else distributed.size}
    if len(history) and "val_accuracy" in history:
        results["best_val_accuracy"] = history.best("val_accuracy")[1]
    atomic_write_text(out / "run.json", json.dumps({"options": options, "results": results}, indent=1) + "\n")
    _write_figures_and_report(out, history, prepared, x_test_raw, y_test, predicted, results)
    print(f"test accuracy: {100 * test_accuracy:.2f}% ({int((predicted == y_test).sum())}/{len(y_test)}), "
          f"test loss {test_loss:.4f}; {len(history)} epochs, {wall:.0f} s; report: {out / 'report.md'}")
    return 0


def _write_figures_and_report(out, history, prepared: Prepared, x_test_raw, y_test, predicted, results) -> None:
    from . import report
    options, model, classes = prepared.options, prepared.model, prepared.task.classes
    figures, sections = {}, {}
    draw = options.get("figures", True)
    if len(history) and draw:
        figures["Learning curves"] = report.learning_curves(history, out / "learning_curves.png")
    matrix = report.confusion_matrix(y_test, predicted, len(classes))
    if draw:
        figures["Confusion matrix"] = report.confusion_matrix_figure(matrix, classes, out / "confusion_matrix.png")
    kind = prepared.task.kind
    if draw and kind == "image":
        figures["Misclassified test examples"] = report.misclassified_grid(
            x_test_raw, y_test, predicted, classes, out / "misclassified.png")
    elif draw and kind == "points":
        figures["Decision regions"] = _decision_regions(prepared, x_test_raw, y_test, out / "decision_regions.png")
    if kind == "text":
        wrong = np.flatnonzero(predicted != y_test)[:20]
        sections["Misclassified test sentences (first 20)"] = "\n".join(
            f"{classes[y_test[i]]} → {classes[predicted[i]]}: {x_test_raw[i]}" for i in wrong) or "(none)"
    per_class = np.diag(matrix) / np.maximum(matrix.sum(axis=1), 1)
    numbers = {"dataset": prepared.task.name, "model": catalog.describe(options, model),
               "test accuracy": f"{100 * results['test_accuracy']:.2f}%",
               "test loss": f"{results['test_loss']:.4f}", "epochs": results["epochs_run"],
               "wall time": f"{results['wall_time_s']} s"}
    if options["finetune"]:
        numbers["fine-tuned from"] = f"{options['finetune']} (freeze {options['freeze']}, body lr ×" \
                                     f"{options['body-lr-scale']:g})"
    if "best_val_accuracy" in results:
        numbers["best validation accuracy"] = f"{100 * results['best_val_accuracy']:.2f}%"
    if results["stop_reason"]:
        numbers["stopped"] = results["stop_reason"]
    sections["Per-class test accuracy"] = "\n".join(f"{name:14s} {100 * a:6.2f}%" for name, a in zip(classes,
                                                                                                   per_class))
    if kind != "text":
        sections["Model"] = model.summary(tuple(prepared.preprocessing["input_shape"]))
    sections["Options"] = "\n".join(f"{k} = {v!r}" for k, v in options.items())
    report.write_report(out, f"glassnet train: {prepared.task.name}", numbers, figures, sections)


def _decision_regions(prepared: Prepared, x, y, path):
    from ..experiments.plotting import decision_regions, figure
    from ..train import predict
    fig, ax = figure(1, 1, width=5, height=4.5)
    decision_regions(ax, lambda grid: predict(prepared.model, grid.astype(np.float32)).argmax(axis=1), x, y,
                     "decision regions (test points)")
    fig.savefig(path, dpi=110)
    return path


def main(argv=None) -> int:
    """``python -m glassnet.cli.train ...`` (same as ``glassnet train ...``)."""
    from .main import main as glassnet_main
    return glassnet_main(["train", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
