"""Modules: Linear/Sequential against gradcheck and PyTorch, the Module API
(parameters, modes, freezing, dtypes), state_dict errors, repr and summary."""

import numpy as np
import pytest

import glassnet as gn
from glassnet import Tensor, nn

TOL = 1e-6


def mlp(dtype=None):
    return nn.Sequential(nn.Linear(4, 8, dtype=dtype), nn.BatchNorm1d(8, dtype=dtype), nn.Tanh(),
                         nn.Dropout(0.5), nn.Linear(8, 3, dtype=dtype))


# --------------------------------------------------------------- gradients
def test_module_stack_gradcheck(rng):
    model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 5), nn.PReLU(5), nn.Linear(5, 2),
                          nn.LogSoftmax(dim=1)).double()
    x = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    report = gn.gradcheck(lambda x, *params: model(x), [x, *model.parameters()])
    assert report.max_rel_error < TOL, str(report)


def test_flatten_linear_on_images_gradcheck(rng):
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 2)).double()
    x = Tensor(rng.standard_normal((2, 3, 2, 2)), requires_grad=True)
    report = gn.gradcheck(lambda x, w, b: model(x), [x, *model.parameters()])
    assert report.max_rel_error < TOL, str(report)


def test_linear_matches_torch(torch, rng, assert_close, compare_with_torch):
    ours = nn.Linear(5, 3)
    theirs = torch.nn.Linear(5, 3)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weight.data))
        theirs.bias.copy_(torch.from_numpy(ours.bias.data))
    x = rng.standard_normal((7, 5)).astype(np.float32)
    compare_with_torch(torch, ours, theirs, [x], what="Linear")
    assert_close(ours.weight.grad, theirs.weight.grad, what="weight gradient")
    assert_close(ours.bias.grad, theirs.bias.grad, what="bias gradient")
    compare_with_torch(torch, ours, theirs, [rng.standard_normal((2, 4, 5)).astype(np.float32)], what="Linear 3-D")


def test_linear_init_range_and_dtype():
    layer = nn.Linear(100, 20)
    assert layer.weight.shape == (20, 100) and layer.bias.shape == (20,)
    assert layer.weight.dtype == np.float32
    assert np.abs(layer.weight.data).max() <= 0.1 and layer.weight.data.std() > 0.05  # U(−0.1, 0.1): std 0.058
    assert nn.Linear(3, 2, bias=False).bias is None
    assert len(list(nn.Linear(3, 2, bias=False).parameters())) == 1


def test_linear_wrong_input_names_both_shapes():
    with pytest.raises(ValueError, match=r"Linear\(in_features=784, out_features=30.*\(N, 784\).*\(10, 785\)"):
        nn.Linear(784, 30)(Tensor(np.zeros((10, 785), dtype=np.float32)))


# ------------------------------------------------------------ Module API
def test_parameters_children_and_names():
    model = mlp()
    names = [n for n, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.weight", "1.bias", "4.weight", "4.bias"]
    assert len(list(model.children())) == 5
    assert model.num_parameters() == 4 * 8 + 8 + 8 + 8 + 8 * 3 + 3
    assert [n for n, _ in model.named_buffers()] == ["1.running_mean", "1.running_var", "1.num_batches_tracked"]
    assert model.get_submodule("1") is model[1]


def test_shared_parameter_counted_once():
    layer = nn.Linear(3, 3)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    assert len(list(model.parameters())) == 2 and model.num_parameters() == 12


def test_train_eval_propagate_and_change_behaviour(rng):
    model = mlp()
    x = Tensor(rng.standard_normal((16, 4)).astype(np.float32))
    model.eval()
    assert all(not m.training for m in model.modules())
    np.testing.assert_array_equal(model(x).data, model(x).data)  # deterministic in evaluation
    model.train()
    assert all(m.training for m in model.modules())
    assert not np.array_equal(model(x).data, model(x).data)  # dropout draws new masks


def test_zero_grad_and_freezing(rng):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    model[0].requires_grad_(False)
    x = Tensor(rng.standard_normal((5, 3)).astype(np.float32))
    model(x).sum().backward()
    assert model[0].weight.grad is None and model[2].weight.grad is not None
    assert model.num_parameters(trainable_only=True) == 10
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_to_float64_casts_parameters_and_buffers(rng):
    model = mlp().double()
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model[1].running_mean.dtype == np.float64 and model[1].num_batches_tracked.dtype == np.int64
    out = model(Tensor(rng.standard_normal((4, 4))))
    assert out.dtype == np.float64
    assert all(p.dtype == np.float32 for p in model.float().parameters())


def test_buffer_stays_a_buffer_when_reassigned():
    layer = nn.BatchNorm1d(2)
    layer.running_mean = np.array([1.0, 2.0], dtype=np.float32)
    layer.num_batches_tracked += 1
    assert set(dict(layer.named_buffers())) == {"running_mean", "running_var", "num_batches_tracked"}
    assert layer.state_dict()["running_mean"].tolist() == [1.0, 2.0]


def test_sequential_indexing():
    model = mlp()
    assert len(model) == 5 and isinstance(model[2], nn.Tanh)
    head = model[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is model[0]
    model[3] = nn.Identity()
    assert isinstance(model[3], nn.Identity) and [n for n, _ in model.named_children()][3] == "3"
    model.append(nn.Softmax(dim=1))
    assert len(model) == 6 and [type(m).__name__ for m in model][-1] == "Softmax"
    with pytest.raises(TypeError, match="Sequential.*item 1"):
        nn.Sequential(nn.ReLU(), "relu")


# ------------------------------------------------------------ state dicts
def test_state_dict_round_trip(rng):
    a, b = mlp(), mlp()
    a[1](Tensor(rng.standard_normal((5, 8)).astype(np.float32)))  # move the running stats
    b.load_state_dict(a.state_dict())
    for (k, va), (_, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_array_equal(va, vb, err_msg=k)
    assert a.state_dict()["0.weight"] is not b.state_dict()["0.weight"]  # copied, not shared
    x = Tensor(rng.standard_normal((3, 4)).astype(np.float32))
    np.testing.assert_array_equal(a.eval()(x).data, b.eval()(x).data)


def test_load_state_dict_missing_and_unexpected_keys_are_named():
    model = mlp()
    state = dict(model.state_dict())
    del state["4.bias"]
    state["5.weight"] = np.zeros(3)
    with pytest.raises(KeyError, match=r"missing keys \['4.bias'\].*unexpected keys \['5.weight'\]"):
        model.load_state_dict(state)


def test_load_state_dict_mis_shaped_key_changes_nothing():
    model = mlp()
    before = {k: v.copy() for k, v in model.state_dict().items()}
    state = {k: np.ones_like(v) for k, v in model.state_dict().items()}
    state["4.weight"] = np.ones((3, 9), dtype=np.float32)
    with pytest.raises(ValueError, match=r"'4.weight' has shape \(3, 9\) in the state, \(3, 8\) in the model"):
        model.load_state_dict(state)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=f"{k} changed by a failed load")


def test_load_state_dict_non_strict_loads_what_matches():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    model.load_state_dict({"0.weight": np.eye(2, dtype=np.float32), "extra": np.zeros(1)}, strict=False)
    np.testing.assert_array_equal(model[0].weight.data, np.eye(2))


# ------------------------------------------------------------ display
def test_repr_is_readable():
    assert repr(nn.Sequential(nn.Linear(2, 3), nn.ReLU())) == (
        "Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n  (1): ReLU()\n)")


def test_summary_table_shapes_counts_and_no_side_effects():
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Dropout(0.2),
                          nn.Linear(5, 2))
    model[1].requires_grad_(False)
    stats = model[2].running_mean.copy(), model[2].running_var.copy()
    table = model.summary((7, 3, 2, 2))
    lines = table.splitlines()
    rows = [line.split() for line in lines[2:8]]
    assert [r[0] for r in rows] == ["0", "1", "2", "3", "4", "5"]
    assert [r[1] for r in rows] == ["Flatten", "Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear"]
    assert [" ".join(r[2:-2]) for r in rows] == ["(7, 12)", "(7, 5)", "(7, 5)", "(7, 5)", "(7, 5)", "(7, 2)"]
    assert [(r[-2], r[-1]) for r in rows] == [("0", "0"), ("65", "0"), ("10", "10"), ("0", "0"), ("0", "0"),
                                              ("12", "12")]
    assert lines[-3:] == ["Total params: 87", "Trainable params: 22", "Non-trainable params: 65"]
    # the forward pass left no trace: statistics, modes and forward methods as before
    np.testing.assert_array_equal(model[2].running_mean, stats[0])
    np.testing.assert_array_equal(model[2].running_var, stats[1])
    assert int(model[2].num_batches_tracked) == 0
    assert all(m.training for m in model.modules())
    assert all("forward" not in vars(m) for m in model.modules())


def test_summary_of_nested_model_and_single_layer():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(np.ones(1, dtype=np.float32))
            self.body = nn.Sequential(nn.Linear(3, 4), nn.Tanh())

        def forward(self, x):
            return self.body(x) * self.scale

    lines = Net().summary((2, 3)).splitlines()
    names = [line.split()[0] for line in lines[2:5]]
    assert names == ["body.0", "body.1", "(model)"]
    assert lines[4].split()[-2:] == ["1", "1"]
    assert "Total params: 17" in lines
    single = nn.Linear(3, 4).summary((1, 3)).splitlines()
    assert single[2].split()[:2] == ["(model)", "Linear"] and single[-3] == "Total params: 16"


def test_training_mode_restores_each_modules_flag_also_after_an_error():
    from glassnet.nn.module import training_mode
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5), nn.BatchNorm1d(2))
    model[2].eval()  # a frozen batch norm inside a training model
    with pytest.raises(RuntimeError):
        with training_mode(model, False):
            assert not any(m.training for m in model.modules())
            raise RuntimeError
    assert [m.training for m in model.modules()] == [True, True, True, False]
    with training_mode(model, True):
        assert all(m.training for m in model.modules())
    assert not model[2].training
