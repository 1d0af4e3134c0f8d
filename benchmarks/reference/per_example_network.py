"""Chapter 1's algorithm one example at a time: the reference for ``glassnet.classic.network``.

Written for glassnet from the equations of the book's chapter 1 (not from its
code): a sigmoid network with N(0, 1) weights and biases (biases drawn first),
the quadratic cost C_x = (1/2)||a^L - y||^2, and per-example backpropagation

    delta^L = (a^L - y) * sigma'(z^L),   delta^l = (W^{l+1}^T delta^{l+1}) * sigma'(z^l),
    dC_x/db^l = delta^l,                 dC_x/dW^l = delta^l (a^{l-1})^T,

summed over a mini-batch of m examples and applied as W <- W - (eta/m) sum_x dC_x/dW.
Each epoch reorders the training list with ``random.shuffle`` and prints what the
book prints. Slow on purpose: it is what the vectorised version must equal, and
the baseline the ``classic1-b10`` benchmark measures against.
"""

import random

import numpy as np


def sigma(z):
    return 1.0 / (1.0 + np.exp(-z))


class Network:
    def __init__(self, sizes):
        self.sizes = sizes
        self.biases = [np.random.randn(n, 1) for n in sizes[1:]]
        self.weights = [np.random.randn(n_out, n_in) for n_in, n_out in zip(sizes[:-1], sizes[1:])]

    def feedforward(self, a):
        for w, b in zip(self.weights, self.biases):
            a = sigma(w @ a + b)
        return a

    def example_gradient(self, x, y):
        """(dC_x/db, dC_x/dW) for one column x (n_in, 1) and target y (n_out, 1)."""
        outputs = [x]
        for w, b in zip(self.weights, self.biases):
            outputs.append(sigma(w @ outputs[-1] + b))
        a = outputs[-1]
        delta = (a - y) * a * (1 - a)
        grad_b, grad_w = [], []
        for layer in range(len(self.weights) - 1, -1, -1):
            grad_b.insert(0, delta)
            grad_w.insert(0, delta @ outputs[layer].T)
            if layer:
                below = outputs[layer]
                delta = (self.weights[layer].T @ delta) * below * (1 - below)
        return grad_b, grad_w

    def step(self, batch, eta):
        sum_b = [np.zeros_like(b) for b in self.biases]
        sum_w = [np.zeros_like(w) for w in self.weights]
        for x, y in batch:
            grad_b, grad_w = self.example_gradient(x, y)
            sum_b = [s + g for s, g in zip(sum_b, grad_b)]
            sum_w = [s + g for s, g in zip(sum_w, grad_w)]
        rate = eta / len(batch)
        self.weights = [w - rate * s for w, s in zip(self.weights, sum_w)]
        self.biases = [b - rate * s for b, s in zip(self.biases, sum_b)]

    def correct(self, test_data):
        return sum(int(np.argmax(self.feedforward(x)) == label) for x, label in test_data)

    def SGD(self, training_data, epochs, mini_batch_size, eta, test_data=None):
        training_data = list(training_data)
        for epoch in range(epochs):
            random.shuffle(training_data)
            for start in range(0, len(training_data), mini_batch_size):
                self.step(training_data[start:start + mini_batch_size], eta)
            if test_data:
                print("Epoch {0}: {1} / {2}".format(epoch, self.correct(test_data), len(test_data)))
            else:
                print("Epoch {0} complete".format(epoch))
