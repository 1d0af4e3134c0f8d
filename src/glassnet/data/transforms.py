"""Preparing data: validation split, scaling, standardization, one-hot, augmentation.

Shapes: ``N`` examples; images are ``(N, H, W)``, ``(N, C, H, W)`` (NCHW) or
flattened ``(N, H*W)`` (square images are assumed unless ``image_shape`` says
otherwise); labels are ``(N,)`` integers.
"""

from __future__ import annotations

import numpy as np

from ..random import get_generator, rng_state_of


def to_float(images, dtype=np.float32) -> np.ndarray:
    """uint8 pixels 0..255 -> floats in [0, 1]: ``images / 255`` (any shape)."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"to_float: expected uint8 images (0..255), got dtype {images.dtype}")
    return np.multiply(images, np.asarray(1 / 255, dtype=dtype), dtype=dtype)


def flatten(x) -> np.ndarray:
    """``(N, d1, d2, ...) -> (N, d1*d2*...)``, e.g. images (N, 28, 28) -> (N, 784)."""
    x = np.asarray(x)
    return x.reshape(len(x), -1)


def one_hot(labels, num_classes: int | None = None, dtype=np.float32) -> np.ndarray:
    """Integer labels ``(N,)`` -> ``(N, num_classes)`` with a 1 in column ``labels[i]``.

    ``num_classes`` defaults to ``labels.max() + 1``.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(f"one_hot: expected integer labels of shape (N,), got {labels.dtype} {labels.shape}")
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"one_hot: labels must lie in 0..{num_classes - 1}, got {labels.min()}..{labels.max()}")
    out = np.zeros((len(labels), num_classes), dtype=dtype)
    out[np.arange(len(labels)), labels] = 1
    return out


def train_val_split(x, y, n_val: int = 10000, shuffle: bool = False, generator=None):
    """Hold out ``n_val`` examples for validation: ``((x_train, y_train), (x_val, y_val))``.

    Without ``shuffle`` the last ``n_val`` examples are held out, as the book does
    (the first 50,000 of MNIST's 60,000 train, the last 10,000 validate). With
    ``shuffle=True`` the held-out examples are a random subset drawn from
    ``generator`` (default: glassnet's global one); each part keeps a random order.
    """
    x, y = np.asarray(x), np.asarray(y)
    n = len(x)
    if len(y) != n:
        raise ValueError(f"train_val_split: x has {n} examples but y has {len(y)}")
    if not 0 < n_val < n:
        raise ValueError(f"train_val_split: n_val must be between 1 and {n - 1} (N = {n}), got {n_val}")
    if shuffle:
        order = get_generator(generator).permutation(n)
        train, val = order[:-n_val], order[-n_val:]
        return (x[train], y[train]), (x[val], y[val])
    return (x[:-n_val], y[:-n_val]), (x[-n_val:], y[-n_val:])


class Standardizer:
    """Centre and scale with training-set statistics: ``x' = (x - mean) / std``.

    ``per`` chooses what the statistics are computed over:

    * ``"feature"`` (default): one mean and std per feature (per pixel), over the
      example axis 0: shapes ``x.shape[1:]``;
    * ``"channel"``: one per channel of NCHW images, over all axes but 1: shape ``(1, C, 1, 1)``;
    * ``"global"``: one scalar mean and std over everything.

    A std below ``eps`` (a constant feature, such as MNIST's always-black border
    pixels) is replaced by 1, so that feature is only centred. Statistics are
    computed in float64; ``transform`` returns the input's float dtype (float32
    for integer input). ``state_dict``/``load_state_dict`` save and restore them.
    """

    PER = ("feature", "channel", "global")

    def __init__(self, per: str = "feature", eps: float = 1e-8):
        if per not in self.PER:
            raise ValueError(f"Standardizer: per must be one of {self.PER}, got {per!r}")
        self.per = per
        self.eps = eps
        self.mean = None
        self.std = None

    def _axes(self, x):
        if self.per == "feature":
            return 0, False
        if self.per == "channel":
            if x.ndim < 2:
                raise ValueError(f"Standardizer(per='channel'): expected (N, C, ...) input, got shape {x.shape}")
            return (0,) + tuple(range(2, x.ndim)), True
        return None, False

    def fit(self, x) -> "Standardizer":
        """Compute mean and std of the training data ``x`` (N, ...)."""
        x = np.asarray(x)
        axis, keepdims = self._axes(x)
        self.mean = x.mean(axis=axis, dtype=np.float64, keepdims=keepdims)
        std = x.std(axis=axis, dtype=np.float64, keepdims=keepdims)
        self.std = np.where(std < self.eps, 1.0, std)
        return self

    def transform(self, x) -> np.ndarray:
        """``(x - mean) / std`` with the fitted statistics; same shape as ``x``."""
        if self.mean is None:
            raise RuntimeError("Standardizer.transform called before fit")
        x = np.asarray(x)
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
        return ((x - self.mean.astype(dtype)) / self.std.astype(dtype)).astype(dtype, copy=False)

    __call__ = transform

    def fit_transform(self, x) -> np.ndarray:
        return self.fit(x).transform(x)

    def inverse_transform(self, z) -> np.ndarray:
        """``z * std + mean``: back to the original scale."""
        z = np.asarray(z)
        return (z * self.std + self.mean).astype(z.dtype, copy=False)

    def state_dict(self) -> dict:
        return {"per": self.per, "eps": self.eps, "mean": self.mean, "std": self.std}

    def load_state_dict(self, state: dict) -> None:
        self.per, self.eps = state["per"], state["eps"]
        self.mean, self.std = np.asarray(state["mean"]), np.asarray(state["std"])


# ---------------------------------------------------------------- augmentation
def _image_shape(x: np.ndarray, image_shape, who: str) -> tuple:
    """The (C, H, W) of each example of ``x``."""
    if image_shape is not None:
        shape = tuple(image_shape)
    elif x.ndim == 2:
        side = int(round(np.sqrt(x.shape[1])))
        if side * side != x.shape[1]:
            raise ValueError(f"{who}: flat examples of {x.shape[1]} features are not square images; pass image_shape")
        shape = (side, side)
    elif x.ndim in (3, 4):
        shape = x.shape[1:]
    else:
        raise ValueError(f"{who}: expected images (N, H, W), (N, C, H, W) or (N, H*W), got shape {x.shape}")
    if len(shape) == 2:
        shape = (1,) + shape
    if int(np.prod(shape)) != int(np.prod(x.shape[1:])):
        raise ValueError(f"{who}: image_shape {tuple(image_shape)} does not match examples of shape {x.shape[1:]}")
    return shape


def shift_images(x, dy: int, dx: int) -> np.ndarray:
    """Translate images ``(..., H, W)`` by ``dy`` rows down and ``dx`` columns right, filling with 0."""
    x = np.asarray(x)
    h, w = x.shape[-2:]
    out = np.zeros_like(x)
    if abs(dy) < h and abs(dx) < w:
        out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
            x[..., max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out


def _rotate(images: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate ``(N, C, H, W)`` images by ``degrees`` counter-clockwise (as displayed)
    about their centre, bilinear, zero outside; integer input is rounded back."""
    try:
        from scipy import ndimage  # imported here: only rotations need scipy
    except ImportError as e:
        raise ImportError("expand_with_shifts(rotations=...) needs scipy: pip install scipy") from e

    out = ndimage.rotate(images.astype(np.float32), degrees, axes=(-1, -2), reshape=False,
                         order=1, mode="constant", cval=0.0)
    if images.dtype.kind in "iu":
        info = np.iinfo(images.dtype)
        out = np.clip(np.rint(out), info.min, info.max)
    return out.astype(images.dtype)


def expand_with_shifts(x, y, shifts=1, rotations=None, image_shape=None):
    """The book's "artificially expanded training data": originals plus shifted (and rotated) copies.

    ``shifts``: an int ``k`` (each image moved by ``k`` pixels up, down, left and
    right: 4 copies), or a list of ``(dy, dx)`` pairs; 0 or None for none.
    ``rotations``: None or a list of angles in degrees (counter-clockwise), one
    bilinearly rotated copy per angle (via ``scipy.ndimage.rotate``).
    Vacated pixels are 0 (background).

    Returns ``(x_expanded, y_expanded)`` with ``(1 + copies) * N`` examples in
    blocks: the originals, then each shift, then each rotation; shapes and dtype
    as the input. Shuffle when training (``DataLoader(shuffle=True)``).
    """
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"expand_with_shifts: x has {len(x)} examples but y has {len(y)}")
    images = x.reshape((len(x),) + _image_shape(x, image_shape, "expand_with_shifts"))
    if isinstance(shifts, (int, np.integer)):
        k = int(shifts)
        shifts = [(-k, 0), (k, 0), (0, -k), (0, k)] if k else []
    copies = [x]
    copies += [shift_images(images, int(dy), int(dx)).reshape(x.shape) for dy, dx in (shifts or [])]
    copies += [_rotate(images, float(angle)).reshape(x.shape) for angle in (rotations or [])]
    return np.concatenate(copies), np.tile(y, len(copies))


class RandomShift:
    """On-the-fly augmentation: translate each image by a random (dy, dx) in
    ``[-max_shift, max_shift]^2`` with zero padding (a random crop of the zero-padded
    image), optionally mirrored left-right with probability 1/2 (``flip``).

    Call it on a batch ``(B, H, W)``, ``(B, C, H, W)`` or flat ``(B, H*W)``
    (give ``image_shape`` for non-square flat images); it returns a new array of
    the same shape and dtype. Randomness comes from ``generator`` (default:
    glassnet's global one), so a seeded run is reproducible. Use it as
    ``DataLoader(..., transform=RandomShift(2, generator=rng))``.
    """

    def __init__(self, max_shift: int = 2, flip: bool = False, generator=None, image_shape=None):
        if not isinstance(max_shift, (int, np.integer)) or max_shift < 0:
            raise ValueError(f"RandomShift: max_shift must be a non-negative integer, got {max_shift!r}")
        self.max_shift = int(max_shift)
        self.flip = bool(flip)
        self.image_shape = image_shape
        self._generator = generator

    @property
    def generator(self) -> np.random.Generator:
        return get_generator(self._generator)

    def rng_state(self) -> dict:
        """The state of its own generator (none when it draws from the global one)."""
        return {} if self._generator is None else {"generator": self._generator.bit_generator.state}

    def load_rng_state(self, state: dict) -> None:
        if self._generator is not None and "generator" in state:
            self._generator.bit_generator.state = state["generator"]

    def __call__(self, x) -> np.ndarray:
        x = np.asarray(x)
        c, h, w = _image_shape(x, self.image_shape, "RandomShift")
        b, k = len(x), self.max_shift
        padded = np.pad(x.reshape(b, c, h, w), ((0, 0), (0, 0), (k, k), (k, k)))
        dy, dx = self.generator.integers(-k, k + 1, size=(2, b))
        cols = np.arange(w)
        if self.flip:
            mirrored = self.generator.random(b) < 0.5
            cols = np.where(mirrored[:, None], cols[::-1], cols)
        # out[i, j] = in[i - dy, j - dx], which sits at (i - dy + k, j - dx + k) in the padded image
        rows = np.arange(h) + (k - dy)[:, None]  # (B, H)
        cols = cols + (k - dx)[:, None]  # (B, W)
        flat = (rows[:, :, None] * (w + 2 * k) + cols[:, None, :]).reshape(b, 1, h * w)
        out = np.take_along_axis(padded.reshape(b, c, -1), np.broadcast_to(flat, (b, c, h * w)), axis=2)
        return out.reshape(x.shape)


class Compose:
    """Apply transforms in order: ``Compose([RandomShift(2, generator=g), standardizer])(x)``
    is ``standardizer(RandomShift(...)(x))``. Its ``rng_state()`` gathers the states of
    the transforms that have one (by position: ``"0.generator"``), so a checkpoint
    resumes each of them."""

    def __init__(self, transforms):
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose: expected callables, got {type(t).__name__}")

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def rng_state(self) -> dict:
        return {f"{i}.{key}": value for i, t in enumerate(self.transforms) for key, value in rng_state_of(t).items()}

    def load_rng_state(self, state: dict) -> None:
        for i, t in enumerate(self.transforms):
            prefix = f"{i}."
            own = {key[len(prefix):]: value for key, value in state.items() if key.startswith(prefix)}
            if own and hasattr(t, "load_rng_state"):
                t.load_rng_state(own)

    def __repr__(self) -> str:
        return f"Compose({self.transforms!r})"


def stratified_split(labels, fraction: float, generator=None) -> tuple[np.ndarray, np.ndarray]:
    """Indices (kept, held_out), each sorted: ``round(fraction·n_c)`` of each
    class c held out at random (draws from ``generator``)."""
    labels = np.asarray(labels)
    rng = get_generator(generator)
    held = [rng.permutation(np.flatnonzero(labels == c)) for c in np.unique(labels)]
    held = np.sort(np.concatenate([h[:int(round(fraction * h.size))] for h in held]))
    return np.setdiff1d(np.arange(labels.size), held), held


def per_class_subset(labels, count: int, generator=None) -> np.ndarray:
    """Sorted indices of ``count`` examples of each class, drawn at random;
    an error names a class that has fewer."""
    labels = np.asarray(labels)
    rng = get_generator(generator)
    chosen = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        if members.size < count:
            raise ValueError(f"per_class_subset: class {c} has {members.size} examples, fewer than {count}")
        chosen.append(rng.permutation(members)[:count])
    return np.sort(np.concatenate(chosen))
