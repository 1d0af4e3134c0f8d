"""The playground's setup: every knob, its default, what it accepts, and its URL form.

A setup is a :class:`Config`. It travels as URL query parameters (``/?dataset=spiral&hidden=16,16``),
so a link reproduces a run; :func:`parse` reads a query, keeping the default of every parameter
it cannot read and saying why, so a bad link still opens a working page with a visible message.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

DATASETS = ("spiral", "xor", "circles", "moons", "blobs", "csv")
ACTIVATIONS = ("relu", "leaky_relu", "prelu", "rrelu", "tanh", "sigmoid")
COSTS = ("softmax", "svm", "sigmoid", "quadratic")
INITS = ("he", "xavier", "book", "normal", "small", "zeros")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
MAX_LAYERS = 6
MAX_WIDTH = 32
MAX_POINTS = 10_000


class ConfigError(ValueError):
    """A parameter that cannot be used: names the parameter, what it accepts and what came."""

    def __init__(self, name: str, expected: str, got):
        super().__init__(f"{name}: expected {expected}, got {got!r}")
        self.name = name


@dataclass(frozen=True)
class Config:
    """One playground run. Defaults: the 3-class spiral, a 2-16-16-3 ReLU net, Adam."""

    dataset: str = "spiral"
    classes: int = 3          # spiral arms / blobs (the other generated sets have 2)
    points: int = 300         # points generated, train + test
    noise: float = 0.2
    train_fraction: float = 0.8
    hidden: tuple = (16, 16)  # widths of the hidden layers
    activation: tuple = ("relu",)  # one for every layer, or one per layer
    cost: str = "softmax"
    margin: float = 1.0       # Δ of the SVM hinge
    init: str = "he"
    l1: float = 0.0           # λ of (λ/n)·Σ|w|
    l2: float = 0.0           # λ of (λ/2n)·Σw²
    dropout: float = 0.0
    batchnorm: bool = False
    optimizer: str = "adam"
    lr: float = 0.01
    momentum: float = 0.9
    batch: int = 10
    seed: int = 0
    speed: int = 6            # 1 (2 steps/s) … 6 (as fast as the machine goes)
    autostart: bool = False
    errors: tuple = field(default=(), compare=False)  # what parse() could not use

    def activations(self) -> tuple:
        """The activation of each hidden layer."""
        if len(self.activation) == 1:
            return self.activation * len(self.hidden)
        return self.activation

    def num_outputs(self) -> int:
        """Output units: one per class, except sigmoid cross-entropy with two classes (one unit)."""
        return 1 if self.cost == "sigmoid" and self.classes == 2 else self.classes

    def query(self) -> dict:
        """The URL query parameters of this setup (every parameter, in the URL's own syntax)."""
        out = {}
        for f in dataclasses.fields(self):
            if f.name == "errors":
                continue
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = ",".join(str(v) for v in value)
            elif isinstance(value, bool):
                value = int(value)
            out[f.name] = str(value)
        return out


def _number(kind, low, high, *, low_open=False):
    """A parser for a number in [low, high] (``(low, high]`` when ``low_open``)."""
    def parse(name, text):
        try:
            value = kind(text)
        except (TypeError, ValueError):
            raise ConfigError(name, f"{'an integer' if kind is int else 'a number'} in "
                              f"{'(' if low_open else '['}{low}, {high}]", text) from None
        if isinstance(value, float) and not math.isfinite(value) or value < low or value > high \
                or (low_open and value == low):
            raise ConfigError(name, f"a number in {'(' if low_open else '['}{low}, {high}]", text)
        return value
    return parse


def _choice(options):
    def parse(name, text):
        if text not in options:
            raise ConfigError(name, f"one of {', '.join(options)}", text)
        return text
    return parse


def _flag(name, text):
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(name, "0 or 1", text)


def _hidden(name, text):
    if text.strip() == "":
        return ()
    parts = text.split(",")
    try:
        widths = tuple(int(p) for p in parts)
    except ValueError:
        raise ConfigError(name, f"comma-separated layer widths such as 16,16 (each 1 to {MAX_WIDTH})", text) from None
    if len(widths) > MAX_LAYERS or any(not 1 <= w <= MAX_WIDTH for w in widths):
        raise ConfigError(name, f"at most {MAX_LAYERS} layer widths, each 1 to {MAX_WIDTH}", text)
    return widths


def _activation(name, text):
    names = tuple(text.split(","))
    for a in names:
        _choice(ACTIVATIONS)(name, a)
    return names


PARSERS = {
    "dataset": _choice(DATASETS),
    "classes": _number(int, 2, 10),
    "points": _number(int, 10, MAX_POINTS),
    "noise": _number(float, 0.0, 2.0),
    "train_fraction": _number(float, 0.1, 0.95),
    "hidden": _hidden,
    "activation": _activation,
    "cost": _choice(COSTS),
    "margin": _number(float, 0.0, 100.0, low_open=True),
    "init": _choice(INITS),
    "l1": _number(float, 0.0, 100.0),
    "l2": _number(float, 0.0, 100.0),
    "dropout": _number(float, 0.0, 0.9),
    "batchnorm": _flag,
    "optimizer": _choice(OPTIMIZERS),
    "lr": _number(float, 0.0, 10.0, low_open=True),
    "momentum": _number(float, 0.0, 0.999),
    "batch": _number(int, 1, MAX_POINTS),
    "seed": _number(int, 0, 2**32 - 1),
    "speed": _number(int, 1, 6),
    "autostart": _flag,
}


def parse(query: dict, base: Config | None = None) -> Config:
    """The setup a URL query describes, on top of ``base`` (default: :class:`Config`'s defaults).

    Each parameter that cannot be read keeps its base value; ``config.errors`` lists why, one
    message per parameter. Unknown parameters are reported too (a typo must not pass silently).
    """
    base = base or Config()
    values, errors = {}, []
    for name, text in query.items():
        parser = PARSERS.get(name)
        if parser is None:
            errors.append(f"{name}: unknown parameter (known: {', '.join(PARSERS)})")
            continue
        try:
            values[name] = parser(name, str(text).strip())
        except ConfigError as e:
            errors.append(str(e))
    config = dataclasses.replace(base, **values)
    fixed = {}
    if config.dataset in ("xor", "circles", "moons") and config.classes != 2:
        fixed["classes"] = 2  # these sets have two classes by construction
    n_layers = len(config.hidden)
    if len(config.activation) not in (1, n_layers) and n_layers:
        errors.append(f"activation: expected one name or {n_layers} (one per hidden layer), "
                      f"got {','.join(config.activation)!r}")
        fixed["activation"] = base.activation if len(base.activation) in (1, n_layers) else ("relu",)
    return dataclasses.replace(config, **fixed, errors=tuple(errors))
