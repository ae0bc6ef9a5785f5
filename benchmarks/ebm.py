"""Benchmark: Langevin steps through the week 2 CNN energy, and EBM training at uvadlc's settings.

For each implementation (``coursekit.torch``, ``coursekit.keras`` on the tensorflow backend
and, in a subprocess, on the torch backend) it times

* **Langevin**: ``langevin(-E, x, step_size=10, noise_scale=0.005, grad_clip=0.03,
  clamp=(-1, 1))`` on a batch of 128 MNIST-shaped images: each step is one forward pass of the
  CNN energy and one backward pass for the input gradient;
* **EBM epoch**: ``EBM.train_step`` at the uvadlc tutorial's settings (batch 128, 60 Langevin
  steps per update, replay buffer), timed over a few updates and scaled to one epoch of 60,000
  images (469 updates).

Each is set next to its floating-point work (the convolutions and dense layers as GEMMs:
``2 m k n`` flops each; a Langevin step is a forward and an input-gradient pass, 2x forward; a
training update adds a forward pass over data and samples and its backward pass, 3x forward)
at the best **large**-matmul rate measured in the same run (square GEMMs of 1024 and 2048, the
fastest of NumPy's BLAS and torch): the machine's peak. The ratio says how far from that peak
the code runs; small convolutions cannot reach it, so 1x is out of reach, and the target is 3x.

    python benchmarks/ebm.py           # the full benchmark, results in benchmarks/results/
    python benchmarks/ebm.py --quick   # seconds, for a smoke test of the script

Writes ``benchmarks/results/ebm.md`` and ``benchmarks/results/ebm.json``.
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

EPOCH_IMAGES = 60_000
CHANNELS = (16, 32, 64, 64)
HIDDEN = 64


def cnn_gemms(batch: int) -> list[tuple[int, int, int]]:
    """The CNN energy's forward pass as GEMMs (im2col): (m, k, n) per layer for ``batch`` images."""
    c1, c2, c3, c4 = CHANNELS
    return [
        (batch * 16 * 16, 5 * 5 * 1, c1),
        (batch * 8 * 8, 3 * 3 * c1, c2),
        (batch * 4 * 4, 3 * 3 * c2, c3),
        (batch * 2 * 2, 3 * 3 * c3, c4),
        (batch, 4 * c4, HIDDEN),
        (batch, HIDDEN, 1),
    ]


def forward_flops(batch: int) -> int:
    return sum(harness.gemm_flops(*g) for g in cnn_gemms(batch))


def peak_gflops(quick: bool) -> tuple[float, dict]:
    """Best GFLOP/s over large square GEMMs and libraries, and the raw seconds."""
    sizes = [(256, 256, 256)] if quick else [(1024, 1024, 1024), (2048, 2048, 2048)]
    secs = harness.matmul_seconds(sizes, repeats=5, inner=5)
    best = max(harness.gemm_flops(*map(int, k.split(","))) / s / 1e9
               for k, entry in secs.items() for s in entry.values())
    return best, secs


def time_impl(impl: str, args: argparse.Namespace) -> list[dict]:
    """Time Langevin steps and EBM updates with ``impl`` ("torch" or "keras")."""
    rng = np.random.default_rng(0)
    if impl == "torch":
        import torch

        from coursekit.torch import EBM, CNNEnergy, langevin

        torch.manual_seed(0)
        shape, energy = (1, 28, 28), CNNEnergy(CHANNELS, HIDDEN)
    else:
        from coursekit.keras import EBM, cnn_energy, langevin

        shape, energy = (28, 28, 1), cnn_energy(CHANNELS, HIDDEN)
    ebm = EBM(energy, shape, n_steps=args.steps, buffer_size=max(1024, args.batch), seed=0)
    x0 = rng.uniform(-1, 1, (args.batch, *shape)).astype(np.float32)
    data = rng.uniform(-1, 1, (args.batch, *shape)).astype(np.float32)

    def chains():
        langevin(ebm.log_prob, x0, step_size=10.0, noise_scale=0.005, grad_clip=0.03,
                 clamp=(-1, 1), n_steps=args.langevin_steps, seed=0)

    def updates():
        for _ in range(args.updates):
            ebm.train_step(data)

    rows = []
    t = harness.time_it(f"{impl} langevin", chains, repeats=args.repeats, warmup=1)
    rows.append({"impl": impl, "workload": "langevin", "timing": t.as_dict()})
    t = harness.time_it(f"{impl} updates", updates, repeats=args.repeats, warmup=1)
    rows.append({"impl": impl, "workload": "updates", "timing": t.as_dict()})
    return rows


def run_in_subprocess(backend: str, args: argparse.Namespace) -> list[dict]:
    """Run the Keras timings under another Keras backend (it is fixed at import)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rows.json"
        cmd = [sys.executable, __file__, "--impl", "keras", "--rows-only", str(out),
               "--batch", str(args.batch), "--steps", str(args.steps),
               "--langevin-steps", str(args.langevin_steps), "--updates", str(args.updates),
               "--repeats", str(args.repeats)]
        subprocess.run(cmd, check=True, env={**os.environ, "KERAS_BACKEND": backend})
        return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=60, help="Langevin steps per update")
    parser.add_argument("--langevin-steps", type=int, default=20, help="steps per timed chain")
    parser.add_argument("--updates", type=int, default=2, help="EBM updates per timed run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--impl", nargs="+", default=["torch", "keras", "keras-torch"],
                        choices=["torch", "keras", "keras-torch"])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the script runs")
    parser.add_argument("--out", type=Path, default=harness.RESULTS)
    parser.add_argument("--rows-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.batch, args.steps, args.langevin_steps, args.updates, args.repeats = 8, 2, 2, 1, 1

    import coursekit as ck

    ck.seed_everything(0)
    import torch

    torch.set_num_threads(ck.num_threads())
    # the peak first, before any framework has started its thread pools
    peak, peak_secs = (None, None) if args.rows_only else peak_gflops(args.quick)

    rows: list[dict] = []
    for impl in args.impl:
        if impl == "keras-torch":
            rows += run_in_subprocess("torch", args)
            continue
        found = time_impl(impl, args)
        if impl == "keras":
            import keras

            for row in found:
                row["impl"] = f"keras[{keras.backend.backend()}]"
        rows += found
    if args.rows_only:
        args.rows_only.write_text(json.dumps(rows))
        return 0

    b = args.batch
    step_flops = 2 * forward_flops(b)  # forward + input gradient
    update_flops = args.steps * step_flops + 3 * forward_flops(2 * b)
    updates_per_epoch = -(-EPOCH_IMAGES // b)
    table_rows, record_rows = [], []
    for row in rows:
        median = row["timing"]["median"]
        if row["workload"] == "langevin":
            per_step = median / args.langevin_steps
            bound = step_flops / (peak * 1e9)
            what, rate, value = "Langevin step", f"{1 / per_step:.1f} steps/s", per_step
        else:
            per_update = median / args.updates
            bound = update_flops / (peak * 1e9) * updates_per_epoch
            value = per_update * updates_per_epoch
            what, rate = "EBM epoch", f"{value:.0f} s/epoch ({1 / per_update:.2f} updates/s)"
            per_step = value
        ratio = (value if row["workload"] != "langevin" else per_step) / bound
        record_rows.append({**row, "bound_seconds": bound, "measured_seconds": value,
                            "ratio": ratio, "limit": 3.0})
        table_rows.append([row["impl"], what, rate, f"{value:.4g}", f"{bound:.4g}",
                           f"{ratio:.2f}x", "<= 3x"])
    table = "\n".join([
        f"# EBM benchmark (CNN energy, batch {b})",
        "",
        harness.markdown_table(
            ["implementation", "workload", "rate", "measured s", "peak-matmul bound s", "ratio",
             "target"], table_rows),
        "",
        f"Bound: the workload's GEMM flops at the best large-matmul rate measured in this run, "
        f"{peak:.1f} GFLOP/s (square GEMMs, fastest of NumPy and torch). A Langevin step of "
        f"{b} images is {step_flops / 1e6:.0f} MFLOP (forward + input gradient); an update at "
        f"{args.steps} steps is {update_flops / 1e9:.2f} GFLOP; an epoch is {updates_per_epoch} "
        f"updates, timed over {args.updates} updates x {args.repeats} repeats and scaled.",
        f"Langevin: median of {args.repeats} runs of {args.langevin_steps} steps after a warm-up.",
        f"Machine: {harness.machine()['processor']}, {ck.num_threads()} threads; load average "
        f"at the end {os.getloadavg()[0]:.1f} (other jobs slow every number).",
    ])
    record = {
        "benchmark": "ebm",
        "config": {k: str(v) for k, v in vars(args).items()},
        "peak_gflops": peak,
        "matmul_seconds": peak_secs,
        "step_flops": step_flops,
        "update_flops": update_flops,
        "rows": record_rows,
        "machine": harness.machine(),
    }
    json_path, md_path = harness.write_results("ebm", record, table, out=args.out)
    print(table)
    print(f"\nwritten: {md_path} and {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
