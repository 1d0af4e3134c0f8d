"""Training: ``fit`` with a History, callbacks, evaluation and prediction."""

from .callbacks import Callback, EarlyStopping, MaxNorm, ModelCheckpoint, NaNGuard, ReduceLROnPlateau
from .fit import Trainer, correct_count, evaluate, fit, predict
from .history import History
