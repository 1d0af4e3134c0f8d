"""Every claim of the curriculum as an experiment: seeds, confidence intervals, a verdict.

``glassnet experiments list`` / ``run NAME [--quick] [--jobs N]`` from the shell, or::

    from glassnet.experiments import run_experiments
    [result] = run_experiments(["vanishing-gradients"], mode="quick", out_dir="runs/x")
    print(result["verdict"], result["metrics"])

See :mod:`.registry` (how an experiment is declared), :mod:`.stats` (summaries
and decision rules) and :mod:`.runner` (parallel seeds, the saved results).
"""

from .registry import Config, Experiment, demonstration, get, load_all, names, reproduction
from .runner import load_results, run_experiments
from .stats import Rule, summarize

__all__ = ["Config", "Experiment", "Rule", "demonstration", "get", "load_all", "load_results", "names",
           "reproduction", "run_experiments", "summarize"]
