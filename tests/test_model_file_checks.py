"""Damaged, hostile or unusual model files get one clear glassnet error naming the file (issue 11)."""

import json
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
from safetensors.numpy import save as save_safetensors

import glassnet
from glassnet import nn, optim
from glassnet.files import temp_path
from glassnet.io import ModelFileError, NotSafetensorsError, load_checkpoint
from glassnet.io.serialization import read_file, write_file
from glassnet.models.mlp import mlp


def _glassnet_file(path, document, arrays=None):
    arrays = arrays if arrays is not None else {"w": np.zeros(2, np.float32)}
    path.write_bytes(save_safetensors(arrays, metadata={"glassnet": document}))
    return path


def test_integer_weights_are_cast_to_the_models_float_dtype_with_a_warning(tmp_path):
    path = glassnet.save(mlp("4-3-2", batch_norm=False), tmp_path / "m.safetensors")
    arrays, document = read_file(path)
    as_ints = {k: np.round(v * 10).astype(np.int32) for k, v in arrays.items()}
    write_file(path, as_ints, document)  # a valid file whose tensors are int32
    with pytest.warns(UserWarning, match=r"'0.bias'.* are int32, not floating point: cast"):
        model = glassnet.load(path)
    assert all(p.dtype == np.float32 for p in model.parameters())
    np.testing.assert_array_equal(model[0].weight.data, as_ints["0.weight"].astype(np.float32))
    opt = optim.SGD(model.parameters(), lr=0.1)
    model.train()
    model(glassnet.Tensor(np.ones((2, 4), np.float32))).sum().backward()
    opt.step()  # used to fail with UFuncTypeError


@pytest.mark.parametrize("document,found", [
    ("[1, 2]", "found list"), ('"a string"', "found str"), ("42", "found int"),
    ('{"format": 7}', "format is a int"), ('{"format": ["glassnet.model/1"]}', "format is a list"),
])
def test_metadata_that_is_json_but_not_an_object_with_a_string_format_is_refused(tmp_path, document, found):
    path = _glassnet_file(tmp_path / "m.safetensors", document)
    for loader in (glassnet.load, load_checkpoint, glassnet.io.load_metadata):
        with pytest.raises(ModelFileError, match=rf"{path}: its glassnet metadata must be a JSON object.*{found}"):
            loader(path)


@pytest.mark.parametrize("document", ["[" * 100_000 + "]" * 100_000, "{not json", '{"format": "glassnet.model/1"'])
def test_metadata_that_is_not_json_or_nested_too_deeply_is_refused(tmp_path, document):
    path = _glassnet_file(tmp_path / "m.safetensors", document)
    with pytest.raises(ModelFileError, match=rf"{path}: its glassnet metadata is not valid JSON"):
        glassnet.load(path)


@pytest.mark.parametrize("depth", [900, 5000])
def test_a_deeply_nested_architecture_is_refused(tmp_path, depth):
    config = glassnet.io.to_config(nn.Identity())
    config["module"]["args"] = ["NESTED"]
    document = json.dumps({"format": "glassnet.model/1", "architecture": config})
    document = document.replace('"NESTED"', "[" * depth + "1" + "]" * depth)
    with pytest.raises((ModelFileError, glassnet.io.ArchitectureError), match="nested too deeply|not valid JSON"):
        glassnet.load(_glassnet_file(tmp_path / "m.safetensors", document, {}))


def test_a_model_document_without_an_architecture_is_refused(tmp_path):
    path = _glassnet_file(tmp_path / "m.safetensors", '{"format": "glassnet.model/1"}')
    with pytest.raises(ModelFileError, match="has no architecture"):
        glassnet.load(path)


def test_a_checkpoint_with_damaged_metadata_is_refused(tmp_path):
    path = _glassnet_file(tmp_path / "c.safetensors", '{"format": "glassnet.checkpoint/1", "state": 3}',
                          {"model/w": np.zeros(2, np.float32)})
    with pytest.raises(ModelFileError, match="damaged checkpoint metadata: architecture, state"):
        load_checkpoint(path)
    path = _glassnet_file(tmp_path / "d.safetensors", '{"format": "glassnet.checkpoint/1"}',
                          {"evil/w": np.zeros(2, np.float32)})
    with pytest.raises(ModelFileError, match="unexpected tensor 'evil/w'"):
        load_checkpoint(path)


def test_a_bf16_tensor_is_called_unsupported_not_corrupt(tmp_path, torch):
    from safetensors.torch import save_file
    path = tmp_path / "bf16.safetensors"
    save_file({"weight": torch.zeros(3, dtype=torch.bfloat16)}, path)
    with pytest.raises(ModelFileError, match=r"tensor 'weight' has dtype BF16, which glassnet cannot read") as e:
        glassnet.io.load_state_dict(path)
    assert "corrupt" not in str(e.value)


def test_a_large_file_that_is_not_safetensors_is_refused_from_its_first_bytes(tmp_path):
    path = tmp_path / "big.safetensors"
    with open(path, "wb") as f:  # sparse: 64 MiB of zeros after a pickle's first bytes
        f.write(b"\x80\x04\x95")
        f.truncate(64 << 20)
    tracemalloc.start()
    try:
        with pytest.raises(NotSafetensorsError, match="a Python pickle"):
            glassnet.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, f"read {peak} bytes to refuse it"


def test_tensor_bytes_changed_after_writing_are_detected(tmp_path):
    path = glassnet.save(mlp("4-3-2", batch_norm=False), tmp_path / "m.safetensors")
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x10  # one bit of the last weight
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=rf"{path}: the tensors do not match the checksum"):
        glassnet.load(path)


def test_stale_temp_files_of_killed_writes_are_removed_by_the_next_write(tmp_path):
    target = tmp_path / "m.safetensors"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    live = temp_path(target)  # this process: maybe writing right now, kept
    stale = live.with_name(live.name.replace(f".{live.name.split('.')[-3]}.", f".{dead}."))
    other_host = tmp_path / f".m.safetensors.elsewhere.{dead}.0000abcd.tmp"  # a shared disk: not ours to judge
    download = tmp_path / f".m.safetensors.{live.name.split('.')[-4]}.{dead}.00000000.part"
    for p in (live, stale, other_host, download):
        p.write_bytes(b"half a file")
    glassnet.save(mlp("4-3-2"), target)
    assert not stale.exists()
    assert live.exists() and other_host.exists() and download.exists()
    glassnet.load(target)
