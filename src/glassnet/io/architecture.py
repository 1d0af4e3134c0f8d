"""A model's architecture as JSON, so it can be rebuilt without pickle.

Every :class:`~glassnet.nn.Module` describes itself by the arguments that rebuild
it, ``Module.get_config()`` (by default those of the constructor call that made
it), and is rebuilt by ``Module.from_config``. :func:`to_config` turns a model
into a tree of plain JSON::

    {"class": "glassnet.nn.linear.Linear", "args": [784, 100], "kwargs": {},
     "children": {}}

and :func:`from_config` calls the same constructors again. Only classes in the
module registry can be named (glassnet's own, and user classes decorated with
``@glassnet.nn.register_module``), and only functions in the function registry
(glassnet's public functions in ``glassnet.functional`` and ``glassnet.init``,
and user functions decorated with ``@glassnet.nn.register_function``): names
are looked up in these registries, never imported or followed attribute by
attribute, so a file can never make glassnet run code it did not register. The weights are not part of the config: they travel in
safetensors and are loaded afterwards with ``load_state_dict``.

Argument values are encoded as JSON, with a tagged object for what JSON lacks:

===========================  ==========================================
Python value                 JSON
===========================  ==========================================
None, bool, int, str, list   themselves (lists element by element)
float                        a number (``{"$float": "nan"|"inf"|"-inf"}``)
tuple / dict                 ``{"$tuple": [...]}`` / ``{"$dict": {...}}``
NumPy dtype or scalar type   ``{"$dtype": "float32"}``
ndarray or Tensor            ``{"$array": [...], "dtype": "float32"}``
(> 4096 elements)            ``{"$zeros": [shape], "dtype": "float32"}`` (see below)
a child module               ``{"$module": "<child name>"}``
another module               ``{"$config": {...}}``
a registered Module class    ``{"$class": "<registered name>"}``
a registered function        ``{"$function": "glassnet.functional.activations:relu"}``
a numpy Generator            ``{"$generator": "<key>"}`` (state in ``generators``)
===========================  ==========================================

An array argument of more than ``LARGE_ARRAY_ELEMENTS`` (4,096) elements is
written by shape and dtype only and comes back as zeros: it must be the initial
value of a parameter or buffer (such as ``Embedding(..., _weight=table)``), which
the saved weights overwrite.

A module that was changed after construction (a replaced classifier head,
``model[0] = ...``) is still rebuilt faithfully: the config lists each
module's *current* children, and a child that differs from what the
constructor made is replaced by the saved one.
"""

from __future__ import annotations

import functools
import importlib
import math
import types

import numpy as np

from .. import random as grandom
from ..nn.module import (Module, register_function, registered_functions, registered_modules,
                         registry_name)
from ..tensor import Tensor

FORMAT = "glassnet.architecture/1"
LARGE_ARRAY_ELEMENTS = 4096  # larger array arguments are written as {"$zeros": shape}
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
# glassnet's namespaces whose public functions a model file may name
_NAMEABLE_NAMESPACES = ("glassnet.functional", "glassnet.init")


class ArchitectureError(ValueError):
    """A model cannot be written as, or rebuilt from, an architecture config."""


def registered_name(cls: type) -> str:
    """The registry name of a Module class; raises ArchitectureError if it has none."""
    name = registry_name(cls)
    if name is None or registered_modules().get(name) is not cls:
        raise ArchitectureError(
            f"{cls.__module__}.{cls.__qualname__} is not registered, so glassnet.load could not rebuild it: "
            f"decorate the class with @glassnet.nn.register_module")
    return name


def lookup_class(name: str) -> type:
    """The registered Module class called ``name`` (importing glassnet's own module if needed)."""
    if not isinstance(name, str):
        raise ArchitectureError(f"a module class must be named by a string, got {name!r}")
    module_path = name.rsplit(".", 1)[0].split(".")
    if name not in registered_modules() and module_path[0] == "glassnet" and \
            all(part.isidentifier() and not part.startswith("_") for part in module_path):
        try:  # glassnet's own public modules only: never __main__ or a private one
            importlib.import_module(".".join(module_path))
        except ImportError:
            pass
    registry = registered_modules()
    if name not in registry:
        raise ArchitectureError(
            f"unknown module class {name!r}: only glassnet's modules and classes decorated with "
            f"@glassnet.nn.register_module can be rebuilt (import the module that defines it first)")
    return registry[name]


@functools.cache
def _register_own_functions() -> None:
    """Add glassnet's public functions (those of ``_NAMEABLE_NAMESPACES``) to the function registry."""
    for namespace in _NAMEABLE_NAMESPACES:
        module = importlib.import_module(namespace)
        for attr in dir(module):
            fn = getattr(module, attr)
            if attr.startswith("_") or not isinstance(fn, types.FunctionType) or "<locals>" in fn.__qualname__:
                continue
            key = f"{fn.__module__}:{fn.__qualname__}"
            if (fn.__module__ == namespace or fn.__module__.startswith(namespace + ".")) and \
                    key not in registered_functions():
                register_function(fn, name=key)


def function_name(fn) -> str:
    """The registry name of a function a model file may name; raises ArchitectureError if it has none."""
    _register_own_functions()
    for name, registered in registered_functions().items():
        if registered is fn:
            return name
    raise ArchitectureError(
        f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', fn)!s} is not a registered function, so "
        f"glassnet.load could not rebuild a model given it: pass a function of glassnet.functional or "
        f"glassnet.init, or decorate your own with @glassnet.nn.register_function")


def lookup_function(name, where: str = "an architecture config") -> types.FunctionType:
    """The registered function called ``name``: a lookup in the registry, nothing is imported or followed."""
    _register_own_functions()
    if not isinstance(name, str):
        raise ArchitectureError(f"{where}: a $function entry must be a registered function's name (a string), "
                                f"got {str(name)[:100]}")
    fn = registered_functions().get(name)
    if fn is None:
        raise ArchitectureError(
            f"{where}: {name[:200]!r} is not a registered function: a model file may name only glassnet's "
            f"functions ({', '.join(_NAMEABLE_NAMESPACES)}) and functions decorated with "
            f"@glassnet.nn.register_function (import the module that registers it first)")
    return fn


def numeric_dtype(name, where: str = "an architecture config") -> np.dtype:
    """``np.dtype(name)`` for a plain numeric or boolean dtype name; anything else (object, strings,
    records, dates) is refused with ArchitectureError."""
    try:
        dtype = np.dtype(name) if isinstance(name, str) else None
    except (TypeError, ValueError):
        dtype = None
    if dtype is None or dtype.kind not in "biufc" or dtype.fields is not None or dtype.subdtype is not None:
        raise ArchitectureError(f"{where}: expected a numeric dtype name such as 'float32', got {str(name)[:100]!r}")
    return dtype


# ------------------------------------------------------------------ encoding
class _Encoder:
    """``known_generators`` (id → key): encode only to compare with a saved
    config, naming generators by the keys they were decoded from."""

    def __init__(self, known_generators: dict | None = None):
        self.generators: dict[str, dict] = {}
        self._keys: dict[int, str] = {}
        self._known = known_generators

    def module(self, module: Module) -> dict:
        cls = type(module)
        name = registered_name(cls)
        config = module.get_config()
        if not (isinstance(config, dict) and isinstance(config.get("args"), (list, tuple))
                and isinstance(config.get("kwargs"), dict)):
            raise ArchitectureError(f"{cls.__name__}.get_config() must return {{'args': tuple, 'kwargs': dict}}, "
                                    f"got {str(config)[:200]}")
        args, kwargs = config["args"], config["kwargs"]
        children = {id(child): key for key, child in module.named_children()}
        where = cls.__name__
        return {
            "class": name,
            "args": [self.value(a, children, f"{where} argument {i}") for i, a in enumerate(args)],
            "kwargs": {k: self.value(v, children, f"{where} argument {k!r}") for k, v in kwargs.items()},
            "children": {key: self.module(child) for key, child in module.named_children()},
        }

    def value(self, v, children: dict, where: str):
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, (int, np.integer)):
            return int(v)
        if isinstance(v, (float, np.floating)):
            v = float(v)
            return v if math.isfinite(v) else {"$float": repr(v)}
        if isinstance(v, list):
            return [self.value(x, children, where) for x in v]
        if isinstance(v, tuple):
            return {"$tuple": [self.value(x, children, where) for x in v]}
        if isinstance(v, dict):
            if not all(isinstance(k, str) for k in v):
                raise ArchitectureError(f"{where}: dict keys must be strings to be saved as JSON")
            return {"$dict": {k: self.value(x, children, where) for k, x in v.items()}}
        if isinstance(v, np.dtype) or (isinstance(v, type) and issubclass(v, np.generic)):
            return {"$dtype": np.dtype(v).name}
        if isinstance(v, Tensor):
            v = v.data
        if isinstance(v, np.ndarray):
            if self._known is not None or v.size > LARGE_ARRAY_ELEMENTS:  # initial values: shape only
                return {"$zeros": list(v.shape), "dtype": v.dtype.name}
            return {"$array": v.tolist(), "dtype": v.dtype.name}
        if isinstance(v, Module):
            if id(v) in children:
                return {"$module": children[id(v)]}
            return {"$config": self.module(v)}
        if isinstance(v, type) and issubclass(v, Module):
            return {"$class": registered_name(v)}
        if isinstance(v, np.random.Generator):
            return {"$generator": self.generator(v)}
        if callable(v):
            try:
                return {"$function": function_name(v)}
            except ArchitectureError as e:
                raise ArchitectureError(f"{where}: {e}") from None
        raise ArchitectureError(
            f"{where} is a {type(v).__name__}, which cannot be saved as JSON (supported: numbers, strings, "
            f"lists, tuples, dicts, dtypes, small arrays, modules, module classes, registered functions, generators)")

    def generator(self, g: np.random.Generator) -> str:
        if g is grandom.get_generator():
            return "global"
        if self._known is not None:
            return self._known.get(id(g), "?")
        key = self._keys.get(id(g))
        if key is None:
            key = self._keys[id(g)] = str(len(self._keys))
            self.generators[key] = g.bit_generator.state
        return key


def to_config(model: Module) -> dict:
    """The JSON-able architecture of ``model``: ``{"format", "module", "generators"}``.

    ``generators`` holds the state of each generator passed to a constructor,
    as it is now, so the rebuilt model continues the same random stream."""
    encoder = _Encoder()
    module = encoder.module(model)
    return {"format": FORMAT, "module": module, "generators": encoder.generators}


# ------------------------------------------------------------------ decoding
class _LazyChildren(dict):
    """Child modules rebuilt from their saved configs on first use (as a
    constructor argument, or to replace what the constructor made)."""

    def __init__(self, build, saved: dict):
        super().__init__()
        self._build, self._saved = build, saved

    def __missing__(self, key):
        if key not in self._saved:
            raise ArchitectureError(f"a constructor argument refers to child {key!r}, which was not saved")
        child = self[key] = self._build(self._saved[key])
        return child


class _Decoder:
    def __init__(self, generator_states: dict):
        self.states = generator_states
        self.generators: dict[str, np.random.Generator] = {}

    def module(self, config: dict) -> Module:
        try:
            cls = lookup_class(config["class"])
            args, kwargs, saved_children = config["args"], config["kwargs"], config["children"]
        except (KeyError, TypeError) as e:
            raise ArchitectureError(f"malformed module config (missing {e}): {str(config)[:200]}") from None
        if not (isinstance(args, list) and isinstance(kwargs, dict) and isinstance(saved_children, dict)):
            raise ArchitectureError(f"malformed module config of {cls.__name__}: expected args as a list, kwargs "
                                    f"and children as objects: {str(config)[:200]}")
        children = _LazyChildren(self.module, saved_children)
        where = cls.__name__
        args = [self.value(a, children, f"{where} argument {i}") for i, a in enumerate(args)]
        kwargs = {k: self.value(v, children, f"{where} argument {k!r}") for k, v in kwargs.items()}
        try:
            module = cls.from_config({"args": args, "kwargs": kwargs})
        except Exception as e:
            raise ArchitectureError(f"rebuilding {cls.__name__} from its saved arguments failed: {e}") from e
        self.reconcile(module, saved_children, children)
        return module

    def reconcile(self, module: Module, saved_children: dict, children: dict) -> None:
        """Make ``module``'s children match the saved ones, in the saved order:
        keep those the constructor built identically, replace the others."""
        for key in [k for k, _ in module.named_children() if k not in saved_children]:
            delattr(module, key)
        known = {id(g): key for key, g in self.generators.items()}
        for key, saved in saved_children.items():
            current = dict(module.named_children()).get(key)
            built_from_args = key in children and current is children[key]
            keep = built_from_args or (current is not None and
                                       _Encoder(known).module(current) == _arrays_as_shapes(saved))
            if current is not None:
                delattr(module, key)
            setattr(module, key, current if keep else children[key])  # added last: the saved order

    def value(self, v, children: dict, where: str):
        """The Python value of the encoded constructor argument ``v`` (``where`` names it in errors)."""
        if isinstance(v, list):
            return [self.value(x, children, where) for x in v]
        if not isinstance(v, dict):
            return v
        tags = [k for k in v if k.startswith("$")]
        if len(tags) != 1:
            raise ArchitectureError(f"{where}: unrecognised value in an architecture config: {str(v)[:200]}")
        tag, payload = tags[0], v[tags[0]]
        if tag == "$float":
            return float(payload)
        if tag == "$tuple":
            return tuple(self.value(x, children, where) for x in payload)
        if tag == "$dict":
            return {k: self.value(x, children, where) for k, x in payload.items()}
        if tag == "$dtype":
            return numeric_dtype(payload, where)
        if tag == "$array":
            return np.array(payload, dtype=numeric_dtype(v.get("dtype"), where))
        if tag == "$zeros":
            return np.zeros(payload, dtype=numeric_dtype(v.get("dtype"), where))
        if tag == "$module":
            return children[payload]
        if tag == "$config":
            return self.module(payload)
        if tag == "$class":
            return lookup_class(payload)
        if tag == "$generator":
            return self.generator(payload)
        if tag == "$function":
            return lookup_function(payload, where)
        raise ArchitectureError(f"{where}: unrecognised tag {tag!r} in an architecture config")

    def generator(self, key: str) -> np.random.Generator:
        if key == "global":
            return grandom.get_generator()
        if key not in self.generators:
            state = self.states.get(key)
            if not isinstance(state, dict) or state.get("bit_generator") not in _BIT_GENERATORS:
                raise ArchitectureError(f"generator {key!r} has no valid saved state")
            g = np.random.Generator(getattr(np.random, state["bit_generator"])())
            self.generators[key] = g
        return self.generators[key]

    def restore_generator_states(self) -> None:
        """Undo the draws the constructors made: each generator continues from its saved state."""
        for key, g in self.generators.items():
            g.bit_generator.state = self.states[key]


def _arrays_as_shapes(config):
    """``config`` with every ``$array`` value reduced to its ``$zeros`` form, to
    compare with a config encoded for comparison."""
    if isinstance(config, list):
        return [_arrays_as_shapes(v) for v in config]
    if not isinstance(config, dict):
        return config
    if "$array" in config:
        return {"$zeros": list(np.shape(config["$array"])), "dtype": config["dtype"]}
    return {k: _arrays_as_shapes(v) for k, v in config.items()}


def from_config(config: dict) -> Module:
    """Rebuild the model described by :func:`to_config`'s output (fresh weights:
    load the saved ones with ``load_state_dict``)."""
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        found = config.get("format") if isinstance(config, dict) else type(config).__name__
        raise ArchitectureError(f"expected an architecture config with format {FORMAT!r}, got {found!r}")
    if not isinstance(config.get("generators", {}), dict):
        raise ArchitectureError("malformed architecture config: 'generators' must be an object")
    decoder = _Decoder(config.get("generators", {}))
    global_state = grandom.get_state()  # constructors draw initial weights: leave no trace
    try:
        model = decoder.module(config["module"])
    except RecursionError:
        raise ArchitectureError("the architecture config is nested too deeply to be a model") from None
    except ArchitectureError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError, MemoryError) as e:
        # a value of the wrong kind somewhere in the JSON: one error, never a traceback from inside the decoder
        raise ArchitectureError(f"malformed architecture config ({type(e).__name__}: {str(e)[:200]})") from None
    finally:
        grandom.set_state(global_state)
    decoder.restore_generator_states()
    return model
