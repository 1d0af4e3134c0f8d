"""glassnet.classic.network3, the book's chapter-6 program without Theano.

Its training steps are checked against the same network written in PyTorch
(same initial weights, same mini-batches, the book's cost with its L2 term), its
sizes, errors, printed lines and data loading against the book's behaviour, and
its learning against a floor on real Fashion-MNIST images.
"""

import contextlib
import io

import numpy as np
import pytest

from glassnet.classic import network3
from glassnet.classic.network3 import ConvPoolLayer, FullyConnectedLayer, Network, ReLU, SoftmaxLayer
from glassnet.data import DatasetNotFoundError


def two_conv_net(mbs, activation=ReLU, p_dropout=0.0, hidden=100):
    return Network([
        ConvPoolLayer(image_shape=(mbs, 1, 28, 28), filter_shape=(20, 1, 5, 5), poolsize=(2, 2),
                      activation_fn=activation),
        ConvPoolLayer(image_shape=(mbs, 20, 12, 12), filter_shape=(40, 20, 5, 5), poolsize=(2, 2),
                      activation_fn=activation),
        FullyConnectedLayer(n_in=40 * 4 * 4, n_out=hidden, activation_fn=activation, p_dropout=p_dropout),
        SoftmaxLayer(n_in=hidden, n_out=10, p_dropout=p_dropout)], mbs)


def fake_digits(n, seed=0):
    """(x float32 (n, 784) in [0, 1], y (n,)): class prototypes plus noise, so a net can learn them."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    prototypes = rng.random((10, 784)) < 0.3
    x = np.clip(0.7 * prototypes[y] + 0.3 * rng.random((n, 784)), 0, 1).astype(np.float32)
    return x, y


def quiet(fn, *args, **kwargs):
    with contextlib.redirect_stdout(io.StringIO()) as out:
        fn(*args, **kwargs)
    return out.getvalue()


@pytest.mark.torch
@pytest.mark.parametrize("activation", ["ReLU", "sigmoid", "tanh"])
def test_sgd_steps_equal_pytorch(activation):
    """Six SGD steps (eta 0.1, lmbda 2.0) of the two-conv-pool network equal PyTorch's."""
    torch = pytest.importorskip("torch")
    np.random.seed(3)
    mbs, steps = 5, 6
    net = two_conv_net(mbs, activation=getattr(network3, activation))
    x, y = fake_digits(mbs * steps)
    params = [torch.tensor(p.data.copy(), requires_grad=True) for p in net.params]
    act = {"ReLU": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[activation]
    eta, lmbda = 0.1, 2.0
    quiet(net.SGD, (x, y), 1, mbs, eta, (x, y), None, lmbda=lmbda)

    w1, b1, w2, b2, w3, b3, w4, b4 = params
    for k in range(steps):
        xb = torch.tensor(x[k * mbs:(k + 1) * mbs]).reshape(mbs, 1, 28, 28)
        h = act(torch.nn.functional.max_pool2d(torch.nn.functional.conv2d(xb, w1), 2) + b1.view(1, -1, 1, 1))
        h = act(torch.nn.functional.max_pool2d(torch.nn.functional.conv2d(h, w2), 2) + b2.view(1, -1, 1, 1))
        h = act(h.reshape(mbs, -1) @ w3 + b3)
        log_p = torch.log_softmax(h @ w4 + b4, dim=1)
        nll = -log_p[torch.arange(mbs), torch.tensor(y[k * mbs:(k + 1) * mbs])].mean()
        cost = nll + 0.5 * lmbda * sum((w ** 2).sum() for w in (w1, w2, w3, w4)) / steps
        grads = torch.autograd.grad(cost, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p -= eta * g
    for ours, theirs in zip(net.params, params):
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=2e-4, atol=2e-6)
    assert np.abs(net.params[-2].data).max() > 1e-3  # the softmax layer left zero: training happened


def test_initialisation_is_the_books():
    np.random.seed(0)
    conv = ConvPoolLayer(filter_shape=(40, 20, 5, 5), image_shape=(10, 20, 12, 12))
    fc = FullyConnectedLayer(n_in=640, n_out=400)
    soft = SoftmaxLayer(n_in=400, n_out=10)
    n_out = 40 * 25 / 4
    assert conv.w.shape == (40, 20, 5, 5) and conv.b.shape == (40,)
    assert np.std(conv.w.data) == pytest.approx(np.sqrt(1 / n_out), rel=0.05)
    assert np.std(fc.w.data) == pytest.approx(np.sqrt(1 / 400), rel=0.05)  # the book's 1/n_out
    assert fc.w.shape == (640, 400) and np.std(fc.b.data) == pytest.approx(1.0, rel=0.2)
    assert not soft.w.data.any() and not soft.b.data.any()
    assert conv.w.dtype == np.float32
    # np.random draws in construction order, so a seed fixes the network
    np.random.seed(0)
    again = ConvPoolLayer(filter_shape=(40, 20, 5, 5), image_shape=(10, 20, 12, 12))
    np.testing.assert_array_equal(again.w.data, conv.w.data)


def test_dropout_is_the_books():
    """Training keeps each input with probability 1 - p unscaled; test time scales x w by 1 - p."""
    np.random.seed(1)
    net = Network([FullyConnectedLayer(n_in=784, n_out=200, p_dropout=0.5),
                   SoftmaxLayer(n_in=200, n_out=10, p_dropout=0.3)], 10)
    fc = net.layers[0]
    x = network3.Tensor(np.ones((50, 784), dtype=np.float32))
    kept = network3.dropout_layer(x, 0.5, np.random.default_rng(0)).data
    assert set(np.unique(kept)) == {0.0, 1.0} and 0.47 < kept.mean() < 0.53
    z_test = fc.weighted_input(x, training=False).data
    np.testing.assert_allclose(z_test, 0.5 * (x.data @ fc.w.data) + fc.b.data, rtol=1e-5)
    # the masks do not depend on np.random (as the book's), and two networks see the same masks
    z1 = fc.weighted_input(x, training=True).data
    np.random.seed(1)
    twin = Network([FullyConnectedLayer(n_in=784, n_out=200, p_dropout=0.5),
                    SoftmaxLayer(n_in=200, n_out=10, p_dropout=0.3)], 10)
    np.random.seed(99)
    np.testing.assert_array_equal(twin.layers[0].weighted_input(x, training=True).data, z1)


def test_printed_lines_and_best_iteration():
    np.random.seed(0)
    x, y = fake_digits(300)
    net = Network([FullyConnectedLayer(n_in=784, n_out=30), SoftmaxLayer(n_in=30, n_out=10)], 10)
    out = quiet(net.SGD, (x[:200], y[:200]), 3, 10, 0.5, (x[200:250], y[200:250]), (x[250:], y[250:]))
    lines = out.splitlines()
    assert lines[0] == "Training mini-batch number 0"
    assert lines[1].startswith("Epoch 0: validation accuracy ") and lines[1].endswith("%")
    assert "This is the best validation accuracy to date." in lines
    assert any(line.startswith("The corresponding test accuracy is ") for line in lines)
    assert lines[-3] == "Finished training network."
    assert lines[-2] == "Best validation accuracy of {0:.2%} obtained at iteration {1}".format(
        net.best_validation_accuracy, net.best_iteration)
    assert lines[-1] == "Corresponding test accuracy of {0:.2%}".format(net.test_accuracy)
    assert net.best_iteration in (19, 39, 59)  # 20 mini-batches per epoch, iterations counted from 0
    assert net.best_validation_accuracy == max(net.validation_accuracies) > 0.5
    assert net.predict(x[:7]).shape == (7,)


def test_same_seed_same_run():
    x, y = fake_digits(200)
    runs = []
    for _ in range(2):
        np.random.seed(5)
        net = Network([FullyConnectedLayer(n_in=784, n_out=20, activation_fn=ReLU, p_dropout=0.2),
                       SoftmaxLayer(n_in=20, n_out=10, p_dropout=0.2)], 10)
        quiet(net.SGD, (x, y), 2, 10, 0.1, (x, y), None, lmbda=0.5)
        runs.append([p.data.copy() for p in net.params])
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_wrong_sizes_between_layers_name_both_layers():
    with pytest.raises(ValueError, match=r"layer 1 ConvPoolLayer\(.*gives 2880 values.*layer 2 "
                                         r"FullyConnectedLayer\(n_in=500.*expects 500"):
        Network([ConvPoolLayer(image_shape=(10, 1, 28, 28), filter_shape=(20, 1, 5, 5)),
                 FullyConnectedLayer(n_in=500, n_out=100), SoftmaxLayer(n_in=100, n_out=10)], 10)
    with pytest.raises(ValueError, match="reads 1 feature maps but image_shape"):
        ConvPoolLayer(image_shape=(10, 20, 12, 12), filter_shape=(40, 1, 5, 5))
    with pytest.raises(ValueError, match="last layer must be a SoftmaxLayer"):
        Network([FullyConnectedLayer(n_in=784, n_out=10)], 10)
    with pytest.raises(ValueError, match="mini-batches of 10, but mini_batch_size is 20"):
        Network([ConvPoolLayer(image_shape=(10, 1, 28, 28), filter_shape=(20, 1, 5, 5)),
                 SoftmaxLayer(n_in=2880, n_out=10)], 20)
    net = Network([FullyConnectedLayer(n_in=784, n_out=10), SoftmaxLayer(n_in=10, n_out=10)], 10)
    x, y = fake_digits(40)
    with pytest.raises(ValueError, match="differs from the Network's 10"):
        net.SGD((x, y), 1, 20, 0.1, (x, y))
    with pytest.raises(ValueError, match=r"x \(N, 784\) and integer labels"):
        net.SGD((x[:, :100], y), 1, 10, 0.1, (x, y))
    with pytest.raises(ValueError, match="p_dropout must be in"):
        FullyConnectedLayer(n_in=10, n_out=10, p_dropout=1.0)


def test_the_books_pickle_is_refused_with_a_way_out(tmp_path):
    book_file = tmp_path / "mnist.pkl.gz"
    book_file.write_bytes(b"\x80\x04 never read")
    with pytest.raises(ValueError, match="never unpickles.*load_data_shared\\('mnist'\\)"):
        network3.load_data_shared(str(book_file))
    with pytest.raises(ValueError, match="expected 'mnist', 'fashion-mnist' or a folder"):
        network3.load_data_shared("cifar")


def test_expanded_training_set_is_the_books(monkeypatch):
    """Each training image plus its four one-pixel shifts, shuffled once; validation and test untouched."""
    rng = np.random.default_rng(0)
    train = (rng.integers(1, 256, (300, 28, 28), dtype=np.uint8), rng.integers(0, 10, 300))
    test = (rng.integers(0, 256, (100, 28, 28), dtype=np.uint8), rng.integers(0, 10, 100))
    monkeypatch.setattr(network3, "load_dataset", lambda *a, **k: (train, test))
    monkeypatch.setattr(network3, "_N_TRAIN", 200)  # 50,000 of 60,000 in the book; smaller here
    plain = network3.load_data_shared("mnist")
    tr, va, te = network3.load_data_shared("mnist", expanded=True)
    assert network3.size(tr) == 1000 and network3.size(va) == 100 and network3.size(te) == 100
    np.testing.assert_array_equal(va[0], plain[1][0])
    image = plain[0][0][0].reshape(28, 28)
    copies = [row.reshape(28, 28) for row in tr[0][tr[1] == plain[0][1][0]]]
    found = sum(any(np.array_equal(c, expected) for c in copies) for expected in [
        image, np.vstack([image[1:], np.zeros((1, 28))]), np.vstack([np.zeros((1, 28)), image[:-1]]),
        np.hstack([image[:, 1:], np.zeros((28, 1))]), np.hstack([np.zeros((28, 1)), image[:, :-1]])])
    assert found == 5
    assert not np.array_equal(tr[1][:1000], np.tile(plain[0][1][:200], 5))  # shuffled, not in blocks


def test_two_conv_relu_net_learns_fashion_mnist():
    """The chapter's two-conv-pool ReLU network (eta 0.03, lmbda 0.1), one epoch on 3,000 Fashion-MNIST
    images (300 mini-batches): above 55% on 1,000 test images (measured 60.5%; chance is 10%)."""
    try:
        training, validation, test = network3.load_data_shared("fashion-mnist", download=False)
    except DatasetNotFoundError as e:
        pytest.skip(str(e))
    np.random.seed(0)
    net = two_conv_net(10)
    quiet(net.SGD, (training[0][:3000], training[1][:3000]), 1, 10, 0.03,
          (validation[0][:1000], validation[1][:1000]), (test[0][:1000], test[1][:1000]), lmbda=0.1)
    assert net.test_accuracy > 0.55, net.test_accuracy
