"""glassnet.classic against the book's per-example network2 (benchmarks/reference/book_network2.py).

The vectorised network must compute what the book's loop computes, to float64
rounding, from the same ``random``/``np.random`` seeds: weights, biases, the
monitored lists, the printed lines, and the random state it leaves behind.
"""

import contextlib
import importlib.util
import io
import json
import random
from pathlib import Path

import numpy as np
import pytest

from glassnet.classic import mnist_loader, network2
from glassnet.data import load_split, read_idx

ROOT = Path(__file__).resolve().parents[1]
RTOL = 1e-10


@pytest.fixture(scope="module")
def book():
    spec = importlib.util.spec_from_file_location("book_network2", ROOT / "benchmarks/reference/book_network2.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def data():
    """300 training pairs (x (784,1) float32 in [0,1], one-hot y) and 100 evaluation pairs (x, int label).

    Each input is its class's random prototype blended with noise, so a 784-30-10
    network learns the classes over a few epochs without being right from the start.
    """
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 10, 400)
    prototypes = rng.random((10, 784))
    x = (0.5 * prototypes[labels] + 0.5 * rng.random((400, 784))).astype(np.float32)
    training = [(x[i].reshape(784, 1), network2.vectorized_result(labels[i])) for i in range(300)]
    evaluation = [(x[i].reshape(784, 1), labels[i]) for i in range(300, 400)]
    return training, evaluation


def run(module, seed, sizes, cost, data, *args, large=False, **kwargs):
    """Seed like the book, build a network, run SGD; return (net, lists, stdout, state after)."""
    random.seed(seed)
    np.random.seed(seed)
    net = module.Network(sizes, cost=getattr(module, cost))
    if large:
        net.large_weight_initializer()
    initial = [w.copy() for w in net.weights]
    with contextlib.redirect_stdout(io.StringIO()) as out:
        lists = net.SGD(data, *args, **kwargs)
    state = (random.random(), np.random.random())
    return net, initial, lists, out.getvalue(), state


def assert_same_run(ours, ref):
    net, initial, lists, printed, state = ours
    ref_net, ref_initial, ref_lists, ref_printed, ref_state = ref
    for name, a, b in [("weights", net.weights, ref_net.weights), ("biases", net.biases, ref_net.biases),
                       ("initial weights", initial, ref_initial)]:
        assert [x.shape for x in a] == [x.shape for x in b], name
        for x, y in zip(a, b):
            assert x.dtype == np.float64
            np.testing.assert_allclose(x, y, rtol=RTOL, atol=1e-13, err_msg=name)
    # training really moved the weights, so agreeing is not trivial
    assert max(np.abs(w - w0).max() for w, w0 in zip(net.weights, initial)) > 1e-3
    assert len(lists) == 4
    for mine, theirs, kind in zip(lists, ref_lists, ["evaluation cost", "evaluation accuracy",
                                                     "training cost", "training accuracy"]):
        assert len(mine) == len(theirs), kind
        if "accuracy" in kind:
            assert mine == theirs, kind
        else:
            np.testing.assert_allclose(mine, theirs, rtol=RTOL, err_msg=kind)
    # the same lines, numbers equal to rounding
    lines, ref_lines = printed.splitlines(), ref_printed.splitlines()
    assert len(lines) == len(ref_lines)
    for line, ref_line in zip(lines, ref_lines):
        if line.startswith("Cost on"):
            label, value = line.split(": ")
            ref_label, ref_value = ref_line.split(": ")
            assert label == ref_label
            np.testing.assert_allclose(float(value), float(ref_value), rtol=RTOL)
        else:
            assert line == ref_line
    assert state == ref_state, "random / np.random must be left where the book leaves them"


MONITORS = dict(monitor_evaluation_cost=True, monitor_evaluation_accuracy=True,
                monitor_training_cost=True, monitor_training_accuracy=True)


@pytest.mark.parametrize("cost", ["CrossEntropyCost", "QuadraticCost"])
def test_sgd_matches_per_example_book_loop(book, data, cost):
    training, evaluation = data
    args = ([784, 30, 10], cost, training, 3, 10, 0.2)
    kwargs = dict(lmbda=3.0, evaluation_data=evaluation, **MONITORS)
    ours = run(network2, 11, *args, **kwargs)
    assert_same_run(ours, run(book, 11, *args, **kwargs))
    _, _, (eval_cost, eval_acc, train_cost, train_acc), printed, _ = ours
    assert len(eval_cost) == len(eval_acc) == len(train_cost) == len(train_acc) == 3
    assert "Accuracy on evaluation data: {} / 100".format(eval_acc[-1]) in printed
    assert train_cost[-1] < train_cost[0] and train_acc[-1] > 40  # learning (chance is 30 of 300)


def test_sgd_partial_last_batch_large_init_deeper_net(book, data):
    """Mini-batch 7 (300 = 42*7 + 6), large initialisation, two hidden layers, no regularisation."""
    training, evaluation = data
    args = ([784, 20, 15, 10], "CrossEntropyCost", training, 2, 7, 0.3)
    kwargs = dict(evaluation_data=evaluation, monitor_evaluation_accuracy=True, monitor_training_cost=True)
    assert_same_run(run(network2, 3, *args, large=True, **kwargs), run(book, 3, *args, large=True, **kwargs))


def test_sgd_leaves_callers_data_and_arrays_alone(data):
    training, _ = data
    order = [id(x) for x, _ in training]
    random.seed(0)
    np.random.seed(0)
    net = network2.Network([784, 30, 10])
    w0 = net.weights[0]
    before = w0.copy()
    with contextlib.redirect_stdout(io.StringIO()):
        net.SGD(training, 1, 10, 0.5)
    assert [id(x) for x, _ in training] == order  # the book shuffles its own copy of the list
    np.testing.assert_array_equal(w0, before)  # the book binds new arrays; old references keep old values
    assert net.weights[0] is not w0


def test_backprop_and_update_mini_batch_match_book(book, data):
    training, _ = data
    np.random.seed(5)
    ref = book.Network([784, 30, 10], cost=book.QuadraticCost)
    net = network2.Network([784, 30, 10], cost=network2.QuadraticCost)
    net.weights = [w.copy() for w in ref.weights]
    net.biases = [b.copy() for b in ref.biases]
    x, y = training[0]
    for mine, theirs in zip(net.backprop(x, y), ref.backprop(x, y)):  # one example: the book's C_x
        for a, b in zip(mine, theirs):
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-15)
    # m columns: the sum of the m per-example gradients
    batch = training[:10]
    X = np.hstack([x for x, _ in batch]).astype(np.float64)
    Y = np.hstack([y for _, y in batch])
    nabla_b, nabla_w = net.backprop(X, Y)
    per_example = [ref.backprop(x, y) for x, y in batch]
    for layer in range(2):
        np.testing.assert_allclose(nabla_w[layer], sum(g[1][layer] for g in per_example), rtol=RTOL, atol=1e-14)
        np.testing.assert_allclose(nabla_b[layer], sum(g[0][layer] for g in per_example), rtol=RTOL, atol=1e-14)
    old = net.weights[0]
    net.update_mini_batch(batch, 0.5, 2.0, 300)
    ref.update_mini_batch(batch, 0.5, 2.0, 300)
    assert net.weights[0] is not old
    for a, b in zip(net.weights + net.biases, ref.weights + ref.biases):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-14)


@pytest.mark.parametrize("cost", ["CrossEntropyCost", "QuadraticCost"])
def test_feedforward_accuracy_total_cost_match_book(book, data, cost):
    training, evaluation = data
    np.random.seed(2)
    ref = book.Network([784, 30, 10], cost=getattr(book, cost))
    net = network2.Network([784, 30, 10], cost=getattr(network2, cost))
    net.weights, net.biases = ref.weights, ref.biases
    X = np.hstack([x for x, _ in evaluation])
    np.testing.assert_allclose(net.feedforward(X), np.hstack([ref.feedforward(x) for x, _ in evaluation]),
                               rtol=RTOL)
    assert net.accuracy(evaluation) == ref.accuracy(evaluation)
    assert net.accuracy(training, convert=True) == ref.accuracy(training, convert=True)
    np.testing.assert_allclose(net.total_cost(training, 4.0), ref.total_cost(training, 4.0), rtol=RTOL)
    np.testing.assert_allclose(net.total_cost(evaluation, 4.0, convert=True),
                               ref.total_cost(evaluation, 4.0, convert=True), rtol=RTOL)


def test_early_stopping_stops_after_n_epochs_without_improvement(book, data):
    training, evaluation = data
    # eta = 0: the accuracy never improves after epoch 0, so it stops after 1 + n epochs
    args = ([784, 30, 10], "CrossEntropyCost", training, 10, 10, 0.0)
    kwargs = dict(evaluation_data=evaluation, monitor_evaluation_accuracy=True, early_stopping_n=3)
    ours = run(network2, 4, *args, **kwargs)
    assert ours[2][1][0] > 0
    assert len(ours[2][1]) == 4
    assert len(set(ours[2][1])) == 1
    assert ours[3].count("training complete") == 4
    # while learning, it stops where the book stops
    args = ([784, 30, 10], "CrossEntropyCost", training, 12, 10, 0.2)
    kwargs = dict(lmbda=1.0, evaluation_data=evaluation, monitor_evaluation_accuracy=True, early_stopping_n=2)
    ours = run(network2, 8, *args, **kwargs)
    assert_same_run(ours, run(book, 8, *args, **kwargs))
    accuracies = ours[2][1]
    assert 3 <= len(accuracies) < 12, "this run must stop early for the test to mean something"
    best = max(accuracies[:-2])
    assert all(a <= best for a in accuracies[-2:])
    # without evaluation data there is nothing to stop on
    with pytest.raises(ValueError, match="evaluation_data"):
        network2.Network([784, 30, 10]).SGD(training, 1, 10, 0.1, early_stopping_n=2)


def test_epoch_callback_sets_eta_per_epoch_and_stops(book, data):
    training, evaluation = data
    calls = []

    def halve_then_stop(epoch, eta, monitors):
        calls.append((epoch, eta, list(monitors[1])))
        return None if epoch == 2 else eta / 2

    kwargs = dict(lmbda=1.0, evaluation_data=evaluation, monitor_evaluation_accuracy=True)
    net, _, lists, printed, _ = run(network2, 5, [784, 30, 10], "CrossEntropyCost", training, 10, 10, 0.4,
                                    epoch_callback=halve_then_stop, **kwargs)
    assert [c[:2] for c in calls] == [(0, 0.4), (1, 0.2), (2, 0.1)]
    assert calls[-1][2] == lists[1] and len(lists[1]) == 3 and printed.count("training complete") == 3
    # the book's per-example updates over the shuffles of one continuing run, at eta 0.4, 0.2, 0.1
    random.seed(5)
    np.random.seed(5)
    ref = book.Network([784, 30, 10], cost=book.CrossEntropyCost)
    shuffled = list(training)
    for eta in (0.4, 0.2, 0.1):
        random.shuffle(shuffled)
        for k in range(0, len(shuffled), 10):
            ref.update_mini_batch(shuffled[k:k + 10], eta, 1.0, len(shuffled))
    for mine, theirs in zip(net.weights + net.biases, ref.weights + ref.biases):
        np.testing.assert_allclose(mine, theirs, rtol=RTOL, atol=1e-13)
    # a callback that keeps eta changes nothing, bit for bit
    args = ([784, 30, 10], "CrossEntropyCost", training, 3, 10, 0.4)
    kept = run(network2, 6, *args, epoch_callback=lambda epoch, eta, monitors: eta, **kwargs)
    plain = run(network2, 6, *args, **kwargs)
    for mine, theirs in zip(kept[0].weights + kept[0].biases, plain[0].weights + plain[0].biases):
        np.testing.assert_array_equal(mine, theirs)
    assert kept[2:] == plain[2:]
    for bad in (0.0, -0.1, "0.1", True):
        with pytest.raises(ValueError, match="epoch_callback must return a positive learning rate"):
            run(network2, 6, *args, epoch_callback=lambda epoch, eta, monitors, bad=bad: bad, **kwargs)


def test_save_load_roundtrip_in_book_format(book, tmp_path):
    np.random.seed(9)
    net = network2.Network([784, 30, 10], cost=network2.QuadraticCost)
    path = tmp_path / "net.json"
    net.save(path)
    with open(path) as f:
        saved = json.load(f)
    assert set(saved) == {"sizes", "weights", "biases", "cost"}
    assert saved["sizes"] == [784, 30, 10] and saved["cost"] == "QuadraticCost"
    assert np.array(saved["weights"][0]).shape == (30, 784) and np.array(saved["biases"][1]).shape == (10, 1)
    loaded = network2.load(path)
    assert loaded.cost is network2.QuadraticCost and loaded.sizes == [784, 30, 10]
    for a, b in zip(loaded.weights + loaded.biases, net.weights + net.biases):
        assert a.dtype == np.float64
        np.testing.assert_array_equal(a, b)  # JSON keeps every float64 bit
    # the book reads our file and we read the book's
    x = np.random.rand(784, 1)
    np.testing.assert_array_equal(book.load(path).feedforward(x), net.feedforward(x))
    ref = book.Network([784, 20, 10], cost=book.CrossEntropyCost)
    ref.save(tmp_path / "book.json")
    from_book = network2.load(tmp_path / "book.json")
    assert from_book.cost is network2.CrossEntropyCost
    np.testing.assert_array_equal(from_book.feedforward(x), ref.feedforward(x))


def test_load_rejects_bad_files(tmp_path):
    np.random.seed(1)
    network2.Network([4, 3, 2]).save(tmp_path / "net.json")
    saved = json.loads((tmp_path / "net.json").read_text())
    (tmp_path / "cost.json").write_text(json.dumps({**saved, "cost": "os.system"}))
    with pytest.raises(ValueError, match="unknown cost 'os.system'"):
        network2.load(tmp_path / "cost.json")
    (tmp_path / "shape.json").write_text(json.dumps({**saved, "sizes": [4, 5, 2]}))
    with pytest.raises(ValueError, match="weight shapes"):
        network2.load(tmp_path / "shape.json")
    (tmp_path / "keys.json").write_text(json.dumps({"sizes": [4, 3, 2]}))
    with pytest.raises(ValueError, match="lacks the keys"):
        network2.load(tmp_path / "keys.json")


def test_errors_name_what_was_expected(data):
    training, _ = data
    with pytest.raises(ValueError, match="sizes must be at least two positive integers"):
        network2.Network([784])
    with pytest.raises(ValueError, match="must have 20 values"):
        network2.Network([20, 10]).SGD(training, 1, 10, 0.1)
    with pytest.raises(ValueError, match="integer labels"):
        network2.Network([784, 10]).accuracy(training)


def test_helpers_are_the_books():
    z = np.linspace(-5, 5, 11).reshape(-1, 1)
    np.testing.assert_allclose(network2.sigmoid(z), 1 / (1 + np.exp(-z)))
    s = network2.sigmoid(z)
    np.testing.assert_allclose(network2.sigmoid_prime(z), s * (1 - s))
    assert network2.sigmoid_prime(np.zeros(1))[0] == 0.25
    e = network2.vectorized_result(3)
    assert e.shape == (10, 1) and e[3, 0] == 1.0 and e.sum() == 1.0
    a, y = np.array([[0.9], [0.2]]), np.array([[1.0], [0.0]])
    assert network2.CrossEntropyCost.fn(a, y) == pytest.approx(-np.log(0.9) - np.log(0.8))
    assert network2.QuadraticCost.fn(a, y) == pytest.approx(0.5 * (0.01 + 0.04))
    # a saturated, right output costs 0, not nan
    assert network2.CrossEntropyCost.fn(np.array([[1.0]]), np.array([[1.0]])) == 0.0


def test_loader_structures_on_real_mnist_test_files(mnist):
    images, labels = load_split("mnist", "test", data_dir=mnist, download=False)
    x = mnist_loader.flatten_pixels(images)
    assert x.shape == (10_000, 784) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_array_equal(x[0] * 255, images[0].reshape(-1))
    cols = mnist_loader.columns(x)
    assert len(cols) == 10_000 and cols[5].shape == (784, 1) and np.shares_memory(cols[5], x)
    assert labels.dtype == np.int64 and labels[:5].tolist() == [7, 2, 1, 0, 4]  # the famous first digits
    with pytest.raises(ValueError, match="uint8 images"):
        mnist_loader.flatten_pixels(x)


def test_loader_on_fashion_mnist(monkeypatch, fashion_mnist_dir):
    arrays = mnist_loader.load_data("fashion-mnist", data_dir=fashion_mnist_dir)
    (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = arrays
    assert tr_x.shape == (50_000, 784) and va_x.shape == (10_000, 784) and te_x.shape == (10_000, 784)
    assert tr_x.dtype == va_x.dtype == te_x.dtype == np.float32
    assert tr_y.dtype == va_y.dtype == te_y.dtype == np.int64
    assert 0.0 <= tr_x.min() and tr_x.max() <= 1.0
    train_labels = read_idx(fashion_mnist_dir / "train-labels-idx1-ubyte.gz")
    np.testing.assert_array_equal(np.concatenate([tr_y, va_y]), train_labels)  # validation = the last 10,000
    # the wrapper on the arrays just checked (reading the files once keeps the test fast)
    monkeypatch.setattr(mnist_loader, "load_data", lambda *args: arrays)
    training, validation, test = mnist_loader.load_data_wrapper("fashion-mnist", data_dir=fashion_mnist_dir)
    assert isinstance(training, list) and (len(training), len(validation), len(test)) == (50_000, 10_000, 10_000)
    x, y = training[123]
    assert x.shape == (784, 1) and x.dtype == np.float32 and y.shape == (10, 1)
    assert y[tr_y[123], 0] == 1.0 and y.sum() == 1.0
    x, label = test[0]
    assert x.shape == (784, 1) and int(label) == te_y[0]
    np.testing.assert_array_equal(x[:, 0], te_x[0])


# ---- chapter 1: glassnet.classic.network against the same per-example reference ----

@pytest.fixture(scope="module")
def chapter1_reference(book):
    return book.Chapter1Network


def run_chapter1(make, seed, sizes, training, *args, **kwargs):
    """Seed like the book, build ``make(sizes)``, run SGD; return (net, initial, stdout, state)."""
    random.seed(seed)
    np.random.seed(seed)
    net = make(sizes)
    initial = [w.copy() for w in net.weights] + [b.copy() for b in net.biases]
    with contextlib.redirect_stdout(io.StringIO()) as out:
        returned = net.SGD(training, *args, **kwargs)
    assert returned is None
    return net, initial, out.getvalue(), (random.random(), np.random.random())


@pytest.mark.parametrize("sizes, batch, epochs", [([784, 30, 10], 10, 3), ([784, 20, 15, 10], 7, 2)])
def test_network_sgd_equals_per_example_loop(chapter1_reference, data, sizes, batch, epochs):
    """Equal to rounding at eta = 0.5. (At the book's eta = 3.0 this N(0, 1) net is chaotic
    enough to grow the 1e-16 differences of summation order to 1e-9 within two epochs.)"""
    from glassnet.classic import network
    training, evaluation = data
    ours = run_chapter1(network.Network, 4, sizes, training, epochs, batch, 0.5, test_data=evaluation)
    ref = run_chapter1(chapter1_reference, 4, sizes, training, epochs, batch, 0.5, test_data=evaluation)
    net, initial, printed, state = ours
    ref_net, ref_initial, ref_printed, ref_state = ref
    for a, b in zip(initial, ref_initial):
        np.testing.assert_array_equal(a, b)  # the same N(0, 1) draws, biases first
    for a, b in zip(net.weights + net.biases, ref_net.weights + ref_net.biases):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-13)
    assert max(np.abs(w - w0).max() for w, w0 in zip(net.weights, initial)) > 1e-3  # it really trained
    assert printed == ref_printed and printed.splitlines()[0].startswith("Epoch 0: ")
    assert len(printed.splitlines()) == epochs
    assert state == ref_state


def test_network_learns_real_digits_at_the_books_settings(mnist):
    """Chapter 1's [784, 30, 10], eta = 3.0, mini-batch 10, on 8,000 real MNIST digits: above 88%
    on 2,000 held-out digits after 5 epochs (measured 92.1%; the book gets ~95% from 50,000)."""
    from glassnet.classic import network
    images, labels = load_split("mnist", "test", data_dir=mnist, download=False)
    x = mnist_loader.columns(mnist_loader.flatten_pixels(images))
    training = [(c, network2.vectorized_result(label)) for c, label in zip(x[:8000], labels[:8000])]
    held_out = list(zip(x[8000:], labels[8000:]))
    _, _, printed, _ = run_chapter1(network.Network, 0, [784, 30, 10], training, 5, 10, 3.0, test_data=held_out)
    correct = [int(line.split(": ")[1].split(" / ")[0]) for line in printed.splitlines()]
    assert correct[-1] > 0.88 * 2000, printed


def test_network_api_of_chapter_one(chapter1_reference, data):
    from glassnet.classic import network
    training, evaluation = data
    np.random.seed(1)
    net = network.Network([784, 16, 10])
    assert net.num_layers == 3 and net.sizes == [784, 16, 10]
    assert [w.shape for w in net.weights] == [(16, 784), (10, 16)]
    assert [b.shape for b in net.biases] == [(16, 1), (10, 1)]
    assert 0.9 < np.std(net.weights[0]) < 1.1  # N(0, 1), chapter 1's initialisation
    x, y = training[0]
    assert net.feedforward(x).shape == (10, 1)
    np.testing.assert_array_equal(net.cost_derivative(np.ones((10, 1)), y), np.ones((10, 1)) - y)
    # backprop of one example is the reference's per-example gradient
    np.random.seed(1)
    ref = chapter1_reference([784, 16, 10])
    (nb, nw), (rb, rw) = net.backprop(x, y), ref.backprop(x, y)
    for a, b in zip(nb + nw, rb + rw):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-15)
    net.update_mini_batch(training[:10], 3.0)
    ref.update_mini_batch(training[:10], 3.0, 0.0, len(training))
    for a, b in zip(net.weights + net.biases, ref.weights + ref.biases):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-13)
    assert net.evaluate(evaluation) == ref.accuracy(evaluation)
    with contextlib.redirect_stdout(io.StringIO()) as out:
        net.SGD(training[:20], 2, 10, 1.0)
    assert out.getvalue() == "Epoch 0 complete\nEpoch 1 complete\n"


def test_network_errors_name_what_was_expected(data):
    from glassnet.classic import network
    training, _ = data
    with pytest.raises(ValueError, match="sizes must be at least two positive integers"):
        network.Network([784])
    with pytest.raises(ValueError, match="must have 20 values"):
        network.Network([20, 10]).SGD(training, 1, 10, 0.1)
    with pytest.raises(ValueError, match="mini_batch_size must be a positive integer"):
        network.Network([784, 10]).SGD(training, 1, 0, 0.1)
