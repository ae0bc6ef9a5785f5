"""coursekit.io.display_path: paths in reports and outputs read ~/... or relative."""

from __future__ import annotations

from conftest import REPO

from coursekit import io as _paths
from coursekit.io import display_path


def test_home_becomes_tilde(monkeypatch, tmp_path):
    home = tmp_path / "home" / "ana"
    home.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    monkeypatch.setattr(_paths, "project_root", lambda: None)
    assert display_path(home / ".cache" / "coursekit") == "~/.cache/coursekit"
    assert display_path(home) == "~"
    assert display_path("~/x") == "~/x"


def test_inside_the_working_folder_is_relative(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_paths, "project_root", lambda: None)
    assert display_path(tmp_path / "build" / "a.html") == "build/a.html"


def test_inside_the_checkout_is_relative_to_the_working_folder(monkeypatch, tmp_path):
    root = tmp_path / "course"
    (root / "notebooks" / "week0").mkdir(parents=True)
    monkeypatch.chdir(root / "notebooks" / "week0")  # where a notebook's kernel runs
    monkeypatch.setattr(_paths, "project_root", lambda: root)
    assert display_path(root / ".venv" / "bin" / "python") == "../../.venv/bin/python"


def test_elsewhere_stays_absolute(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_paths, "project_root", lambda: None)
    assert display_path("/usr/share/datasets/fashion-mnist") == "/usr/share/datasets/fashion-mnist"


def test_project_root_is_this_checkout():
    assert _paths.project_root() == REPO
