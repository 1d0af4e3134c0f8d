"""Data files and downloads within bounds: IDX sizes, gzip bombs, labels, download size caps and deadlines."""

import gzip
import http.server
import shutil
import threading
import time
import zlib

import numpy as np
import pytest

from glassnet.data import dataset_info, download_file, load_split, read_idx
from glassnet.data.idx import read_payload, write_idx

IMAGES, LABELS = dataset_info("mnist").splits["test"]

T10K = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def _idx_header(code: int, sizes) -> bytes:
    return bytes([0, 0, code, len(sizes)]) + b"".join(int(s).to_bytes(4, "big") for s in sizes)


# ------------------------------------------------------------------ IDX
def test_an_idx_header_with_255_dimensions_is_a_clear_error(tmp_path):
    path = tmp_path / "many.idx"
    path.write_bytes(_idx_header(0x08, [1] * 255) + b"\0")
    with pytest.raises(ValueError, match=rf"{path}: the IDX header announces 255 dimensions; glassnet reads at most"):
        read_idx(path)


def test_idx_sizes_whose_product_overflows_are_a_clear_error(tmp_path):
    path = tmp_path / "huge.idx"
    path.write_bytes(_idx_header(0x0E, [0xFFFFFFFF] * 4) + b"\0" * 64)  # 2^128 float64 values
    with pytest.raises(ValueError, match=rf"{path}: IDX file truncated: header says shape .* so "
                                         r"\d{30,} bytes are expected, found 84"):
        read_idx(path)


def _gzip_of_zeros(path, header: bytes, n_zeros: int) -> None:
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(path, "wb") as f:
        f.write(deflate.compress(header))
        block = bytes(1 << 20)
        for _ in range(n_zeros >> 20):
            f.write(deflate.compress(block))
        f.write(deflate.flush())


def test_a_gzip_bomb_is_refused_by_size_without_inflating_it(tmp_path):
    path = tmp_path / "bomb.idx.gz"
    _gzip_of_zeros(path, _idx_header(0x08, [1000]), 256 << 20)  # 256 KiB on disk, 256 MiB inflated
    assert path.stat().st_size < 1 << 20
    started = time.perf_counter()
    with pytest.raises(ValueError, match=rf"{path}: its gzip data inflates to more than 1008 bytes"):
        read_idx(path)
    assert time.perf_counter() - started < 2.0  # stopped at the first MiB, not after 256


def test_a_gzip_that_inflates_to_its_announced_size_is_still_capped_by_the_caller(tmp_path):
    path = tmp_path / "big.idx.gz"
    _gzip_of_zeros(path, _idx_header(0x08, [64 << 20]), 64 << 20)  # honest header, but not what we expect
    with pytest.raises(ValueError, match="inflates to more than 10008 bytes"):
        read_payload(path, max_bytes=LABELS.raw_size)


def test_labels_outside_the_classes_are_refused_also_without_verify(tmp_path, mnist):
    shutil.copy(mnist / T10K[0], tmp_path / T10K[0])
    labels = np.arange(10000, dtype=np.uint8) % 10
    labels[1234] = 12
    write_idx(tmp_path / LABELS.raw_name, labels)
    with pytest.raises(ValueError, match=rf"{LABELS.raw_name}: labels must lie in 0..9 .* found 0..12"):
        load_split("mnist", "test", data_dir=tmp_path, download=False, verify=False)


def test_a_data_dir_that_does_not_exist_is_refused_not_skipped(tmp_path):
    with pytest.raises(FileNotFoundError, match="data_dir '/nonexistent/x' is not an existing folder"):
        load_split("mnist", "test", data_dir="/nonexistent/x", download=False)


# ------------------------------------------------------------- downloads
class _Hostile(http.server.BaseHTTPRequestHandler):
    """/huge/<name>: 64 MiB of zeros without a length; /announced/: a 64 MiB Content-Length;
    /slow/: the real file, 1 KiB every 200 ms."""

    def do_GET(self):
        kind, name = self.path.strip("/").split("/", 1)
        self.send_response(200)
        if kind == "announced":
            self.send_header("Content-Length", str(64 << 20))
        self.end_headers()
        try:
            if kind == "slow":
                body = (self.server.source / name).read_bytes()
                for i in range(0, len(body), 1024):
                    self.wfile.write(body[i:i + 1024])
                    self.wfile.flush()
                    time.sleep(0.2)
            else:
                for _ in range(64):
                    self.wfile.write(bytes(1 << 20))
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def hostile(shared_data_root):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    httpd.source = shared_data_root / "mnist"  # what /slow/ serves
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("kind,reason", [("huge", "sent more than the"), ("announced", "announces 67108864 bytes")])
def test_a_download_stops_at_the_size_the_file_can_have(hostile, tmp_path, kind, reason):
    assert LABELS.max_download_bytes < 20_000  # the labels .gz is 4,542 bytes
    with pytest.raises(OSError) as e:
        download_file(LABELS.name, LABELS.md5, tmp_path, [f"{hostile}/{kind}/"], progress=False,
                      max_bytes=LABELS.max_download_bytes)
    assert reason in str(e.value)
    assert list(tmp_path.iterdir()) == []


def test_a_download_that_trickles_past_its_deadline_is_abandoned(hostile, tmp_path, mnist):
    started = time.perf_counter()
    with pytest.raises(OSError, match="took more than its deadline of 0.3 s"):
        download_file(LABELS.name, LABELS.md5, tmp_path, [f"{hostile}/slow/"], progress=False, deadline=0.3,
                      timeout=5)
    assert time.perf_counter() - started < 3
    assert list(tmp_path.iterdir()) == []


def test_gzip_module_and_the_reader_agree_on_a_normal_file(tmp_path):
    labels = np.arange(100, dtype=np.uint8) % 10
    write_idx(tmp_path / "l.idx.gz", labels)
    assert gzip.decompress((tmp_path / "l.idx.gz").read_bytes()) == read_payload(tmp_path / "l.idx.gz")
    np.testing.assert_array_equal(read_idx(tmp_path / "l.idx.gz"), labels)
