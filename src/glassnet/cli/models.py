"""The networks ``glassnet train --model NAME`` builds: each one's own options
(with their defaults), the training recipe it defaults to, and its constructor
call from the options.

A model's ``options`` may be given only with that model (``--spp`` with
``--model mlp`` is an error); its ``recipe`` replaces the common defaults of
``glassnet train`` (e.g. SGD with Nesterov momentum for the CNNs) unless the
user sets them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..models import TextCNN, book_cnn, mlp, plain_net, resnet_small, spp_cnn
from ..models.mlp import parse_sizes
from ..models.textcnn import MODES


def int_list(text, option: str) -> tuple[int, ...]:
    """"1,2,4" (or a list, or one int) -> (1, 2, 4), all positive."""
    if isinstance(text, (int, np.integer)):
        values = [int(text)]
    elif isinstance(text, (list, tuple)):
        values = list(text)
    else:
        try:
            values = [int(v) for v in str(text).replace("-", ",").split(",") if v.strip()]
        except ValueError:
            values = []
    if not values or any(not isinstance(v, (int, np.integer)) or v < 1 for v in values):
        raise ValueError(f"--{option}: expected positive integers separated by commas such as 1,2,4, got {text!r}")
    return tuple(int(v) for v in values)


@dataclass
class ModelSpec:
    kind: str                      # the inputs it takes: "flat" (image pixels or 2-D points), "image", "text"
    about: str
    options: dict = field(default_factory=dict)
    recipe: dict = field(default_factory=dict)


_CNN_RECIPE = {"optimizer": "nesterov", "lr": 0.05, "weight-decay": 5e-4, "batch-size": 64, "epochs": 12}
_RESNET_OPTIONS = {"blocks": "2", "widths": "16,32,64", "spp": None}
_RESNET_RECIPE = {"optimizer": "nesterov", "lr": 0.05, "weight-decay": 5e-4, "batch-size": 128, "epochs": 15,
                  "augment": 2}

MODELS = {
    "mlp": ModelSpec("flat", "a fully connected network (--arch, --activation, ...)",
                     {"arch": None, "activation": "relu", "init": "he_normal", "dropout": 0.3, "input-dropout": 0.1,
                      "batch-norm": True}),
    "book_cnn": ModelSpec("image", "the course's CNN: conv 20@5x5, pool, conv 40@5x5, pool, FC 100, FC K",
                          {}, _CNN_RECIPE),
    "spp_cnn": ModelSpec("image", "the course's CNN with spatial pyramid pooling in place of the second pool",
                         {"spp": "1,2,4"}, _CNN_RECIPE),
    "resnet_small": ModelSpec("image", "a small ResNet: 3x3 stem, 3 stages of residual blocks, global pool, FC",
                              _RESNET_OPTIONS, _RESNET_RECIPE),
    "plain_net": ModelSpec("image", "resnet_small without its shortcuts (the degradation experiment)",
                           _RESNET_OPTIONS, _RESNET_RECIPE),
    "textcnn": ModelSpec("text", "Kim's (2014) sentence CNN: widths 3, 4, 5, max over time, dropout, FC",
                         {"textcnn-mode": "rand", "vectors": None, "embed-dim": 300, "maps": 100, "dropout": 0.5,
                          "max-norm": 3.0, "sg-epochs": 5},
                         {"dataset": "rt-polarity", "optimizer": "adam", "lr": 1e-3, "batch-size": 50, "epochs": 10,
                          "schedule": "none", "val": 960}),
}
#: every model-specific option, for the error that names which models take it
MODEL_OPTIONS = sorted({name for spec in MODELS.values() for name in spec.options})


def models_taking(option: str) -> list[str]:
    return [name for name, spec in MODELS.items() if option in spec.options]


def input_shape(model: str, example_shape: tuple) -> list[int]:
    """The network's input shape (1, ...) for raw examples of ``example_shape``:
    flat for an MLP, (1, C, H, W) for the CNNs (grey images get C = 1)."""
    if MODELS[model].kind == "flat":
        return [1, int(np.prod(example_shape))]
    return [1, 1, *example_shape] if len(example_shape) == 2 else [1, *example_shape]


def build(options: dict, input_shape: list, num_classes: int, vocab_size: int = 0, generator=None):
    """The network ``options["model"]`` with its options."""
    name = options["model"]
    if name == "mlp":
        sizes = parse_sizes(options["arch"])
        if sizes[0] != input_shape[1] or sizes[-1] != num_classes:
            raise ValueError(f"--arch {options['arch']}: {options['dataset']} needs {input_shape[1]} inputs and "
                             f"{num_classes} outputs, e.g. --arch {input_shape[1]}-100-{num_classes}")
        return mlp(sizes, options["activation"], dropout=options["dropout"], batch_norm=options["batch-norm"],
                   init=options["init"], input_dropout=options["input-dropout"], generator=generator)
    if name == "book_cnn":
        _check_side(input_shape, 28, name, "its layers are sized for 28x28 images")
        return book_cnn(num_classes, generator=generator)
    if name == "spp_cnn":
        _check_side(input_shape, 14, name, "two 5x5 convolutions and a pool need at least 14x14", exact=False)
        return spp_cnn(int_list(options["spp"], "spp"), num_classes=num_classes, generator=generator)
    if name in ("resnet_small", "plain_net"):
        build_resnet = resnet_small if name == "resnet_small" else plain_net
        widths, blocks = int_list(options["widths"], "widths"), int_list(options["blocks"], "blocks")
        if len(blocks) not in (1, len(widths)):
            raise ValueError(f"--blocks {options['blocks']}: one count, or one per stage ({len(widths)} widths)")
        spp = int_list(options["spp"], "spp") if options["spp"] else None
        return build_resnet(num_classes, input_shape[1], widths, blocks[0] if len(blocks) == 1 else blocks,
                            spp=spp, generator=generator)
    if name == "textcnn":
        if options["textcnn-mode"] not in MODES:
            raise ValueError(f"--textcnn-mode must be one of {', '.join(MODES)}, got {options['textcnn-mode']!r}")
        return TextCNN(vocab_size, options["embed-dim"], num_classes, mode=options["textcnn-mode"],
                       maps=options["maps"], dropout=options["dropout"], generator=generator)
    raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS)}")


def _check_side(input_shape, side: int, name: str, why: str, exact: bool = True) -> None:
    h, w = input_shape[-2:]
    if (h, w) != (side, side) if exact else min(h, w) < side:
        raise ValueError(f"--model {name} takes {'' if exact else 'at least '}{side}x{side} images ({why}), "
                         f"the data has {h}x{w}")


def describe(options: dict, model) -> str:
    """One line: the model and its options."""
    name = options["model"]
    if name == "mlp":
        return (f"mlp {options['arch']} ({options['activation']}, dropout {options['dropout']}, batch norm "
                f"{'on' if options['batch-norm'] else 'off'})")
    shown = [k for k in MODELS[name].options if options.get(k) is not None]
    if name == "textcnn" and options["textcnn-mode"] == "rand":
        shown = [k for k in shown if k not in ("vectors", "sg-epochs")]
    own = ", ".join(f"{k} {options[k]}" for k in shown)
    return f"{name}" + (f" ({own})" if own else "")
