"""benchmarks/vae.py: the FLOP counts behind its bound, and a quick run of the script."""

from __future__ import annotations

import json
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


@pytest.mark.keras
@pytest.mark.slow
def test_vae_benchmark_script_runs_and_records(tmp_path):
    script = REPO / "benchmarks" / "vae.py"
    cmd = [sys.executable, str(script), "--quick", "--impl", "torch", "keras", "--arch", "mlp",
           "--out", str(tmp_path)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads((tmp_path / "vae.json").read_text())
    kinds = {(row["impl"], row["what"]) for row in record["rows"]}
    assert ("torch", "epoch") in kinds and ("torch", "iwae") in kinds
    assert any(impl.startswith("keras[") for impl, _ in kinds)
    for row in record["rows"]:
        assert row["bound_seconds"] > 0
        assert row["ratio"] == pytest.approx(row["timing"]["median"] / row["bound_seconds"])
    assert "| implementation | model |" in (tmp_path / "vae.md").read_text()
