"""In-place changes between forward and backward raise, as in PyTorch, instead of giving a wrong gradient."""

import numpy as np
import pytest

import glassnet
from glassnet import functional as F
from glassnet import nn, optim
from glassnet.tensor import Tensor

MODIFIED = "modified by an in-place operation"


def test_changing_data_between_forward_and_backward_raises_instead_of_a_wrong_gradient():
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * a
    a.data *= 10  # the case: the gradient would be [20, 40, 60] instead of [2, 4, 6]
    with pytest.raises(RuntimeError, match=rf"{MODIFIED}: an input of 'mul', of shape \(3,\).*"
                                           r"is at version 1; expected version 0"):
        b.sum().backward()
    assert a.grad is None


def test_the_version_counts_in_place_changes_and_the_unchanged_graph_still_works():
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert a._version == 0
    a.data = a.data * 2
    a.data -= 1
    assert a._version == 2
    (a * a).sum().backward()  # recorded after both changes: fine
    np.testing.assert_array_equal(a.grad, 2 * np.array([1.0, 3.0, 5.0]))


@pytest.mark.parametrize("op", [
    lambda x: x * x, lambda x: x / 2.0 * x, lambda x: x ** 3, lambda x: x.log(), lambda x: x.abs(),
    lambda x: x @ x, lambda x: x.max(), lambda x: F.relu(x), lambda x: F.sigmoid(x), lambda x: F.softmax(x),
])
def test_every_op_that_reads_its_input_checks_it(op):
    x = Tensor(np.array([1.0, 2.0, 4.0]), requires_grad=True)
    y = op(x)
    x.data += 1
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.sum().backward()


@pytest.mark.parametrize("op", [lambda x: x.exp(), lambda x: x.sqrt(), lambda x: F.tanh(x), lambda x: F.sigmoid(x)])
def test_an_op_whose_gradient_uses_its_output_checks_the_output(op):
    x = Tensor(np.array([1.0, 2.0, 4.0]), requires_grad=True)
    y = op(x)
    loss = y.sum()  # sum does not read y: only the op's own check can catch the change
    y.data *= 2
    with pytest.raises(RuntimeError, match=f"{MODIFIED}: the output of"):
        loss.backward()


def test_ops_whose_gradient_needs_no_values_allow_changes_as_pytorch_does(torch):
    x = Tensor(np.array([1.0, 2.0, 4.0]), requires_grad=True)
    y = (x + 1).sum() + (x - 2).reshape(3, 1).transpose().sum() + x[1:].sum() + glassnet.cat([x, x]).sum()
    x.data *= 5
    y.backward()
    tx = torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64, requires_grad=True)
    ty = (tx + 1).sum() + (tx - 2).reshape(3, 1).T.sum() + tx[1:].sum() + torch.cat([tx, tx]).sum()
    with torch.no_grad():
        tx.mul_(5)
    ty.backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())


def test_views_and_detached_tensors_share_the_version_counter():
    x = Tensor(np.arange(1.0, 7.0), requires_grad=True)
    y = x * x
    view = x.reshape(2, 3)
    view.data *= 2  # the memory of x changes through its view
    assert x._version == 1
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.sum().backward()
    x2 = Tensor(np.arange(1.0, 4.0), requires_grad=True)
    y2 = x2 * x2
    detached = x2.detach()
    detached.data += 1
    with pytest.raises(RuntimeError, match=MODIFIED):
        y2.sum().backward()
    copy = x2[[0, 1]]  # advanced indexing copies: its own counter
    copy.data += 1
    assert x2._version == 1


def test_an_optimizer_step_between_forward_and_backward_is_caught():
    layer = nn.Linear(3, 2)
    opt = optim.SGD(layer.parameters(), lr=0.1)
    x = Tensor(np.ones((4, 3), dtype=np.float32))
    loss = layer(x).sum()
    loss.backward(retain_graph=True)
    opt.step()  # the weights change; the retained graph still holds the old ones
    assert layer.weight._version == 1
    with pytest.raises(RuntimeError, match=MODIFIED):
        loss.backward()


def test_bump_version_is_the_hook_for_writes_behind_the_tensors_back():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = a * a
    a.data[0] = 7.0  # writing into the ndarray itself is not seen ...
    a._bump_version()  # ... unless the writer says so
    with pytest.raises(RuntimeError, match=MODIFIED):
        b.sum().backward()


def test_the_same_parameter_twice_in_an_optimizer_is_refused():
    layer = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="lists the same parameter twice"):
        optim.SGD([layer.weight, layer.bias, layer.weight], lr=0.1)
    with pytest.raises(ValueError, match="lists the same parameter twice"):
        optim.Adam([{"params": [layer.weight, layer.weight]}])
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [layer.weight]}, {"params": [layer.weight]}], lr=0.1)
