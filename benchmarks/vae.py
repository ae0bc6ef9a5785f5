"""Benchmark: a VAE training epoch, coursekit against its peers and against the machine's peak.

Models (Adam, batch 128):

* ``mlp``: 784-400-20 and back, the pytorch/examples VAE; its peer is that example's own
  training loop (``benchmarks/peer_vae.py``, a torch program);
* ``conv``: the keras.io convolutional VAE (latent dimension 2); its peer is the keras.io
  example itself (``VAE(keras.Model)`` with a ``tf.GradientTape`` ``train_step``, Keras 3 on
  tensorflow).

Rows of each model: ``coursekit.torch.VAE``, ``coursekit.keras.VAE`` on the tensorflow and on the
torch backend, and the peer, each in a process of its own (``benchmarks/series.py``). One sample
is one training epoch over the same N images for every row of a model (``ceil(N / 128)`` Adam
updates); after one warm-up sample per row the rows take turns, one sample each per round, and
the whole series is run ``--runs`` times with fresh processes. Each row reports, per run, its
median epoch against

* the **peer**: "x peer" = the peer's median / the row's median, in the same run (above 1:
  coursekit is faster for equal work);
* the **bound**: "x bound" = the median / the seconds of the epoch's dense and convolution
  multiply-adds (forward, and backward for weights and inputs; the first layer needs no input
  gradient) at the best large-matmul rate measured in the same run (``harness.peak_rate``
  after every round, the best kept). Element-wise work (activations, the loss, Adam) is not
  in the bound.

``--iwae`` adds a second table (no peer): ``log_likelihood(k=1000)``, one encoder pass and 1000
decoder passes per test image, with its bound computed the same way (forward only).

    python benchmarks/vae.py           # the full benchmark (2 runs), results in benchmarks/results/
    python benchmarks/vae.py --quick   # seconds, for a smoke test of the script

Writes ``benchmarks/results/vae.md`` and ``benchmarks/results/vae.json``.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from peer_vae import DEVIATIONS, PEERS  # noqa: E402
from series import Series, interleaved  # noqa: E402
from vae_rows import MODELS, write_data  # noqa: E402

#: Targets for the epoch time over the bound (issue 10): the torch MLP VAE and the Keras
#: convolutional VAE on tensorflow; the other rows are reported without a target.
TARGETS = {("torch", "mlp"): 2.0, ("keras[tensorflow]", "conv"): 2.5}
PEAK_SIZES, QUICK_PEAK_SIZES = (2048, 3072), (256,)
#: impl -> (row label, Keras backend or None); the peer's label depends on the model.
IMPLS = {"torch": ("torch", None), "keras": ("keras[tensorflow]", "tensorflow"),
         "keras-torch": ("keras[torch]", "torch")}  # fmt: skip
MODEL_NAMES = {"mlp": "MLP 784-400-20", "conv": "conv (keras.io), latent 2"}
#: Sizes of the full benchmark and of ``--quick`` (each used where its option is not given).
FULL = {"n_mlp": 32_768, "n_conv": 4_096, "rounds": 5, "runs": 2, "k": 1000, "iwae_n": 10_000,
        "iwae_n_keras": 2_000, "iwae_n_conv": 500}  # fmt: skip
QUICK = {"n_mlp": 1024, "n_conv": 256, "rounds": 2, "runs": 1, "k": 10, "iwae_n": 20,
         "iwae_n_keras": 20, "iwae_n_conv": 4}  # fmt: skip


def layer_macs(arch: str, latent: int, hidden: int) -> tuple[list[int], list[int]]:
    """Multiply-adds per image of each encoder and each decoder layer, in order."""
    if arch == "mlp":
        encoder = [784 * hidden, hidden * 2 * latent]
        decoder = [latent * hidden, hidden * 784]
        return encoder, decoder
    encoder = [
        14 * 14 * 9 * 1 * 32,  # conv 3x3, stride 2: 28x28x1 -> 14x14x32
        7 * 7 * 9 * 32 * 64,  # conv 3x3, stride 2: -> 7x7x64
        7 * 7 * 64 * 16,  # dense 3136 -> 16
        16 * 2 * latent,  # dense 16 -> (mean, log_var)
    ]
    decoder = [
        latent * 7 * 7 * 64,  # dense -> 7x7x64
        7 * 7 * 9 * 64 * 64,  # transposed conv, stride 2: -> 14x14x64 (per input position)
        14 * 14 * 9 * 64 * 32,  # transposed conv, stride 2: -> 28x28x32
        28 * 28 * 9 * 32 * 1,  # transposed conv 3x3: -> 28x28x1 logits
    ]
    return encoder, decoder


def train_flops(arch: str, latent: int, hidden: int) -> int:
    """FLOPs of one training image: 2 per MAC forward, 2 for weight and 2 for input gradients."""
    encoder, decoder = layer_macs(arch, latent, hidden)
    layers = encoder + decoder
    return 2 * layers[0] * 2 + sum(6 * m for m in layers[1:])


def iwae_flops(arch: str, latent: int, hidden: int, k: int) -> int:
    """FLOPs of the K-sample estimate for one image: one encoder pass, K decoder passes."""
    encoder, decoder = layer_macs(arch, latent, hidden)
    return 2 * sum(encoder) + 2 * k * sum(decoder)


def images(arch: str, args: argparse.Namespace) -> int:
    return args.n_mlp if arch == "mlp" else args.n_conv


def epoch_series(arch: str, args: argparse.Namespace, data: dict) -> list[Series]:
    """The rows of one model, in ``args.impl`` order, each a :class:`Series` (``data``: the
    paths of :func:`vae_rows.write_data`)."""
    n, model = images(arch, args), MODELS[arch]
    kwargs = {"arch": arch, "data": data["train"], "n": n, "batch": args.batch,
              "latent": model["latent"], "hidden": model["hidden"]}  # fmt: skip
    out = []
    for impl in args.impl:
        if impl == "peer":
            env = {"KERAS_BACKEND": "tensorflow"} if arch == "conv" else {}
            out.append(Series(PEERS[arch]["label"], f"peer_vae:{arch}_peer",
                              {"data": data["train"], "n": n, "batch": args.batch},
                              env))  # fmt: skip
            continue
        label, backend = IMPLS[impl]
        env = {"KERAS_BACKEND": backend} if backend else {}
        impl_kw = {"impl": "torch" if impl == "torch" else "keras"}
        out.append(Series(label, "vae_rows:coursekit_epoch", {**impl_kw, **kwargs}, env))
    return out


def iwae_series(arch: str, args: argparse.Namespace, data: dict) -> list[Series]:
    model, out = MODELS[arch], []
    for impl in args.impl:
        if impl == "peer":
            continue
        label, backend = IMPLS[impl]
        n = args.iwae_n_conv if arch == "conv" else (
            args.iwae_n if impl == "torch" else args.iwae_n_keras)  # fmt: skip
        kwargs = {"impl": "torch" if impl == "torch" else "keras", "arch": arch,
                  "data": data["test"], "n": n, "k": args.k, "latent": model["latent"],
                  "hidden": model["hidden"]}  # fmt: skip
        out.append(Series(label, "vae_rows:coursekit_iwae", kwargs,
                          {"KERAS_BACKEND": backend} if backend else {}))  # fmt: skip
    return out


def one_run(args: argparse.Namespace, sizes: tuple[int, ...], data: dict) -> dict:
    """Every model's rows in turns (fresh processes), the peak measured after every round."""
    peaks: list[dict] = []

    def peak(_round: int) -> None:
        peaks.append(harness.peak_rate(sizes, repeats=1 if args.quick else 2))

    out: dict = {"epoch": {}, "iwae": {}}
    for arch in args.arch:
        samples = interleaved(epoch_series(arch, args, data), args.rounds, warmup=1, between=peak)
        out["epoch"][arch] = samples
    if args.iwae:
        for arch in args.arch:
            series = iwae_series(arch, args, data)
            if series:
                out["iwae"][arch] = interleaved(series, 1, warmup=0, between=peak)
    out["peak"] = harness.best_peak(peaks)
    out["peaks_gflops"] = [p["gflops"] for p in peaks]
    return out


def fmt_runs(values: list[float], spec: str = ".2f") -> str:
    return " / ".join(format(v, spec) for v in values)


def epoch_rows(runs: list[dict], args: argparse.Namespace) -> list[dict]:
    """Per row: the samples and medians of every run, x bound and x peer per run, verdict."""
    records = []
    for arch in args.arch:
        model = MODELS[arch]
        n = images(arch, args)
        flops = train_flops(arch, model["latent"], model["hidden"]) * n
        peer = PEERS[arch]["label"]
        for label in runs[0]["epoch"][arch]:
            per_run = [run["epoch"][arch][label] for run in runs]
            medians = [statistics.median(s.seconds) for s in per_run]
            bounds = [flops / (run["peak"]["gflops"] * 1e9) for run in runs]
            x_bound = [m / b for m, b in zip(medians, bounds, strict=True)]
            x_peer = None
            if peer in runs[0]["epoch"][arch]:
                x_peer = [statistics.median(run["epoch"][arch][peer].seconds) / m
                          for run, m in zip(runs, medians, strict=True)]  # fmt: skip
            target = TARGETS.get((label, arch))
            records.append({
                "impl": label, "arch": arch, "model": MODEL_NAMES[arch], "what": "epoch",
                "config": model, "images": n, "batch": args.batch,
                "updates_per_sample": math.ceil(n / args.batch),
                "updates": [sorted({e["updates"] for e in s.extras}) for s in per_run],
                "seconds": [s.seconds for s in per_run], "median": medians, "flops": flops,
                "bound_seconds": bounds, "x_bound": x_bound, "x_bound_min": min(x_bound),
                "x_bound_max": max(x_bound), "x_peer": x_peer,
                "x_peer_min": min(x_peer) if x_peer else None, "target": target,
                "verdict": verdict(label == peer, x_peer, x_bound, target),
                "worker": [s.info for s in per_run],
            })  # fmt: skip
    return records


def verdict(is_peer: bool, x_peer: list[float] | None, x_bound: list[float], target) -> str:
    """By the worse run: slower than the peer in any run is SLOWER."""
    if is_peer:
        text = "the peer"
    elif x_peer is None:
        text = "no peer timed"
    else:
        text = "faster than peer" if min(x_peer) >= 1.0 else "SLOWER than peer"
    if target is not None:
        met = "met" if max(x_bound) <= target else "MISSED"
        text += f"; x bound <= {target} (issue 10) {met}"
    return text


def iwae_rows(runs: list[dict], args: argparse.Namespace) -> list[dict]:
    records = []
    for arch in runs[0]["iwae"]:
        model = MODELS[arch]
        for label in runs[0]["iwae"][arch]:
            per_run = [run["iwae"][arch][label] for run in runs]
            n = per_run[0].info["images"]
            flops = iwae_flops(arch, model["latent"], model["hidden"], args.k) * n
            seconds = [s.seconds[0] for s in per_run]
            bounds = [flops / (run["peak"]["gflops"] * 1e9) for run in runs]
            x_bound = [s / b for s, b in zip(seconds, bounds, strict=True)]
            records.append({
                "impl": label, "arch": arch, "model": MODEL_NAMES[arch], "what": "iwae",
                "k": args.k, "images": n, "seconds": seconds, "flops": flops,
                "bound_seconds": bounds, "x_bound": x_bound,
            })  # fmt: skip
    return records


def markdown(records: list[dict], iwae: list[dict], runs: list[dict], args, data: str) -> str:
    import coursekit as ck

    machine = harness.machine()
    workers = [info for r in records for info in r["worker"]]
    versions = ", ".join(f"{lib} {v}" for lib in ("torch", "keras", "tensorflow")
                         if (v := next((w[lib] for w in workers if lib in w), None)))  # fmt: skip
    table = harness.markdown_table(
        ["row", "model", "work per sample", "seconds, median", "range s", "x bound", "x peer",
         "verdict"],  # fmt: skip
        [[r["impl"], r["model"], f"epoch, {r['images']:,} images ({r['updates_per_sample']} "
          "updates)", fmt_runs(r["median"]),
          f"{min(map(min, r['seconds'])):.2f}-{max(map(max, r['seconds'])):.2f}",
          fmt_runs(r["x_bound"]), fmt_runs(r["x_peer"]) if r["x_peer"] else "", r["verdict"]]
         for r in records],
    )  # fmt: skip
    run_word = "runs" if len(runs) > 1 else "run"
    peaks = ", ".join(f"run {i + 1}: {r['peak']['gflops']:.1f} GFLOP/s ({r['peak']['best_case']})"
                      for i, r in enumerate(runs))  # fmt: skip
    sizes = QUICK_PEAK_SIZES if args.quick else PEAK_SIZES
    work = "; ".join(f"{MODEL_NAMES[a]}: N = {images(a, args):,}" for a in args.arch)
    peers = "; ".join(f"{MODEL_NAMES[a]}: {PEERS[a]['source']}" for a in args.arch)
    lines = [
        f"# VAE benchmark: coursekit against its peers (batch {args.batch})",
        "",
        f"Machine: {machine['processor']}, {ck.num_threads()} threads (of "
        f"{machine['cpus_available']} CPUs available); {machine['platform']}, {versions}; "
        f"{len(runs)} {run_word} on {machine['date']}. Peak, the "
        f"best rate of square float32 products {'/'.join(map(str, sizes))} (NumPy and torch) "
        f"measured after every round: {peaks}.",
        "",
        table,
        "",
        f"Values are per run ({' / '.join(f'run {i + 1}' for i in range(len(runs)))}). One "
        "sample is one training epoch, `fit(epochs=1)` (a peer: one pass of its training loop), "
        f"over the same N images for every row of a model, batch {args.batch}: {work}. "
        "coursekit binarises each epoch's images dynamically, the peers train on grey values. "
        "Every row runs in its own process; after one untimed warm-up sample per row, "
        f"{args.rounds} rounds in which each row of the model times one sample in turn; each "
        "run starts fresh processes. x peer = the peer's median / the row's median in the same "
        "run (above 1: faster than the peer); x bound = the median / the epoch's dense and "
        "convolution multiply-adds (forward and backward) at the run's peak; element-wise work "
        "is not in the bound. The verdict takes the worse run.",
        "",
        f"Peers, re-implemented in benchmarks/peer_vae.py (which lists every deviation): "
        f"{peers}. Deviations in short: {DEVIATIONS}.",
        "",
        f"Data: {data}. The IWAE estimate has no peer: it is timed only with `--iwae`, in a "
        "second table" + (" below." if iwae else "."),
    ]
    if iwae:
        lines += ["", f"## IWAE estimate, K = {args.k} (no peer)", "", harness.markdown_table(
            ["implementation", "model", "work", "seconds", "bound s", "x bound",
             "s per 10,000 images"],
            [[r["impl"], r["model"], f"IWAE K={r['k']}, {r['images']:,} test images",
              fmt_runs(r["seconds"]), fmt_runs(r["bound_seconds"]), fmt_runs(r["x_bound"]),
              fmt_runs([s / r["images"] * 10_000 for s in r["seconds"]], ".0f")]
             for r in iwae]),  # fmt: skip
            "", "One timed call per run on the first test images, after a 2-image call; an "
                "untrained model (the cost does not depend on the weights)."]  # fmt: skip
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The options, with the full (or ``--quick``) sizes where none is given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-mlp", type=int, help="images per MLP sample (32,768)")
    parser.add_argument("--n-conv", type=int, help="images per conv sample (4,096)")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--rounds", type=int, help="timed samples per row and run (5)")
    parser.add_argument("--runs", type=int, help="runs with fresh processes (2)")
    parser.add_argument("--arch", nargs="+", default=["mlp", "conv"], choices=["mlp", "conv"])
    parser.add_argument("--impl", nargs="+", default=["torch", "keras", "keras-torch", "peer"],
                        choices=["torch", "keras", "keras-torch", "peer"])  # fmt: skip
    parser.add_argument("--iwae", action="store_true", help="also time the IWAE estimate")
    parser.add_argument("--k", type=int, help="importance samples per image (1000)")
    parser.add_argument("--iwae-n", type=int, help="test images, torch MLP IWAE (10,000)")
    parser.add_argument("--iwae-n-keras", type=int, help="test images, Keras MLP (2,000)")
    parser.add_argument("--iwae-n-conv", type=int, help="test images, conv IWAE (500)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes where not given, 1 run: checks the script runs")
    parser.add_argument("--out", type=Path, default=harness.RESULTS)
    args = parser.parse_args(argv)
    for name, value in (QUICK if args.quick else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if min(args.runs, args.rounds, args.n_mlp, args.n_conv, args.k) < 1:
        parser.error("--runs, --rounds, --n-mlp, --n-conv and --k must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    sizes = QUICK_PEAK_SIZES if args.quick else PEAK_SIZES
    n_test = max(args.iwae_n, args.iwae_n_keras, args.iwae_n_conv) if args.iwae else 0
    runs = []
    with tempfile.TemporaryDirectory() as tmp:  # every row reads the same images
        data, origin = write_data(Path(tmp), max(images(a, args) for a in args.arch), n_test)
        for i in range(args.runs):
            print(f"run {i + 1} of {args.runs} ...", flush=True)
            runs.append(one_run(args, sizes, data))
    records, iwae = epoch_rows(runs, args), iwae_rows(runs, args)
    table = markdown(records, iwae, runs, args, origin)
    record = {
        "benchmark": "vae",
        "config": {k: str(v) for k, v in vars(args).items()},
        "data": origin,
        "protocol": {"runs": args.runs, "rounds": args.rounds, "warmup": 1,
                     "sample": "one training epoch over `images` images",
                     "peak_sizes": list(sizes)},  # fmt: skip
        "peers": {a: PEERS[a] for a in args.arch} | {"deviations": DEVIATIONS},
        "runs": [{"peak": run["peak"], "peaks_gflops": run["peaks_gflops"]} for run in runs],
        "rows": records,
        "iwae_rows": iwae,
        "machine": harness.machine(),
    }
    json_path, md_path = harness.write_results("vae", record, table, out=args.out, peers=True)
    print(table)
    print(f"\nwritten: {md_path} and {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
