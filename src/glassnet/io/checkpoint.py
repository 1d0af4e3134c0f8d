"""Training checkpoints: everything needed to resume a run bit for bit.

One safetensors file (see :mod:`glassnet.io.serialization`), written atomically:

- arrays ``model/<state-dict name>``, ``optimizer/<group>.<index>.<name>``
  (momentum buffers, moments) and ``extra/<name>`` (e.g. early stopping's best
  weights);
- JSON: the model's architecture, the optimizer's class and hyper-parameters
  per group, the scheduler's state, and ``state`` — whatever the training
  loop needs (epoch and batch position, History, generator states, callbacks).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..nn.module import Module
from .architecture import from_config, to_config
from .serialization import ModelFileError, load_weights_into, read_file, write_file

CHECKPOINT_FORMAT = "glassnet.checkpoint/1"


def _class_name(obj) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


@dataclass
class Checkpoint:
    """A loaded training checkpoint (see :func:`load_checkpoint`)."""

    path: str
    architecture: dict
    model_state: dict
    optimizer: dict | None  # {"class", "groups", "state": {name: array}}
    scheduler: dict | None  # {"class", "state"}
    state: dict
    arrays: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)

    def build_model(self) -> Module:
        """A fresh model rebuilt from the architecture, with the saved weights."""
        return load_weights_into(from_config(self.architecture), self.model_state, f"{self.path}: ")

    def restore(self, model: Module, optimizer=None, scheduler=None) -> None:
        """Load the saved weights, optimizer state and scheduler state into
        existing objects (of the same classes as when saved)."""
        load_weights_into(model, self.model_state, f"{self.path}: ")
        for obj, saved, what in ((optimizer, self.optimizer, "optimizer"), (scheduler, self.scheduler, "scheduler")):
            if obj is None:
                continue
            if saved is None:
                raise ValueError(f"{self.path}: the checkpoint has no {what} state")
            if saved["class"] != _class_name(obj):
                raise ValueError(f"{self.path}: the checkpoint's {what} is a {saved['class']}, "
                                 f"cannot restore it into a {_class_name(obj)}")
        if optimizer is not None:
            optimizer.load_state_dict({"groups": self.optimizer["groups"], "state": self.optimizer["state"]})
        if scheduler is not None:
            scheduler.load_state_dict(self.scheduler["state"])


def save_checkpoint(path, model: Module, optimizer=None, scheduler=None, state: dict | None = None,
                    arrays: dict | None = None, metadata: dict | None = None):
    """Atomically write a training checkpoint to ``path``.

    ``state``: JSON-able training-loop state; ``arrays``: extra named arrays;
    ``metadata``: JSON-able description of the run (e.g. its options)."""
    tensors = {f"model/{k}": v for k, v in model.state_dict().items()}
    document = {"format": CHECKPOINT_FORMAT, "architecture": to_config(model),
                "state": state or {}, "metadata": metadata or {}, "optimizer": None, "scheduler": None}
    if optimizer is not None:
        saved = optimizer.state_dict()
        document["optimizer"] = {"class": _class_name(optimizer), "groups": saved["groups"]}
        tensors.update({f"optimizer/{k}": v for k, v in saved["state"].items()})
    if scheduler is not None:
        document["scheduler"] = {"class": _class_name(scheduler), "state": scheduler.state_dict()}
    tensors.update({f"extra/{k}": v for k, v in (arrays or {}).items()})
    return write_file(path, tensors, document)


def load_checkpoint(path) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint` (never unpickles)."""
    arrays, document = read_file(path)
    if document.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a glassnet training checkpoint (format {document.get('format')!r}, "
                         f"expected {CHECKPOINT_FORMAT!r}); a model file is loaded with glassnet.load")
    groups = {"model": {}, "optimizer": {}, "extra": {}}
    for name, value in arrays.items():
        kind, _, key = name.partition("/")
        if kind not in groups:
            raise ModelFileError(f"{path}: unexpected tensor {name!r} in a checkpoint (expected model/, "
                                 f"optimizer/ or extra/ names)")
        groups[kind][key] = value
    expected = {"architecture": dict, "state": dict, "metadata": dict, "optimizer": (dict, type(None)),
                "scheduler": (dict, type(None))}
    wrong = [key for key, kind in expected.items() if not isinstance(document.get(key, 0), kind)]
    if wrong:
        raise ModelFileError(f"{path}: damaged checkpoint metadata: {', '.join(wrong)} missing or of the wrong type")
    optimizer = document["optimizer"]
    if optimizer is not None:
        optimizer = dict(optimizer, state=groups["optimizer"])
    return Checkpoint(str(path), document["architecture"], groups["model"], optimizer, document["scheduler"],
                      document["state"], groups["extra"], document["metadata"])
