"""The optimizer base: parameter groups and state.

``Optimizer(params, defaults)``: ``params`` is an iterable of parameters, of
``(name, parameter)`` pairs (``model.named_parameters()``: the names are kept
in the group's ``"param_names"`` and checked when a state is loaded), or of
dicts ``{"params": [...], "lr": ..., "weight_decay": ...}`` (parameter groups);
keys missing from a group take ``defaults``. ``step()`` skips parameters that
have ``requires_grad=False`` (frozen) or no gradient; with ``maximize=True`` it
ascends (every optimizer steps along −∇). Per-parameter state
(momentum buffers, moments) lives in ``self.state[id]`` as arrays and is saved
by ``state_dict()`` as arrays plus a JSON-able description.
"""

from __future__ import annotations

import numpy as np

from ..functional import _numba_kernels
from ..tensor import Tensor

FUSED_MIN_SIZE = 4096  # smaller parameters keep the NumPy code: too little work to load numba for


class Optimizer:
    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        self.defaults.setdefault("maximize", False)
        self.param_groups: list[dict] = []
        for group in params:
            self.add_param_group(group)
        self.state: dict[int, dict] = {}

    def add_param_group(self, group: dict) -> None:
        group = dict(group)
        group["params"] = list(group["params"])
        if group["params"] and all(isinstance(p, tuple) and len(p) == 2 for p in group["params"]):
            group["param_names"] = [str(name) for name, _ in group["params"]]
            group["params"] = [p for _, p in group["params"]]
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: parameters must be glassnet Tensors, "
                                f"got a {type(p).__name__}")
        unknown = set(group) - set(self.defaults) - {"params", "param_names", "name"}
        if unknown:
            raise ValueError(f"{type(self).__name__}: unknown parameter-group options {sorted(unknown)}; "
                             f"known: {sorted(self.defaults)}")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ValueError("a parameter appears in more than one parameter group")
        if len({id(p) for p in group["params"]}) != len(group["params"]):
            # it would be updated twice per step (PyTorch warns, and says this will become an error)
            where = next(i for i, p in enumerate(group["params"]) if any(q is p for q in group["params"][:i]))
            raise ValueError(f"{type(self).__name__}: a parameter group lists the same parameter twice "
                             f"(entry {where} repeats an earlier one); each parameter must appear once")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (``p.grad = None``), or zero them in place with ``set_to_none=False``."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad[...] = 0

    def step(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.requires_grad and p.grad is not None:
                    grad = -p.grad if group["maximize"] else p.grad
                    self.update(p, grad, self.state.setdefault(id(p), {}), group)
                    p._bump_version()  # an in-place change: a graph that still uses p refuses to backward

    def update(self, p, grad: np.ndarray, state: dict, group: dict) -> None:
        """Update ``p.data`` in place from ``grad``; subclasses implement."""
        raise NotImplementedError

    # ------------------------------------------------------ saving, loading
    def state_dict(self) -> dict:
        """{"groups": [hyper-parameters], "state": {"<group>.<index>.<name>": array}}.

        ``groups`` is JSON-able (one dict per parameter group, with ``num_params``
        instead of the parameters); ``state`` maps names to ndarrays (a step count
        is a 0-d int64 array), ready for safetensors. The arrays are copies.
        """
        groups = [{k: _to_json(v) for k, v in g.items() if k != "params"} | {"num_params": len(g["params"])}
                  for g in self.param_groups]
        arrays = {}
        for gi, group in enumerate(self.param_groups):
            for pi, p in enumerate(group["params"]):
                for name, value in self.state.get(id(p), {}).items():
                    arrays[f"{gi}.{pi}.{name}"] = np.array(value)
        return {"groups": groups, "state": arrays}

    def load_state_dict(self, state: dict) -> None:
        """Restore hyper-parameters and per-parameter state saved by :meth:`state_dict`
        for the same parameters in the same groups and order."""
        name = type(self).__name__
        if len(state["groups"]) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state has {len(state['groups'])} parameter groups, "
                             f"this optimizer has {len(self.param_groups)}")
        for gi, (group, saved) in enumerate(zip(self.param_groups, state["groups"])):
            if saved.get("num_params", len(group["params"])) != len(group["params"]):
                raise ValueError(f"{name}.load_state_dict: group {gi} has {saved['num_params']} parameters "
                                 f"in the state, {len(group['params'])} in this optimizer")
            if "param_names" in saved and "param_names" in group and saved["param_names"] != group["param_names"]:
                wrong = next(f"{a!r} != {b!r}" for a, b in zip(saved["param_names"], group["param_names"]) if a != b)
                raise ValueError(f"{name}.load_state_dict: group {gi} names other parameters in the state "
                                 f"than in this optimizer ({wrong})")
        new_state: dict[int, dict] = {}
        for key, value in state["state"].items():
            gi, pi, entry = key.split(".", 2)
            p = self.param_groups[int(gi)]["params"][int(pi)]
            value = np.array(value)
            if value.ndim == 0 and value.dtype.kind in "iu":
                value = int(value)
            elif value.shape != p.shape:
                raise ValueError(f"{name}.load_state_dict: {key!r} has shape {value.shape}, "
                                 f"its parameter has shape {p.shape}")
            else:
                value = value.astype(p.dtype, copy=False)
            new_state.setdefault(id(p), {})[entry] = value
        for group, saved in zip(self.param_groups, state["groups"]):
            group.update({k: tuple(v) if isinstance(group.get(k), tuple) else v
                          for k, v in saved.items() if k != "num_params"})
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            opts = ", ".join(f"{k}={v}" for k, v in g.items() if k != "params")
            lines.append(f"  group {i}: {len(g['params'])} tensors, {opts}")
        return "\n".join(lines) + "\n)"


def _to_json(value):
    """A hyper-parameter as a JSON value (tuples become lists, NumPy scalars numbers)."""
    if isinstance(value, (tuple, list)):
        return [_to_json(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def check_hyperparameters(optimizer: str, **values) -> None:
    """Raise ValueError naming the optimizer and option if any value is negative."""
    for key, value in values.items():
        if value < 0:
            raise ValueError(f"{optimizer}: {key} must be >= 0, got {value}")


def fused_update_applies(*arrays) -> bool:
    """Whether an optimizer's compiled one-pass update applies to these arrays (the parameter first,
    None for an absent state): numba available (``GLASSNET_NUMBA`` not "0"), every array C-contiguous,
    of one floating dtype (float32 or float64), and the parameter at least ``FUSED_MIN_SIZE`` numbers.
    The optimizer's NumPy code is the reference; tests/test_numba_kernels.py compares them bit for bit."""
    first = arrays[0]
    return (first.size >= FUSED_MIN_SIZE and first.dtype in (np.float32, np.float64) and _numba_kernels.available()
            and all(a is None or (a.flags.c_contiguous and a.dtype == first.dtype) for a in arrays))
