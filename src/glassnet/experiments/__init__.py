"""Every claim of the curriculum as an experiment: a figure, numbers and a verdict.

``glassnet experiments list`` / ``run NAME [--quick]`` from the shell, or::

    from glassnet import experiments
    result = experiments.run_experiment("learning-slowdown", mode="quick")
    print(result.verdict)
"""

from .registry import Check, Config, Experiment, Result, experiment, get, load_all, names, run_experiment

__all__ = [
    "Check", "Config", "Experiment", "Result", "experiment", "get", "load_all", "names", "run_experiment",
]
