"""book_network2.py: the per-example reference for ``glassnet.classic.network2`` and ``network``.

This is the oracle the vectorised ``glassnet.classic.network2`` (chapter 3) and
``glassnet.classic.network`` (chapter 1) are tested against (``tests/test_classic.py``)
and the baseline of the ``classic-b10`` and ``classic1-b10`` benchmarks. It is not
part of the package. It implements the algorithm of *Neural Networks and Deep
Learning* (Nielsen) the slow, obvious way: one example at a time, written by us
from the equations, with the cost as a parameter:

    forward       z^l = W^l a^{l-1} + b^l,   a^l = σ(z^l),   a^0 = x (a column)
    output error  δ^L = ∂C_x/∂z^L: (a^L − y) for cross-entropy, (a^L − y) ⊙ σ′(z^L) for the quadratic cost
    backward      δ^l = (W^{l+1})ᵀ δ^{l+1} ⊙ σ′(z^l)
    gradients     ∂C_x/∂b^l = δ^l,   ∂C_x/∂W^l = δ^l (a^{l-1})ᵀ
    SGD step      W ← (1 − ηλ/n) W − (η/m) Σ_x ∂C_x/∂W,   b ← b − (η/m) Σ_x ∂C_x/∂b

over a mini-batch of m of the n training pairs. It keeps the interface that
``glassnet.classic.network2`` copies (class and method names, arguments, the
four monitoring lists, the progress lines, the JSON file) and the same use of
the two random generators (``np.random.randn`` for biases then weights, layer
by layer; ``random.shuffle`` of a copy of the training list each epoch), so
both give the same numbers for the same ``random.seed``/``np.random.seed``.

Chapter 1's network is the same loop with chapter 1's choices: the quadratic
cost, N(0, 1) weights and biases, no regularisation, and chapter 1's ``SGD``
signature and progress lines (:class:`Chapter1Network`).
"""

import json
import random

import numpy as np


def sigmoid(z):
    """σ(z) = 1 / (1 + e^−z), elementwise."""
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    """σ′(z) = σ(z)(1 − σ(z)), elementwise."""
    s = sigmoid(z)
    return s * (1.0 - s)


def vectorized_result(j):
    """The label ``j`` as a one-hot (10, 1) column."""
    column = np.zeros((10, 1))
    column[j] = 1.0
    return column


class QuadraticCost:
    """C_x = ½‖a − y‖²."""

    @staticmethod
    def fn(a, y):
        return 0.5 * np.linalg.norm(a - y) ** 2

    @staticmethod
    def delta(z, a, y):
        return (a - y) * sigmoid_prime(z)


class CrossEntropyCost:
    """C_x = −Σ_j [y_j ln a_j + (1 − y_j) ln(1 − a_j)]; a term 0·ln 0 counts as 0."""

    @staticmethod
    def fn(a, y):
        return np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a)))

    @staticmethod
    def delta(z, a, y):
        return a - y


COSTS = {"QuadraticCost": QuadraticCost, "CrossEntropyCost": CrossEntropyCost}


class Network:
    """A fully connected sigmoid network with layer sizes ``sizes``."""

    def __init__(self, sizes, cost=CrossEntropyCost):
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.cost = cost
        self.default_weight_initializer()

    def _draw(self, weight_scale):
        pairs = list(zip(self.sizes[:-1], self.sizes[1:]))
        self.biases = [np.random.randn(n_out, 1) for _, n_out in pairs]
        self.weights = [np.random.randn(n_out, n_in) * weight_scale(n_in) for n_in, n_out in pairs]

    def default_weight_initializer(self):
        """Weights N(0, 1/n_in), biases N(0, 1)."""
        self._draw(lambda n_in: 1 / np.sqrt(n_in))

    def large_weight_initializer(self):
        """Weights and biases N(0, 1)."""
        self._draw(lambda n_in: 1.0)

    def feedforward(self, a):
        for w, b in zip(self.weights, self.biases):
            a = sigmoid(w @ a + b)
        return a

    def backprop(self, x, y):
        """(∂C_x/∂b per layer, ∂C_x/∂W per layer) for one example."""
        activations, zs = [x], []
        for w, b in zip(self.weights, self.biases):
            zs.append(w @ activations[-1] + b)
            activations.append(sigmoid(zs[-1]))
        delta = self.cost.delta(zs[-1], activations[-1], y)
        grad_b, grad_w = [None] * len(self.weights), [None] * len(self.weights)
        for layer in range(len(self.weights) - 1, -1, -1):
            if layer < len(self.weights) - 1:
                delta = (self.weights[layer + 1].T @ delta) * sigmoid_prime(zs[layer])
            grad_b[layer] = delta
            grad_w[layer] = delta @ activations[layer].T
        return grad_b, grad_w

    def update_mini_batch(self, mini_batch, eta, lmbda, n):
        """One SGD step on the summed per-example gradients of ``mini_batch``."""
        sum_b = [np.zeros_like(b) for b in self.biases]
        sum_w = [np.zeros_like(w) for w in self.weights]
        for x, y in mini_batch:
            grad_b, grad_w = self.backprop(x, y)
            sum_b = [s + g for s, g in zip(sum_b, grad_b)]
            sum_w = [s + g for s, g in zip(sum_w, grad_w)]
        step = eta / len(mini_batch)
        self.weights = [(1 - eta * (lmbda / n)) * w - step * g for w, g in zip(self.weights, sum_w)]
        self.biases = [b - step * g for b, g in zip(self.biases, sum_b)]

    def train_epoch(self, training, mini_batch_size, eta, lmbda=0.0):
        """One epoch: shuffle the list ``training`` in place (``random.shuffle``), one step per mini-batch."""
        n = len(training)
        random.shuffle(training)
        for start in range(0, n, mini_batch_size):
            self.update_mini_batch(training[start:start + mini_batch_size], eta, lmbda, n)

    def accuracy(self, data, convert=False):
        """How many of ``data`` are classified right; ``convert`` when the labels are one-hot columns."""
        return sum(int(np.argmax(self.feedforward(x)) == (np.argmax(y) if convert else y)) for x, y in data)

    def total_cost(self, data, lmbda, convert=False):
        """Mean cost over ``data`` plus (λ / 2·len(data)) Σ‖W‖²; ``convert`` when labels are integers."""
        cost = 0.0
        for x, y in data:
            cost += self.cost.fn(self.feedforward(x), vectorized_result(y) if convert else y) / len(data)
        return cost + 0.5 * (lmbda / len(data)) * sum(np.linalg.norm(w) ** 2 for w in self.weights)

    def SGD(self, training_data, epochs, mini_batch_size, eta, lmbda=0.0, evaluation_data=None,
            monitor_evaluation_cost=False, monitor_evaluation_accuracy=False,
            monitor_training_cost=False, monitor_training_accuracy=False, early_stopping_n=0):
        """Train; returns (evaluation cost, evaluation accuracy, training cost, training accuracy) per epoch.

        Early stopping (``early_stopping_n`` > 0) watches the last accuracy
        measured in each epoch and stops after that many epochs without a new best."""
        training = list(training_data)
        n = len(training)
        evaluation = list(evaluation_data) if evaluation_data else None
        lists = ([], [], [], [])
        best, epochs_without_best, watched = 0, 0, None
        for epoch in range(epochs):
            self.train_epoch(training, mini_batch_size, eta, lmbda)
            print("Epoch %s training complete" % epoch)
            if monitor_training_cost:
                lists[2].append(self.total_cost(training, lmbda))
                print("Cost on training data: {}".format(lists[2][-1]))
            if monitor_training_accuracy:
                watched = self.accuracy(training, convert=True)
                lists[3].append(watched)
                print("Accuracy on training data: {} / {}".format(watched, n))
            if monitor_evaluation_cost:
                lists[0].append(self.total_cost(evaluation, lmbda, convert=True))
                print("Cost on evaluation data: {}".format(lists[0][-1]))
            if monitor_evaluation_accuracy:
                watched = self.accuracy(evaluation)
                lists[1].append(watched)
                print("Accuracy on evaluation data: {} / {}".format(watched, len(evaluation)))
            if early_stopping_n > 0:
                if watched > best:
                    best, epochs_without_best = watched, 0
                else:
                    epochs_without_best += 1
                if epochs_without_best == early_stopping_n:
                    break
        return lists

    def save(self, filename):
        """Write sizes, weights, biases and the cost's name as JSON."""
        with open(filename, "w") as f:
            json.dump({"sizes": self.sizes, "weights": [w.tolist() for w in self.weights],
                       "biases": [b.tolist() for b in self.biases], "cost": self.cost.__name__}, f)


class Chapter1Network(Network):
    """Chapter 1's network (the reference for ``glassnet.classic.network``): the
    quadratic cost C_x = ½‖a − y‖², weights and biases N(0, 1) (biases drawn
    first), no regularisation (λ = 0), and chapter 1's ``SGD``, which returns
    nothing and prints ``Epoch e: correct / total`` (or ``Epoch e complete``)."""

    def __init__(self, sizes):  # not Network.__init__: its default initializer would draw first
        self.num_layers, self.sizes, self.cost = len(sizes), sizes, QuadraticCost
        self.large_weight_initializer()

    def SGD(self, training_data, epochs, mini_batch_size, eta, test_data=None):
        training = list(training_data)
        for epoch in range(epochs):
            self.train_epoch(training, mini_batch_size, eta)
            if test_data:
                print("Epoch {0}: {1} / {2}".format(epoch, self.accuracy(test_data), len(test_data)))
            else:
                print("Epoch {0} complete".format(epoch))


def load(filename):
    """The Network saved in ``filename`` by :meth:`Network.save`."""
    with open(filename) as f:
        saved = json.load(f)
    net = Network(saved["sizes"], cost=COSTS[saved["cost"]])
    net.weights = [np.array(w) for w in saved["weights"]]
    net.biases = [np.array(b) for b in saved["biases"]]
    return net
