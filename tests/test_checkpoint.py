"""Model files, architecture JSON, training checkpoints: atomic, pickle-free, bit-exact resume."""

import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import glassnet
from glassnet import nn, optim
from glassnet import functional as F
from glassnet.data import DataLoader, make_spiral
from glassnet.io import ArchitectureError, NotSafetensorsError, from_config, load_checkpoint, to_config
from glassnet.models.mlp import mlp
from glassnet.train import Callback, ModelCheckpoint, fit
from tests.helpers.resume_runs import Jitter, run_parts


def _assert_same_state(a, b):
    a, b = a.state_dict(), b.state_dict()
    assert list(a) == list(b)
    for key in a:
        assert a[key].dtype == b[key].dtype, key
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def _batch(rng, *shape):
    return glassnet.Tensor(rng.standard_normal(shape).astype(np.float32))


# ------------------------------------------------------------ architecture
def test_save_load_rebuilds_every_kind_of_layer(tmp_path, rng):
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout2d(0.1),
        nn.Flatten(), nn.Linear(4 * 14 * 14, 16), nn.LeakyReLU(0.2), nn.PReLU(), nn.Dropout(0.3),
        nn.Linear(16, 10))
    model.train()
    model(_batch(rng, 8, 1, 28, 28))  # running statistics move away from their initial values
    path = glassnet.save(model, tmp_path / "model.safetensors", input_shape=[1, 1, 28, 28], note="hello")
    loaded = glassnet.load(path)
    assert repr(loaded) == repr(model) and not loaded.training
    _assert_same_state(loaded, model)
    x = _batch(rng, 3, 1, 28, 28)
    np.testing.assert_array_equal(loaded(x).data, model.eval()(x).data)
    assert glassnet.io.load_metadata(path) == {"input_shape": [1, 1, 28, 28], "note": "hello"}


def test_builders_from_other_modules_round_trip(tmp_path, rng):
    from glassnet.models.resnet import resnet_small
    model = resnet_small(widths=(4, 8), blocks_per_stage=1)
    glassnet.save(model, tmp_path / "resnet.safetensors")
    loaded = glassnet.load(tmp_path / "resnet.safetensors")
    x = _batch(rng, 2, 1, 12, 12)
    np.testing.assert_array_equal(loaded(x).data, model.eval()(x).data)


def test_float64_models_come_back_in_float64(tmp_path, rng):
    model = mlp("5-7-3", batch_norm=True).double()
    loaded = glassnet.load(glassnet.save(model, tmp_path / "m.safetensors"))
    _assert_same_state(loaded, model)
    assert loaded[0].weight.dtype == np.float64


def test_a_replaced_child_keeps_its_place_and_survives_the_round_trip(rng):
    model = mlp("4-8-8-3")
    model[0] = nn.Linear(4, 8, bias=False)  # fine-tuning style surgery after construction
    model[1] = nn.Tanh()
    assert [type(m).__name__ for m in model] == ["Linear", "Tanh", "Linear", "ReLU", "Linear"]
    config = json.loads(json.dumps(to_config(model)))  # pure JSON
    rebuilt = from_config(config)
    rebuilt.load_state_dict(model.state_dict())
    assert repr(rebuilt) == repr(model)
    x = _batch(rng, 5, 4)
    np.testing.assert_array_equal(rebuilt(x).data, model(x).data)


def test_loading_leaves_the_global_generator_alone(tmp_path):
    path = glassnet.save(mlp("20-30-5"), tmp_path / "m.safetensors")
    state = glassnet.random.get_state()
    glassnet.load(path)
    assert glassnet.random.get_state() == state


def test_a_generator_passed_to_a_layer_continues_its_stream(tmp_path):
    g = np.random.default_rng(7)
    model = nn.Sequential(nn.Linear(3, 3, generator=g), nn.Dropout(0.5, generator=g))
    g.random(5)  # advance past construction
    loaded = glassnet.load(glassnet.save(model, tmp_path / "m.safetensors"))
    assert loaded[1].generator is not g and loaded[0].get_config()["kwargs"]["generator"] is loaded[1].generator
    assert loaded[1].generator.random() == g.random()


@nn.register_module
class Gated(nn.Module):
    """A user module: arguments of every supported kind."""

    def __init__(self, body, width, act=F.tanh, kind=nn.ReLU, shape=(2, 3), table=None):
        super().__init__()
        self.body, self.act, self.head = body, act, kind()
        self.gate = nn.Linear(width, width)
        self.shape, self.table = shape, table

    def forward(self, x):
        return self.head(self.act(self.body(x)) * self.gate(x))


class Unregistered(nn.Module):
    def forward(self, x):
        return x


def test_registered_user_modules_round_trip_and_others_are_refused(tmp_path, rng):
    model = Gated(nn.Linear(4, 4), 4, act=F.sigmoid, kind=nn.Tanh, shape=(5, 1), table={"a": [1, 2]})
    loaded = glassnet.load(glassnet.save(model, tmp_path / "g.safetensors"))
    assert (loaded.act, type(loaded.head), loaded.shape, loaded.table) == (F.sigmoid, nn.Tanh, (5, 1), {"a": [1, 2]})
    x = _batch(rng, 2, 4)
    np.testing.assert_array_equal(loaded(x).data, model(x).data)
    with pytest.raises(ArchitectureError, match="Unregistered is not registered.*@glassnet.nn.register_module"):
        glassnet.save(nn.Sequential(Unregistered()), tmp_path / "u.safetensors")
    assert not (tmp_path / "u.safetensors").exists()


def test_a_config_cannot_name_arbitrary_code():
    config = to_config(nn.Sequential(nn.Identity()))
    config["module"]["class"] = "os.system"
    with pytest.raises(ArchitectureError, match="unknown module class 'os.system'"):
        from_config(config)
    config = to_config(Gated(nn.Identity(), 2))
    config["module"]["kwargs"]["act"] = {"$function": "os:system"}
    with pytest.raises(ArchitectureError, match="'os:system' is not a registered function"):
        from_config(config)


# ------------------------------------------------------------ no pickle, ever
def test_a_pickle_disguised_as_a_model_is_refused(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(pickle.dumps({"weight": np.zeros(3)}))
    with pytest.raises(NotSafetensorsError, match="found a Python pickle. glassnet never unpickles"):
        glassnet.load(path)
    with pytest.raises(NotSafetensorsError, match="expected an 8-byte little-endian header length"):
        load_checkpoint(path)


def test_torch_save_output_is_refused(tmp_path, torch):
    path = tmp_path / "model.safetensors"
    torch.save({"weight": torch.zeros(3)}, path)
    with pytest.raises(NotSafetensorsError, match="zip archive"):
        glassnet.load(path)


def test_pytorch_reads_the_weights_and_tensor_only_files_are_explained(tmp_path, torch):
    from safetensors.torch import load_file, save_file
    model = mlp("6-5-3")
    path = glassnet.save(model, tmp_path / "m.safetensors")
    tensors = load_file(path)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(tensors[key].numpy(), value)
    save_file({k: torch.from_numpy(v.copy()) for k, v in model.state_dict().items()}, tmp_path / "plain.safetensors")
    with pytest.raises(ValueError, match="holds tensors only"):
        glassnet.load(tmp_path / "plain.safetensors")
    fresh = mlp("6-5-3")
    fresh.load_state_dict(glassnet.io.load_state_dict(tmp_path / "plain.safetensors"))
    _assert_same_state(fresh, model)


# ------------------------------------------------------------ atomic writes
@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch, failing):
    path = glassnet.save(mlp("3-4-2"), tmp_path / "model.safetensors")
    before = path.read_bytes()

    def crash(*args):
        raise OSError(f"simulated crash in {failing}")

    monkeypatch.setattr(os, failing, crash)
    with pytest.raises(OSError, match="simulated crash"):
        glassnet.save(mlp("3-9-2"), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.safetensors"]
    assert glassnet.load(path)[0].out_features == 4


# ------------------------------------------------------------ bit-exact resume
# (the run's parts live in tests/helpers/resume_runs.py, which a fresh process imports too)
class InterruptAt(Callback):
    def __init__(self, epoch, batch):
        self.at = (epoch, batch)

    def on_batch_end(self, trainer, logs):
        if (trainer.epoch, trainer.batch) == self.at:
            raise KeyboardInterrupt


def _uninterrupted(epochs):
    model, training, val = run_parts()
    net = model()
    opt, sched, loader = training(net, 5)
    history = fit(net, loader, nn.CrossEntropyLoss(), opt, epochs, validation_data=val, scheduler=sched,
                  verbose=False)
    return net, opt, history


@pytest.mark.parametrize("stop", [(1, 0), (1, 3)], ids=["epoch-boundary", "mid-epoch"])
def test_resuming_gives_bit_identical_weights(tmp_path, stop):
    reference, reference_opt, reference_history = _uninterrupted(2)

    model, training, val = run_parts()
    net = model()
    opt, sched, loader = training(net, 5)
    callbacks = [ModelCheckpoint(tmp_path, monitor="val_loss")]
    epochs = 2
    if stop == (1, 0):
        epochs = 1  # run one epoch; the checkpoint is written at its end
    else:
        callbacks.append(InterruptAt(*stop))
    fit(net, loader, nn.CrossEntropyLoss(), opt, epochs, validation_data=val, scheduler=sched,
        callbacks=callbacks, verbose=False)

    # a "fresh process": everything rebuilt, every generator in some other state
    checkpoint = load_checkpoint(tmp_path / "checkpoint.safetensors")
    assert (checkpoint.state["epoch"], checkpoint.state["batch"]) == stop
    glassnet.seed(12345)
    resumed = checkpoint.build_model()
    resumed[6].generator = np.random.default_rng(0)  # stands in for a different construction
    opt2, sched2, loader2 = training(resumed, 999)
    history = fit(resumed, loader2, nn.CrossEntropyLoss(), opt2, 2, validation_data=val, scheduler=sched2,
                  callbacks=[ModelCheckpoint(tmp_path, monitor="val_loss")], resume=checkpoint, verbose=False)

    _assert_same_state(resumed, reference)
    for key, value in reference_opt.state_dict()["state"].items():
        np.testing.assert_array_equal(opt2.state_dict()["state"][key], value, err_msg=key)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        assert history[key] == reference_history[key], key
    assert not history.interrupted and history.stop_reason is None


def test_resuming_in_a_new_process_gives_bit_identical_weights(tmp_path):
    reference, _, _ = _uninterrupted(2)
    model, training, val = run_parts()
    net = model()
    opt, sched, loader = training(net, 5)
    fit(net, loader, nn.CrossEntropyLoss(), opt, 2, validation_data=val, scheduler=sched, verbose=False,
        callbacks=[ModelCheckpoint(tmp_path, save_best=False), InterruptAt(1, 2)])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run([sys.executable, "-m", "tests.helpers.resume_runs", str(tmp_path / "checkpoint.safetensors"),
                    str(tmp_path / "final.safetensors")], cwd=root, check=True, timeout=120)
    _assert_same_state(glassnet.load(tmp_path / "final.safetensors"), reference.eval())


def test_checkpoint_holds_optimizer_scheduler_and_rng_state(tmp_path):
    model, training, val = run_parts()
    net = model()
    opt, sched, loader = training(net, 5)
    fit(net, loader, nn.CrossEntropyLoss(), opt, 1, scheduler=sched, verbose=False,
        callbacks=[ModelCheckpoint(tmp_path, monitor="accuracy")])
    checkpoint = load_checkpoint(tmp_path / "checkpoint.safetensors")
    assert checkpoint.optimizer["class"] == "glassnet.optim.adam.Adam"
    assert checkpoint.optimizer["groups"][0]["lr"] == pytest.approx(0.007)
    assert set(opt.state_dict()["state"]) == set(checkpoint.optimizer["state"])
    assert checkpoint.scheduler["state"]["last_epoch"] == 1
    assert set(checkpoint.state["rng"]) == {"global", "model.6.generator", "transform.rng"}
    assert checkpoint.state["loader"]["generator"] == loader.generator.bit_generator.state
    with pytest.raises(ValueError, match="is a glassnet.optim.adam.Adam, cannot restore it into"):
        checkpoint.restore(checkpoint.build_model(), optim.SGD(net.parameters(), lr=0.1))


@nn.register_module
class NoisyPair(nn.Module):
    """Adds noise from two generators kept in a list: it declares them with own_generators()."""

    def __init__(self, seeds=(21, 22)):
        super().__init__()
        self.generators = [np.random.default_rng(s) for s in seeds]

    def own_generators(self):
        return {f"generators.{i}": g for i, g in enumerate(self.generators)}

    def forward(self, x):
        if not self.training:
            return x
        noise = sum(0.05 * g.standard_normal(x.shape) for g in self.generators)
        return x + glassnet.Tensor(noise.astype(x.dtype))


def test_generators_held_in_lists_are_saved_and_resume_bit_for_bit(tmp_path):
    """Regression: generators were found by walking attributes, and one in a list (a
    Compose of transforms, a module's list) was silently missed: the resumed run differed."""
    from glassnet.data import Compose
    data = make_spiral(40, 3, generator=np.random.default_rng(3))

    def run(epochs, callbacks=(), resume=None, seed=5):
        if resume is None:
            glassnet.seed(11)
            net = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), NoisyPair(), nn.Linear(16, 3))
        else:
            net = resume.build_model()
            net[2].generators = [np.random.default_rng(seed), np.random.default_rng(seed + 1)]
        loader = DataLoader(data, batch_size=16, shuffle=True, generator=np.random.default_rng(seed),
                            transform=Compose([Jitter(seed), Jitter(seed + 1)]))
        fit(net, loader, nn.CrossEntropyLoss(), optim.SGD(net.parameters(), lr=0.1, momentum=0.9), epochs,
            callbacks=callbacks, resume=resume, verbose=False)
        return net

    reference = run(2)
    run(2, [ModelCheckpoint(tmp_path, monitor="loss"), InterruptAt(1, 3)])
    checkpoint = load_checkpoint(tmp_path / "checkpoint.safetensors")
    assert set(checkpoint.state["rng"]) == {"global", "model.2.generators.0", "model.2.generators.1",
                                            "transform.0.rng", "transform.1.rng"}
    glassnet.seed(4321)
    _assert_same_state(run(2, resume=checkpoint, seed=77), reference)


def test_a_generator_no_rng_state_declares_is_reported():
    class Undeclared:
        def __init__(self):
            self.rngs = [np.random.default_rng(0)]

        def __call__(self, x):
            return x + self.rngs[0].standard_normal(x.shape).astype(x.dtype)

    class Hidden(nn.Module):
        def __init__(self):
            super().__init__()
            self.noise = {"a": np.random.default_rng(1)}

        def forward(self, x):
            return x

    data = make_spiral(10, 3, generator=np.random.default_rng(3))
    net = nn.Sequential(nn.Linear(2, 3), Hidden())
    loader = DataLoader(data, batch_size=10, transform=Undeclared())
    with pytest.warns(UserWarning, match=r"model\.1\.noise\['a'\], transform\.rngs\[0\] hold numpy Generators"):
        fit(net, loader, nn.CrossEntropyLoss(), optim.SGD(net.parameters(), lr=0.1), 1, verbose=False)


def test_a_wrapper_hiding_a_random_transform_is_reported():
    """A transform that wraps a RandomShift without declaring its state (as a shift-then-standardize
    helper might) would resume with a fresh shift stream: fit says so."""
    from glassnet.data import RandomShift

    class ShiftThenScale:
        def __init__(self):
            self.shift = RandomShift(1, generator=np.random.default_rng(0))

        def __call__(self, x):
            return self.shift(x) * 2

    x = np.random.default_rng(1).standard_normal((12, 16)).astype(np.float32)
    net = nn.Sequential(nn.Linear(16, 2))
    loader = DataLoader((x, np.arange(12) % 2), batch_size=6, transform=ShiftThenScale())
    with pytest.warns(UserWarning, match=r"transform\.shift hold numpy Generators"):
        fit(net, loader, nn.CrossEntropyLoss(), optim.SGD(net.parameters(), lr=0.1), 1, verbose=False)


@nn.register_module
class Tripwire(nn.Module):
    """The identity, except that its ``armed``-th training forward raises
    KeyboardInterrupt: a Ctrl-C in the middle of a batch, after dropout drew its mask."""

    armed, calls = None, 0

    def forward(self, x):
        if self.training and Tripwire.armed is not None:
            Tripwire.calls += 1
            if Tripwire.calls == Tripwire.armed:
                Tripwire.armed = None
                raise KeyboardInterrupt
        return x


def test_an_interrupt_inside_a_batch_resumes_from_the_start_of_that_batch(tmp_path):
    data = make_spiral(40, 3, generator=np.random.default_rng(3))  # 120 examples: 8 batches of 16

    def run(epochs, callbacks=(), resume=None, loader_seed=5):
        if resume is None:
            glassnet.seed(11)
            net = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.3), Tripwire(), nn.Linear(16, 3))
        else:
            net = resume.build_model()
        loader = DataLoader(data, batch_size=16, shuffle=True, generator=np.random.default_rng(loader_seed))
        history = fit(net, loader, nn.CrossEntropyLoss(), optim.SGD(net.parameters(), lr=0.1, momentum=0.9),
                      epochs, callbacks=callbacks, resume=resume, verbose=False)
        return net, history

    reference, _ = run(2)
    Tripwire.armed, Tripwire.calls = 8 + 3, 0  # during the 3rd batch of the 2nd epoch
    _, history = run(2, [ModelCheckpoint(tmp_path, monitor="loss")])
    assert history.interrupted and history.stop_reason == "interrupted at epoch 2, batch 2"
    checkpoint = load_checkpoint(tmp_path / "checkpoint.safetensors")
    assert (checkpoint.state["epoch"], checkpoint.state["batch"]) == (1, 2)
    glassnet.seed(4321)
    resumed, _ = run(2, resume=checkpoint, loader_seed=77)
    _assert_same_state(resumed, reference)


def test_large_constructor_arrays_are_not_kept_alive_and_still_round_trip(tmp_path, rng):
    table = rng.standard_normal((500, 20))  # e.g. pretrained word vectors
    model = nn.Sequential(nn.Embedding(500, 20, _weight=table), nn.Flatten(), nn.Linear(60, 2))
    kept = model[0].get_config()["kwargs"]["_weight"]  # zeros of the shape, holding no memory
    assert kept.shape == (500, 20) and kept.dtype == np.float64 and not kept.any() and kept.strides == (0, 0)
    assert to_config(model)["module"]["children"]["0"]["kwargs"]["_weight"] == {"$zeros": [500, 20],
                                                                                  "dtype": "float64"}
    loaded = glassnet.load(glassnet.save(model, tmp_path / "e.safetensors"))
    _assert_same_state(loaded, model)
    ids = rng.integers(0, 500, (4, 3))
    np.testing.assert_array_equal(loaded(ids).data, model(ids).data)


@nn.register_module
class Scaled(nn.Module):
    """Built from a factor, described by its reciprocal: get_config() is the contract io uses."""

    def __init__(self, factor=None, divisor=None):
        super().__init__()
        self.factor = factor if divisor is None else 1.0 / divisor

    def get_config(self):
        return {"args": (), "kwargs": {"divisor": 1.0 / self.factor}}

    def forward(self, x):
        return x * self.factor


def test_a_modules_get_config_is_what_io_writes_and_rebuilds(tmp_path):
    model = nn.Sequential(nn.Linear(2, 2), Scaled(4.0))
    config = to_config(model)
    assert config["module"]["children"]["1"]["kwargs"] == {"divisor": 0.25}
    assert from_config(config)[1].factor == 4.0
    assert nn.Linear.from_config(nn.Linear(3, 2, bias=False).get_config()).bias is None
