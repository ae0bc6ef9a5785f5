"""The package's shape: its layers, its import graph, its module sizes.

The layers are import-linter contracts in ``pyproject.toml`` (``make test`` runs
``lint-imports``); these tests run them too, show that each contract breaks on a deliberate
violation (so that a kept contract means something), and check what the contracts cannot say:
no import cycle at all, and ``import coursekit`` loading no framework.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest
from conftest import REPO

PACKAGE = REPO / "coursekit"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

#: The framework-free core: every top-level module and package but the models, ``parallel``
#: (the torchrun processes both model packages share, on ``torch.distributed``) and the tooling
#: (``course``, and ``train``, the command line that trains a model on one or more processes).
CORE = sorted(
    p.stem if p.suffix == ".py" else p.name
    for p in PACKAGE.iterdir()
    if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()
    if p.name not in ("torch", "keras", "parallel.py", "course", "train.py")
)

#: The longest module allowed, in lines (the issue that shaped the package: "about 500").
MAX_LINES = 500


def _lint(package_parent: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(REPO / "pyproject.toml")],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_the_core_is_what_the_contracts_list():
    """Every core module is a source of the no-framework contract (none forgotten)."""
    text = (REPO / "pyproject.toml").read_text()
    start = text.index('name = "The core imports no framework')
    block = text[start : text.index("forbidden_modules", start)]
    listed = {line.strip().strip('",').removeprefix("coursekit.") for line in block.splitlines()}
    assert set(CORE) <= listed, set(CORE) - listed


def test_lint_imports_keeps_every_contract(tmp_path):
    result = _lint(REPO, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout


# (contract name as printed, file to change, line to add)
VIOLATIONS = [
    ("Layers: course tooling > models > core", "data/toy.py",
     "from coursekit.course import results  # noqa"),
    ("Layers: course tooling > models > core", "metrics/report.py",
     "from coursekit import plotting  # noqa"),
    ("coursekit.torch and coursekit.keras never import each other", "torch/data.py",
     "import coursekit.keras.data  # noqa"),
    ("The core imports no framework", "checks.py", "import torch  # noqa"),
    ("The core imports no framework", "common/rbm.py", "import keras  # noqa"),
    ("No import cycles between the modules of any package", "course/results.py",
     "import coursekit.course.runner  # noqa"),
]  # fmt: skip


@pytest.mark.parametrize(("contract", "path", "line"), VIOLATIONS)
def test_each_contract_breaks_on_a_deliberate_violation(tmp_path, contract, path, line):
    copy = tmp_path / "src" / "coursekit"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "weights"))
    target = copy / path
    target.write_text(target.read_text() + f"\n{line}\n")
    result = _lint(tmp_path / "src", tmp_path)
    assert result.returncode != 0, result.stdout
    broken = result.stdout[result.stdout.index("Broken contracts") :]
    assert contract in broken, result.stdout


def _internal_graph() -> dict[str, set[str]]:
    graph = grimp.build_graph("coursekit", cache_dir=None)
    return {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), or a self-import."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges.get(v, ()):
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_any_two_modules():
    """A module-level check (the contract looks at siblings): no module of coursekit can reach
    itself through its imports, the package ``__init__`` files included."""
    assert _cycles(_internal_graph()) == []


def test_no_module_imports_the_top_level_package():
    """``from coursekit import ...`` inside the package would tie a layer to all the others."""
    edges = _internal_graph()
    assert [m for m, imported in edges.items() if "coursekit" in imported] == []


def test_import_coursekit_and_its_core_load_no_framework_and_no_tooling():
    modules = sorted(
        m for m in _internal_graph() if m.split(".")[1:2] and m.split(".")[1] in CORE
    )
    code = (
        "import importlib, sys\n"
        "import coursekit\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'tensorflow', "
        "'keras') or m.startswith(('coursekit.torch', 'coursekit.keras', 'coursekit.course')))\n"
        "assert not bad, bad\n"
    )
    env = {**os.environ, "MPLBACKEND": "Agg"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=300)


def _code_lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_no_module_is_longer_than_the_limit():
    long = {
        str(p.relative_to(REPO)): _code_lines(p)
        for p in PACKAGE.rglob("*.py")
        if _code_lines(p) > MAX_LINES
    }
    assert long == {}


def test_every_module_says_what_it_is():
    """Each module opens with a docstring (the one concept it holds)."""
    missing = [
        str(p.relative_to(REPO))
        for p in PACKAGE.rglob("*.py")
        if ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) is None
    ]
    assert missing == []


def _readme_map() -> set[str]:
    """The modules and folders the README's package map names, as paths under coursekit/."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("```\ncoursekit/\n") + len("```\ncoursekit/\n")
    block = text[start : text.index("```", start)]
    names: set[str] = set()
    folders: list[str] = []  # the folder open at each depth
    for line in block.splitlines():
        depth = (len(line) - len(line.lstrip(" "))) // 2 - 1
        head = line.strip().split("  ")[0]
        items = [item.strip() for item in head.split(",")]
        if not items[0] or not all(i.endswith((".py", "/")) for i in items):
            continue  # a description running on
        del folders[depth:]
        for item in items:
            names.add("/".join([*folders, item.rstrip("/")]))
        if items[-1].endswith("/"):
            folders.append(items[-1].rstrip("/"))
    return names


def test_the_readme_package_map_matches_the_tree():
    modules = [p for p in PACKAGE.rglob("*.py") if p.stem not in ("__init__", "__main__")]
    packages = [p.parent for p in PACKAGE.rglob("__init__.py") if p.parent != PACKAGE]
    tree = {str(p.relative_to(PACKAGE).with_suffix("")) for p in modules + packages}
    tree.add("__init__")
    named = {n.removesuffix(".py") for n in _readme_map()}
    assert named - tree == set(), "the README names what does not exist"
    assert tree - named == set(), "the README's package map leaves these out"


def test_the_yardstick_and_the_data_need_no_matplotlib():
    """Scoring samples and loading data import no plotting library; ``ck.plotting`` is imported
    when a notebook first uses it."""
    code = (
        "import sys, coursekit as ck, coursekit.metrics, coursekit.data\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'\n"
        "assert ck.plotting.image_grid and 'matplotlib' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120,
                   env={**os.environ, "MPLBACKEND": "Agg"})  # fmt: skip
