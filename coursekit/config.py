"""Run-time configuration: the full/smoke mode switch, seeding, device and threads.

Everything a notebook's parameters cell needs::

    import coursekit as ck
    EPOCHS = ck.by_mode(full=30, smoke=1)
    ck.seed_everything(0)

The mode is read from the environment variable ``COURSEKIT_MODE`` every time it is asked for,
so ``COURSEKIT_MODE=smoke make run`` or ``%env COURSEKIT_MODE=smoke`` in a notebook both work.
"""

from __future__ import annotations

import os
import random
import sys
from typing import TypeVar

import numpy as np

MODE_ENV = "COURSEKIT_MODE"
THREADS_ENV = "COURSEKIT_THREADS"
MODES = ("full", "smoke")
DEFAULT_MODE = "full"

T = TypeVar("T")

_last_seed: int | None = None


def mode() -> str:
    """Return the current mode, ``"full"`` (the default) or ``"smoke"``.

    Raises:
        ValueError: if ``COURSEKIT_MODE`` holds anything else.
    """
    raw = os.environ.get(MODE_ENV, "")
    value = raw.strip().lower() or DEFAULT_MODE
    if value not in MODES:
        raise ValueError(
            f"{MODE_ENV}={raw!r} is not a known mode; expected one of "
            f"{', '.join(repr(m) for m in MODES)} (unset means {DEFAULT_MODE!r})."
        )
    return value


def is_smoke() -> bool:
    """True in smoke mode (seconds per notebook, for CI)."""
    return mode() == "smoke"


def by_mode(*, full: T, smoke: T) -> T:
    """Pick a value by mode: ``EPOCHS = by_mode(full=30, smoke=1)``."""
    return smoke if is_smoke() else full


def seed_everything(seed: int) -> int:
    """Seed Python's ``random``, NumPy, and every framework already imported.

    torch is seeded if it has been imported; Keras (and through it its backend, TensorFlow or
    torch) likewise. TensorFlow is seeded only when it is already imported: with Keras on the
    torch backend, seeding never imports TensorFlow. :mod:`coursekit.torch` and
    :mod:`coursekit.keras` re-apply the last seed when they are imported later, so the order of
    imports in a notebook does not matter. The thread setting (:mod:`coursekit.threads`) is
    applied to the loaded frameworks first.

    Args:
        seed: an integer in ``[0, 2**32)``.

    Returns:
        The seed, for printing.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r} of type {type(seed).__name__}.")
    seed = int(seed)
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}.")
    from coursekit import threads

    threads.apply(strict=False)
    global _last_seed
    _last_seed = seed
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002  (the legacy global state is what old code uses)
    for framework in ("torch", "keras"):
        if framework in sys.modules:
            _seed_framework(framework, seed)
    if "keras" not in sys.modules and "tensorflow" in sys.modules:
        _seed_framework("tensorflow", seed)
    return seed


def last_seed() -> int | None:
    """The seed most recently passed to :func:`seed_everything`, or None."""
    return _last_seed


def _seed_keras(seed: int) -> None:
    """``keras.utils.set_random_seed`` without importing TensorFlow when it is not in use.

    Keras's own function imports TensorFlow whenever it is installed (to seed ``tf.data``),
    which on the torch backend costs seconds and prints TensorFlow's start-up lines.
    """
    import keras

    if "tensorflow" in sys.modules or keras.backend.backend() == "tensorflow":
        keras.utils.set_random_seed(seed)
        return
    try:  # what set_random_seed does, less the TensorFlow part
        from keras.src.backend.common import global_state
        from keras.src.random import seed_generator
        from keras.src.utils import rng_utils

        seed_key, generator_key = rng_utils.GLOBAL_RANDOM_SEED, seed_generator.GLOBAL_SEED_GENERATOR
    except (ImportError, AttributeError):  # another Keras layout: accept the TensorFlow import
        keras.utils.set_random_seed(seed)
        return
    global_state.set_global_attribute(seed_key, seed)
    global_state.set_global_attribute(generator_key, None)  # recreated from the seed
    if keras.backend.backend() == "torch":
        import torch

        torch.manual_seed(seed)


def _seed_framework(framework: str, seed: int) -> None:
    if framework == "torch":
        import torch

        torch.manual_seed(seed)  # seeds CUDA and MPS generators too
    elif framework == "keras":
        _seed_keras(seed)
    elif framework == "tensorflow":
        import tensorflow as tf

        tf.random.set_seed(seed)


def reapply_seed(framework: str) -> None:
    """Seed ``framework`` with the last seed, if :func:`seed_everything` was called before."""
    if _last_seed is not None:
        _seed_framework(framework, _last_seed)


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


def device(verbose: bool = False) -> str:
    """The best torch device here: ``"cuda"``, ``"mps"`` (Apple silicon) or ``"cpu"``.

    Returns ``"cpu"`` when torch is not installed. With ``verbose=True`` it prints what it chose.
    """
    name, detail = "cpu", "no GPU found; training runs on the CPU"
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        torch = None  # type: ignore[assignment]
        detail = "torch is not installed"
    if torch is not None:
        if torch.cuda.is_available():
            name, detail = "cuda", torch.cuda.get_device_name(0)
        elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            name, detail = "mps", "Apple Metal (MPS)"
    if verbose:
        print(f"device: {name} ({detail})")
    return name
