"""History: what ``fit`` measured, epoch by epoch."""

from __future__ import annotations

import json
import math

from ..io.serialization import atomic_write_text


class History:
    """Per-epoch lists of the same length, one entry per completed epoch.

    Keys recorded by ``fit``: ``loss`` and ``accuracy`` (training, averaged over
    the epoch's mini-batches as they were trained), ``val_loss`` and
    ``val_accuracy`` (on the validation data after the epoch, in evaluation
    mode; only with validation data), ``lr`` (the learning rate of parameter
    group 0 during the epoch) and ``time`` (seconds). ``history["loss"]`` or
    ``history.loss`` gives a list. ``stop_reason`` says why training ended
    early (early stopping, a NaN, an interrupt); ``interrupted`` is True after
    Ctrl-C.
    """

    def __init__(self, history: dict | None = None, stop_reason: str | None = None, interrupted: bool = False):
        self.history: dict[str, list] = {k: list(v) for k, v in (history or {}).items()}
        self.stop_reason = stop_reason
        self.interrupted = interrupted

    def append(self, **values) -> None:
        """Record one epoch: a value for every key this history holds."""
        if self.history and set(values) != set(self.history):
            raise KeyError(f"History.append: got keys {sorted(values)}, this history records {sorted(self.history)}")
        for key, value in values.items():
            self.history.setdefault(key, []).append(value)

    def __len__(self) -> int:
        return len(next(iter(self.history.values()), []))

    @property
    def epochs(self) -> list[int]:
        """1, 2, …, len(self)."""
        return list(range(1, len(self) + 1))

    def __getitem__(self, key: str) -> list:
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def __getattr__(self, key: str) -> list:
        history = self.__dict__.get("history", {})
        if key in history:
            return history[key]
        raise AttributeError(f"History has no {key!r} (it records: {', '.join(history) or 'nothing yet'})")

    def keys(self):
        return self.history.keys()

    def best(self, key: str, mode: str = "auto") -> tuple[int, float]:
        """(1-based epoch, value) of the best ``key``: largest for accuracies
        (``mode="auto"``) or ``"max"``, smallest otherwise. NaNs are skipped."""
        mode = _resolve_mode(key, mode)
        values = [(v, i) for i, v in enumerate(self[key], 1) if v is not None and not math.isnan(v)]
        if not values:
            raise ValueError(f"History.best: no finite values of {key!r}")
        value, epoch = (max if mode == "max" else min)(values, key=lambda t: t[0])
        return epoch, value

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict:
        return {"history": self.history, "stop_reason": self.stop_reason, "interrupted": self.interrupted}

    @classmethod
    def from_dict(cls, data: dict) -> "History":
        return cls(data.get("history", {}), data.get("stop_reason"), data.get("interrupted", False))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_json(cls, text: str) -> "History":
        return cls.from_dict(json.loads(text))

    def save(self, path) -> None:
        """Write ``history.json`` atomically."""
        atomic_write_text(path, self.to_json() + "\n")

    @classmethod
    def load(cls, path) -> "History":
        with open(path, encoding="utf-8") as f:
            return cls.from_json(f.read())

    def __eq__(self, other) -> bool:
        return isinstance(other, History) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items()
                         if v and isinstance(v[-1], (int, float)))
        return f"History({len(self)} epochs{': ' + last if last else ''})"


def _resolve_mode(key: str, mode: str) -> str:
    """"max" for accuracies, "min" for losses, when ``mode`` is "auto"."""
    if mode == "auto":
        return "max" if "acc" in key else "min"
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    return mode
