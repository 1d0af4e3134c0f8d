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
