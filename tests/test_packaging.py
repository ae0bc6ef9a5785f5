"""The project's own files agree with each other: pyproject, environment.yml, Makefile, CI."""

from __future__ import annotations

import re

import pytest
import tomllib
import yaml


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement string."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def _spec(requirement: str) -> str:
    """The requirement without spaces, e.g. 'numpy>=1.24' or "tensorflow>=2.16;sys_platform..."."""
    return requirement.replace(" ", "").replace('"', "'")


@pytest.fixture
def pyproject(repo_root):
    return tomllib.loads((repo_root / "pyproject.toml").read_text())


@pytest.fixture
def conda_requirements(repo_root):
    env = yaml.safe_load((repo_root / "environment.yml").read_text())
    conda, pip = [], []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip.extend(d for d in dep["pip"] if not d.startswith("-e"))
        elif _name(dep) not in {"python", "pip"}:
            conda.append(dep)
    return conda, pip, env


def test_environment_yml_agrees_with_pyproject(pyproject, conda_requirements):
    conda, pip, env = conda_requirements
    runtime = pyproject["project"]["dependencies"]
    lab = pyproject["project"]["optional-dependencies"]["lab"]
    declared = {}
    for req in runtime + lab:
        declared.setdefault(_name(req), set()).add(_spec(req))
    in_env = {}
    for req in conda + pip:
        in_env.setdefault(_name(req), set()).add(_spec(req))
    # same packages, same version ranges and markers
    assert in_env == declared
    assert env["channels"] == ["conda-forge"]
    assert any(
        str(d).startswith("-e .[lab]")
        for dep in env["dependencies"]
        if isinstance(dep, dict)
        for d in dep["pip"]
    )


def test_disagreement_would_be_caught():
    # the comparison is by normalised name and exact range: a drifted range is a different spec
    assert _name("Tensorflow_CPU>=2.16") == "tensorflow-cpu"
    assert _spec("numpy>=1.24") != _spec("numpy>=1.26")


def test_console_script_and_extras(pyproject):
    assert pyproject["project"]["scripts"]["coursekit"] == "coursekit.course.cli:main"
    dev = {_name(r) for r in pyproject["project"]["optional-dependencies"]["dev"]}
    assert {"pytest", "nbval", "ruff", "pytest-xdist"} <= dev
    names = {_name(r) for r in pyproject["project"]["dependencies"]}
    assert {"numpy", "matplotlib", "torch", "keras", "tqdm", "pooch", "mlxtend"} <= names
    assert "torchvision" not in names  # it does not import beside the CPU torch wheel


def test_makefile_has_the_documented_targets(repo_root):
    makefile = (repo_root / "Makefile").read_text()
    for target in ("run", "test", "lab", "outputs", "clean"):
        assert re.search(rf"^{target}:", makefile, re.M), target
    assert "TORCH  ?= torch==" in makefile


def test_ci_calls_make_test(repo_root):
    script = (repo_root / ".ci" / "run").read_text()
    assert re.search(r"^make test$", script, re.M)


def test_license_states_both_licenses(repo_root):
    text = (repo_root / "LICENSE").read_text()
    assert "MIT License" in text
    assert "CC BY 4.0" in text
