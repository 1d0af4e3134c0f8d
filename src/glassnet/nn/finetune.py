"""Fine-tuning a trained model: replace its classifier head, freeze named layers,
give layers their own learning rates.

Layers are named by the dotted prefixes of ``model.named_parameters()``
("stem", "stages.0", "fc"); a prefix matches a parameter name when it equals the
name or is followed by a dot ("stage" does not match "stages.0.weight").
Freezing sets ``requires_grad = False`` (the optimizer skips such parameters:
a learning rate of 0, and no gradient is even computed for them). Batch-norm
running statistics are buffers, not parameters: a frozen body in ``train()``
mode still updates them; call ``.eval()`` on those submodules to keep them fixed.
"""

from __future__ import annotations

from .module import Module


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def layer_names(model: Module) -> list[str]:
    """The model's layers in order, as prefixes for :func:`freeze`: its direct
    children that hold parameters, where a child whose own children are
    containers (a ResNet's ``stages``) counts as those children
    (``["stem", "stages.0", "stages.1", "stages.2", "fc"]``)."""
    names = []
    for name, child in model._modules.items():
        if not any(True for _ in child.parameters()):
            continue
        grandchildren = [(n, c) for n, c in child._modules.items() if any(True for _ in c.parameters())]
        if grandchildren and all(c._modules for _, c in grandchildren) and not child._parameters:
            names += [f"{name}.{n}" for n, _ in grandchildren]
        else:
            names.append(name)
    return names


def _select(model: Module, names, what: str) -> list:
    """(name, parameter) pairs under any of the prefixes ``names``; an error names
    each prefix that matched nothing."""
    names = [names] if isinstance(names, str) else list(names)
    params = list(model.named_parameters())
    unmatched = [n for n in names if not any(_matches(p, n) for p, _ in params)]
    if unmatched:
        layers = sorted({p.rsplit(".", 1)[0] for p, _ in params if "." in p})
        raise KeyError(f"{what}: no parameter of {type(model).__name__} is under {unmatched}; "
                       f"layers are: {', '.join(layers)}")
    return [(p, t) for p, t in params if any(_matches(p, n) for n in names)]


def freeze(model: Module, names) -> list[str]:
    """Set ``requires_grad = False`` on every parameter under the prefixes
    ``names`` (a string or a list); returns the parameter names frozen."""
    selected = _select(model, names, "freeze")
    for _, p in selected:
        p.requires_grad = False
    return [n for n, _ in selected]


def unfreeze(model: Module, names=None) -> list[str]:
    """Set ``requires_grad = True`` under the prefixes ``names`` (every parameter
    when ``names`` is None); returns the parameter names unfrozen."""
    selected = list(model.named_parameters()) if names is None else _select(model, names, "unfreeze")
    for _, p in selected:
        p.requires_grad = True
    return [n for n, _ in selected]


def replace_head(model: Module, new_head: Module, name: str | None = None) -> Module:
    """Put ``new_head`` where the submodule ``name`` (dotted path) was and return
    the old one. ``name`` defaults to the last submodule that owns parameters
    directly (the final classifier layer of a model built in order)."""
    if name is None:
        owners = [n for n, m in model.named_modules() if n and m._parameters]
        if not owners:
            raise ValueError(f"replace_head: {type(model).__name__} has no submodule with parameters")
        name = owners[-1]
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name)
    if child not in parent._modules:
        raise AttributeError(f"replace_head: {type(parent).__name__} has no submodule {child!r} "
                             f"(has: {', '.join(parent._modules) or 'none'})")
    old = parent._modules[child]
    setattr(parent, child, new_head)
    return old


def layerwise_param_groups(model: Module, lrs: dict, default_lr: float) -> list[dict]:
    """Optimizer parameter groups with a learning rate per layer.

    ``lrs`` maps a prefix to a learning rate (or to a dict of group options such
    as ``{"lr": 1e-3, "weight_decay": 0}``); each parameter joins the group of
    the longest prefix that matches it, the rest join a group with
    ``default_lr``. Groups carry ``"name"`` (the prefix, or "default") and come
    in the order of ``lrs``, default last; empty groups are left out. Pass the
    list to any optimizer: ``SGD(layerwise_param_groups(...), lr=...)``.
    """
    _select(model, list(lrs), "layerwise_param_groups")  # every prefix must match something
    by_prefix: dict[str, list] = {prefix: [] for prefix in lrs}
    rest: list = []
    for name, p in model.named_parameters():
        hits = [prefix for prefix in lrs if _matches(name, prefix)]
        (by_prefix[max(hits, key=len)] if hits else rest).append(p)
    groups = []
    for prefix, params in by_prefix.items():
        options = lrs[prefix] if isinstance(lrs[prefix], dict) else {"lr": lrs[prefix]}
        if params:
            groups.append({"params": params, "name": prefix, **options})
    if rest:
        groups.append({"params": rest, "name": "default", "lr": default_lr})
    return groups
