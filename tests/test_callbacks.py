"""Callbacks: early stopping, plateau schedules, checkpoints, the NaN guard, Ctrl-C."""

import os
import signal

import numpy as np
import pytest

import glassnet
from glassnet import functional as F
from glassnet import nn, optim
from glassnet.data import make_spiral
from glassnet.data.transforms import one_hot
from glassnet.io import load_checkpoint
from glassnet.models.mlp import mlp
from glassnet.train import Callback, EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, fit


@pytest.fixture
def spiral():
    return (make_spiral(60, 3, generator=np.random.default_rng(1)),
            make_spiral(60, 3, generator=np.random.default_rng(2)))


def _weights(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


class Recorder(Callback):
    """The weights after each epoch."""

    def __init__(self):
        self.weights = []

    def on_epoch_end(self, trainer, logs):
        self.weights.append(_weights(trainer.model))


class Saboteur(Callback):
    """From epoch ``start`` on, blow the output layer up so the validation loss worsens."""

    def __init__(self, start):
        self.start = start

    def on_epoch_end(self, trainer, logs):
        if len(trainer.history) >= self.start:
            trainer.model[-1].weight.data *= 30


def test_early_stopping_stops_after_patience_and_restores_the_best_weights(spiral):
    (x, y), (xv, yv) = spiral
    model = mlp("2-32-3")
    recorder, stopper = Recorder(), EarlyStopping("val_loss", patience=2, restore_best_weights=True)
    history = fit(model, (x, y), nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), 30,
                  validation_data=(xv, yv), callbacks=[recorder, stopper, Saboteur(start=3)], verbose=False)
    best_epoch, _ = history.best("val_loss")
    assert best_epoch <= 3 < len(history)
    assert len(history) == best_epoch + 2  # two epochs without improvement, then stop
    assert history.stop_reason.startswith("early stopping: no improvement in val_loss for 2 epochs")
    _assert_same(_weights(model), recorder.weights[best_epoch - 1])


def test_early_stopping_names_a_missing_monitor(spiral):
    (x, y), _ = spiral
    model = mlp("2-8-3")
    with pytest.raises(KeyError, match="monitors 'val_accuracy', which this run does not record"):
        fit(model, (x, y), nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), 2,
            callbacks=[EarlyStopping()], verbose=False)


def test_reduce_on_plateau_halves_and_the_books_schedule_stops_at_a_fraction(spiral):
    (x, y), (xv, yv) = spiral
    model = mlp("2-8-3")
    opt = optim.SGD(model.parameters(), lr=1e-6)  # too small to change the validation accuracy
    halving = ReduceLROnPlateau("val_accuracy", factor=0.5, patience=2, min_delta=0.01, stop_below=1 / 8)
    history = fit(model, (x, y), nn.CrossEntropyLoss(), opt, 20, validation_data=(xv, yv),
                  callbacks=[halving], verbose=False)
    # epoch 1 sets the best; every 2nd epoch without improvement halves η; η/8 stops training
    assert history.lr == [1e-6, 1e-6, 1e-6, 5e-7, 5e-7, 2.5e-7, 2.5e-7]
    assert "learning rate fell to 1.25e-07" in history.stop_reason
    assert opt.param_groups[0]["lr"] == 1.25e-7


def test_model_checkpoint_writes_best_and_last(tmp_path, spiral):
    (x, y), (xv, yv) = spiral
    model = mlp("2-32-3")
    history = fit(model, (x, y), nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), 6,
                  validation_data=(xv, yv), callbacks=[ModelCheckpoint(tmp_path, monitor="val_loss")],
                  verbose=False)
    best_epoch, best_loss = history.best("val_loss")
    meta = glassnet.io.load_metadata(tmp_path / "best.safetensors")
    assert meta == {"epoch": best_epoch, "val_loss": best_loss}
    best = glassnet.load(tmp_path / "best.safetensors")
    assert glassnet.train.evaluate(best, (xv, yv), nn.CrossEntropyLoss())["loss"] == pytest.approx(best_loss, rel=1e-6)
    checkpoint = load_checkpoint(tmp_path / "checkpoint.safetensors")
    assert (checkpoint.state["epoch"], checkpoint.state["batch"]) == (6, 0)
    assert checkpoint.state["history"]["history"]["val_loss"] == history.val_loss
    _assert_same(checkpoint.model_state, model.state_dict())
    assert sorted(os.listdir(tmp_path)) == ["best.safetensors", "checkpoint.safetensors"]  # no temp files


def _quadratic(out, target):
    """Quadratic cost on a linear network: its gradient grows with the weights, so a
    large learning rate diverges geometrically until float32 overflows."""
    return F.quadratic_cost(out, one_hot(target.data, 3))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_guard_diagnoses_a_too_high_learning_rate_and_keeps_the_last_good_weights(spiral):
    (x, y), _ = spiral
    model = mlp("2-16-3", activation="identity")
    recorder = Recorder()
    opt = optim.SGD(model.parameters(), lr=0.5)  # fine for epoch 1; the schedule makes it 10 for epoch 2
    history = fit(model, (x, y), _quadratic, opt, 5, batch_size=10, callbacks=[recorder], seed=0, verbose=False,
                  scheduler=optim.lr_scheduler.StepLR(opt, step_size=1, gamma=20))
    assert len(history) == 1
    assert history.stop_reason.startswith("loss became infinite at epoch 2, batch ")
    assert history.stop_reason.endswith(": learning rate 10 is probably too high; "
                                        "kept the last good weights, from the end of epoch 1")
    _assert_same(_weights(model), recorder.weights[0])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_guard_blames_the_data_when_the_inputs_hold_nan(spiral):
    (x, y), _ = spiral
    x = x.copy()
    x[7, 0] = np.nan
    model = mlp("2-16-3")
    start = _weights(model)
    history = fit(model, (x, y), nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.01), 3, batch_size=10,
                  shuffle=False, verbose=False)
    assert history.stop_reason == ("loss became NaN at epoch 1, batch 1: the input batch itself contains NaN or "
                                   "infinite values: check the data and its preprocessing; kept the last good "
                                   "weights, from the start of training")
    _assert_same(_weights(model), start)


class InterruptAt(Callback):
    """Simulate Ctrl-C after a given batch of a given epoch: raise KeyboardInterrupt,
    or send SIGINT to this process (the real thing)."""

    def __init__(self, epoch, batch, how="raise"):
        self.epoch, self.batch, self.how = epoch, batch, how

    def on_batch_end(self, trainer, logs):
        if (trainer.epoch, trainer.batch) == (self.epoch, self.batch):
            if self.how == "raise":
                raise KeyboardInterrupt
            os.kill(os.getpid(), signal.SIGINT)


@pytest.fixture(params=["default", "ignored"])
def sigint_before(request):
    """SIGINT's handler before fit: Python's default, or SIG_IGN as in a background job
    started by a shell (regression: the test assumed the default one and failed there)."""
    saved = signal.getsignal(signal.SIGINT)
    if request.param == "ignored":
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    yield signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, saved)


@pytest.mark.parametrize("how", ["raise", "signal"])
def test_ctrl_c_stops_cleanly_and_leaves_a_resumable_checkpoint(tmp_path, spiral, how, capsys, sigint_before):
    (x, y), (xv, yv) = spiral
    model = mlp("2-16-3")
    history = fit(model, (x, y), nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), 4,
                  validation_data=(xv, yv), batch_size=10, seed=0, callbacks=[
                      ModelCheckpoint(tmp_path), InterruptAt(epoch=1, batch=5, how=how)])
    assert history.interrupted and len(history) == 1
    assert history.stop_reason == "interrupted at epoch 2, batch 5"
    checkpoint = load_checkpoint(tmp_path / "checkpoint.safetensors")
    assert (checkpoint.state["epoch"], checkpoint.state["batch"]) == (1, 5)
    _assert_same(checkpoint.model_state, model.state_dict())
    assert "resumable checkpoint written to" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is sigint_before  # the handler is put back


def test_max_norm_rescales_only_the_rows_longer_than_the_limit():
    from glassnet.train import MaxNorm
    glassnet.seed(0)
    model = nn.Sequential(nn.Linear(3, 2))
    x = np.random.default_rng(0).normal(size=(32, 3)).astype(np.float32) * 50
    y = np.arange(32) % 2
    fit(model, (x, y), nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=1.0), epochs=2,
        callbacks=[MaxNorm("0.weight", 0.5)], verbose=False)
    norms = np.linalg.norm(model[0].weight.data, axis=1)
    assert np.all(norms <= 0.5 + 1e-6) and np.any(norms > 0.49)
