"""benchmarks/ising.py: its measurement of one sampler, and a quick run of the script."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import ising as bench  # noqa: E402


def test_run_chains_counts_updates_and_measures_tau():
    row = bench.run_chains(6, 3.0, "metropolis", chains=4, burn_in=5, steps=16, max_steps=32)
    assert row["spin_updates"] == row["steps"] * 4 * 36 and row["steps"] in (16, 32)
    assert row["mean_cluster"] == 36 and row["tau_sweeps"] == row["tau"]
    assert row["seconds_per_independent"] == pytest.approx(
        row["seconds_per_step"] / 4 * 2 * row["tau"]
    )
    wolff = bench.run_chains(6, 2.0, "wolff", chains=4, burn_in=5, steps=16, max_steps=16)
    assert 1 <= wolff["mean_cluster"] <= 36
    assert wolff["tau_sweeps"] == pytest.approx(wolff["tau"] * wolff["mean_cluster"] / 36)


@pytest.mark.slow
def test_ising_benchmark_script_runs_and_records(tmp_path):
    script = REPO / "benchmarks" / "ising.py"
    proc = subprocess.run([sys.executable, str(script), "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads((tmp_path / "ising.json").read_text())
    assert {(r["L"], r["algorithm"]) for r in record["speed"]} == {
        (8, "metropolis"), (8, "wolff")}
    assert all(r["updates_per_second"] > 0 for r in record["speed"])
    assert [r["T"] for r in record["course"]] == [1.5, 3.0] and record["course_seconds"] > 0
    table = (tmp_path / "ising.md").read_text()
    assert "## The course's data set" in table and "M spin updates/s" in table
