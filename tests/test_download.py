"""Downloads against a local HTTP server on 127.0.0.1 serving MNIST-shaped files and broken ones.

The files are synthetic (random images in MNIST's IDX format, gzip-compressed),
and the "mnist" entry of the data set table is replaced by one with their md5s:
every download path is exercised without the real data.
"""

import functools
import gzip
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

from glassnet.data import DatasetNotFoundError, DownloadError, dataset_info, download_file, load_split, read_idx
from glassnet.data import datasets
from glassnet.data.idx import write_idx

T10K = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """A folder with synthetic t10k files (300 random 28×28 images and labels) and their IdxFile records."""
    folder = tmp_path_factory.mktemp("synthetic")
    rng = np.random.default_rng(7)
    arrays = (rng.integers(0, 256, (300, 28, 28), dtype=np.uint8), rng.integers(0, 10, 300, dtype=np.uint8))
    files = []
    for name, array in zip(T10K, arrays):
        write_idx(folder / name[:-3], array)
        raw = (folder / name[:-3]).read_bytes()
        packed = gzip.compress(raw, mtime=0)
        (folder / name).write_bytes(packed)
        (folder / name[:-3]).unlink()
        files.append(datasets.IdxFile(name, hashlib.md5(packed).hexdigest(), hashlib.md5(raw).hexdigest()))
    return folder, tuple(files)


@pytest.fixture(autouse=True)
def synthetic_mnist(synthetic, monkeypatch):
    """The data set table's "mnist" with the synthetic files as its test split."""
    info = dataset_info("mnist")
    monkeypatch.setitem(datasets.DATASETS, "mnist", datasets.DatasetInfo(
        info.name, {"train": info.splits["train"], "test": synthetic[1]}, info.mirrors, info.classes))
    return synthetic[1]


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the folder; under /cut/ it promises the whole file but sends half and hangs up."""

    def do_GET(self):
        if self.path.startswith("/cut/"):
            body = (Path(self.directory) / "good" / self.path[len("/cut/"):]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory, synthetic):
    """Base URL of a server with good/ (the files), bad/ (one byte flipped), empty/ (404s)."""
    root = tmp_path_factory.mktemp("www")
    for sub in ("good", "bad", "empty"):
        (root / sub).mkdir()
    for name in T10K:
        data = bytearray((synthetic[0] / name).read_bytes())
        (root / "good" / name).write_bytes(bytes(data))
        data[len(data) // 2] ^= 0xFF
        (root / "bad" / name).write_bytes(bytes(data))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _leftovers(folder: Path):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_falls_back_from_a_wrong_checksum(server, synthetic, synthetic_mnist, tmp_path):
    _, LABELS = synthetic_mnist
    path = download_file(LABELS.name, LABELS.md5, tmp_path / "d", [f"{server}/bad/", f"{server}/good/"], progress=False)
    assert Path(path) == tmp_path / "d" / LABELS.name
    assert Path(path).read_bytes() == (synthetic[0] / LABELS.name).read_bytes()
    assert _leftovers(tmp_path / "d") == [LABELS.name]  # no temporary file left behind


def test_download_reports_every_failed_mirror(server, synthetic, synthetic_mnist, tmp_path):
    IMAGES, _ = synthetic_mnist
    size = (synthetic[0] / IMAGES.name).stat().st_size
    mirrors = [f"{server}/bad", f"{server}/empty/", f"{server}/cut/", "http://127.0.0.1:9/"]
    with pytest.raises(DownloadError) as e:
        download_file(IMAGES.name, IMAGES.md5, tmp_path, mirrors, timeout=5, progress=False)
    reasons = dict(e.value.attempts)
    assert list(reasons) == [m.rstrip("/") + "/" + IMAGES.name for m in mirrors]
    assert f"expected {IMAGES.md5}" in reasons[f"{server}/bad/{IMAGES.name}"]
    assert "404" in reasons[f"{server}/empty/{IMAGES.name}"]
    assert f"closed after {size // 2} of {size} bytes" in reasons[f"{server}/cut/{IMAGES.name}"]
    assert _leftovers(tmp_path) == []  # nothing partial after a failure


def test_load_split_downloads_into_the_cache(server, synthetic, isolated):
    mirrors = [f"{server}/empty/", f"{server}/bad/", f"{server}/good/"]
    x, y = load_split("mnist", "test", mirrors=mirrors)
    np.testing.assert_array_equal(x, read_idx(synthetic[0] / T10K[0]))
    np.testing.assert_array_equal(y, read_idx(synthetic[0] / T10K[1]))
    assert x.shape == (300, 28, 28) and y.dtype == np.int64
    cache = isolated / "cache" / "glassnet" / "mnist"
    assert _leftovers(cache) == sorted(T10K)
    for name in T10K:
        assert (cache / name).read_bytes() == (synthetic[0] / name).read_bytes()
    # The second time the cache is used: no mirror is needed.
    x2, _ = load_split("mnist", "test", mirrors=[])
    np.testing.assert_array_equal(x2, x)


def test_download_goes_to_the_cache_even_with_a_data_dir(server, isolated):
    """data_dir is only the first place looked in (it may be read-only)."""
    (isolated / "mine").mkdir()
    load_split("mnist", "test", data_dir=isolated / "mine", mirrors=[f"{server}/good"])
    assert _leftovers(isolated / "mine") == []
    assert _leftovers(isolated / "cache" / "glassnet" / "mnist") == sorted(T10K)


def test_all_mirrors_failing_gives_offline_instructions(server, isolated):
    mirrors = [f"{server}/bad/", f"{server}/cut/"]
    with pytest.raises(DatasetNotFoundError) as e:
        load_split("fashion-mnist", "test", mirrors=mirrors)
    msg = str(e.value)
    cache = isolated / "cache" / "glassnet" / "fashion-mnist"
    assert "could not be downloaded" in msg and f"{server}/cut/t10k-images-idx3-ubyte.gz: OSError: incomplete download" in msg
    for f in dataset_info("fashion-mnist").files():
        assert f"{f.name}" in msg and f.md5 in msg
    assert f"put its files (gzip or uncompressed) into {cache}/" in msg
    assert "$GLASSNET_DATA/fashion-mnist/" in msg and "data_dir=" in msg
    assert "apt-get install dataset-fashion-mnist" in msg
    assert _leftovers(cache) == []  # the failed attempts left no partial file in the cache


def test_file_appears_only_by_rename_and_ctrl_c_leaves_nothing(server, synthetic_mnist, tmp_path, monkeypatch):
    from glassnet.data import download as dl

    IMAGES, LABELS = synthetic_mnist
    renames, syncs = [], []
    real_replace, real_fsync = dl.os.replace, dl.os.fsync
    monkeypatch.setattr(dl.os, "replace", lambda src, dst: renames.append((src, dst)) or real_replace(src, dst))
    monkeypatch.setattr(dl.os, "fsync", lambda fd: syncs.append(fd) or real_fsync(fd))
    download_file(LABELS.name, LABELS.md5, tmp_path, [f"{server}/good/"], progress=False)
    ((src, dst),) = renames
    assert Path(src).parent == Path(dst).parent == tmp_path and Path(src).name.endswith(".part")
    assert len(syncs) == 2  # the file before the rename, the folder after it

    class Interrupted:
        def update(self, _):
            raise KeyboardInterrupt

    monkeypatch.setattr(dl.hashlib, "md5", Interrupted)
    with pytest.raises(KeyboardInterrupt):  # not swallowed as a failed mirror
        download_file(IMAGES.name, IMAGES.md5, tmp_path / "i", [f"{server}/good/", f"{server}/good/"], progress=False)
    assert _leftovers(tmp_path / "i") == []
