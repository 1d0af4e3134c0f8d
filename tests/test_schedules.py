"""Learning-rate schedules against torch.optim.lr_scheduler over 30 epochs, and
their state_dict through JSON."""

import json
import math

import numpy as np
import pytest

from glassnet import optim
from glassnet.nn import Parameter
from glassnet.optim import lr_scheduler

EPOCHS = 30
LRS = (0.1, 0.02)  # two parameter groups

SCHEDULES = [
    ("StepLR", dict(step_size=7, gamma=0.5)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10)),  # 30 epochs: down, up, down again
    ("CosineAnnealingLR", dict(T_max=12, eta_min=0.001)),
]

# A validation metric that rises, stalls, rises a little, then stalls.
ACCURACY = [0.5, 0.6, 0.7, 0.72, 0.72, 0.719, 0.721, 0.72, 0.75, 0.75, 0.75, 0.75, 0.7, 0.76, 0.76,
            0.76, 0.76, 0.76, 0.76, 0.77, 0.77, 0.77, 0.77, 0.77, 0.77, 0.77, 0.77, 0.77, 0.77, 0.77]

PLATEAU = [
    dict(mode="max", factor=0.5, patience=2),  # the book: halve η when accuracy stops improving
    dict(mode="max", factor=0.5, patience=1, threshold=0.01, threshold_mode="abs", cooldown=2),
    dict(mode="min", factor=0.1, patience=0, cooldown=1, min_lr=[1e-3, 1e-5]),
    dict(mode="min", factor=0.3, patience=3, threshold=0.05),
]


def _glassnet_optimizer():
    groups = [{"params": [Parameter(np.zeros(2, dtype=np.float32))], "lr": lr} for lr in LRS]
    return optim.SGD(groups, lr=LRS[0])


def _torch_optimizer(torch):
    groups = [{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": lr} for lr in LRS]
    return torch.optim.SGD(groups, lr=LRS[0])


@pytest.mark.parametrize("name,kwargs", SCHEDULES)
def test_schedule_matches_torch(torch, name, kwargs):
    ours_opt, theirs_opt = _glassnet_optimizer(), _torch_optimizer(torch)
    ours = getattr(lr_scheduler, name)(ours_opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(theirs_opt, **kwargs)
    assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)
    seen = set()
    for epoch in range(EPOCHS):
        theirs_opt.step()
        ours.step()
        theirs.step()
        ours_lrs = [g["lr"] for g in ours_opt.param_groups]
        assert ours_lrs == pytest.approx([g["lr"] for g in theirs_opt.param_groups], rel=1e-9), f"epoch {epoch + 1}"
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-9)
        seen.add(round(ours_lrs[0], 12))
    assert len(seen) > 3, f"{name} barely changed the rate: {sorted(seen)}"


@pytest.mark.parametrize("kwargs", PLATEAU)
def test_reduce_on_plateau_matches_torch(torch, kwargs):
    metric = ACCURACY if kwargs["mode"] == "max" else [1 - a for a in ACCURACY]
    ours_opt, theirs_opt = _glassnet_optimizer(), _torch_optimizer(torch)
    ours = lr_scheduler.ReduceLROnPlateau(ours_opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs_opt, **kwargs)
    reductions = 0
    for epoch, value in enumerate(metric):
        before = ours_opt.param_groups[0]["lr"]
        ours.step(value)
        theirs.step(value)
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12), f"epoch {epoch + 1}"
        assert (ours.num_bad_epochs, ours.cooldown_counter) == (theirs.num_bad_epochs, theirs.cooldown_counter)
        reductions += ours_opt.param_groups[0]["lr"] < before
    assert reductions >= 2, f"the rate was reduced {reductions} times in 30 epochs"


def test_book_rule_halves_after_patience_epochs_without_improvement():
    opt = _glassnet_optimizer()
    sched = lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=2)
    for accuracy in [0.90, 0.91, 0.91, 0.90]:  # best 0.91, then 2 epochs without improvement: kept
        sched.step(accuracy)
    assert sched.get_last_lr() == [0.1, 0.02]
    sched.step(0.905)  # the third: halved
    assert sched.get_last_lr() == [0.05, 0.01]


@pytest.mark.parametrize("name,kwargs", SCHEDULES + [("ReduceLROnPlateau", dict(mode="max", patience=1))])
def test_state_dict_round_trip_through_json(name, kwargs):
    def run(scheduler, epochs):
        for epoch in epochs:
            if name == "ReduceLROnPlateau":
                scheduler.step(ACCURACY[epoch])
            else:
                scheduler.step()

    straight_opt = _glassnet_optimizer()
    straight = getattr(lr_scheduler, name)(straight_opt, **kwargs)
    run(straight, range(EPOCHS))

    first_opt = _glassnet_optimizer()
    first = getattr(lr_scheduler, name)(first_opt, **kwargs)
    run(first, range(EPOCHS // 2))
    saved_sched = json.loads(json.dumps(first.state_dict(), allow_nan=False))
    saved_opt = json.loads(json.dumps(first_opt.state_dict()["groups"], allow_nan=False))

    resumed_opt = _glassnet_optimizer()
    resumed_opt.load_state_dict({"groups": saved_opt, "state": {}})
    resumed = getattr(lr_scheduler, name)(resumed_opt, **kwargs)
    resumed.load_state_dict(saved_sched)
    run(resumed, range(EPOCHS // 2, EPOCHS))
    assert resumed.get_last_lr() == straight.get_last_lr()
    assert resumed.last_epoch == straight.last_epoch == EPOCHS


def test_schedule_errors():
    opt = _glassnet_optimizer()
    with pytest.raises(TypeError, match="StepLR needs a glassnet Optimizer"):
        lr_scheduler.StepLR(object(), step_size=2)
    with pytest.raises(ValueError, match="factor must be < 1"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=2.0)
    with pytest.raises(ValueError, match="3 min_lr values for 2 parameter groups"):
        lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0, 0, 0])
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.ExponentialLR(opt, gamma=0.9, last_epoch=4)


def test_cosine_reaches_eta_min_at_t_max():
    opt = _glassnet_optimizer()
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=8, eta_min=0.001)
    lrs = []
    for _ in range(16):
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    assert lrs[7] == pytest.approx(0.001, abs=1e-12)
    assert lrs[15] == pytest.approx(0.1, rel=1e-9)
    assert lrs[3] == pytest.approx(0.001 + 0.099 * (1 + math.cos(math.pi * 4 / 8)) / 2, rel=1e-9)


# ---------------------------------------------------------------- 1,000-step schedules
STEPS = 1000


def _lambda_warmup(epoch):
    return min(1.0, (epoch + 1) / 50) * 0.999 ** epoch


def _build(lib, opt, name, kwargs):
    """A schedule by name; SequentialLR's kwargs name its parts, built with ``lib``."""
    if name == "SequentialLR":
        parts = [getattr(lib, part)(opt, **options) for part, options in kwargs["schedulers"]]
        return lib.SequentialLR(opt, parts, milestones=kwargs["milestones"])
    return getattr(lib, name)(opt, **kwargs)


LONG_SCHEDULES = [
    ("MultiStepLR", dict(milestones=[100, 250, 250, 700], gamma=0.5)),
    ("LambdaLR", dict(lr_lambda=_lambda_warmup)),
    ("LinearLR", dict(start_factor=0.01, total_iters=300)),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.05, total_iters=999)),
    ("CosineAnnealingWarmRestarts", dict(T_0=50)),
    ("CosineAnnealingWarmRestarts", dict(T_0=20, T_mult=2, eta_min=1e-4)),
    ("OneCycleLR", dict(max_lr=[0.5, 0.1], total_steps=STEPS)),
    ("OneCycleLR", dict(max_lr=0.3, epochs=10, steps_per_epoch=100, anneal_strategy="linear", pct_start=0.25,
                        div_factor=10.0, final_div_factor=100.0, base_momentum=0.8, max_momentum=0.9)),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=STEPS, three_phase=True, cycle_momentum=False)),
    ("SequentialLR", dict(schedulers=[("LinearLR", dict(start_factor=0.1, total_iters=100)),
                                      ("CosineAnnealingLR", dict(T_max=900))], milestones=[100])),
    ("SequentialLR", dict(schedulers=[("ExponentialLR", dict(gamma=0.999)),
                                      ("CosineAnnealingWarmRestarts", dict(T_0=100)),
                                      ("StepLR", dict(step_size=50, gamma=0.7))], milestones=[200, 600])),
]


def _sgd(lib, Param, zeros):
    groups = [{"params": [Param(zeros())], "lr": lr} for lr in LRS]
    return lib.SGD(groups, lr=LRS[0], momentum=0.9)


@pytest.mark.parametrize("name,kwargs", LONG_SCHEDULES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(LONG_SCHEDULES)])
def test_new_schedules_match_torch_over_1000_steps(torch, name, kwargs):
    ours_opt = _sgd(optim, Parameter, lambda: np.zeros(2, dtype=np.float32))
    theirs_opt = _sgd(torch.optim, torch.nn.Parameter, lambda: torch.zeros(2))
    ours = _build(lr_scheduler, ours_opt, name, kwargs)
    theirs = _build(torch.optim.lr_scheduler, theirs_opt, name, kwargs)
    assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-7)
    lrs = []
    for step in range(STEPS - 1 if name == "OneCycleLR" else STEPS):  # OneCycleLR ends at its last step
        theirs_opt.step()
        ours.step()
        theirs.step()
        got = [g["lr"] for g in ours_opt.param_groups]
        assert got == pytest.approx([g["lr"] for g in theirs_opt.param_groups], rel=1e-7, abs=0), f"step {step + 1}"
        assert [g["momentum"] for g in ours_opt.param_groups] == pytest.approx(
            [g["momentum"] for g in theirs_opt.param_groups], rel=1e-7), f"momentum, step {step + 1}"
        lrs.append(got[0])
    assert len({round(v, 12) for v in lrs}) >= 4, f"{name} barely changed the rate"


def test_one_cycle_cycles_adam_beta1_as_torch(torch):
    ours_opt = optim.Adam([Parameter(np.zeros(2, dtype=np.float32))], betas=(0.9, 0.98))
    theirs_opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))], betas=(0.9, 0.98))
    ours = lr_scheduler.OneCycleLR(ours_opt, max_lr=0.01, total_steps=200)
    theirs = torch.optim.lr_scheduler.OneCycleLR(theirs_opt, max_lr=0.01, total_steps=200)
    for step in range(199):
        theirs_opt.step()
        ours.step()
        theirs.step()
        assert ours_opt.param_groups[0]["betas"] == pytest.approx(theirs_opt.param_groups[0]["betas"], rel=1e-12)
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)
    with pytest.raises(ValueError, match="stepped 201 times, but total_steps is 200"):
        ours.step()
        ours.step()


@pytest.mark.parametrize("name,kwargs", [LONG_SCHEDULES[i] for i in (0, 3, 5, 6, 10)])
def test_new_schedules_resume_through_json(name, kwargs):
    def make():
        opt = _sgd(optim, Parameter, lambda: np.zeros(2, dtype=np.float32))
        return opt, _build(lr_scheduler, opt, name, kwargs)

    straight_opt, straight = make()
    for _ in range(STEPS - 1):
        straight.step()
    first_opt, first = make()
    for _ in range(400):
        first.step()
    saved_sched = json.loads(json.dumps(first.state_dict(), allow_nan=False))
    saved_opt = json.loads(json.dumps(first_opt.state_dict()["groups"], allow_nan=False))
    resumed_opt, resumed = make()
    resumed_opt.load_state_dict({"groups": saved_opt, "state": {}})
    resumed.load_state_dict(saved_sched)
    for _ in range(400, STEPS - 1):
        resumed.step()
    assert resumed.get_last_lr() == straight.get_last_lr()
    assert [g["momentum"] for g in resumed_opt.param_groups] == [g["momentum"] for g in straight_opt.param_groups]


def test_lambda_lr_saves_callable_objects_not_functions():
    class Decay:
        def __init__(self):
            self.rate = 0.9

        def __call__(self, epoch):
            return self.rate ** epoch

    opt = _glassnet_optimizer()
    decay = Decay()
    sched = lr_scheduler.LambdaLR(opt, [decay, _lambda_warmup])
    decay.rate = 0.5
    state = json.loads(json.dumps(sched.state_dict()))
    assert state["lr_lambdas"] == [{"rate": 0.5}, None]
    other = Decay()
    resumed = lr_scheduler.LambdaLR(_glassnet_optimizer(), [other, _lambda_warmup])
    resumed.load_state_dict(state)
    assert other.rate == 0.5


def test_new_schedule_errors():
    opt = _glassnet_optimizer()
    with pytest.raises(ValueError, match="give total_steps, or epochs and steps_per_epoch"):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="3 values of max_lr for 2 parameter groups"):
        lr_scheduler.OneCycleLR(opt, max_lr=[0.1, 0.2, 0.3], total_steps=10)
    with pytest.raises(ValueError, match="Adagrad has neither"):
        lr_scheduler.OneCycleLR(optim.Adagrad([Parameter(np.zeros(2))]), max_lr=0.1, total_steps=10)
    with pytest.raises(ValueError, match="2 schedulers need 1 milestones, got 0"):
        lr_scheduler.SequentialLR(opt, [lr_scheduler.StepLR(opt, 2), lr_scheduler.StepLR(opt, 3)], [])
    with pytest.raises(TypeError, match="ReduceLROnPlateau"):
        lr_scheduler.SequentialLR(opt, [lr_scheduler.ReduceLROnPlateau(opt)], [])
    with pytest.raises(ValueError, match="start_factor must be in"):
        lr_scheduler.LinearLR(opt, start_factor=0.0)
    with pytest.raises(ValueError, match="T_0 must be a positive integer"):
        lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=0)
    assert lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10).per_batch
    assert not lr_scheduler.StepLR(opt, 2).per_batch
