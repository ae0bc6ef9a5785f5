"""Process-wide settings that must be in place before TensorFlow or Keras is imported.

Imported first by :mod:`coursekit`; it only sets environment variables that the user has not set,
and offers :func:`quiet_native_stderr` for the imports of TensorFlow-backed Keras.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

# TensorFlow prints several lines of C++ log noise at import (oneDNN notices, CUDA probing on
# machines without a GPU). Level 2 keeps warnings that matter from Python and drops INFO/WARNING
# from the C++ runtime. A user who wants the noise sets TF_CPP_MIN_LOG_LEVEL=0.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Keras 3 reads its backend from this variable once, at import; tensorflow is the course default.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


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
