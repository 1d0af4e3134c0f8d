"""Model files and training checkpoints: safetensors for arrays, JSON for the rest.

A glassnet file is one safetensors file: the arrays by name, and in the
header's ``__metadata__`` (string → string) a ``"glassnet"`` entry holding a
JSON document (its ``format`` says which kind: a model or a checkpoint). A
model file's arrays carry the state-dict names (``0.weight``, …), so PyTorch's
``safetensors.torch.load_file`` reads the weights as they are.

Files are written atomically: the bytes go to a temporary file in the same
folder, which is flushed, fsynced and renamed over the target with
``os.replace``; a crash or an error at any point leaves the previous file
intact. Reading never unpickles: a file that is not safetensors (a pickle, or
``torch.save``'s zip of pickles) is refused with :class:`NotSafetensorsError`.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import numpy as np
from safetensors.numpy import load as _load_safetensors
from safetensors.numpy import save as _save_safetensors

from ..nn.module import Module
from .architecture import from_config, to_config

MODEL_FORMAT = "glassnet.model/1"


class NotSafetensorsError(ValueError):
    """A file given to glassnet's loaders is not a safetensors file."""


# ------------------------------------------------------------ atomic writes
def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the OS allows opening a directory)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same folder,
    flush + fsync, ``os.replace``). On any error the temp file is removed and
    an existing ``path`` is left untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


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


def write_file(path, arrays: dict, document: dict) -> Path:
    """Atomically write ``arrays`` (name → ndarray) and the JSON ``document``
    as one safetensors file."""
    tensors = {name: np.require(a, requirements="C") for name, a in arrays.items()}  # keeps 0-d arrays 0-d
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
    data = path.read_bytes()
    header_len = int.from_bytes(data[:8], "little") if len(data) >= 8 else -1
    if not (0 < header_len <= len(data) - 8 and data[8:9] == b"{"):
        raise NotSafetensorsError(
            f"{path} is not a safetensors file: expected an 8-byte little-endian header length followed by "
            f"a JSON header, found {_describe_foreign(data[:16]) if data else 'an empty file'}. "
            f"glassnet never unpickles files (loading a pickle can run arbitrary code); write models "
            f"with glassnet.save, or convert a PyTorch state dict with safetensors.torch.save_file.")
    try:
        header = json.loads(data[8:8 + header_len])
        arrays = _load_safetensors(data)
    except Exception as e:
        raise NotSafetensorsError(f"{path}: corrupt safetensors file ({e})") from e
    meta = header.get("__metadata__") or {}
    document = json.loads(meta["glassnet"]) if "glassnet" in meta else {}
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
    saved = {arrays[k].dtype for k, v in own.items() if k in arrays and v.dtype.kind == "f"}
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
    model = from_config(document["architecture"])
    return load_weights_into(model, arrays, f"{path}: ").eval()


def load_metadata(path) -> dict:
    """The ``metadata`` given to :func:`save` (for a checkpoint: its ``metadata``)."""
    return _model_document(path, read_file(path))[1].get("metadata", {})
