"""benchmarks/vae.py: the FLOP counts behind its bound, and a quick run of the script."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import vae as bench  # noqa: E402


def test_mlp_flops_count_every_dense_layer():
    enc, dec = bench.layer_macs("mlp", latent=20, hidden=400)
    assert enc == [784 * 400, 400 * 40] and dec == [20 * 400, 400 * 784]
    # the first layer needs no input gradient: 4 FLOPs per MAC, the others 6
    assert bench.train_flops("mlp", 20, 400) == 4 * 784 * 400 + 6 * (
        400 * 40 + 20 * 400 + 400 * 784
    )
    assert bench.iwae_flops("mlp", 20, 400, k=3) == 2 * sum(enc) + 6 * sum(dec)


def test_conv_flops_follow_the_keras_io_shapes():
    enc, dec = bench.layer_macs("conv", latent=2, hidden=0)
    assert enc[0] == 14 * 14 * 9 * 32 and enc[1] == 7 * 7 * 9 * 32 * 64
    assert dec[-1] == 28 * 28 * 9 * 32 and sum(dec) > sum(enc)


def test_options_default_to_two_runs_of_all_four_rows():
    args = bench.parse_args([])
    assert args.runs == 2 and args.impl == ["torch", "keras", "keras-torch", "peer"]
    assert (args.n_mlp, args.n_conv, args.iwae) == (32_768, 4_096, False)
    quick = bench.parse_args(["--quick", "--n-mlp", "2048"])  # a size given is kept
    assert (quick.runs, quick.n_mlp, quick.n_conv) == (1, 2048, bench.QUICK["n_conv"])
    with pytest.raises(SystemExit):
        bench.parse_args(["--runs", "0"])


@pytest.mark.slow  # not `keras`: the script starts each backend itself; once is enough
def test_vae_benchmark_script_times_the_peers_and_records_x_peer(tmp_path):
    """A quick run with both peers: every row has x bound and x peer per run, x peer being
    the peer's median over the row's median in the same run, and equal work (updates)."""
    script = REPO / "benchmarks" / "vae.py"
    cmd = [sys.executable, str(script), "--quick", "--impl", "torch", "keras", "peer",
           "--arch", "mlp", "conv", "--out", str(tmp_path)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads((tmp_path / "vae.json").read_text())
    rows = record["rows"]
    assert {(r["impl"], r["arch"]) for r in rows} == {
        ("torch", "mlp"), ("keras[tensorflow]", "mlp"), ("peer: pytorch/examples vae", "mlp"),
        ("torch", "conv"), ("keras[tensorflow]", "conv"), ("peer: keras.io VAE", "conv"),
    }  # fmt: skip
    assert len(record["runs"]) == 1 and record["runs"][0]["peak"]["gflops"] > 0
    assert record["machine"]["processor"] and record["iwae_rows"] == []
    for arch in ("mlp", "conv"):
        of_arch = [r for r in rows if r["arch"] == arch]
        peer = next(r for r in of_arch if r["impl"].startswith("peer"))
        for row in of_arch:
            n_runs = len(row["seconds"])
            assert n_runs == 1 and len(row["seconds"][0]) == 2  # quick: 1 run of 2 rounds
            assert row["images"] == peer["images"]
            assert row["updates"] == [[row["updates_per_sample"]]]  # equal work, every sample
            median = statistics.median(row["seconds"][0])
            assert row["median"] == [pytest.approx(median)]
            assert row["x_peer"] == [pytest.approx(peer["median"][0] / median)]
            assert row["x_peer_min"] == pytest.approx(min(row["x_peer"]))
            assert row["x_bound"] == [pytest.approx(median / row["bound_seconds"][0])]
            assert row["bound_seconds"][0] == pytest.approx(
                row["flops"] / (record["runs"][0]["peak"]["gflops"] * 1e9)
            )
            expected = "the peer" if row is peer else (
                "faster than peer" if row["x_peer_min"] >= 1 else "SLOWER than peer")  # fmt: skip
            assert row["verdict"].startswith(expected)
    table = (tmp_path / "vae.md").read_text()
    assert "| row | model | work per sample |" in table and "x peer" in table
    assert "peer: keras.io VAE" in table and "benchmarks/peer_vae.py" in table
