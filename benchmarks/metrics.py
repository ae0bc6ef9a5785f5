"""Benchmark: the course's yardstick, classifier FID of 10,000 samples, against the matmul bound.

The classifier's forward pass is three convolutions (as im2col matrix products) and two dense
layers. Per image the products are [784, 9] @ [9, 32], [196, 288] @ [288, 64],
[49, 576] @ [576, 128], [1, 128] @ [128, 128] and [1, 128] @ [128, 10]; the bound is the time
these take at the best large-matmul rate measured in the same run (the machine's peak), and
the ratio says how much the rest (padding, copies, pooling, the Fréchet distance) costs on top.

    python benchmarks/metrics.py           # 10,000 samples, results in benchmarks/results/
    python benchmarks/metrics.py --quick   # seconds, for a smoke test of the script
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

# (m per image, k, n) of the classifier's matrix products
PER_IMAGE = [(784, 9, 32), (196, 288, 64), (49, 576, 128), (1, 128, 128), (1, 128, 10)]
PEAK_SHAPES = [(2048, 2048, 2048), (4096, 4096, 4096)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="samples (default 10,000)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for tests")
    parser.add_argument("--out", type=Path, default=harness.RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.repeats = 600, 1

    import coursekit as ck
    from coursekit import metrics

    threads = ck.num_threads()
    peak_shapes = [(256, 256, 256)] if args.quick else PEAK_SHAPES
    rates = harness.matmul_seconds(peak_shapes, repeats=3, inner=1 if not args.quick else 2)
    peak = max(
        harness.gemm_flops(*map(int, key.split(","))) / min(v.values()) for key, v in rates.items()
    )

    images, _ = ck.data.load_mnist("test")
    x = ck.data.to_float(images)
    x = np.resize(x, (args.n, 28, 28))  # tiled if fewer images are here
    metrics.reference_stats()  # computed (or read from the cache) once, outside the timing
    classifier = metrics.load_classifier()

    def fresh(call):
        """``call`` on images the classifier has not seen: its memo of recent inputs (which
        spares notebooks a second pass over the same images) is emptied first."""

        def run():
            classifier._memo.clear()
            return call(x)

        return run

    fid_t = harness.time_it(
        "classifier_fid", fresh(metrics.classifier_fid), repeats=args.repeats, warmup=1
    )
    report_t = harness.time_it(
        "sample_report", fresh(metrics.sample_report), repeats=args.repeats, warmup=0
    )
    flops = args.n * sum(harness.gemm_flops(m, k, n) for m, k, n in PER_IMAGE)
    bound = flops / peak
    rows = [
        [
            name,
            f"{args.n:,}",
            f"{t.median:.2f}",
            f"{t.spread[0]:.2f}-{t.spread[1]:.2f}",
            f"{bound:.2f}",
            f"{t.median / bound:.1f}x",
        ]
        for name, t in (("classifier_fid", fid_t), ("sample_report", report_t))
    ]
    table = "\n".join(
        [
            f"# Yardstick benchmark: classifier FID of {args.n:,} samples",
            "",
            harness.markdown_table(
                ["call", "samples", "seconds (median)", "range s", "matmul bound s", "ratio"], rows
            ),
            "",
            f"Matmul bound: {flops / 1e9:.1f} GFLOP of im2col and dense products at the best "
            f"large-matmul rate of this run, {peak / 1e9:.0f} GFLOP/s ({threads} threads; "
            f"shapes {', '.join('x'.join(map(str, s)) for s in peak_shapes)}). The reference "
            f"statistics of the real test digits are cached and not timed. Median of "
            f"{args.repeats} runs.",
            f"Samples: {ck.data.source('mnist', 'test')}, tiled to {args.n:,}.",
            f"Machine: {harness.machine()['processor']}.",
        ]
    )
    record = {
        "n": args.n,
        "peak_gflops": peak / 1e9,
        "flops": flops,
        "bound_seconds": bound,
        "timings": [fid_t.as_dict(), report_t.as_dict()],
        "machine": harness.machine(),
    }
    if not args.quick or args.out != harness.RESULTS:  # quick runs never replace the real table
        harness.write_results("metrics", record, table, args.out)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
