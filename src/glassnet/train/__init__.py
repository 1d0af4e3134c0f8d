"""Training: ``fit`` with a History, callbacks, penalties, evaluation and prediction."""

from .callbacks import (Callback, EarlyStopping, LRSchedule, MaxNorm, ModelCheckpoint, NaNGuard,
                        ReduceLROnPlateau)
from .fit import Trainer, correct_count, evaluate, fit, predict
from .history import History
from .penalties import L1, L2, LossTerm, Penalty

__all__ = ["Callback", "EarlyStopping", "History", "L1", "L2", "LRSchedule", "LossTerm", "MaxNorm", "ModelCheckpoint",
           "NaNGuard", "Penalty", "ReduceLROnPlateau", "Trainer", "correct_count", "evaluate", "fit", "predict"]
