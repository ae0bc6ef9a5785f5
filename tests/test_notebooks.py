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
    return found + [str(REPO) for _ in range(text.count(str(REPO) + "/"))]


def test_personal_path_detector():
    assert _personal_paths("cache: /root/.cache/coursekit (verified)") == ["/root/"]
    assert _personal_paths("into /home/ana/.cache/x") == ["/home/ana/"]
    assert _personal_paths(f"python 3.11 ({REPO}/.venv/bin/python)") == [str(REPO)]
    clean = "cache: ~/.cache/coursekit; ../../.venv/bin/python; /usr/share/datasets; /tmp/x.py"
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
