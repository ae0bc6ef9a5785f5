"""Reading and writing the IDX file format of MNIST and Fashion-MNIST.

An IDX file is a 4-byte magic number, one big-endian ``uint32`` size per dimension, then the
array in C order, big-endian::

    00 00 <type code> <ndim> | dim_0 ... dim_{ndim-1} | data

The files are usually distributed gzip-compressed (``*.gz``); both forms are read here.
"""

from __future__ import annotations

import gzip
import math
import os
import tempfile
import zlib
from pathlib import Path

import numpy as np

__all__ = ["IDXFormatError", "read_idx", "write_idx", "parse_idx", "DTYPES"]

#: IDX type code -> big-endian NumPy dtype of the stored elements.
DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES: dict[np.dtype, int] = {dt.newbyteorder("="): code for code, dt in DTYPES.items()}

_GZIP_MAGIC = b"\x1f\x8b"


class IDXFormatError(ValueError):
    """A file is not a well-formed IDX file (or not a readable gzip of one)."""


def _read_bytes(path: Path) -> bytes:
    """Return the IDX bytes of ``path``, gunzipped when it is ``*.gz`` or starts like a gzip."""
    data = path.read_bytes()
    is_gz = path.suffix == ".gz"
    if is_gz and data and not data.startswith(_GZIP_MAGIC):
        raise IDXFormatError(f"{path} is not gzip-compressed although its name ends in .gz")
    if data.startswith(_GZIP_MAGIC):
        try:
            return gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as err:
            raise IDXFormatError(f"{path} is not a valid gzip file ({err})") from err
    return data


def parse_idx(data: bytes, name: str | os.PathLike[str] = "<bytes>") -> np.ndarray:
    """Parse uncompressed IDX bytes.

    Args:
        data: the whole file content, uncompressed.
        name: how to refer to the data in error messages (usually its path).

    Returns:
        A new writable array in native byte order, with the dtype of the type code (``uint8``
        for MNIST) and the shape given by the header.

    Raises:
        IDXFormatError: empty data, a bad magic number, an unknown type code, or a payload whose
            size is not exactly the product of the dimensions times the element size.
    """
    if len(data) == 0:
        raise IDXFormatError(f"{name} is empty")
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        found = data[:4].hex(" ")
        raise IDXFormatError(
            f"{name} is not an IDX file: it should start with the magic number "
            f"00 00 <type> <ndim>, found {found}"
        )
    code, ndim = data[2], data[3]
    if code not in DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in DTYPES)
        raise IDXFormatError(f"{name} has unknown IDX type code 0x{code:02X} (known: {known})")
    if ndim == 0:
        raise IDXFormatError(f"{name} declares 0 dimensions; IDX arrays need at least one")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXFormatError(
            f"{name} is truncated: its header needs {header} bytes for {ndim} dimensions, "
            f"found {len(data)}"
        )
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = DTYPES[code]
    expected = math.prod(dims) * dtype.itemsize
    found = len(data) - header
    if found < expected:
        raise IDXFormatError(
            f"{name} is truncated: header promises {expected:,} bytes of data "
            f"(shape {dims}, {dtype.newbyteorder('=').name}), found {found:,}"
        )
    if found > expected:
        raise IDXFormatError(
            f"{name} has {found - expected:,} unexpected bytes after the data: header promises "
            f"{expected:,} bytes (shape {dims}, {dtype.newbyteorder('=').name}), found {found:,}"
        )
    flat = np.frombuffer(data, dtype=dtype, count=math.prod(dims), offset=header)
    # astype copies: the result is writable and in native byte order.
    return flat.reshape(dims).astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file, gzip-compressed (``*.gz``) or plain.

    Args:
        path: the file.

    Returns:
        The array, e.g. ``uint8 [60000, 28, 28]`` for MNIST training images or ``uint8 [60000]``
        for its labels. Writable, native byte order.

    Raises:
        IDXFormatError: the file is empty, truncated, too long, has a bad magic number or type
            code, or is a corrupt gzip. The message names the file.
        FileNotFoundError: the file does not exist.
    """
    path = Path(path)
    return parse_idx(_read_bytes(path), name=path)


def encode_idx(array: np.ndarray) -> bytes:
    """Return the uncompressed IDX bytes of ``array`` (any shape with at least one dimension)."""
    if not isinstance(array, np.ndarray):
        raise ValueError(f"array must be a NumPy array, got {type(array).__name__}")
    native = array.dtype.newbyteorder("=")
    if native not in _CODES:
        known = ", ".join(dt.newbyteorder("=").name for dt in DTYPES.values())
        raise ValueError(f"array has dtype {array.dtype}, which IDX cannot store (known: {known})")
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"array must have 1 to 255 dimensions, got shape {array.shape}")
    if any(d >= 2**32 for d in array.shape):
        raise ValueError(f"array dimensions must be below 2**32, got shape {array.shape}")
    code = _CODES[native]
    head = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return head + np.ascontiguousarray(array, dtype=DTYPES[code]).tobytes()


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> Path:
    """Write ``array`` as an IDX file, gzip-compressed if ``path`` ends in ``.gz``.

    The file is written to a temporary file in the same folder and then moved into place, so a
    reader never sees a half-written file. Compressed output is reproducible (gzip mtime 0).

    Args:
        path: destination; its folder must exist.
        array: ``uint8``, ``int8``, ``int16``, ``int32``, ``float32`` or ``float64``, at least 1-D.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    path = Path(path)
    data = encode_idx(array)
    if path.suffix == ".gz":
        data = gzip.compress(data, compresslevel=6, mtime=0)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp creates 0o600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
