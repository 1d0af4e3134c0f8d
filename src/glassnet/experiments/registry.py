"""The experiment registry: every claim of the curriculum as a run that can fail.

An experiment is one module that registers a *trial* function with
:func:`reproduction` or :func:`demonstration`:

    @reproduction("overfitting", claim=..., source=..., dataset=..., conditions=(...),
                  setup=dict(...), quick=dict(...), rules=[Rule(...)], deviations=[...], book={...})
    def trial(config, seed, condition) -> (metrics, curves)

``trial`` runs one condition on one seed and returns ``metrics`` (``{metric:
float}``) and ``curves`` (``{name: list of floats}``, e.g. the test accuracy
per epoch; may be empty). Everything random in a trial comes from
``config.generator(seed, stream)``: conditions that share a seed share the data
subset (stream 0) and the initial weights (stream 1), so their differences are
paired. The runner (:mod:`.runner`) runs seeds × conditions in parallel,
summarises each metric over the seeds (:mod:`.stats`) and decides the rules.

*Reproductions* test a claim on data; *demonstrations* show a fact that holds
by construction (an identity, a symmetry, a worked example). Both are decided by
their rules, but they are counted apart: a demonstration cannot disagree with
the book unless the code is wrong.
"""

from __future__ import annotations

import importlib
import math
import operator
from dataclasses import dataclass, field
from collections.abc import Callable

import numpy as np

from .stats import Rule

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

KINDS = ("reproduction", "demonstration")
_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq}


@dataclass
class Check:
    """One value measured on one seed against a stated threshold: ``value op threshold``.

    A trial that returns checks gets one rule per check: the check's value
    becomes a metric, decided over the seeds by its 95% CI (:class:`Rule`)."""

    label: str
    value: float
    op: str
    threshold: float

    def __post_init__(self):
        if self.op not in _OPS:
            raise ValueError(f"Check {self.label!r}: op must be one of {sorted(_OPS)}, got {self.op!r}")
        self.value, self.threshold = float(self.value), float(self.threshold)

    @property
    def passed(self) -> bool:
        return not math.isnan(self.value) and bool(_OPS[self.op](self.value, self.threshold))


@dataclass
class Outcome:
    """What a trial returns: ``metrics`` ``{name: float}``, ``curves`` ``{name:
    sequence}``, ``checks`` (each also a metric, with its rule) and ``figures``
    ``{stem: matplotlib Figure}`` (drawn on the first seed only: an illustration
    of one seed, titled so)."""

    metrics: dict = field(default_factory=dict)
    curves: dict = field(default_factory=dict)
    checks: list = field(default_factory=list)
    figures: dict = field(default_factory=dict)
MODES = ("quick", "full")


@dataclass
class Config:
    """The setting of one run: experiment name, mode and the parameters of that
    mode (read as attributes: ``config.epochs``)."""

    name: str
    mode: str
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

    @staticmethod
    def generator(seed: int, stream: int = 0) -> np.random.Generator:
        """A generator for one stream of one seed: 0 data subset, 1 initial
        weights, 2 shuffling, 3+ anything else. The same (seed, stream) gives the
        same draws in every condition and every worker process."""
        return np.random.default_rng([seed, stream])


@dataclass
class Experiment:
    """A registered experiment (see the module docstring)."""

    name: str
    kind: str
    claim: str
    source: str
    dataset: str
    conditions: tuple
    setup: dict
    quick: dict
    rules: list
    deviations: list | Callable
    book: dict
    trial: Callable
    plot: Callable | None
    seeds: int
    quick_seeds: int
    module: str

    def config(self, mode: str) -> Config:
        """The :class:`Config` of ``mode``: the full setup, with the quick overrides in quick mode."""
        if mode not in MODES:
            raise ValueError(f"experiment mode must be 'quick' or 'full', got {mode!r}")
        params = dict(self.setup)
        if mode == "quick":
            params.update(self.quick)
        return Config(self.name, mode, params)

    def conditions_of(self, config: Config) -> tuple:
        """The condition labels (a callable ``conditions`` may depend on the setting)."""
        return tuple(self.conditions(config) if callable(self.conditions) else self.conditions)

    def rules_of(self, config: Config) -> list:
        """The declared rules (trials that return checks add one rule per check)."""
        return list(self.rules(config) if callable(self.rules) else self.rules or [])


def scalar_metrics(numbers: dict, prefix: str = "") -> dict:
    """The scalar numbers of a nested dict, as metrics named by their path
    ("spiral / softmax / test_accuracy"); lists and strings are left out."""
    out = {}
    for key, value in numbers.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(scalar_metrics(value, f"{name} / "))
        elif isinstance(value, (bool, int, float, np.integer, np.floating)) and not isinstance(value, str):
            out[name] = float(value)
        elif isinstance(value, np.ndarray) and value.ndim == 0:
            out[name] = float(value)
    return out


_REGISTRY: dict[str, Experiment] = {}


def _register(kind: str, name: str, *, claim: str, source: str, dataset: str, setup: dict,
              conditions=("—",), rules=None, quick: dict | None = None, deviations=(), book: dict | None = None, plot=None,
              seeds: int | None = None, quick_seeds: int = 2):
    if kind not in KINDS:
        raise ValueError(f"experiment kind must be one of {KINDS}, got {kind!r}")
    seeds = seeds if seeds is not None else (5 if kind == "reproduction" else 3)
    if kind == "reproduction" and seeds < 5:
        raise ValueError(f"reproduction {name!r}: at least 5 seeds, got {seeds}")
    unknown = set(quick or {}) - set(setup)
    if unknown:
        raise ValueError(f"experiment {name!r}: quick overrides {sorted(unknown)} are not in its setup")

    def register(trial):
        if name in _REGISTRY and _REGISTRY[name].module != trial.__module__:
            raise ValueError(f"experiment {name!r} is registered twice "
                             f"({_REGISTRY[name].module} and {trial.__module__})")
        _REGISTRY[name] = Experiment(name, kind, claim, source, dataset, conditions, dict(setup),
                                     dict(quick or {}), rules, deviations if callable(deviations) else list(deviations), dict(book or {}), trial, plot,
                                     seeds, quick_seeds, trial.__module__)
        return trial

    return register


def reproduction(name: str, **kwargs):
    """Register a claim tested on data (at least 5 seeds); see the module docstring."""
    return _register("reproduction", name, **kwargs)


def demonstration(name: str, **kwargs):
    """Register a fact that holds by construction; see the module docstring."""
    return _register("demonstration", name, **kwargs)


def load_all() -> None:
    """Import every experiment module, so each registers itself."""
    for module in MODULES:
        importlib.import_module(f"{__package__}.{module}")


def names(kind: str | None = None) -> list[str]:
    """The registered experiments in curriculum order (only those of ``kind`` when given)."""
    load_all()
    return [n for n, e in _REGISTRY.items() if kind is None or e.kind == kind]


def get(name: str) -> Experiment:
    load_all()
    if name not in _REGISTRY:
        raise KeyError(f"no experiment named {name!r}; known: {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


__all__ = ["Check", "Config", "Experiment", "Outcome", "Rule", "scalar_metrics", "reproduction", "demonstration", "names", "get", "load_all"]
