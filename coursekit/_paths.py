"""Paths as a person should read them: relative to the working folder, or ``~/...``.

Reports, warnings and notebook outputs are read by other people (and committed to the
repository), so they never show the absolute path of one user's home or checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["display_path", "project_root"]


def project_root() -> Path | None:
    """The source checkout this package runs from (the folder with ``pyproject.toml``), or None."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() else None


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def display_path(path: str | os.PathLike[str]) -> str:
    """``path`` for people: relative when inside the working folder or the course checkout,
    ``~/...`` when inside the home folder, else absolute (e.g. ``/usr/share/datasets``).

    Symbolic links are not resolved, so ``.venv/bin/python`` stays what it is.
    """
    p = Path(os.path.abspath(Path(path).expanduser()))
    cwd = Path(os.path.abspath(os.getcwd()))
    root = project_root()
    if _inside(p, cwd) or (root is not None and _inside(p, root) and _inside(cwd, root)):
        return os.path.relpath(p, cwd)
    home = Path(os.path.abspath(Path.home()))
    if home != Path(home.anchor) and _inside(p, home):
        rest = p.relative_to(home)
        return "~" if str(rest) == "." else f"~/{rest.as_posix()}"
    return str(p)
