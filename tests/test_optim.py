"""Optimizers against PyTorch: parameter trajectories, defaults, groups, frozen
parameters, and a state_dict round trip through JSON and safetensors."""

import inspect
import json

import numpy as np
import pytest
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

from glassnet import optim
from glassnet.nn import Parameter

SHAPES = [(5, 4), (5,)]  # a weight and a bias
STEPS = 20

CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.2)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
    ("SGD", dict(lr=0.01, momentum=0.9, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, maximize=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, maximize=True)),
    ("AdamW", dict(lr=0.05, maximize=True)),
]


def _problem(rng):
    """A quadratic L = Σ_k ½ w_kᵀ A_k w_k − c_kᵀ w_k per parameter (A_k positive
    definite): the gradient A_k w_k − c_k is computed from each side's own
    parameters, in float64, then rounded to the parameter's dtype."""
    problem = []
    for shape in SHAPES:
        n = int(np.prod(shape))
        q = rng.standard_normal((n, n))
        a = q @ q.T / n + 0.5 * np.eye(n)
        problem.append((a, rng.standard_normal(n)))
    return problem


def _grad(problem_k, w: np.ndarray) -> np.ndarray:
    a, c = problem_k
    return (a @ w.astype(np.float64).ravel() - c).reshape(w.shape).astype(w.dtype)


def _group_options(kwargs):
    """The second group: a smaller lr and (if the optimizer decays) another decay."""
    options = {"lr": kwargs["lr"] * 0.3}
    if kwargs.get("weight_decay"):
        options["weight_decay"] = kwargs["weight_decay"] * 2
    return options


def _make_glassnet(name, kwargs, params):
    """The optimizer over two groups; group 0 also holds a frozen parameter."""
    frozen = Parameter(np.ones(3, dtype=np.float32), requires_grad=False)
    optimizer = getattr(optim, name)([{"params": [params[0], frozen]},
                                      {"params": [params[1]], **_group_options(kwargs)}], **kwargs)
    return optimizer


def _steps(optimizer, problem, steps):
    """Run ``steps`` steps; yield the parameters after each."""
    params = [optimizer.param_groups[0]["params"][0], optimizer.param_groups[1]["params"][0]]
    frozen = optimizer.param_groups[0]["params"][1]
    for _ in range(steps):
        optimizer.zero_grad()
        for k, p in enumerate(params):
            p.grad = _grad(problem[k], p.data)
        frozen.grad = np.ones(3, dtype=np.float32)  # present, but the parameter is frozen
        optimizer.step()
        assert np.array_equal(frozen.data, np.ones(3, dtype=np.float32)), "a frozen parameter moved"
        yield params


def _run_torch(torch, name, kwargs, init, problem):
    params = [torch.nn.Parameter(torch.from_numpy(w.copy())) for w in init]
    frozen = torch.nn.Parameter(torch.ones(3), requires_grad=False)
    optimizer = getattr(torch.optim, name)([{"params": [params[0], frozen]},
                                            {"params": [params[1]], **_group_options(kwargs)}], **kwargs)
    trajectory = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        for k, p in enumerate(params):
            p.grad = torch.from_numpy(_grad(problem[k], p.detach().numpy()))
        optimizer.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
    return trajectory


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-11), (np.float32, 1e-5)])
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_trajectory_matches_torch(torch, rng, name, kwargs, dtype, tol, assert_close):
    """20 steps, each parameter after each step within ``tol`` (relative, and absolute for numbers of
    order 1) of PyTorch's. In float64 that is the same arithmetic; float32 rounds differently where
    PyTorch vectorizes (its reductions and fused multiply-adds differ by CPU), and those differences
    compound over the steps, so float32 is held to 1e-5."""
    problem = _problem(rng)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    expected = _run_torch(torch, name, kwargs, init, problem)
    optimizer = _make_glassnet(name, kwargs, [Parameter(w.copy()) for w in init])
    for step, params in enumerate(_steps(optimizer, problem, STEPS)):
        for k, p in enumerate(params):
            assert p.data.dtype == dtype
            assert_close(p.data, expected[step][k], rtol=tol, atol=tol, what=f"{name} step {step + 1} param {k}")
    moved = max(np.abs(p.data - w).max() for p, w in zip(params, init))
    assert moved > 0.05, f"{name} barely moved the parameters ({moved})"


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"])
def test_defaults_match_torch(torch, name):
    ours = inspect.signature(getattr(optim, name)).parameters
    theirs = inspect.signature(getattr(torch.optim, name)).parameters
    for key, parameter in ours.items():
        if key == "params":
            continue
        assert key in theirs, f"{name}: option {key} is not in torch's"
        assert parameter.default == theirs[key].default, f"{name}.{key}: {parameter.default} != {theirs[key].default}"


@pytest.mark.parametrize("name,kwargs", [CASES[2], CASES[7], CASES[5], CASES[10], CASES[12]])
def test_state_dict_round_trip_through_json_and_safetensors(rng, name, kwargs):
    problem = _problem(rng)
    init = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    straight = _make_glassnet(name, kwargs, [Parameter(w.copy()) for w in init])
    *_, expected = _steps(straight, problem, STEPS)

    optimizer = _make_glassnet(name, kwargs, [Parameter(w.copy()) for w in init])
    *_, halfway = _steps(optimizer, problem, STEPS // 2)
    state = optimizer.state_dict()
    groups = json.loads(json.dumps(state["groups"]))
    arrays = st_load(st_save(state["state"]))
    assert arrays, "the optimizer saved no state"

    resumed = _make_glassnet(name, dict(lr=123.0), [Parameter(p.data.copy()) for p in halfway])
    resumed.load_state_dict({"groups": groups, "state": arrays})
    assert resumed.param_groups[1]["lr"] == pytest.approx(kwargs["lr"] * 0.3)
    *_, params = _steps(resumed, problem, STEPS - STEPS // 2)
    for p, q in zip(params, expected):
        np.testing.assert_array_equal(p.data, q.data)


def test_load_state_dict_rejects_mismatches(rng):
    w = Parameter(rng.standard_normal((3, 2)).astype(np.float32))
    optimizer = optim.SGD([w], lr=0.1, momentum=0.9)
    w.grad = np.ones((3, 2), dtype=np.float32)
    optimizer.step()
    state = optimizer.state_dict()
    other = optim.SGD([Parameter(np.zeros((2, 3), dtype=np.float32))], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"0\.0\.momentum_buffer.*\(3, 2\).*\(2, 3\)"):
        other.load_state_dict(state)
    two = optim.SGD([w, Parameter(np.zeros(2, dtype=np.float32))], lr=0.1)
    with pytest.raises(ValueError, match="group 0 has 1 parameters in the state, 2"):
        two.load_state_dict(state)


def test_hyperparameter_errors_name_the_optimizer():
    w = Parameter(np.zeros(2, dtype=np.float32))
    with pytest.raises(ValueError, match="SGD: lr must be >= 0"):
        optim.SGD([w], lr=-1)
    with pytest.raises(ValueError, match="Adam: betas"):
        optim.Adam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="RMSprop: unknown parameter-group options \\['betas'\\]"):
        optim.RMSprop([{"params": [w], "betas": (0.9, 0.9)}])
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.Adagrad([{"params": [w]}, {"params": [w]}])


def test_step_works_in_float64_and_keeps_dtype(rng):
    for name in ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"]:
        w = Parameter(rng.standard_normal(4))
        assert w.dtype == np.float64
        optimizer = getattr(optim, name)([w], lr=0.1)
        before = w.data.copy()
        w.grad = np.ones(4)
        optimizer.step()
        assert w.dtype == np.float64 and not np.array_equal(w.data, before), name


def test_named_parameters_keep_their_names_as_torch(torch):
    from glassnet import nn

    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    reference = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    ours = optim.SGD(model.named_parameters(), lr=0.1, momentum=0.9)
    theirs = torch.optim.SGD(reference.named_parameters(), lr=0.1, momentum=0.9)
    assert ours.param_groups[0]["param_names"] == theirs.param_groups[0]["param_names"] == ["0.weight", "0.bias",
                                                                                          "2.weight", "2.bias"]
    assert [id(p) for p in ours.param_groups[0]["params"]] == [id(p) for p in model.parameters()]
    groups = optim.Adam([{"params": model[0].named_parameters(), "lr": 0.01}, {"params": model[2].parameters()}])
    assert groups.param_groups[0]["param_names"] == ["weight", "bias"]
    assert "param_names" not in groups.param_groups[1]
    saved = json.loads(json.dumps(ours.state_dict()["groups"]))
    assert saved[0]["param_names"] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    renamed = optim.SGD([(f"x{i}", p) for i, p in enumerate(model.parameters())], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="names other parameters.*'0.weight' != 'x0'"):
        renamed.load_state_dict({"groups": saved, "state": {}})


def test_zero_grad_set_to_none_or_in_place():
    w = Parameter(np.ones(3, dtype=np.float32))
    optimizer = optim.SGD([w], lr=0.1)
    w.grad = np.full(3, 2.0, dtype=np.float32)
    held = w.grad
    optimizer.zero_grad(set_to_none=False)
    assert w.grad is held and np.array_equal(held, np.zeros(3))
    optimizer.zero_grad()
    assert w.grad is None
    optimizer.zero_grad(set_to_none=False)  # no gradient yet: stays None
    assert w.grad is None


def test_maximize_ascends():
    w = Parameter(np.zeros(2))
    optimizer = optim.SGD([w], lr=0.5, maximize=True)
    w.grad = np.array([1.0, -2.0])
    optimizer.step()
    np.testing.assert_array_equal(w.data, [0.5, -1.0])
    assert np.array_equal(w.grad, [1.0, -2.0]), "maximize changed the stored gradient"
