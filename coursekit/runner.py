"""Execute the course notebooks end to end (what ``make run`` calls).

Each notebook is executed in a fresh kernel, in its own folder, with ``COURSEKIT_MODE`` set.
The executed copy and an HTML render go to ``build/notebooks/<week>/``; the sources are never
touched unless ``in_place=True`` (the maintainer's way to refresh the committed outputs).
A summary table (notebook, status, seconds) is printed and written to ``build/summary.md``.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from coursekit import config, results
from coursekit._io import atomic_write_text

NOTEBOOK_ROOT = Path("notebooks")
BUILD_ROOT = Path("build")


@dataclass
class RunResult:
    """The outcome of executing one notebook."""

    notebook: str
    status: str  # "ok" or "error"
    seconds: float
    output: str  # the executed .ipynb ("" when in place)
    html: str
    error: str = ""


def find_notebooks(root: Path = NOTEBOOK_ROOT, week: str | None = None) -> list[Path]:
    """The lecture notebooks under ``root`` (``week*/**/*.ipynb``), sorted, optionally one week.

    ``week`` may be ``"1"``, ``"week1"`` or a folder name such as ``"week1_rbm"``.
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"notebook folder {str(root)!r} does not exist.")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("week"))
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


def execute_notebook(
    source: Path,
    *,
    mode: str,
    out_dir: Path,
    timeout: int = 3600,
    in_place: bool = False,
) -> RunResult:
    """Execute ``source`` in a fresh kernel with ``COURSEKIT_MODE=mode``; write the results.

    The executed notebook goes to ``out_dir/<week>/<name>.ipynb`` (or back over ``source`` when
    ``in_place``), its HTML render to ``out_dir/<week>/<name>.html``.
    """
    import nbclient
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(source, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(source.parent)}},
    )
    saved = os.environ.get(config.MODE_ENV)
    os.environ[config.MODE_ENV] = mode  # the kernel inherits this process's environment
    # Labs record their row of the course-wide results table here (coursekit.results).
    os.environ.setdefault(results.RESULTS_ENV, str((out_dir.parent / "results").resolve()))
    # Progress bars in a saved notebook are noise: at most one refresh per 30 s.
    os.environ.setdefault("TQDM_MININTERVAL", "30")
    start = time.perf_counter()
    status, error = "ok", ""
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:
        status, error = "error", str(exc).strip().splitlines()[-1] if str(exc).strip() else "error"
    except Exception as exc:  # kernel died, timeout: report it in the table, go on
        status, error = "error", f"{type(exc).__name__}: {exc}"
    finally:
        seconds = time.perf_counter() - start
        if saved is None:
            os.environ.pop(config.MODE_ENV, None)
        else:
            os.environ[config.MODE_ENV] = saved

    week_dir = out_dir / source.parent.name
    target = source if in_place else week_dir / source.name
    atomic_write_text(target, nbformat.writes(nb))
    html_path = week_dir / (source.stem + ".html")
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    atomic_write_text(html_path, body)
    return RunResult(
        notebook=str(source),
        status=status,
        seconds=round(seconds, 1),
        output="" if in_place else str(target),
        html=str(html_path),
        error=error,
    )


def summary_table(results: Iterable[RunResult], mode: str) -> str:
    """A markdown table of the results."""
    rows = [f"Mode: {mode}", "", "| notebook | status | seconds |", "|---|---|---:|"]
    total = 0.0
    for r in results:
        status = r.status if not r.error else f"{r.status}: {r.error[:80]}"
        rows.append(f"| {r.notebook} | {status} | {r.seconds:.1f} |")
        total += r.seconds
    rows.append(f"| **total** |  | {total:.1f} |")
    return "\n".join(rows)


def run_course(
    *,
    mode: str | None = None,
    week: str | None = None,
    root: Path = NOTEBOOK_ROOT,
    build: Path = BUILD_ROOT,
    in_place: bool = False,
    timeout: int = 3600,
) -> list[RunResult]:
    """Execute the course's notebooks and write the summary; returns one result per notebook."""
    mode = mode or config.mode()
    if mode not in config.MODES:
        raise ValueError(f"mode must be one of {config.MODES}, got {mode!r}.")
    if in_place and mode != "full":
        raise ValueError("in_place=True refreshes the committed outputs, which are full-mode runs.")
    notebooks = find_notebooks(root, week)
    if not notebooks:
        raise ValueError(f"no notebooks found under {root}.")
    out_dir = build / "notebooks"
    results = []
    for nb in notebooks:
        print(f"[{mode}] executing {nb} ...", flush=True)
        result = execute_notebook(
            nb, mode=mode, out_dir=out_dir, timeout=timeout, in_place=in_place
        )
        print(f"    {result.status} in {result.seconds:.1f} s", flush=True)
        results.append(result)
    table = summary_table(results, mode)
    atomic_write_text(build / "summary.md", table + "\n")
    atomic_write_text(
        build / "summary.json",
        json.dumps({"mode": mode, "results": [asdict(r) for r in results]}, indent=2) + "\n",
    )
    table_path = results.write_table(build / "results.md", build / "results")
    print()
    print(table)
    print(f"\nwritten: {build / 'summary.md'}, {table_path} (the course-wide results table)")
    return results
