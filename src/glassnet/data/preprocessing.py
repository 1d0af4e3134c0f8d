"""How raw examples become network inputs, stored with a model so that any
later user (``glassnet evaluate``, ``glassnet predict``, fine-tuning) feeds it
exactly what it was trained on.

Images: raw pixels p (uint8, (N, H, W)) become x = (p·scale − mean)/std, shaped
``input_shape[1:]`` ((784,) for an MLP, (1, 28, 28) for a CNN); ``mean`` and
``std`` are those of the scaled *training* pixels. 2-D points pass unchanged.
Text: a sentence becomes the ids of its tokens (:func:`~glassnet.data.text.tokenize`)
in the training vocabulary, unknown words ``<unk>``.

The contract is a plain dict (JSON, in the model file's metadata)::

    {"kind": "image", "scale": 1/255, "mean": 0.286, "std": 0.353, "input_shape": [1, 1, 28, 28]}
    {"kind": "points", "scale": 1.0, "mean": 0.0, "std": 1.0, "input_shape": [1, 2]}
    {"kind": "text", "vocabulary": ["<pad>", "<unk>", "the", ...]}
"""

from __future__ import annotations

import numpy as np

from .text import Vocabulary, pad_sequences, tokenize
from .transforms import RandomShift, Standardizer

KINDS = ("image", "points", "text")


def fit_preprocessing(x_train: np.ndarray, kind: str, input_shape) -> dict:
    """The contract for raw training inputs ``x_train``: for images the mean and
    std of the pixels scaled to [0, 1]; for points the identity."""
    if kind == "image":
        stats = Standardizer(per="global").fit(x_train.reshape(len(x_train), -1) / np.float32(255))
        return {"kind": "image", "scale": 1 / 255, "mean": float(stats.mean), "std": float(stats.std),
                "input_shape": list(input_shape)}
    if kind == "points":
        return {"kind": "points", "scale": 1.0, "mean": 0.0, "std": 1.0, "input_shape": list(input_shape)}
    raise ValueError(f"fit_preprocessing: kind must be 'image' or 'points' (text: text_preprocessing), got {kind!r}")


def text_preprocessing(vocab: Vocabulary) -> dict:
    """The contract of a text model: its vocabulary, in id order."""
    return {"kind": "text", "vocabulary": list(vocab.itos)}


def scale(raw: np.ndarray, preprocessing: dict) -> np.ndarray:
    """raw·scale as float32 (images in [0, 1]), shape kept."""
    return np.asarray(raw).astype(np.float32) * np.float32(preprocessing["scale"])


def prepare(raw, preprocessing: dict):
    """Network inputs from raw examples: float32 ``(N, *input_shape[1:])`` for
    images and points; for text (a list of sentences or of token-id lists) an
    (N, L) int64 array of ids padded to the longest."""
    if preprocessing["kind"] == "text":
        vocab = vocabulary(preprocessing)
        ids = [vocab.encode(tokenize(s)) if isinstance(s, str) else list(s) for s in raw]
        return pad_sequences(ids, length=max(1, max((len(s) for s in ids), default=1)))
    x = (scale(raw, preprocessing) - np.float32(preprocessing["mean"])) / np.float32(preprocessing["std"])
    return x.reshape((len(x),) + tuple(preprocessing["input_shape"][1:]))


def vocabulary(preprocessing: dict) -> Vocabulary:
    """The :class:`Vocabulary` of a text contract."""
    tokens = preprocessing["vocabulary"]
    return Vocabulary(tokens, [0] * len(tokens))


class ShiftThenStandardize:
    """Loader transform for augmented images: shift the scaled images (the
    background, 0, comes in at the edges) by up to ``pixels`` in each direction,
    then standardize with the contract's mean and std. Input and output:
    float32 of the network's input shape."""

    def __init__(self, pixels: int, preprocessing: dict, generator=None):
        side = preprocessing["input_shape"][1:]
        self.shift = RandomShift(pixels, generator=generator,
                                 image_shape=None if len(side) > 1 else _square(int(side[0])))
        self.mean, self.std = np.float32(preprocessing["mean"]), np.float32(preprocessing["std"])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return (self.shift(x) - self.mean) / self.std

    def rng_state(self) -> dict:
        """Its RandomShift's generator state (the rng_state protocol), so a checkpoint resumes the shifts."""
        return {f"shift.{key}": value for key, value in self.shift.rng_state().items()}

    def load_rng_state(self, state: dict) -> None:
        self.shift.load_rng_state({key[len("shift."):]: value for key, value in state.items()
                                   if key.startswith("shift.")})


def _square(n: int) -> tuple[int, int]:
    side = round(n ** 0.5)
    if side * side != n:
        raise ValueError(f"ShiftThenStandardize: {n} flat inputs are not a square image")
    return side, side


def image_size(preprocessing: dict) -> tuple[int, int]:
    """(H, W) of the images a model takes: from its input shape (N, C, H, W),
    or for a flat (N, H·W) input the square with that many pixels."""
    shape = preprocessing["input_shape"]
    return tuple(shape[-2:]) if len(shape) == 4 else _square(int(shape[-1]))


def load_image(path, preprocessing: dict, invert: str = "auto") -> np.ndarray:
    """A PNG/JPEG file as a raw image of the model's kind: grey-scaled, resized
    to the model's (H, W) (bilinear, aspect ratio not kept), uint8 (H, W).

    The training images (MNIST, Fashion-MNIST) are light objects on a black
    background; a photo is usually the opposite. ``invert``: "yes", "no", or
    "auto" (invert when the image's border is brighter than mid-grey).
    """
    from PIL import Image, UnidentifiedImageError

    if preprocessing.get("kind") != "image":
        raise ValueError(f"{path}: this model takes {preprocessing.get('kind', 'unknown')} inputs, not images")
    try:
        with Image.open(path) as image:
            grey = image.convert("L").resize(image_size(preprocessing)[::-1], Image.BILINEAR)
    except (UnidentifiedImageError, ValueError) as e:
        raise ValueError(f"{path}: expected a PNG or JPEG image, got a file Pillow cannot read ({e})") from None
    pixels = np.asarray(grey, dtype=np.uint8)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    if invert not in ("auto", "yes", "no"):
        raise ValueError(f"invert must be auto, yes or no, got {invert!r}")
    if invert == "yes" or (invert == "auto" and border.mean() > 127):
        pixels = 255 - pixels
    return pixels
