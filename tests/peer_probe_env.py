"""A worker for tests/test_benchmarks.py (a "peer_" module, so benchmarks/series.py starts it as
a peer): reports what its process started with."""

from __future__ import annotations

import os


def runner() -> tuple:
    """``(run, info)``: ``info`` is the malloc setting this process saw and whether
    ``import coursekit`` changed glibc's thresholds."""
    import coursekit

    info = {"COURSEKIT_MALLOC": os.environ.get("COURSEKIT_MALLOC"),
            "installed": coursekit.memory.installed()}  # fmt: skip
    return (lambda: 0.0), info
