"""In-place tensor updates as PyTorch's: `p -= lr * p.grad` under no_grad(),
`+=`, `*=`, `add_(alpha=)`, `zero_()`, `copy_()`, `clamp_()`; the version
counter makes a graph that saved the old values refuse backward."""

import numpy as np
import pytest

import glassnet as gn
from glassnet import Tensor, nn


def test_manual_sgd_step_under_no_grad_matches_torch(torch, rng):
    ours = nn.Linear(3, 2)
    theirs = torch.nn.Linear(3, 2)
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()})
    x = rng.standard_normal((4, 3)).astype(np.float32)
    for _ in range(3):
        ours(Tensor(x)).sum().backward()
        theirs(torch.from_numpy(x)).sum().backward()
        with gn.no_grad():
            for p in ours.parameters():
                p -= 0.1 * p.grad
                p.grad = None
        with torch.no_grad():
            for p in theirs.parameters():
                p -= 0.1 * p.grad
                p.grad = None
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-6)
    assert ours.weight._version == 3


def test_in_place_methods_as_torch(torch, rng):
    data = rng.standard_normal((3, 4)).astype(np.float32)
    other = rng.standard_normal((3, 4)).astype(np.float32)
    for name, ours_op, theirs_op in [
        ("+=", lambda t: t.__iadd__(Tensor(other)), lambda t: t.__iadd__(torch.from_numpy(other))),
        ("*=", lambda t: t.__imul__(2.5), lambda t: t.__imul__(2.5)),
        ("/=", lambda t: t.__itruediv__(Tensor(other)), lambda t: t.__itruediv__(torch.from_numpy(other))),
        ("add_", lambda t: t.add_(Tensor(other), alpha=-0.3), lambda t: t.add_(torch.from_numpy(other), alpha=-0.3)),
        ("sub_", lambda t: t.sub_(other[0], alpha=2), lambda t: t.sub_(torch.from_numpy(other[0]), alpha=2)),
        ("mul_", lambda t: t.mul_(other), lambda t: t.mul_(torch.from_numpy(other))),
        ("clamp_", lambda t: t.clamp_(min=-0.5, max=0.2), lambda t: t.clamp_(min=-0.5, max=0.2)),
        ("copy_", lambda t: t.copy_(Tensor(other)), lambda t: t.copy_(torch.from_numpy(other))),
        ("fill_", lambda t: t.fill_(3.0), lambda t: t.fill_(3.0)),
        ("zero_", lambda t: t.zero_(), lambda t: t.zero_()),
    ]:
        ours, theirs = Tensor(data.copy()), torch.from_numpy(data.copy())
        view = ours.reshape(12)
        assert ours_op(ours) is ours
        theirs_op(theirs)
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(view.data, theirs.numpy().reshape(12), rtol=1e-6, err_msg=f"{name}: a view")
        assert ours._version == view._version == 1, name


def test_in_place_on_a_recorded_tensor_is_refused_with_advice():
    w = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"in-place sub on a tensor that requires grad.*no_grad\(\)"):
        w -= 1.0
    h = w * 2
    with pytest.raises(RuntimeError, match=r"write `x = x \+ y`"):
        h += 1.0
    plain = Tensor(np.zeros(3))
    with pytest.raises(RuntimeError, match="with a value that requires grad"):
        plain += w
    plain += 1.0  # no gradient involved: fine
    assert plain.data.tolist() == [1.0, 1.0, 1.0]


def test_a_graph_that_saved_the_old_values_refuses_backward():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    x = Tensor(np.array([3.0, 4.0]))
    loss = (w * x).sum()
    with gn.no_grad():
        x *= 10  # mul's backward needs x's old values
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()
