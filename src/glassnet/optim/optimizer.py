"""The optimizer base: parameter groups and state.

``Optimizer(params, defaults)``: ``params`` is an iterable of parameters or of
dicts ``{"params": [...], "lr": ..., "weight_decay": ...}`` (parameter groups);
keys missing from a group take ``defaults``. ``step()`` skips parameters that
have ``requires_grad=False`` (frozen) or no gradient. Per-parameter state
(momentum buffers, moments) lives in ``self.state[id]`` as arrays and is saved
by ``state_dict()`` as arrays plus a JSON-able description.
"""

from __future__ import annotations

import numpy as np


class Optimizer:
    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        self.param_groups = []
        for group in params:
            self.add_param_group(group)
        self.state: dict[int, dict] = {}

    def add_param_group(self, group: dict) -> None:
        group = dict(group)
        group["params"] = list(group["params"])
        unknown = set(group) - set(self.defaults) - {"params", "name"}
        if unknown:
            raise ValueError(f"{type(self).__name__}: unknown parameter-group options {sorted(unknown)}; "
                             f"known: {sorted(self.defaults)}")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ValueError("a parameter appears in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.requires_grad and p.grad is not None:
                    self.update(p, p.grad, self.state.setdefault(id(p), {}), group)

    def update(self, p, grad: np.ndarray, state: dict, group: dict) -> None:
        """Update ``p.data`` in place from ``grad``; subclasses implement."""
        raise NotImplementedError

    # ------------------------------------------------------ saving, loading
    def state_dict(self) -> dict:
        """{"groups": [hyper-parameters], "state": {"<group>.<index>.<name>": array}}."""
        groups = [{k: v for k, v in g.items() if k != "params"} for g in self.param_groups]
        arrays = {}
        for gi, group in enumerate(self.param_groups):
            for pi, p in enumerate(group["params"]):
                for name, value in self.state.get(id(p), {}).items():
                    arrays[f"{gi}.{pi}.{name}"] = np.asarray(value)
        return {"groups": groups, "state": arrays}

    def load_state_dict(self, state: dict) -> None:
        if len(state["groups"]) != len(self.param_groups):
            raise ValueError(f"optimizer state has {len(state['groups'])} parameter groups, "
                             f"this optimizer has {len(self.param_groups)}")
        for group, saved in zip(self.param_groups, state["groups"]):
            group.update(saved)
        self.state = {}
        for key, value in state["state"].items():
            gi, pi, name = key.split(".", 2)
            p = self.param_groups[int(gi)]["params"][int(pi)]
            value = np.array(value)
            self.state.setdefault(id(p), {})[name] = value.item() if value.ndim == 0 and value.dtype.kind == "i" else value

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            opts = ", ".join(f"{k}={v}" for k, v in g.items() if k != "params")
            lines.append(f"  group {i}: {len(g['params'])} tensors, {opts}")
        return "\n".join(lines) + "\n)"
