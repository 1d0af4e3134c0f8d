"""mnist_loader: the book's data structures, read from the IDX files.

The book's ``mnist_loader.py`` unpickles ``mnist.pkl.gz``; this one builds the
same structures from the canonical IDX files (found or downloaded by
:func:`glassnet.data.load_dataset`), for MNIST or Fashion-MNIST:

* ``load_data()`` -> ``(training_data, validation_data, test_data)``, each a
  pair ``(x float32 (N, 784) in [0, 1], y int64 (N,))``: the first 50,000 of the
  60,000 training images, the last 10,000 of them (held out for validation, as
  in the book) and the 10,000 test images. Pixels are ``byte / 255``.
* ``load_data_wrapper()`` -> the lists ``network2.Network.SGD`` takes: training
  pairs ``(x (784, 1), y (10, 1) one-hot)`` and validation/test pairs
  ``(x (784, 1), label int)``. Python 3 returns lists where the book's Python 2
  ``zip`` did. The x columns are views of one array, not 70,000 copies.
"""

from __future__ import annotations

import numpy as np

from ..data import load_dataset
from .network2 import vectorized_result

N_TRAIN = 50_000  # the rest of the 60,000 training images is the validation set


def load_data(dataset="mnist", data_dir=None, download=True):
    """Return ``(training_data, validation_data, test_data)`` as ``(x (N, 784) float32, y (N,) int64)`` pairs.

    ``dataset`` is "mnist" or "fashion-mnist"; ``data_dir`` and ``download`` are
    passed to :func:`glassnet.data.load_dataset` (which says where it looks).
    """
    (x_train, y_train), (x_test, y_test) = load_dataset(dataset, data_dir=data_dir, download=download)
    x_train = flatten_pixels(x_train)
    return ((x_train[:N_TRAIN], y_train[:N_TRAIN]),
            (x_train[N_TRAIN:], y_train[N_TRAIN:]),
            (flatten_pixels(x_test), y_test))


def load_data_wrapper(dataset="mnist", data_dir=None, download=True):
    """Return ``(training_data, validation_data, test_data)`` as the book's lists of pairs.

    training: ``(x (784, 1) float32, vectorized_result(y) (10, 1) float64)``;
    validation and test: ``(x (784, 1) float32, y int64 label)``.
    """
    tr_d, va_d, te_d = load_data(dataset, data_dir, download)
    training_data = list(zip(columns(tr_d[0]), [vectorized_result(y) for y in tr_d[1]]))
    validation_data = list(zip(columns(va_d[0]), va_d[1]))
    test_data = list(zip(columns(te_d[0]), te_d[1]))
    return training_data, validation_data, test_data


def flatten_pixels(images):
    """uint8 images (N, H, W) -> float32 rows (N, H*W) with values byte / 255 in [0, 1]."""
    images = np.asarray(images)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"mnist_loader: expected uint8 images (N, H, W), got {images.dtype} {images.shape}")
    return images.reshape(len(images), -1).astype(np.float32) / np.float32(255)


def columns(x):
    """The rows of x (N, d) as a list of N column views (d, 1), the book's input vectors."""
    return [row.reshape(-1, 1) for row in x]
