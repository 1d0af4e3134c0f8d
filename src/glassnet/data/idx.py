"""The IDX file format of MNIST and Fashion-MNIST: reading (and writing) it, with checks.

An IDX file is a 4-byte magic number, one big-endian uint32 per dimension, then
the values in C order, big-endian::

    bytes 0-1   0x00 0x00
    byte  2     type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                           0x0D float32, 0x0E float64
    byte  3     number of dimensions d (1 for labels, 3 for images)
    4 .. 4+4d   the d sizes, big-endian uint32
    then        prod(sizes) values of the type, big-endian

So MNIST's ``train-images-idx3-ubyte`` is ``00 00 08 03``, then 60000, 28, 28,
then 47,040,000 pixel bytes: the file must be exactly 16 + 47,040,000 bytes long.
Files may be gzip-compressed (recognised by the gzip magic ``1f 8b``, not by the
file name). Every check failure raises ``ValueError`` naming the file, what was
expected and what was found.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib

import numpy as np

#: IDX type code -> big-endian numpy dtype.
IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"
MAX_DIMENSIONS = 32  # NumPy's limit on array dimensions (1.x; 2.x allows 64)
MAX_BYTES = 1 << 32  # 4 GiB: more than any IDX data set glassnet reads


def _expected_size(head: bytes) -> int | None:
    """The exact IDX length its header announces, or None when ``head`` is too short or no IDX header."""
    if len(head) < 4 or head[0] or head[1] or head[2] not in IDX_DTYPES or not 1 <= head[3] <= MAX_DIMENSIONS:
        return None
    header = 4 + 4 * head[3]
    if len(head) < header:
        return None
    return header + math.prod(int.from_bytes(head[i:i + 4], "big") for i in range(4, header, 4)) * \
        IDX_DTYPES[head[2]].itemsize


def read_payload(path, max_bytes: int | None = None) -> bytes:
    """The IDX bytes of ``path``: the file itself, or its gzip stream decompressed.

    Compression is recognised by the first two bytes (``1f 8b``). A truncated
    gzip stream or bytes after its end raise ``ValueError``. Inflating stops
    as soon as the output outgrows the size the IDX header announces, or
    ``max_bytes`` (default :data:`MAX_BYTES`): a small file that would inflate
    to gigabytes (a "gzip bomb") is refused by size.
    """
    path = os.fspath(path)
    limit = MAX_BYTES if max_bytes is None else max_bytes
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size > limit and f.read(2) != _GZIP_MAGIC:
            raise ValueError(f"{path}: {os.fstat(f.fileno()).st_size} bytes, more than the {limit} expected")
        f.seek(0)
        data = f.read()
    if data[:2] != _GZIP_MAGIC:
        return data
    payload, size = [], 0
    rest = data
    while rest:  # a gzip file may hold several members, concatenated
        inflater = zlib.decompressobj(wbits=31)
        try:
            while not inflater.eof:  # 1 MiB at a time: the size is checked before memory is spent
                piece = inflater.decompress(rest, 1 << 20)
                rest = inflater.unconsumed_tail
                if not piece and not rest:
                    break  # the input ended first: truncated
                if not payload:  # the IDX header is in the first piece: the exact size it announces
                    announced = _expected_size(piece)
                    limit = limit if announced is None else min(limit, announced)
                payload.append(piece)
                size += len(piece)
                if size > limit:
                    raise ValueError(f"{path}: its gzip data inflates to more than {limit} bytes (the IDX header "
                                     f"and the caller allow no more; {len(data)} bytes on disk): refused")
        except zlib.error as e:
            raise ValueError(f"{path}: corrupt gzip data ({e})") from None
        if not inflater.eof:
            raise ValueError(
                f"{path}: the gzip stream is truncated (the file ends before the end-of-stream "
                f"marker; {len(data)} bytes on disk). Delete it and fetch it again."
            )
        rest = inflater.unused_data
        if rest and rest[:2] != _GZIP_MAGIC:
            raise ValueError(f"{path}: {len(rest)} unexpected bytes after the end of the gzip stream")
    return b"".join(payload)


def parse_idx(buffer, name: str = "<buffer>") -> np.ndarray:
    """Decode IDX bytes into an array of the native byte order, shape = the header's sizes.

    ``name`` is used in error messages. The buffer must be exactly
    ``4 + 4*d + prod(sizes) * itemsize`` bytes long.
    """
    n = len(buffer)
    if n < 4:
        raise ValueError(f"{name}: not an IDX file: {n} bytes, shorter than the 4-byte magic number")
    zero0, zero1, code, ndim = buffer[0], buffer[1], buffer[2], buffer[3]
    if ndim > MAX_DIMENSIONS:
        raise ValueError(f"{name}: the IDX header announces {ndim} dimensions; glassnet reads at most "
                         f"{MAX_DIMENSIONS} (NumPy's limit)")
    if zero0 != 0 or zero1 != 0 or code not in IDX_DTYPES or ndim == 0:
        raise ValueError(
            f"{name}: bad IDX magic number {bytes(buffer[:4]).hex(' ')}: expected 00 00 <type> <ndim> "
            f"with type one of {', '.join(f'{c:02x}' for c in IDX_DTYPES)} and ndim >= 1"
        )
    header = 4 + 4 * ndim
    if n < header:
        raise ValueError(f"{name}: truncated IDX header: {ndim} dimensions need {header} bytes, file has {n}")
    shape = tuple(int(s) for s in np.frombuffer(buffer, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = header + math.prod(shape) * dtype.itemsize  # Python integers: no overflow
    if n != expected:
        kind = "truncated" if n < expected else "too long"
        raise ValueError(
            f"{name}: IDX file {kind}: header says shape {shape} of {dtype.newbyteorder('=').name}, "
            f"so {expected} bytes are expected, found {n}"
        )
    array = np.frombuffer(buffer, dtype=dtype, offset=header).reshape(shape)
    # A native, writable copy: big-endian types are byte-swapped, uint8 is copied
    # out of the (read-only) bytes object.
    return array.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path) -> np.ndarray:
    """Read an IDX file (raw or gzip) into a numpy array (native byte order, writable).

    Example: ``read_idx("t10k-images-idx3-ubyte.gz")`` -> uint8 array (10000, 28, 28).
    Raises ``ValueError`` for a truncated or corrupt file, naming the file,
    what was expected and what was found.
    """
    return parse_idx(read_payload(path), os.fspath(path))


def write_idx(path, array, compress: bool | None = None) -> None:
    """Write ``array`` as an IDX file (gzip-compressed if ``compress``, default: the
    name ends in ``.gz``). The dtype must be one of the IDX types."""
    array = np.asarray(array)
    codes = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise ValueError(f"write_idx: dtype {array.dtype} has no IDX type code; use one of {sorted(map(str, codes))}")
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"write_idx: IDX holds 1 to 255 dimensions, got an array of shape {array.shape}")
    header = bytes([0, 0, codes[native], array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    data = header + np.ascontiguousarray(array, dtype=native.newbyteorder(">")).tobytes()
    path = os.fspath(path)
    if compress is None:
        compress = path.endswith(".gz")
    with open(path, "wb") as f:
        f.write(gzip.compress(data, mtime=0) if compress else data)
