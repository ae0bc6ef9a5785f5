"""benchmarks/ebm.py: its flop count matches the CNN energy, and the script runs and records."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import REPO

BENCH = REPO / "benchmarks"
sys.path.insert(0, str(BENCH))
import ebm as bench  # noqa: E402


def test_gemm_shapes_match_the_torch_cnn():
    import torch

    from coursekit.torch import CNNEnergy

    net = CNNEnergy(bench.CHANNELS, bench.HIDDEN)
    shapes = []

    def hook(module, inp, out):
        if isinstance(module, torch.nn.Conv2d):
            k = module.in_channels * module.kernel_size[0] * module.kernel_size[1]
            shapes.append((out.shape[0] * out.shape[2] * out.shape[3], k, module.out_channels))
        elif isinstance(module, torch.nn.Linear):
            shapes.append((out.shape[0], module.in_features, module.out_features))

    for m in net.modules():
        m.register_forward_hook(hook)
    net(torch.zeros(3, 1, 28, 28))
    assert shapes == bench.cnn_gemms(3)


@pytest.mark.slow
def test_ebm_benchmark_script_runs_and_records(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(BENCH / "ebm.py"), "--quick", "--impl", "torch", "keras",
         "--out", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads((tmp_path / "ebm.json").read_text())
    assert record["peak_gflops"] > 0
    seen = {(row["impl"], row["workload"]) for row in record["rows"]}
    assert ("torch", "langevin") in seen and ("torch", "updates") in seen
    assert any(impl.startswith("keras[") for impl, _ in seen)
    for row in record["rows"]:
        assert row["ratio"] == pytest.approx(row["measured_seconds"] / row["bound_seconds"])
    assert "| implementation | workload |" in (tmp_path / "ebm.md").read_text()
