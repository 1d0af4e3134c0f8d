"""IDX reader: round trips for every type, real MNIST files, and each kind of damage."""

import gzip
import struct

import numpy as np
import pytest

from glassnet.data import read_idx, write_idx
from glassnet.data.idx import IDX_DTYPES


@pytest.mark.parametrize("dtype", [dt.newbyteorder("=") for dt in IDX_DTYPES.values()])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_round_trip_every_type(tmp_path, rng, dtype, suffix):
    a = (rng.standard_normal((3, 4, 5)) * 100).astype(dtype)
    path = tmp_path / f"a-idx3{suffix}"
    write_idx(path, a)
    b = read_idx(path)
    assert b.dtype == dtype and b.dtype.isnative and b.shape == a.shape
    np.testing.assert_array_equal(a, b)
    assert b.flags.writeable


def test_big_endian_layout_matches_spec(tmp_path):
    """Header and values are big-endian, as the format says (checked against struct)."""
    raw = bytes([0, 0, 0x0C, 1]) + struct.pack(">I", 3) + struct.pack(">iii", 1, -2, 70000)
    (tmp_path / "x").write_bytes(raw)
    np.testing.assert_array_equal(read_idx(tmp_path / "x"), [1, -2, 70000])
    write_idx(tmp_path / "y", np.array([1, -2, 70000], dtype=np.int32))
    assert (tmp_path / "y").read_bytes() == raw


def test_gzip_is_recognised_by_magic_not_name(tmp_path, rng):
    a = rng.integers(0, 256, (2, 3), dtype=np.uint8)
    write_idx(tmp_path / "no-suffix", a, compress=True)
    write_idx(tmp_path / "plain.gz", a, compress=False)
    np.testing.assert_array_equal(read_idx(tmp_path / "no-suffix"), a)
    np.testing.assert_array_equal(read_idx(tmp_path / "plain.gz"), a)


def test_multi_member_gzip(tmp_path, rng):
    a = rng.integers(0, 256, (4, 3), dtype=np.uint8)
    write_idx(tmp_path / "a", a)
    data = (tmp_path / "a").read_bytes()
    (tmp_path / "a.gz").write_bytes(gzip.compress(data[:7]) + gzip.compress(data[7:]))
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), a)


def test_real_mnist_test_set(mnist):
    x = read_idx(mnist / "t10k-images-idx3-ubyte.gz")
    y = read_idx(mnist / "t10k-labels-idx1-ubyte.gz")
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (10000,) and y.dtype == np.uint8
    np.testing.assert_array_equal(y[:10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])  # the well-known first digits
    assert x.max() == 255 and x.min() == 0
    assert (x[:, 0, :] == 0).all()  # MNIST's top row is background


def _idx_bytes(tmp_path, shape=(10, 28, 28)):
    write_idx(tmp_path / "ok", np.zeros(shape, np.uint8))
    return (tmp_path / "ok").read_bytes()


def test_truncated_file(tmp_path):
    data = _idx_bytes(tmp_path)
    (tmp_path / "short").write_bytes(data[:-1])
    with pytest.raises(ValueError, match=r"short.*truncated.*\(10, 28, 28\).*7856 bytes are expected, found 7855"):
        read_idx(tmp_path / "short")


def test_trailing_bytes(tmp_path):
    data = _idx_bytes(tmp_path)
    (tmp_path / "long").write_bytes(data + b"\0")
    with pytest.raises(ValueError, match=r"long.*too long.*expected, found 7857"):
        read_idx(tmp_path / "long")


def test_wrong_dims(tmp_path):
    """A header that promises more pixels than the file holds."""
    data = bytearray(_idx_bytes(tmp_path))
    data[12:16] = struct.pack(">I", 29)  # 28 columns -> 29
    (tmp_path / "dims").write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"dims.*\(10, 28, 29\).*8136 bytes are expected, found 7856"):
        read_idx(tmp_path / "dims")


@pytest.mark.parametrize("magic", [b"\x01\x00\x08\x03", b"\x00\x00\x07\x03", b"\x00\x00\x08\x00", b"PK\x03\x04"])
def test_bad_magic(tmp_path, magic):
    data = _idx_bytes(tmp_path)
    (tmp_path / "bad").write_bytes(magic + data[4:])
    with pytest.raises(ValueError, match=r"bad.*bad IDX magic number.*expected 00 00 <type> <ndim>"):
        read_idx(tmp_path / "bad")


def test_truncated_header(tmp_path):
    (tmp_path / "hdr").write_bytes(bytes([0, 0, 8, 3, 0, 0, 0, 10]))
    with pytest.raises(ValueError, match=r"hdr.*truncated IDX header.*16 bytes, file has 8"):
        read_idx(tmp_path / "hdr")
    (tmp_path / "tiny").write_bytes(b"\0\0")
    with pytest.raises(ValueError, match="shorter than the 4-byte magic"):
        read_idx(tmp_path / "tiny")


def test_truncated_gzip(tmp_path):
    data = gzip.compress(_idx_bytes(tmp_path))
    (tmp_path / "cut.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cut\.gz.*gzip stream is truncated"):
        read_idx(tmp_path / "cut.gz")


def test_corrupt_gzip_and_garbage_after_it(tmp_path):
    data = gzip.compress(_idx_bytes(tmp_path))
    bad = bytearray(data)
    bad[12:40] = b"\xff" * 28
    (tmp_path / "bad.gz").write_bytes(bytes(bad))
    with pytest.raises(ValueError, match=r"bad\.gz.*corrupt gzip"):
        read_idx(tmp_path / "bad.gz")
    (tmp_path / "tail.gz").write_bytes(data + b"junk")
    with pytest.raises(ValueError, match=r"tail\.gz.*4 unexpected bytes after the end of the gzip stream"):
        read_idx(tmp_path / "tail.gz")


def test_write_rejects_types_without_code(tmp_path):
    with pytest.raises(ValueError, match="int64 has no IDX type code"):
        write_idx(tmp_path / "x", np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="1 to 255 dimensions"):
        write_idx(tmp_path / "x", np.uint8(3))
