"""A model file names only what glassnet registered: no path from a file to os.system, builtins or any other code."""

import json
import sys

import numpy as np
import pytest

import glassnet
from glassnet import functional as F
from glassnet import nn
from glassnet.io import ArchitectureError, from_config, to_config

CALLS = []


@nn.register_module
class CallsItsArgument(nn.Module):
    """A registered user module whose constructor calls the function it is given (as a user's might)."""

    def __init__(self, fn=F.relu):
        super().__init__()
        CALLS.append(fn)
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def _with_function(entry, module=None, key="fn"):
    config = to_config(module if module is not None else CallsItsArgument())
    config["module"]["kwargs"][key] = {"$function": entry}
    return config


def test_the_reported_exploit_a_linear_with_os_system_as_bias_is_refused():
    config = to_config(nn.Linear(2, 2))
    config["module"]["kwargs"]["bias"] = {"$function": "glassnet.backend:os.system"}
    with pytest.raises(ArchitectureError, match=r"'glassnet.backend:os.system' is not a registered function"):
        from_config(config)


@pytest.mark.parametrize("entry", [
    "glassnet.backend:os.getpid",                     # the second exploit (then os.abort)
    "glassnet.backend:os.abort",
    "glassnet:backend.os.system",                     # a dotted attribute chain from the package
    "glassnet.io.serialization:os.replace",
    "glassnet.io.architecture:importlib.import_module",
    "glassnet.functional.activations:np.exp",         # NumPy reached through a glassnet module
    "glassnet.functional.activations:relu.__call__",  # an attribute of a registered function
    "glassnet.functional.activations:relu.__globals__",
    "glassnet.io.serialization:atomic_write_bytes",   # defined by glassnet, but not a nameable function
    "glassnet.io.serialization:_fsync_dir",
    "builtins:eval", "builtins:exec", "os:system", "subprocess:call", "posix:system",  # outside glassnet
    "glassnet.backend:ctypes.CDLL", "glassnet.tensor:Tensor", "glassnet.nn.linear:Linear",  # classes
    "glassnet.io.checkpoint:Checkpoint",
    "glassnet.__main__:main", "", ":", "glassnet.functional.activations:",
])
def test_a_file_can_name_only_registered_functions(entry):
    config = _with_function(entry)
    CALLS.clear()
    before = set(sys.modules)
    with pytest.raises(ArchitectureError, match=r"is not a registered function"):
        from_config(config)
    assert CALLS == [], "the constructor ran with an unregistered function"
    assert set(sys.modules) == before, "naming a function imported a module"


@pytest.mark.parametrize("payload", [5, None, ["os:system"], {"a": 1}])
def test_a_function_entry_that_is_not_a_string_is_refused(payload):
    config = to_config(CallsItsArgument())
    config["module"]["kwargs"]["fn"] = {"$function": payload}
    with pytest.raises(ArchitectureError, match="registered function"):
        from_config(config)


def test_the_error_names_the_class_and_the_argument():
    with pytest.raises(ArchitectureError, match=r"CallsItsArgument argument 'fn'.*'os:system'"):
        from_config(_with_function("os:system"))


def test_glassnet_functions_and_registered_user_functions_round_trip(tmp_path, rng):
    for fn in (F.sigmoid, F.tanh, glassnet.init.kaiming_normal_):
        loaded = glassnet.load(glassnet.save(CallsItsArgument(fn), tmp_path / "m.safetensors"))
        assert loaded.fn is fn

    @nn.register_function(name="tests.swish")
    def swish(x):
        return x * F.sigmoid(x)

    loaded = glassnet.load(glassnet.save(CallsItsArgument(swish), tmp_path / "s.safetensors"))
    assert loaded.fn is swish
    x = glassnet.Tensor(rng.standard_normal((3, 2)).astype(np.float32))
    np.testing.assert_array_equal(loaded(x).data, swish(x).data)
    document = json.dumps(to_config(CallsItsArgument(swish)))
    assert '{"$function": "tests.swish"}' in document


@pytest.mark.parametrize("fn", [np.exp, print, sys.exit, glassnet.io.serialization.atomic_write_bytes,
                                lambda x: x, str])
def test_saving_a_model_with_an_unregistered_function_is_refused(fn, tmp_path):
    with pytest.raises(ArchitectureError, match="register_function"):
        glassnet.save(CallsItsArgument(fn), tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


def test_register_function_refuses_non_functions_and_taken_names():
    with pytest.raises(TypeError, match="expected a function"):
        nn.register_function(nn.Linear)
    with pytest.raises(ValueError, match="already taken"):
        nn.register_function(lambda x: x, name="glassnet.functional.activations:relu")


def test_a_class_name_cannot_make_glassnet_import_a_private_or_main_module():
    before = set(sys.modules)
    for name in ("glassnet.__main__.Main", "glassnet._private.X", "glassnet..X", "glassnet.os.system"):
        config = to_config(nn.Identity())
        config["module"]["class"] = name
        with pytest.raises(ArchitectureError, match="unknown module class"):
            from_config(config)
    assert set(sys.modules) == before


@pytest.mark.parametrize("dtype", ["O", "object", "V8", "U3", "S2", "M8[s]", "<f4,<i4"])
def test_arrays_and_dtypes_in_a_file_are_numeric_only(dtype):
    config = to_config(CallsItsArgument())
    config["module"]["kwargs"]["fn"] = {"$array": [1, 2], "dtype": dtype}
    with pytest.raises(ArchitectureError, match="numeric dtype"):
        from_config(config)
    config["module"]["kwargs"]["fn"] = {"$dtype": dtype}
    with pytest.raises(ArchitectureError, match="numeric dtype"):
        from_config(config)
