"""Dataset lookup order, md5 verification of local files, and the real data sets."""

import gzip
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from glassnet.data import DatasetNotFoundError, cache_dir, dataset_info, load_dataset, load_split, read_idx, search_dirs
from glassnet.data import datasets

T10K = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def _copy_t10k(mnist: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in T10K:
        shutil.copy(mnist / name, folder / name)
    return folder


def _corrupt(path: Path) -> None:
    """Same length, one pixel changed: only the md5 can tell."""
    data = bytearray(gzip.decompress(path.read_bytes()))
    data[1000] ^= 0xFF
    path.write_bytes(gzip.compress(bytes(data), compresslevel=1))


def test_cache_dir_respects_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir("mnist") == tmp_path / "glassnet" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir("Fashion_MNIST") == tmp_path / "home" / ".cache" / "glassnet" / "fashion-mnist"


def test_search_order(isolated, monkeypatch):
    monkeypatch.setenv("GLASSNET_DATA", str(isolated / "env"))
    assert search_dirs("mnist", isolated / "explicit") == [
        isolated / "explicit", isolated / "env" / "mnist", isolated / "cache" / "glassnet" / "mnist",
        isolated / "system" / "mnist"]
    monkeypatch.delenv("GLASSNET_DATA")
    assert search_dirs("mnist") == [isolated / "cache" / "glassnet" / "mnist", isolated / "system" / "mnist"]


def test_lookup_order_is_followed(isolated, monkeypatch, mnist):
    """Each location wins over the ones after it: a corrupt copy there is the one reported."""
    system = _copy_t10k(mnist, isolated / "system" / "mnist")
    cache = _copy_t10k(mnist, isolated / "cache" / "glassnet" / "mnist")
    env = _copy_t10k(mnist, isolated / "env" / "mnist")
    explicit = _copy_t10k(mnist, isolated / "explicit")
    monkeypatch.setenv("GLASSNET_DATA", str(isolated / "env"))
    for winner in (explicit, env, cache, system):
        _corrupt(winner / T10K[0])
        with pytest.raises(ValueError, match=f"{winner / T10K[0]}: md5 of the IDX contents"):
            load_split("mnist", "test", data_dir=explicit, download=False)
        os.remove(winner / T10K[0])  # gone: the next location is used
    with pytest.raises(DatasetNotFoundError):
        load_split("mnist", "test", data_dir=explicit, download=False)


def test_loads_real_mnist_test_split(isolated, mnist):
    x, y = load_split("mnist", "test", data_dir=mnist, download=False)
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (10000,) and y.dtype == np.int64
    np.testing.assert_array_equal(y, read_idx(mnist / T10K[1]))
    np.testing.assert_array_equal(x, read_idx(mnist / T10K[0]))
    np.testing.assert_array_equal(np.bincount(y), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])


def test_uncompressed_and_recompressed_copies_verify(isolated, mnist):
    """md5 is of the IDX contents, so Debian-style re-compressed and raw copies are accepted."""
    folder = isolated / "copies"
    folder.mkdir()
    images = gzip.decompress((mnist / T10K[0]).read_bytes())
    (folder / "t10k-images-idx3-ubyte").write_bytes(images)  # raw
    (folder / T10K[1]).write_bytes(gzip.compress(gzip.decompress((mnist / T10K[1]).read_bytes()), 1, mtime=123))
    assert (folder / T10K[1]).read_bytes() != (mnist / T10K[1]).read_bytes()
    x, y = load_split("mnist", "test", data_dir=folder, download=False)
    np.testing.assert_array_equal(x, read_idx(mnist / T10K[0]))


def test_corrupt_local_file_is_refused_unless_verify_false(isolated, mnist):
    folder = _copy_t10k(mnist, isolated / "d")
    _corrupt(folder / T10K[0])
    info = dataset_info("mnist").splits["test"][0]
    with pytest.raises(ValueError, match=f"expected {info.raw_md5}.*delete it.*verify=False"):
        load_split("mnist", "test", data_dir=folder, download=False)
    x, _ = load_split("mnist", "test", data_dir=folder, download=False, verify=False)
    assert x.reshape(-1)[1000 - 16] != read_idx(mnist / T10K[0]).reshape(-1)[1000 - 16]


def test_md5_check_is_remembered_by_size_and_mtime(isolated, monkeypatch, mnist):
    folder = _copy_t10k(mnist, isolated / "d")
    load_split("mnist", "test", data_dir=folder, download=False)
    calls = []
    real_md5 = datasets.hashlib.md5
    monkeypatch.setattr(datasets.hashlib, "md5", lambda *a: calls.append(1) or real_md5(*a))
    load_split("mnist", "test", data_dir=folder, download=False)
    assert calls == []  # both files remembered
    _corrupt(folder / T10K[0])  # new mtime: checked again, and caught
    os.utime(folder / T10K[0], ns=(1, 1))
    with pytest.raises(ValueError, match="md5 of the IDX contents"):
        load_split("mnist", "test", data_dir=folder, download=False)


def test_structurally_wrong_files_are_refused(isolated):
    """verify=False still checks that images are (N, H, W) uint8 with N labels."""
    from glassnet.data import write_idx

    folder = isolated / "d"
    folder.mkdir()
    write_idx(folder / T10K[0], np.zeros((5, 28, 28), np.uint8))
    write_idx(folder / T10K[1], np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match=r"mnist test: expected uint8 images .* \(5, 28, 28\).*\(4,\)"):
        load_split("mnist", "test", data_dir=folder, download=False, verify=False)


def test_names_and_splits_are_checked():
    with pytest.raises(ValueError, match=r"unknown dataset 'cifar'.*'fashion-mnist', 'mnist'"):
        load_dataset("cifar")
    with pytest.raises(ValueError, match=r"unknown split 'val'.*\['test', 'train'\]"):
        load_split("mnist", "val")
    assert dataset_info("Fashion_MNIST").classes[9] == "Ankle boot"


def test_missing_files_explain_how_to_provide_them(isolated):
    with pytest.raises(DatasetNotFoundError) as e:
        load_dataset("fashion-mnist", download=False)
    msg = str(e.value)
    info = dataset_info("fashion-mnist")
    for f in info.files():
        assert f.name in msg and f.md5 in msg
    assert str(isolated / "cache" / "glassnet" / "fashion-mnist") in msg
    assert "apt-get install dataset-fashion-mnist" in msg and "download=False" in msg


def test_fashion_mnist_system_copy(monkeypatch, tmp_path, fashion_mnist_dir):
    monkeypatch.delenv("GLASSNET_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    (x, y), (xt, yt) = load_dataset("fashion-mnist", download=False)
    assert x.shape == (60000, 28, 28) and xt.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert y.dtype == yt.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [6000] * 10)  # Fashion-MNIST is balanced
    np.testing.assert_array_equal(np.bincount(yt), [1000] * 10)
    assert 60 < x.mean() < 80  # mostly background, a mean pixel of about 73
