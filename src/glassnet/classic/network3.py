"""network3: the book's chapter-6 program on glassnet, without Theano.

Michael Nielsen's ``network3.py`` (*Neural Networks and Deep Learning*, chapter 6)
builds convolutional networks from three layer types and trains them by
mini-batch SGD. It is written on Theano, which no longer runs; this module keeps
its names, arguments and printed lines and runs on glassnet's own ops and
autograd (``conv2d``, ``max_pool2d``, the fused softmax cross-entropy). The
chapter's code runs unchanged apart from the import line and the data-set name::

    from glassnet.classic import network3
    from glassnet.classic.network3 import Network, ConvPoolLayer, FullyConnectedLayer, SoftmaxLayer, ReLU
    training_data, validation_data, test_data = network3.load_data_shared("fashion-mnist")
    mini_batch_size = 10
    net = Network([
        ConvPoolLayer(image_shape=(mini_batch_size, 1, 28, 28), filter_shape=(20, 1, 5, 5),
                      poolsize=(2, 2), activation_fn=ReLU),
        FullyConnectedLayer(n_in=20*12*12, n_out=100, activation_fn=ReLU),
        SoftmaxLayer(n_in=100, n_out=10)], mini_batch_size)
    net.SGD(training_data, 60, mini_batch_size, 0.03, validation_data, test_data, lmbda=0.1)

What is the book's, kept on purpose
-----------------------------------
* Initialisation: a ``ConvPoolLayer``'s filters ~ N(0, 1/n_out) with
  n_out = filters·fh·fw / (ph·pw), a ``FullyConnectedLayer``'s weights
  ~ N(0, 1/n_out) (sic: n_out, not n_in), biases ~ N(0, 1); a ``SoftmaxLayer``
  starts at zero. All drawn from ``np.random`` in construction order, so
  ``np.random.seed(s)`` fixes a network.
* The cost: the mean negative log-likelihood of the mini-batch plus the L2 term
  0.5·lmbda·Σ w² / num_training_batches (the book divides by the number of
  mini-batches, not by the number of examples; biases are not decayed).
* SGD walks the training set in its stored order, without shuffling, and drops
  a last incomplete mini-batch; after each epoch it measures the validation
  accuracy and, when that is the best so far, the test accuracy.
* Dropout as the book's: in training, each input of a fully connected or
  softmax layer with ``p_dropout > 0`` is kept with probability 1 − p (not
  rescaled); at test time the layer's weighted input is scaled by 1 − p.
  Convolutional layers have no dropout. The masks come from a generator that,
  as the book's, does not depend on ``np.random``: each layer's is seeded from
  ``np.random.RandomState(0).randint(999999)`` (the book's seed) and its
  position in the network.

What differs
------------
* float32 (the book's CPU default was float64). Filters are cross-correlated,
  as in every modern library (Theano's ``conv2d`` flipped them; with random
  filters the two are the same family of networks).
* ``load_data_shared`` reads the IDX files (MNIST or Fashion-MNIST, found or
  downloaded and md5-checked by :func:`glassnet.data.load_dataset`) and returns
  NumPy arrays; there are no Theano shared variables. The book's
  ``mnist.pkl.gz`` is a pickle, which glassnet never opens (unpickling runs
  code). ``expanded=True`` gives the book's expanded training set.
* Layers check their sizes against each other when the ``Network`` is built
  and say which two layers disagree.
* After ``SGD`` the network keeps what it printed as attributes
  (``validation_accuracies``, ``best_validation_accuracy``, ``best_iteration``,
  ``test_accuracy``), and ``predict(x)`` returns its labels, for the chapter's
  ensemble of networks.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .. import functional as F
from ..data import load_dataset
from ..data.transforms import expand_with_shifts
from ..nn.module import Parameter
from ..tensor import Tensor, no_grad

__all__ = ["Network", "ConvPoolLayer", "FullyConnectedLayer", "SoftmaxLayer",
           "linear", "ReLU", "sigmoid", "tanh", "size", "load_data_shared", "expand_training_data",
           "dropout_layer"]

_EVAL_CHUNK = 1000  # examples per forward pass when measuring accuracy (the result does not depend on it)
_N_TRAIN = 50_000  # training images; the rest of the 60,000 are validation data, as in the book


#### Activation functions for neurons: each maps a glassnet Tensor to a Tensor
def linear(z):
    """The identity, f(z) = z."""
    return z


ReLU = F.relu          # f(z) = max(0, z)
sigmoid = F.sigmoid    # f(z) = 1 / (1 + e^{-z})
tanh = F.tanh          # f(z) = (e^z - e^{-z}) / (e^z + e^{-z})


#### Load the data
def load_data_shared(filename="mnist", expanded=False, data_dir=None, download=True):
    """Return ``[training_data, validation_data, test_data]``, each ``(x float32 (N, 784), y int64 (N,))``.

    ``filename`` is "mnist" or "fashion-mnist", or a folder holding that data
    set's IDX files. The first 50,000 training images are training data, the
    last 10,000 validation data, as in the book; pixels are byte / 255.
    ``expanded=True`` adds, for every training image, its four copies shifted by
    one pixel up, down, left and right (zeros shifted in) — the book's
    ``expand_mnist.py``, 250,000 images — shuffled once with a fixed generator
    (seed 0) because ``Network.SGD`` does not shuffle.
    """
    name, folder = _dataset_name(filename)
    (x_train, y_train), (x_test, y_test) = load_dataset(name, data_dir=folder or data_dir, download=download)
    x_train, x_test = _pixels(x_train), _pixels(x_test)
    training = (x_train[:_N_TRAIN], y_train[:_N_TRAIN])
    validation = (x_train[_N_TRAIN:], y_train[_N_TRAIN:])
    if expanded:
        training = expand_training_data(training)
    return [training, validation, (x_test, y_test)]


def expand_training_data(training):
    """The book's ``expand_mnist.py``: (x (N, 784), y (N,)) -> 5N examples, each image with its copies
    shifted one pixel up, down, left and right (zeros shifted in), shuffled once (seed 0)."""
    x, y = expand_with_shifts(*training, shifts=1, image_shape=(28, 28))
    order = np.random.default_rng(0).permutation(len(x))
    return x[order], y[order]


def _dataset_name(filename):
    """("mnist" | "fashion-mnist", folder or None) for ``load_data_shared``'s ``filename``."""
    text = str(filename)
    if text.endswith((".pkl", ".pkl.gz", ".pickle")):
        raise ValueError(
            f"network3.load_data_shared: {text} is a Python pickle; glassnet never unpickles a file, because "
            f"loading a pickle can run any code in it. Use load_data_shared('mnist') (glassnet downloads the "
            f"canonical IDX files and checks their md5), or pass the folder that holds the four IDX files "
            f"(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
            f"t10k-labels-idx1-ubyte.gz)")
    if text in ("mnist", "fashion-mnist"):
        return text, None
    folder = Path(text)
    if not folder.is_dir():
        raise ValueError(f"network3.load_data_shared: expected 'mnist', 'fashion-mnist' or a folder of IDX "
                         f"files, got {text!r}")
    return ("fashion-mnist" if "fashion" in folder.name.lower() else "mnist"), folder


def _pixels(images):
    """uint8 (N, 28, 28) -> float32 (N, 784) in [0, 1]."""
    return images.reshape(len(images), -1).astype(np.float32) / np.float32(255)


def size(data):
    """The number of examples in ``data``, a pair ``(x, y)``."""
    return len(data[0])


def dropout_layer(layer, p_dropout, generator):
    """``layer`` (a Tensor) times a 0/1 mask that keeps each entry with probability 1 − p_dropout."""
    mask = (generator.random(layer.shape, dtype=np.float32) >= p_dropout).astype(layer.dtype)
    return layer * Tensor(mask)


#### The network
class Network:
    """A stack of ``layers`` trained by mini-batch SGD with mini-batches of ``mini_batch_size``.

    Layers are ``ConvPoolLayer``, ``FullyConnectedLayer`` and a final
    ``SoftmaxLayer``; each one's input size must equal its predecessor's output
    size (checked here). ``params`` lists every layer's ``w`` and ``b``.
    """

    def __init__(self, layers, mini_batch_size):
        if not layers or not isinstance(layers[-1], SoftmaxLayer):
            raise ValueError(f"network3.Network: the last layer must be a SoftmaxLayer, got "
                             f"{[type(layer).__name__ for layer in layers]}")
        if not (isinstance(mini_batch_size, (int, np.integer)) and mini_batch_size > 0):
            raise ValueError(f"network3.Network: mini_batch_size must be a positive integer, got {mini_batch_size!r}")
        for j in range(1, len(layers)):
            given, wanted = layers[j - 1].n_outputs, layers[j].n_inputs
            if given != wanted:
                raise ValueError(f"network3.Network: layer {j} {layers[j - 1]!r} gives {given} values per "
                                 f"example, but layer {j + 1} {layers[j]!r} expects {wanted}")
        for j, layer in enumerate(layers):
            if isinstance(layer, ConvPoolLayer) and layer.image_shape[0] != mini_batch_size:
                raise ValueError(f"network3.Network: layer {j + 1} {layer!r} has image_shape for mini-batches of "
                                 f"{layer.image_shape[0]}, but mini_batch_size is {mini_batch_size}")
            layer._generator = np.random.default_rng([_BOOK_DROPOUT_SEED, j])
        self.layers = layers
        self.mini_batch_size = mini_batch_size
        self.params = [param for layer in layers for param in layer.params]

    def forward(self, x, training):
        """The last layer's output for inputs x (m, n_in): log-probabilities-ready logits (m, 10)."""
        out = Tensor(x)
        for layer in self.layers:
            out = layer.forward(out, training)
        return out

    def SGD(self, training_data, epochs, mini_batch_size, eta, validation_data, test_data=None, lmbda=0.0):
        """Train by mini-batch stochastic gradient descent, printing the book's lines.

        ``training_data``, ``validation_data``, ``test_data``: pairs ``(x (N, n_in),
        y (N,) integer labels)``. Each step: w <- w − eta·(dC/dw + (lmbda/B)·w),
        b <- b − eta·dC/db, C the mini-batch's mean negative log-likelihood and
        B = num_training_batches (the gradient of the book's 0.5·lmbda·Σw²/B).
        """
        if mini_batch_size != self.mini_batch_size:
            raise ValueError(f"network3.SGD: mini_batch_size {mini_batch_size} differs from the "
                             f"Network's {self.mini_batch_size} (the layers were built for it)")
        if not (isinstance(epochs, (int, np.integer)) and epochs >= 0):
            raise ValueError(f"network3.SGD: epochs must be a non-negative integer, got {epochs!r}")
        training_x, training_y = self._checked(training_data, "training_data")
        validation = self._checked(validation_data, "validation_data")
        test = self._checked(test_data, "test_data") if test_data is not None else None
        num_training_batches = size(training_data) // mini_batch_size
        if num_training_batches == 0:
            raise ValueError(f"network3.SGD: training_data has {size(training_data)} examples, fewer than one "
                             f"mini-batch of {mini_batch_size}")
        decay = lmbda / num_training_batches
        weights = {id(layer.w) for layer in self.layers}

        self.validation_accuracies = []
        best_validation_accuracy, best_iteration, test_accuracy = 0.0, None, None
        for epoch in range(epochs):
            for minibatch_index in range(num_training_batches):
                iteration = num_training_batches * epoch + minibatch_index
                if iteration % 1000 == 0:
                    print("Training mini-batch number {0}".format(iteration))
                batch = slice(minibatch_index * mini_batch_size, (minibatch_index + 1) * mini_batch_size)
                for param in self.params:
                    param.grad = None
                F.cross_entropy(self.forward(training_x[batch], training=True), training_y[batch]).backward()
                for param in self.params:
                    if decay and id(param) in weights:
                        param.grad += decay * param.data
                    param.data -= eta * param.grad
            validation_accuracy = self.accuracy(validation)
            self.validation_accuracies.append(validation_accuracy)
            print("Epoch {0}: validation accuracy {1:.2%}".format(epoch, validation_accuracy))
            if validation_accuracy >= best_validation_accuracy:
                print("This is the best validation accuracy to date.")
                best_validation_accuracy = validation_accuracy
                best_iteration = num_training_batches * (epoch + 1) - 1
                if test is not None:
                    test_accuracy = self.accuracy(test)
                    print("The corresponding test accuracy is {0:.2%}".format(test_accuracy))
        print("Finished training network.")
        print("Best validation accuracy of {0:.2%} obtained at iteration {1}".format(
            best_validation_accuracy, best_iteration))
        if test_accuracy is not None:
            print("Corresponding test accuracy of {0:.2%}".format(test_accuracy))
        self.best_validation_accuracy = best_validation_accuracy
        self.best_iteration = best_iteration
        self.test_accuracy = test_accuracy

    def predict(self, x):
        """The predicted labels (N,) for inputs x (N, n_in), at test time (no dropout)."""
        x = np.asarray(x, dtype=np.float32)
        with no_grad():
            return np.concatenate([np.argmax(self.forward(x[k:k + _EVAL_CHUNK], training=False).data, axis=1)
                                   for k in range(0, len(x), _EVAL_CHUNK)]) if len(x) else np.zeros(0, np.intp)

    def accuracy(self, data):
        """The fraction of ``data`` = (x, y) classified right, over its whole mini-batches (as the book)."""
        x, y = data
        n = (len(x) // self.mini_batch_size) * self.mini_batch_size
        return float(np.mean(self.predict(x[:n]) == y[:n])) if n else float("nan")

    def _checked(self, data, name):
        """``data`` as (x float32 (N, n_in), y integer (N,)), or a ValueError naming what is wrong."""
        try:
            x, y = data
        except (TypeError, ValueError):
            raise ValueError(f"network3.SGD: {name} must be a pair (x, y) of arrays, got {type(data).__name__}")
        x, y = np.asarray(x, dtype=np.float32), np.asarray(y)
        n_in = self.layers[0].n_inputs
        if x.ndim != 2 or x.shape[1] != n_in or len(y) != len(x) or y.dtype.kind not in "iu":
            raise ValueError(f"network3.SGD: {name} must be x (N, {n_in}) and integer labels y (N,), got x "
                             f"{x.shape} and y {y.shape} of {y.dtype}")
        return x, y


_BOOK_DROPOUT_SEED = int(np.random.RandomState(0).randint(999999))


#### Layer types
class ConvPoolLayer:
    """A convolutional layer followed by max-pooling, then the activation.

    ``filter_shape`` = (filters, input feature maps, fh, fw); ``image_shape`` =
    (mini-batch size, input feature maps, H, W); ``poolsize`` = (ph, pw).
    Output: activation_fn(maxpool(w ⋆ x) + b), shape (m, filters,
    (H − fh + 1) // ph, (W − fw + 1) // pw). Weights w ~ N(0, 1/n_out) with
    n_out = filters·fh·fw/(ph·pw), biases ~ N(0, 1).
    """

    def __init__(self, filter_shape, image_shape, poolsize=(2, 2), activation_fn=sigmoid):
        filter_shape, image_shape, poolsize = tuple(filter_shape), tuple(image_shape), tuple(poolsize)
        if len(filter_shape) != 4 or len(image_shape) != 4 or len(poolsize) != 2:
            raise ValueError(f"network3.ConvPoolLayer: expected filter_shape of 4, image_shape of 4 and poolsize "
                             f"of 2 numbers, got {filter_shape}, {image_shape}, {poolsize}")
        if filter_shape[1] != image_shape[1]:
            raise ValueError(f"network3.ConvPoolLayer: filter_shape {filter_shape} reads {filter_shape[1]} feature "
                             f"maps but image_shape {image_shape} has {image_shape[1]}")
        conv_h, conv_w = image_shape[2] - filter_shape[2] + 1, image_shape[3] - filter_shape[3] + 1
        if conv_h < poolsize[0] or conv_w < poolsize[1]:
            raise ValueError(f"network3.ConvPoolLayer: {filter_shape[2:]} filters on {image_shape[2:]} images give "
                             f"{conv_h}x{conv_w} maps, smaller than the pool {poolsize}")
        self.filter_shape, self.image_shape, self.poolsize = filter_shape, image_shape, poolsize
        self.activation_fn = activation_fn
        self.output_shape = (filter_shape[0], conv_h // poolsize[0], conv_w // poolsize[1])
        n_out = filter_shape[0] * np.prod(filter_shape[2:]) / np.prod(poolsize)
        self.w = Parameter(np.random.normal(loc=0, scale=np.sqrt(1.0 / n_out), size=filter_shape).astype(np.float32))
        self.b = Parameter(np.random.normal(loc=0, scale=1.0, size=(filter_shape[0],)).astype(np.float32))
        self.params = [self.w, self.b]

    n_inputs = property(lambda self: math.prod(self.image_shape[1:]))
    n_outputs = property(lambda self: math.prod(self.output_shape))

    def forward(self, inpt, training):
        """(m, C·H·W) or (m, C, H, W) -> (m, filters, H', W'). The bias is added before the pool
        (inside the convolution): max(x + b) = max(x) + b, the book's sum, in one pass fewer."""
        x = inpt.reshape(-1, *self.image_shape[1:])
        pooled = F.max_pool2d(F.conv2d(x, self.w, self.b), self.poolsize)
        return self.activation_fn(pooled)

    def __repr__(self):
        return (f"ConvPoolLayer(filter_shape={self.filter_shape}, image_shape={self.image_shape}, "
                f"poolsize={self.poolsize})")


class FullyConnectedLayer:
    """activation_fn(x w + b) with w (n_in, n_out) ~ N(0, 1/n_out), b (n_out,) ~ N(0, 1).

    With ``p_dropout`` > 0 the inputs are dropped in training (kept with
    probability 1 − p) and the weighted input is scaled by 1 − p at test time.
    """

    def __init__(self, n_in, n_out, activation_fn=sigmoid, p_dropout=0.0):
        _check_sizes(type(self).__name__, n_in, n_out, p_dropout)
        self.n_in, self.n_out, self.activation_fn, self.p_dropout = n_in, n_out, activation_fn, p_dropout
        self.w = Parameter(np.random.normal(loc=0.0, scale=np.sqrt(1.0 / n_out), size=(n_in, n_out))
                           .astype(np.float32))
        self.b = Parameter(np.random.normal(loc=0.0, scale=1.0, size=(n_out,)).astype(np.float32))
        self.params = [self.w, self.b]

    n_inputs = property(lambda self: self.n_in)
    n_outputs = property(lambda self: self.n_out)

    def weighted_input(self, inpt, training):
        """z = x w + b for x (m, n_in): inputs dropped in training, x w scaled by 1 − p at test time."""
        x = inpt.reshape(-1, self.n_in)
        if training and self.p_dropout > 0:
            return dropout_layer(x, self.p_dropout, self._generator) @ self.w + self.b
        if self.p_dropout > 0:
            return (x @ self.w) * (1 - self.p_dropout) + self.b
        return x @ self.w + self.b

    def forward(self, inpt, training):
        return self.activation_fn(self.weighted_input(inpt, training))

    def __repr__(self):
        return f"{type(self).__name__}(n_in={self.n_in}, n_out={self.n_out}, p_dropout={self.p_dropout})"


class SoftmaxLayer(FullyConnectedLayer):
    """The output layer: softmax(x w + b), w (n_in, n_out) and b (n_out,) starting at zero.

    ``forward`` returns the weighted input z; the network's cost fuses the
    softmax with the log-likelihood (−ln softmax(z)_y, computed stably), and
    the prediction is argmax z = argmax softmax(z).
    """

    def __init__(self, n_in, n_out, p_dropout=0.0):
        _check_sizes(type(self).__name__, n_in, n_out, p_dropout)
        self.n_in, self.n_out, self.p_dropout = n_in, n_out, p_dropout
        self.w = Parameter(np.zeros((n_in, n_out), dtype=np.float32))
        self.b = Parameter(np.zeros((n_out,), dtype=np.float32))
        self.params = [self.w, self.b]

    def forward(self, inpt, training):
        return self.weighted_input(inpt, training)


def _check_sizes(layer, n_in, n_out, p_dropout):
    for name, value in (("n_in", n_in), ("n_out", n_out)):
        if not (isinstance(value, (int, np.integer)) and value > 0):
            raise ValueError(f"network3.{layer}: {name} must be a positive integer, got {value!r}")
    if not 0 <= p_dropout < 1:
        raise ValueError(f"network3.{layer}: p_dropout must be in [0, 1), got {p_dropout!r}")
