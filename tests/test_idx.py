"""IDX reading and writing: round trips, the exact byte layout, and every kind of bad file."""

from __future__ import annotations

import gzip
import re

import numpy as np
import pytest

from coursekit.data import IDXFormatError, read_idx, write_idx
from coursekit.data.idx import encode_idx


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


ARRAYS = {
    "uint8-3d": _rng().integers(0, 256, (5, 28, 28), dtype=np.uint8),
    "uint8-1d": np.arange(17, dtype=np.uint8),
    "int8": np.array([[-128, 0, 127]], dtype=np.int8),
    "int16": np.array([-30000, 1, 30000], dtype=np.int16),
    "int32": np.arange(-6, 6, dtype=np.int32).reshape(3, 4),
    "float32": _rng().standard_normal((2, 3, 4)).astype(np.float32),
    "float64": np.array([np.pi, -1e300, 0.0]),
}


@pytest.mark.parametrize("suffix", [".gz", ""])
@pytest.mark.parametrize("key", list(ARRAYS))
def test_roundtrip(tmp_path, key, suffix):
    array = ARRAYS[key]
    path = write_idx(tmp_path / f"a-idx{suffix}", array)
    back = read_idx(path)
    assert back.dtype == array.dtype and back.dtype.isnative
    assert back.shape == array.shape
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")


def test_byte_layout_is_big_endian_idx():
    data = encode_idx(np.array([[1, 2, 3], [4, 5, 6]], dtype=np.uint8))
    assert data == bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6])
    data = encode_idx(np.array([1], dtype=np.int32))
    assert data == bytes([0, 0, 0x0C, 1, 0, 0, 0, 1, 0, 0, 0, 1])


def test_plain_file_with_gzip_content_is_read(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(gzip.compress(encode_idx(np.arange(4, dtype=np.uint8))))
    np.testing.assert_array_equal(read_idx(path), np.arange(4))


def test_write_replaces_atomically_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "x-idx1-ubyte.gz"
    write_idx(path, np.zeros(3, dtype=np.uint8))
    write_idx(path, np.ones(5, dtype=np.uint8))
    np.testing.assert_array_equal(read_idx(path), np.ones(5))
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_write_gz_is_reproducible(tmp_path):
    a = write_idx(tmp_path / "a.gz", ARRAYS["uint8-3d"]).read_bytes()
    b = write_idx(tmp_path / "b.gz", ARRAYS["uint8-3d"]).read_bytes()
    assert a == b


@pytest.mark.parametrize(
    "bad", [np.array([1, 2], dtype=np.uint16), np.array(3, dtype=np.uint8), [1, 2, 3]]
)
def test_write_rejects_what_idx_cannot_store(tmp_path, bad):
    with pytest.raises(ValueError, match="array"):
        write_idx(tmp_path / "bad.gz", bad)
    assert list(tmp_path.iterdir()) == []


def _write(path, data: bytes, gz: bool):
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


GOOD = encode_idx(np.zeros((10, 28, 28), dtype=np.uint8))  # header 16 bytes + 7,840 bytes


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "plain"])
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (GOOD[:1000], "is truncated: header promises 7,840 bytes of data (shape (10, 28, 28)"),
        (GOOD[:10], "is truncated: its header needs 16 bytes"),
        (GOOD + b"\x00" * 3, "has 3 unexpected bytes after the data"),
        (b"\x08\x03" + GOOD[2:], "is not an IDX file: it should start with the magic number"),
        (b"\x00\x00\x07\x01" + GOOD[4:], "unknown IDX type code 0x07"),
        (b"\x00\x00\x08\x00", "declares 0 dimensions"),
        (b"", "is empty"),
    ],
    ids=["truncated", "short-header", "too-long", "bad-magic", "bad-type", "0-dims", "empty"],
)
def test_bad_files_raise_naming_the_file(tmp_path, data, message, gz):
    path = _write(tmp_path / ("f-idx3-ubyte.gz" if gz else "f-idx3-ubyte"), data, gz)
    with pytest.raises(IDXFormatError, match=re.escape(str(path))) as info:
        read_idx(path)
    assert message in str(info.value)


def test_empty_gz_file(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(b"")
    with pytest.raises(IDXFormatError, match=re.escape(f"{path} is empty")):
        read_idx(path)


def test_corrupt_gzip(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(GOOD)[:-40])  # stream cut short
    with pytest.raises(IDXFormatError, match=re.escape(f"{path} is not a valid gzip file")):
        read_idx(path)


def test_gz_name_without_gzip_content(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(GOOD)
    with pytest.raises(IDXFormatError, match=re.escape(f"{path} is not gzip-compressed")):
        read_idx(path)


def test_idx_format_error_is_a_value_error():
    assert issubclass(IDXFormatError, ValueError)
