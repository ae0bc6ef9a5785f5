"""The notebooks themselves: paired with py:percent, in sync, executed, and shaped alike."""

from __future__ import annotations

import re

import jupytext
import nbformat
import pytest
from conftest import REPO

NOTEBOOKS = sorted(
    p for p in (REPO / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
)
IDS = [str(p.relative_to(REPO)) for p in NOTEBOOKS]


# A home folder (Linux, macOS, Windows) or root's: committed outputs must show ~ or relative paths.
PERSONAL_PATH = re.compile(r"(?<![\w.~])(/root/|/home/[^/\s]+/|/Users/[^/\s]+/|[A-Z]:\\Users\\)")
# The location of a warning or a traceback line: an absolute path to a source file and its line
# (the kernel's temporary cell file /tmp/ipykernel_1234/567.py:1, a checkout's or a virtual
# environment's module): where the machine that ran the notebook keeps its files.
SOURCE_LOCATION = re.compile(r"(?<![\w.~])/(?:[^\s/'\"]+/)+[^\s/'\"]+\.py:\d+")


def _output_texts(nb) -> list[str]:
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                texts.append(out.text)
            elif out.output_type == "error":
                texts.append("\n".join(out.traceback))
            else:
                texts.extend(v for k, v in out.get("data", {}).items() if k.startswith("text/"))
    return texts


def _personal_paths(text: str) -> list[str]:
    found = [m.group(0) for m in PERSONAL_PATH.finditer(text)]
    found += [m.group(0) for m in SOURCE_LOCATION.finditer(text)]
    return found + [str(REPO) for _ in range(text.count(str(REPO) + "/"))]


def test_personal_path_detector():
    assert _personal_paths("cache: /root/.cache/coursekit (verified)") == ["/root/"]
    assert _personal_paths("into /home/ana/.cache/x") == ["/home/ana/"]
    assert _personal_paths(f"python 3.11 ({REPO}/.venv/bin/python)") == [str(REPO)]
    warning = "/tmp/ipykernel_20640/3297526259.py:1: DataFallbackWarning: The full MNIST"
    assert _personal_paths(warning) == ["/tmp/ipykernel_20640/3297526259.py:1"]
    other = "/work/wt/week2ebm/coursekit/plotting_ebm.py:72: UserWarning: The figure layout"
    assert _personal_paths(other) == ["/work/wt/week2ebm/coursekit/plotting_ebm.py:72"]
    clean = ("cache: ~/.cache/coursekit; ../../.venv/bin/python; /usr/share/datasets; /tmp/x.py; "
             "DataFallbackWarning: The full MNIST; coursekit/torch/rbm.py:120")
    assert _personal_paths(clean) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_outputs_show_no_personal_paths(path):
    nb = nbformat.read(path, as_version=4)
    found = sorted({p for text in _output_texts(nb) for p in _personal_paths(text)})
    assert not found, f"{path.name} outputs show {found}; paths must read ~/... or relative"


def _cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found under notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_pair_exists_and_is_in_sync(path):
    script = path.with_suffix(".py")
    assert script.exists(), f"{path} has no paired py:percent file; run `jupytext --sync {path}`"
    from_py = jupytext.read(script)
    from_ipynb = nbformat.read(path, as_version=4)
    assert _cells(from_py) == _cells(from_ipynb), (
        f"{script.name} and {path.name} differ; run `jupytext --sync {script}`"
    )
    assert jupytext.read(script).metadata["jupytext"]["formats"] == "ipynb,py:percent"


def test_out_of_sync_pair_is_detected(tmp_path):
    # the comparison above really distinguishes an edited script from its notebook
    nb = jupytext.reads("# %%\nx = 1\n\n# %% [markdown]\n# Title\n", fmt="py:percent")
    edited = jupytext.reads("# %%\nx = 2\n\n# %% [markdown]\n# Title\n", fmt="py:percent")
    assert _cells(nb) != _cells(edited)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_outputs_come_from_a_clean_run(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert code
    missing = [i for i, c in enumerate(code) if c.get("execution_count") is None]
    assert not missing, f"{path.name}: code cells {missing} carry no outputs; run `make outputs`"
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), f"{path.name} was not run top to bottom"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{path.name} has an error in its committed outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_shape(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, f"{path.name} needs exactly one cell tagged 'parameters'"
    assert "import coursekit as ck" in "".join(c.source for c in nb.cells if c.cell_type == "code")
    assert nb.metadata["kernelspec"]["name"] == "python3"


# ---- prose that quotes a run -------------------------------------------------------------

# A decimal number or a percentage in a markdown cell is a run's result unless it is a
# published number (its paragraph cites a year or "et al."), a setting the notebook's code also
# holds, or one of these fixed constants of the course (each with what it is).
FIXED_CONSTANTS = {
    "2.5": "class coverage counts a digit with at least 2.5% of the samples (coursekit.metrics)",
    "0.5": "the binarisation threshold and D's equilibrium value",
    "0.3": "the tutorial DCGAN's dropout; the week 2 toy mixture's weights",
    "0.7": "the week 2 toy mixture's weights",
    "0.08": "the bandwidth of the week 4 lecture's kernel density estimate",
    "4.0": "the CC BY 4.0 licence",
}
_DECIMAL = re.compile(
    r"(?<![\w.$\\^_{])[-−]?\d+(?:,\d{3})*\.\d+(?![\w}])|(?<![\w.$\\^_{])\d+(?:\.\d+)?\s?%")
_CITED = re.compile(r"\b(19|20)\d\d\b|et al\.", re.I)


def _quoted_run_numbers(nb) -> list[str]:
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`|\]\([^)]*\)|https?://\S+", " ", cell.source,
                      flags=re.S)  # fmt: skip
        for para in re.split(r"\n\s*\n|\n\s*[*-] ", text):
            if _CITED.search(para):
                continue
            for m in _DECIMAL.finditer(para):
                bare = m.group(0).replace("−", "-").rstrip("%").strip()
                if bare not in code and bare.lstrip("-") not in FIXED_CONSTANTS:
                    found.append(f"markdown cell {i}: {m.group(0)!r} in "
                                 f"{para[max(0, m.start() - 60):m.end() + 30]!r}")  # fmt: skip
    return found


def test_the_run_result_detector():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("ETA = 0.05"),
        nbformat.v4.new_markdown_cell("The samples score FID 3.25 with 9 of 10 digits."),
        nbformat.v4.new_markdown_cell("Swap rates from 0.12 to 0.81; 23% of the draws."),
        nbformat.v4.new_markdown_cell("Burda et al. (2015) report -86.76 nats."),
        nbformat.v4.new_markdown_cell("A step size `ETA` of 0.05, $\\sigma = 0.5$, at least 2.5%."),
    ])  # fmt: skip
    found = _quoted_run_numbers(nb)
    assert [f.split(":")[0] + ":" + f.split(":")[1].split(" in ")[0] for f in found] == [
        "markdown cell 1: '3.25'", "markdown cell 2: '0.12'", "markdown cell 2: '0.81'",
        "markdown cell 2: '23%'"]  # fmt: skip


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_markdown_quotes_no_run_result(path):
    """Numbers a run produces are printed by code (or rendered into Markdown by code): prose
    that states one goes stale at the next run on another machine (issue 19)."""
    found = _quoted_run_numbers(nbformat.read(path, as_version=4))
    assert not found, f"{path.name} states run results in prose:\n" + "\n".join(found)
