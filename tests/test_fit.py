"""fit(), History, evaluation and the mlp builder."""

import math

import numpy as np
import pytest

import glassnet
from glassnet import nn, optim
from glassnet.data import DataLoader, make_spiral
from glassnet.models.mlp import mlp
from glassnet.train import History, correct_count, evaluate, fit, predict


@pytest.fixture
def spiral():
    train = make_spiral(100, 3, generator=np.random.default_rng(1))
    test = make_spiral(100, 3, generator=np.random.default_rng(2))
    return train, test


def test_fit_learns_the_spiral(spiral):
    (x, y), (xt, yt) = spiral
    model = mlp("2-64-64-3")
    history = fit(model, (x, y), nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), 40,
                  validation_data=(xt, yt), batch_size=32, seed=1, verbose=False)
    assert len(history) == 40 and history.stop_reason is None
    assert set(history.keys()) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"}
    assert history.val_accuracy[-1] > 0.95, history
    assert history.loss[-1] < history.loss[0] / 5
    # the recorded validation numbers are what evaluate() measures on the final model
    result = evaluate(model, (xt, yt), nn.CrossEntropyLoss())
    assert result["accuracy"] == history.val_accuracy[-1]
    assert math.isclose(result["loss"], history.val_loss[-1], rel_tol=1e-6)


def test_arrays_and_an_equivalent_loader_train_identically(spiral):
    (x, y), _ = spiral
    weights = []
    for data in ((x, y), DataLoader((x, y), batch_size=20, shuffle=True, generator=np.random.default_rng(5))):
        glassnet.seed(3)
        model = mlp("2-16-3", dropout=0.1)
        kwargs = {"seed": 5, "batch_size": 20} if isinstance(data, tuple) else {}
        fit(model, data, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), 2, verbose=False, **kwargs)
        weights.append(model.state_dict())
    for key in weights[0]:
        np.testing.assert_array_equal(weights[0][key], weights[1][key], err_msg=key)


def test_history_json_round_trip(tmp_path, spiral):
    (x, y), (xt, yt) = spiral
    model = mlp("2-8-3")
    history = fit(model, (x, y), nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), 3,
                  validation_data=(xt, yt), verbose=False)
    again = History.from_json(history.to_json())
    assert again == history and again.loss == history.loss and again["val_accuracy"] == history["val_accuracy"]
    history.save(tmp_path / "history.json")
    assert History.load(tmp_path / "history.json") == history
    assert history.epochs == [1, 2, 3]
    epoch, value = history.best("val_loss")
    assert value == min(history.val_loss) and history.val_loss[epoch - 1] == value
    assert history.best("val_accuracy")[1] == max(history.val_accuracy)
    with pytest.raises(AttributeError, match="records: loss"):
        history.f1_score


def test_history_append_needs_the_same_keys():
    h = History()
    h.append(loss=1.0, accuracy=0.5)
    with pytest.raises(KeyError, match="records"):
        h.append(loss=0.9)


def _one_sgd_step(model, x, y, lr, **regularization):
    fit(model, (x, y), nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=lr), 1, batch_size=len(x),
        shuffle=False, verbose=False, nan_guard=False, **regularization)


@pytest.mark.parametrize("kind", ["l2", "l1"])
def test_regularization_follows_the_books_lambda_over_n(kind, rng):
    """One full-batch SGD step: w ← w − η(∂C₀/∂w + (λ/n)·w) for L2, (λ/n)·sign(w) for L1;
    biases are not regularized."""
    x, y = rng.standard_normal((50, 4)).astype(np.float64), rng.integers(0, 3, 50)
    lam, lr = 3.0, 0.5
    plain, regularized = (nn.Sequential(nn.Linear(4, 3, dtype=np.float64)) for _ in range(2))
    regularized.load_state_dict(plain.state_dict())
    w0 = plain[0].weight.data.copy()
    _one_sgd_step(plain, x, y, lr)
    _one_sgd_step(regularized, x, y, lr, **{kind: lam})
    term = w0 if kind == "l2" else np.sign(w0)
    np.testing.assert_allclose(regularized[0].weight.data, plain[0].weight.data - lr * lam / 50 * term, rtol=1e-12)
    np.testing.assert_array_equal(regularized[0].bias.data, plain[0].bias.data)


def test_penalty_callable_equals_the_l2_option(rng):
    x, y = rng.standard_normal((40, 4)), rng.integers(0, 3, 40)
    lam, n = 2.0, 40
    a, b = (nn.Sequential(nn.Linear(4, 6, dtype=np.float64), nn.Tanh(), nn.Linear(6, 3, dtype=np.float64))
            for _ in range(2))
    b.load_state_dict(a.state_dict())

    def l2_penalty(model):
        return sum(((m.weight * m.weight).sum() for m in (model[0], model[2])), glassnet.tensor(0.0)) * (lam / (2 * n))

    for model, kw in ((a, {"l2": lam}), (b, {"penalty": l2_penalty})):
        fit(model, (x, y), nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.3), 3, batch_size=10,
            seed=0, verbose=False, **kw)
    for key, value in a.state_dict().items():
        np.testing.assert_allclose(b.state_dict()[key], value, rtol=1e-10, err_msg=key)


def test_evaluation_uses_eval_mode_and_no_graph_and_restores_modes(spiral):
    (x, y), _ = spiral
    model = mlp("2-16-3", dropout=0.5, batch_norm=True)
    model[3].eval()  # a mixed state must come back as it was
    before = model[1].running_mean.copy()
    out1, out2 = predict(model, x), predict(model, x)
    np.testing.assert_array_equal(out1, out2)  # dropout off, running statistics used and not updated
    np.testing.assert_array_equal(model[1].running_mean, before)
    assert model.training and not model[3].training
    assert all(p.grad is None for p in model.parameters())
    result = evaluate(model, (x, y), nn.CrossEntropyLoss())
    assert result["accuracy"] == correct_count(out1, y) / len(y)


def test_correct_count_forms():
    scores = np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 0.0], [0.0, 0.0, 5.0]])
    assert correct_count(scores, np.array([1, 0, 1])) == 2
    assert correct_count(scores, np.eye(3)[[1, 2, 2]]) == 2  # one-hot targets
    assert correct_count(np.array([[2.0], [-1.0], [0.5]]), np.array([1, 0, 0])) == 2  # one logit column


def test_summary_lines_and_quiet(spiral, capsys):
    (x, y), (xt, yt) = spiral
    model = mlp("2-8-3")
    fit(model, (x, y), nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), 2,
        validation_data=(xt, yt), verbose=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("epoch 2/2: loss ") and "val_accuracy" in lines[1]
    fit(model, (x, y), nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), 2, verbose=False)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_scheduler_steps_once_per_epoch_and_lr_is_recorded(spiral):
    (x, y), _ = spiral
    model = mlp("2-8-3")
    opt = optim.SGD(model.parameters(), lr=0.4)
    history = fit(model, (x, y), nn.CrossEntropyLoss(), opt, 4,
                  scheduler=optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5), verbose=False)
    assert history.lr == [0.4, 0.2, 0.1, 0.05]


def test_per_batch_scheduler_steps_after_every_optimizer_step(spiral):
    (x, y), _ = spiral  # 300 examples, batch 32: 10 steps per epoch
    model = mlp("2-8-3")
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, epochs=3, steps_per_epoch=10)
    reference_opt = optim.SGD(mlp("2-8-3").parameters(), lr=0.1, momentum=0.9)
    reference = optim.lr_scheduler.OneCycleLR(reference_opt, max_lr=0.5, epochs=3, steps_per_epoch=10)
    lrs = []
    for _ in range(30):
        reference.step()
        lrs.append(reference.get_last_lr()[0])
    history = fit(model, (x, y), nn.CrossEntropyLoss(), opt, 3, scheduler=scheduler, verbose=False)
    assert scheduler.last_epoch == 30
    assert opt.param_groups[0]["lr"] == lrs[-1]
    assert history.lr == [lrs[9], lrs[19], lrs[29]]  # the rate at the end of each epoch


def test_plateau_scheduler_gets_the_validation_metric(spiral):
    (x, y), (xt, yt) = spiral
    model = mlp("2-8-3")
    opt = optim.SGD(model.parameters(), lr=1e-6)  # nothing improves
    scheduler = optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=0, threshold=0.01,
                                                     threshold_mode="abs")
    history = fit(model, (x, y), nn.CrossEntropyLoss(), opt, 3, validation_data=(xt, yt), scheduler=scheduler,
                  verbose=False)
    assert scheduler.best == history.val_accuracy[0]
    assert history.lr == [1e-6, 1e-6, 5e-7]  # epoch 1 sets the best; epoch 2 fails to beat it


def test_fit_rejects_bad_arguments(spiral):
    (x, y), _ = spiral
    model = mlp("2-8-3")
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="DataLoader or an"):
        fit(model, x, nn.CrossEntropyLoss(), opt, 1)
    with pytest.raises(ValueError, match="l1 and l2"):
        fit(model, (x, y), nn.CrossEntropyLoss(), opt, 1, l2=-1)
    with pytest.raises(TypeError, match="Callback instances"):
        fit(model, (x, y), nn.CrossEntropyLoss(), opt, 1, callbacks=[print])


# ------------------------------------------------------------------ the mlp builder
def test_mlp_layers_for_each_option():
    m = mlp("784-100-50-10", activation="tanh", dropout=0.3, batch_norm=True, input_dropout=0.2)
    kinds = [type(layer).__name__ for layer in m]
    assert kinds == ["Dropout", "Linear", "BatchNorm1d", "Tanh", "Dropout",
                     "Linear", "BatchNorm1d", "Tanh", "Dropout", "Linear"]
    assert m[1].bias is None and m[9].bias is not None  # batch norm's β replaces the hidden biases
    assert (m[0].p, m[4].p) == (0.2, 0.3)
    assert [type(layer).__name__ for layer in mlp([2, 3])] == ["Linear"]
    assert mlp("2-5-3").num_parameters() == 2 * 5 + 5 + 5 * 3 + 3


def test_mlp_he_init_has_the_he_variance():
    glassnet.seed(0)
    m = mlp("1000-500-10", init="he_normal")
    w = m[0].weight.data
    assert abs(w.std() - math.sqrt(2 / 1000)) < 0.02 * math.sqrt(2 / 1000)
    assert not m[0].bias.data.any()
    glassnet.seed(0)
    book = mlp("1000-500-10", activation="sigmoid", init="book")
    assert abs(book[0].weight.data.std() - math.sqrt(1 / 1000)) < 0.02 * math.sqrt(1 / 1000)


def test_mlp_rejects_bad_specs():
    with pytest.raises(ValueError, match="784-100-10"):
        mlp("784-x-10")
    with pytest.raises(ValueError, match="at least"):
        mlp([784])
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        mlp("2-3", activation="swish")
