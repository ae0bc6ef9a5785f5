"""Student versions of the labs: the solution notebooks with their solutions taken out.

A lab's "Build it" sections write the model's core in code cells, the solution between two
marker lines (nbgrader's markers, which otter-grader reads too), indented like the code around
them; hint comments may stand just above the first marker::

    def cd_gradient(x, chain, W, a, b, u_h, u_x):
        # hint: the positive phase minus the negative phase
        ### BEGIN SOLUTION
        ...
        ### END SOLUTION

``coursekit exercises`` (``make exercises``) writes, for every notebook under ``notebooks/``
with at least one such region, a student version to ``build/exercises/<week>/<name>.ipynb``:
each region replaced by a stub that raises ``NotImplementedError`` (so the check cell after it
says "not written yet"), every output and execution count cleared, the cell metadata kept,
and the notebook no longer paired to a jupytext ``.py`` (students get the ``.ipynb`` alone).
The solution notebooks are only read; ``coursekit run`` and nbval go on executing them.

The replacement is the short filter :func:`clear_solutions` and nbconvert's
``ClearOutputPreprocessor``. nbgrader's ``ClearSolutions`` does the same and works offline, but
installing nbgrader (about 80 MB) registers its Jupyter server and JupyterLab extensions in
the course's environment: its grading panels and a "no nbgrader_config.py" line at every
``make lab``, for every student. The markers stay nbgrader's (and otter-grader's), so a
lecturer who grades with either tool runs it on these notebooks as they are. The markers are
checked first (:func:`check_markers`): every error names the notebook, the cell and the line.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from coursekit.course.notebooks import NOTEBOOK_ROOT, RUN_METADATA_KEY, find_notebooks
from coursekit.io import atomic_write_text, display_path

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
#: What a solution region becomes, indented like its ``BEGIN`` line.
STUB = 'raise NotImplementedError("write this part, then run the check below")'
EXERCISES_ROOT = Path("build") / "exercises"
#: Notebook metadata that belongs to the solution notebook, not the student's: the runner's
#: record of its last run (mode, time), the saved state of widgets whose outputs are cleared,
#: and jupytext's pairing, which would write a .py beside the student's notebook on every save.
_SOLUTION_METADATA = (RUN_METADATA_KEY, "widgets", "jupytext")
#: Cell metadata written by the run (nbclient's timings); every other cell metadata is kept.
_RUN_CELL_METADATA = {"execution"}


class MarkerError(ValueError):
    """A notebook's ``### BEGIN SOLUTION`` / ``### END SOLUTION`` lines do not pair up."""


def _lines(cell: Any) -> list[str]:
    """The source lines of a code cell (none for markdown and raw cells: regions are code)."""
    return cell.source.split("\n") if cell.cell_type == "code" else []


def _has_markers(nb: Any) -> bool:
    return any(BEGIN in line or END in line for cell in nb.cells for line in _lines(cell))


def check_markers(nb: Any, name: str) -> int:
    """The number of solution regions in ``nb``, after checking that its markers pair up.

    Raises:
        MarkerError: naming ``name``, the cell (counted from 1, as a reader counts them, with
            its first line) and the line, when a ``BEGIN`` has no ``END`` in its cell, an
            ``END`` no ``BEGIN``, a ``BEGIN`` comes inside a region, or a line holds a marker's
            text beside other text (a grading tool would take it for a marker).
    """
    regions = 0
    for index, cell in enumerate(nb.cells, start=1):
        lines, opened = _lines(cell), 0
        first = next((line.strip() for line in lines if line.strip()), "")
        where = f"{name}, cell {index} (the one that starts {first[:60]!r})"
        for number, line in enumerate(lines, start=1):
            text = line.strip()
            if text not in (BEGIN, END) and (BEGIN in line or END in line):
                raise MarkerError(f"{where}, line {number}: a marker must stand alone on its "
                                  f"line, as {BEGIN!r} or {END!r}; found {text!r}.")
            if text == BEGIN and opened:
                raise MarkerError(f"{where}, line {number}: {BEGIN!r} inside the region opened "
                                  f"on line {opened}; regions do not nest.")
            if text == END and not opened:
                raise MarkerError(f"{where}, line {number}: {END!r} without a {BEGIN!r} above "
                                  "it in the same cell.")
            if text == BEGIN:
                opened = number
            elif text == END:
                opened, regions = 0, regions + 1
        if opened:
            raise MarkerError(f"{where}, line {opened}: {BEGIN!r} without an {END!r} below it "
                              "in the same cell.")
    return regions


def find_exercise_notebooks(root: Path = NOTEBOOK_ROOT, week: str | None = None) -> list[Path]:
    """The notebooks under ``root`` (optionally one week) with a solution marker in a code cell.

    A notebook with an unpaired marker is found too, so that building it reports the marker.
    """
    import nbformat

    return [p for p in find_notebooks(root, week) if _has_markers(nbformat.read(p, as_version=4))]


def clear_solutions(source: str) -> str:
    """A code cell's ``source`` with each solution region (the marker lines included) replaced
    by :data:`STUB`, indented like the region's ``BEGIN`` line; the markers must pair up."""
    out: list[str] = []
    inside = False
    for line in source.split("\n"):
        text = line.strip()
        if text == BEGIN:
            inside = True
            out.append(line[: len(line) - len(line.lstrip())] + STUB)
        elif text == END:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def student_version(nb: Any, name: str = "notebook") -> Any:
    """A copy of the notebook node ``nb`` with every solution region replaced by :data:`STUB`,
    every output, execution count and run record cleared, and no jupytext pairing (students get
    the .ipynb alone); ``nb`` itself is not changed.

    Raises:
        MarkerError: the markers do not pair up (see :func:`check_markers`); ``name`` is the
            notebook as the message should name it.
    """
    from nbconvert.preprocessors import ClearOutputPreprocessor

    check_markers(nb, name)
    student = copy.deepcopy(nb)
    for cell in student.cells:
        if cell.cell_type == "code":
            cell.source = clear_solutions(cell.source)
    clear = ClearOutputPreprocessor(remove_metadata_fields=_RUN_CELL_METADATA)
    student, _ = clear.preprocess(student, {})
    for key in _SOLUTION_METADATA:
        student.metadata.pop(key, None)
    return student


def write_student_versions(
    root: Path = NOTEBOOK_ROOT, out: Path = EXERCISES_ROOT, week: str | None = None
) -> list[Path]:
    """Write the student version of every notebook under ``root`` that has exercises to
    ``out/<week folder>/<name>.ipynb`` and print one line per notebook; return the paths.

    Every notebook is built before any is written, so that a bad marker anywhere leaves
    ``out`` as it was. With no exercises anywhere, it says so and writes nothing.
    """
    import nbformat

    root, out = Path(root), Path(out)
    sources = find_exercise_notebooks(root, week)
    if not sources:
        where = f"{display_path(root)}/" + (f" for week {week}" if week else "")
        print(f"no notebook under {where} has exercises yet (no {BEGIN!r} line in a code "
              "cell); nothing written.")
        return []
    built = []
    for source in sources:
        nb = nbformat.read(source, as_version=4)
        regions = check_markers(nb, display_path(source))
        built.append((source, regions, student_version(nb, display_path(source))))
    written = []
    for source, regions, student in built:
        target = atomic_write_text(out / source.relative_to(root), nbformat.writes(student))
        stubs = f"{regions} solution region{'s' if regions != 1 else ''} stubbed"
        print(f"{source.stem}: {stubs} -> {display_path(target)}")
        written.append(target)
    return written
