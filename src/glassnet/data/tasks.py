"""Classification tasks by name: what ``glassnet train`` / ``evaluate`` train
and test on.

``load_task(name, data_dir=None, seed=0)`` returns a :class:`Task` with raw
training and test examples:

- ``fashion-mnist``, ``mnist``: the official 60,000 / 10,000 split, uint8 (N, 28, 28);
- ``mnist-10k``: only the 10,000 MNIST test images (the project's offline copy),
  split once, stratified with seed 0, into 5,000 for training and 5,000 for testing;
- ``spiral``, ``xor``, ``circles``, ``moons``: generated 2-D points (N, 2), 1,200 to
  train and 600 to test, drawn from ``seed``;
- ``rt-polarity`` (found on the data search path), a folder of ``.neg``/``.pos``
  files, or a ``text,label`` CSV file: sentences, with a fixed stratified 10%
  test split (seed 0, whatever the run's seed, so every run tests on the same),
  each part in a fixed random order (the files come sorted by class).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .datasets import dataset_info, load_split
from .synthetic import make_circles, make_moons, make_spiral, make_xor
from .text import POLARITY, load_rt_polarity, load_text_classification
from .transforms import stratified_split

IMAGE_DATASETS = ("fashion-mnist", "mnist", "mnist-10k")
TEXT_DATASETS = ("rt-polarity",)
GENERATED = {  # name -> (maker(n, generator) -> (x, y), class names)
    "spiral": (lambda n, g: make_spiral(n // 3, 3, generator=g), ("arm 0", "arm 1", "arm 2")),
    "xor": (lambda n, g: make_xor(n, noise=0.15, generator=g), ("0", "1")),
    "circles": (lambda n, g: make_circles(n, generator=g), ("outer", "inner")),
    "moons": (lambda n, g: make_moons(n, generator=g), ("moon 0", "moon 1")),
}
NAMES = IMAGE_DATASETS + TEXT_DATASETS + tuple(GENERATED)
TEXT_TEST_FRACTION = 0.1


@dataclass
class Task:
    """Raw examples of one classification task.

    ``kind``: "image" (uint8 (N, H, W)), "points" (float32 (N, 2)) or "text"
    (an object array of N sentences); labels int64 (N,).
    """

    name: str
    kind: str
    train: tuple
    test: tuple
    classes: tuple


def kind_of(name: str) -> str:
    """"image", "points" or "text" for a task name or a path to text data."""
    if name in IMAGE_DATASETS:
        return "image"
    if name in GENERATED:
        return "points"
    if name in TEXT_DATASETS or Path(name).is_dir() or Path(name).suffix.lower() == ".csv":
        return "text"
    raise ValueError(f"unknown dataset {name!r}: expected one of {', '.join(NAMES)}, a folder of .neg/.pos "
                     f"files or a .csv file of text,label rows")


@functools.lru_cache(maxsize=4)
def _split(name: str, split: str, data_dir) -> tuple:
    """``load_split`` once per process (decompressing 60,000 images takes seconds), read-only."""
    arrays = load_split(name, split, data_dir)
    for a in arrays:
        a.setflags(write=False)
    return arrays


def load_task(name: str, data_dir=None, seed: int = 0) -> Task:
    """The task ``name`` (see the module docstring); ``data_dir`` overrides the
    data search path, ``seed`` draws the generated sets."""
    kind = kind_of(name)
    if kind == "points":
        make, classes = GENERATED[name]
        rng = np.random.default_rng([seed, 7])
        return Task(name, kind, make(1200, rng), make(600, rng), classes)
    if kind == "image":
        if name == "mnist-10k":
            x, y = _split("mnist", "test", data_dir)
            train, test = stratified_split(y, 0.5, np.random.default_rng(0))
            return Task(name, kind, (x[train], y[train]), (x[test], y[test]), tuple(dataset_info("mnist").classes))
        return Task(name, kind, _split(name, "train", data_dir), _split(name, "test", data_dir),
                    tuple(dataset_info(name).classes))
    if name in TEXT_DATASETS:
        sentences, labels = load_rt_polarity(data_dir)
        sentences, classes = np.asarray(sentences, dtype=object), POLARITY
    else:
        sentences, labels, classes = load_text_classification(name)
    rng = np.random.default_rng(0)
    train, test = (rng.permutation(part) for part in stratified_split(labels, TEXT_TEST_FRACTION, rng))
    return Task(name, kind, (sentences[train], labels[train]), (sentences[test], labels[test]), classes)
