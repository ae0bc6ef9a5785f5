"""``make exercises``: the labs' student versions, solutions taken out (coursekit.course.exercises).

Small notebooks made here show each rule (the stub, what is kept, what is cleared, which
notebooks are written, the error for unpaired markers); then every student version is executed
as a student would run it, top to bottom in smoke mode, and must stop at its first check with
"not written yet": the real labs that have exercises (found when the tests are collected, so
the test grows with them; ``slow``), and always a small lab made here, so that the test means
something before any real lab has exercises.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import nbclient
import nbformat
import pytest
from conftest import REPO
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from coursekit.course import cli, exercises
from coursekit.course.exercises import BEGIN, END, STUB, MarkerError

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
RUN_RECORD = {"mode": "full", "executed": "2026-12-01T10:00:00+00:00"}
TIMING = {"iopub.execute_input": "2026-12-01T10:35:56.062563Z"}


def _notebook(*cells) -> nbformat.NotebookNode:
    return new_notebook(cells=list(cells), metadata={"kernelspec": dict(KERNELSPEC)})


def _write(path: Path, nb: nbformat.NotebookNode) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


SQUARE = f"""import numpy as np


def square(x):
    # hint: multiply x by itself
    {BEGIN}
    y = x * x
    return y
    {END}


print("square is defined")"""


def test_a_region_becomes_the_stub_and_the_code_around_it_and_the_hints_stay():
    student = exercises.student_version(_notebook(new_code_cell(SQUARE)))
    assert student.cells[0].source == f"""import numpy as np


def square(x):
    # hint: multiply x by itself
    {STUB}


print("square is defined")"""
    assert "NotImplementedError" in STUB and "check below" in STUB


def test_two_regions_in_one_cell_each_become_a_stub_at_their_own_indent():
    source = f"""def phases(x):
    # hint: the data term
    {BEGIN}
    positive = x.mean()
    {END}
    for step in range(3):
        # hint: one Gibbs step
        {BEGIN}
        x = x + step
        {END}
    return positive, x"""
    student = exercises.student_version(_notebook(new_code_cell(source)))
    assert student.cells[0].source == f"""def phases(x):
    # hint: the data term
    {STUB}
    for step in range(3):
        # hint: one Gibbs step
        {STUB}
    return positive, x"""
    assert exercises.check_markers(_notebook(new_code_cell(source)), "nb") == 2


def test_outputs_and_counts_are_cleared_the_cell_metadata_kept_the_input_unchanged():
    cell = new_code_cell(
        SQUARE,
        execution_count=7,
        outputs=[new_output("stream", name="stdout", text="square is defined\n")],
        metadata={"tags": ["exercise"], "slideshow": {"slide_type": "slide"}, "execution": TIMING},
    )
    plain = new_code_cell("print(1)", execution_count=8,
                          outputs=[new_output("execute_result", data={"text/plain": "1"})])
    # a markdown cell may quote the markers: text is never a region
    prose = new_markdown_cell(f"Write the part between `{BEGIN}` and\n{END}")
    nb = _notebook(prose, cell, plain)
    nb.metadata["coursekit"] = dict(RUN_RECORD)
    nb.metadata["jupytext"] = {"formats": "ipynb,py:percent"}
    before = nbformat.writes(nb)

    student = exercises.student_version(nb, "demo.ipynb")

    assert nbformat.writes(nb) == before  # the solution notebook's node is not changed
    nbformat.validate(student)
    assert student.cells[0].source == prose.source
    for out in student.cells[1:]:
        assert out.outputs == [] and out.execution_count is None
    assert student.cells[1].metadata == {"tags": ["exercise"], "slideshow": {"slide_type": "slide"}}
    assert student.cells[2].source == "print(1)"
    assert [c.id for c in student.cells] == [c.id for c in nb.cells]
    assert "coursekit" not in student.metadata  # the solutions' run record describes no output
    assert "jupytext" not in student.metadata  # no .py paired to the student's notebook
    assert student.metadata["kernelspec"] == KERNELSPEC


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_only_notebooks_with_regions_are_written_and_the_sources_stay_untouched(tmp_path, capsys):
    root, out = tmp_path / "notebooks", tmp_path / "build" / "exercises"
    lab = _notebook(new_markdown_cell("# lab"), new_code_cell(SQUARE), new_code_cell("check()"))
    lab.cells[1].outputs = [new_output("stream", name="stdout", text="square is defined\n")]
    _write(root / "week1_demo" / "demo_lab.ipynb", lab)
    _write(root / "week1_demo" / "demo_lecture.ipynb", _notebook(new_code_cell("x = 1")))
    _write(root / "week2_other" / "other.ipynb", _notebook(new_markdown_cell(f"`{BEGIN}`")))
    sources = _tree(root)

    written = exercises.write_student_versions(root, out)

    assert written == [out / "week1_demo" / "demo_lab.ipynb"]
    assert [str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()] == [
        "week1_demo/demo_lab.ipynb"
    ]
    assert _tree(root) == sources
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1
    assert printed[0].startswith("demo_lab: 1 solution region stubbed -> ")
    assert printed[0].endswith("week1_demo/demo_lab.ipynb")
    student = nbformat.read(written[0], as_version=4)
    assert STUB in student.cells[1].source and "y = x * x" not in student.cells[1].source
    assert student.cells[1].outputs == []


def test_no_notebook_with_regions_says_so_and_writes_nothing(tmp_path, capsys):
    root, out = tmp_path / "notebooks", tmp_path / "out"
    _write(root / "week1_demo" / "lecture.ipynb", _notebook(new_code_cell("x = 1")))
    assert cli.main(["exercises", "--notebooks", str(root), "--out", str(out)]) == 0
    assert "has exercises yet" in capsys.readouterr().out
    assert not out.exists()


def test_the_command_builds_one_week(tmp_path, capsys):
    root, out = tmp_path / "notebooks", tmp_path / "out"
    for week in ("week1_a", "week2_b"):
        _write(root / week / f"{week}_lab.ipynb", _notebook(new_code_cell(SQUARE)))
    assert cli.main(["exercises", "2", "--notebooks", str(root), "--out", str(out)]) == 0
    assert [p.name for p in out.rglob("*.ipynb")] == ["week2_b_lab.ipynb"]
    assert "week2_b_lab: 1 solution region stubbed" in capsys.readouterr().out
    assert cli.main(["exercises", "9", "--notebooks", str(root), "--out", str(out)]) == 2
    assert "coursekit: error: week '9' matches no folder" in capsys.readouterr().err


UNPAIRED = {
    "begin without end": (f"def f():\n    {BEGIN}\n    return 1\n", "line 2", "without an"),
    "end without begin": (f"def f():\n    return 1\n    {END}\n", "line 3", "without a"),
    "nested": (f"def f():\n    {BEGIN}\n    {BEGIN}\n    {END}\n    {END}\n", "line 3", "nest"),
    "marker beside code": (f"x = 1  {BEGIN}\n{END}\n", "line 1", "stand alone"),
    "end in the next cell": (f"def f():\n    {BEGIN}\n    return 1\n", "line 2", "same cell"),
}


@pytest.mark.parametrize("case", UNPAIRED)
def test_unpaired_markers_get_one_error_naming_the_notebook_and_the_cell(case, tmp_path, capsys):
    source, line, words = UNPAIRED[case]
    root, out = tmp_path / "notebooks", tmp_path / "out"
    _write(root / "week1_demo" / "a_good.ipynb", _notebook(new_code_cell(SQUARE)))
    cells = [new_markdown_cell("# lab"), new_code_cell("import numpy"), new_code_cell(source)]
    if case == "end in the next cell":
        cells.append(new_code_cell(f"    {END}"))
    bad = _write(root / "week1_demo" / "b_bad.ipynb", _notebook(*cells))

    with pytest.raises(MarkerError) as err:
        exercises.student_version(nbformat.read(bad, as_version=4), "b_bad.ipynb")
    message = str(err.value)
    assert message.startswith("b_bad.ipynb, cell 3 (the one that starts ")
    assert f", {line}: " in message and words in message

    # the command: one line on stderr, status 2, and nothing written (not even the good one)
    assert cli.main(["exercises", "--notebooks", str(root), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert re.fullmatch(r"coursekit: error: .*b_bad\.ipynb, cell 3 .*\n", captured.err)
    assert "Traceback" not in captured.err
    assert not out.exists()


def test_make_exercises_calls_the_command(repo_root):
    makefile = (repo_root / "Makefile").read_text()
    assert re.search(r"^exercises: \$\(STAMP\)  ## .*build/exercises/", makefile, re.M)
    assert "\t$(BIN)/coursekit exercises $(WEEK)\n" in makefile
    assert re.search(r"^\.PHONY:.* exercises ", makefile, re.M)


# --------------------------------------------------------------------------------------------
# Executing the student versions as a student would
# --------------------------------------------------------------------------------------------

#: A lab made here: two exercises, each with its check, in the labs' conventions. The check
#: raises coursekit's NotWrittenYet, as the labs' checks do.
DEMO_SETUP = """import coursekit as ck

from coursekit.common.exercises import NotWrittenYet


def check(fn, x, want):
    try:
        got = fn(x)
    except NotImplementedError:
        raise NotWrittenYet(f"not written yet: {fn.__name__} still raises NotImplementedError")
    assert got == want, (fn.__name__, got, want)
    print(f"{fn.__name__} agrees")"""

DEMO_CUBE = f"""def cube(x):
    # hint: three factors
    {BEGIN}
    return x * x * x
    {END}"""


def _demo_lab() -> nbformat.NotebookNode:
    return _notebook(
        new_markdown_cell("# A lab made by the tests"),
        new_code_cell(DEMO_SETUP),
        new_code_cell("EPOCHS = ck.by_mode(full=30, smoke=1)"),
        new_markdown_cell("## Build it: square"),
        new_code_cell(SQUARE),
        new_code_cell("check(square, 3, 9)"),
        new_markdown_cell("## Build it: cube"),
        new_code_cell(DEMO_CUBE),
        new_code_cell("check(cube, 2, 8)"),
        new_code_cell('print("the end")'),
    )


def _real_exercise_notebooks() -> list:
    """The real notebooks with solution regions, each a slow case (seconds to its first check)."""
    found = exercises.find_exercise_notebooks(REPO / "notebooks")
    return [pytest.param(p, marks=pytest.mark.slow, id=p.stem) for p in found]


def _execute(path: Path) -> tuple[nbformat.NotebookNode, nbclient.exceptions.CellExecutionError]:
    """Run ``path`` top to bottom in its own folder, as a student would; return the executed
    node and the error it stopped with (None when it ran to the end)."""
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as err:
        return nb, err
    return nb, None


def _first_check(nb: nbformat.NotebookNode) -> tuple[int, int]:
    """The index of the first solution cell, and of the check cell after it: the first code
    cell after it that calls a check (else simply the next code cell)."""
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    solution = next(i for i in code if BEGIN in nb.cells[i].source)
    after = [i for i in code if i > solution]
    checks = [i for i in after if "check" in nb.cells[i].source]
    return solution, (checks or after)[0]


@pytest.mark.parametrize("source", ["made-here", *_real_exercise_notebooks()])
def test_a_student_version_stops_at_its_first_check_saying_not_written_yet(
    source, tmp_path, monkeypatch
):
    monkeypatch.setenv("COURSEKIT_MODE", "smoke")
    monkeypatch.setenv("COURSEKIT_OFFLINE", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("COURSEKIT_RESULTS", str(tmp_path / "results"))
    if source == "made-here":
        root = tmp_path / "notebooks"
        source = _write(root / "week1_demo" / "demo_lab.ipynb", _demo_lab())
        # the solutions pass their checks: what stops the student version is the stub alone
        executed, error = _execute(source)
        assert error is None, error
        assert "the end" in executed.cells[-1].outputs[0]["text"]
    else:
        root = REPO / "notebooks"
    solutions = nbformat.read(source, as_version=4)
    built = exercises.write_student_versions(root, tmp_path / "exercises", source.parent.name)
    student = tmp_path / "exercises" / source.parent.name / source.name
    assert student in built
    assert BEGIN not in student.read_text() and END not in student.read_text()

    executed, error = _execute(student)

    assert error is not None, "the student version ran to the end: no check stopped it"
    assert error.ename == "NotWrittenYet", f"{error.ename}: {error.evalue}"
    assert error.evalue.startswith("not written yet"), error.evalue
    failed = [
        i
        for i, cell in enumerate(executed.cells)
        if any(o.output_type == "error" for o in cell.get("outputs", []))
    ]
    solution, check = _first_check(solutions)
    assert failed == [check], f"stopped at cell {failed}, first solution {solution}"
    assert check > solution
    rendered = executed.cells[check].outputs[-1]
    assert rendered["traceback"][0].startswith("not written yet")  # one line, no traceback
