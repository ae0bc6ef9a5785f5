"""benchmarks/ebm.py: its flop count matches the CNN energy and the peer's CNNModel, its ratios
are computed from the right samples, and the script runs all four rows and records them."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest
from conftest import REPO

BENCH = REPO / "benchmarks"
sys.path.insert(0, str(BENCH))
import ebm as bench  # noqa: E402
import peer_ebm  # noqa: E402
from series import Samples  # noqa: E402


def _gemm_shapes(net, x):
    import torch

    shapes = []

    def hook(module, inp, out):
        if isinstance(module, torch.nn.Conv2d):
            k = module.in_channels * module.kernel_size[0] * module.kernel_size[1]
            shapes.append((out.shape[0] * out.shape[2] * out.shape[3], k, module.out_channels))
        elif isinstance(module, torch.nn.Linear):
            shapes.append((out.shape[0], module.in_features, module.out_features))

    for m in net.modules():
        m.register_forward_hook(hook)
    net(x)
    return shapes


def test_gemm_shapes_match_the_torch_cnn():
    import torch

    from coursekit.torch import CNNEnergy

    net = CNNEnergy(bench.CHANNELS, bench.HIDDEN)
    assert _gemm_shapes(net, torch.zeros(3, 1, 28, 28)) == bench.cnn_gemms(3)


def test_the_peer_network_is_the_same_work():
    """Equal work: the tutorial's CNNModel has coursekit's GEMMs and parameter count."""
    import torch

    from coursekit.torch import CNNEnergy

    model, _ = peer_ebm.build()
    assert _gemm_shapes(model, torch.zeros(3, 1, 28, 28)) == bench.cnn_gemms(3)
    ours = CNNEnergy(bench.CHANNELS, bench.HIDDEN)
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in ours.parameters())


def test_the_peer_update_trains_and_fills_its_buffer():
    import torch

    model, sampler_cls = peer_ebm.build()
    sampler = sampler_cls(model, img_shape=(1, 28, 28), sample_size=4)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.0, 0.999))
    before = [p.detach().clone() for p in model.parameters()]
    loss = peer_ebm.training_step(model, sampler, opt, torch.rand(4, 1, 28, 28) * 2 - 1, steps=3)
    assert torch.isfinite(loss) and len(sampler.examples) == 8
    assert all(p.requires_grad for p in model.parameters()) and model.training
    assert any(not torch.equal(a, p) for a, p in zip(before, model.parameters(), strict=True))


def test_ratios_come_from_the_right_samples():
    args = argparse.Namespace(batch=128, steps=60, updates=2, langevin_steps=10,
                              impl=["torch", "peer"])  # fmt: skip
    runs = []
    for scale, peak in ((1.0, 100.0), (1.5, 50.0)):
        samples = {
            "torch": Samples("torch", [2.0 * scale, 4.0 * scale, 3.0 * scale],
                             [{"langevin": 0.1}, {"langevin": 0.3}, {"langevin": 0.2}]),
            "peer": Samples("peer", [6.0, 6.0, 6.0], [{"langevin": 0.1}] * 3),
        }
        runs.append({"samples": samples, "peak": {"gflops": peak}})
    rows = {(r["impl"], r["workload"]): r for r in bench.summarise(args, runs)}
    torch_row = rows["torch", "updates"]
    assert torch_row["seconds"] == pytest.approx([1.5, 2.25])  # medians / 2 updates
    assert torch_row["x_peer"] == pytest.approx([2.0, 3.0 / 2.25])
    assert torch_row["x_peer_min"] == pytest.approx(3.0 / 2.25)
    flops = 60 * 2 * bench.forward_flops(128) + 3 * bench.forward_flops(256)
    assert torch_row["bound_seconds"] == pytest.approx([flops / 100e9, flops / 50e9])
    assert torch_row["verdict"].startswith("faster than peer")
    chain = rows["torch", "langevin"]
    assert chain["x_peer"] == pytest.approx([0.5, 0.5])  # 0.1 / 0.2 per chain
    assert chain["verdict"].startswith("SLOWER than peer")
    assert rows["peer", "updates"]["x_peer"] == [1.0, 1.0]


@pytest.mark.slow  # not `keras`: the script starts each backend itself; once is enough
def test_ebm_benchmark_script_runs_and_records(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(BENCH / "ebm.py"), "--quick", "--out", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads((tmp_path / "ebm.json").read_text())
    assert record["runs"][0]["peak"]["gflops"] > 0 and record["machine"]["processor"]
    rows = {(row["impl"], row["workload"]): row for row in record["rows"]}
    impls = {"torch", "keras[tensorflow]", "keras[torch]", "peer"}
    assert set(rows) == {(i, w) for i in impls for w in ("updates", "langevin")}
    for (_, workload), row in rows.items():
        peer = rows["peer", workload]
        assert len(row["seconds"]) == len(row["x_peer"]) == 1  # --quick: one run
        assert row["x_peer"] == pytest.approx(
            [p / s for p, s in zip(peer["seconds"], row["seconds"], strict=True)])
        assert row["x_peer_min"] == pytest.approx(min(row["x_peer"]))
        assert row["x_bound"] == pytest.approx(
            [s / b for s, b in zip(row["seconds"], row["bound_seconds"], strict=True)])
        assert row["x_peer"] != [1.0] or row["impl"] == "peer"
    md = (tmp_path / "ebm.md").read_text()
    assert "| implementation | s per update |" in md and "x peer" in md and "Machine:" in md
