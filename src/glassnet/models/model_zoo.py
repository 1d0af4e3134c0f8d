"""The model zoo: small trained networks shipped with glassnet.

``glassnet.models.pretrained("resnet14-fashion")`` returns the trained model;
``glassnet zoo list`` shows what there is. Each entry of ``zoo/index.json``
names its safetensors file (weights, architecture and the preprocessing
contract, see :mod:`glassnet.data.preprocessing`), the file's sha256 (checked
on every load: a damaged or substituted file is refused), the ``glassnet
train`` options it was trained with and its measured test accuracy.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

ZOO_DIR = Path(__file__).resolve().parent / "zoo"
INDEX = ZOO_DIR / "index.json"


class ZooError(ValueError):
    """An unknown zoo name, or a zoo file that fails its checksum."""


def zoo_index() -> dict:
    """``{name: entry}`` from ``zoo/index.json`` (an entry: file, sha256, model,
    dataset, classes, test_accuracy, options, about)."""
    if not INDEX.is_file():
        return {}
    return json.loads(INDEX.read_text())


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pretrained_path(name: str) -> Path:
    """The checked file of the zoo model ``name``: its sha256 must equal the index's."""
    index = zoo_index()
    if name not in index:
        raise ZooError(f"no zoo model {name!r}; the zoo has: {', '.join(index) or 'nothing'}")
    entry = index[name]
    path = ZOO_DIR / entry["file"]
    if not path.is_file():
        raise ZooError(f"zoo model {name!r}: its file {path} is missing; reinstall glassnet")
    actual = sha256_of(path)
    if actual != entry["sha256"]:
        raise ZooError(f"zoo model {name!r}: {path} fails its checksum (sha256 {actual[:16]}…, expected "
                       f"{entry['sha256'][:16]}…); the file is damaged or was replaced: reinstall glassnet")
    return path


def pretrained(name: str):
    """The trained model ``name`` from the zoo (in eval mode), after checking its sha256."""
    from ..io import load
    return load(pretrained_path(name)).eval()


def resolve_model_file(name_or_path) -> Path:
    """A zoo name (checked) or a path to a model file."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    if str(name_or_path) in zoo_index():
        return pretrained_path(str(name_or_path))
    raise ZooError(f"{name_or_path}: neither a model file nor a zoo model (the zoo has: "
                   f"{', '.join(zoo_index()) or 'nothing'})")
