"""MNIST and Fashion-MNIST: found on disk or downloaded, checked by md5, loaded fast.

``load_dataset(name)`` returns ``((x_train, y_train), (x_test, y_test))`` with
images ``uint8 (N, 28, 28)`` (0 = background, 255 = ink) and labels
``int64 (N,)`` in 0..9; N is 60,000 for training and 10,000 for test.
``load_split(name, split)`` returns one of the two pairs.

Where the files are looked for, in this order (the first folder holding a file
wins, file by file; each file may be gzip-compressed ``*.gz`` or uncompressed):

1. ``data_dir``, when given: a folder holding the dataset's files directly;
2. ``$GLASSNET_DATA/<name>/``: ``$GLASSNET_DATA`` is a root with one subfolder
   per dataset (``mnist/``, ``fashion-mnist/``), since both use the same file names;
3. the cache ``$XDG_CACHE_HOME/glassnet/<name>/`` (default ``~/.cache/glassnet/<name>/``);
4. the system copy ``SYSTEM_DIR/<name>/``, ``/usr/share/datasets/<name>/`` (Debian's
   ``dataset-fashion-mnist``);
5. a download from the canonical mirrors into the cache, where step 3 finds it
   next time (md5-checked, atomic: see :mod:`glassnet.data.download`). Set
   ``$XDG_CACHE_HOME`` to download elsewhere.

Verification: every file, wherever it comes from, is checked by md5 of its IDX
contents (the decompressed bytes), which is the same for the canonical ``.gz``,
an uncompressed copy and a re-compressed one such as Debian's (its ``.gz`` bytes
differ from upstream's, its contents do not). Downloads are also checked against
the md5 of the ``.gz`` as served. The md5 costs a fraction of what decompressing
the file does, and is remembered per process by (path, size, mtime), so loading
a split twice hashes it once. ``verify=False``
skips the md5 (the IDX reader still checks the header and the exact length).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .download import DownloadError, download_file
from .idx import parse_idx, read_payload

#: Root of the system-wide copies (Debian's dataset packages install here).
SYSTEM_DIR = "/usr/share/datasets"


@dataclass(frozen=True)
class IdxFile:
    """One file of a dataset: canonical ``.gz`` name, md5 of that ``.gz``, md5 of its IDX contents."""

    name: str
    md5: str
    raw_md5: str

    @property
    def raw_name(self) -> str:
        """The uncompressed file name (without ``.gz``)."""
        return self.name[: -len(".gz")]

    @property
    def raw_size(self) -> int:
        """The exact length of the IDX contents: 60,000 (train) or 10,000 (t10k) labels or 28×28 images."""
        n = 10000 if self.name.startswith("t10k") else 60000
        return 16 + n * 28 * 28 if "idx3" in self.name else 8 + n

    @property
    def max_download_bytes(self) -> int:
        """A cap on the ``.gz`` as served: gzip adds at most a few bytes per 16 KiB to what it cannot compress."""
        return self.raw_size + self.raw_size // 100 + 4096


@dataclass(frozen=True)
class DatasetInfo:
    """What is known about a dataset: its files per split, mirrors, class names."""

    name: str
    splits: dict  # split -> (images IdxFile, labels IdxFile)
    mirrors: tuple  # base URLs ending in "/"
    classes: tuple
    apt_package: str | None = None

    def files(self) -> list:
        return [f for pair in self.splits.values() for f in pair]


DATASETS = {
    "mnist": DatasetInfo(
        name="mnist",
        splits={
            "train": (
                IdxFile("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873", "6bbc9ace898e44ae57da46a324031adb"),
                IdxFile("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432", "a25bea736e30d166cdddb491f175f624"),
            ),
            "test": (
                IdxFile("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3", "2646ac647ad5339dbf082846283269ea"),
                IdxFile("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c", "27ae3e4e09519cfbb04c329615203637"),
            ),
        },
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        classes=tuple(str(d) for d in range(10)),
    ),
    "fashion-mnist": DatasetInfo(
        name="fashion-mnist",
        splits={
            "train": (
                IdxFile("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d", "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
                IdxFile("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe", "9018921c3c673c538a1fc5bad174d6f9"),
            ),
            "test": (
                IdxFile("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79", "8181f5470baa50b63fa0f6fddb340f0a"),
                IdxFile("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310", "15d484375f8d13e6eb1aabb0c3f46965"),
            ),
        },
        mirrors=(
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ),
        classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        apt_package="dataset-fashion-mnist",
    ),
}


class DatasetNotFoundError(FileNotFoundError):
    """A dataset file is neither on disk nor downloadable; the message says how to provide it."""


def dataset_info(name: str) -> DatasetInfo:
    """The :class:`DatasetInfo` of ``name`` ("mnist" or "fashion-mnist"; case and ``_`` ignored)."""
    key = name.lower().replace("_", "-")
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}: expected one of {sorted(DATASETS)}")
    return DATASETS[key]


def _cache_root() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "glassnet"


def cache_dir(name: str) -> Path:
    """``$XDG_CACHE_HOME/glassnet/<name>`` (default ``~/.cache/glassnet/<name>``)."""
    return _cache_root() / dataset_info(name).name


def search_path(folder: str, data_dir=None) -> list:
    """glassnet's data search path for the data set kept in folders named ``folder``
    (``"mnist"``, ``"rt-polarity"``, ...), in lookup order: ``data_dir`` if given,
    ``$GLASSNET_DATA/<folder>``, the cache ``~/.cache/glassnet/<folder>``, the
    system copy ``SYSTEM_DIR/<folder>``."""
    dirs = [Path(data_dir)] if data_dir is not None else []
    if os.environ.get("GLASSNET_DATA"):
        dirs.append(Path(os.environ["GLASSNET_DATA"]) / folder)
    return dirs + [_cache_root() / folder, Path(SYSTEM_DIR) / folder]


def search_dirs(name: str, data_dir=None) -> list:
    """The folders searched for ``name``'s files, in lookup order (see the module docstring)."""
    return search_path(dataset_info(name).name, data_dir)


def _find(file: IdxFile, dirs) -> Path | None:
    for folder in dirs:
        for candidate in (folder / file.name, folder / file.raw_name):
            if candidate.is_file():
                return candidate
    return None


def _offline_instructions(info: DatasetInfo, dirs, attempts) -> str:
    looked = "\n".join(f"  {d}" for d in dirs)
    tried = "\n".join(f"  {url}: {reason}" for url, reason in attempts) or "  (download=False: no download tried)"
    files = "\n".join(f"  {f.name:<28} md5 {f.md5}" for f in info.files())
    lines = [
        f"Looked in:\n{looked}",
        f"Downloads tried:\n{tried}",
        f"To use {info.name} offline, put its files (gzip or uncompressed) into {cache_dir(info.name)}/, "
        f"or into $GLASSNET_DATA/{info.name}/, or into any folder passed as data_dir=:\n{files}",
        "Check them with `md5sum *.gz`. Mirrors: " + " ".join(info.mirrors),
    ]
    if info.apt_package:
        lines.append(f"On Debian/Ubuntu, `sudo apt-get install {info.apt_package}` installs them "
                     f"into {SYSTEM_DIR}/{info.name}/, where they are found automatically.")
    return "\n".join(lines)


_verified: set = set()  # (path, size, mtime_ns) of files whose md5 matched in this process


def _load_verified(path: Path, file: IdxFile, verify: bool) -> np.ndarray:
    payload = read_payload(path, max_bytes=file.raw_size)
    if verify:
        st = path.stat()
        key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
        if key not in _verified:
            found = hashlib.md5(payload).hexdigest()
            if found != file.raw_md5:
                raise ValueError(
                    f"{path}: md5 of the IDX contents is {found}, expected {file.raw_md5} "
                    f"(the canonical {file.raw_name}). The file is corrupt or belongs to another "
                    "dataset: delete it so that it is fetched again, or pass verify=False to load it anyway."
                )
            _verified.add(key)
    return parse_idx(payload, str(path))


def _locate(info: DatasetInfo, file: IdxFile, data_dir, download: bool, mirrors, timeout: float,
            deadline: float) -> Path:
    dirs = search_dirs(info.name, data_dir)
    path = _find(file, dirs)
    if path is not None:
        return path
    attempts = []
    if download:
        try:
            return Path(download_file(file.name, file.md5, cache_dir(info.name),
                                      info.mirrors if mirrors is None else mirrors, timeout=timeout,
                                      deadline=deadline, max_bytes=file.max_download_bytes))
        except DownloadError as e:
            attempts = e.attempts
    raise DatasetNotFoundError(
        f"{info.name}: {file.name} was not found on disk"
        + (" and could not be downloaded." if download else " (download=False).")
        + "\n" + _offline_instructions(info, dirs, attempts)
    )


def load_split(name: str, split: str = "train", data_dir=None, download: bool = True,
               mirrors=None, verify: bool = True, timeout: float = 30.0, deadline: float = 600.0):
    """One split of a dataset: ``(images uint8 (N, 28, 28), labels int64 (N,))``.

    ``split`` is "train" (N = 60,000) or "test" (N = 10,000). ``mirrors`` replaces
    the dataset's download mirrors (base URLs ending in "/"); a download gives up
    on a mirror after ``timeout`` seconds without data, or ``deadline`` seconds in
    all, or when it sends more than the file can hold. See the module
    docstring for where files are looked for and how they are verified.
    """
    info = dataset_info(name)
    if split not in info.splits:
        raise ValueError(f"{info.name}: unknown split {split!r}: expected one of {sorted(info.splits)}")
    image_file, label_file = info.splits[split]
    if data_dir is not None and not Path(data_dir).is_dir():
        raise FileNotFoundError(f"{info.name}: data_dir {str(data_dir)!r} is not an existing folder")
    image_path = _locate(info, image_file, data_dir, download, mirrors, timeout, deadline)
    label_path = _locate(info, label_file, data_dir, download, mirrors, timeout, deadline)
    images = _load_verified(image_path, image_file, verify)
    labels = _load_verified(label_path, label_file, verify)
    if images.ndim != 3 or images.dtype != np.uint8 or labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(
            f"{info.name} {split}: expected uint8 images (N, H, W) and N labels, found images "
            f"{images.dtype} {images.shape} in {image_path} and labels {labels.dtype} {labels.shape} in {label_path}"
        )
    if len(labels) and (labels.min() < 0 or labels.max() >= len(info.classes)):
        raise ValueError(f"{label_path}: labels must lie in 0..{len(info.classes) - 1} ({info.name} has "
                         f"{len(info.classes)} classes), found {labels.min()}..{labels.max()}")
    return images, labels.astype(np.int64)


def load_dataset(name: str, data_dir=None, download: bool = True, mirrors=None, verify: bool = True):
    """``((x_train, y_train), (x_test, y_test))`` of "mnist" or "fashion-mnist".

    Images ``uint8 (N, 28, 28)``, labels ``int64 (N,)``; 60,000 training and
    10,000 test examples. Arguments as in :func:`load_split`.
    """
    return tuple(load_split(name, split, data_dir, download, mirrors, verify) for split in ("train", "test"))
