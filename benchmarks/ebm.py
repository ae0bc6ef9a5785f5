"""Benchmark: EBM training at uvadlc's settings against the tutorial itself, and Langevin steps.

Four rows, each in a process of its own (:mod:`series`), taking turns round after round:
``coursekit.torch``, ``coursekit.keras`` on the tensorflow backend, ``coursekit.keras`` on the
torch backend, and the **peer**, the uvadlc EBM tutorial re-implemented in plain PyTorch
(:mod:`peer_ebm`, whose docstring names the source and every deviation).

One timed **sample** is ``--updates`` EBM updates on a batch of 128 MNIST-shaped images (each:
60 Langevin steps from the 8,192-image replay buffer with 5% restarts, then one forward and
backward pass over data and samples, gradient-norm clipping at 0.1 and an Adam step), the same
work in every row; after the updates, outside their time, the sample also times one Langevin
chain of ``--langevin-steps`` steps on 128 noise images (step 10, noise 0.005, gradient clip
0.03, clamp to [-1, 1]), reported per step.

Each time is set next to its floating-point work (the convolutions and dense layers as GEMMs,
``2 m k n`` flops each; a Langevin step is a forward and an input-gradient pass, 2x forward; an
update adds a forward pass over data and samples and its backward pass, 3x forward) at the peak:
the best rate of large square matmuls (:func:`harness.peak_rate`), measured after every round in
the same run, the best kept. "x bound" is measured / bound (the issue's limit: 4x); "x peer" is
the peer's time / the row's time in the same run (above 1: faster than the peer). The whole
interleaved series runs ``--runs`` times (two by default, fresh processes each time); the table
gives both runs and its verdicts take the worse.

    python benchmarks/ebm.py           # the full benchmark, results in benchmarks/results/
    python benchmarks/ebm.py --quick   # seconds, for a smoke test of the script

Writes ``benchmarks/results/ebm.md`` and ``benchmarks/results/ebm.json``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from series import Series, interleaved  # noqa: E402

EPOCH_IMAGES = 60_000
CHANNELS = (16, 32, 64, 64)
HIDDEN = 64
LIMIT = 4.0  # the bound for EBM rows: within 4x of the peak-matmul bound
PEER = "peer"
#: (option, full value, --quick value, meaning)
SIZES = [
    ("--batch", 128, 8, "images per update"),
    ("--steps", 60, 2, "Langevin steps per update"),
    ("--langevin-steps", 20, 2, "steps of the separately timed chain"),
    ("--updates", 2, 1, "EBM updates per timed sample"),
    ("--rounds", 7, 2, "timed samples per row and run"),
    ("--runs", 2, 1, "whole interleaved runs, fresh processes each"),
]
#: --impl choice -> (row label, worker factory, environment of its process)
ROWS = {
    "torch": ("torch", "ebm:coursekit_runner", {}),
    "keras": ("keras[tensorflow]", "ebm:coursekit_runner", {"KERAS_BACKEND": "tensorflow"}),
    "keras-torch": ("keras[torch]", "ebm:coursekit_runner", {"KERAS_BACKEND": "torch"}),
    "peer": (PEER, "peer_ebm:runner", {}),
}


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


def coursekit_runner(impl: str, batch: int, steps: int, updates: int, langevin_steps: int,
                     seed: int = 0) -> tuple:  # fmt: skip
    """Series worker: coursekit's EBM (``impl`` "torch" or "keras", the Keras backend from the
    process's ``KERAS_BACKEND``) at the tutorial's settings; ``run()`` times ``updates`` calls of
    ``EBM.train_step`` and, as an extra, one ``langevin`` chain of ``langevin_steps`` steps."""
    import coursekit as ck  # first: the thread pools, as in the notebooks

    rng = np.random.default_rng(seed)
    if impl == "torch":
        import torch

        from coursekit.torch import EBM, CNNEnergy, langevin

        torch.manual_seed(seed)
        shape, energy = (1, 28, 28), CNNEnergy(CHANNELS, HIDDEN)
        info = {"impl": "torch", "torch": torch.__version__}
    else:
        import keras

        from coursekit.keras import EBM, cnn_energy, langevin

        shape, energy = (28, 28, 1), cnn_energy(CHANNELS, HIDDEN)
        info = {"impl": f"keras[{keras.backend.backend()}]", "keras": keras.__version__}
        if keras.backend.backend() == "tensorflow":
            info["tensorflow"] = sys.modules["tensorflow"].__version__
    ebm = EBM(energy, shape, n_steps=steps, seed=seed)  # buffer 8192, 5% restarts, clip 0.1
    data = rng.uniform(-1, 1, (batch, *shape)).astype(np.float32)
    x0 = rng.uniform(-1, 1, (batch, *shape)).astype(np.float32)

    def run() -> tuple[float, dict]:
        t0 = time.perf_counter()
        for _ in range(updates):
            ebm.train_step(data)
        t1 = time.perf_counter()
        langevin(ebm.log_prob, x0, step_size=10.0, noise_scale=0.005, grad_clip=0.03,
                 clamp=(-1, 1), n_steps=langevin_steps, seed=0)
        return t1 - t0, {"langevin": time.perf_counter() - t1}

    return run, {**info, "threads": ck.num_threads()}


def measure(args: argparse.Namespace, sizes: tuple[int, ...]) -> list[dict]:
    """``args.runs`` interleaved runs of the chosen rows; per run the samples and the peaks."""
    kwargs = {"batch": args.batch, "steps": args.steps, "updates": args.updates,
              "langevin_steps": args.langevin_steps}
    series = []
    for impl in args.impl:
        label, factory, env = ROWS[impl]
        extra = {} if impl == "peer" else {"impl": "torch" if impl == "torch" else "keras"}
        series.append(Series(label, factory, {**extra, **kwargs}, env))
    runs = []
    for r in range(args.runs):
        print(f"run {r + 1}/{args.runs}: {len(series)} rows x {args.rounds} rounds", flush=True)
        peaks: list[dict] = []
        samples = interleaved(series, args.rounds, warmup=1, between=peak_meter(peaks, sizes))
        runs.append({"samples": samples, "peaks": peaks, "peak": harness.best_peak(peaks)})
    return runs


def peak_meter(peaks: list[dict], sizes: tuple[int, ...]):
    """The ``between`` callback: a peak measurement after each round, appended to ``peaks``."""
    return lambda _round: peaks.append(harness.peak_rate(sizes))


def summarise(args: argparse.Namespace, runs: list[dict]) -> list[dict]:
    """One record row per (row, workload): per-run medians per unit, x bound and x peer."""
    b = args.batch
    step_flops = 2 * forward_flops(b)
    update_flops = args.steps * step_flops + 3 * forward_flops(2 * b)
    rows = []
    for workload, flops, per in (("updates", update_flops, args.updates),
                                 ("langevin", step_flops, args.langevin_steps)):
        for impl in args.impl:
            label = ROWS[impl][0]
            samples, secs, bounds = [], [], []
            for run in runs:
                s = run["samples"][label]
                got = s.seconds if workload == "updates" else [e["langevin"] for e in s.extras]
                samples.append(got)
                secs.append(statistics.median(got) / per)
                bounds.append(flops / (run["peak"]["gflops"] * 1e9))
            rows.append({"impl": label, "workload": workload, "samples": samples,
                         "seconds": secs, "bound_seconds": bounds,
                         "x_bound": [s / bd for s, bd in zip(secs, bounds, strict=True)],
                         "limit": LIMIT})
    for row in rows:
        row["x_bound_max"] = max(row["x_bound"])
        peer = next((p for p in rows if p["impl"] == PEER and p["workload"] == row["workload"]),
                    None)  # fmt: skip
        if peer is not None:
            row["x_peer"] = [p / s for p, s in zip(peer["seconds"], row["seconds"], strict=True)]
            row["x_peer_min"] = min(row["x_peer"])
        row["verdict"] = verdict(row)
    return rows


def verdict(row: dict) -> str:
    """Against the peer (the worse run) and against the bound limit (the worse run)."""
    parts = []
    if row["impl"] == PEER:
        parts.append("the peer")
    elif "x_peer_min" in row:
        parts.append("faster than peer" if row["x_peer_min"] >= 1.0 else "SLOWER than peer")
    ok = row["x_bound_max"] <= row["limit"]
    parts.append(f"within {row['limit']:g}x of bound" if ok else f"OVER {row['limit']:g}x bound")
    return "; ".join(parts)


def both(values: list[float], fmt: str) -> str:
    return " / ".join(format(v, fmt) for v in values)


def spread(values: list[float]) -> str:
    return f"{(max(values) - min(values)) / min(values):.0%}" if len(values) > 1 else "-"


def render(args: argparse.Namespace, runs: list[dict], rows: list[dict], threads: int) -> str:
    """The markdown report: two tables, then machine, peaks, protocol and the peer."""
    b, per_epoch = args.batch, -(-EPOCH_IMAGES // args.batch)
    n_runs = f"run 1 / run {len(runs)}" if len(runs) > 1 else "one run"
    update_rows, chain_rows = [], []
    for row in rows:
        xp = both(row["x_peer"], ".2f") if "x_peer" in row else "-"
        cells = [both(row["x_bound"], ".2f"), xp, spread(row["seconds"]), row["verdict"]]
        if row["workload"] == "updates":
            update_rows.append([row["impl"], both(row["seconds"], ".3f"),
                                both([s * per_epoch for s in row["seconds"]], ".0f"), *cells])
        else:
            chain_rows.append([row["impl"], both([s * 1e3 for s in row["seconds"]], ".2f"),
                               *cells])
    tail = ["x bound", "x peer", "run spread", "verdict"]
    peaks = "; ".join(f"run {i + 1}: {r['peak']['gflops']:.1f} GFLOP/s ({r['peak']['best_case']},"
                      f" best of {len(r['peaks'])})" for i, r in enumerate(runs))  # fmt: skip
    info = {k: v for r in runs for s in r["samples"].values() for k, v in s.info.items()
            if k in ("torch", "keras", "tensorflow")}  # fmt: skip
    m = harness.machine()
    step_flops = 2 * forward_flops(b)
    update_flops = args.steps * step_flops + 3 * forward_flops(2 * b)
    return "\n".join([
        f"# EBM benchmark: CNN energy, batch {b}, {args.steps} Langevin steps per update, against "
        "the uvadlc tutorial",
        "",
        f"Whole updates, the rows compared with the peer (each cell: {n_runs}; the verdicts "
        "take the worse run):",
        "",
        harness.markdown_table(["implementation", "s per update", f"s per epoch ({per_epoch} "
                                "updates)", *tail], update_rows),  # fmt: skip
        "",
        f"Langevin chains alone ({args.langevin_steps} steps on {b} noise images, timed in the "
        "same samples after the updates; coursekit's chains evaluate the gradient once more "
        "than they step):",
        "",
        harness.markdown_table(["implementation", "ms per step", *tail], chain_rows),
        "",
        f"Machine: {m['processor']}, {threads} thread(s) in every row ({m['cpus_available']} "
        f"CPUs available); Python {m['python']}, "
        + ", ".join(f"{k} {v}" for k, v in sorted(info.items()))
        + f"; load average at the end {os.getloadavg()[0]:.1f} (other jobs slow every number).",
        f"Peak (best large square matmul, NumPy or torch, measured after every round): {peaks}.",
        f"Protocol: each row in a process of its own, built alone, one warm-up sample, then "
        f"{args.rounds} rounds in which every row times one sample in turn; {len(runs)} run(s), "
        f"fresh processes each. One sample = {args.updates} update(s) of batch {b} "
        f"({update_flops / 1e9:.2f} GFLOP each: {args.steps} Langevin steps of "
        f"{step_flops / 1e6:.0f} MFLOP and the parameter update), then a {args.langevin_steps}-"
        "step chain timed on its own. Times are medians over the rounds, per update or per step; "
        "x bound = time / (flops at the peak of the same run); x peer = the peer's time / the "
        "row's time in the same run (above 1: faster than the peer); run spread = (slower - "
        "faster) / faster of the runs' medians.",
        "Peer: P. Lippe's UvA tutorial 8, \"Deep Energy-Based Generative Models\" (after Du and "
        "Mordatch 2019), in plain PyTorch (benchmarks/peer_ebm.py): its CNNModel, Sampler (a list "
        "buffer of 8,192 images, 5% fresh noise) and training step with Adam(1e-4, betas (0, "
        "0.999)) and gradient-norm clipping 0.1, as Lightning runs them. Deviations: no Lightning "
        "(logging, callbacks, checkpoints, validation and the per-epoch LR scheduler left out), "
        "no DataLoader or torchvision (one preloaded uniform batch, cloned per update), CPU, "
        "seeds 42, threads set by importing coursekit as in every row.",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag, full, quick, what in SIZES:
        parser.add_argument(flag, type=int, default=None,
                            help=f"{what} (default {full}; {quick} with --quick)")
    parser.add_argument("--impl", nargs="+", default=list(ROWS), choices=list(ROWS))
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes (explicit options still win): checks the script runs")
    parser.add_argument("--out", type=Path, default=harness.RESULTS)
    args = parser.parse_args(argv)
    for flag, full, quick, _ in SIZES:
        name = flag[2:].replace("-", "_")
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    sizes = (256,) if args.quick else (2048, 3072, 4096)
    args.impl = list(dict.fromkeys(args.impl))

    import coursekit as ck

    threads = ck.num_threads()
    runs = measure(args, sizes)
    rows = summarise(args, runs)
    table = render(args, runs, rows, threads)
    step_flops = 2 * forward_flops(args.batch)
    record = {
        "benchmark": "ebm",
        "config": {k: str(v) for k, v in vars(args).items()},
        "limit": LIMIT,
        "step_flops": step_flops,
        "update_flops": args.steps * step_flops + 3 * forward_flops(2 * args.batch),
        "runs": [{"peak": r["peak"], "peaks": r["peaks"],
                  "series_info": {k: s.info for k, s in r["samples"].items()}} for r in runs],
        "rows": rows,
        "machine": {**harness.machine(), "threads": threads},
    }
    json_path, md_path = harness.write_results("ebm", record, table, out=args.out, peers=True)
    print(table)
    print(f"\nwritten: {md_path} and {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
