"""Benchmark: DCGAN training steps at batch 256, against the machine's peak and against a peer.

Model: the TensorFlow DCGAN tutorial's networks (generator 256-128-64 channels, discriminator
64-128, noise 100), as :class:`coursekit.torch.DCGAN` and :class:`coursekit.keras.DCGAN` (the
latter on the tensorflow and on the torch backend). One **step** is what the tutorial's
``train_step`` does: generator forward on a batch of noise, discriminator forward on the real and
the fake batch, the discriminator's gradient (its weights) and the generator's (through the
discriminator to the generator's weights), and both Adam updates.

Rows (each in a process of its own, :mod:`series`; ``coursekit`` imported first, so every row
runs on the same ``COURSEKIT_THREADS`` threads): coursekit torch, coursekit Keras on tensorflow,
coursekit Keras on torch, and the **peer**: the tutorial's own training loop re-implemented from
its public text (:mod:`peer_gan`, which names the source and every deviation). One **sample** of
a row is ``--steps`` training steps on real MNIST batches, data handling included (coursekit: the
batches ``fit`` would draw, given to ``train_step``; the peer: its ``tf.data`` pipeline and
Python loop). The rows take turns: round ``r`` times one sample of every row, then measures the
peak; a run has ``--rounds`` rounds after one warm-up sample per row, and the whole is done
``--runs`` times with fresh workers (the row order reversed in every other run).

Each row is reported as **x bound**, its seconds per step over the bound (the multiply-adds of
the step's dense layers and (transposed) convolutions, forward and backward as the step needs
them, at the best large-matmul rate measured in the same run, :func:`harness.peak_rate`;
element-wise work is not in the bound), and **x peer**, the peer's seconds per step over the
row's (above 1: coursekit is faster).

    python benchmarks/gan.py           # the full benchmark, results in benchmarks/results/
    python benchmarks/gan.py --quick   # seconds, for a smoke test of the script

Writes ``benchmarks/results/gan.md`` and ``benchmarks/results/gan.json``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from series import Series, interleaved  # noqa: E402

#: Limit on a row's step time over the bound (issue 11; issue 22: DCGAN rows within 1.5x).
TARGET = 1.5
PEER = {
    "name": "TensorFlow DCGAN tutorial",
    "source": "https://www.tensorflow.org/tutorials/generative/dcgan",
    "paper": "Radford, Metz and Chintala 2016, Unsupervised representation learning with deep "
    "convolutional generative adversarial networks, ICLR (arXiv:1511.06434)",
    "module": "benchmarks/peer_gan.py",
}
#: The rows: --impl name -> (label, factory, the series' kwargs, environment).
ROWS = {
    "torch": ("torch", "gan_rows:coursekit_row", {"impl": "torch"}, {}),
    "keras": ("keras[tensorflow]", "gan_rows:coursekit_row", {"impl": "keras"},
              {"KERAS_BACKEND": "tensorflow"}),
    "keras-torch": ("keras[torch]", "gan_rows:coursekit_row", {"impl": "keras"},
                    {"KERAS_BACKEND": "torch"}),
    "peer": ("peer", "peer_gan:peer_row", {}, {"KERAS_BACKEND": "tensorflow"}),
}  # fmt: skip
DISPLAY = {"torch": "coursekit torch", "keras[tensorflow]": "coursekit Keras (tensorflow)",
           "keras[torch]": "coursekit Keras (torch)",
           "peer": "peer: TF DCGAN tutorial (Keras 3, tensorflow)"}  # fmt: skip


def layer_macs(latent: int, g: tuple[int, ...], d: tuple[int, ...]) -> tuple[list, list]:
    """Multiply-adds per image of each generator and each discriminator layer, in order."""
    c0, c1, c2 = g
    d1, d2 = d
    generator = [
        latent * 49 * c0,  # dense -> 7x7xc0
        49 * 25 * c0 * c1,  # transposed conv 5x5, stride 1: 7x7 -> 7x7
        49 * 25 * c1 * c2,  # transposed conv 5x5, stride 2: 7x7 -> 14x14 (per input position)
        196 * 25 * c2 * 1,  # transposed conv 5x5, stride 2: 14x14 -> 28x28
    ]
    discriminator = [
        196 * 25 * 1 * d1,  # conv 5x5, stride 2: 28x28 -> 14x14
        49 * 25 * d1 * d2,  # conv 5x5, stride 2: 14x14 -> 7x7
        49 * d2,  # dense -> logit
    ]
    return generator, discriminator


def step_flops(latent: int, g: tuple[int, ...], d: tuple[int, ...], batch: int) -> int:
    """FLOPs (2 per multiply-add) of one step on ``batch`` real and ``batch`` fake images.

    Forward: G on B, D on 2B. Discriminator loss: D's weight gradients on 2B and its input
    gradients above the first layer on 2B. Generator loss: D's input gradients (all layers) on
    the B fakes, G's weight gradients and its input gradients above the dense layer on B.
    """
    gen, dis = layer_macs(latent, g, d)
    macs = batch * sum(gen) + 2 * batch * sum(dis)  # forward
    macs += 2 * batch * sum(dis) + 2 * batch * sum(dis[1:])  # discriminator backward
    macs += batch * sum(dis) + batch * sum(gen) + batch * sum(gen[1:])  # generator backward
    return 2 * macs


def make_series(impls: list[str], args: argparse.Namespace) -> list[Series]:
    """One :class:`Series` per row, in the order of ``impls``."""
    shared = {"batch": args.batch, "steps": args.steps, "latent": args.latent,
              "g": tuple(args.g), "d": tuple(args.d), "seed": 0}  # fmt: skip
    out = []
    for impl in impls:
        label, factory, kwargs, env = ROWS[impl]
        # the parent has fetched or found the data; the workers read the same (no download)
        out.append(Series(label, factory, {**kwargs, **shared},
                          {**env, "COURSEKIT_OFFLINE": "1"}))  # fmt: skip
    return out


def one_run(index: int, args: argparse.Namespace) -> dict:
    """One interleaved run with fresh workers: samples per row and the run's best peak."""
    impls = args.impl if index % 2 == 0 else args.impl[::-1]
    peaks: list[dict] = []

    def between(_round: int) -> None:
        peaks.append(harness.peak_rate(args.peak_sizes, repeats=args.peak_repeats))

    print(f"run {index + 1}/{args.runs}: {len(impls)} rows x {args.rounds} rounds of "
          f"{args.steps} steps", flush=True)  # fmt: skip
    samples = interleaved(make_series(impls, args), rounds=args.rounds, warmup=1,
                          between=between)  # fmt: skip
    return {"order": [ROWS[i][0] for i in impls], "peak": harness.best_peak(peaks),
            "peaks": [p["gflops"] for p in peaks], "samples": samples}  # fmt: skip


def summarise(runs: list[dict], flops: int, args: argparse.Namespace) -> list[dict]:
    """Per row: seconds per step, x bound and x peer of each run, and the verdict."""
    labels = [ROWS[i][0] for i in args.impl]
    per_step = [{label: statistics.median(run["samples"][label].seconds) / args.steps
                 for label in labels} for run in runs]  # fmt: skip
    bounds = [flops / (run["peak"]["gflops"] * 1e9) for run in runs]
    rows = []
    for label in labels:
        seconds = [medians[label] for medians in per_step]
        x_bound = [s / b for s, b in zip(seconds, bounds, strict=True)]
        x_peer = None
        if "peer" in labels:
            x_peer = [m["peer"] / m[label] for m in per_step]
        verdict = []
        if label == "peer":
            verdict.append("the peer")
        else:
            if x_peer is not None:
                verdict.append("faster than peer" if min(x_peer) >= 1.0 else "SLOWER than peer")
            verdict.append(f"within {TARGET}x bound" if max(x_bound) <= TARGET
                           else f"OVER {TARGET}x bound")  # fmt: skip
        rows.append({
            "impl": label,
            "seconds_per_step": seconds,
            "samples_per_step": [[s / args.steps for s in run["samples"][label].seconds]
                                 for run in runs],
            "bound_seconds": bounds,
            "flops": flops,
            "x_bound": x_bound, "x_bound_min": min(x_bound), "x_bound_max": max(x_bound),
            "x_peer": x_peer, "x_peer_min": None if x_peer is None else min(x_peer),
            "target_bound": TARGET,
            "verdict": "; ".join(verdict),
            "worker": [run["samples"][label].info for run in runs],
        })  # fmt: skip
    return rows


def render(rows: list[dict], runs: list[dict], flops: int, origin: str, threads: int,
           args: argparse.Namespace) -> str:  # fmt: skip
    """The markdown page: the table, the machine, the protocol and the peer."""

    def joined(values: list[float], fmt: str) -> str:
        return " / ".join(format(v, fmt) for v in values)

    table_rows = [[
        DISPLAY[row["impl"]], joined([s * 1e3 for s in row["seconds_per_step"]], ".0f"),
        joined([1 / s for s in row["seconds_per_step"]], ".2f"), joined(row["x_bound"], ".2f"),
        "1 (itself)" if row["impl"] == "peer" else
        ("-" if row["x_peer"] is None else joined(row["x_peer"], ".2f")),
        row["verdict"],
    ] for row in rows]  # fmt: skip
    machine = harness.machine()
    n = len(runs)
    which = "run 1 / run 2" if n == 2 else ("one run" if n == 1 else f"runs 1 to {n}")
    peaks = ", ".join(f"run {i + 1}: {run['peak']['gflops']:.1f} GFLOP/s "
                      f"({run['peak']['best_case']})" for i, run in enumerate(runs))  # fmt: skip
    return "\n".join([
        f"# DCGAN benchmark (batch {args.batch}; generator {tuple(args.g)}, discriminator "
        f"{tuple(args.d)}, noise {args.latent})",
        "",
        harness.markdown_table(
            ["row", f"ms per step ({which})", "steps per second", "x bound", "x peer",
             "verdict (worse run)"],
            table_rows,
        ),
        "",
        f"Machine: {machine['processor']}, {machine['cpus_available']} CPUs available, "
        f"{threads} thread(s) for every row (COURSEKIT_THREADS). Peak (the best large-matmul "
        f"rate of each run, square products {', '.join(map(str, args.peak_sizes))}, NumPy and "
        f"torch, measured after every round): {peaks}.",
        "",
        f"Protocol: every row runs in a process of its own and the rows take turns: after one "
        f"untimed warm-up sample per row, each of {args.rounds} rounds times one sample of every "
        f"row (order {', '.join(runs[0]['order'])}; reversed in every other run), then measures "
        f"the peak; {n} run(s), each with fresh workers, give the values '{which}'. One sample is "
        f"{args.steps} training steps at batch {args.batch} (one update of each network per "
        f"step: a generator forward pass, the discriminator on the real and the fake batch, two "
        f"gradients, two Adam updates) on real MNIST batches in [-1, 1], the data handling "
        f"included; ms per step is the median sample over {args.steps}. x bound: ms per step "
        f"over the bound, the step's dense and convolution multiply-adds ({flops / 1e9:.2f} "
        f"GFLOP) at the run's peak (target <= {TARGET}x; element-wise work is not in the "
        f"bound). x peer: the peer's ms per step over the row's, in the same run (above 1: "
        f"coursekit is faster). Data: {origin}.",
        "",
        f"Peer: the {PEER['name']} ({PEER['source']}; Radford et al. 2016), "
        f"re-implemented in {PEER['module']}: its Sequential generator and discriminator with "
        f"Keras' defaults, BinaryCrossentropy(from_logits=True), two Adam(1e-4), its "
        f"@tf.function train_step (two GradientTapes, the discriminator called on the real and "
        f"the fake batch), fed by its tf.data pipeline (from_tensor_slices, shuffle over all "
        f"images, batch) in a Python for-loop, on Keras 3 with TensorFlow. Deviations: "
        f"batch(..., drop_remainder=True) so every step has {args.batch} images; the digits from "
        f"coursekit's loader instead of tf.keras.datasets (the same as the other rows); "
        f"keras.Input instead of input_shape=; a fixed seed; widths as arguments (here the "
        f"tutorial's unless --quick); no checkpoints, images or printing; one read of the "
        f"optimiser's step counter after each sample.",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--latent", type=int, default=100)
    parser.add_argument("--g", type=int, nargs=3, default=[256, 128, 64], help="generator widths")
    parser.add_argument("--d", type=int, nargs=2, default=[64, 128], help="discriminator widths")
    parser.add_argument("--steps", type=int, default=5, help="training steps per timed sample")
    parser.add_argument("--rounds", type=int, default=5, help="timed samples per row and run")
    parser.add_argument("--runs", type=int, default=None,
                        help="whole interleaved runs, fresh workers each (default 2; --quick 1)")
    parser.add_argument("--impl", nargs="+", default=list(ROWS), choices=list(ROWS))
    parser.add_argument("--peak-sizes", type=int, nargs="+", default=[2048, 3072, 4096],
                        help="sides of the square products of the peak (--quick: 128)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the script runs")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results folder (default: benchmarks/results; --quick: a temp dir)",
    )
    args = parser.parse_args(argv)
    args.peak_repeats = 3
    if args.quick:
        args.batch, args.steps, args.rounds = 16, 1, 2
        args.g, args.d = [16, 8, 4], [4, 8]
        args.peak_sizes, args.peak_repeats = [128], 1
    if args.runs is None:
        args.runs = 1 if args.quick else 2
    if args.runs < 1 or args.rounds < 1 or args.steps < 1:
        parser.error("--runs, --rounds and --steps must be >= 1")
    args.impl = list(dict.fromkeys(args.impl))

    from gan_rows import train_images_uint8

    import coursekit as ck  # before torch (the peak's): it sets the thread pools

    _, origin = train_images_uint8(args.batch)  # fetched or found once, before the workers
    runs = [one_run(i, args) for i in range(args.runs)]
    flops = step_flops(args.latent, tuple(args.g), tuple(args.d), args.batch)
    rows = summarise(runs, flops, args)
    table = render(rows, runs, flops, origin, ck.num_threads(), args)
    record = {
        "benchmark": "gan",
        "config": {k: str(v) for k, v in vars(args).items()},
        "data": origin,
        "flops": flops,
        "peer": PEER,
        "runs": [{"order": run["order"], "peak": run["peak"], "peaks_gflops": run["peaks"]}
                 for run in runs],
        "rows": rows,
        "machine": {**harness.machine(), "threads": ck.num_threads()},
    }  # fmt: skip
    out = args.out or (Path(tempfile.mkdtemp()) if args.quick else harness.RESULTS)
    json_path, md_path = harness.write_results("gan", record, table, out=out, peers=True)
    print(table)
    print(f"\nwritten: {md_path} and {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
