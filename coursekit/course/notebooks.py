"""The course's notebooks: where they are, and the record of how each was last run.

The lecture and lab notebooks live in week folders, ``notebooks/week<N>_<topic>/*.ipynb``
(:func:`find_notebooks`); ``coursekit run`` writes executed copies into the same layout under
``build/notebooks``. Every executed notebook carries how it was run in its metadata, under
:data:`RUN_METADATA_KEY` (written by :func:`record_run`)::

    nb.metadata["coursekit"] == {"mode": "full", "executed": "2026-11-30T19:40:12+00:00"}

and :func:`notebook_outputs` reads it back, so that ``coursekit slides`` can tell full-mode
results from smoke-mode ones. The runner writes this record and the slides read it; this module
is the one place that knows its shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

NOTEBOOK_ROOT = Path("notebooks")
#: The notebook metadata key under which the runner records the mode and the time of a run.
RUN_METADATA_KEY = "coursekit"
#: The run modes of ``coursekit run`` (``coursekit.config.MODES``) and what a deck may come from.
FULL_MODE, SMOKE_MODE, UNKNOWN_MODE = "full", "smoke", "unknown"


def week_folders(root: Path) -> list[Path]:
    """The ``week*`` folders directly under ``root``, sorted (none when ``root`` is missing)."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("week"))


def find_notebooks(root: Path = NOTEBOOK_ROOT, week: str | None = None) -> list[Path]:
    """The lecture notebooks under ``root`` (``week*/**/*.ipynb``), sorted, optionally one week.

    ``week`` may be ``"1"``, ``"week1"`` or a folder name such as ``"week1_rbm"``.
    """
    root = Path(root)
    if not root.is_dir():
        what = "is a file, not a folder" if root.exists() else "does not exist"
        raise ValueError(f"notebook folder {str(root)!r} {what}.")
    folders = week_folders(root)
    if week is not None and str(week).strip():
        wanted = str(week).strip().lower()
        if wanted.isdigit():
            wanted = f"week{int(wanted)}"
        chosen = [
            p
            for p in folders
            if p.name == wanted or re.fullmatch(rf"{re.escape(wanted)}(_.*)?", p.name)
        ]
        if not chosen:
            names = ", ".join(p.name for p in folders) or "none"
            raise ValueError(f"week {week!r} matches no folder under {root}; there are: {names}.")
        folders = chosen
    return [
        nb
        for folder in folders
        for nb in sorted(folder.rglob("*.ipynb"))
        if ".ipynb_checkpoints" not in nb.parts
    ]


def record_run(nb: Any, *, mode: str, executed: str) -> None:
    """Write into ``nb``'s metadata that it was run in ``mode`` at ``executed`` (ISO 8601)."""
    nb.metadata[RUN_METADATA_KEY] = {"mode": mode, "executed": executed}


@dataclass(frozen=True)
class Outputs:
    """One notebook whose outputs a deck could show, and the run that made them.

    ``mode`` is what the runner recorded in ``metadata["coursekit"]`` (``"full"`` or
    ``"smoke"``). Notebooks without that record predate it: a *committed* one is taken as
    full mode (``assumed``), because committed outputs are refreshed only by ``make outputs``,
    which runs full mode (``coursekit run --in-place`` refuses any other); an executed copy
    under ``build/`` is ``"unknown"`` (``make run MODE=smoke`` may have written it).
    ``executed`` is the recorded time of the run, else the file's modification time.
    """

    path: Path
    committed: bool
    mode: str
    executed: datetime
    assumed: bool = False

    @property
    def where(self) -> str:
        return "committed" if self.committed else "executed"

    def describe(self) -> str:
        """E.g. ``notebooks/week1_rbm/x.ipynb (committed, full mode, run 2026-11-30 19:40 UTC)``."""
        when = self.executed.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        if self.assumed:
            mode = "full mode assumed: committed outputs come from `make outputs`"
            when = f"file dated {when}"
        elif self.mode == UNKNOWN_MODE:
            mode, when = "mode not recorded", f"file dated {when}"
        else:
            mode, when = f"{self.mode} mode", f"run {when}"
        return f"{self.path} ({self.where}, {mode}, {when})"


def notebook_outputs(path: Path, *, committed: bool) -> Outputs:
    """Read how ``path`` was executed (see :class:`Outputs`)."""
    import nbformat

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    record = nb.metadata.get(RUN_METADATA_KEY) or {}
    mode = record.get("mode") if isinstance(record, dict) else None
    executed = None
    try:
        executed = datetime.fromisoformat(str(record.get("executed")))
        if executed.tzinfo is None:
            executed = executed.replace(tzinfo=timezone.utc)
    except (AttributeError, TypeError, ValueError):
        executed = None
    if executed is None:
        executed = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
    if mode in (FULL_MODE, SMOKE_MODE):
        return Outputs(path, committed, mode, executed)
    if committed:
        return Outputs(path, committed, FULL_MODE, executed, assumed=True)
    return Outputs(path, committed, UNKNOWN_MODE, executed)
