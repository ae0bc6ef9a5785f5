"""The local data cache: where it is, whether the network may be used, and verified downloads.

Environment variables (read every time they are needed):

``COURSEKIT_DATA``
    the cache folder; default ``pooch.os_cache("coursekit")`` (``~/.cache/coursekit`` on Linux).
``COURSEKIT_OFFLINE``
    ``1``/``true``/``yes``/``on`` forbids network access; ``0``/``false``/``no``/``off``/empty
    allow it. Any other non-empty value counts as offline, with a warning.
``COURSEKIT_TIMEOUT``
    seconds to wait for a mirror to connect or send data (default 5).
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import sys
import tempfile
import warnings
import zlib
from pathlib import Path

import pooch

from coursekit.checks import CoursekitWarning
from coursekit.data.registry import FileEntry
from coursekit.io import display_path

__all__ = [
    "DataError",
    "DataSourceWarning",
    "NetworkUnavailable",
    "cache_dir",
    "describe_bad_file",
    "download",
    "folder_problem",
    "ensure_writable",
    "network_allowed",
    "offline_reason",
    "reset_network_state",
    "timeout",
    "verify",
]

DATA_ENV = "COURSEKIT_DATA"
OFFLINE_ENV = "COURSEKIT_OFFLINE"
TIMEOUT_ENV = "COURSEKIT_TIMEOUT"
DEFAULT_TIMEOUT = 5.0

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})

_connection_failed: str | None = None  # why the network was given up on in this process
_warned_values: set[str] = set()
_verified: dict[tuple, bool] = {}


class DataError(RuntimeError):
    """Data cannot be provided: not available, cache not writable, or a checksum mismatch."""


class NetworkUnavailable(DataError):
    """Every mirror failed to connect or timed out; the network is given up on."""


class DataSourceWarning(CoursekitWarning):
    """``COURSEKIT_DATA`` or a file in it cannot be used; the data comes from elsewhere."""


# --------------------------------------------------------------------------- cache folder


def cache_dir() -> Path:
    """The cache folder: ``$COURSEKIT_DATA`` if set, else ``pooch.os_cache("coursekit")``.

    The folder is not created here (it may be a read-only folder of ready-made files).
    """
    value = os.environ.get(DATA_ENV, "").strip()
    if value:
        return Path(value).expanduser().resolve()
    return Path(pooch.os_cache("coursekit"))


def folder_problem() -> str | None:
    """What is wrong with the folder ``COURSEKIT_DATA`` names, or None (also when it is unset).

    A missing folder is a problem only for reading: a download creates it.
    """
    value = os.environ.get(DATA_ENV, "").strip()
    if not value:
        return None
    folder = cache_dir()
    shown = f"{DATA_ENV}={value}"
    if folder.is_dir():
        return None
    if folder.exists():
        return f"{shown} is a file, not a folder"
    blocker = next((p for p in folder.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        return f"{shown} does not exist ({blocker} is a file)"
    return f"{shown} does not exist"


def describe_bad_file(path: Path) -> str:
    """Why ``path`` is not a usable data file, as the end of a sentence that starts with it.

    E.g. ``"is a truncated or damaged gzip file (1,234 bytes)"``.
    """
    try:
        if path.is_dir():
            return "is a folder, not a file"
        payload = path.read_bytes()
    except OSError as err:
        return f"cannot be read ({err.strerror or err})"
    size = f"{len(payload):,} bytes"
    if not payload:
        return "is empty"
    if not payload.startswith(b"\x1f\x8b"):
        return f"is not a gzip file ({size})"
    try:
        gzip.decompress(payload)
    except (OSError, EOFError, zlib.error):
        return f"is a truncated or damaged gzip file ({size})"
    return f"does not match the published checksum of {path.name} ({size}; another file?)"


def ensure_writable(folder: Path) -> Path:
    """Create ``folder`` if needed and check that files can be written in it.

    Raises:
        DataError: naming the folder, when it cannot be created or written to.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise DataError(
            f"cannot write to the data cache folder {folder} ({err.strerror or err}). "
            f"Set {DATA_ENV} to a writable folder."
        ) from err
    return folder


# --------------------------------------------------------------------------- network switch


def _offline_setting() -> bool:
    raw = os.environ.get(OFFLINE_ENV, "")
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    if raw not in _warned_values:
        _warned_values.add(raw)
        warnings.warn(
            f"{OFFLINE_ENV}={raw!r} is not one of 1/true/yes/on or 0/false/no/off; "
            "treating it as set (offline).",
            UserWarning,
            stacklevel=3,
        )
    return True


def offline_reason(include_failures: bool = True) -> str | None:
    """Why the network may not be used right now, or None if it may.

    With ``include_failures=False`` only the ``COURSEKIT_OFFLINE`` switch counts, not an earlier
    connection failure (an explicit ``fetch`` tries again).
    """
    if _offline_setting():
        return f"{OFFLINE_ENV}={os.environ.get(OFFLINE_ENV, '')} is set"
    if include_failures and _connection_failed is not None:
        return f"an earlier download in this process could not connect ({_connection_failed})"
    return None


def network_allowed() -> bool:
    """False when ``COURSEKIT_OFFLINE`` is set, or after a download found no network.

    After one download fails to connect to every mirror, the rest of the process stays offline,
    so a notebook without network waits for one timeout and not one per file.
    """
    return offline_reason() is None


def reset_network_state() -> None:
    """Forget earlier connection failures (and the verification memo); for tests."""
    global _connection_failed
    _connection_failed = None
    _verified.clear()


def timeout() -> float:
    """Seconds to wait for a mirror: ``$COURSEKIT_TIMEOUT``, default 5.

    Raises:
        ValueError: the variable is not a positive number.
    """
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise ValueError(f"{TIMEOUT_ENV}={raw!r} is not a positive number of seconds")
    return value


# --------------------------------------------------------------------------- verification


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check(path: Path, entry: FileEntry) -> bool:
    data = path.read_bytes()
    if entry.sha256 is not None and _sha256(data) == entry.sha256:
        return True
    if entry.raw_sha256 is None:
        return False
    if data.startswith(b"\x1f\x8b"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            return False
    return _sha256(data) == entry.raw_sha256


def verify(path: Path, entry: FileEntry) -> bool:
    """True if ``path`` is a file whose .gz or decompressed checksum matches ``entry``.

    Results are remembered per file size, modification time and inode, so asking again about
    an unchanged file is free.
    """
    try:
        st = path.stat()
    except OSError:
        return False
    key = (str(path), st.st_size, st.st_mtime_ns, st.st_ino, entry.sha256, entry.raw_sha256)
    if key not in _verified:
        try:
            _verified[key] = path.is_file() and _check(path, entry)
        except OSError:
            return False
    return _verified[key]


# --------------------------------------------------------------------------- downloads


def _progressbar() -> bool:
    """Show a progress bar only where someone watches: a terminal or a Jupyter kernel."""
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    in_jupyter = "ipykernel" in sys.modules
    return in_jupyter or bool(getattr(sys.stderr, "isatty", lambda: False)())


def _connection_error(err: BaseException) -> bool:
    import requests

    return isinstance(err, (requests.ConnectionError, requests.Timeout))


def _short(err: BaseException, limit: int = 200) -> str:
    text = f"{type(err).__name__}: {err}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def download(entry: FileEntry, mirrors: tuple[str, ...] | list[str], folder: Path) -> Path:
    """Download ``entry`` into ``folder``, trying each mirror in turn; return the verified file.

    pooch streams into a temporary file in ``folder`` and moves it into place only once its
    checksum matched, so an interrupted or bad download never replaces a file. An existing
    file of that name (one that failed verification) is overwritten.

    Raises:
        DataError: ``folder`` is not writable, or the mirrors failed (HTTP errors, checksum
            mismatches); the message lists what each mirror did.
        NetworkUnavailable: every mirror failed to connect or timed out. The process then
            stays offline (see :func:`network_allowed`).
    """
    global _connection_failed
    ensure_writable(folder)
    seconds = timeout()
    failures: list[str] = []
    all_connection_errors = True
    for base in mirrors:
        url = base if base.endswith("/") else base + "/"
        url += entry.name
        known = f"sha256:{entry.sha256}" if entry.sha256 else None
        # pooch would log the absolute target path; say the same with a path fit to share
        print(
            f"downloading {entry.name} from {url.split('/')[2]} into {display_path(folder)}",
            file=sys.stderr,
            flush=True,
        )
        logger = pooch.get_logger()
        level = logger.level
        logger.setLevel(logging.WARNING)
        try:
            downloader = pooch.HTTPDownloader(progressbar=_progressbar(), timeout=seconds)
            path = Path(
                pooch.retrieve(
                    url, known_hash=known, fname=entry.name, path=folder, downloader=downloader
                )
            )
        except Exception as err:  # any failure: try the next mirror
            if not _connection_error(err):
                all_connection_errors = False
            failures.append(f"{url}: {_short(err)}")
            continue
        finally:
            logger.setLevel(level)
        if verify(path, entry):
            return path
        all_connection_errors = False
        path.unlink(missing_ok=True)
        failures.append(f"{url}: the downloaded file does not match its checksum")
    detail = "; ".join(failures) or "no mirrors are configured"
    if failures and all_connection_errors:
        _connection_failed = f"{len(failures)} mirror(s) unreachable"
        raise NetworkUnavailable(f"could not connect to any mirror for {entry.name}: {detail}")
    raise DataError(f"could not download {entry.name} into {folder}: {detail}")
