"""Updates per second with 1 and with 2 processes (``torchrun``, gloo, DDP) on this machine.

Issue 24 asks for the number, stated honestly: on a machine of 2 CPU cores two processes share
the same two cores that one process with two threads already uses, and add the gradient
all-reduce, the global batch norm's all-reduces and one agreement per update on top; so data
parallelism cannot speed training up here. It pays where each process has its own device (a
GPU each, or a node each).

Rows, for the week 4 DCGAN (the tutorial's widths, batch 256) and the week 3 MLP VAE (784-400-20,
batch 128), every row the same global batch and the same updates:

* ``1 process x 2 threads``: plain ``python -m coursekit.train`` (what a student runs);
* ``2 processes x 1 thread``: ``torchrun --nproc_per_node=2`` (each process half of each batch);
* ``1 process x 1 thread``: what one of those two processes could do alone, for scale.

Each sample launches the command line afresh (:mod:`coursekit.train`) and reads the seconds
inside the training steps from the run's ``history.json`` (start-up, data loading and the
process group's rendezvous are not timed); the rows take turns, ``--rounds`` times, and the
machine's peak (:func:`harness.peak_rate`) is measured after every round. Results:
``benchmarks/results/distributed.{md,json}``::

    .venv/bin/python benchmarks/distributed.py            # on an otherwise idle machine
    .venv/bin/python benchmarks/distributed.py --quick    # a minute, to try it
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
from gan import step_flops  # noqa: E402
from vae import train_flops  # noqa: E402

ROWS = {  # label: (processes, threads per process)
    "1 process x 2 threads": (1, 2),
    "2 processes x 1 thread": (2, 1),
    "1 process x 1 thread": (1, 1),
}


def models(quick: bool) -> dict[str, dict]:
    """The two workloads: command-line arguments, updates timed and FLOPs per update. The first
    updates of a fresh process set up its kernels: the DCGAN's first 2 updates and the VAE's
    first epoch are run but not timed."""
    # at most 4,000 rows: the offline fallback's training digits
    gan_updates, vae_rows, vae_epochs = (5, 1024, 2) if quick else (14, 3968, 6)
    return {
        "DCGAN (tutorial widths), batch 256": {
            "args": ["gan", "--batch", "256", "--updates", str(gan_updates), "--log-every", "1",
                     "--rows", str(256 * gan_updates)],
            "updates": gan_updates - 2, "skip_rows": 2,
            "flops": step_flops(100, (256, 128, 64), (64, 128), 256),
        },
        "MLP VAE 784-400-20, batch 128": {
            "args": ["vae", "--batch", "128", "--epochs", str(vae_epochs), "--rows",
                     str(vae_rows)],
            "updates": (vae_epochs - 1) * vae_rows // 128, "skip_rows": 1,
            "flops": 128 * train_flops("mlp", 20, 400),
        },
    }


def sample(args: list[str], skip_rows: int, processes: int, threads: int) -> float:
    """Seconds inside the training steps of one fresh run, after its first ``skip_rows``
    history rows."""
    env = {**os.environ, "COURSEKIT_OFFLINE": "1", "PYTHONWARNINGS": "ignore",
           "COURSEKIT_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)}
    launch = [sys.executable, "-m", "coursekit.train"]
    if processes > 1:
        launch = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                  f"--nproc_per_node={processes}", "-m", "coursekit.train"]
    with tempfile.TemporaryDirectory() as out:
        run = subprocess.run([*launch, *args, "--quiet", "--out", out], env=env,
                             capture_output=True, text=True, timeout=1800)
        if run.returncode != 0:
            raise RuntimeError(f"{' '.join(launch + args)} failed:\n{run.stderr[-3000:]}")
        history = json.loads((Path(out) / "history.json").read_text())
    return history["seconds"][-1] - history["seconds"][skip_rows - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="fewer updates and 1 round")
    args = parser.parse_args()
    rounds = 1 if args.quick else args.rounds
    work = models(args.quick)
    seconds: dict[str, dict[str, list[float]]] = {m: {r: [] for r in ROWS} for m in work}
    peaks = [harness.peak_rate()]
    for i in range(rounds):
        for model, spec in work.items():
            order = list(ROWS) if i % 2 == 0 else list(reversed(ROWS))
            for row in order:
                seconds[model][row].append(sample(spec["args"], spec["skip_rows"], *ROWS[row]))
                print(f"round {i + 1} {model} {row}: {seconds[model][row][-1]:.2f} s",
                      file=sys.stderr)
        peaks.append(harness.peak_rate())
    peak = harness.best_peak(peaks)
    table_rows, record_rows = [], []
    for model, spec in work.items():
        base = statistics.median(seconds[model]["1 process x 2 threads"])
        for row in ROWS:
            med = statistics.median(seconds[model][row])
            per_update = med / spec["updates"]
            bound = spec["flops"] / (peak["gflops"] * 1e9)
            record_rows.append({"model": model, "row": row, "processes": ROWS[row][0],
                                "threads_per_process": ROWS[row][1], "seconds": seconds[model][row],
                                "updates": spec["updates"], "updates_per_second": 1 / per_update,
                                "x_bound": per_update / bound, "x_one_process": base / med})
            table_rows.append([model, row, f"{1 / per_update:.2f}", f"{per_update * 1e3:.0f}",
                               f"{per_update / bound:.2f}", f"{base / med:.2f}",
                               f"{min(seconds[model][row]):.2f}-{max(seconds[model][row]):.2f}"])
    info = harness.machine()
    table = "\n".join([
        "# Data parallelism on this machine: updates per second with 1 and 2 processes",
        "",
        harness.markdown_table(["model", "row", "updates / s", "ms per update", "x bound",
                                "speed vs 1 process x 2 threads", "range s (timed part)"],
                               table_rows),
        "",
        f"Machine: {info['processor']}, {info['cpus_available']} CPUs available; torch "
        f"{info.get('torch')}; {info['date']}. Peak (best large square matmul of the run, "
        f"measured before the rows and after every round): {peak['gflops']:.1f} GFLOP/s "
        f"({peak['best_case']}).",
        "",
        f"Protocol: every sample is a fresh `python -m coursekit.train` (2 processes: `torchrun "
        f"--standalone --nproc_per_node=2`, gloo), timed by the run's own history (seconds "
        f"inside the training steps, the all-reduces included; start-up, data, rendezvous and "
        f"the first updates, which set up the kernels, not: the DCGAN's first 2 updates, the "
        f"VAE's first epoch); {rounds} round(s), the rows taking turns (reversed every other "
        f"round); the medians are shown. x bound: the median time per update over the "
        f"update's dense and convolution FLOPs at the peak. Threads per process set with "
        f"COURSEKIT_THREADS (and OMP_NUM_THREADS).",
        "",
        "Why 2 processes are not faster here: both share the same 2 cores that one process "
        "with 2 threads already keeps busy, each runs its half-batch at 1 thread (small "
        "matrix products use a core less well than large ones), and every update adds the "
        "gradient all-reduce over gloo (for the DCGAN also the batch norms' all-reduces) and "
        "the agreement on Ctrl-C. Data parallelism adds hardware, not speed per core: on W "
        "GPUs or nodes each process brings its own compute (Li et al. 2020, PyTorch "
        "Distributed, VLDB).",
    ])
    record = {"machine": info, "peak": peak, "peaks": peaks, "rounds": rounds,
              "quick": args.quick, "rows": record_rows}
    if not args.quick:
        harness.write_results("distributed", record, table)
    print(table)


if __name__ == "__main__":
    main()
