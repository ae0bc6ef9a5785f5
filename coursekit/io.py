"""Files: atomic writes, the ``.npz`` files every model saves, and paths as people read them.

One way to do each thing, for every model of the course:

* **atomic writes** (:func:`atomic_path`, :func:`atomic_write_text`, :func:`atomic_write_bytes`):
  a reader never sees half a file, and an interrupted run leaves the old file in place;
* **model files** (:func:`write_npz`, :func:`read_npz`): ``model.save(path)`` writes one
  uncompressed ``.npz`` archive tagged with its format, and ``Model.load(path)`` reads it back
  without pickles; every error names the file and says what was expected;
* **paths for people** (:func:`display_path`): reports, warnings and committed notebook outputs
  show ``~/...`` or relative paths, never one user's home or checkout.

NumPy only; no framework is imported here.
"""

from __future__ import annotations

import errno
import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np

__all__ = [
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "display_path",
    "project_root",
    "read_npz",
    "write_npz",
]

PathLike = str | os.PathLike[str]


# --------------------------------------------------------------------------------------------
# Atomic writes
# --------------------------------------------------------------------------------------------


@contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one step.

    The parent folder is created. If the block raises, the temporary file is removed and
    ``path`` keeps its old content (or stays absent).
    """
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, f"cannot write {target}: it is a folder")
    blocked = next((p for p in target.parents if p.exists() and not p.is_dir()), None)
    if blocked is not None:
        raise NotADirectoryError(
            errno.ENOTDIR, f"cannot write {target}: {blocked} is a file, not a folder")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                        dir=target.parent)  # fmt: skip
    except OSError as err:  # name what the user asked for, not the hidden temporary file
        raise _renamed(err, f"cannot write {target}") from err
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        try:
            os.replace(tmp, target)
        except OSError as err:
            raise _renamed(err, f"cannot write {target}") from err
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: PathLike, payload: bytes) -> Path:
    """Write ``payload`` to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(payload)
    return Path(path)


def atomic_write_text(path: PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically and return the path."""
    return atomic_write_bytes(path, text.encode("utf-8"))


# --------------------------------------------------------------------------------------------
# Model files
# --------------------------------------------------------------------------------------------


def _renamed(err: OSError, what: str, target: Path | None = None) -> OSError:
    """``err`` again (same type and errno) with a message that starts with ``what`` (which
    names the destination the user gave, never the temporary file beside it); the
    ``cannot write <target>: `` that :func:`atomic_path` already put first is not repeated."""
    reason = err.strerror or str(err)
    said = f"cannot write {target}: "
    if target is not None and reason.startswith(said):
        reason = reason[len(said):]
    if err.errno is None:
        return type(err)(f"{what}: {reason}")
    return type(err)(err.errno, f"{what}: {reason}")


def _path(value: PathLike, name: str) -> Path:
    """``value`` as a Path: a ``str`` or ``os.PathLike`` (the rule of
    :func:`coursekit.checks.check_path`, which this layer does not import)."""
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)) or value == "":
        raise ValueError(f"{name} must be a path (a str or pathlib.Path), got "
                         f"{type(value).__name__} {value!r:.40}")  # fmt: skip
    return Path(value)


def write_npz(path: PathLike, arrays: Mapping[str, np.ndarray], what: str = "model") -> Path:
    """Write ``arrays`` to ``path`` as an uncompressed ``.npz`` archive, atomically.

    Exactly ``path`` is written (no ``.npz`` is appended). ``what`` names the kind of file in
    the errors (``"RBM"``, ``"VAE"``, ...); an error names ``path``, not the temporary file
    beside it that is renamed over ``path`` at the end.
    """
    target = _path(path, "path")
    if target.is_dir():
        raise IsADirectoryError(
            f"cannot save the {what} to {target}: it is a folder; give a file name such as "
            f"{target / (what.lower() + '.npz')}"
        )
    try:
        with atomic_path(target) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
    except OSError as err:
        raise _renamed(err, f"cannot save the {what} to {target}", target) from err
    return target


def _article(noun: str) -> str:
    """"a" or "an" before ``noun``, read aloud: "an RBM", "a VAE", "a sample grid"."""
    if noun[:2].isupper():  # an acronym, read letter by letter
        return "an" if noun[0] in "AEFHILMNORSX" else "a"
    return "an" if noun[:1].lower() in "aeiou" else "a"


class ModelFile(dict):
    """The arrays of a model file (:func:`read_npz`): asking for one it lacks is a
    ``ValueError`` naming the file, not a bare ``KeyError`` from deep inside a loader."""

    def __init__(self, arrays: dict[str, np.ndarray], path: Path, what: str) -> None:
        super().__init__(arrays)
        self.path, self.what = path, what

    def __missing__(self, key: str) -> np.ndarray:
        names = sorted(self)
        held = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
        raise ValueError(
            f"{self.path} has no array {key!r}, which {_article(self.what)} {self.what} file "
            f"holds: it is damaged, or was written by something else (it holds "
            f"{held or 'no arrays'})"
        )


def read_npz(
    path: PathLike, what: str, *, file_format: str | None = None, writer: str | None = None
) -> dict[str, np.ndarray]:
    """Every array of a ``.npz`` model file, read without pickles, as a dict.

    Args:
        path: the file.
        what: the kind of file, for the messages (``"RBM"``).
        file_format: the ``format`` tag the file must hold (None: not checked).
        writer: what writes such files (``"coursekit.torch.RBM.save"``), for the messages.

    Checks, with a message that names the file and what was expected: that it exists and is a
    file, that it is an ``.npz`` archive (not a ``.npy`` array, not other bytes), that NumPy can
    read every array without pickle, that no float array holds NaN or infinite values (the
    weights of a run that diverged), and its ``format`` tag.

    Raises:
        FileNotFoundError: nothing at ``path``. IsADirectoryError: ``path`` is a folder.
        ValueError: anything else about the content.
    """
    target = _path(path, "path")
    by = f" written by {writer}" if writer else ""
    if not target.exists():
        raise FileNotFoundError(f"no saved {what} at {target}")
    a_what = f"{_article(what)} {what} file{by}"
    if target.is_dir():
        raise IsADirectoryError(f"{target} is a folder, not {a_what}")
    tag = f" with format {file_format!r}" if file_format else ""
    expected = f"{a_what} (an .npz archive{tag})"
    try:
        with open(target, "rb") as fh:
            head = fh.read(6)
    except OSError as err:
        raise _renamed(err, f"cannot read the {what} file {target}") from err
    if head.startswith(b"\x93NUMPY"):
        raise ValueError(f"{target} is a .npy file (a single NumPy array), not {expected}")
    if not head.startswith(b"PK"):
        kind = "empty" if not head else "not an .npz (zip) archive"
        raise ValueError(f"{target} is {kind}; expected {expected}")
    try:  # an open file, closed here: np.load leaks its own handle when the archive is damaged
        with open(target, "rb") as fh, np.load(fh, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as err:
        raise ValueError(
            f"{target} cannot be read as {expected}: {type(err).__name__}: {err}"
        ) from err
    for name, value in arrays.items():
        if np.issubdtype(value.dtype, np.floating) and not np.all(np.isfinite(value)):
            bad = int(value.size - np.count_nonzero(np.isfinite(value)))
            raise ValueError(
                f"{target} holds {bad} NaN or infinite values in {name!r}: the model had "
                f"diverged when it was saved, or the file is damaged; load an earlier {what} file"
            )
    if file_format is not None:
        found = arrays.get("format")
        found = None if found is None or found.shape != () else str(found)
        if found != file_format:
            seen = "no format tag" if found is None else f"format {found!r}"
            raise ValueError(f"{target} has {seen}; expected {expected}")
    return ModelFile(arrays, target, what)


# --------------------------------------------------------------------------------------------
# Paths for people
# --------------------------------------------------------------------------------------------


def project_root() -> Path | None:
    """The source checkout this package runs from (the folder with ``pyproject.toml``), or None."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() else None


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def display_path(path: PathLike) -> str:
    """``path`` for people: relative when inside the working folder or the course checkout,
    ``~/...`` when inside the home folder, else absolute (e.g. ``/usr/share/datasets``).

    Symbolic links are not resolved, so ``.venv/bin/python`` stays what it is.
    """
    p = Path(os.path.abspath(Path(path).expanduser()))
    cwd = Path(os.path.abspath(os.getcwd()))
    root = project_root()
    if _inside(p, cwd) or (root is not None and _inside(p, root) and _inside(cwd, root)):
        return os.path.relpath(p, cwd)
    home = Path(os.path.abspath(Path.home()))
    if home != Path(home.anchor) and _inside(p, home):
        rest = p.relative_to(home)
        return "~" if str(rest) == "." else f"~/{rest.as_posix()}"
    return str(p)
