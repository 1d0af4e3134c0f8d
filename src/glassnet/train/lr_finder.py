"""The learning-rate range test (Smith 2017, "Cyclical Learning Rates for
Training Neural Networks"; the form popularised by fast.ai).

Train for ``steps`` mini-batches while the rate rises exponentially from
``start_lr`` to ``end_lr``,

    η_i = start_lr · (end_lr / start_lr)^(i / (steps − 1)),

record each batch's loss ℓ_i and smooth it with a bias-corrected exponential
moving average,

    m_i = β·m_{i−1} + (1 − β)·ℓ_i,      s_i = m_i / (1 − β^(i+1)),

with β = 1 − 20/steps by default (an averaging window of about 5% of the
steps, so the smoothed curve lags the loss by only a few percent of the range;
clamped to [0.5, 0.98]), and stop early once s_i exceeds ``diverge`` × its minimum so far (or is not
finite). The suggested rate is where s falls fastest against log η (the most
negative slope), searched after a burn-in of the first ``burn_in`` fraction of
the steps (where the average still rests on few batches and an early spike
could fake a steep descent), from where s has made a tenth of its fall (so
the noise of a flat start is not taken for a slope) to the minimum of s. The model and the
optimizer are restored afterwards: the test leaves no trace.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np

from ..data.loader import DataLoader


@dataclass
class RangeTest:
    """The result of :func:`lr_range_test`: per step the rate, the loss and the
    smoothed loss, the suggested rate and why the test stopped."""

    lrs: list = field(default_factory=list)
    losses: list = field(default_factory=list)
    smoothed: list = field(default_factory=list)
    suggestion: float | None = None
    suggestion_index: int | None = None
    min_index: int | None = None
    stop_reason: str = ""
    beta: float = 0.98

    def to_dict(self) -> dict:
        return {"lrs": self.lrs, "losses": self.losses, "smoothed": self.smoothed, "suggestion": self.suggestion,
                "suggestion_index": self.suggestion_index, "min_index": self.min_index,
                "stop_reason": self.stop_reason, "beta": self.beta}


def suggest(lrs, smoothed, burn_in: float = 0.1) -> tuple[int | None, int | None]:
    """(index of the steepest descent of ``smoothed`` against log lr, index of
    its minimum), both after the burn-in; (None, None) when too few steps."""
    s = np.asarray(smoothed, dtype=float)
    start = math.ceil(burn_in * len(s))
    if len(s) - start < 3:
        return None, None
    lowest = start + int(np.argmin(s[start:]))
    falling = np.flatnonzero(s[start:lowest + 1] < s[start] - 0.1 * (s[start] - s[lowest]))
    first = start + int(falling[0]) if falling.size else lowest
    first = max(start, first - 1)
    if lowest - first < 2:
        return None, lowest
    slope = np.gradient(s[first:lowest + 1], np.log(np.asarray(lrs[first:lowest + 1], dtype=float)))
    return first + int(np.argmin(slope)), lowest


def lr_range_test(model, loader: DataLoader, loss, optimizer, start_lr: float = 1e-7, end_lr: float = 10.0,
                  steps: int = 200, beta: float | None = None, diverge: float = 4.0,
                  burn_in: float = 0.1) -> RangeTest:
    """Run the range test (see the module docstring) with ``optimizer`` over
    ``model``; each parameter group keeps its rate relative to group 0."""
    if not 0 < start_lr < end_lr:
        raise ValueError(f"lr_range_test: need 0 < start_lr < end_lr, got {start_lr} and {end_lr}")
    if steps < 5:
        raise ValueError(f"lr_range_test: steps must be at least 5, got {steps}")
    beta = min(0.98, max(0.5, 1 - 20 / steps)) if beta is None else beta
    if not 0 <= beta < 1:
        raise ValueError(f"lr_range_test: beta must be in [0, 1), got {beta}")
    saved_model = copy.deepcopy(model.state_dict())
    saved_optimizer = copy.deepcopy(optimizer.state_dict())
    ratios = [group["lr"] / optimizer.param_groups[0]["lr"] for group in optimizer.param_groups]
    result = RangeTest(beta=beta)
    average, best = 0.0, math.inf
    model.train()
    batches = iter(loader)
    try:
        for i in range(steps):
            try:
                xb, yb = next(batches)
            except StopIteration:
                batches = iter(loader)
                xb, yb = next(batches)
            lr = start_lr * (end_lr / start_lr) ** (i / (steps - 1))
            for group, ratio in zip(optimizer.param_groups, ratios):
                group["lr"] = lr * ratio
            value = loss(model(xb), yb)
            optimizer.zero_grad()
            value.backward()
            optimizer.step()
            value = float(value.data)
            average = beta * average + (1 - beta) * value
            smooth = average / (1 - beta ** (i + 1))
            result.lrs.append(lr)
            result.losses.append(value)
            result.smoothed.append(smooth)
            if not math.isfinite(smooth):
                result.stop_reason = f"the loss is not finite at lr {lr:.3g}"
                break
            best = min(best, smooth)
            if smooth > diverge * best:
                result.stop_reason = f"the smoothed loss exceeded {diverge:g}× its minimum at lr {lr:.3g}"
                break
        else:
            result.stop_reason = f"reached end_lr {end_lr:g} after {steps} steps"
    finally:
        model.load_state_dict(saved_model)
        optimizer.load_state_dict(saved_optimizer)
    finite = [s if math.isfinite(s) else math.inf for s in result.smoothed]
    result.suggestion_index, result.min_index = suggest(result.lrs, finite, burn_in)
    if result.suggestion_index is not None:
        result.suggestion = result.lrs[result.suggestion_index]
    return result


def plot_range_test(result: RangeTest, path, title: str = "learning-rate range test"):
    """Loss against the rate (log axis): each batch's loss, the smoothed loss,
    the suggestion and the minimum."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.subplots()
    ax.plot(result.lrs, result.losses, color="0.75", lw=0.8, label="loss per batch")
    ax.plot(result.lrs, result.smoothed, color="C0", lw=2, label=f"smoothed (EMA β = {result.beta:.2f}, "
            f"bias-corrected)")
    if result.min_index is not None:
        ax.axvline(result.lrs[result.min_index], color="0.4", ls=":", label=f"minimum at "
                   f"{result.lrs[result.min_index]:.2g}")
    if result.suggestion is not None:
        ax.plot([result.suggestion], [result.smoothed[result.suggestion_index]], "o", color="C3", ms=8,
                label=f"suggested lr {result.suggestion:.2g} (steepest descent)")
    finite = [s for s in result.smoothed + result.losses if math.isfinite(s)]
    if finite:
        low, high = min(finite), min(max(finite), 2 * result.smoothed[0])
        ax.set_ylim(low - 0.05 * (high - low), high)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("training loss")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)
    return path
