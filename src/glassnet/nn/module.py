"""Module and Parameter: the PyTorch-style building blocks.

A ``Module`` holds ``Parameter``s (trainable leaves), buffers (non-trainable
state such as batch norm's running mean, saved in ``state_dict``) and child
modules, all discovered from attribute assignment. ``train()``/``eval()`` set
``self.training`` on the whole tree; layers such as dropout and batch norm read it.
"""

from __future__ import annotations

import contextlib
import types
from collections import OrderedDict
from typing import NamedTuple

import numpy as np

from ..random import generator_states, load_generator_states
from ..tensor import Tensor, check_device


class Parameter(Tensor):
    """A tensor that a module trains: ``requires_grad=True`` unless frozen."""

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True):
        super().__init__(data.data if isinstance(data, Tensor) else data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


# Arrays larger than this (in elements) given to a constructor are not kept by the
# argument capture: glassnet.io writes such arrays by shape and dtype only (they are
# initial values, e.g. an embedding table, which the saved weights overwrite), so
# keeping them would only hold on to their memory.
_CAPTURED_ARRAY_LIMIT = 4096


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` returns, as PyTorch: the keys the model has that the
    state lacks, and the keys of the state that the model does not have."""

    missing_keys: list
    unexpected_keys: list


def _captured(value):
    """A constructor argument as the capture keeps it: large arrays become a
    read-only, zero-strided array of zeros of the same shape and dtype (no memory)."""
    data = value.data if isinstance(value, Tensor) else value
    if isinstance(data, np.ndarray) and data.size > _CAPTURED_ARRAY_LIMIT:
        return np.broadcast_to(np.zeros((), dtype=data.dtype), data.shape)
    return value


# Module classes that ``glassnet.load`` may rebuild, by name: glassnet's own
# classes register themselves, user classes with ``@register_module``.
_registry: dict[str, type] = {}


def registered_modules() -> types.MappingProxyType:
    """The Module classes ``glassnet.load`` may rebuild, by registry name (read-only)."""
    return types.MappingProxyType(_registry)


def registry_name(cls: type) -> str | None:
    """The name ``cls`` was registered under with :func:`register_module` (or as one of
    glassnet's own classes), or None: a subclass of a registered class is not registered."""
    return cls.__dict__.get("_registry_name")


def register_module(cls=None, *, name: str | None = None):
    """Class decorator: let ``glassnet.load`` rebuild instances of a user Module
    subclass (under ``name``, default ``"<module>.<qualname>"``); no pickle needed."""
    def register(cls):
        if not (isinstance(cls, type) and issubclass(cls, Module)):
            raise TypeError(f"register_module: expected a Module subclass, got {cls!r}")
        key = name or f"{cls.__module__}.{cls.__qualname__}"
        if _registry.get(key, cls) is not cls:
            raise ValueError(f"register_module: name {key!r} is already taken by {_registry[key]!r}")
        _registry[key] = cls
        cls._registry_name = key
        return cls
    return register if cls is None else register(cls)


# Functions that a model file may name (``{"$function": name}``), by name:
# glassnet's own public functions (glassnet.functional, glassnet.init; added by
# ``glassnet.io`` on first use) and user functions decorated with ``@register_function``.
# A file can name nothing else: names are looked up here, never imported or followed.
_function_registry: dict[str, types.FunctionType] = {}


def registered_functions() -> types.MappingProxyType:
    """The functions a model file may name, by registry name (read-only)."""
    return types.MappingProxyType(_function_registry)


def register_function(fn=None, *, name: str | None = None):
    """Decorator: let a model file name the plain Python function ``fn`` (under
    ``name``, default ``"<module>:<qualname>"``), e.g. an activation passed to a
    registered module's constructor. Only registered functions are ever called by
    ``glassnet.load``."""
    def register(fn):
        if not isinstance(fn, types.FunctionType) or ("<locals>" in fn.__qualname__ and name is None):
            raise TypeError(f"register_function: expected a function defined with def (give name= for a nested "
                            f"one), got {fn!r}")
        key = name or f"{fn.__module__}:{fn.__qualname__}"
        if _function_registry.get(key, fn) is not fn:
            raise ValueError(f"register_function: name {key!r} is already taken by {_function_registry[key]!r}")
        _function_registry[key] = fn
        return fn
    return register if fn is None else register(fn)


def _set_training_flags(flags) -> None:
    for module, mode in flags:
        object.__setattr__(module, "training", mode)


@contextlib.contextmanager
def training_mode(model: "Module", mode: bool):
    """``with training_mode(model, False):`` runs the block with every module of
    ``model`` in evaluation mode (``True``: training mode), then puts back each
    module's own flag, also a mixed state (e.g. a frozen batch norm left in eval)."""
    saved = [(module, module.training) for module in model.modules()]
    model.train(mode)
    try:
        yield model
    finally:
        _set_training_flags(saved)


class Module:
    """Base class: subclasses set parameters/children in ``__init__`` and define
    ``forward``; calling the module calls ``forward``.

    Every instance remembers the arguments of the constructor call that made it:
    that is the default of :meth:`get_config`, from which ``glassnet.io`` writes
    the model's architecture as JSON and rebuilds it with :meth:`from_config`."""

    _registry_name: str | None = None
    # set in __new__ / __init__ (declared here for type checkers; no class attributes)
    _init_args: tuple
    _parameters: OrderedDict[str, Parameter]
    _buffers: OrderedDict[str, bool]
    _modules: OrderedDict[str, Module]
    training: bool

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._registry_name = None  # not inherited: each class registers itself
        if cls.__module__.split(".")[0] == "glassnet" and "<locals>" not in cls.__qualname__:
            register_module(cls)

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls)
        object.__setattr__(self, "_init_args", (tuple(_captured(a) for a in args),
                                                {k: _captured(v) for k, v in kwargs.items()}))
        return self

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------- config
    def get_config(self) -> dict:
        """The constructor arguments that rebuild this module:
        ``{"args": tuple, "kwargs": dict}``, so that
        ``type(m).from_config(m.get_config())`` is a module like ``m`` (with fresh
        weights; ``load_state_dict`` brings the trained ones).

        Default: the arguments of the constructor call that made it, recorded when
        the instance was created (an array argument of more than 4,096 elements is
        kept as zeros of its shape: an initial value the weights replace). Child
        modules appear as themselves. Override it in a module whose constructor
        arguments cannot describe it; ``glassnet.save`` writes what it returns as
        JSON (numbers, strings, lists, tuples, dicts, dtypes, arrays, modules,
        registered classes and functions, generators).

        Examples:
            >>> from glassnet import nn
            >>> nn.Linear(3, 2, bias=False).get_config()
            {'args': (3, 2), 'kwargs': {'bias': False}}
        """
        args, kwargs = self._init_args
        return {"args": args, "kwargs": dict(kwargs)}

    @classmethod
    def from_config(cls, config: dict) -> "Module":
        """A new module built from :meth:`get_config`'s output: ``cls(*args, **kwargs)``."""
        return cls(*config["args"], **config["kwargs"])

    # ------------------------------------------------------------ registry
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                                 f"before assigning {name!r}")
        was_buffer = name in self._buffers
        target = (self._parameters if isinstance(value, Parameter) else self._modules if isinstance(value, Module)
                  else self._buffers if was_buffer else None)
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not target:  # a reassigned entry keeps its place (Sequential's order)
                registry.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        # (assigning to a buffer, e.g. ``self.count += 1``, keeps it a buffer: it stays in _buffers)
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, array: np.ndarray, persistent: bool = True) -> None:
        """Non-trainable state (e.g. batch norm's running mean), in ``state_dict``
        unless ``persistent=False`` (then it is derived state, such as a cached mask)."""
        if isinstance(array, Tensor):
            array = array.data
        object.__setattr__(self, name, array)
        self._buffers[name] = bool(persistent)

    def add_module(self, name: str, module: "Module") -> None:
        setattr(self, name, module)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        # an ndarray input is taken as a Tensor (no copy, its dtype kept), as a user coming from NumPy expects
        args = tuple(Tensor(a) if isinstance(a, np.ndarray) else a for a in args)
        return self.forward(*args, **kwargs)

    # ----------------------------------------------------------- traversal
    def children(self):
        return iter(self._modules.values())

    def named_children(self):
        return iter(self._modules.items())

    def named_modules(self, prefix: str = ""):
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, prefix: str = ""):
        """(dotted name, parameter) pairs, each parameter once."""
        seen = set()
        for module_name, module in self.named_modules(prefix):
            for name, p in module._parameters.items():
                if id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{module_name}.{name}" if module_name else name), p

    def parameters(self):
        for _, p in self.named_parameters():
            yield p

    def named_buffers(self, persistent_only: bool = False):
        for module_name, module in self.named_modules():
            for name, persistent in module._buffers.items():
                if persistent or not persistent_only:
                    yield (f"{module_name}.{name}" if module_name else name), getattr(module, name)

    def buffers(self):
        for _, value in self.named_buffers():
            yield value

    def apply(self, fn) -> "Module":
        """Call ``fn(module)`` on every submodule, children before parents, then
        on this module (PyTorch's order); returns ``self``. E.g. an initializer:
        ``model.apply(lambda m: init.zeros_(m.bias) if isinstance(m, nn.Linear) else None)``."""
        for child in self._modules.values():
            child.apply(fn)
        fn(self)
        return self

    def get_submodule(self, target: str) -> "Module":
        module = self
        for part in filter(None, target.split(".")):
            if part not in module._modules:
                raise AttributeError(f"{type(module).__name__} has no submodule {part!r} "
                                     f"(has: {', '.join(module._modules) or 'none'})")
            module = module._modules[part]
        return module

    # -------------------------------------------------------------- modes
    def train(self, mode: bool = True) -> "Module":
        _set_training_flags((module, mode) for module in self.modules())
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def requires_grad_(self, flag: bool = True) -> "Module":
        """Freeze (False) or unfreeze (True) every parameter of this module."""
        for p in self.parameters():
            p.requires_grad = flag
        return self

    def to(self, *args, dtype=None, device=None) -> "Module":
        """Cast every parameter and floating buffer to ``dtype`` in place;
        ``model.to("cpu")`` is accepted (glassnet's only device) and changes nothing."""
        for arg in args:
            if isinstance(arg, str) and arg.split(":")[0] in ("cpu", "cuda", "mps", "xpu", "meta"):
                device = arg
            else:
                dtype = arg
        check_device(device, f"{type(self).__name__}.to")
        if dtype is None:
            return self
        dtype = np.dtype(dtype)
        for p in self.parameters():
            p.data = p.data.astype(dtype)
            p.grad = None
        for module in self.modules():
            for name in module._buffers:
                value = getattr(module, name)
                if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                    object.__setattr__(module, name, value.astype(dtype))
        return self

    def double(self) -> "Module":
        return self.to(np.float64)

    def float(self) -> "Module":
        return self.to(np.float32)

    # ------------------------------------------------------- random state
    def own_generators(self) -> dict:
        """The generators this module itself (not its children) draws from, by
        attribute name. Default: its ``generator`` attribute when that holds a
        ``numpy.random.Generator`` (as Dropout, Dropout2d and RReLU built with
        ``generator=g`` do). Override it in a module that keeps a generator
        elsewhere, so that checkpoints save and restore its state."""
        generator = self.__dict__.get("generator")
        return {"generator": generator} if isinstance(generator, np.random.Generator) else {}

    def named_generators(self):
        """(dotted name, Generator) of every generator the module tree draws from
        itself (not glassnet's global one), e.g. ``("3.generator", g)``."""
        for module_name, module in self.named_modules():
            for name, g in module.own_generators().items():
                yield (f"{module_name}.{name}" if module_name else name), g

    def rng_state(self) -> dict:
        """``{dotted name: bit-generator state}`` of :meth:`named_generators` (JSON);
        training checkpoints store it, so a resumed run draws the same masks."""
        return generator_states(dict(self.named_generators()))

    def load_rng_state(self, state: dict) -> None:
        """Restore the generators named in ``state`` (from :meth:`rng_state`)."""
        load_generator_states(dict(self.named_generators()), state)

    # --------------------------------------------------------- state dict
    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Every parameter and persistent buffer by dotted name (arrays, not copies)."""
        state = OrderedDict((name, p.data) for name, p in self.named_parameters())
        for name, value in self.named_buffers(persistent_only=True):
            state[name] = np.asarray(value)
        return state

    def load_state_dict(self, state: dict, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays from ``state`` into this module; return the
        ``(missing_keys, unexpected_keys)`` pair, as PyTorch.

        Raises KeyError naming missing and unexpected keys (when ``strict``) and
        ValueError naming a key whose shape differs.
        """
        own = self.state_dict()
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict for {type(self).__name__}: "
                           f"missing keys {missing}, unexpected keys {unexpected}")
        values = {key: np.asarray(state[key].data if isinstance(state[key], Tensor) else state[key])
                  for key in own if key in state}
        wrong = [f"{key!r} has shape {value.shape} in the state, {own[key].shape} in the model"
                 for key, value in values.items() if value.shape != own[key].shape]
        if wrong:  # checked before anything is copied: a failed load leaves the model as it was
            raise ValueError(f"load_state_dict for {type(self).__name__}: " + "; ".join(wrong))
        for key, value in values.items():
            own[key][...] = value
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------ display
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        if self._modules:
            for name, child in self._modules.items():
                child_repr = repr(child).replace("\n", "\n  ")
                lines.append(f"  ({name}): {child_repr}")
            return "\n".join(lines) + "\n)"
        return lines[0] + ")"

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.data.size for p in self.parameters() if p.requires_grad or not trainable_only)

    def summary(self, input_shape: tuple, dtype=None) -> str:
        """A table of each leaf layer's output shape and parameter count, from
        one forward pass on zeros of ``input_shape`` (batch axis included)."""
        from .summary import summarize
        return summarize(self, input_shape, dtype)
