"""network2: the book's improved network, vectorised over the mini-batch.

This is Michael Nielsen's ``network2.py`` (*Neural Networks and Deep Learning*,
chapter 3) with the same names, arguments, return values, printed lines and JSON
save format, on Python 3. A sigmoid network

    a^0 = x,   z^l = W^l a^{l-1} + b^l,   a^l = sigma(z^l),

trained by mini-batch SGD with L2 regularisation:

    W <- (1 - eta*lmbda/n) W - (eta/m) sum_x dC_x/dW,    b <- b - (eta/m) sum_x dC_x/db.

Why it is fast
--------------
The book runs backpropagation once per example and adds the m gradients up.
Here the m examples of a mini-batch are the m columns of one matrix X (n_in, m),
so each layer is one matrix product ``W @ A`` and the summed weight gradient is
one product ``Delta @ A^T``: the sum over examples happens inside the matrix
product. It is the same arithmetic in a different order, so the weights agree
with the per-example loop to float64 rounding (tests check rtol 1e-10 after
whole runs). The training list is turned into one array once per ``SGD`` call,
and each epoch's order is the book's ``random.shuffle`` applied to a list of
positions of the same length, which draws the same random numbers and yields the
same permutation as shuffling the list of pairs itself. So
``random.seed(n); np.random.seed(n)`` reproduces the book's runs number for number.

Why cross-entropy
-----------------
With the quadratic cost the output error is ``delta = (a - y) * sigma'(z)``: a
saturated output neuron (sigma' near 0) learns slowly however wrong it is. With
the cross-entropy cost ``C = -sum[y ln a + (1 - y) ln(1 - a)]`` the sigma' cancels
and ``delta = a - y``: the larger the error, the faster it learns.

Why lmbda/n
-----------
The regularised cost is ``C = C_0 + (lmbda / 2n) sum_w w^2`` with n the size of
the whole training set, so its gradient adds ``(lmbda/n) w`` to every example's
gradient: each step shrinks the weights by the factor ``1 - eta*lmbda/n``.
"""

from __future__ import annotations

import json
import random

import numpy as np

_EVAL_CHUNK = 2000  # examples per matrix product when evaluating a data set


#### The cost functions

class QuadraticCost:
    """C = (1/2) ||a - y||^2, summed over the columns of a and y."""

    @staticmethod
    def fn(a, y):
        """The cost of outputs ``a`` against targets ``y`` (both (n_out, m)), summed over the m columns."""
        return 0.5 * np.linalg.norm(a - y) ** 2

    @staticmethod
    def delta(z, a, y):
        """Output error dC/dz = (a - y) * sigma'(z), shape (n_out, m)."""
        return (a - y) * sigmoid_prime(z)


class CrossEntropyCost:
    """C = -sum[y ln a + (1 - y) ln(1 - a)], summed over all entries.

    ``np.nan_to_num`` turns the 0*log(0) = nan of a saturated output that is
    right (a = y = 1) into the correct 0.
    """

    @staticmethod
    def fn(a, y):
        """The cost of outputs ``a`` against targets ``y`` (both (n_out, m)), summed over the m columns."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a)))

    @staticmethod
    def delta(z, a, y):
        """Output error dC/dz = a - y (sigma' cancels); ``z`` is unused, kept for one interface."""
        return a - y


_COSTS = {cls.__name__: cls for cls in (QuadraticCost, CrossEntropyCost)}


#### The network

class Network:
    """A fully connected sigmoid network with layer sizes ``sizes``.

    ``weights[l]`` has shape (sizes[l+1], sizes[l]) and ``biases[l]`` shape
    (sizes[l+1], 1), float64, as in the book.
    """

    def __init__(self, sizes, cost=CrossEntropyCost):
        if len(sizes) < 2 or not all(isinstance(s, (int, np.integer)) and s > 0 for s in sizes):
            raise ValueError(f"network2.Network: sizes must be at least two positive integers, got {sizes!r}")
        if not (hasattr(cost, "fn") and hasattr(cost, "delta")):
            raise TypeError(f"network2.Network: cost must be a class with static fn and delta "
                            f"(QuadraticCost or CrossEntropyCost), got {cost!r}")
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.default_weight_initializer()
        self.cost = cost

    def default_weight_initializer(self):
        """Weights N(0, 1/n_in) (randn / sqrt(n_in)), biases N(0, 1), from ``np.random`` as the book.

        The 1/sqrt(n_in) keeps z = sum_j w_j x_j + b of order 1, so hidden neurons
        do not start saturated.
        """
        self.biases = [np.random.randn(y, 1) for y in self.sizes[1:]]
        self.weights = [np.random.randn(y, x) / np.sqrt(x)
                        for x, y in zip(self.sizes[:-1], self.sizes[1:])]

    def large_weight_initializer(self):
        """Weights and biases N(0, 1), chapter 1's initialisation (for comparison)."""
        self.biases = [np.random.randn(y, 1) for y in self.sizes[1:]]
        self.weights = [np.random.randn(y, x)
                        for x, y in zip(self.sizes[:-1], self.sizes[1:])]

    def feedforward(self, a):
        """The output for input ``a``: one column (n_in, 1) as in the book, or m columns (n_in, m)."""
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(np.dot(w, a) + b)
        return a

    def SGD(self, training_data, epochs, mini_batch_size, eta,
            lmbda=0.0,
            evaluation_data=None,
            monitor_evaluation_cost=False,
            monitor_evaluation_accuracy=False,
            monitor_training_cost=False,
            monitor_training_accuracy=False,
            early_stopping_n=0,
            epoch_callback=None):
        """Train by mini-batch stochastic gradient descent.

        ``training_data`` is a list of pairs ``(x, y)``: x of shape (n_in, 1), y
        the desired output (n_out, 1). ``evaluation_data`` (validation or test
        data) is a list of ``(x, label)`` with an integer label. Each epoch
        shuffles with ``random.shuffle``, splits into mini-batches of
        ``mini_batch_size`` (the last may be smaller) and takes one step per
        mini-batch. After each epoch it prints and records the monitored
        quantities. Returns the four per-epoch lists ``(evaluation_cost,
        evaluation_accuracy, training_cost, training_accuracy)``, empty where
        the flag is off; accuracies are counts of correct examples.

        ``early_stopping_n > 0`` stops when the evaluation accuracy has not
        improved on its best for that many epochs in a row. (The book's code
        compares whichever accuracy it computed last; with
        ``monitor_evaluation_accuracy=True``, its usual use, that is the same.)

        ``epoch_callback`` (not in the book) is the hook for chapter 3's
        learning-rate schedules and for keeping the best weights: after each
        epoch's monitoring it is called as ``epoch_callback(epoch, eta,
        monitors)``, ``monitors`` being the four lists so far, and returns the
        learning rate for the next epoch (``eta`` to keep it) or ``None`` to stop.
        Training continues in the same call, so the shuffles are those of a run
        without the callback.
        """
        training_data = list(training_data)
        n = len(training_data)
        X = _stack_rows((x for x, _ in training_data), self.sizes[0], "training inputs x")
        Y = _stack_rows((y for _, y in training_data), self.sizes[-1], "training targets y").astype(np.float64)
        if evaluation_data is not None:
            evaluation_data = list(evaluation_data) or None
        if evaluation_data is not None:
            n_data = len(evaluation_data)
            X_eval = _stack_rows((x for x, _ in evaluation_data), self.sizes[0], "evaluation inputs x")
            labels_eval = _labels(evaluation_data)
        elif early_stopping_n > 0 or monitor_evaluation_cost or monitor_evaluation_accuracy:
            raise ValueError("network2.SGD: early stopping and evaluation monitors need evaluation_data, got none")
        if monitor_training_accuracy:
            labels_train = np.argmax(Y, axis=1)

        # Own copies of the parameters, updated in place by _step (the caller's
        # arrays stay untouched, as with the book's rebinding).
        self.weights = [np.array(w, dtype=np.float64) for w in self.weights]
        self.biases = [np.array(b, dtype=np.float64) for b in self.biases]
        order = list(range(n))
        best_accuracy = 0
        no_accuracy_change = 0
        evaluation_cost, evaluation_accuracy = [], []
        training_cost, training_accuracy = [], []
        for j in range(epochs):
            random.shuffle(order)
            positions = np.array(order, dtype=np.intp)
            with np.errstate(over="ignore"):
                for k in range(0, n, mini_batch_size):
                    batch = positions[k:k + mini_batch_size]
                    xb = X[batch]
                    if xb.dtype != np.float64:
                        xb = xb.astype(np.float64)
                    self._step(xb.T, Y[batch].T, eta, lmbda, n)

            print("Epoch %s training complete" % j)

            if monitor_training_cost:
                cost = self._total_cost(X, Y, lmbda)
                training_cost.append(cost)
                print("Cost on training data: {}".format(cost))
            if monitor_training_accuracy:
                accuracy = self._accuracy(X, labels_train)
                training_accuracy.append(accuracy)
                print("Accuracy on training data: {} / {}".format(accuracy, n))
            if monitor_evaluation_cost:
                cost = self._total_cost(X_eval, self._one_hot(labels_eval), lmbda)
                evaluation_cost.append(cost)
                print("Cost on evaluation data: {}".format(cost))
            if monitor_evaluation_accuracy or early_stopping_n > 0:
                accuracy = self._accuracy(X_eval, labels_eval)
            if monitor_evaluation_accuracy:
                evaluation_accuracy.append(accuracy)
                print("Accuracy on evaluation data: {} / {}".format(accuracy, n_data))

            if epoch_callback is not None:
                eta = epoch_callback(j, eta, (evaluation_cost, evaluation_accuracy,
                                              training_cost, training_accuracy))
                if eta is None:
                    break
                if isinstance(eta, bool) or not (isinstance(eta, (int, float, np.integer, np.floating)) and eta > 0):
                    raise ValueError(f"network2.SGD: epoch_callback must return a positive learning rate "
                                     f"or None, got {eta!r} after epoch {j}")

            if early_stopping_n > 0:
                if accuracy > best_accuracy:
                    best_accuracy = accuracy
                    no_accuracy_change = 0
                else:
                    no_accuracy_change += 1
                if no_accuracy_change == early_stopping_n:
                    break

        return evaluation_cost, evaluation_accuracy, training_cost, training_accuracy

    def update_mini_batch(self, mini_batch, eta, lmbda, n):
        """One gradient-descent step on ``mini_batch``, a list of ``(x, y)`` pairs.

        ``eta`` is the learning rate, ``lmbda`` the L2 parameter and ``n`` the size
        of the whole training set. Like the book it binds new weight and bias arrays.
        """
        mini_batch = list(mini_batch)
        X = _stack_rows((x for x, _ in mini_batch), self.sizes[0], "mini-batch inputs x").astype(np.float64)
        Y = _stack_rows((y for _, y in mini_batch), self.sizes[-1], "mini-batch targets y").astype(np.float64)
        self.weights = [np.array(w, dtype=np.float64) for w in self.weights]
        self.biases = [np.array(b, dtype=np.float64) for b in self.biases]
        self._step(X.T, Y.T, eta, lmbda, n)

    def _step(self, x, y, eta, lmbda, n):
        """Update the parameters in place from the m columns of x (n_in, m) and y (n_out, m).

        W <- (1 - eta*(lmbda/n)) W - (eta/m) nabla_W,  b <- b - (eta/m) nabla_b.
        The factor eta/m is applied to the output error, before the sums over
        the mini-batch, which saves a pass over every weight matrix.
        """
        nabla_b, nabla_w = self._gradients(x, y, eta / x.shape[1])
        decay = 1 - eta * (lmbda / n)
        for w, nw in zip(self.weights, nabla_w):
            if decay != 1.0:
                w *= decay
            w -= nw
        for b, nb in zip(self.biases, nabla_b):
            b -= nb

    def backprop(self, x, y):
        """Return ``(nabla_b, nabla_w)``, the gradient of the cost summed over the columns of x.

        x (n_in, m) and y (n_out, m); with m = 1 this is the book's gradient of
        C_x. Forward: z^l = W^l a^{l-1} + b^l, a^l = sigma(z^l). Backward:
        delta^L = cost.delta(z^L, a^L, y), delta^l = (W^{l+1}^T delta^{l+1}) * sigma'(z^l),
        nabla_b^l = sum over columns of delta^l, nabla_w^l = delta^l (a^{l-1})^T.
        Lists of arrays shaped like ``biases`` and ``weights``.
        """
        return self._gradients(x, y, 1.0)

    def _gradients(self, x, y, scale):
        """``backprop`` times ``scale``, applied to delta^L (every delta^l is linear in it)."""
        activation = x
        activations = [x]  # a^0 ... a^L, each (n_l, m)
        zs = []            # z^1 ... z^L
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation)
            z += b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        nabla_b = [None] * len(self.biases)
        nabla_w = [None] * len(self.weights)
        delta = self.cost.delta(zs[-1], activations[-1], y)
        if scale != 1.0:
            delta *= scale
        nabla_b[-1] = delta.sum(axis=1, keepdims=True)
        nabla_w[-1] = np.dot(delta, activations[-2].T)
        # l = 2 is the second-last layer, as in the book (negative indices).
        for l in range(2, self.num_layers):
            a = activations[-l]
            sp = a * (1 - a)  # sigma'(z) = sigma(z)(1 - sigma(z)), the same bits as sigmoid_prime(z)
            delta = np.dot(self.weights[-l + 1].T, delta) * sp
            nabla_b[-l] = delta.sum(axis=1, keepdims=True)
            nabla_w[-l] = np.dot(delta, activations[-l - 1].T)
        return nabla_b, nabla_w

    def accuracy(self, data, convert=False):
        """How many inputs in ``data`` the network classifies right (argmax of the output).

        ``convert=False`` for validation/test data, whose y are integer labels;
        ``convert=True`` for training data, whose y are one-hot vectors.
        """
        data = list(data)
        X = _stack_rows((x for x, _ in data), self.sizes[0], "inputs x")
        if convert:
            labels = np.argmax(_stack_rows((y for _, y in data), self.sizes[-1], "targets y"), axis=1)
        else:
            labels = _labels(data)
        return self._accuracy(X, labels)

    def total_cost(self, data, lmbda, convert=False):
        """The mean cost over ``data`` plus the L2 term (lmbda / 2n) sum_w w^2, n = len(data).

        ``convert=False`` for training data (one-hot y); ``convert=True`` for
        validation/test data, whose integer labels are made one-hot first.
        """
        data = list(data)
        X = _stack_rows((x for x, _ in data), self.sizes[0], "inputs x")
        if convert:
            Y = self._one_hot(_labels(data))
        else:
            Y = _stack_rows((y for _, y in data), self.sizes[-1], "targets y").astype(np.float64)
        return self._total_cost(X, Y, lmbda)

    def _outputs(self, X):
        """Yield (start, output (n_out, c)) for consecutive chunks of the rows of X (N, n_in)."""
        for start in range(0, X.shape[0], _EVAL_CHUNK):
            chunk = X[start:start + _EVAL_CHUNK].astype(np.float64, copy=False)
            with np.errstate(over="ignore"):
                yield start, self.feedforward(chunk.T)

    def _accuracy(self, X, labels):
        """Number of rows of X (N, n_in) whose output argmax equals ``labels`` (N,)."""
        correct = 0
        for start, out in self._outputs(X):
            correct += int(np.count_nonzero(np.argmax(out, axis=0) == labels[start:start + out.shape[1]]))
        return correct

    def _total_cost(self, X, Y, lmbda):
        """Mean cost of rows of X (N, n_in) against rows of Y (N, n_out) plus the L2 term."""
        n = X.shape[0]
        cost = 0.0
        for start, out in self._outputs(X):
            cost += self.cost.fn(out, Y[start:start + out.shape[1]].T) / n
        cost += 0.5 * (lmbda / n) * sum(np.linalg.norm(w) ** 2 for w in self.weights)
        return float(cost)

    def _one_hot(self, labels):
        """Rows e_j (N, n_out) for integer labels j (the book's vectorized_result, stacked)."""
        n_out = self.sizes[-1]
        if labels.size and (labels.min() < 0 or labels.max() >= n_out):
            raise ValueError(f"network2: labels must lie in [0, {n_out}), got range "
                             f"[{labels.min()}, {labels.max()}]")
        Y = np.zeros((labels.size, n_out))
        Y[np.arange(labels.size), labels] = 1.0
        return Y

    def save(self, filename):
        """Save the network to ``filename`` as the book's JSON: sizes, weights, biases, cost name."""
        data = {"sizes": list(self.sizes),
                "weights": [w.tolist() for w in self.weights],
                "biases": [b.tolist() for b in self.biases],
                "cost": str(self.cost.__name__)}
        with open(filename, "w") as f:
            json.dump(data, f)


#### Loading a Network
def load(filename):
    """Load a network saved by ``Network.save`` (or the book's ``network2.py``).

    Like the book it builds ``Network(sizes, cost)`` first, which draws the
    discarded initial weights from ``np.random``.
    """
    with open(filename) as f:
        data = json.load(f)
    missing = {"sizes", "weights", "biases", "cost"} - set(data)
    if missing:
        raise ValueError(f"network2.load: {filename} lacks the keys {sorted(missing)} of the book's format")
    if data["cost"] not in _COSTS:
        raise ValueError(f"network2.load: unknown cost {data['cost']!r} in {filename}, "
                         f"expected one of {sorted(_COSTS)}")
    net = Network(data["sizes"], cost=_COSTS[data["cost"]])
    weights = [np.array(w, dtype=np.float64) for w in data["weights"]]
    biases = [np.array(b, dtype=np.float64) for b in data["biases"]]
    expected_w = [(y, x) for x, y in zip(net.sizes[:-1], net.sizes[1:])]
    expected_b = [(y, 1) for y in net.sizes[1:]]
    if [w.shape for w in weights] != expected_w or [b.shape for b in biases] != expected_b:
        raise ValueError(f"network2.load: {filename} has weight shapes {[w.shape for w in weights]} and bias "
                         f"shapes {[b.shape for b in biases]}, expected {expected_w} and {expected_b}")
    net.weights = weights
    net.biases = biases
    return net


#### Miscellaneous functions
def vectorized_result(j):
    """The 10-dimensional unit column (10, 1) with 1.0 in position j: the desired output for digit j."""
    e = np.zeros((10, 1))
    e[j] = 1.0
    return e


def sigmoid(z):
    """sigma(z) = 1 / (1 + e^{-z}), elementwise."""
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    """sigma'(z) = sigma(z) (1 - sigma(z)), elementwise."""
    return sigmoid(z) * (1 - sigmoid(z))


def _stack_rows(vectors, length, what):
    """Stack vectors of ``length`` values (e.g. columns (length, 1)) as the rows of an (N, length) array."""
    rows = [np.reshape(v, -1) for v in vectors]
    if not rows:
        return np.empty((0, length))
    bad = next((r.size for r in rows if r.size != length), None)
    if bad is not None:
        raise ValueError(f"network2: {what} must have {length} values (shape ({length}, 1)), "
                         f"got one with {bad}")
    return np.array(rows)


def _labels(data):
    """The integer labels y of ``(x, y)`` pairs as an int array (N,)."""
    labels = np.array([np.reshape(y, -1)[0] if np.ndim(y) else y for _, y in data])
    if labels.size and labels.dtype.kind not in "iu":
        raise ValueError(f"network2: evaluation data must pair inputs with integer labels, got {labels.dtype} "
                         f"(pass convert=True for one-hot targets)")
    return labels.astype(np.intp, copy=False)
