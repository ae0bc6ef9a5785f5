"""Benchmark: one epoch of CD-1 and of PCD-1 for a 784-500 RBM over 60,000 images, batch 100.

Seven rows, each in a process of its own (``series.py``), taking turns epoch by epoch:
``coursekit.torch.RBM`` CD-1 and PCD-1, ``coursekit.keras.RBM`` CD-1 and PCD-1 on the
tensorflow backend and on the torch backend, and the peer, a re-implementation of the course's
"week 12" PyTorch RBM trained through autograd (``peer_rbm.py``: its source and every deviation).
A row's unit of work, one sample, is one epoch: 600 updates of batch 100 over 60,000 rows, timed
as ``fit(epochs=1)`` reports it (``history["seconds"]``: from the epoch's shuffle to its last
update, no monitoring); ``fit``'s one-off data check and conversion is reported apart. The peer's
epoch is timed whole (``randperm``, 600 steps, ``loss.item()`` each). Per batch of B rows:

* CD-1: 5 GEMMs of 2*B*n_v*n_h flops: p(h|x) at the data, p(x|h), p(h|x_1), and the two outer
  products <x h^T> of the positive and the negative phase.
* PCD-1: 6 GEMMs: the persistent chain needs its own p(h|x) before it can move.
* the peer (CD-1 through autograd): 6 GEMMs, two for its Gibbs step, two free energies, two
  weight gradients.

Each row is compared with its **peer** (``x peer`` = the peer's median epoch / the row's median
epoch, in the same run, so above 1 is faster; the PCD rows too are compared with the CD-1 peer,
though PCD does one GEMM per batch more) and with two bounds measured in the same run (see
``harness``): the epoch's flops at the machine's **peak** (the best large square float32 GEMM of
the run, on the same threads: ``x bound`` = best epoch / that) and at the rate of the RBM's **own
GEMM shapes**. Limits: torch <= 2x the peak bound, Keras <= 3x (both backends), and every row at
least as fast as the peer, in the worse of the runs. The bound uses each row's best epoch, as the
peak is the best of its products: on the course's shared 2-core machine, forty 2048^3 products a
quarter of a second apart ran at 140 to 304 GFLOP/s, and other tenants only ever slow a run
down. The whole interleaved series runs twice (fresh processes), and the table gives both runs.

    COURSEKIT_THREADS=2 python benchmarks/rbm.py   # the full benchmark, results in results/
    python benchmarks/rbm.py --quick               # seconds, for a smoke test of the script

Writes ``benchmarks/results/rbm.md`` and ``benchmarks/results/rbm.json``.
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
import peer_rbm  # noqa: E402  (no framework at import)
from series import Series, interleaved  # noqa: E402

#: The limits, as multiples of the epoch's flops at the peak rate.
LIMITS = {"torch": 2.0, "keras": 3.0}
PEER = peer_rbm.LABEL
#: ``--impl`` choice -> (row name, the environment its processes start with)
IMPLS = {
    "torch": ("torch", {}),
    "keras": ("keras[tensorflow]", {"KERAS_BACKEND": "tensorflow"}),
    "keras-torch": ("keras[torch]", {"KERAS_BACKEND": "torch"}),
}


def training_data(n: int, n_visible: int) -> tuple[np.ndarray, str]:
    """``n`` binary MNIST rows [n, 784] (tiled if fewer are available here) and their origin."""
    import coursekit as ck

    if n_visible != 784:  # synthetic sizes for --quick
        rng = np.random.default_rng(0)
        return (rng.random((n, n_visible)) < 0.13).astype(np.float32), "random binary"
    images, _ = ck.data.load_mnist("train")
    rows = ck.data.binarize(ck.data.flatten(images)).astype(np.float32)
    origin = ck.data.source("mnist", "train")
    if len(rows) < n:
        origin += f", {len(rows):,} rows tiled to {n:,}"
        rows = np.resize(rows, (n, rows.shape[1]))
    return rows[:n], origin


def coursekit_runner(impl: str, method: str, n: int, visible: int, hidden: int, batch: int):
    """The series worker of a coursekit row (``impl`` "torch" or "keras", Keras' backend from
    the process's ``KERAS_BACKEND``): ``run()`` trains one epoch with ``fit(epochs=1)`` and
    returns the epoch's seconds as ``fit`` reports them, with ``fit``'s set-up (checking and
    converting the data once, not an epoch's work) as the extra ``"setup"``."""
    import coursekit as ck  # first: it sets the thread pools, as in the notebooks

    ck.seed_everything(0)
    versions = {}
    if impl == "torch":
        from coursekit.torch import RBM
    else:
        import keras

        from coursekit.keras import RBM

        versions["keras"] = keras.__version__
    ck.threads.apply()
    for module in ("torch", "tensorflow"):
        if module in sys.modules:
            versions[module] = sys.modules[module].__version__
    data, origin = training_data(n, visible)
    rbm = RBM(visible, hidden, k=1, persistent=method == "pcd", eta=0.01, seed=0)

    def run() -> tuple[float, dict]:
        start = time.perf_counter()
        history = rbm.fit(
            data, epochs=1, batch_size=batch, binarize=None, progress=False,
            monitor_every=0,  # no monitoring inside the timed epochs
        )  # fmt: skip
        epoch = history["seconds"][-1]
        return epoch, {"setup": time.perf_counter() - start - epoch}

    threads = {fw: ck.threads.effective(fw).describe() for fw in ck.threads.FRAMEWORKS
               if ck.threads.effective(fw).loaded}  # fmt: skip
    return run, {"data": origin, "threads": threads, "versions": versions}


def row_specs(impls: list[str]) -> list[dict]:
    """The rows of ``--impl``, in table order: each ``{"impl", "method", "label", "env"}``."""
    specs = []
    for choice in ("torch", "peer", "keras", "keras-torch"):
        if choice not in impls:
            continue
        if choice == "peer":
            specs.append({"impl": PEER, "method": "cd", "label": PEER, "env": {}})
            continue
        name, env = IMPLS[choice]
        for method in ("cd", "pcd"):
            specs.append({"impl": name, "method": method, "label": f"{name} {method}",
                          "env": env, "choice": choice})  # fmt: skip
    return specs


def one_run(specs: list[dict], args: argparse.Namespace, shapes: list[tuple]) -> dict:
    """One interleaved series of every row (fresh processes), with its peak measurements: one
    before the workers start, then after round 0, every second round and the last round."""
    size = {"n": args.n, "visible": args.visible, "hidden": args.hidden, "batch": args.batch}
    rates = harness.matmul_seconds(shapes)
    peaks = [harness.peak_rate(args.peak_sizes)]

    def between(r: int) -> None:
        if r % 2 == 0 or r == args.rounds - 1:
            peaks.append(harness.peak_rate(args.peak_sizes))

    series = [
        Series(s["label"], "peer_rbm:runner", size)
        if s["impl"] == PEER
        else Series(
            s["label"],
            "rbm:coursekit_runner",
            {"impl": s["choice"].split("-")[0], "method": s["method"], **size},
            env=s["env"],
        )
        for s in specs
    ]
    start = time.perf_counter()
    samples = interleaved(series, args.rounds, warmup=1, between=between)
    return {
        "wall_seconds": time.perf_counter() - start,
        "peaks": peaks,
        "peak": harness.best_peak(peaks),
        "matmul_seconds": rates,
        "samples": {
            k: {"seconds": v.seconds, "extras": v.extras, "info": v.info}
            for k, v in samples.items()
        },
    }


def gemm_shapes(batch: int, visible: int, hidden: int) -> dict[str, list[tuple]]:
    """GEMM shapes (m, k, n) per batch: x@W, h@W^T, x_1@W, the outer products x^T@p_h, and
    for PCD the chain's own p(h|x)."""
    b, v, h = batch, visible, hidden
    cd = [(b, v, h), (b, h, v), (b, v, h), (v, b, h), (v, b, h)]
    return {"cd": cd, "pcd": cd + [(b, v, h)]}


def limit_of(impl: str) -> float | None:
    if impl == "torch":
        return LIMITS["torch"]
    if impl.startswith("keras"):
        return LIMITS["keras"]
    return None  # the peer: the reference, no limit


def evaluate(specs: list[dict], runs: list[dict], per_shape: dict, args) -> list[dict]:
    """Per row and run: the timing, the bounds, ``x_bound`` (best epoch / peak bound),
    ``median_x_bound`` and ``x_peer`` (peer median / row median); across the runs the worse of
    each (``x_bound_max``, ``x_peer_min``), the limit and the verdicts."""
    batches = -(-args.n // args.batch)
    out = []
    for spec in specs:
        is_peer = spec["impl"] == PEER
        gemms = per_shape[peer_rbm.GEMMS_LIKE if is_peer else spec["method"]]
        flops = batches * sum(harness.gemm_flops(*shape) for shape in gemms)
        per_run = []
        for run in runs:
            found = run["samples"][spec["label"]]
            timing = harness.Timing(spec["label"], samples=found["seconds"]).as_dict()
            best, median = timing["min"], timing["median"]
            peak_bound = flops / (run["peak"]["gflops"] * 1e9)
            shape_bound, _ = harness.bound_seconds(gemms, run["matmul_seconds"], count=batches)
            peer = run["samples"].get(PEER)
            peer_median = statistics.median(peer["seconds"]) if peer else None
            setups = [e["setup"] for e in found["extras"] if "setup" in e]
            per_run.append({
                "timing": timing,
                "fit_setup_seconds": statistics.median(setups) if setups else None,
                "peak_bound_seconds": peak_bound,
                "x_bound": best / peak_bound,
                "median_x_bound": median / peak_bound,
                "bound_seconds": shape_bound,
                "ratio": best / shape_bound,
                "peer_seconds": peer_median,
                "x_peer": None if peer_median is None else peer_median / median,
            })  # fmt: skip
        limit = limit_of(spec["impl"])
        x_bound = [r["x_bound"] for r in per_run]
        x_peer = [r["x_peer"] for r in per_run if r["x_peer"] is not None]
        medians = [r["timing"]["median"] for r in per_run]
        out.append({
            "impl": spec["impl"],
            "method": spec["method"],
            "rule": peer_rbm.RULE if is_peer else spec["method"].upper() + "-1",
            "gemms_per_batch": len(gemms),
            "runs": per_run,
            "x_bound": x_bound,
            "x_bound_max": max(x_bound),
            "x_peer": x_peer or None,
            "x_peer_min": min(x_peer) if x_peer else None,
            "run_spread": max(medians) / min(medians) - 1,
            "limit": limit,
            "within_limit": None if limit is None else max(x_bound) <= limit,
            "faster_than_peer": None if is_peer or not x_peer else min(x_peer) >= 1.0,
        })  # fmt: skip
    return out


def verdict_of(row: dict) -> str:
    if row["impl"] == PEER:
        return "reference"
    parts = []
    if row["within_limit"] is not None:
        parts.append("yes" if row["within_limit"] else "NO")
    if row["faster_than_peer"] is not None:
        parts.append("faster than peer" if row["faster_than_peer"] else "SLOWER than peer")
    return ", ".join(parts) or "-"


def table(rows: list[dict]) -> str:
    def each(row: dict, fmt: str, get) -> str:
        return " / ".join(fmt.format(get(r)) for r in row["runs"])

    body = []
    for row in rows:
        x_peer = "-" if row["x_peer"] is None else " / ".join(f"{x:.2f}x" for x in row["x_peer"])
        body.append([
            row["impl"],
            row["rule"],
            each(row, "{:.2f}", lambda r: r["timing"]["median"]),
            each(row, "{:.2f}", lambda r: r["timing"]["min"]),
            each(row, "{:.2f}", lambda r: r["peak_bound_seconds"]),
            "**" + each(row, "{:.2f}x", lambda r: r["x_bound"]) + "**",
            each(row, "{:.2f}x", lambda r: r["median_x_bound"]),
            f"**{x_peer}**",
            "reference" if row["limit"] is None else f"<= {row['limit']:.0f}x",
            verdict_of(row),
            each(row, "{:.2f}", lambda r: r["bound_seconds"]),
            each(row, "{:.2f}x", lambda r: r["ratio"]),
        ])  # fmt: skip
    headers = [
        "implementation", "rule", "median epoch s", "best epoch s", "peak bound s",
        "x bound (best epoch)", "median / peak", "x peer", "limit", "verdict",
        "own-shape bound s", "best / own shapes",
    ]  # fmt: skip
    return harness.markdown_table(headers, body)


def describe(rows: list[dict], runs: list[dict], per_shape: dict, args, threads: int) -> str:
    """The markdown: the table, the verdict, and what was measured on what."""
    b, v, h = args.batch, args.visible, args.hidden
    limited = [row for row in rows if row["limit"] is not None]
    all_ok = all(row["within_limit"] for row in limited) and all(
        row["faster_than_peer"] is not False for row in rows
    )
    per = " / ".join
    peaks = per(f"{run['peak']['gflops']:.0f} ({run['peak']['best_case']}^3)" for run in runs)
    peak_lists = "; ".join(
        f"run {i + 1}: " + ", ".join(f"{p['gflops']:.0f}" for p in run["peaks"])
        for i, run in enumerate(runs)
    )
    flops = harness.gemm_flops(b, v, h)
    rates = runs[0]["matmul_seconds"]
    gflops_text = ", ".join(f"{k}: {flops / min(t.values()) / 1e9:.0f}" for k, t in rates.items())
    spread = max(rows, key=lambda row: row["run_spread"])
    setups = ", ".join(
        f"{row['impl']} {row['rule']} "
        + per(f"{r['fit_setup_seconds']:.2f}" for r in row["runs"]) + " s"
        for row in rows if row["runs"][0]["fit_setup_seconds"] is not None
    )  # fmt: skip
    infos = [s["info"] for run in runs for s in run["samples"].values()]
    pools = sorted({f"{fw} {text}" for info in infos for fw, text in info["threads"].items()})
    origin = next(info["data"] for info in infos)
    mach = harness.machine()
    n_runs = len(runs)
    walls = per(f"{run['wall_seconds']:.0f}" for run in runs)
    runs_text = f"Runs: {n_runs} (wall {walls} s): one run, so no spread between runs."
    if n_runs > 1:
        runs_text = (
            f"Runs: {n_runs}, each the whole interleaved series again in fresh processes (wall "
            f"{walls} s); cells with several values give run 1 / run 2. Spread between the "
            f"runs: the row medians differ by at most {100 * spread['run_spread']:.1f}% "
            f"({spread['impl']} {spread['rule']})."
        )
    return "\n".join([
        f"# RBM epoch benchmark ({v}-{h}, {args.n:,} rows, batch {b}, {threads} threads)",
        "",
        table(rows),
        "",
        f"**Verdict: {'every row is within its limit' if all_ok else 'NOT every row is within its limit'}** "  # noqa: E501
        "(x bound: torch <= 2x, Keras <= 3x; every row at least 1.0x the week-12 peer; the "
        f"worse of the {n_runs} run{'s' * (n_runs > 1)}).",
        "",
        f"Machine: {mach['processor']}, {mach['cpus_available']} CPUs available, {threads} "
        f"threads (COURSEKIT_THREADS={os.environ.get('COURSEKIT_THREADS', 'unset')}); the "
        f"pools the package sets in each row's process: {'; '.join(pools)}.",
        runs_text,
        "Protocol: one process per row (series.py, spawn), built one after another; one "
        f"warm-up epoch per row, then {args.rounds} round{'s' * (args.rounds > 1)}, each "
        "timing one epoch of every row in turn, so a slow spell of the machine falls on all "
        "rows alike. One sample = one "
        f"epoch: {-(-args.n // b)} updates of batch {b}, as fit(epochs=1) reports it "
        "(history['seconds']: from the epoch's shuffle to its last update, no monitoring); "
        "the peer's epoch timed whole. x peer = the peer's median epoch / the row's median "
        "epoch in the same run (above 1: faster than the peer); x bound = the row's best "
        "epoch / the peak bound (the peak is the best of its measurements: other tenants only "
        "ever slow a run down); the median / peak is shown beside it.",
        f"Peak: {peaks} GFLOP/s, the best of the run's measurements ({peak_lists} GFLOP/s; one "
        "before the rows start, then after round 1, every second round and the last; sizes "
        f"{', '.join(map(str, args.peak_sizes))}, NumPy and torch, in the parent process). "
        f"Peak bound: the epoch's GEMM flops at that rate: {len(per_shape['cd'])} (CD) or "
        f"{len(per_shape['pcd'])} (PCD, and the peer: two for its Gibbs step, two free "
        f"energies and their two weight gradients) GEMMs of {b}x{v}x{h} per batch.",
        f"Own shapes: the same GEMMs at the rate measured for their shapes (run 1, GFLOP/s by "
        f"m,k,n: {gflops_text}).",
        f"Peer: {PEER} (benchmarks/peer_rbm.py), re-implemented from issue 8's description of "
        "the course's week 12 notebook RBM: nn.Module with W (randn x 0.01), a, b; autograd on "
        "mean F(x) - mean F(x_1) of one Gibbs step from the data (chain detached); SGD lr 0.1, "
        "momentum 0.9, weight decay 1e-4; loss.item() every batch. Deviations: the data "
        "pre-binarised in one in-memory tensor, shuffled with randperm (no torchvision, no "
        "DataLoader); the loss never printed; CPU, on the package's thread pools. It does CD-1 "
        "only: the PCD rows are compared with it too, though PCD does one GEMM per batch more "
        "than CD (6, as many as the peer).",
        f"Data: {origin}. Once per fit, before its epoch (checking and converting the "
        f"{args.n:,} rows; not part of the epoch; median): {setups}.",
    ]), all_ok  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60_000, help="training rows (default 60,000)")
    parser.add_argument("--visible", type=int, default=784)
    parser.add_argument("--hidden", type=int, default=500)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument(
        "--rounds", "--repeats", type=int, default=7,
        help="timed epochs per row and run, taken in turns (default 7)",
    )  # fmt: skip
    parser.add_argument(
        "--runs", type=int, default=None,
        help="whole interleaved series, each in fresh processes (default 2; 1 with --quick)",
    )  # fmt: skip
    parser.add_argument(
        "--impl", nargs="+", default=["torch", "peer", "keras", "keras-torch"],
        choices=["torch", "peer", "keras", "keras-torch"],
    )  # fmt: skip
    parser.add_argument(
        "--peak-sizes", type=int, nargs="+", default=[2048, 3072, 4096],
        help="sizes s of the s x s x s products whose best rate is the peak",
    )  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the script runs")
    parser.add_argument("--out", type=Path, default=harness.RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.visible, args.hidden, args.rounds = 2_000, 64, 32, 1
        args.peak_sizes = [256]
    if args.runs is None:
        args.runs = 1 if args.quick else 2
    if args.runs < 1 or args.rounds < 1:
        parser.error("--runs and --rounds must be at least 1")

    import coursekit as ck

    threads = ck.num_threads()
    # The peak runs here, in the parent, with the pools a notebook gets (COURSEKIT_THREADS).
    import torch  # noqa: F401  (imported now: coursekit sets its pools on import)

    ck.threads.apply()
    try:  # NumPy's BLAS takes part in the peak: the same number of threads
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads, user_api="blas")
    except ImportError:  # pragma: no cover - then it uses its default (all cores)
        pass

    per_shape = gemm_shapes(args.batch, args.visible, args.hidden)
    specs = row_specs(args.impl)
    runs = []
    for i in range(args.runs):
        print(f"run {i + 1} of {args.runs}: {len(specs)} rows x {args.rounds} rounds", flush=True)
        runs.append(one_run(specs, args, sorted(set(per_shape["pcd"]))))
    rows = evaluate(specs, runs, per_shape, args)
    text, all_ok = describe(rows, runs, per_shape, args, threads)
    machine = harness.machine()
    for run in runs:
        for found in run["samples"].values():
            machine.update(found["info"].get("versions", {}))
    record = {
        "benchmark": "rbm",
        "config": {k: str(val) for k, val in vars(args).items()},
        "threads": threads,
        "data": next(iter(runs[0]["samples"].values()))["info"]["data"],
        "unit": f"one epoch: {-(-args.n // args.batch)} updates of batch {args.batch}",
        "peak": harness.best_peak([run["peak"] for run in runs]),
        "runs": runs,
        "rows": rows,
        "all_within_limits": all_ok,
        "machine": machine,
    }
    json_path, md_path = harness.write_results("rbm", record, text, out=args.out, peers=True)
    print(text)
    print(f"\nwritten: {md_path} and {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
