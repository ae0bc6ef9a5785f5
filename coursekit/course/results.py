"""The course-wide results table: one row per trained model, the same columns for every family.

Each lab ends with one call::

    from coursekit.course import results
    results.record("week1_rbm_pytorch", family="RBM", model="RBM 784-500, PCD-1",
                   framework="PyTorch", report=report, log_likelihood=-104.4,
                   likelihood_method="AIS", train_seconds=55.0, sample_seconds=2.1,
                   updates=6000)

which writes ``<results folder>/week1_rbm_pytorch.json`` (atomically). With
``samples=x`` (images [n, 28, 28] or [n, 784] in [0, 1], all the lab drew) the first
:data:`N_KEPT_SAMPLES` (= :data:`N_COMPARE`, 500) are kept beside it as
``week1_rbm_pytorch.samples.npz`` (uint8, compressed: about 0.1 to 0.3 MB) and
:func:`load_samples` reads them back, so the closing notebook can show every family's samples,
and score every family at the one sample count :data:`N_COMPARE`, without training anything.
The record says how many samples the lab drew (``samples_drawn``, the count its
``sample_seconds`` timed) and how many it kept (``samples_kept``). Records written before the
common count kept 64 samples and have neither field: they still load, and week 5 says that
they cannot be scored at :data:`N_COMPARE`. ``coursekit run``
collects every record into ``build/results.md`` after a run, and ``make outputs`` refreshes
the committed copies (the table ``benchmarks/results/course.md`` and the records with their
samples in ``benchmarks/results/course/``) from the full-mode records.

Week 6 records models trained on 2-D Ising configurations with ``ising=report`` (an
:class:`coursekit.metrics.ising.IsingReport`) in place of ``report=``: their observables against
Monte Carlo fill a second table below the digits' one, and week 5, which compares the families on
digits, leaves them out (:mod:`coursekit.course.results_ising`).

The results folder is ``$COURSEKIT_RESULTS`` if set (``coursekit run`` sets it), otherwise
``build/results`` at the top of the repository the notebook runs in (found by walking up from
the working folder to the one holding ``pyproject.toml`` and ``notebooks/``), otherwise
``./build/results``.
"""

from __future__ import annotations

import json
import math
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from coursekit import config
from coursekit.checks import check_path
from coursekit.course.results_ising import ising_json, ising_markdown, ising_problem
from coursekit.io import atomic_write_bytes, atomic_write_text, read_npz

__all__ = [
    "FAMILIES",
    "N_COMPARE",
    "N_KEPT_SAMPLES",
    "collect",
    "copy_records",
    "format_seconds",
    "load_samples",
    "record",
    "results_dir",
    "to_markdown",
    "write_table",
]

RESULTS_ENV = "COURSEKIT_RESULTS"
#: The course's four families, in the order of the weeks (a record's ``family``).
FAMILIES = ("RBM", "EBM", "VAE", "GAN")
_KEY = re.compile(r"[A-Za-z0-9_.-]+")
#: The one sample count at which week 5 scores every family (the smallest lab's ``N_SAMPLES``).
N_COMPARE = 500
#: Images kept per record (the closing notebook's grids and its common-n scores).
N_KEPT_SAMPLES = N_COMPARE
#: What records written before the common count kept (they load, but cannot be compared).
N_KEPT_BEFORE = 64
_SAMPLES_SUFFIX = ".samples.npz"


def results_dir() -> Path:
    """Where :func:`record` writes (see the module docstring)."""
    value = os.environ.get(RESULTS_ENV, "").strip()
    if value:
        return Path(value).expanduser()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "notebooks").is_dir():
            return folder / "build" / "results"
    return here / "build" / "results"


def _number(value: Any, name: str, *, positive: bool = False) -> float | None:
    if value is None:
        return None
    if isinstance(value, (bool, str, bytes)):
        raise ValueError(f"{name} must be a number or None, got {value!r}.")
    try:
        out = float(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a number or None, got {value!r}.") from err
    if not math.isfinite(out) or (positive and out < 0):
        raise ValueError(
            f"{name} must be a finite{' non-negative' if positive else ''} number, got {value!r}."
        )
    return out


def record(
    key: str,
    *,
    family: str,
    model: str,
    framework: str,
    report: Any = None,
    log_likelihood: float | None = None,
    likelihood_method: str = "",
    train_seconds: float | None = None,
    sample_seconds: float | None = None,
    updates: int | None = None,
    notes: str = "",
    samples: Any = None,
    folder: str | os.PathLike[str] | None = None,
    ising: Any = None,
) -> Path:
    """Write one model's row of the course-wide table; returns the JSON file's path.

    Args:
        key: a file-name-safe identifier, e.g. ``"week1_rbm_pytorch"`` (a later record with
            the same key replaces the earlier one).
        family: ``"RBM"``, ``"EBM"``, ``"VAE"`` or ``"GAN"``.
        model: a short description (architecture, training rule).
        framework: e.g. ``"PyTorch"``, ``"Keras (tensorflow)"``.
        report: a :class:`coursekit.metrics.SampleReport` of the model's samples, or None.
        log_likelihood: test log-likelihood in nats per image, where the family has one.
        likelihood_method: how it was estimated, e.g. ``"AIS, 100 chains"`` or ``"IWAE, K=1000"``.
        train_seconds, sample_seconds: wall-clock training time and the time to draw the
            samples in ``report``.
        updates: parameter updates of the training run.
        samples: the model's samples, [n, 28, 28] or [n, 784] (or with one channel axis,
            [n, 1, 28, 28] or [n, 28, 28, 1]) in [0, 1] (NumPy or a tensor),
            or None: pass all the lab drew (the ``sample_seconds`` draw). The first
            :data:`N_KEPT_SAMPLES` are stored as 8-bit images beside the record (read them with
            :func:`load_samples`); the record notes ``samples_drawn`` and ``samples_kept``.
        ising: for a model of Ising configurations (week 6), its
            :class:`coursekit.metrics.ising.IsingReport` (from ``ising_report``), stored as the
            record's ``"ising"`` object and shown in the table's Ising part; a record has
            ``report`` and ``samples`` (digits) or ``ising``, not both.
    """
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError(
            f"key must be a non-empty file-name-safe string (letters, digits, _ . -), got {key!r}."
        )
    for name, value in (("family", family), ("model", model), ("framework", framework)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} must be a non-empty string, got {value!r}.")
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {', '.join(map(repr, FAMILIES))}, got {family!r}.")
    for name, value in (("likelihood_method", likelihood_method), ("notes", notes)):
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string (may be empty), got {value!r}.")
    if report is not None and not hasattr(report, "as_dict"):
        hint = " (an Ising report goes in ising=)" if hasattr(report, "m_distance") else ""
        raise ValueError(f"report must be a coursekit.metrics.SampleReport or None, got "
                         f"{type(report).__name__}{hint}.")  # fmt: skip
    if updates is not None and (
        isinstance(updates, bool) or not isinstance(updates, (int, np.integer)) or updates < 0
    ):
        raise ValueError(f"updates must be a non-negative integer or None, got {updates!r}.")
    updates = None if updates is None else int(updates)
    if ising is not None and (report is not None or samples is not None):
        given = "report" if report is not None else "samples"
        raise ValueError(
            f"a record holds digit samples ({given}=) or an Ising report (ising=), not both; "
            f"got both {given} and ising."
        )
    ising_row = None if ising is None else ising_json(ising)
    target = check_path(folder, "folder") if folder is not None else results_dir()
    _check_folder(target, "folder")
    drawn, images = (None, None) if samples is None else _as_images(samples)
    row = {
        "key": key,
        "family": family,
        "model": model,
        "framework": framework,
        "mode": config.mode(),
        "recorded": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "log_likelihood": _number(log_likelihood, "log_likelihood"),
        "likelihood_method": likelihood_method,
        "train_seconds": _number(train_seconds, "train_seconds", positive=True),
        "sample_seconds": _number(sample_seconds, "sample_seconds", positive=True),
        "updates": updates,
        "samples": None if report is None else report.as_dict(),
        "notes": notes,
        "sample_file": None if images is None else f"{key}{_SAMPLES_SUFFIX}",
        "samples_drawn": drawn,
        "samples_kept": None if images is None else len(images),
    }
    if ising_row is not None:
        row["ising"] = ising_row
    if images is not None:
        _write_samples(target / row["sample_file"], images)
    else:
        (target / f"{key}{_SAMPLES_SUFFIX}").unlink(missing_ok=True)  # no stale grid
    return atomic_write_text(target / f"{key}.json", json.dumps(row, indent=2) + "\n")


def _check_folder(folder: Path, name: str) -> None:
    """A folder to read or write: absent (it will be made) or a folder, not a file."""
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{name} {folder} is a file; it must be a folder (of records)")


def _as_images(samples: Any) -> tuple[int, Any]:
    """``(n drawn, uint8 [m, 28, 28])`` with m = min(n, N_KEPT_SAMPLES), the first m of
    ``samples``, checked by the yardstick's own :func:`coursekit.metrics.report.check_samples`
    (shape, NaN, range with a hint)."""
    from coursekit.metrics.report import check_samples

    arr = check_samples(samples, "samples")
    return len(arr), np.rint(arr[:N_KEPT_SAMPLES] * 255.0).astype(np.uint8)


def _write_samples(path: Path, images: Any) -> None:
    import io

    buffer = io.BytesIO()
    np.savez_compressed(buffer, images=images)
    atomic_write_bytes(path, buffer.getvalue())


def load_samples(row: dict, folder: str | os.PathLike[str] | None = None) -> Any:
    """The samples stored with a record, float32 [m, 28, 28] in [0, 1], or None if it has none.

    Args:
        row: a record from :func:`collect`.
        folder: where the record lives (default: the folder :func:`collect` read it from,
            kept in ``row["_folder"]``, else :func:`results_dir`).
    """
    if not isinstance(row, dict):
        raise ValueError(f"row must be a record (a dict from collect()), got {type(row).__name__}.")
    name = row.get("sample_file")
    if not name:
        return None
    if folder is not None:
        base = check_path(folder, "folder")
    else:
        base = Path(row.get("_folder") or results_dir())
    images = read_npz(base / name, "sample grid")["images"]
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(
            f"{base / name} must hold uint8 images [m, 28, 28], got {images.dtype} {images.shape}."
        )
    return images.astype(np.float32) / 255.0


def copy_records(
    target: str | os.PathLike[str],
    folder: str | os.PathLike[str] | None = None,
    mode: str | None = None,
) -> list[Path]:
    """Copy the records of ``folder`` (of ``mode`` if given) and their samples to ``target``
    (atomically, file by file); returns the JSON files written. ``make outputs`` keeps the
    committed full-mode records in ``benchmarks/results/course/`` this way."""
    source = check_path(folder, "folder") if folder is not None else results_dir()
    target = check_path(target, "target")
    _check_folder(target, "target")
    written = []
    for row in collect(source, mode):
        clean = {k: v for k, v in row.items() if not k.startswith("_")}
        if clean.get("sample_file"):
            payload = (source / clean["sample_file"]).read_bytes()
            atomic_write_bytes(Path(target) / clean["sample_file"], payload)
        text = json.dumps(clean, indent=2) + "\n"
        written.append(atomic_write_text(Path(target) / f"{clean['key']}.json", text))
    return written


def collect(folder: str | os.PathLike[str] | None = None, mode: str | None = None) -> list[dict]:
    """Every record in ``folder`` (default :func:`results_dir`), sorted by key; only those of
    ``mode`` if given. Unreadable files are skipped with a note on stderr."""
    import sys

    folder = check_path(folder, "folder") if folder is not None else results_dir()
    _check_folder(folder, "folder")
    if mode is not None and mode not in config.MODES:
        raise ValueError(f"mode must be None (every record) or one of "
                         f"{', '.join(map(repr, config.MODES))}, got {mode!r}.")  # fmt: skip
    rows = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            row = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            print(f"coursekit: skipping unreadable result {path}: {err}", file=sys.stderr)
            continue
        problem = record_problem(row)
        if problem:
            print(f"coursekit: skipping malformed result {path}: {problem}", file=sys.stderr)
            continue
        if mode is None or row.get("mode") == mode:
            row["_folder"] = str(folder)  # where load_samples finds the samples
            rows.append(row)
    return rows


_TEXT_FIELDS = ("key", "family", "model", "framework")
_NUMBER_FIELDS = ("log_likelihood", "train_seconds", "sample_seconds")
_COUNT_FIELDS = ("updates", "samples_drawn", "samples_kept")
_OPTIONAL_TEXT = ("mode", "recorded", "likelihood_method", "notes")
_SAMPLE_FIELDS = ("fid", "entropy", "confidence", "min_share", "seconds")
_SAMPLE_COUNTS = ("n_samples", "n_classes")
_SAMPLE_TEXT = ("name", "dataset", "reference")


def record_problem(row: Any) -> str | None:
    """What is wrong with a record read from a file (None when it is sound): a record written
    by hand or by another version must not crash the table with a ``KeyError``."""
    if not isinstance(row, dict):
        return f"expected a JSON object, got {type(row).__name__}"
    for name in _TEXT_FIELDS:
        if not isinstance(row.get(name), str) or not row[name].strip():
            return f"{name!r} must be a non-empty string, got {row.get(name)!r}"
    if not _KEY.fullmatch(row["key"]) or row["key"] in (".", ".."):
        return f"'key' must be a file-name-safe string (letters, digits, _ . -), got {row['key']!r}"

    def bad_number(value: Any) -> bool:
        return value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, float))
            or not math.isfinite(value)
        )

    def bad_count(value: Any) -> bool:
        return value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        )

    checks = [(row, "", _NUMBER_FIELDS, bad_number, "a finite number"),
              (row, "", _COUNT_FIELDS, bad_count, "a whole number >= 0"),
              (row, "", _OPTIONAL_TEXT, lambda v: v is not None and not isinstance(v, str),
               "a string")]  # fmt: skip
    samples = row.get("samples")
    if samples is not None:
        if not isinstance(samples, dict):
            return f"'samples' must be an object or null, got {type(samples).__name__}"
        checks += [(samples, "samples.", _SAMPLE_FIELDS, bad_number, "a finite number"),
                   (samples, "samples.", _SAMPLE_COUNTS, bad_count, "a whole number >= 0"),
                   (samples, "samples.", _SAMPLE_TEXT,
                    lambda v: v is not None and not isinstance(v, str), "a string")]  # fmt: skip
        histogram = samples.get("histogram")
        if histogram is not None and (
            not isinstance(histogram, list) or any(bad_number(v) or v is None for v in histogram)
        ):
            return f"'samples.histogram' must be a list of finite numbers, got {histogram!r:.60}"
    if row.get("ising") is not None:
        if samples is not None:
            return "a record holds 'samples' (digits) or 'ising', not both"
        problem = ising_problem(row["ising"])
        if problem:
            return problem
    for where, prefix, names, bad, what in checks:
        for name in names:
            if bad(where.get(name)):
                return f"'{prefix}{name}' must be {what} or null, got {where[name]!r:.60}"
    sample_file = row.get("sample_file")
    if sample_file is not None and (
        not isinstance(sample_file, str) or not _KEY.fullmatch(sample_file)
        or sample_file in (".", "..")
    ):
        return f"'sample_file' must be a file name beside the record, got {sample_file!r}"
    return None


def _fmt(value: Any, spec: str, empty: str = "—") -> str:
    return empty if value is None else format(value, spec)


def format_seconds(value: float | None, *, thousands: bool = False) -> str:
    """Seconds for a table: two significant figures below 10 s (a VAE draws 1,000 samples in
    milliseconds: "0.0" would hide it), whole seconds above (grouped by thousands with
    ``thousands=True``, as week 5 shows them); "—" for None."""
    if value is None:
        return "—"
    if isinstance(value, (bool, str, bytes)) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"value must be a number of seconds or None, got {value!r}.")
    if value >= 10:
        return f"{value:,.0f}" if thousands else f"{value:.0f}"
    return f"{value:.2g}"


def to_markdown(rows: list[dict]) -> str:
    """The table as markdown: one row per record; the Ising records of week 6 (those with an
    ``"ising"`` object) in a second table below the digits' one (alone when there are only
    those)."""
    ising_rows = [r for r in rows if r.get("ising") is not None]
    rows = [r for r in rows if r.get("ising") is None]
    ising = ising_markdown(ising_rows, FAMILIES, format_seconds) if ising_rows else ""
    if ising and not rows:
        return ising
    lines = [
        "| family | model | framework | mode | updates | train s | log-likelihood (nats) "
        "| samples | classifier FID | classes | entropy | sample s |",
        "|---|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        s = r.get("samples") or {}
        ll = r.get("log_likelihood")
        ll_text = "—" if ll is None else f"{ll:.1f} ({r.get('likelihood_method') or '?'})"
        lines.append(
            f"| {r['family']} | {r['model']} | {r['framework']} | {r.get('mode', '?')} "
            f"| {_fmt(r.get('updates'), ',')} | {_fmt(r.get('train_seconds'), '.0f')} "
            f"| {ll_text} | {_fmt(s.get('n_samples'), ',')} | {_fmt(s.get('fid'), '.2f')} "
            f"| {_fmt(s.get('n_classes'), 'd')} | {_fmt(s.get('entropy'), '.3f')} "
            f"| {format_seconds(r.get('sample_seconds'))} |"
        )
    home = str(Path.home())  # records written before paths were shortened to ~ read the same
    refs = sorted(
        {(r.get("samples") or {}).get("reference", "").replace(home, "~") for r in rows} - {""}
    )
    notes = [
        "",
        "Classifier FID and class coverage from `coursekit.metrics` (lower FID is better; it "
        "depends on the sample count, so compare rows with equal `samples`). `classes`: digits "
        "with at least 2.5% of the samples; `entropy`: of the predicted-class histogram, "
        "ln 10 = 2.303 for a balanced generator.",
    ]
    notes += [f"Reference: {ref}." for ref in refs]
    return "\n".join(lines + notes + (["", ising] if ising else []))


def write_table(
    path: str | os.PathLike[str],
    folder: str | os.PathLike[str] | None = None,
    mode: str | None = None,
    title: str = "# Course results: every generative model, one yardstick",
) -> Path:
    """Write :func:`to_markdown` of :func:`collect` to ``path`` (atomically); returns it."""
    path = check_path(path, "path")
    rows = collect(folder, mode)
    body = to_markdown(rows) if rows else "No results recorded yet: run the labs (`make run`)."
    return atomic_write_text(path, f"{title}\n\n{body}\n")
