"""Training does not keep graphs alive: intermediate tensors die with their
step, also when the losses are kept, and resident memory stays flat over epochs."""

import gc
import os
import weakref

import numpy as np
import pytest

import glassnet.functional as F
from glassnet import nn, optim
from glassnet.data import DataLoader


def _mlp():
    return nn.Sequential(nn.Linear(784, 100), nn.Sigmoid(), nn.Linear(100, 10))


def _data(n=2000):
    rng = np.random.default_rng(0)
    return rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n)


def test_step_graph_is_freed_without_the_garbage_collector():
    model, (x, y) = _mlp(), _data(200)
    opt = optim.SGD(model.parameters(), lr=0.1)
    kept_losses, hidden_refs = [], []
    gc.disable()
    try:
        for xb, yb in DataLoader((x, y), batch_size=10):
            hidden = model[1](model[0](xb))
            loss = F.cross_entropy(model[2](hidden), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            kept_losses.append(loss)  # keeping the loss must not keep its graph
            hidden_refs.append(weakref.ref(hidden))
            del hidden
        alive = sum(ref() is not None for ref in hidden_refs)
    finally:
        gc.enable()
    assert alive == 0, f"{alive} of {len(hidden_refs)} hidden activations outlived their step"


def _resident_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_resident_memory_does_not_grow_over_epochs():
    model, (x, y) = _mlp(), _data()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loader = DataLoader((x, y), batch_size=10, shuffle=True, generator=np.random.default_rng(1))
    resident = []
    for _ in range(6):
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        resident.append(_resident_mb())
    growth = resident[-1] - resident[1]  # after the first epoch every buffer exists
    # A leaked graph per step would hold ≥ 4 KB (the hidden activations): 200 steps/epoch × 4 epochs ≥ 3 MB.
    assert growth < 2.0, f"resident memory grew {growth:.1f} MB over 4 epochs: {[round(r, 1) for r in resident]}"
