"""Atomic file writes: a reader never sees half a file, an interrupted run leaves the old one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one step.

    The parent folder is created. If the block raises, the temporary file is removed and
    ``path`` keeps its old content (or stays absent).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: str | os.PathLike[str], payload: bytes) -> Path:
    """Write ``payload`` to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(payload)
    return Path(path)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically and return the path."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def read_npz(path: str | os.PathLike[str], what: str) -> dict:
    """Every array of the ``.npz`` file at ``path``, read without pickles, as a dict.

    ``what`` names the kind of file in the errors (e.g. ``"VAE"``): a missing file raises
    ``FileNotFoundError("no saved VAE at ...")``, an unreadable one (truncated, not a zip,
    random bytes) ``ValueError("cannot read the VAE file ...: <reason>")``.
    """
    import zipfile
    import zlib

    import numpy as np

    target = Path(path)
    if not target.is_file():
        raise FileNotFoundError(f"no saved {what} at {target}")
    try:
        with np.load(target, allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        raise ValueError(f"cannot read the {what} file {target}: {err}") from err
