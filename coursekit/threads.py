"""One thread setting for every framework: ``COURSEKIT_THREADS`` applied to torch and TensorFlow.

:func:`num_threads` says how many threads the frameworks should use (``COURSEKIT_THREADS``,
else the cores this process may really use, cgroup quota included). This module makes the
frameworks follow it, once per framework and process:

* torch: ``torch.set_num_threads`` (intra-op) and ``torch.set_num_interop_threads`` (only
  possible before torch has run parallel work, and only once: code that sets the inter-op pool
  itself must do so before importing coursekit);
* TensorFlow: ``tf.config.threading`` intra- and inter-op parallelism (only possible before the
  TensorFlow runtime has started).

:func:`install` (run by ``import coursekit``) applies the setting to the frameworks already
imported and to each of them the moment it is imported later, so the order of imports in a
notebook does not matter. Nothing here imports a framework: only those already in
``sys.modules`` are touched. More threads than free cores (a shared machine, a container
quota) can make training many times slower, hence one setting for all.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType

__all__ = [
    "FRAMEWORKS",
    "THREADS_ENV",
    "FrameworkThreads",
    "apply",
    "available_cpus",
    "effective",
    "install",
    "num_threads",
]

THREADS_ENV = "COURSEKIT_THREADS"

#: The frameworks whose thread pools are set, by module name.
FRAMEWORKS = ("torch", "tensorflow")

_applied: dict[str, int] = {}  # framework -> the thread count last applied to it
_notes: dict[str, str] = {}  # framework -> why a setting could not be applied
_warned: set[str] = set()  # messages about a bad COURSEKIT_THREADS already given


def available_cpus() -> int:
    """CPU cores this process may really use: its affinity mask, capped by a cgroup CPU quota.

    ``os.cpu_count()`` reports every core of the host; in a container or on a shared lab node
    the quota can be far smaller, and a thread pool sized to the host then thrashes.
    """
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        n = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max", encoding="ascii") as fh:
            quota, period = fh.read().split()[:2]
        if quota != "max":
            n = min(n, max(1, int(int(quota) // int(period))))
    except (OSError, ValueError):
        pass
    return max(1, n)


def num_threads() -> int:
    """Threads the frameworks should use: ``COURSEKIT_THREADS``, else :func:`available_cpus`."""
    raw = os.environ.get(THREADS_ENV, "").strip()
    if not raw:
        return available_cpus()
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{THREADS_ENV}={raw!r} is not a positive integer.")
    return value


@dataclass(frozen=True)
class FrameworkThreads:
    """The thread pools a framework really uses (0 means the framework's own default)."""

    framework: str
    loaded: bool
    intra_op: int = 0
    inter_op: int = 0
    note: str = ""

    def describe(self) -> str:
        """One line for ``coursekit doctor``, e.g. ``"intra-op 2, inter-op 2"``."""
        if not self.loaded:
            return "not imported in this process"

        def show(n: int) -> str:
            return str(n) if n > 0 else "default (all cores)"

        text = f"intra-op {show(self.intra_op)}, inter-op {show(self.inter_op)}"
        return f"{text}  ({self.note})" if self.note else text


def _apply_torch(torch: ModuleType, n: int) -> None:
    torch.set_num_threads(n)
    if torch.get_num_interop_threads() != n:
        try:
            torch.set_num_interop_threads(n)
        except RuntimeError:  # torch already ran parallel work; the pool is fixed now
            _notes["torch"] = (
                f"inter-op pool already started with {torch.get_num_interop_threads()} threads"
            )


def _apply_tensorflow(tf: ModuleType, n: int) -> None:
    threading = tf.config.threading
    try:
        threading.set_intra_op_parallelism_threads(n)
        threading.set_inter_op_parallelism_threads(n)
    except RuntimeError:  # the runtime already started: its pools are fixed for this process
        _notes["tensorflow"] = (
            f"the TensorFlow runtime started before coursekit could set {n} thread(s); "
            "import coursekit before running TensorFlow code"
        )


def _apply_one(framework: str, n: int) -> None:
    module = sys.modules.get(framework)
    if module is None or _applied.get(framework) == n:
        return
    if framework == "tensorflow" and not hasattr(module, "config"):
        return  # still being imported; the import hook applies it when the import is done
    _applied[framework] = n
    _notes.pop(framework, None)
    if framework == "torch":
        _apply_torch(module, n)
    else:
        _apply_tensorflow(module, n)


def apply(frameworks: Sequence[str] = FRAMEWORKS, *, strict: bool = True) -> int | None:
    """Give every loaded framework in ``frameworks`` :func:`num_threads` threads.

    Frameworks that are not imported are left alone (and not imported). Applying the same
    count again does nothing, so this is cheap to call often.

    Args:
        frameworks: module names among :data:`FRAMEWORKS`.
        strict: if False, a bad ``COURSEKIT_THREADS`` gives a warning instead of the error.

    Returns:
        The thread count, or None when ``COURSEKIT_THREADS`` is invalid and ``strict`` is False.

    Raises:
        ValueError: ``COURSEKIT_THREADS`` is not a positive integer (``strict``), or an unknown
            framework name.
    """
    unknown = [f for f in frameworks if f not in FRAMEWORKS]
    if unknown:
        raise ValueError(f"unknown framework {unknown[0]!r}; expected one of {FRAMEWORKS}.")
    try:
        n = num_threads()
    except ValueError as err:
        if strict:
            raise
        if str(err) not in _warned:
            _warned.add(str(err))
            warnings.warn(f"{err} The frameworks keep their own thread settings.", stacklevel=2)
        return None
    for framework in frameworks:
        _apply_one(framework, n)
    return n


def effective(framework: str) -> FrameworkThreads:
    """The thread pools ``framework`` uses right now (it is not imported for this)."""
    if framework not in FRAMEWORKS:
        raise ValueError(f"unknown framework {framework!r}; expected one of {FRAMEWORKS}.")
    module = sys.modules.get(framework)
    if module is None:
        return FrameworkThreads(framework, loaded=False)
    note = _notes.get(framework, "")
    if framework == "torch":
        return FrameworkThreads(
            framework, True, module.get_num_threads(), module.get_num_interop_threads(), note
        )
    threading = module.config.threading
    return FrameworkThreads(
        framework,
        True,
        threading.get_intra_op_parallelism_threads(),
        threading.get_inter_op_parallelism_threads(),
        note,
    )


# --------------------------------------------------------------------------- import hook


class _AfterImport(importlib.abc.Loader):
    """Wraps a framework's loader: run the import, then apply the thread setting."""

    def __init__(self, loader: importlib.abc.Loader, framework: str) -> None:
        self._loader = loader
        self._framework = framework

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        # the module keeps its real loader; this wrapper only lives for the import
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        try:
            apply((self._framework,), strict=False)
        except Exception as err:  # never break the user's import over a thread setting
            warnings.warn(
                f"coursekit could not set the {self._framework} threads: {err}", stacklevel=2
            )

    def __getattr__(self, name: str) -> object:  # is_package, get_code, ... of the real loader
        return getattr(self._loader, name)


class _ThreadHook(importlib.abc.MetaPathFinder):
    """Finds nothing itself; marks the specs of the top-level framework modules."""

    def find_spec(self, fullname, path=None, target=None):  # noqa: ANN001, ANN201
        if fullname not in FRAMEWORKS or fullname in sys.modules:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _AfterImport(spec.loader, fullname)
                return spec
        return None


def install() -> None:
    """Apply the setting to the frameworks already loaded, and to each one imported later.

    Called once by ``import coursekit``; calling it again does nothing more. A bad
    ``COURSEKIT_THREADS`` gives a warning here (the import must not fail over it).
    """
    if not any(isinstance(f, _ThreadHook) for f in sys.meta_path):
        sys.meta_path.insert(0, _ThreadHook())
    apply(strict=False)
