"""Fuzzing the readers of untrusted input: random and mutated inputs raise only glassnet's documented errors.

The IDX reader raises ValueError; model files and checkpoints ModelFileError (its
NotSafetensorsError), ArchitectureError, or ValueError when the weights do not
fit (all ValueErrors); a TOML config ValueError (OptionError, TOMLDecodeError).
Never a KeyError, TypeError, AttributeError, RecursionError, and never code run.
Bounded examples, a few seconds each.
"""

import gzip
import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import glassnet
from glassnet import nn
from glassnet.data.idx import parse_idx, read_idx, write_idx
from glassnet.io import (
    ArchitectureError,
    ModelFileError,
    from_config,
    load_checkpoint,
    to_config,
)
from glassnet.models.mlp import mlp

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
                derandomize=True)


def _mutate(data: bytes, edits) -> bytes:
    """``data`` with each (position, new byte) edit applied; a negative byte truncates there."""
    out = bytearray(data)
    for position, value in edits:
        if not out:
            break
        i = position % len(out)
        if value < 0:
            del out[i:]
        else:
            out[i] = value
    return bytes(out)


EDITS = st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(-1, 255)), min_size=1, max_size=6)


# ------------------------------------------------------------------ IDX
def _valid_idx(compress: bool, tmp_path) -> bytes:
    path = tmp_path / ("a.idx.gz" if compress else "a.idx")
    write_idx(path, np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4))
    return path.read_bytes()


@FUZZ
@given(st.binary(max_size=300))
def test_idx_reader_on_random_bytes(data):
    try:
        parse_idx(data, "fuzz")
    except ValueError:
        pass


@FUZZ
@given(compress=st.booleans(), edits=EDITS)
def test_idx_reader_on_mutated_files(tmp_path, compress, edits):
    path = tmp_path / "m.idx"
    path.write_bytes(_mutate(_valid_idx(compress, tmp_path), edits))
    try:
        read_idx(path)
    except ValueError as e:
        assert str(path) in str(e)


# -------------------------------------------------- safetensors + metadata
@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.2, generator=np.random.default_rng(0)),
                          nn.Linear(4, 2))
    return glassnet.save(model, folder / "m.safetensors").read_bytes()


def _load_any(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for loader in (glassnet.load, load_checkpoint):
            try:
                loader(path)
            except (ModelFileError, ArchitectureError, ValueError):
                pass


@FUZZ
@given(edits=EDITS)
def test_model_reader_on_mutated_files(tmp_path, model_file, edits):
    path = tmp_path / "m.safetensors"
    path.write_bytes(_mutate(model_file, edits))
    _load_any(path)


@FUZZ
@given(st.binary(max_size=200))
def test_model_reader_on_random_bytes(tmp_path, data):
    path = tmp_path / "r.safetensors"
    path.write_bytes(data)
    _load_any(path)


JSON = st.recursive(st.none() | st.booleans() | st.integers(-10, 10**6) | st.floats(allow_nan=True)
                    | st.text(max_size=12) | st.sampled_from(["$function", "$class", "$config", "$module", "$array",
                                                              "$zeros", "$tuple", "$dtype", "$float", "$generator"]),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                        st.sampled_from(["$function", "$class", "$config", "$module", "$array", "$zeros", "$tuple",
                                         "$dict", "$dtype", "$float", "$generator", "dtype", "class", "args",
                                         "kwargs", "children", "format", "module"]) | st.text(max_size=6),
                        inner, max_size=4), max_leaves=20)


@FUZZ
@given(where=st.sampled_from(["arg", "kwarg", "child", "module", "class", "generators", "root"]), value=JSON)
def test_architecture_decoder_on_random_values(where, value):
    config = to_config(mlp("3-4-2", batch_norm=True, dropout=0.1))
    if where == "arg":
        config["module"]["args"][0] = value
    elif where == "kwarg":
        config["module"]["children"]["0"]["kwargs"]["bias"] = value
    elif where == "child":
        config["module"]["children"]["1"] = value
    elif where == "module":
        config["module"] = value
    elif where == "class":
        config["module"]["children"]["0"]["class"] = value
    elif where == "generators":
        config["generators"] = value
    else:
        config = value
    try:
        from_config(json.loads(json.dumps(config)))
    except ArchitectureError:
        pass


# ------------------------------------------------------------------ TOML
def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return str(v)


KEYS = ["epochs", "lr", "arch", "optimizer", "dataset", "schedule", "batch-size", "batch_norm", "limit", "threads",
        "dropout", "data-dir", "seed", "val", "augment", "momentum", "l2", "quiet", "out", "cost", "init", "unknown"]
VALUES = st.none().filter(lambda _: False) | st.booleans() | st.integers(-5, 10**9) | st.floats() | \
    st.text(max_size=10) | st.sampled_from(["auto", "sgd", "spiral", "784-10", "cosine", "/nonexistent", "3"]) | \
    st.lists(st.integers(0, 9), max_size=3)


@FUZZ
@given(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=6))
def test_toml_config_reader_on_random_values(tmp_path, options):
    from glassnet.cli.train import read_config
    path = tmp_path / "run.toml"
    path.write_text("".join(f"{k} = {_toml_value(v)}\n" for k, v in options.items()))
    try:
        read_config(path)
    except ValueError:
        pass


@FUZZ
@given(st.binary(max_size=200))
def test_toml_config_reader_on_random_bytes(tmp_path, data):
    from glassnet.cli.train import read_config
    path = tmp_path / "run.toml"
    path.write_bytes(data)
    try:
        read_config(path)
    except ValueError:
        pass


def test_a_gzip_member_of_a_valid_file_round_trips(tmp_path):
    data = _valid_idx(True, tmp_path)
    assert gzip.decompress(data)[:4] == bytes([0, 0, 8, 3])
