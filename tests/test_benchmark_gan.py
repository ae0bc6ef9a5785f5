"""benchmarks/gan.py: the FLOP count behind its bound, the peer's networks (the tutorial's, the
same as coursekit's), the ratios computed from the right samples, and a quick run of the script
with all four rows."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import gan as bench  # noqa: E402
import peer_gan  # noqa: E402
from series import Samples  # noqa: E402


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


def _args(**over) -> argparse.Namespace:
    base = {"batch": 8, "steps": 2, "latent": 3, "g": [4, 3, 2], "d": [2, 3],
            "impl": list(bench.ROWS), "rounds": 3}  # fmt: skip
    return argparse.Namespace(**{**base, **over})


def test_every_row_has_its_own_process_settings_and_the_same_work():
    series = bench.make_series(list(bench.ROWS), _args())
    assert [s.label for s in series] == ["torch", "keras[tensorflow]", "keras[torch]", "peer"]
    assert [s.env.get("KERAS_BACKEND") for s in series] == [None, "tensorflow", "torch",
                                                            "tensorflow"]  # fmt: skip
    assert series[-1].factory == "peer_gan:peer_row"
    work = [{k: s.kwargs[k] for k in ("batch", "steps", "latent", "g", "d")} for s in series]
    assert all(w == work[0] for w in work)


def _runs(seconds: dict[str, list[list[float]]], gflops: list[float]) -> list[dict]:
    return [{"peak": {"gflops": g},
             "samples": {k: Samples(k, v[i], info={"run": i}) for k, v in seconds.items()}}
            for i, g in enumerate(gflops)]  # fmt: skip


def test_ratios_come_from_the_medians_of_each_run():
    seconds = {"torch": [[2.0, 9.0, 1.0], [4.0, 4.0, 5.0]],  # medians 2, 4 (per sample)
               "peer": [[3.0, 3.0, 0.0], [2.0, 9.0, 2.0]]}  # medians 3, 2  # fmt: skip
    args = _args(impl=["torch", "peer"])
    rows = bench.summarise(_runs(seconds, [1.0, 2.0]), flops=10**9, args=args)
    torch_row, peer_row = rows
    assert torch_row["seconds_per_step"] == [1.0, 2.0]  # median sample / 2 steps
    assert torch_row["x_peer"] == pytest.approx([1.5, 0.5]) and torch_row["x_peer_min"] == 0.5
    assert torch_row["bound_seconds"] == pytest.approx([1.0, 0.5])
    assert torch_row["x_bound"] == pytest.approx([1.0, 4.0]) and torch_row["x_bound_max"] == 4.0
    assert torch_row["verdict"] == "SLOWER than peer; OVER 1.5x bound"
    assert peer_row["x_peer"] == [1.0, 1.0] and peer_row["verdict"] == "the peer"
    assert torch_row["worker"] == [{"run": 0}, {"run": 1}]


def test_a_row_faster_than_the_peer_within_the_bound_in_both_runs():
    seconds = {"torch": [[1.0], [1.0]], "peer": [[1.2], [1.1]]}
    rows = bench.summarise(_runs(seconds, [1.0, 1.0]), flops=10**9,
                           args=_args(impl=["torch", "peer"], steps=1))  # fmt: skip
    assert rows[0]["verdict"] == "faster than peer; within 1.5x bound"
    rows = bench.summarise(_runs({"torch": [[1.0]]}, [1.0]), flops=10**9,
                           args=_args(impl=["torch"], steps=1))  # fmt: skip
    assert rows[0]["x_peer"] is None and rows[0]["verdict"] == "within 1.5x bound"


@pytest.mark.keras
def test_the_peer_builds_the_tutorial_networks_the_same_as_coursekit():
    from coursekit.keras import DCGAN

    gen = peer_gan.make_generator_model()
    dis = peer_gan.make_discriminator_model()
    assert gen.output_shape == (None, 28, 28, 1) and dis.output_shape == (None, 1)
    assert [type(layer).__name__ for layer in dis.layers] == [
        "Conv2D", "LeakyReLU", "Dropout", "Conv2D", "LeakyReLU", "Dropout", "Flatten", "Dense"]
    ours = DCGAN(100, seed=0)

    def shapes(model):
        return sorted(tuple(v.shape) for v in model.trainable_variables)

    assert shapes(gen) == shapes(ours.generator)
    assert shapes(dis) == shapes(ours.discriminator)
    assert gen.count_params() == ours.generator.count_params()


@pytest.mark.slow  # not `keras`: the script starts each backend itself; once is enough
def test_gan_benchmark_script_runs_all_rows_and_records_x_peer(tmp_path):
    script = REPO / "benchmarks" / "gan.py"
    cmd = [sys.executable, str(script), "--quick", "--out", str(tmp_path)]
    env = {**os.environ, "COURSEKIT_THREADS": "1"}  # a smoke run: stay off the other cores
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads((tmp_path / "gan.json").read_text())
    rows = {row["impl"]: row for row in record["rows"]}
    assert list(rows) == ["torch", "keras[tensorflow]", "keras[torch]", "peer"]
    assert len(record["runs"]) == 1 and record["machine"]["threads"] == 1
    peer = rows["peer"]["seconds_per_step"][0]
    for row in rows.values():
        seconds, bound = row["seconds_per_step"][0], row["bound_seconds"][0]
        assert bound > 0 and row["x_bound"] == [pytest.approx(seconds / bound)]
        assert row["x_peer"] == [pytest.approx(peer / seconds)]
        assert row["x_peer_min"] == min(row["x_peer"])
        assert all(w["threads"] == 1 for w in row["worker"])
    assert "TensorFlow" in rows["peer"]["worker"][0]["framework"]
    assert "torch" in rows["keras[torch]"]["worker"][0]["framework"]
    md = (tmp_path / "gan.md").read_text()
    assert "| row | ms per step (one run) |" in md and "| peer: TF DCGAN tutorial" in md
    assert "Machine:" in md and "Peer:" in md and "Deviations:" in md
