"""Containers of modules: Sequential, ModuleList, ModuleDict (as PyTorch's)."""

from __future__ import annotations

from collections.abc import Mapping

from .module import Module


def _check_module(container: str, key, module) -> Module:
    if not isinstance(module, Module):
        raise TypeError(f"{container}: item {key!r} is a {type(module).__name__}, expected a Module")
    return module


class Sequential(Module):
    """Apply the given modules in order: ``Sequential(Linear(784, 30), Sigmoid(), ...)``,
    or named: ``Sequential(OrderedDict([("fc1", Linear(784, 30)), ("act", Sigmoid())]))``
    (the names become the ``state_dict`` keys: ``fc1.weight``).

    Indexing gives a layer (``model[0]``) or, with a slice, a new Sequential of the
    same layers (``model[:-1]``, shared, not copied); ``append`` adds one at the end.

    Args:
        *modules: the layers in order, or one mapping of names to layers.

    Shape:
        - Input: what the first layer takes.
        - Output: what the last layer gives.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
        >>> model(Tensor(np.ones((5, 4), dtype=np.float32))).shape
        (5, 2)
        >>> len(model), list(model.state_dict())
        (3, ['0.weight', '0.bias', '2.weight', '2.bias'])
        >>> model[:2]
        Sequential(
          (0): Linear(in_features=4, out_features=3, bias=True)
          (1): ReLU()
        )
    """

    def __init__(self, *modules: Module):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self.add_module(str(name), _check_module("Sequential", name, module))
            return
        for i, module in enumerate(modules):
            self.add_module(str(i), _check_module("Sequential", i, module))

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index):
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*modules[index])
        return modules[index]

    def __setitem__(self, index: int, module: Module) -> None:
        key = list(self._modules)[index]
        setattr(self, key, module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module: Module) -> "Sequential":
        self.add_module(str(len(self._modules)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters the parent sees (a plain Python list
    would hide them): ``self.blocks = ModuleList([Block() for _ in range(4)])``,
    then ``for block in self.blocks: x = block(x)``. Keys ``0``, ``1``, … in
    ``state_dict``. It has no ``forward``: the parent decides the order."""

    def __init__(self, modules=()):
        super().__init__()
        self.extend(modules)

    def _key(self, index: int) -> str:
        n = len(self._modules)
        if not -n <= index < n:
            raise IndexError(f"ModuleList index {index} out of range for {n} modules")
        return str(index % n)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return self._modules[self._key(index)]

    def __setitem__(self, index: int, module: Module) -> None:
        setattr(self, self._key(index), _check_module("ModuleList", index, module))

    def __delitem__(self, index: int) -> None:
        modules = list(self._modules.values())
        del modules[int(self._key(index))]
        for key in list(self._modules):
            delattr(self, key)
        self.extend(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module: Module) -> "ModuleList":
        self.add_module(str(len(self._modules)), _check_module("ModuleList", len(self._modules), module))
        return self

    def extend(self, modules) -> "ModuleList":
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        modules = list(self._modules.values())
        modules.insert(index, _check_module("ModuleList", index, module))
        for key in list(self._modules):
            delattr(self, key)
        self.extend(modules)


class ModuleDict(Module):
    """A dict of modules, by string key, whose parameters the parent sees:
    ``self.heads = ModuleDict({"class": Linear(64, 10), "box": Linear(64, 4)})``.
    Keys keep their insertion order; ``state_dict`` keys are ``<key>.weight``."""

    def __init__(self, modules: Mapping | None = None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(f"ModuleDict has no module {key!r} (has: {', '.join(self._modules) or 'none'})")
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str):
            raise TypeError(f"ModuleDict keys are strings, got {type(key).__name__} {key!r}")
        self.add_module(key, _check_module("ModuleDict", key, module))

    def __delitem__(self, key: str) -> None:
        self[key]  # the KeyError that names the keys
        delattr(self, key)

    def __contains__(self, key) -> bool:
        return key in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def pop(self, key: str) -> Module:
        module = self[key]
        delattr(self, key)
        return module

    def update(self, modules) -> None:
        items = modules.items() if isinstance(modules, Mapping) else modules
        for key, module in items:
            self[key] = module
