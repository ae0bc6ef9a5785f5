"""The benchmark harness: timing, the matmul bound, result files. (No speed is asserted here.)"""

from __future__ import annotations

import json
import sys

import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import harness  # noqa: E402


def test_time_it_counts_warmup_and_repeats():
    calls = []
    timing = harness.time_it("noop", lambda: calls.append(1), repeats=4, warmup=2)
    assert len(calls) == 6
    assert len(timing.samples) == 4
    assert timing.spread[0] <= timing.median <= timing.spread[1]
    with pytest.raises(ValueError, match="repeats"):
        harness.time_it("bad", lambda: None, repeats=0)


def test_bound_uses_the_fastest_library_per_shape():
    rates = {"2,3,4": {"numpy": 2e-6, "torch": 1e-6}, "4,3,2": {"numpy": 3e-6}}
    seconds, gflops = harness.bound_seconds([(2, 3, 4), (4, 3, 2)], rates, count=10)
    assert seconds == pytest.approx(10 * (1e-6 + 3e-6))
    assert gflops["2,3,4"] == pytest.approx(harness.gemm_flops(2, 3, 4) / 1e-6 / 1e9)


def test_matmul_seconds_measures_each_shape():
    rates = harness.matmul_seconds([(8, 16, 4)], repeats=2, inner=2)
    assert set(rates) == {"8,16,4"}
    assert "numpy" in rates["8,16,4"] and all(v > 0 for v in rates["8,16,4"].values())


def test_peak_rate_is_the_best_large_square_product():
    peak = harness.peak_rate([64, 96], repeats=2)
    assert set(peak["by_case"]) >= {"numpy 64", "numpy 96"}
    assert peak["gflops"] == max(peak["by_case"].values()) > 0
    assert peak["by_case"][peak["best_case"]] == peak["gflops"]
    assert harness.best_peak([{"gflops": 1.0}, peak, {"gflops": 0.5}]) is peak
    with pytest.raises(ValueError):
        harness.peak_rate([], repeats=1)
    with pytest.raises(ValueError):
        harness.best_peak([])


def test_write_results_writes_json_and_markdown(tmp_path):
    table = harness.markdown_table(["a", "b"], [[1, 2]])
    assert table.splitlines()[0] == "| a | b |"
    json_path, md_path = harness.write_results("demo", {"x": 1}, table, out=tmp_path)
    assert json.loads(json_path.read_text()) == {"x": 1}
    assert md_path.read_text() == table + "\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.json", "demo.md"]


@pytest.mark.slow
def test_rbm_benchmark_script_runs_and_records(tmp_path):
    import subprocess

    script = REPO / "benchmarks" / "rbm.py"
    proc = subprocess.run(
        [
            sys.executable,
            str(script),
            "--quick",
            "--impl",
            "torch",
            "peer",
            "keras",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads((tmp_path / "rbm.json").read_text())
    impls = {(row["impl"], row["method"]) for row in record["rows"]}
    assert ("torch", "cd") in impls and ("torch", "pcd") in impls
    assert any(impl.startswith("keras[") for impl, _ in impls)
    assert any(impl.startswith("week-12 peer") for impl, _ in impls)
    # The peak is the best of the run's measurements (one before and one after each row set).
    assert len(record["peaks"]) == 4
    assert record["peak"]["gflops"] == max(p["gflops"] for p in record["peaks"])
    for row in record["rows"]:
        median = row["timing"]["median"]
        assert row["bound_seconds"] > 0 and row["ratio"] == pytest.approx(
            row["timing"]["min"] / row["bound_seconds"]
        )
        best = row["timing"]["min"]
        assert row["ratio_to_peak"] == pytest.approx(best / row["peak_bound_seconds"])
        assert row["median_ratio_to_peak"] == pytest.approx(median / row["peak_bound_seconds"])
        if row["limit"] is not None:
            assert row["within_limit"] == (row["ratio_to_peak"] <= row["limit"])
        if row["impl"].startswith("keras["):
            assert row["faster_than_peer"] == (best < row["peer_seconds"])
    assert record["all_within_limits"] == all(
        row["within_limit"] is not False and row.get("faster_than_peer", True)
        for row in record["rows"]
    )
    text = (tmp_path / "rbm.md").read_text()
    assert "| implementation | rule |" in text and "ratio to peak" in text and "Verdict" in text


@pytest.mark.slow
def test_metrics_benchmark_script_runs_and_records(tmp_path):
    import subprocess

    script = REPO / "benchmarks" / "metrics.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert record["n"] == 600 and record["bound_seconds"] > 0
    assert {t["name"] for t in record["timings"]} == {"classifier_fid", "sample_report"}
    assert "| call | samples |" in (tmp_path / "metrics.md").read_text()
