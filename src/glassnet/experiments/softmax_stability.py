"""Softmax computed naively, e^(s_i) / Σ_j e^(s_j), overflows once a logit
passes ln(largest float) (≈ 88.7 in float32, ≈ 709.8 in float64) and returns
inf/inf = NaN. Subtracting the largest logit first changes nothing
mathematically and keeps every exponential ≤ 1 (cs231n, "practical issues").
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..tensor import Tensor
from .plotting import figure
from .registry import Check, Outcome, demonstration, scalar_metrics

CLAIM = ("Naive softmax overflows to NaN on large logits (float32 past ≈ 88.7); softmax that "
         "subtracts the max logit first stays finite, sums to 1 and gives the same probabilities.")


def naive_softmax(s: np.ndarray) -> np.ndarray:
    """e^(s_i) / Σ_j e^(s_j) along the last axis, without the max shift (the bug on show)."""
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(s)
        return e / e.sum(axis=-1, keepdims=True)


@demonstration("softmax-stability", claim=CLAIM,
            source="cs231n notes, Linear classification: practical issues (numeric stability)",
            dataset="constructed logits",
            setup=dict(offsets=(0.0, 1.0, 2.0), big=1000.0, sweep=4000),
            quick=dict(offsets=(0.0, 1.0, 2.0), big=1000.0, sweep=400))
def trial(config, seed, condition):
    offsets = np.array(config.offsets)
    reference = naive_softmax(offsets.astype(np.float64))  # small logits: the naive formula is exact
    big = config.big + offsets

    naive32 = naive_softmax(big.astype(np.float32))
    stable32 = F.softmax(Tensor(big.astype(np.float32))).data
    logits = Tensor(big[None].astype(np.float32), requires_grad=True)
    loss = F.cross_entropy(logits, np.array([0]))
    loss.backward()

    # Sweep the largest logit m over [1, 10^4]; logits are m − 2, m − 1, m.
    tops = np.logspace(0, 4, config.sweep)
    sweep = {}
    for label, dtype, fn in (("naive float32", np.float32, naive_softmax),
                             ("naive float64", np.float64, naive_softmax),
                             ("stable float32", np.float32, lambda s: F.softmax(Tensor(s)).data)):
        s = (tops[:, None] + offsets - offsets.max()).astype(dtype)
        sweep[label] = np.mean(~np.isfinite(fn(s)), axis=1)
    first_bad = {label: (float(tops[np.argmax(bad > 0)]) if bad.any() else None) for label, bad in sweep.items()}

    numbers = {
        "logits": big, "naive_float32": naive32, "stable_float32": stable32, "reference_small_logits": reference,
        "naive_nonfinite_count": int(np.sum(~np.isfinite(naive32))),
        "stable_max_abs_error_vs_reference": np.max(np.abs(stable32 - reference)),
        "stable_sum": stable32.sum(),
        "cross_entropy_loss": loss.item(), "cross_entropy_grad": logits.grad,
        "first_overflowing_max_logit": first_bad,
        "ln_float32_max": float(np.log(np.finfo(np.float32).max)),
        "ln_float64_max": float(np.log(np.finfo(np.float64).max)),
    }
    f32_break = first_bad["naive float32"]
    checks = [
        Check(f"naive float32 softmax of {big.tolist()}: non-finite probabilities",
              numbers["naive_nonfinite_count"], ">", 0),
        Check("stable softmax: non-finite probabilities", int(np.sum(~np.isfinite(stable32))), "==", 0),
        Check("stable softmax: max |p − softmax(small logits)|", numbers["stable_max_abs_error_vs_reference"],
              "<", 1e-6),
        Check("stable softmax: |Σp − 1|", abs(float(stable32.sum()) - 1), "<", 1e-6),
        Check("fused cross-entropy on these logits: non-finite loss/grad entries",
              int(np.sum(~np.isfinite(logits.grad))) + int(not np.isfinite(loss.item())), "==", 0),
        Check("|naive float32 breakdown logit / ln(float32 max) − 1|",
              abs((f32_break if f32_break is not None else np.inf) / numbers["ln_float32_max"] - 1), "<", 0.05),
        Check("stable float32: largest fraction of non-finite outputs over the sweep",
              sweep["stable float32"].max(), "==", 0),
    ]

    figures = {}
    if seed == 0:  # an illustration of the first seed
        fig, axes = figure(1, 2, width=5.2)
        ax = axes[0, 0]
        for (label, bad), style in zip(sweep.items(), ("-", "--", ":")):
            ax.plot(tops, bad, style, lw=2, label=label)
        ax.axvline(numbers["ln_float32_max"], color="gray", lw=1, label="ln(float32 max) ≈ 88.7")
        ax.axvline(numbers["ln_float64_max"], color="k", lw=1, label="ln(float64 max) ≈ 709.8")
        ax.set(xscale="log", title="softmax of logits (m−2, m−1, m)", xlabel="largest logit m",
               ylabel="fraction of non-finite probabilities", ylim=(-0.05, 1.05))
        ax.legend(fontsize=8)
        ax = axes[0, 1]
        positions = np.arange(len(offsets))
        ax.bar(positions - 0.2, np.nan_to_num(naive32, nan=0.0), 0.4, label="naive (NaN drawn as 0)")
        ax.bar(positions + 0.2, stable32, 0.4, label="stable (max subtracted)")
        for i, v in enumerate(naive32):
            ax.annotate(f"{v}", (i - 0.2, 0.02), ha="center", fontsize=9)
        ax.set_xticks(positions, [f"{v:g}" for v in big])
        ax.set(title="float32 probabilities", xlabel="logit", ylabel="probability", ylim=(0, 1))
        ax.legend(fontsize=8)
        figures = {"softmax-stability": fig}
    return Outcome(metrics=scalar_metrics(numbers), checks=checks, figures=figures)
