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
whole runs). Each epoch shuffles a copy of the list of pairs with the book's
``random.shuffle``, so ``random.seed(n); np.random.seed(n)`` reproduces the
book's runs number for number.

Memory: the data stay in the caller's (x, y) pairs. Each mini-batch's m columns
are copied into reused float64 buffers (m, n_in) and (m, n_out), and evaluation
feeds ``_EVAL_CHUNK`` examples at a time through another pair of buffers, so no
copy of a whole data set is made (a float64 one of 60,000 MNIST images would be
376 MB), and peak memory stays at the per-example loop's.

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

_EVAL_CHUNK = 50  # examples per matrix product when evaluating a data set (a 0.3 MB buffer for MNIST)


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
        training_data = self._pairs(training_data, "SGD: training_data", one_hot=True)
        n = len(training_data)
        if evaluation_data is not None:
            evaluation_data = self._pairs(evaluation_data, "SGD: evaluation_data", one_hot=False) or None
        if evaluation_data is not None:
            n_data = len(evaluation_data)
            labels_eval = _labels(evaluation_data)
        elif early_stopping_n > 0 or monitor_evaluation_cost or monitor_evaluation_accuracy:
            raise ValueError("network2.SGD: early stopping and evaluation monitors need evaluation_data, got none")

        self._own_parameters()
        buffers = self._buffers(min(mini_batch_size, n))
        best_accuracy = 0
        no_accuracy_change = 0
        evaluation_cost, evaluation_accuracy = [], []
        training_cost, training_accuracy = [], []
        for j in range(epochs):
            random.shuffle(training_data)
            with np.errstate(over="ignore"):
                for k in range(0, n, mini_batch_size):
                    self._step(*_gather(training_data[k:k + mini_batch_size], *buffers), eta, lmbda, n)

            print("Epoch %s training complete" % j)

            if monitor_training_cost:
                cost = self._total_cost(training_data, lmbda)
                training_cost.append(cost)
                print("Cost on training data: {}".format(cost))
            if monitor_training_accuracy:
                accuracy = self._accuracy(training_data)
                training_accuracy.append(accuracy)
                print("Accuracy on training data: {} / {}".format(accuracy, n))
            if monitor_evaluation_cost:
                cost = self._total_cost(evaluation_data, lmbda, labels_eval)
                evaluation_cost.append(cost)
                print("Cost on evaluation data: {}".format(cost))
            if monitor_evaluation_accuracy or early_stopping_n > 0:
                accuracy = self._accuracy(evaluation_data, labels_eval)
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
        mini_batch = self._pairs(mini_batch, "update_mini_batch: mini_batch", one_hot=True)
        self._own_parameters()
        self._step(*_gather(mini_batch, *self._buffers(len(mini_batch))), eta, lmbda, n)

    def _own_parameters(self):
        """Bind new float64 copies of the weights and biases, which ``_step`` then updates in place.

        The caller's arrays stay untouched, as with the book's rebinding of new arrays each step.
        """
        self.weights = [np.array(w, dtype=np.float64) for w in self.weights]
        self.biases = [np.array(b, dtype=np.float64) for b in self.biases]

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
        data = self._pairs(data, "accuracy: data", one_hot=convert)
        return self._accuracy(data, None if convert else _labels(data))

    def total_cost(self, data, lmbda, convert=False):
        """The mean cost over ``data`` plus the L2 term (lmbda / 2n) sum_w w^2, n = len(data).

        ``convert=False`` for training data (one-hot y); ``convert=True`` for
        validation/test data, whose integer labels are made one-hot first.
        """
        data = self._pairs(data, "total_cost: data", one_hot=not convert)
        return self._total_cost(data, lmbda, _labels(data) if convert else None)

    def _pairs(self, data, where, one_hot):
        """``data`` as a new list of pairs (x (n_in, 1), y), y an (n_out, 1) column if ``one_hot``.

        Pairs already in those shapes are kept as they are; no array is copied.
        ``where`` ("method: argument") names the data in errors.
        """
        pairs = []
        for pair in data:
            x, y = pair
            column = _column(x, self.sizes[0], f"{where} inputs x")
            target = _column(y, self.sizes[-1], f"{where} targets y") if one_hot else y
            pairs.append(pair if column is x and target is y else (column, target))
        return pairs

    def _buffers(self, m):
        """Reusable float64 buffers (m, n_in) and (m, n_out) for ``_gather``."""
        return np.empty((m, self.sizes[0])), np.empty((m, self.sizes[-1]))

    def _outputs(self, pairs, labels):
        """Yield (output (n_out, c), targets) for consecutive chunks of c <= _EVAL_CHUNK ``pairs``.

        ``targets`` are the pairs' one-hot y (n_out, c), or ``labels[chunk]`` (c,) when labels are given.
        """
        buffers = self._buffers(min(_EVAL_CHUNK, len(pairs)))
        for start in range(0, len(pairs), _EVAL_CHUNK):
            x, y = _gather(pairs[start:start + _EVAL_CHUNK], *buffers, targets=labels is None)
            with np.errstate(over="ignore"):
                out = self.feedforward(x)
            yield out, (y if labels is None else labels[start:start + out.shape[1]])

    def _accuracy(self, pairs, labels=None):
        """Number of ``pairs`` whose output argmax equals ``labels`` (N,), or the argmax of their one-hot y."""
        correct = 0
        for out, targets in self._outputs(pairs, labels):
            expected = targets if labels is not None else np.argmax(targets, axis=0)
            correct += int(np.count_nonzero(np.argmax(out, axis=0) == expected))
        return correct

    def _total_cost(self, pairs, lmbda, labels=None):
        """Mean cost of ``pairs`` (one-hot y, or made one-hot from ``labels`` (N,)) plus the L2 term."""
        n = len(pairs)
        cost = 0.0
        for out, targets in self._outputs(pairs, labels):
            y = targets if labels is None else self._one_hot(targets).T
            cost += self.cost.fn(out, y) / n
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


def _column(v, length, what):
    """``v`` as a (length, 1) column: itself if it has that shape, else reshaped (a view where NumPy can)."""
    v = np.asarray(v)
    if v.shape == (length, 1):
        return v
    if v.size != length:
        raise ValueError(f"network2.{what} must have {length} values (shape ({length}, 1)), got one with {v.size}")
    return v.reshape(length, 1)


def _gather(pairs, x_buffer, y_buffer, targets=True):
    """Copy the m pairs' columns x (n_in, 1) and y (n_out, 1) into the first m rows of the buffers.

    Returns the float64 matrices X (n_in, m) and Y (n_out, m), transposed views of
    those rows (Y is None when ``targets`` is false).
    """
    x = x_buffer[:len(pairs)].T
    np.concatenate([column for column, _ in pairs], axis=1, out=x)
    if not targets:
        return x, None
    y = y_buffer[:len(pairs)].T
    np.concatenate([target for _, target in pairs], axis=1, out=y)
    return x, y


def _labels(data):
    """The integer labels y of ``(x, y)`` pairs as an int array (N,)."""
    labels = np.array([np.reshape(y, -1)[0] if np.ndim(y) else y for _, y in data])
    if labels.size and labels.dtype.kind not in "iu":
        raise ValueError(f"network2: evaluation data must pair inputs with integer labels, got {labels.dtype} "
                         f"(pass convert=True for one-hot targets)")
    return labels.astype(np.intp, copy=False)
