"""Benchmark: the Ising samplers of coursekit.data.ising, and the time to make the course's data.

Three tables:

1. **Speed**: spin updates per second of checkerboard Metropolis (sites visited) and of Wolff
   (spins flipped) at L = 16 and 32, at T = 1.5, T_c and 3.0, with 64 chains side by side as
   :func:`coursekit.data.ising.sample` runs them. Beside each rate, two yardsticks measured in
   the same run: the cost of one update in **peak FLOPs** (the best large float32 matrix
   product of the run, ``harness.peak_rate``, times the seconds per update: what the machine
   could have computed instead), and in **int8 ops**, elementwise NumPy products of int8
   arrays of the same size: the cheapest whole-array pass NumPy makes, against which a
   vectorised sampler's gathers, random numbers and table look-ups are measured.
2. **Autocorrelation**: the integrated autocorrelation times of |m| and E of both samplers, in
   their own steps and in sweeps, and the seconds per independent configuration (seconds per
   step and chain x 2 tau, the thinning :func:`sample` uses) at the course's temperatures for
   L = 16, and around T_c for L = 32 and 64. This is what ``algorithm="auto"`` is chosen by
   (``AUTO_WOLFF_MIN_L``, ``AUTO_WOLFF_WINDOW``).
3. **The course's data set**: :func:`sample` at ``COURSE_L`` = 16 for each of the ten
   ``COURSE_TEMPERATURES``, ``COURSE_N`` = 4,000 configurations each, nothing cached: the wall
   time of each and in all, with burn-in, the measured tau and the thinning.

    python benchmarks/ising.py           # the full benchmark (a few minutes), results in results/
    python benchmarks/ising.py --quick   # seconds, for a smoke test of the script

Writes ``benchmarks/results/ising.md`` and ``benchmarks/results/ising.json``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

CHAINS = 64


def elementwise_seconds(size: int, repeats: int = 7, inner: int = 50) -> float:
    """Seconds of one elementwise int8 product of arrays of ``size`` elements (the yardstick)."""
    rng = np.random.default_rng(0)
    a = rng.integers(-1, 2, size=size, dtype=np.int8)
    b = rng.integers(-1, 2, size=size, dtype=np.int8)
    out = np.empty_like(a)
    timing = harness.time_it(
        "int8 multiply", lambda: [np.multiply(a, b, out=out) for _ in range(inner)],
        repeats=repeats, warmup=2,
    )  # fmt: skip
    return min(timing.samples) / inner


def run_chains(L: int, T: float, algorithm: str, *, chains: int, burn_in: int, steps: int,
               max_steps: int, seed: int = 0) -> dict:  # fmt: skip
    """Run ``chains`` chains of ``algorithm`` at ``T``: ``burn_in`` steps, then at least
    ``steps`` steps timed and recorded (doubling up to ``max_steps`` until the record is
    20 tau long); E and |m| are recorded after each step, outside the timing."""
    from coursekit.data import ising, ising_mc

    rng = np.random.default_rng(seed)
    lattice = ising_mc._lattice(L)
    state = lattice.to_state(ising.random_spins(chains, L, rng))  # [N, chains]
    if algorithm == "metropolis" and T < ising.T_C:  # as sample() starts it
        state[:] = 1
    if algorithm == "metropolis":
        table = ising_mc._acceptance_table(T)

        def step() -> int:
            ising_mc._metropolis(state, lattice, table, rng, 1)
            return state.size
    else:
        p_bond = -math.expm1(-2.0 / T)

        def step() -> int:
            return ising_mc._wolff(state, lattice, p_bond, rng, 1)

    for _ in range(burn_in):
        step()
    seconds, updates = 0.0, 0
    energy, abs_m = [], []
    target = steps
    while True:
        while len(energy) < target:
            start = time.perf_counter()
            updates += step()
            seconds += time.perf_counter() - start
            energy.append(ising_mc._energies(state, lattice))
            abs_m.append(ising_mc._abs_magnetisation(state))
        tau_e, _, ok_e = ising_mc._tau_and_window(np.array(energy).T, 5.0)
        tau_m, _, ok_m = ising_mc._tau_and_window(np.array(abs_m).T, 5.0)
        tau = max(tau_e, tau_m)
        if (ok_e and ok_m and target >= 20 * tau) or target >= max_steps:
            break
        target *= 2
    n_sites = L * L
    per_step = seconds / target
    flips_per_step = updates / (target * chains)
    sweeps_per_step = 1.0 if algorithm == "metropolis" else flips_per_step / n_sites
    return {
        "L": L, "T": T, "algorithm": algorithm, "chains": chains, "steps": target,
        "seconds": seconds, "seconds_per_step": per_step, "spin_updates": updates,
        "updates_per_second": updates / seconds, "mean_cluster": flips_per_step,
        "tau_abs_m": tau_m, "tau_energy": tau_e, "tau": tau, "tau_converged": bool(
            ok_e and ok_m and target >= 20 * tau),
        "tau_sweeps": tau * sweeps_per_step,
        "seconds_per_independent": per_step / chains * 2 * tau,
    }  # fmt: skip


def speed_rows(args, peak_gflops: float) -> list[dict]:
    rows = []
    for L in args.sizes:
        element = elementwise_seconds(CHAINS * L * L)
        for T in args.speed_temperatures:
            for algorithm in ("metropolis", "wolff"):
                row = run_chains(L, T, algorithm, chains=CHAINS, burn_in=args.burn_in,
                                 steps=args.steps, max_steps=args.steps)  # fmt: skip
                per_update = row["seconds"] / row["spin_updates"]
                row["peak_flops_per_update"] = per_update * peak_gflops * 1e9
                row["int8_ops_per_update"] = per_update / (element / (CHAINS * L * L))
                rows.append(row)
                print(f"speed L={L} T={T:.4g} {algorithm}: "
                      f"{row['updates_per_second'] / 1e6:.1f} M/s", flush=True)  # fmt: skip
    return rows


def tau_rows(args) -> list[dict]:
    rows = []
    for L, T in args.tau_cases:
        for algorithm in ("metropolis", "wolff"):
            row = run_chains(L, T, algorithm, chains=CHAINS, burn_in=args.burn_in,
                             steps=args.steps, max_steps=args.max_steps)  # fmt: skip
            rows.append(row)
            print(f"tau L={L} T={T:.4g} {algorithm}: tau {row['tau']:.1f} steps "
                  f"({row['tau_sweeps']:.2f} sweeps)", flush=True)  # fmt: skip
    return rows


def course_rows(args) -> tuple[list[dict], float]:
    from coursekit.data import ising

    rows = []
    start = time.perf_counter()
    for T in args.course_temperatures:
        data = ising.sample(args.course_L, T, args.course_n, seed=0, cache=False)
        rows.append({
            "L": data.L, "T": data.T, "n": data.n, "sampler": data.sampler,
            "chains": data.chains, "tau_abs_m": data.tau_abs_m, "tau_energy": data.tau_energy,
            "tau_sweeps": data.tau_sweeps, "thin": data.thin, "burn_in": data.burn_in,
            "spin_updates": data.spin_updates, "seconds": data.seconds,
            "updates_per_second": data.updates_per_second, "start": data.start,
        })  # fmt: skip
        print(f"course T={T:.4g}: {data.seconds:.2f} s ({data.sampler})", flush=True)
    return rows, time.perf_counter() - start


def fmt_tau(row: dict, key: str) -> str:
    return f"{row[key]:.2f}" if row["tau_converged"] else f"> {row[key]:.0f}"


def tables(speed: list[dict], taus: list[dict], course: list[dict], total: float,
           peak: dict, args) -> str:  # fmt: skip
    from coursekit.data import ising

    speed_table = harness.markdown_table(
        ["L", "T", "sampler", "M spin updates/s", "mean cluster", "peak FLOPs/update",
         "int8 ops/update"],
        [[r["L"], f"{r['T']:.4g}", r["algorithm"], f"{r['updates_per_second'] / 1e6:.1f}",
          f"{r['mean_cluster']:.0f}" if r["algorithm"] == "wolff" else "",
          f"{r['peak_flops_per_update']:,.0f}", f"{r['int8_ops_per_update']:.0f}"]
         for r in speed],
    )  # fmt: skip
    tau_table = harness.markdown_table(
        ["L", "T", "sampler", "tau abs m (steps)", "tau E (steps)", "tau (sweeps)",
         "ms/step (64 chains)", "ms per independent config"],
        [[r["L"], f"{r['T']:.4g}", r["algorithm"], fmt_tau(r, "tau_abs_m"),
          fmt_tau(r, "tau_energy"), fmt_tau(r, "tau_sweeps"),
          f"{r['seconds_per_step'] * 1e3:.2f}", f"{r['seconds_per_independent'] * 1e3:.3f}"]
         for r in taus],
    )  # fmt: skip
    course_table = harness.markdown_table(
        ["T", "sampler", "start", "chains", "tau abs m", "tau E", "tau (sweeps)", "burn-in",
         "thin", "spin updates", "seconds", "M updates/s"],
        [[f"{r['T']:.4g}", r["sampler"], r["start"], r["chains"], f"{r['tau_abs_m']:.2f}",
          f"{r['tau_energy']:.2f}", f"{r['tau_sweeps']:.2f}", r["burn_in"], r["thin"],
          f"{r['spin_updates']:.3g}", f"{r['seconds']:.2f}",
          f"{r['updates_per_second'] / 1e6:.1f}"] for r in course],
    )  # fmt: skip
    machine = harness.machine()
    steps_unit = "steps: sweeps (Metropolis) or cluster flips per chain (Wolff)"
    return "\n".join([
        "# Ising samplers (coursekit.data.ising)",
        "",
        f"## Speed ({CHAINS} chains side by side)",
        "",
        speed_table,
        "",
        "Metropolis counts sites visited, Wolff spins flipped. Peak: the best large float32 "
        f"matrix product of this run, {peak['gflops']:.0f} GFLOP/s ({peak['best_case']}); "
        "int8 ops: elementwise int8 products of arrays of the same size (NumPy, one thread).",
        "",
        "## Autocorrelation and the cost of an independent configuration",
        "",
        tau_table,
        "",
        f"tau = 1 + 2 sum rho(t) with Sokal's window (c = 5), over {CHAINS} chains; "
        f"{steps_unit}; '>' where the record was too short to measure it "
        f"({args.max_steps} steps at most). Cost per independent configuration: seconds per "
        f"step and chain x 2 tau, the thinning of sample(). algorithm='auto' takes Wolff for "
        f"L >= {ising.AUTO_WOLFF_MIN_L} within {ising.AUTO_WOLFF_WINDOW} of T_c.",
        "",
        f"## The course's data set: L = {args.course_L}, {len(course)} temperatures, "
        f"{args.course_n:,} configurations each",
        "",
        course_table,
        "",
        f"**{total:.1f} s in all** (one process, nothing cached; sample() with its defaults).",
        "",
        f"Machine: {machine['processor']}, {machine['cpus_available']} CPUs available, "
        f"NumPy {machine['numpy']}.",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the script runs")
    parser.add_argument("--out", type=Path, default=harness.RESULTS)
    parser.add_argument("--skip-course", action="store_true", help="leave out table 3")
    args = parser.parse_args(argv)

    from coursekit.data import ising

    t_c = ising.T_C
    if args.quick:
        args.sizes, args.speed_temperatures = (8,), (1.5, t_c)
        args.tau_cases = [(8, 2.0), (8, 3.0)]
        args.burn_in, args.steps, args.max_steps = 10, 32, 64
        args.course_L, args.course_n = 8, 64
        args.course_temperatures = (1.5, 3.0)
        peak_sizes = (128,)
    else:
        args.sizes, args.speed_temperatures = (16, 32), (1.5, t_c, 3.0)
        args.tau_cases = [(16, T) for T in ising.COURSE_TEMPERATURES]
        args.tau_cases += [(32, T) for T in (2.2, 2.22, t_c, 2.32, 2.4)]
        args.tau_cases += [(64, T) for T in (2.1, 2.22, t_c, 2.32, 2.45)]
        args.burn_in, args.steps, args.max_steps = 1000, 400, 16384
        args.course_L, args.course_n = ising.COURSE_L, ising.COURSE_N
        args.course_temperatures = ising.COURSE_TEMPERATURES
        peak_sizes = (1024, 2048)

    peak = harness.peak_rate(peak_sizes, repeats=2)
    speed = speed_rows(args, peak["gflops"])
    taus = tau_rows(args)
    course, total = ([], 0.0) if args.skip_course else course_rows(args)
    peak = harness.best_peak([peak, harness.peak_rate(peak_sizes, repeats=2)])
    text = tables(speed, taus, course, total, peak, args)
    record = {
        "speed": speed, "autocorrelation": taus, "course": course, "course_seconds": total,
        "peak": peak, "chains": CHAINS, "machine": harness.machine(), "quick": args.quick,
        "auto_wolff": {"min_L": ising.AUTO_WOLFF_MIN_L, "window": ising.AUTO_WOLFF_WINDOW},
    }  # fmt: skip
    if not args.quick or args.out != harness.RESULTS:  # quick runs never replace the real table
        harness.write_results("ising", record, text, args.out)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
