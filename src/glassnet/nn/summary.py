"""``Module.summary(input_shape)``: a table of layers, output shapes and parameter counts."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..tensor import Tensor, no_grad
from .module import training_mode


def _shape_of(out) -> str:
    if isinstance(out, Tensor):
        return str(tuple(out.shape))
    if isinstance(out, (tuple, list)):
        return "[" + ", ".join(_shape_of(o) for o in out) + "]"
    return type(out).__name__


def summarize(model, input_shape: tuple, dtype=None) -> str:
    """Run ``model`` once (evaluation mode, no graph) on zeros of
    ``input_shape`` and tabulate, in call order, every module that has no
    children or owns parameters directly: its dotted name, type, output shape,
    parameter count and trainable count; then the totals. The model's
    training flags and state (e.g. running statistics) are left unchanged."""
    if dtype is None:
        first = next(model.parameters(), None)
        dtype = first.data.dtype if first is not None else backend.default_dtype()
    shown = [(name, m) for name, m in model.named_modules()
             if not m._modules or m._parameters or m is model]
    rows = []

    def recording(name, module):
        def forward(*args, **kwargs):
            out = type(module).forward(module, *args, **kwargs)
            own = list(module._parameters.values())
            rows.append((name or "(model)", type(module).__name__, _shape_of(out),
                         sum(p.data.size for p in own), sum(p.data.size for p in own if p.requires_grad)))
            return out
        return forward

    for name, module in shown:
        object.__setattr__(module, "forward", recording(name, module))
    try:
        with training_mode(model, False), no_grad():
            model(Tensor(np.zeros(tuple(input_shape), dtype=dtype)))
    finally:
        for _, module in shown:
            object.__delattr__(module, "forward")

    # The whole model's own row comes last in call order; keep it only if it
    # owns parameters directly or is a single layer.
    rows = [r for r in rows if r[0] != "(model)" or r[3] or len(rows) == 1]
    total = model.num_parameters()
    trainable = model.num_parameters(trainable_only=True)
    header = ("Layer", "Type", "Output shape", "Params", "Trainable")
    body = [(n, t, s, f"{p:,}", f"{q:,}") for n, t, s, p, q in rows]
    widths = [max(len(r[i]) for r in [header] + body) for i in range(5)]

    def line(r):
        left = "  ".join(r[i].ljust(widths[i]) for i in range(3))
        return left + "  " + "  ".join(r[i].rjust(widths[i]) for i in (3, 4))

    rule = "-" * len(line(header))
    return "\n".join([line(header), rule, *map(line, body), rule,
                      f"Total params: {total:,}", f"Trainable params: {trainable:,}",
                      f"Non-trainable params: {total - trainable:,}"])
