"""coursekit: the package behind the course *Deep generative models for the physical sciences*.

A notebook starts with::

    import coursekit as ck
    EPOCHS = ck.by_mode(full=30, smoke=1)
    ck.seed_everything(0)
    images, labels = ck.data.load_mnist("train")

The folders are the layers (the README's package map draws them; ``make test`` holds them with
import-linter): the framework-free core (this module's names, :mod:`coursekit.data`,
:mod:`coursekit.reference`, :mod:`coursekit.metrics`, :mod:`coursekit.plotting`, ...), the
models in :mod:`coursekit.torch` and :mod:`coursekit.keras`, and the course tooling in
:mod:`coursekit.course`. ``import coursekit`` imports no framework.
"""

from __future__ import annotations

import importlib
from typing import Any

from coursekit import config, data, memory, threads  # config first: it sets TensorFlow's env
from coursekit.checks import warn_deprecated
from coursekit.config import REPO_URL, by_mode, is_smoke, mode, seed_everything
from coursekit.threads import available_cpus, num_threads

threads.install()  # COURSEKIT_THREADS reaches torch and TensorFlow, whenever they are imported
memory.install()  # large tensors reused from the heap, not fresh pages per step (glibc)

__version__ = "0.1.0"

__all__ = [
    "REPO_URL",
    "__version__",
    "available_cpus",
    "by_mode",
    "config",
    "data",
    "is_smoke",
    "memory",
    "mode",
    "num_threads",
    "plotting",
    "seed_everything",
    "threads",
]

# Names that moved when the package took its layered shape, kept for one release: the old
# name -> (module, attribute or None for the module itself). Each use warns.
_MOVED: dict[str, tuple[str, str | None]] = {
    "device": ("coursekit.torch", "device"),
    "doctor": ("coursekit.course.doctor", "print_report"),
    "results": ("coursekit.course.results", None),
    "families": ("coursekit.course.families", None),
    "runner": ("coursekit.course.runner", None),
    "slides": ("coursekit.course.slides", None),
    "cli": ("coursekit.course.cli", None),
    "envreport": ("coursekit.course.doctor", None),
    "plotting_ebm": ("coursekit.plotting.ebm", None),
    "vae_plots": ("coursekit.plotting.vae", None),
    "gan_plots": ("coursekit.plotting.gan", None),
    "ood": ("coursekit.metrics.ood", None),
    "replay": ("coursekit.common.ebm", None),
    "uniforms": ("coursekit.common.uniforms", None),
    "rbm_checks": ("coursekit.common.rbm", None),
    "langevin_checks": ("coursekit.common.langevin", None),
    "vae_checks": ("coursekit.common.vae", None),
    "gan_checks": ("coursekit.common.gan", None),
}


def __getattr__(name: str) -> Any:
    """``ck.plotting`` (imported on first use: matplotlib is not needed to train or to score),
    and ``ck.<old name>``: the moved module or function, with a :class:`DeprecationWarning`.

    Also serves ``from coursekit import <name>``. The new place is imported only when an old
    name is used, so ``import coursekit`` still imports no framework and no course tooling.
    """
    if name == "plotting":
        return importlib.import_module("coursekit.plotting")
    if name not in _MOVED:
        raise AttributeError(f"module 'coursekit' has no attribute {name!r}")
    module_name, attribute = _MOVED[name]
    new = module_name if attribute is None else f"{module_name}.{attribute}"
    warn_deprecated(f"coursekit.{name}", new)
    module = importlib.import_module(module_name)
    return module if attribute is None else getattr(module, attribute)
