"""Large arrays reused from the process's heap instead of fresh pages from the kernel (glibc).

glibc's ``malloc`` serves a block above its mmap threshold (128 KiB at first, raised as such
blocks are freed, to at most 32 MiB) with new pages from the kernel and hands them back on
``free``. A training step allocates and frees the same large activations every step (a batch of
128 feature maps of 32 x 28 x 28 is 12.8 MB), so each step then pays a page fault for every
4 KiB it touches: thousands per step, a large share of a small convolutional network's time on
a CPU, and a share that changes as glibc moves its threshold (the first steps of a run are the
slow ones). torch and TensorFlow allocate their CPU tensors with ``malloc``.

:func:`install` (run by ``import coursekit``) sets glibc's mmap and trim thresholds
(``mallopt``), so that freed blocks stay in the heap and the next step reuses them: the page
faults go (tested by counting them). The price: the process keeps the memory of its largest
step instead of returning it to the system between steps, which is what a training loop does
anyway. Linux with glibc only; elsewhere, or with ``COURSEKIT_MALLOC=default``, nothing changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

__all__ = ["MALLOC_ENV", "THRESHOLD", "install", "installed"]

MALLOC_ENV = "COURSEKIT_MALLOC"

#: Blocks up to this size come from the heap and freed memory up to it stays there (1 GiB).
THRESHOLD = 1 << 30

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h>
_state = {"installed": False}


def installed() -> bool:
    """Whether :func:`install` changed glibc's thresholds in this process."""
    return _state["installed"]


def install() -> bool:
    """Raise glibc's mmap and trim thresholds to :data:`THRESHOLD`, once per process; returns
    whether they are set (False off Linux, without glibc, or with ``COURSEKIT_MALLOC=default``).
    """
    if _state["installed"]:
        return True
    choice = os.environ.get(MALLOC_ENV, "").strip().lower()
    if choice not in ("", "heap", "default"):
        raise ValueError(f"{MALLOC_ENV} must be 'heap' (the default) or 'default' (glibc's own "
                         f"thresholds), got {choice!r}")  # fmt: skip
    if choice == "default" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others: no mallopt
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, THRESHOLD) == 1 and mallopt(_M_TRIM_THRESHOLD, THRESHOLD) == 1
    _state["installed"] = ok
    return ok
