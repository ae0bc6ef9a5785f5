"""Week 5's records: which record of each model the closing notebook shows, and from where.

**Which records** (:func:`choose_records`), in the spirit of ``coursekit slides``: the committed
full-mode records in ``benchmarks/results/course/`` (what ``make outputs`` keeps, found from the
repository root), replaced key by key by this run's record (``results.results_dir()``, e.g.
``build/results`` after ``make run``) when that one is full mode and newer. Smoke-mode records
are never used unless asked for (``allow_smoke=True``); the rows then carry ``_smoke = True``
and every figure marks them. Every chosen row carries ``_source`` (``"committed"`` or
``"run"``) and ``_folder`` (where its samples are). Records of week 6's Ising models (those
with an ``"ising"`` object) are left out: week 5 compares the families on digits.

Also the few facts about a row that the table, the texts and the figures share: its order
(:func:`sort_key`), its label, its sample report, and the check that rows are records.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coursekit.course import results

#: The course's four families, in the order of the weeks.
FAMILIES = results.FAMILIES
#: Where records can come from: the committed full-mode records and this run's results folder.
SOURCES = ("committed", "run")
#: The committed records, relative to the repository root (``make outputs`` writes them).
COMMITTED_RECORDS = Path("benchmarks") / "results" / "course"


def _repo_root() -> Path | None:
    """The repository holding the working folder (the first folder up that has
    ``pyproject.toml`` and ``notebooks/``, as :func:`coursekit.course.results.results_dir`
    finds it), else None (e.g. on Colab)."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "notebooks").is_dir():
            return folder
    return None


def committed_dir() -> Path:
    """``benchmarks/results/course`` of the repository (see :func:`_repo_root`); relative to
    the working folder when no repository is found."""
    root = _repo_root()
    return (root / COMMITTED_RECORDS) if root is not None else COMMITTED_RECORDS


def _shown(path: Path) -> str:
    """``path`` for printing: relative to the repository root, else with ``~`` for home."""
    path = Path(path)
    root = _repo_root()
    try:
        resolved = path.resolve()
        if root is not None:
            return str(resolved.relative_to(root))
    except (OSError, ValueError):
        pass
    home = str(Path.home())
    text = str(path)
    return "~" + text[len(home):] if home not in ("", "/") and text.startswith(home) else text


@dataclass
class Selection:
    """The rows :func:`choose_records` chose and why.

    ``rows``: records of :func:`results.collect` (sorted by family, then framework), each with
    ``_source`` and ``_smoke`` added. ``lines``: one line per chosen row (its source, mode and
    time) and per record passed over (with the reason). ``missing``: families of
    :data:`FAMILIES` without a row. ``folders``: source name -> folder read.
    """

    rows: list[dict]
    lines: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    folders: dict[str, Path] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.rows)

    def __str__(self) -> str:
        head = [] if self.rows else [_nothing_message(self.folders)]
        tail = [f"no record of: {', '.join(self.missing)}"] if self.missing and self.rows else []
        return "\n".join(head + self.lines + tail)


def _nothing_message(folders: dict[str, Path]) -> str:
    where = "; ".join(
        f"{name}: {_shown(path)}{'' if path.is_dir() else ' (does not exist)'}"
        for name, path in folders.items()
    )
    return (
        f"No records to show ({where}). The labs of weeks 1 to 4 write them: run them in full "
        "mode (`make run`), or use the committed ones (`benchmarks/results/course/`, refreshed "
        "by `make outputs`). The figures below stay empty."
    )


def family_rank(family: str) -> int:
    """The family's place in :data:`FAMILIES` (any other family after them)."""
    return FAMILIES.index(family) if family in FAMILIES else len(FAMILIES)


def _framework_rank(framework: str) -> int:
    name = framework.lower()
    return 0 if name.startswith("pytorch") else 1 if name.startswith("keras") else 2


def sort_key(row: dict) -> tuple:
    """Rows in the order of the course: family, then PyTorch before Keras, then key."""
    return (family_rank(row.get("family", "")), _framework_rank(row.get("framework", "")),
            row.get("key", ""))


def _describe(row: dict, source: str, folder: Path) -> str:
    when = (row.get("recorded") or "time not recorded").replace("T", " ")
    when = when.replace("+00:00", " UTC")
    path = _shown(folder / (row["key"] + ".json"))
    return f"{path} ({source}, {row.get('mode', '?')} mode, {when})"


def choose_records(
    sources: Sequence[str] = SOURCES,
    *,
    committed: str | os.PathLike[str] | None = None,
    run: str | os.PathLike[str] | None = None,
    allow_smoke: bool = False,
) -> Selection:
    """Choose one record per key from the committed records and this run's results.

    Args:
        sources: which of :data:`SOURCES` to read (default both).
        committed: the committed records' folder (default :func:`committed_dir`).
        run: this run's results folder (default :func:`coursekit.course.results.results_dir`).
        allow_smoke: also use smoke-mode records: then the newest record of each key whatever
            its mode, marked ``_smoke``.

    Returns:
        A :class:`Selection`. Per key, the newest full-mode record wins (the committed one when
        this run's is not newer); smoke-mode records are passed over (and said so) unless
        ``allow_smoke``. Records of models trained on Ising configurations (week 6: a record
        with an ``"ising"`` object, scored by observables, not by FID) are left out, with one
        line that counts them: week 5 compares the families on digits. A default folder that
        does not exist holds no records; one given explicitly must exist.

    Raises:
        ValueError: an unknown source name, no source, or an explicit folder that does not
            exist.
    """
    if isinstance(sources, str):
        sources = (sources,)
    sources = tuple(sources)
    unknown = [s for s in sources if s not in SOURCES]
    if unknown or not sources:
        raise ValueError(f"sources must name some of {SOURCES}, got {sources!r}.")
    if not isinstance(allow_smoke, bool):
        raise ValueError(f"allow_smoke must be True or False, got {allow_smoke!r}.")
    given = {"committed": committed, "run": run}
    for name, value in given.items():
        if value is not None and not Path(value).is_dir():
            raise ValueError(f"{name} folder {str(value)!r} does not exist (or is not a folder).")
    defaults = {"committed": committed_dir, "run": results.results_dir}
    folders: dict[str, Path] = {}
    for name in sources:
        value = given[name]
        folder = Path(value) if value is not None else defaults[name]()
        if any(_same(folder, seen) for seen in folders.values()):
            continue  # one folder named twice (COURSEKIT_RESULTS=benchmarks/results/course)
        folders[name] = folder

    candidates: dict[str, list[tuple[str, Path, dict]]] = {}
    ising_keys = set()
    for name, folder in folders.items():
        for row in results.collect(folder):
            if row.get("ising") is not None:  # week 6: Ising configurations, not digits
                ising_keys.add(row["key"])
                continue
            candidates.setdefault(row["key"], []).append((name, folder, row))

    chosen, lines = [], []
    for key in sorted(candidates):
        options = candidates[key]
        usable = [o for o in options if allow_smoke or o[2].get("mode") == "full"]
        # newest first; on a tie the earlier source (committed) wins
        usable.sort(key=lambda o: (o[2].get("recorded") or "", -sources.index(o[0])),
                    reverse=True)
        if usable:
            name, folder, row = usable[0]
            row = dict(row, _source=name, _smoke=row.get("mode") != "full")
            chosen.append(row)
            mark = "  SMOKE MODE" if row["_smoke"] else ""
            lines.append(f"{row['family']} {row['framework']}: from {_describe(row, name, folder)}"
                         f"{mark}")
        for other in options:
            if usable and other is usable[0]:
                continue
            name, folder, row = other
            if not allow_smoke and row.get("mode") != "full":
                why = f"{row.get('mode', 'unknown')} mode; allow_smoke=True would use it"
            elif row.get("recorded") == usable[0][2].get("recorded"):
                why = "the same run as the record used (copied there)"
            else:
                why = "an older record of the same key"
            lines.append(f"  not from {_describe(row, name, folder)}: {why}")
    if ising_keys:
        lines.append(f"not shown: {len(ising_keys)} Ising model(s) of week 6 (scored by their "
                     "observables, not on digits; see the Ising table of the results)")
    chosen.sort(key=sort_key)
    present = {r.get("family") for r in chosen}
    missing = [f for f in FAMILIES if f not in present]
    return Selection(rows=chosen, lines=lines, missing=missing, folders=folders)


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def report_of(row: dict) -> dict:
    """The row's sample report (FID, classes, histogram, ...), ``{}`` when it has none."""
    return row.get("samples") or {}


def row_label(row: dict) -> str:
    """``"family, framework"`` of a row, for titles and texts."""
    return f"{row.get('family', '?')}, {row.get('framework', '?')}"


def check_rows(rows: Any, name: str = "rows") -> list[dict]:
    """``rows`` as a list of records (a :class:`Selection` gives its rows); anything else is
    refused with a :class:`ValueError` that names the argument."""
    if isinstance(rows, Selection):
        rows = rows.rows
    if isinstance(rows, (str, bytes, dict)) or not isinstance(rows, Iterable):
        raise ValueError(f"{name} must be a list of records (choose_records().rows), got "
                         f"{type(rows).__name__}.")
    rows = list(rows)
    for row in rows:
        if not isinstance(row, dict) or not {"key", "family", "framework"} <= set(row):
            raise ValueError(
                f"{name} must hold records with key, family and framework, got {row!r}."
            )
    return rows
