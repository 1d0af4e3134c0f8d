"""network: the book's first network (chapter 1), vectorised over the mini-batch.

Michael Nielsen's ``network.py`` (*Neural Networks and Deep Learning*, chapter 1)
with the same names, arguments, printed lines and numbers, on Python 3. A
sigmoid network

    a^0 = x,   z^l = W^l a^{l-1} + b^l,   a^l = sigma(z^l),

with every weight and bias drawn from N(0, 1), trained on the quadratic cost
C = (1/2n) sum_x ||y(x) - a^L(x)||^2 by mini-batch stochastic gradient descent:

    W <- W - (eta/m) sum_x dC_x/dW,    b <- b - (eta/m) sum_x dC_x/db,

the sums running over the m examples of a mini-batch. The output error is
delta^L = (a^L - y) * sigma'(z^L) (``cost_derivative`` times sigma'), and
backpropagation carries it down as delta^l = (W^{l+1}^T delta^{l+1}) * sigma'(z^l).

Chapter 3 improves this program into :mod:`glassnet.classic.network2` (the
cross-entropy cost, N(0, 1/n_in) weights, L2 regularisation, monitoring). The
chapter-1 network is that machinery with chapter 1's choices — the quadratic
cost, N(0, 1) initialisation, no regularisation — so it is written here as a
subclass: the m examples of a mini-batch are the m columns of one matrix, one
matrix product per layer, and the result equals the book's per-example loop to
float64 rounding for the same ``random`` / ``np.random`` seeds.
"""

from __future__ import annotations

import random

import numpy as np

from . import network2
from .network2 import sigmoid, sigmoid_prime

__all__ = ["Network", "sigmoid", "sigmoid_prime"]


class Network(network2.Network):
    """A fully connected sigmoid network with layer sizes ``sizes``, chapter 1's.

    ``Network([784, 30, 10])`` has 784 inputs, 30 hidden and 10 output neurons.
    ``weights[l]`` (sizes[l+1], sizes[l]) and ``biases[l]`` (sizes[l+1], 1) are
    float64 draws from N(0, 1), biases first, as in the book.
    """

    def __init__(self, sizes):
        if len(sizes) < 2 or not all(isinstance(s, (int, np.integer)) and s > 0 for s in sizes):
            raise ValueError(f"network.Network: sizes must be at least two positive integers, got {sizes!r}")
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.cost = network2.QuadraticCost
        self.large_weight_initializer()

    def SGD(self, training_data, epochs, mini_batch_size, eta, test_data=None):
        """Train by mini-batch stochastic gradient descent on the quadratic cost.

        ``training_data`` is a list of pairs ``(x, y)``: x (n_in, 1), y the
        desired output (n_out, 1). Each epoch shuffles the list with
        ``random.shuffle``, cuts it into mini-batches of ``mini_batch_size``
        (the last may be smaller) and takes one step per mini-batch. With
        ``test_data`` (pairs ``(x, integer label)``) every epoch prints
        "Epoch j: correct / n", else "Epoch j complete". Returns None, as the book.
        """
        if not (isinstance(epochs, (int, np.integer)) and epochs >= 0):
            raise ValueError(f"network.SGD: epochs must be a non-negative integer, got {epochs!r}")
        if not (isinstance(mini_batch_size, (int, np.integer)) and mini_batch_size > 0):
            raise ValueError(f"network.SGD: mini_batch_size must be a positive integer, got {mini_batch_size!r}")
        pairs = self._pairs(training_data, "SGD: training_data", one_hot=True)
        if test_data is not None:
            test_data = self._pairs(test_data, "SGD: test_data", one_hot=False)
            test_labels = network2._labels(test_data)
        n = len(pairs)
        self._own_parameters()
        buffers = self._buffers(min(mini_batch_size, n)) if n else None
        for j in range(epochs):
            random.shuffle(pairs)
            with np.errstate(over="ignore"):
                for k in range(0, n, mini_batch_size):
                    self._step(*network2._gather(pairs[k:k + mini_batch_size], *buffers), eta, 0.0, n)
            if test_data:
                print("Epoch {0}: {1} / {2}".format(j, self._accuracy(test_data, test_labels), len(test_data)))
            else:
                print("Epoch {0} complete".format(j))

    def update_mini_batch(self, mini_batch, eta):
        """One gradient-descent step on ``mini_batch`` (a list of ``(x, y)``) with learning rate ``eta``."""
        super().update_mini_batch(mini_batch, eta, 0.0, max(len(mini_batch), 1))

    def evaluate(self, test_data):
        """How many ``(x, integer label)`` pairs of ``test_data`` the network gets right (argmax of the output)."""
        pairs = self._pairs(test_data, "evaluate: test_data", one_hot=False)
        return self._accuracy(pairs, network2._labels(pairs))

    def cost_derivative(self, output_activations, y):
        """dC_x/da^L = a^L - y for the quadratic cost, shape (n_out, m)."""
        return output_activations - y
