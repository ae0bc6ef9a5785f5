"""benchmarks/gan.py: the FLOP count behind its bound, and a quick run of the script."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import gan as bench  # noqa: E402


def test_layer_macs_follow_the_tutorial_shapes():
    gen, dis = bench.layer_macs(100, (256, 128, 64), (64, 128))
    assert gen == [100 * 49 * 256, 49 * 25 * 256 * 128, 49 * 25 * 128 * 64, 196 * 25 * 64]
    assert dis == [196 * 25 * 64, 49 * 25 * 64 * 128, 49 * 128]


def test_step_flops_count_forward_and_both_backward_passes():
    gen, dis = bench.layer_macs(2, (1, 1, 1), (1, 1))
    b = 3
    # G forward (B) + D forward (2B) + D backward (weights 2B, inputs above layer 1 on 2B)
    # + G loss backward (D inputs on B, G weights on B, G inputs above the dense layer on B)
    macs = (b * sum(gen) + 2 * b * sum(dis) + 2 * b * sum(dis) + 2 * b * sum(dis[1:])
            + b * sum(dis) + b * sum(gen) + b * sum(gen[1:]))  # fmt: skip
    assert bench.step_flops(2, (1, 1, 1), (1, 1), b) == 2 * macs


@pytest.mark.keras
@pytest.mark.slow
def test_gan_benchmark_script_runs_and_records(tmp_path):
    script = REPO / "benchmarks" / "gan.py"
    cmd = [sys.executable, str(script), "--quick", "--impl", "torch", "keras",
           "--out", str(tmp_path)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads((tmp_path / "gan.json").read_text())
    impls = [row["impl"] for row in record["rows"]]
    assert impls[0] == "torch" and impls[1].startswith("keras[")
    for row in record["rows"]:
        assert row["bound_seconds"] > 0
        assert row["ratio"] == pytest.approx(row["timing"]["median"] / row["bound_seconds"])
    assert "| implementation | steps per second |" in (tmp_path / "gan.md").read_text()
