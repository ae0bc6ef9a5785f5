"""Benchmark: one epoch of CD-1 and of PCD-1 for a 784-500 RBM over 60,000 images, batch 100.

For each implementation (``coursekit.torch.RBM``, ``coursekit.keras.RBM`` on the tensorflow
backend and, in a subprocess, on the torch backend) it times ``fit(epochs=1)`` and compares it
with the time the epoch's matrix multiplications take at this machine's matmul rate, measured in
the same run for the same shapes (the fastest of NumPy's BLAS and torch). Per batch of B rows:

* CD-1: 5 GEMMs of 2*B*n_v*n_h flops: p(h|x) at the data, p(x|h), p(h|x_1), and the two outer
  products <x h^T> of the positive and the negative phase.
* PCD-1: 6 GEMMs: the persistent chain needs its own p(h|x) before it can move.

    python benchmarks/rbm.py           # the full benchmark, results in benchmarks/results/
    python benchmarks/rbm.py --quick   # seconds, for a smoke test of the script

Writes ``benchmarks/results/rbm.md`` and ``benchmarks/results/rbm.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402


def training_data(n: int, n_visible: int) -> tuple[np.ndarray, str]:
    """``n`` binary MNIST rows [n, 784] (tiled if fewer are available here) and their origin."""
    import coursekit as ck

    images, _ = ck.data.load_mnist("train")
    rows = ck.data.binarize(ck.data.flatten(images)).astype(np.float32)
    origin = ck.data.source("mnist", "train")
    if n_visible != rows.shape[1]:  # synthetic sizes for --quick
        rng = np.random.default_rng(0)
        return (rng.random((n, n_visible)) < 0.13).astype(np.float32), "random binary"
    if len(rows) < n:
        origin += f", {len(rows):,} rows tiled to {n:,}"
        rows = np.resize(rows, (n, rows.shape[1]))
    return rows[:n], origin


def make_rbm(impl: str, n_visible: int, n_hidden: int, persistent: bool):
    if impl == "torch":
        from coursekit.torch import RBM
    else:
        from coursekit.keras import RBM
    return RBM(n_visible, n_hidden, k=1, persistent=persistent, eta=0.01, seed=0)


def time_epochs(impl: str, data: np.ndarray, args: argparse.Namespace) -> list[dict]:
    """Time one epoch of CD-1 and PCD-1 with ``impl`` ("torch" or "keras")."""
    rows = []
    for method in ("cd", "pcd"):
        rbm = make_rbm(impl, data.shape[1], args.hidden, persistent=method == "pcd")

        def epoch(rbm=rbm):
            rbm.fit(data, epochs=1, batch_size=args.batch, binarize=None, progress=False)

        timing = harness.time_it(f"{impl} {method}", epoch, repeats=args.repeats, warmup=1)
        rows.append({"impl": impl, "method": method, "timing": timing.as_dict()})
    return rows


def keras_backend_label() -> str:
    import keras

    return f"keras[{keras.backend.backend()}]"


def run_in_subprocess(backend: str, args: argparse.Namespace) -> list[dict]:
    """Run the Keras timings under another Keras backend (it is fixed at import)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rows.json"
        cmd = [
            sys.executable,
            __file__,
            "--impl",
            "keras",
            "--rows-only",
            str(out),
            "--n",
            str(args.n),
            "--visible",
            str(args.visible),
            "--hidden",
            str(args.hidden),
            "--batch",
            str(args.batch),
            "--repeats",
            str(args.repeats),
        ]
        env = {**os.environ, "KERAS_BACKEND": backend}
        subprocess.run(cmd, check=True, env=env)
        return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60_000, help="training rows (default 60,000)")
    parser.add_argument("--visible", type=int, default=784)
    parser.add_argument("--hidden", type=int, default=500)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--impl",
        nargs="+",
        default=["torch", "keras", "keras-torch"],
        choices=["torch", "keras", "keras-torch"],
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the script runs")
    parser.add_argument("--out", type=Path, default=harness.RESULTS)
    parser.add_argument("--rows-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.visible, args.hidden, args.repeats = 2_000, 64, 32, 1

    import coursekit as ck

    ck.seed_everything(0)
    import torch

    torch.set_num_threads(ck.num_threads())
    data, origin = training_data(args.n, args.visible)

    b, v, h = args.batch, args.visible, args.hidden
    # GEMM shapes (m, k, n) per batch: x@W, h@W^T, x_1@W, and the outer products x^T@p_h
    per_shape = {"cd": [(b, v, h), (b, h, v), (b, v, h), (v, b, h), (v, b, h)]}
    per_shape["pcd"] = per_shape["cd"] + [(b, v, h)]  # the chain's own p(h|x)
    # Measured first, in a process where no framework has started its thread pools yet:
    # after TensorFlow has run, its spinning threads slow every other library's matmuls.
    rates = None if args.rows_only else harness.matmul_seconds(sorted(set(per_shape["pcd"])))

    rows: list[dict] = []
    for impl in args.impl:
        if impl == "keras-torch":
            rows += run_in_subprocess("torch", args)
            continue
        found = time_epochs(impl, data, args)
        if impl == "keras":
            for row in found:
                row["impl"] = keras_backend_label()
        rows += found
    if args.rows_only:
        args.rows_only.write_text(json.dumps(rows))
        return 0

    batches = -(-args.n // b)
    table_rows, record_rows = [], []
    for row in rows:
        bound, gflops = harness.bound_seconds(per_shape[row["method"]], rates, count=batches)
        median = row["timing"]["median"]
        ratio = median / bound
        limit = 2.0 if row["impl"] == "torch" else 3.0
        record_rows.append({**row, "bound_seconds": bound, "ratio": ratio, "limit": limit})
        table_rows.append(
            [
                row["impl"],
                row["method"].upper() + "-1",
                f"{median:.2f}",
                f"{row['timing']['min']:.2f}-{row['timing']['max']:.2f}",
                f"{bound:.2f}",
                f"{ratio:.2f}x",
                f"<= {limit:.0f}x",
            ]
        )
    flops = harness.gemm_flops(b, v, h)
    gflops_text = ", ".join(f"{k}: {flops / min(t.values()) / 1e9:.1f}" for k, t in rates.items())
    table = "\n".join(
        [
            f"# RBM epoch benchmark ({v}-{h}, {args.n:,} rows, batch {b})",
            "",
            harness.markdown_table(
                [
                    "implementation",
                    "rule",
                    "epoch s (median)",
                    "range s",
                    "matmul bound s",
                    "ratio",
                    "target",
                ],
                table_rows,
            ),
            "",
            f"Matmul bound: {len(per_shape['cd'])} (CD) or {len(per_shape['pcd'])} (PCD) GEMMs per "
            f"batch at the rate measured in this run (GFLOP/s by shape m,k,n: {gflops_text}).",
            f"Data: {origin}. Median of {args.repeats} epochs after one warm-up epoch.",
            f"Machine: {harness.machine()['processor']}, {ck.num_threads()} threads.",
        ]
    )
    record = {
        "benchmark": "rbm",
        "config": {k: str(val) for k, val in vars(args).items()},
        "data": origin,
        "matmul_seconds": rates,
        "rows": record_rows,
        "machine": harness.machine(),
    }
    json_path, md_path = harness.write_results("rbm", record, table, out=args.out)
    print(table)
    print(f"\nwritten: {md_path} and {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
