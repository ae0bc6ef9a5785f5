"""Run-time configuration: the full/smoke mode switch, seeding, and the process-wide settings
that must be in place before TensorFlow or Keras is imported.

Everything a notebook's parameters cell needs::

    import coursekit as ck
    EPOCHS = ck.by_mode(full=30, smoke=1)
    ck.seed_everything(0)

The mode is read from the environment variable ``COURSEKIT_MODE`` every time it is asked for,
so ``COURSEKIT_MODE=smoke make run`` or ``%env COURSEKIT_MODE=smoke`` in a notebook both work.

Importing this module sets two environment variables the user has not set (TensorFlow's C++
log level, and Keras' backend: tensorflow). Nothing here imports a framework: seeding touches
only the frameworks already in ``sys.modules``.
"""

from __future__ import annotations

import os
import random
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

import numpy as np

from coursekit import threads

#: The course's repository (Colab badges, the website's links to files it does not show).
REPO_URL = "https://github.com/coursekit/coursekit"
MODE_ENV = "COURSEKIT_MODE"
MODES = ("full", "smoke")
DEFAULT_MODE = "full"

# TensorFlow prints several lines of C++ log noise at import (oneDNN notices, CUDA probing on
# machines without a GPU). Level 2 keeps warnings that matter from Python and drops INFO/WARNING
# from the C++ runtime. A user who wants the noise sets TF_CPP_MIN_LOG_LEVEL=0.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Keras 3 reads its backend from this variable once, at import; tensorflow is the course default.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

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


# --------------------------------------------------------------------------------------------
# Seeds
# --------------------------------------------------------------------------------------------


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
    which on the torch backend costs seconds and prints TensorFlow's start-up lines. What it
    does, less the TensorFlow part, is to set Keras' global seed and drop its global seed
    generator (recreated from the seed); both live in modules Keras has loaded by then.
    """
    keras = sys.modules["keras"]
    if "tensorflow" in sys.modules or keras.backend.backend() == "tensorflow":
        keras.utils.set_random_seed(seed)
        return
    global_state = sys.modules.get("keras.src.backend.common.global_state")
    seed_generator = sys.modules.get("keras.src.random.seed_generator")
    rng_utils = sys.modules.get("keras.src.utils.rng_utils")
    try:
        seed_key = rng_utils.GLOBAL_RANDOM_SEED
        generator_key = seed_generator.GLOBAL_SEED_GENERATOR
        set_attribute = global_state.set_global_attribute
    except AttributeError:  # another Keras layout: accept the TensorFlow import
        keras.utils.set_random_seed(seed)
        return
    set_attribute(seed_key, seed)
    set_attribute(generator_key, None)  # recreated from the seed
    if keras.backend.backend() == "torch":
        sys.modules["torch"].manual_seed(seed)


def _seed_framework(framework: str, seed: int) -> None:
    if framework == "torch":
        sys.modules["torch"].manual_seed(seed)  # seeds CUDA and MPS generators too
    elif framework == "keras":
        _seed_keras(seed)
    elif framework == "tensorflow":
        sys.modules["tensorflow"].random.set_seed(seed)


def reapply_seed(framework: str) -> None:
    """Seed ``framework`` (imported) with the last seed, if :func:`seed_everything` was called."""
    if _last_seed is not None:
        _seed_framework(framework, _last_seed)


# --------------------------------------------------------------------------------------------
# TensorFlow's start-up noise
# --------------------------------------------------------------------------------------------

# Lines TensorFlow's C++ runtime writes straight to file descriptor 2 at import, past
# TF_CPP_MIN_LOG_LEVEL (absl logs "before absl::InitializeLog()"). None of them is actionable.
_TF_NOISE = re.compile(
    r"absl::InitializeLog|oneDNN custom operations|Unable to register cu(DNN|FFT|BLAS) factory"
    r"|TF-TRT Warning|computation_placer|cpu_feature_guard|This TensorFlow binary is optimized"
    r"|rebuild TensorFlow with the appropriate compiler flags|Could not find cuda drivers"
    r"|cuda_(dnn|fft|blas)\.cc|Attempting to register factory for plugin"
    # grappler's notice that it skipped one graph rewrite while compiling a training step
    r"|meta_optimizer\.cc:\d+\] remapper failed"
)


@contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Drop TensorFlow's known start-up noise from the process's stderr (fd 2) inside the block.

    Everything else written to fd 2 meanwhile is passed on to ``sys.stderr`` afterwards, so real
    warnings and errors still show. ``COURSEKIT_TF_VERBOSE=1`` turns the filter off.
    """
    if os.environ.get("COURSEKIT_TF_VERBOSE", "").strip() not in ("", "0"):
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable fd 2 (some embedded interpreters)
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", errors="replace")
            kept = [ln for ln in text.splitlines() if ln.strip() and not _TF_NOISE.search(ln)]
            if kept:
                sys.stderr.write("\n".join(kept) + "\n")
