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


# ---- atomic writes: errors name the destination, never the temporary file beside it ------


def test_an_atomic_write_onto_a_folder_names_the_folder(tmp_path):
    import pytest

    from coursekit.io import atomic_write_text

    with pytest.raises(IsADirectoryError, match=f"cannot write {tmp_path}: it is a folder"):
        atomic_write_text(tmp_path, "x")
    assert list(tmp_path.iterdir()) == []


def test_an_atomic_write_below_a_file_names_the_file_in_the_way(tmp_path):
    import pytest

    from coursekit.io import atomic_write_text

    (tmp_path / "notes").write_text("x")
    with pytest.raises(NotADirectoryError) as info:
        atomic_write_text(tmp_path / "notes" / "deep" / "a.md", "y")
    assert str(info.value).endswith(f"{tmp_path / 'notes'} is a file, not a folder")
    assert ".tmp" not in str(info.value)


def test_an_atomic_write_into_a_read_only_folder_names_the_target(tmp_path, monkeypatch):
    import errno
    import tempfile

    import pytest

    from coursekit.io import atomic_write_text

    def refuse(*args, **kwargs):  # what mkstemp does in a read-only folder (even as root)
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / ".a.md.x.tmp"))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError) as info:
        atomic_write_text(tmp_path / "a.md", "y")
    assert str(info.value) == f"[Errno 13] cannot write {tmp_path / 'a.md'}: Permission denied"
