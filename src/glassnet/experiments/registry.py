"""The experiment registry: every claim of the curriculum as a run that can fail.

An experiment is one module with a function ``run(config)`` decorated by
:func:`experiment`, which gives its name, the claim in words, and two
settings: ``quick`` (seconds, small data: the test suite runs it) and ``full``
(the real data sets: what the report shows). ``run`` measures numbers, draws
figures and states :class:`Check` s, each a measured value compared with a
stated threshold, and returns ``(numbers, checks, figure paths)``; the
decorator turns it into ``run(config) -> Result``. The verdict is the list of
checks and the claim *agrees* when every check passes. Nothing in a verdict is
hard-coded: change the data and it can fail.

:func:`run_experiment` seeds glassnet, runs one experiment into
``out_dir/<name>/`` and writes ``result.json`` there (numbers, checks, setting,
figure paths, wall time).
"""

from __future__ import annotations

import importlib
import json
import math
import operator
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..random import seed as seed_glassnet

# The experiment modules, in the order of the curriculum (and of the report).
MODULES = (
    "learning_slowdown",
    "activations",
    "softmax_stability",
    "losses_worked_example",
    "xor",
    "universal_approximation",
    "init_histograms",
    "init_learning_curves",
    "zero_init_symmetry",
    "overfitting",
    "more_data",
    "vanishing_gradients",
    "dead_relu",
    "dropout",
    "batchnorm",
    "input_normalization",
    "optimizers",
    "pooling",
    "resnet_degradation",
    "fine_tuning",
    "svm_vs_softmax",
)

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq}


@dataclass
class Check:
    """One measured ``value`` compared with a stated ``threshold``: ``value op threshold``."""

    label: str
    value: float
    op: str
    threshold: float

    def __post_init__(self):
        if self.op not in _OPS:
            raise ValueError(f"Check {self.label!r}: op must be one of {sorted(_OPS)}, got {self.op!r}")
        self.value = _plain(self.value)
        self.threshold = _plain(self.threshold)

    @property
    def passed(self) -> bool:
        v = self.value
        if isinstance(v, float) and math.isnan(v):
            return False
        return bool(_OPS[self.op](v, self.threshold))

    def comparison(self) -> str:
        """``"value op threshold"``, e.g. ``"0.012 < 0.2"``."""
        return f"{_fmt(self.value)} {self.op} {_fmt(self.threshold)}"

    def __str__(self) -> str:
        return f"{self.label} = {self.comparison()} {'✓' if self.passed else '✗'}"


@dataclass
class Config:
    """What one run of an experiment gets: its mode (``"quick"`` or ``"full"``),
    seed, output folder and the parameters of that mode (read as attributes:
    ``config.epochs``)."""

    name: str
    mode: str
    seed: int
    out_dir: Path
    params: dict = field(default_factory=dict)

    def __getattr__(self, key):
        params = self.__dict__.get("params", {})
        if key in params:
            return params[key]
        raise AttributeError(f"experiment {self.__dict__.get('name')!r} ({self.__dict__.get('mode')} mode) "
                             f"has no parameter {key!r}; it has {sorted(params)}")

    @property
    def quick(self) -> bool:
        return self.mode == "quick"

    def generator(self, offset: int = 0) -> np.random.Generator:
        """A fresh generator seeded from the run's seed (``offset`` separates streams)."""
        return np.random.default_rng([self.seed, offset])

    def path(self, filename: str) -> Path:
        """``out_dir/filename``, creating the folder."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        return self.out_dir / filename


@dataclass
class Result:
    """What an experiment measured: the checks (hence verdict and agreement),
    its numbers, its figures and its setting."""

    name: str
    claim: str
    mode: str
    seed: int
    setting: dict
    numbers: dict
    checks: list
    figures: list
    seconds: float = float("nan")

    @property
    def agrees(self) -> bool:
        """Whether every check passed (and there was at least one)."""
        return bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def verdict(self) -> str:
        head = "AGREES" if self.agrees else "DISAGREES"
        return f"{head}: " + "; ".join(str(c) for c in self.checks)

    @classmethod
    def from_dict(cls, d: dict) -> "Result":
        """The inverse of :meth:`to_dict` (reads a saved ``result.json``)."""
        checks = [Check(c["label"], c["value"], c["op"], c["threshold"]) for c in d["checks"]]
        return cls(d["name"], d["claim"], d["mode"], d["seed"], d["setting"], d["numbers"], checks,
                   [Path(f) for f in d["figures"]], d["seconds"])

    def to_dict(self) -> dict:
        return {
            "name": self.name, "claim": self.claim, "mode": self.mode, "seed": self.seed,
            "agrees": self.agrees, "verdict": self.verdict,
            "checks": [{"label": c.label, "value": c.value, "op": c.op, "threshold": c.threshold,
                        "passed": c.passed} for c in self.checks],
            "setting": _plain(self.setting), "numbers": _plain(self.numbers),
            "figures": [str(f) for f in self.figures], "seconds": self.seconds,
        }


@dataclass
class Experiment:
    name: str
    claim: str
    run: Callable[[Config], Result]
    quick: dict
    full: dict
    module: str

    def config(self, mode: str, seed: int, out_root: Path) -> Config:
        if mode not in ("quick", "full"):
            raise ValueError(f"experiment mode must be 'quick' or 'full', got {mode!r}")
        return Config(self.name, mode, seed, Path(out_root) / self.name,
                      dict(self.quick if mode == "quick" else self.full))


_REGISTRY: dict[str, Experiment] = {}


def experiment(name: str, claim: str, quick: dict, full: dict):
    """Decorator registering ``run(config) -> (numbers, checks, figures)`` as an
    experiment; the registered function returns a full :class:`Result`."""

    def register(fn):
        if name in _REGISTRY and _REGISTRY[name].module != fn.__module__:
            raise ValueError(f"experiment {name!r} is registered twice "
                             f"({_REGISTRY[name].module} and {fn.__module__})")

        def run(config: Config) -> Result:
            numbers, checks, figures = fn(config)
            return Result(config.name, claim, config.mode, config.seed,
                          dict(config.params), numbers, list(checks), [Path(f) for f in figures])

        run.__doc__ = fn.__doc__
        _REGISTRY[name] = Experiment(name, claim, run, dict(quick), dict(full), fn.__module__)
        return run

    return register


def load_all() -> None:
    """Import every experiment module, so each registers itself."""
    for module in MODULES:
        importlib.import_module(f"{__package__}.{module}")


def names() -> list[str]:
    load_all()
    return list(_REGISTRY)


def get(name: str) -> Experiment:
    load_all()
    if name not in _REGISTRY:
        raise KeyError(f"no experiment named {name!r}; known: {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


def run_experiment(name: str, mode: str = "full", seed: int = 0, out_root="runs/experiments") -> Result:
    """Seed glassnet with ``seed``, run experiment ``name`` in ``mode`` and
    write ``out_root/<name>/result.json``; returns the :class:`Result`."""
    exp = get(name)
    config = exp.config(mode, seed, Path(out_root))
    seed_glassnet(seed)
    start = time.perf_counter()
    result = exp.run(config)
    result.seconds = time.perf_counter() - start
    with open(config.path("result.json"), "w") as f:
        json.dump(result.to_dict(), f, indent=1, allow_nan=True)
    return result


# ------------------------------------------------------------------ helpers
def _plain(x):
    """``x`` with NumPy scalars/arrays turned into Python numbers/lists (JSON-able)."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return _plain(x.tolist())
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, Path):
        return str(x)
    return x


def _fmt(x) -> str:
    if isinstance(x, bool) or isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)
