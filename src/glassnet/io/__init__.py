"""Saving and loading without pickle: ``glassnet.save(model, path)``, ``glassnet.load(path)``,
training checkpoints, and the architecture JSON that rebuilds any registered Module."""

from .architecture import ArchitectureError, from_config, to_config
from .checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from .serialization import (ModelFileError, NotSafetensorsError, atomic_write_bytes, atomic_write_text, load, load_metadata,
                            load_state_dict, save)

__all__ = [
    "ArchitectureError", "Checkpoint", "ModelFileError", "NotSafetensorsError", "atomic_write_bytes", "atomic_write_text",
    "from_config", "load", "load_checkpoint", "load_metadata", "load_state_dict", "save", "save_checkpoint",
    "to_config",
]
