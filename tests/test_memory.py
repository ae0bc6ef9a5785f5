"""``coursekit.memory``: glibc's mmap and trim thresholds raised at ``import coursekit``, so a
training loop's large arrays come back from the heap instead of as fresh pages every step."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from coursekit import memory

GLIBC = sys.platform.startswith("linux") and os.confstr("CS_GNU_LIBC_VERSION") is not None

_PROBE = """
import resource, sys
import numpy as np
if sys.argv[1] == "coursekit":
    import coursekit
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def step():  # a training step's activations: large arrays of a few sizes, held, then freed
    held = [np.ones(n, np.float32) for n in (3_400_000, 3_200_000, 1_600_000, 800_000) * 3]
    return len(held)
for _ in range(3):
    step()
before = faults()
for _ in range(20):
    step()
print(faults() - before)
"""

def _faults(mode: str, **env: str) -> int:
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True,
                         env={**os.environ, **env}, check=True, timeout=120)  # fmt: skip
    return int(out.stdout.split()[-1])


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's")
def test_import_coursekit_removes_the_page_faults_of_a_large_array_per_step():
    plain = _faults("plain")
    with_coursekit = _faults("coursekit")
    opted_out = _faults("coursekit", COURSEKIT_MALLOC="default")
    assert memory.installed()  # this test process imported coursekit too
    # glibc alone: fresh pages in every step (the 20 steps touch 2.2 GB: 527,000 pages of
    # 4 KiB, fewer faults where the kernel maps huge pages)
    assert plain > 20_000 and opted_out > 20_000
    assert with_coursekit < min(plain, opted_out) / 100


def test_a_bad_setting_is_refused_by_name(monkeypatch):
    monkeypatch.setitem(memory._state, "installed", False)
    monkeypatch.setenv(memory.MALLOC_ENV, "fast")
    with pytest.raises(ValueError, match=r"COURSEKIT_MALLOC must be 'heap' \(the default\) or "
                                         r"'default' .* got 'fast'"):  # fmt: skip
        memory.install()
