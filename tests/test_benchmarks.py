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


def _fake_run(seconds: dict[str, list[float]], gflops: float) -> dict:
    """A run of benchmarks/rbm.py as ``one_run`` returns it, with made-up epoch times."""
    rates = {f"{m},{k},{n}": {"numpy": harness.gemm_flops(m, k, n) / 50e9}
             for m, k, n in [(10, 8, 4), (10, 4, 8), (8, 10, 4)]}  # fmt: skip
    return {
        "wall_seconds": 1.0,
        "peaks": [{"gflops": gflops, "best_case": "numpy 64"}],
        "peak": {"gflops": gflops, "best_case": "numpy 64"},
        "matmul_seconds": rates,
        "samples": {
            label: {
                "seconds": s,
                "extras": [{"setup": 0.01}] * len(s),
                "info": {"data": "random", "threads": {"torch": "intra-op 1"}},
            }
            for label, s in seconds.items()
        },
    }


def test_rbm_evaluate_gives_every_row_its_ratio_to_the_peer_and_the_bound():
    import argparse

    import rbm

    specs = rbm.row_specs(["torch", "peer", "keras"])
    assert [(s["impl"], s["method"]) for s in specs] == [
        ("torch", "cd"), ("torch", "pcd"), (rbm.PEER, "cd"),
        ("keras[tensorflow]", "cd"), ("keras[tensorflow]", "pcd"),
    ]  # fmt: skip
    assert specs[3]["env"] == {"KERAS_BACKEND": "tensorflow"}
    labels = [s["label"] for s in specs]
    times = [{labels[0]: [1.0, 2.0, 3.0], labels[1]: [2.0, 2.0, 2.5], labels[2]: [4.0, 5.0, 6.0],
              labels[3]: [6.0, 6.0, 6.0], labels[4]: [2.0, 2.5, 3.0]},
             {labels[0]: [2.5, 2.5, 2.5], labels[1]: [2.0, 2.0, 2.0], labels[2]: [5.0, 5.0, 5.0],
              labels[3]: [4.0, 4.0, 4.0], labels[4]: [5.0, 5.5, 6.0]}]  # fmt: skip
    runs = [_fake_run(times[0], 100.0), _fake_run(times[1], 200.0)]
    args = argparse.Namespace(n=40, batch=10, visible=8, hidden=4, rounds=3, peak_sizes=[64])
    per_shape = rbm.gemm_shapes(10, 8, 4)
    rows = rbm.evaluate(specs, runs, per_shape, args)
    by = {(row["impl"], row["method"]): row for row in rows}
    # x peer: the peer's median epoch over the row's, per run (5/2, 5/2.5 for torch CD-1)
    assert by["torch", "cd"]["x_peer"] == pytest.approx([2.5, 2.0])
    assert by["torch", "cd"]["x_peer_min"] == pytest.approx(2.0)
    assert by["keras[tensorflow]", "cd"]["x_peer"] == pytest.approx([5 / 6, 5 / 4])
    assert by["keras[tensorflow]", "cd"]["faster_than_peer"] is False
    assert by["keras[tensorflow]", "pcd"]["x_peer"] == pytest.approx([2.0, 5 / 5.5])
    assert by[rbm.PEER, "cd"]["x_peer"] == [1.0, 1.0]
    assert by[rbm.PEER, "cd"]["faster_than_peer"] is None
    # x bound: the best epoch over the epoch's flops at the run's peak (4 batches; CD 5 GEMMs,
    # PCD and the peer 6, of 2 * 10 * 8 * 4 flops)
    cd_bound = 4 * 5 * harness.gemm_flops(10, 8, 4) / 100e9
    assert by["torch", "cd"]["runs"][0]["peak_bound_seconds"] == pytest.approx(cd_bound)
    assert by["torch", "cd"]["x_bound"] == pytest.approx([1.0 / cd_bound, 2.5 / (cd_bound / 2)])
    assert by[rbm.PEER, "cd"]["gemms_per_batch"] == by["torch", "pcd"]["gemms_per_batch"] == 6
    assert by["torch", "cd"]["x_bound_max"] == max(by["torch", "cd"]["x_bound"])
    assert by["torch", "cd"]["within_limit"] is False  # far over 2x with these made-up times
    assert by["torch", "cd"]["run_spread"] == pytest.approx(0.25)
    text = rbm.table(rows)
    assert "| x peer |" in text and "**2.50x / 2.00x**" in text
    assert "NO, SLOWER than peer" in text and "| reference | reference |" in text


def test_rbm_peer_does_six_gemms_per_batch_and_learns():
    import peer_rbm
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    class CountProducts(TorchDispatchMode):
        def __init__(self) -> None:
            super().__init__()
            self.mm = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.mm += func in (torch.ops.aten.mm.default, torch.ops.aten.addmm.default)
            return func(*args, **(kwargs or {}))

    torch.manual_seed(0)
    model, optimizer = peer_rbm.make_peer(16, 8)
    before = model.W.detach().clone()
    data = (torch.rand(30, 16) < 0.3).float()
    with CountProducts() as count:
        loss = peer_rbm.peer_epoch(model, optimizer, data, batch_size=10)
    assert count.mm == 3 * 6  # three batches
    assert torch.isfinite(torch.tensor(loss)) and not torch.equal(before, model.W.detach())


@pytest.mark.slow
def test_rbm_benchmark_script_runs_and_records(tmp_path):
    import statistics
    import subprocess

    script = REPO / "benchmarks" / "rbm.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--quick", "--impl", "torch", "peer", "keras",
         "--out", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads((tmp_path / "rbm.json").read_text())
    impls = {(row["impl"], row["method"]) for row in record["rows"]}
    assert impls == {("torch", "cd"), ("torch", "pcd"), ("week-12 peer (torch autograd)", "cd"),
                     ("keras[tensorflow]", "cd"), ("keras[tensorflow]", "pcd")}  # fmt: skip
    assert len(record["runs"]) == 1 and record["machine"]["processor"]
    run = record["runs"][0]
    # The peak is the best of the run's measurements (one before the rows, one after round 1).
    assert len(run["peaks"]) == 2
    assert (
        record["peak"]["gflops"] == run["peak"]["gflops"] == max(p["gflops"] for p in run["peaks"])
    )
    samples = run["samples"]
    assert all(len(s["seconds"]) == 1 for s in samples.values())  # --quick: one round
    peer = statistics.median(samples["week-12 peer (torch autograd)"]["seconds"])
    for row in record["rows"]:
        label = (
            row["impl"] if row["impl"].startswith("week-12") else f"{row['impl']} {row['method']}"
        )
        mine = statistics.median(samples[label]["seconds"])
        assert row["x_peer"] == pytest.approx([peer / mine])
        assert row["x_peer_min"] == min(row["x_peer"])
        (one,) = row["runs"]
        best, median = one["timing"]["min"], one["timing"]["median"]
        assert median == pytest.approx(mine)
        assert one["bound_seconds"] > 0 and one["ratio"] == pytest.approx(
            best / one["bound_seconds"]
        )
        assert row["x_bound"] == pytest.approx([best / one["peak_bound_seconds"]])
        assert one["median_x_bound"] == pytest.approx(median / one["peak_bound_seconds"])
        if row["limit"] is not None:
            assert row["within_limit"] == (row["x_bound_max"] <= row["limit"])
            assert row["faster_than_peer"] == (row["x_peer_min"] >= 1.0)
    assert record["all_within_limits"] == all(
        row["within_limit"] is not False and row["faster_than_peer"] is not False
        for row in record["rows"]
    )
    text = (tmp_path / "rbm.md").read_text()
    assert "| implementation | rule |" in text and "| x peer |" in text and "Verdict" in text
    assert "week-12 peer" in text and "Machine:" in text


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


def test_results_with_peers_say_which_rows_run_with_which_malloc_thresholds(tmp_path):
    json_path, md_path = harness.write_results("demo", {"x": 1}, "| a |", out=tmp_path,
                                               peers=True)  # fmt: skip
    assert md_path.read_text().endswith(harness.MEMORY_NOTE + "\n")
    assert json.loads(json_path.read_text())["malloc"]["peers"] == "glibc's own"


def test_a_peers_process_starts_with_glibcs_own_malloc_and_a_coursekit_rows_does_not():
    from series import PEER_ENV, Series, process_env

    assert PEER_ENV == {"COURSEKIT_MALLOC": "default"}
    peer = Series("peer", "peer_gan:runner", env={"KERAS_BACKEND": "tensorflow"})
    assert process_env(peer) == {"COURSEKIT_MALLOC": "default", "KERAS_BACKEND": "tensorflow"}
    ours = Series("torch", "gan_rows:coursekit_row", env={"KERAS_BACKEND": "torch"})
    assert process_env(ours) == {"KERAS_BACKEND": "torch"}


def test_a_worker_process_sees_its_environment_from_its_first_import():
    from series import Series, interleaved

    got = interleaved([Series("peer", "peer_probe_env:runner")], rounds=1, warmup=0)
    assert got["peer"].info == {"COURSEKIT_MALLOC": "default", "installed": False}
