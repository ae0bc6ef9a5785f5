"""Benchmark: one training epoch of each VAE over 60,000 images, and the K = 1000 IWAE estimate.

Models (Bernoulli decoder, Adam, dynamic binarisation, batch 128):

* ``mlp``: 784-400-20 and back, the pytorch/examples VAE;
* ``conv``: the keras.io convolutional VAE (latent dimension 2).

Implementations: ``coursekit.torch.VAE``, ``coursekit.keras.VAE`` on the tensorflow backend and,
in a subprocess, on the torch backend. Each epoch time is compared with a **bound**: the
multiply-adds of the epoch's dense layers and convolutions (forward, and backward for weights
and inputs; the first layer needs no input gradient), at the best large-matmul rate measured in
the same run (the fastest of NumPy's BLAS and torch on square products: the machine's peak).
Element-wise work (activations, the loss, Adam) is not in the bound.

The IWAE row times ``log_likelihood(k=1000)``: one encoder pass and 1000 decoder passes per
test image, with the bound computed the same way (forward only).

    python benchmarks/vae.py           # the full benchmark, results in benchmarks/results/
    python benchmarks/vae.py --quick   # seconds, for a smoke test of the script

Writes ``benchmarks/results/vae.md`` and ``benchmarks/results/vae.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

#: Targets for the epoch time over the bound (issue 10): the torch MLP VAE and the Keras
#: convolutional VAE on tensorflow; the other rows are reported without a target.
TARGETS = {("torch", "mlp"): 2.0, ("keras[tensorflow]", "conv"): 2.5}
PEAK_SHAPES = [(1024, 1024, 1024), (2048, 2048, 2048)]


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


def model_config(arch: str, args: argparse.Namespace) -> dict:
    if arch == "mlp":
        return {"arch": "mlp", "latent": args.latent, "hidden": args.hidden}
    return {"arch": "conv", "latent": 2, "hidden": args.hidden}


def training_data(n: int, n_test: int) -> tuple[np.ndarray, np.ndarray, str]:
    """``n`` training rows [n, 784] in [0, 1] and ``n_test`` binary test rows (each tiled if
    fewer are here), and where they came from."""
    import coursekit as ck

    images, _ = ck.data.load_mnist("train")
    test, _ = ck.data.load_mnist("test")
    rows = ck.data.flatten(ck.data.to_float(images))
    test_rows = ck.data.binarize(ck.data.flatten(ck.data.to_float(test)))
    origin = ck.data.source("mnist", "train")
    if len(rows) < n:
        origin += f", {len(rows):,} rows tiled to {n:,}"
        rows = np.resize(rows, (n, rows.shape[1]))
    origin += f"; test: {ck.data.source('mnist', 'test')}"
    if len(test_rows) < n_test:
        origin += f", {len(test_rows):,} rows tiled to {n_test:,}"
        test_rows = np.resize(test_rows, (n_test, test_rows.shape[1]))
    return rows[:n], test_rows, origin


def make_vae(impl: str, config: dict):
    if impl == "torch":
        from coursekit.torch import VAE

        return VAE(config["latent"], arch=config["arch"], hidden=config["hidden"], seed=0)
    from coursekit.keras import VAE

    return VAE(config["latent"], arch=config["arch"], hidden=config["hidden"], seed=0)


def time_impl(
    impl: str, data: np.ndarray, test: np.ndarray, args: argparse.Namespace
) -> list[dict]:
    """Epoch and IWAE timings of ``impl`` ("torch" or "keras") for every architecture."""
    rows = []
    if impl == "torch":
        import torch

        data_in = torch.from_numpy(data)  # preloaded once, as a training loop would keep it
    else:
        data_in = data
    for arch in args.arch:
        config = model_config(arch, args)
        vae = make_vae(impl, config)
        warm = data_in[: 20 * args.batch]
        if impl == "torch":
            vae.fit(warm, epochs=1, batch_size=args.batch, progress=False)

            def epoch(vae=vae):
                vae.fit(data_in, epochs=1, batch_size=args.batch, progress=False)
        else:
            vae.fit(warm, epochs=1, batch_size=args.batch, verbose=0)

            def epoch(vae=vae):
                vae.fit(data_in, epochs=1, batch_size=args.batch, verbose=0)

        timing = harness.time_it(f"{impl} {arch}", epoch, repeats=args.repeats, warmup=0)
        rows.append({"impl": impl, "arch": arch, "what": "epoch", "config": config,
                     "images": len(data), "timing": timing.as_dict()})  # fmt: skip
        n_mlp = args.iwae_n if impl == "torch" else args.iwae_n_keras
        n_iwae = min(len(test), n_mlp if arch == "mlp" else args.iwae_n_conv)
        vae.log_likelihood(test[:2], k=args.k)  # warm-up
        start = time.perf_counter()
        ll = vae.log_likelihood(test[:n_iwae], k=args.k)
        seconds = time.perf_counter() - start
        rows.append({"impl": impl, "arch": arch, "what": "iwae", "config": config,
                     "images": n_iwae, "timing": {"median": seconds, "min": seconds,
                                                  "max": seconds, "samples": [seconds]},
                     "mean_log_likelihood": float(ll.mean())})  # fmt: skip
    return rows


def keras_label() -> str:
    import keras

    return f"keras[{keras.backend.backend()}]"


def run_in_subprocess(backend: str, args: argparse.Namespace) -> list[dict]:
    """Run the Keras timings under another Keras backend (it is fixed at import)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rows.json"
        cmd = [sys.executable, __file__, "--impl", "keras", "--rows-only", str(out),
               "--n", str(args.n), "--batch", str(args.batch), "--repeats", str(args.repeats),
               "--k", str(args.k), "--iwae-n", str(args.iwae_n),
               "--iwae-n-keras", str(args.iwae_n_keras),
               "--iwae-n-conv", str(args.iwae_n_conv), "--latent", str(args.latent),
               "--hidden", str(args.hidden), "--arch", *args.arch]  # fmt: skip
        subprocess.run(cmd, check=True, env={**os.environ, "KERAS_BACKEND": backend})
        return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60_000, help="training images per epoch")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--latent", type=int, default=20, help="latent size of the MLP VAE")
    parser.add_argument("--hidden", type=int, default=400, help="hidden units of the MLP VAE")
    parser.add_argument("--repeats", type=int, default=2, help="timed epochs per row")
    parser.add_argument("--k", type=int, default=1000, help="importance samples per image")
    parser.add_argument("--iwae-n", type=int, default=10_000, help="test images, torch MLP IWAE")
    parser.add_argument("--iwae-n-keras", type=int, default=2_000, help="test images, Keras MLP")
    parser.add_argument("--iwae-n-conv", type=int, default=500, help="test images, conv IWAE")
    parser.add_argument("--arch", nargs="+", default=["mlp", "conv"], choices=["mlp", "conv"])
    parser.add_argument("--impl", nargs="+", default=["torch", "keras", "keras-torch"],
                        choices=["torch", "keras", "keras-torch"])  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the script runs")
    parser.add_argument("--out", type=Path, default=harness.RESULTS)
    parser.add_argument("--rows-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.repeats, args.k, args.iwae_n, args.iwae_n_conv = 512, 1, 10, 20, 4
        args.iwae_n_keras = 20

    import coursekit as ck

    ck.seed_everything(0)
    import torch

    torch.set_num_threads(ck.num_threads())
    # The peak first, before any framework has started its thread pools (see benchmarks/rbm.py).
    rates = None
    if not args.rows_only:
        shapes = [(64, 64, 64)] if args.quick else PEAK_SHAPES
        rates = harness.matmul_seconds(shapes, repeats=5, inner=3 if not args.quick else 2)
    data, test, origin = training_data(args.n, args.iwae_n)

    rows: list[dict] = []
    for impl in args.impl:
        if impl == "keras-torch":
            rows += run_in_subprocess("torch", args)
            continue
        found = time_impl(impl, data, test, args)
        if impl == "keras":
            for row in found:
                row["impl"] = keras_label()
        rows += found
    if args.rows_only:
        args.rows_only.write_text(json.dumps(rows))
        return 0

    peak = max(
        harness.gemm_flops(*map(int, shape.split(","))) / seconds
        for shape, libs in rates.items()
        for seconds in libs.values()
    )
    table_rows, record_rows = [], []
    for row in rows:
        c = row["config"]
        if row["what"] == "epoch":
            flops = train_flops(c["arch"], c["latent"], c["hidden"]) * row["images"]
            what = f"epoch, {row['images']:,} images"
        else:
            flops = iwae_flops(c["arch"], c["latent"], c["hidden"], args.k) * row["images"]
            what = f"IWAE K={args.k}, {row['images']:,} test images"
        bound = flops / peak
        median = row["timing"]["median"]
        ratio = median / bound
        target = TARGETS.get((row["impl"], row["arch"])) if row["what"] == "epoch" else None
        record_rows.append({**row, "flops": flops, "bound_seconds": bound, "ratio": ratio,
                            "target": target})  # fmt: skip
        model = "MLP 784-400-20" if c["arch"] == "mlp" else "conv (keras.io), latent 2"
        if c["arch"] == "mlp" and (c["latent"], c["hidden"]) != (20, 400):
            model = f"MLP 784-{c['hidden']}-{c['latent']}"
        per_10k = ""
        if row["what"] == "iwae":
            per_10k = f"{median / row['images'] * 10_000:.0f}"
        table_rows.append([
            row["impl"], model, what, f"{median:.2f}",
            f"{row['timing']['min']:.2f}-{row['timing']['max']:.2f}", f"{bound:.2f}",
            f"{ratio:.2f}x", f"<= {target}x" if target else "", per_10k,
        ])  # fmt: skip
    table = "\n".join(
        [
            f"# VAE benchmark (batch {args.batch}, {args.n:,} training images per epoch)",
            "",
            harness.markdown_table(
                [
                    "implementation",
                    "model",
                    "work",
                    "seconds (median)",
                    "range s",
                    "bound s",
                    "ratio",
                    "target",
                    "s per 10,000 images",
                ],
                table_rows,
            ),  # fmt: skip
            "",
            f"Bound: the dense and convolution multiply-adds of the work (training: forward and "
            f"backward; IWAE: one encoder and {args.k} decoder passes per image) at the best "
            f"large-matmul rate of this run, {peak / 1e9:.1f} GFLOP/s (square products "
            f"{', '.join(rates)}; NumPy and torch). Element-wise work is not in the bound.",
            f"Epochs: median of {args.repeats} after a warm-up fit of 20 batches; dynamic "
            "binarisation and Adam included, data preloaded. IWAE: one timed call on the first "
            "test images (the Keras and the conv rows on fewer images: the last column scales "
            "their measured time to 10,000 images).",
            f"Data: {origin}. Machine: {harness.machine()['processor']}, "
            f"{ck.num_threads()} threads.",
        ]
    )
    record = {
        "benchmark": "vae",
        "config": {k: str(v) for k, v in vars(args).items()},
        "data": origin,
        "matmul_seconds": rates,
        "peak_flops": peak,
        "rows": record_rows,
        "machine": harness.machine(),
    }
    json_path, md_path = harness.write_results("vae", record, table, out=args.out)
    print(table)
    print(f"\nwritten: {md_path} and {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
