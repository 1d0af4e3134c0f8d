"""Training keeps a consistent state: a second Ctrl-C, exploding weights (issue 11, bugs 2 and 3)."""

import os
import signal

import numpy as np
import pytest

import glassnet
from glassnet import nn, optim
from glassnet.data import make_spiral
from glassnet.io import load_checkpoint
from glassnet.models.mlp import mlp
from glassnet.train import ModelCheckpoint, fit

DATA = make_spiral(40, 3, generator=np.random.default_rng(3))  # 120 examples: 8 batches of 16


class SGDInterruptedTwice(optim.SGD):
    """SGD that receives Ctrl-C twice right after its ``at``-th update (the second one aborts at once)."""

    at = None

    def step(self):
        super().step()
        self.steps = getattr(self, "steps", 0) + 1
        if self.steps == type(self).at:
            os.kill(os.getpid(), signal.SIGINT)  # stop after this batch ...
            os.kill(os.getpid(), signal.SIGINT)  # ... no: abort now, between the update and its bookkeeping


def _train(epochs, callbacks=(), resume=None, batch_norm=True, verbose=False):
    if resume is None:
        glassnet.seed(11)
        model = mlp("2-16-3", batch_norm=batch_norm, dropout=0.2)
    else:
        model = resume.build_model()
    opt = SGDInterruptedTwice(model.parameters(), lr=0.1, momentum=0.9)
    history = fit(model, DATA, nn.CrossEntropyLoss(), opt, epochs, batch_size=16, seed=5, callbacks=callbacks,
                  resume=resume, verbose=verbose)
    return model, history


def _same(a, b):
    a, b = a.state_dict(), b.state_dict()
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_a_second_ctrl_c_after_an_update_never_writes_an_inconsistent_checkpoint(tmp_path, capsys):
    reference, _ = _train(3)
    SGDInterruptedTwice.at = 8 + 2  # the 2nd update of the 2nd epoch
    try:
        _, history = _train(3, [ModelCheckpoint(tmp_path, monitor="loss")], verbose=True)
    finally:
        SGDInterruptedTwice.at = None
    assert history.interrupted
    assert "no checkpoint written" in capsys.readouterr().err
    checkpoint = load_checkpoint(tmp_path / "checkpoint.safetensors")  # the one of the end of epoch 1
    assert (checkpoint.state["epoch"], checkpoint.state["batch"]) == (1, 0)
    resumed, _ = _train(3, resume=checkpoint)
    _same(resumed, reference)


@nn.register_module
class InterruptDuringForward(nn.Module):
    """Raises KeyboardInterrupt in the forward pass of the ``at``-th training batch (after batch norm ran)."""

    at, calls = None, 0

    def forward(self, x):
        if self.training:
            type(self).calls += 1
            if type(self).calls == type(self).at:
                raise KeyboardInterrupt
        return x


def test_an_abort_in_a_forward_pass_puts_batch_norm_statistics_back_and_resumes_bit_identically(tmp_path):
    def run(epochs, callbacks=(), resume=None):
        if resume is None:
            glassnet.seed(11)
            model = nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), InterruptDuringForward(), nn.ReLU(),
                                  nn.Linear(16, 3))
        else:
            model = resume.build_model()
        fit(model, DATA, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), epochs, batch_size=16,
            seed=5, callbacks=callbacks, resume=resume, verbose=False)
        return model

    reference = run(2)
    InterruptDuringForward.at, InterruptDuringForward.calls = 8 + 3, 0
    try:
        interrupted = run(2, [ModelCheckpoint(tmp_path, monitor="loss")])
    finally:
        InterruptDuringForward.at = None
    checkpoint = load_checkpoint(tmp_path / "checkpoint.safetensors")
    assert (checkpoint.state["epoch"], checkpoint.state["batch"]) == (1, 2)
    for key, value in checkpoint.model_state.items():  # running statistics as after batch 2, not batch 3's
        np.testing.assert_array_equal(value, interrupted.state_dict()[key], err_msg=key)
    _same(run(2, resume=checkpoint), reference)


def test_exploding_weights_are_never_kept_or_saved_as_good(tmp_path):
    x, y = DATA
    model = mlp("2-16-3", batch_norm=False, dropout=0)
    start = {k: v.copy() for k, v in model.state_dict().items()}
    history = fit(model, (x, y), nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=1e300), epochs=3,
                  batch_size=len(x), callbacks=[ModelCheckpoint(tmp_path, monitor="loss")], verbose=False)
    assert "weights became NaN or infinite" in history.stop_reason
    assert "kept the last good weights, from the start of training" in history.stop_reason
    for key, value in model.state_dict().items():
        assert np.isfinite(value).all(), key
        np.testing.assert_array_equal(value, start[key])
    for name in ("best.safetensors", "checkpoint.safetensors"):
        if (tmp_path / name).exists():
            for key, value in load_checkpoint(tmp_path / name).model_state.items() if name.startswith("check") \
                    else glassnet.load(tmp_path / name).state_dict().items():
                assert np.isfinite(value).all(), (name, key)


def test_a_checkpoint_of_non_finite_weights_is_not_written(tmp_path, capsys):
    x, y = DATA
    model = mlp("2-8-3", batch_norm=False, dropout=0)
    fit(model, (x, y), nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), 1, batch_size=40,
        callbacks=[ModelCheckpoint(tmp_path, monitor="loss")], verbose=False)
    before = (tmp_path / "checkpoint.safetensors").read_bytes()
    model[0].weight.data[0, 0] = np.inf  # without the NaN guard, nothing else stops it
    history = fit(model, (x, y), nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.0), 1, batch_size=40,
                  callbacks=[ModelCheckpoint(tmp_path, monitor="loss")], nan_guard=False, verbose=True)
    assert len(history) == 1
    assert "'0.weight' is NaN or infinite: no checkpoint written" in capsys.readouterr().err
    assert (tmp_path / "checkpoint.safetensors").read_bytes() == before


def test_training_refuses_to_start_from_non_finite_weights():
    model = mlp("2-8-3", batch_norm=False)
    model[-1].bias.data[1] = np.nan
    with pytest.raises(ValueError, match=r"'2.bias' holds NaN or infinite values before training"):
        fit(model, DATA, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), 1, verbose=False)


@pytest.fixture
def one_blas_thread(monkeypatch):
    """fit runs its work with one BLAS thread (as if set_num_threads(1) had been called), whatever
    the machine's load, so the recorded count is known."""
    monkeypatch.setenv("GLASSNET_NUM_THREADS", "1")


def _checkpoint_of_one_epoch(tmp_path):
    glassnet.seed(0)
    model = mlp("2-8-3", batch_norm=False, dropout=0)
    fit(model, DATA, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), 1, batch_size=16, seed=1,
        callbacks=[ModelCheckpoint(tmp_path, monitor="loss")], verbose=False)
    checkpoint = load_checkpoint(tmp_path / "checkpoint.safetensors")
    run = checkpoint.state["run"]
    assert (run["batch_size"], run["examples"], len(run["data_sha256"])) == (16, 120, 64)
    assert run["blas_threads"] == 1  # what fit ran with (one_blas_thread)
    return checkpoint


def _resume(checkpoint, data=DATA, batch_size=16):
    model = checkpoint.build_model()
    return fit(model, data, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), 2, batch_size=batch_size,
               seed=1, resume=checkpoint, verbose=False)


def test_resuming_with_another_batch_size_is_refused(tmp_path, one_blas_thread):
    checkpoint = _checkpoint_of_one_epoch(tmp_path)
    with pytest.raises(ValueError, match="was trained with batch size 16, this run has 32"):
        _resume(checkpoint, batch_size=32)


def test_resuming_on_other_training_data_is_refused(tmp_path, one_blas_thread):
    checkpoint = _checkpoint_of_one_epoch(tmp_path)
    x, y = DATA
    other = (x[::-1].copy(), y[::-1].copy())  # same size, other order: another data set for the position
    with pytest.raises(ValueError, match="the training data differs from the run saved in"):
        _resume(checkpoint, data=other)
    with pytest.raises(ValueError, match="120 examples .* then, 60 "):
        _resume(checkpoint, data=(x[:60], y[:60]))
    assert len(_resume(checkpoint)) == 2  # the same data resumes


def test_resuming_at_another_blas_thread_count_says_it_is_not_bit_for_bit(tmp_path, one_blas_thread):
    checkpoint = _checkpoint_of_one_epoch(tmp_path)
    checkpoint.state["run"]["blas_threads"] += 1
    with pytest.warns(UserWarning, match="BLAS threads, this run has .* not bit for bit"):
        _resume(checkpoint)
