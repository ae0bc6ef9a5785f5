"""The benchmark harness every week's script uses.

A benchmark here answers one question: how close does our code get to what this machine can do?
So each script times its workload *and*, in the same run, what the machine can do, and reports
the ratio, against two yardsticks:

* the **peak**: the best rate of large square float32 matrix products (:func:`peak_rate`, e.g.
  2048^3 to 4096^3) measured in the same run, on the same threads; the honest limit, since no
  workload made of matrix products can beat it;
* the **own shapes**: the rate of the workload's own (often small) matrix products
  (:func:`matmul_seconds`), which shows how much of the gap is the shapes themselves.

Timings are medians of several repeats after a warm-up, taken with :func:`time.perf_counter`;
a shared, busy machine slows a run down, so a script measures the peak more than once and
keeps the best (the strictest bound).

Results go to ``benchmarks/results/<name>.json`` (the full record, machine details included)
and ``benchmarks/results/<name>.md`` (the table), both written atomically.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from coursekit.io import atomic_write_text

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Timing:
    """Seconds of ``repeats`` timed runs (after ``warmup`` untimed ones)."""

    name: str
    samples: list[float] = field(default_factory=list)
    warmup: int = 1

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def spread(self) -> tuple[float, float]:
        return min(self.samples), max(self.samples)

    def as_dict(self) -> dict:
        return {**asdict(self), "median": self.median, "min": self.spread[0], "max": self.spread[1]}


def time_it(
    name: str,
    fn: Callable[[], object],
    *,
    repeats: int = 5,
    warmup: int = 1,
    sync: Callable[[], object] | None = None,
) -> Timing:
    """Time ``fn()``: ``warmup`` untimed calls, then ``repeats`` timed ones.

    ``sync`` runs after each call inside the timed region (e.g. ``torch.cuda.synchronize``),
    so asynchronous work is counted.
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f"repeats must be >= 1 and warmup >= 0, got {repeats} and {warmup}.")
    for _ in range(warmup):
        fn()
        if sync is not None:
            sync()
    timing = Timing(name=name, warmup=warmup)
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        if sync is not None:
            sync()
        timing.samples.append(time.perf_counter() - start)
    return timing


def gemm_flops(m: int, k: int, n: int) -> int:
    """Floating-point operations of an [m, k] @ [k, n] product (one multiply and one add each)."""
    return 2 * m * k * n


def matmul_seconds(
    shapes: Sequence[tuple[int, int, int]],
    *,
    repeats: int = 7,
    inner: int = 20,
    dtype: str = "float32",
) -> dict[str, dict]:
    """Measured seconds of one [m,k]@[k,n] product per shape, for every library available here.

    NumPy (its BLAS) always; torch if installed. Each entry: ``{"m,k,n": {"numpy": s, ...}}``
    with the median over ``repeats`` of the mean over ``inner`` back-to-back products.
    """
    libraries: dict[str, Callable[[int, int, int], Callable[[], object]]] = {}
    rng = np.random.default_rng(0)

    def numpy_case(m: int, k: int, n: int) -> Callable[[], object]:
        a = rng.random((m, k), dtype=np.float32).astype(dtype)
        b = rng.random((k, n), dtype=np.float32).astype(dtype)
        out = np.empty((m, n), dtype=dtype)
        return lambda: [np.matmul(a, b, out=out) for _ in range(inner)]

    libraries["numpy"] = numpy_case
    try:
        import torch

        def torch_case(m: int, k: int, n: int) -> Callable[[], object]:
            a = torch.rand(m, k, dtype=getattr(torch, dtype))
            b = torch.rand(k, n, dtype=getattr(torch, dtype))
            out = torch.empty(m, n, dtype=getattr(torch, dtype))
            return lambda: [torch.mm(a, b, out=out) for _ in range(inner)]

        libraries["torch"] = torch_case
    except ImportError:  # pragma: no cover
        pass

    result: dict[str, dict] = {}
    for m, k, n in shapes:
        entry = {}
        for lib, make in libraries.items():
            timing = time_it(f"{lib} {m}x{k}x{n}", make(m, k, n), repeats=repeats, warmup=2)
            entry[lib] = timing.median / inner
        result[f"{m},{k},{n}"] = entry
    return result


def peak_rate(
    sizes: Sequence[int] = (2048, 3072, 4096),
    *,
    repeats: int = 3,
    dtype: str = "float32",
) -> dict:
    """The machine's peak: the best GFLOP/s of large square ``[s, s] @ [s, s]`` products.

    Every size in ``sizes`` with NumPy's BLAS and with torch (if installed), each the best of
    ``repeats`` timed products after one untimed. Returns ``{"gflops": best, "by_case":
    {"torch 2048": GFLOP/s, ...}, "best_case": "torch 4096"}``.
    """
    if not sizes or repeats < 1:
        raise ValueError(f"need at least one size and repeats >= 1, got {sizes}, {repeats}")
    rng = np.random.default_rng(1)
    by_case: dict[str, float] = {}
    for size in sizes:
        a = rng.random((size, size), dtype=np.float32).astype(dtype)
        b = rng.random((size, size), dtype=np.float32).astype(dtype)
        out = np.empty((size, size), dtype=dtype)
        cases: dict[str, Callable[[], object]] = {
            "numpy": lambda a=a, b=b, out=out: np.matmul(a, b, out=out)
        }
        try:
            import torch

            t = [torch.from_numpy(arr) for arr in (a, b, out)]
            cases["torch"] = lambda t=t: torch.mm(t[0], t[1], out=t[2])
        except ImportError:  # pragma: no cover
            pass
        for lib, fn in cases.items():
            timing = time_it(f"{lib} {size}", fn, repeats=repeats, warmup=1)
            by_case[f"{lib} {size}"] = gemm_flops(size, size, size) / min(timing.samples) / 1e9
    best_case = max(by_case, key=by_case.__getitem__)
    return {"gflops": by_case[best_case], "by_case": by_case, "best_case": best_case}


def best_peak(peaks: Sequence[dict]) -> dict:
    """The highest of several :func:`peak_rate` results (the strictest bound of a run)."""
    if not peaks:
        raise ValueError("no peak measurements")
    return max(peaks, key=lambda p: p["gflops"])


def bound_seconds(
    gemms: Sequence[tuple[int, int, int]], rates: dict[str, dict], count: int = 1
) -> tuple[float, dict[str, float]]:
    """Seconds the GEMMs ``gemms`` (repeated ``count`` times) take at the measured rates.

    Uses the fastest library for each shape, so the bound is the strictest one this machine
    supports. Returns the bound and, per shape, the GFLOP/s used.
    """
    total = 0.0
    gflops = {}
    for m, k, n in gemms:
        best = min(rates[f"{m},{k},{n}"].values())
        total += best
        gflops[f"{m},{k},{n}"] = gemm_flops(m, k, n) / best / 1e9
    return total * count, gflops


def machine() -> dict:
    """What the numbers were measured on."""
    info = {
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "processor": _cpu_model(),
        "cpus_available": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "numpy": np.__version__,
        "argv": sys.argv,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:  # pragma: no cover
        pass
    for module in ("keras", "tensorflow"):
        if module in sys.modules:
            info[module] = sys.modules[module].__version__
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


#: Said under every table with peers: the one setting the rows' processes do not share.
MEMORY_NOTE = (
    "Memory: the coursekit rows run with the malloc thresholds `import coursekit` sets "
    "(coursekit/memory.py: freed large blocks stay in the heap, so a step reuses the previous "
    "step's memory), the peers with glibc's own (benchmarks/series.py, PEER_ENV), as a "
    "student's run of each would."
)


def write_results(name: str, record: dict, table: str, out: Path = RESULTS, *,
                  peers: bool = False) -> tuple[Path, Path]:  # fmt: skip
    """Write ``<out>/<name>.json`` and ``<out>/<name>.md`` atomically; return both paths. With
    ``peers``, the table ends with :data:`MEMORY_NOTE` and the record says the same."""
    if peers:
        table = table.rstrip("\n") + "\n\n" + MEMORY_NOTE
        record = {**record, "malloc": {"coursekit rows": "coursekit.memory (heap thresholds "
                                                         "raised)", "peers": "glibc's own"}}
    json_path = atomic_write_text(out / f"{name}.json", json.dumps(record, indent=2) + "\n")
    md_path = atomic_write_text(out / f"{name}.md", table + "\n")
    return json_path, md_path
