"""Statistics of an experiment over its seeds, and decision rules stated on them.

A metric measured on S seeds gives S values v_1 … v_S. We report their mean
m = Σ v_s / S and the 95% confidence interval of the mean from Student's t
distribution with S − 1 degrees of freedom,

    m ± t_{0.975, S−1} · sd / √S,     sd² = Σ (v_s − m)² / (S − 1).

Where two conditions run on the same seed (same data subset, same initial
weights where the shapes agree), their comparison is the *paired* difference
d_s = a_s − b_s, summarised the same way: it removes the seed-to-seed
variation the two conditions share, so it is much tighter than comparing two
separate intervals.

A :class:`Rule` states a claim as "the mean of this quantity is above (or
below) a threshold". It *holds* when the whole CI lies on the claimed side,
*fails* when the whole CI lies on the other side, and is *inconclusive* when
the CI straddles the threshold. An experiment agrees when every rule holds,
disagrees when any rule fails, and is inconclusive otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as _scipy_stats

CONFIDENCE = 0.95


def summarize(values) -> dict:
    """``{"per_seed": [...], "mean": m, "ci95": [lo, hi]}`` of the per-seed values.

    One value (or identical values) gives a zero-width interval; a NaN among
    the values makes mean and interval NaN (nothing is hidden by dropping it)."""
    v = np.asarray(values, dtype=np.float64)
    mean = float(v.mean()) if len(v) else math.nan
    if len(v) < 2 or not np.all(np.isfinite(v)):
        half = 0.0 if len(v) and np.all(np.isfinite(v)) else math.nan
    else:
        sem = float(v.std(ddof=1)) / math.sqrt(len(v))
        half = float(_scipy_stats.t.ppf(0.5 + CONFIDENCE / 2, df=len(v) - 1)) * sem
    return {"per_seed": [float(x) for x in v], "mean": mean, "ci95": [mean - half, mean + half]}


def difference_name(condition: str, baseline: str) -> str:
    """The name under which the paired difference ``condition − baseline`` is stored."""
    return f"{condition} − {baseline}"


_SIDES = {">": "above", ">=": "at or above", "<": "below", "<=": "at or below", "==": "exactly at"}


@dataclass(frozen=True)
class Rule:
    """``mean of metric[condition] (− metric[baseline], paired) op threshold``, decided by its 95% CI.

    ``op`` is the claimed side of the threshold: ">", ">=", "<", "<=", or "=="
    (for quantities that are exact by construction: holds only when every
    seed gives exactly the threshold)."""

    metric: str
    condition: str
    op: str
    threshold: float
    baseline: str | None = None

    def __post_init__(self):
        if self.op not in _SIDES:
            raise ValueError(f"Rule on {self.metric!r}: op must be one of {sorted(_SIDES)}, got {self.op!r}")

    @property
    def quantity(self) -> str:
        """The condition whose summary the rule reads (a paired difference when there is a baseline)."""
        return self.condition if self.baseline is None else difference_name(self.condition, self.baseline)

    def text(self, every_seed: bool = False) -> str:
        """The rule in words (``every_seed``: decided by the per-seed values, not the CI)."""
        what = (f"{self.metric} of '{self.condition}'" if self.baseline is None else
                f"the paired difference in {self.metric}, '{self.condition}' − '{self.baseline}'")
        return f"{'every seed' if every_seed else 'the 95% CI'} of {what} lies {_SIDES[self.op]} {self.threshold:g}"

    def decide(self, summary: dict, every_seed: bool = False) -> str:
        """"holds", "fails" or "inconclusive" for the summary (from :func:`summarize`) of the quantity:
        holds when the whole CI is on the claimed side, fails when it is wholly on the other side.
        With ``every_seed`` (facts that hold by construction) the interval is the range of the
        per-seed values instead: holds when every seed is on the claimed side, else fails."""
        values = summary.get("per_seed", [])
        lo, hi = (float(np.min(values)), float(np.max(values))) if every_seed and values else summary["ci95"]
        t = self.threshold
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return "inconclusive"
        holds, fails = {">": (lo > t, hi <= t), ">=": (lo >= t, hi < t), "<": (hi < t, lo >= t),
                        "<=": (hi <= t, lo > t), "==": (lo == hi == t, t < lo or t > hi)}[self.op]
        return "holds" if holds else "fails" if fails or every_seed else "inconclusive"


def verdict(outcomes) -> str:
    """``agrees`` when every rule holds, ``disagrees`` when any fails, else ``inconclusive``."""
    outcomes = list(outcomes)
    if not outcomes:
        raise ValueError("an experiment needs at least one decision rule")
    if any(o == "fails" for o in outcomes):
        return "disagrees"
    return "agrees" if all(o == "holds" for o in outcomes) else "inconclusive"
