"""``coursekit doctor``: one report of everything that decides whether the notebooks will run.

Python and package versions, whether torch and Keras really import (and how long that takes),
the Keras backend, the threads each framework really uses, the device, the mode, and which data
each loader will use. Paths are shown relative to the working folder or as ``~/...``.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import json
import os
import platform
import sys
import time
from pathlib import Path

from coursekit import config, data, threads
from coursekit.config import quiet_native_stderr
from coursekit.io import display_path

PACKAGES = (
    "coursekit",
    "numpy",
    "matplotlib",
    "torch",
    "tensorflow",
    "keras",
    "pooch",
    "mlxtend",
    "jupytext",
    "nbclient",
    "nbval",
    "jupyterlab",
)


def package_version(name: str) -> str | None:
    """Installed version of a distribution, or None; ``tensorflow`` finds ``tensorflow-cpu`` too."""
    candidates = [name] + (["tensorflow-cpu"] if name == "tensorflow" else [])
    for dist in candidates:
        try:
            return md.version(dist)
        except md.PackageNotFoundError:
            continue
    return None


def keras_backend() -> str:
    """The backend Keras 3 will use, read the way Keras reads it (environment, then keras.json)."""
    env = os.environ.get("KERAS_BACKEND")
    if env:
        return env
    keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    try:
        return json.loads((keras_home / "keras.json").read_text())["backend"]
    except (OSError, ValueError, KeyError):
        return "tensorflow"


def _import_check(module: str) -> str:
    start = time.perf_counter()
    try:
        with quiet_native_stderr():
            importlib.import_module(module)
    except Exception as exc:  # report any failure, the point of a doctor
        return f"FAILED: {type(exc).__name__}: {exc}"
    return f"ok ({time.perf_counter() - start:.1f} s)"


def _thread_rows() -> list[tuple[str, str]]:
    """The thread setting and what each framework really uses (applied first, as at import)."""
    try:
        wanted = str(threads.apply(strict=True))
    except ValueError as exc:
        wanted = f"INVALID: {exc}"
    if os.environ.get(threads.THREADS_ENV, "").strip():
        wanted += f"  (from {threads.THREADS_ENV})"
    else:
        wanted += f"  (the cores available; set {threads.THREADS_ENV} to change)"
    rows = [("threads", wanted)]
    for framework in threads.FRAMEWORKS:
        rows.append((f"{framework} threads", threads.effective(framework).describe()))
    return rows


def _device() -> str:
    """The torch device the PyTorch labs will use, or why there is none."""
    try:
        from coursekit.torch import device
    except Exception as err:  # noqa: BLE001 - a broken torch install is what the doctor shows
        return f"cpu (torch does not import: {type(err).__name__})"
    return device()


def report() -> list[tuple[str, list[tuple[str, str]]]]:
    """The report as sections of (key, value) rows."""
    python = [
        ("python", f"{platform.python_version()} ({display_path(sys.executable)})"),
        ("platform", f"{platform.system()} {platform.machine()}"),
        ("colab", "yes" if "google.colab" in sys.modules else "no"),
    ]
    versions = [(name, package_version(name) or "not installed") for name in PACKAGES]
    imports = [(name, _import_check(name)) for name in ("torch", "keras")]
    try:
        mode = config.mode()
    except ValueError as exc:
        mode = f"INVALID: {exc}"
    runtime = [
        ("mode", f"{mode}  (set {config.MODE_ENV}=full|smoke)"),
        ("keras backend", f"{keras_backend()}  (set KERAS_BACKEND=tensorflow|torch)"),
        ("cpus available", str(threads.available_cpus())),
        *_thread_rows(),
        ("device", _device()),
    ]
    datasets = [
        ("cache folder", f"{display_path(data.cache_dir())}  (set COURSEKIT_DATA to move it)"),
        ("network", "allowed" if data.network_allowed() else f"off: {data.offline_reason()}"),
    ]
    for name in ("mnist", "fashion_mnist"):
        for split in ("train", "test"):
            datasets.append((f"{name} {split}", data.source(name, split)))
    return [
        ("Python", python),
        ("Packages", versions),
        ("Imports", imports),
        ("Runtime", runtime),
        ("Data", datasets),
    ]


def format_report(sections: list[tuple[str, list[tuple[str, str]]]]) -> str:
    """Render the report as aligned plain text."""
    width = max(len(key) for _, rows in sections for key, _ in rows)
    lines = ["coursekit doctor"]
    for title, rows in sections:
        lines.append("")
        lines.append(f"[{title}]")
        lines.extend(f"  {key:<{width}}  {value}" for key, value in rows)
    return "\n".join(lines)


def print_report() -> None:
    """Print the report."""
    print(format_report(report()))
