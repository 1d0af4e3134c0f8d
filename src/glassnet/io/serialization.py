"""Model files and training checkpoints: safetensors for arrays, JSON for the rest.

A glassnet file is one safetensors file: the arrays by name, and in the
header's ``__metadata__`` (string → string) a ``"glassnet"`` entry holding a
JSON document (its ``format`` says which kind: a model or a checkpoint). A
model file's arrays carry the state-dict names (``0.weight``, …), so PyTorch's
``safetensors.torch.load_file`` reads the weights as they are.

Files are written atomically: the bytes go to a temporary file in the same
folder, which is flushed, fsynced and renamed over the target with
``os.replace``; a crash or an error at any point leaves the previous file
intact (stale temp files of killed writers are removed by the next write,
see :mod:`glassnet.files`). Reading never unpickles: a file that is not
safetensors (a pickle, or ``torch.save``'s zip of pickles) is refused with
:class:`NotSafetensorsError`, after reading its first bytes only.

Every glassnet document records the SHA-256 of its tensors (names, dtypes,
shapes and bytes, ``tensors_sha256``), verified on load: a file changed after
it was written is refused with :class:`ModelFileError` naming it, as is damaged
or hostile metadata (not JSON, not an object, nested too deeply) and a tensor
of a dtype NumPy cannot hold (BF16, F8).
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np
from safetensors.numpy import load as _load_safetensors
from safetensors.numpy import save as _save_safetensors

from ..files import atomic_write_bytes
from ..nn.module import Module
from .architecture import from_config, to_config

MODEL_FORMAT = "glassnet.model/1"
MAX_HEADER_BYTES = 100_000_000  # as the safetensors library's own limit
# the tensor dtypes NumPy (and so glassnet) can hold
SUPPORTED_DTYPES = ("F64", "F32", "F16", "I64", "U64", "I32", "U32", "I16", "U16", "I8", "U8", "BOOL", "C64")


class ModelFileError(ValueError):
    """A glassnet model file or checkpoint is damaged, or holds what glassnet cannot read."""


class NotSafetensorsError(ModelFileError):
    """A file given to glassnet's loaders is not a safetensors file."""


def atomic_write_text(path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


# -------------------------------------------------------- safetensors bundle
def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, set)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def tensors_sha256(arrays: dict) -> str:
    """SHA-256 over the tensors in name order: each name, dtype, shape and C-order bytes."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.reshape(-1).view(np.uint8) if a.size else b"")
    return h.hexdigest()


def write_file(path, arrays: dict, document: dict) -> Path:
    """Atomically write ``arrays`` (name → ndarray) and the JSON ``document``
    (plus the tensors' checksum) as one safetensors file."""
    tensors = {name: np.require(a, requirements="C") for name, a in arrays.items()}  # keeps 0-d arrays 0-d
    document = dict(document, tensors_sha256=tensors_sha256(tensors))
    meta = {"glassnet": json.dumps(document, default=_json_default, allow_nan=True)}
    return atomic_write_bytes(path, _save_safetensors(tensors, metadata=meta))


def _describe_foreign(head: bytes) -> str:
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "a Python pickle"
    if head[:4] == b"PK\x03\x04":
        return "a zip archive (torch.save writes pickles inside a zip archive)"
    if head[:6] == b"\x93NUMPY":
        return "a NumPy .npy file"
    if head[:1] in (b"{", b"["):
        return "a JSON document"
    return f"bytes starting {head[:8]!r}"


def read_file(path) -> tuple[dict, dict]:
    """(arrays, document) of a safetensors file written by :func:`write_file`;
    ``document`` is ``{}`` for a plain safetensors file without glassnet metadata.

    Raises FileNotFoundError, or NotSafetensorsError for anything that is not
    safetensors (notably pickles, which are never loaded)."""
    path = Path(path)
    with open(path, "rb") as f:  # the header first: a large file that is not safetensors is never read whole
        size = os.fstat(f.fileno()).st_size
        head = f.read(16)
        header_len = int.from_bytes(head[:8], "little") if len(head) >= 8 else -1
        if not (0 < header_len <= min(size - 8, MAX_HEADER_BYTES) and head[8:9] == b"{"):
            raise NotSafetensorsError(
                f"{path} is not a safetensors file: expected an 8-byte little-endian header length followed by "
                f"a JSON header, found {_describe_foreign(head) if head else 'an empty file'}. "
                f"glassnet never unpickles files (loading a pickle can run arbitrary code); write models "
                f"with glassnet.save, or convert a PyTorch state dict with safetensors.torch.save_file.")
        f.seek(0)
        data = f.read()
    try:
        header = json.loads(data[8:8 + header_len])
    except (ValueError, RecursionError) as e:
        raise NotSafetensorsError(f"{path}: corrupt safetensors file (its header is not JSON: {e})") from None
    if not isinstance(header, dict):
        raise NotSafetensorsError(f"{path}: corrupt safetensors file (its header is a JSON "
                                  f"{type(header).__name__}, not an object)")
    for name, entry in header.items():
        dtype = entry.get("dtype") if isinstance(entry, dict) and name != "__metadata__" else None
        if isinstance(dtype, str) and dtype not in SUPPORTED_DTYPES:
            raise ModelFileError(
                f"{path}: tensor {name!r} has dtype {dtype}, which glassnet cannot read (NumPy has no such type; "
                f"supported: {', '.join(SUPPORTED_DTYPES)}). Convert it where it was made, e.g. in PyTorch "
                f"with tensor.float() before safetensors.torch.save_file.")
    try:
        arrays = _load_safetensors(data)
    except Exception as e:
        raise NotSafetensorsError(f"{path}: corrupt safetensors file ({e})") from None
    meta = header.get("__metadata__") or {}
    if "glassnet" not in meta:
        return arrays, {}
    try:
        document = json.loads(meta["glassnet"])
    except (TypeError, ValueError, RecursionError) as e:
        raise ModelFileError(f"{path}: its glassnet metadata is not valid JSON ({str(e)[:200]})") from None
    if not isinstance(document, dict) or not isinstance(document.get("format", ""), str):
        found = type(document).__name__ if not isinstance(document, dict) else \
            f"an object whose format is a {type(document['format']).__name__}"
        raise ModelFileError(f"{path}: its glassnet metadata must be a JSON object with a string 'format', "
                             f"found {found}")
    saved_sum = document.get("tensors_sha256")
    if saved_sum is not None and saved_sum != tensors_sha256(arrays):
        raise ModelFileError(f"{path}: the tensors do not match the checksum recorded when the file was written "
                             f"(the file was changed or damaged since): delete it, or write it again")
    return arrays, document


def load_state_dict(path) -> dict:
    """The arrays of any safetensors file (e.g. weights exported by PyTorch),
    for ``model.load_state_dict``."""
    return read_file(path)[0]


# --------------------------------------------------------------- the model
def load_weights_into(model: Module, arrays: dict, where: str = "") -> Module:
    """``model.load_state_dict(arrays)``, first casting the model to the saved
    floating dtype (a model saved in float64 comes back in float64)."""
    own = model.state_dict()
    cast = sorted(k for k, v in own.items() if k in arrays and v.dtype.kind == "f" and arrays[k].dtype.kind != "f")
    if cast:  # e.g. a valid file of int32 tensors: a model of integers could not train
        warnings.warn(f"{where}the saved {', '.join(repr(k) for k in cast[:3])}{' ...' if len(cast) > 3 else ''} "
                      f"{'is' if len(cast) == 1 else 'are'} {arrays[cast[0]].dtype}, not floating point: cast to "
                      f"the model's floating dtype", stacklevel=3)
    saved = {arrays[k].dtype for k, v in own.items() if k in arrays and v.dtype.kind == "f" and arrays[k].dtype.kind == "f"}
    if len(saved) == 1:
        (dtype,) = saved
        if any(v.dtype != dtype for v in own.values() if v.dtype.kind == "f"):
            model.to(dtype)
    try:
        model.load_state_dict(arrays)
    except (KeyError, ValueError) as e:
        raise ValueError(f"{where}the saved weights do not fit the rebuilt model: {e}") from e
    return model


def save(model: Module, path, **metadata) -> Path:
    """Save ``model`` (architecture + weights) to ``path`` (``.safetensors``),
    atomically. ``metadata``: any JSON-able values (e.g. ``input_shape``,
    ``classes``, test accuracy), returned by :func:`load_metadata`."""
    document = {"format": MODEL_FORMAT, "architecture": to_config(model), "metadata": metadata}
    return write_file(path, model.state_dict(), document)


def _model_document(path, arrays_document) -> tuple[dict, dict]:
    arrays, document = arrays_document
    if document.get("format") != MODEL_FORMAT:
        if document.get("format", "").startswith("glassnet.checkpoint"):
            return {k[len("model/"):]: v for k, v in arrays.items() if k.startswith("model/")}, document
        raise ValueError(
            f"{path} holds tensors only, no glassnet architecture (format {document.get('format')!r}): build "
            f"the model in code and call model.load_state_dict(glassnet.io.load_state_dict(path))")
    return arrays, document


def load(path) -> Module:
    """Rebuild the model saved by :func:`save` (or the model of a training
    checkpoint) with its weights, in evaluation mode."""
    arrays, document = _model_document(path, read_file(path))
    if not isinstance(document.get("architecture"), dict):
        raise ModelFileError(f"{path}: the file's glassnet metadata has no architecture")
    model = from_config(document["architecture"])
    return load_weights_into(model, arrays, f"{path}: ").eval()


def load_metadata(path) -> dict:
    """The ``metadata`` given to :func:`save` (for a checkpoint: its ``metadata``)."""
    return _model_document(path, read_file(path))[1].get("metadata", {})
