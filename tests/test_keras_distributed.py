"""Data-parallel Keras (issue 24), each backend with its own engine.

On tensorflow, ``tf.distribute.MirroredStrategy`` over 2 logical CPU devices: the VAE and the
DCGAN end equal, to float rounding, to the same model on one device with the same global batch
and rows, with the same history. Runs in a fresh process: TensorFlow's logical devices are
fixed before it first runs anything. What keeps them equal: each replica's loss is divided by
the number of replicas (Keras' optimizer adds the replicas' gradients); the per-row draws (the
VAE's binarisation and eps, the DCGAN's noise and dropout masks) are drawn for the whole
global batch and cut by replica; the DCGAN's batch norm takes the global batch's statistics
(``coursekit.keras.distributed``).

On torch, 2 gloo processes under ``torchrun`` (``python -m coursekit.train --framework keras``)
train the DCGAN and the VAE through ``DistributedDataParallel`` and end with the parameters of
one process with the same global batch and data order, to float rounding.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("tensorflow")

WORKER = r"""
import json, os, sys
os.environ["KERAS_BACKEND"] = "tensorflow"
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
import numpy as np
from coursekit.keras import DCGAN, VAE

x = np.random.default_rng(0).uniform(0, 1, (256, 784)).astype(np.float32) ** 3

def vae(strategy, **checkpoint):
    scope = strategy.scope() if strategy is not None else tf.distribute.get_strategy().scope()
    with scope:
        vae = VAE(4, hidden=32, seed=0)
        vae.compile(optimizer=keras.optimizers.Adam(1e-3))
        history = vae.fit(x, epochs=2, batch_size=64, verbose=0, shuffle=False,
                          **checkpoint).history
    return [w.tolist() for w in vae.get_weights()], history

def gan(strategy):
    scope = strategy.scope() if strategy is not None else tf.distribute.get_strategy().scope()
    keras.utils.set_random_seed(0)  # the dropout layers' seeds
    with scope:
        gan = DCGAN(8, generator_channels=(16, 8, 4), discriminator_channels=(4, 8), seed=0)
        history = gan.fit(2 * x[:128] - 1, updates=4, batch_size=32, log_every=2, progress=False)
    history.pop("grid"), history.pop("seconds")
    return [w.tolist() for w in gan.get_weights().values()], history

mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
runs = {"vae": [vae(None), vae(mirrored)], "gan": [gan(None), gan(mirrored)],
        "vae_checkpointed": [vae(None), vae(mirrored, checkpoint=sys.argv[1] + ".ckpt.npz",
                                            checkpoint_every=3)]}
try:
    gan(tf.distribute.MirroredStrategy(["/cpu:0"]))
    runs["one_replica"] = "trained"
except ValueError as err:
    runs["one_replica"] = str(err)
json.dump(runs, open(sys.argv[1], "w"))
"""


@pytest.fixture(scope="module")
def mirrored_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("mirrored") / "runs.json"
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "PYTHONWARNINGS": "ignore"}
    run = subprocess.run([sys.executable, "-c", WORKER, str(out)], env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.mark.parametrize("model", ["vae", "gan", "vae_checkpointed"])
def test_mirrored_strategy_on_two_cpu_devices_trains_as_one_device(mirrored_runs, model):
    """``vae_checkpointed``: the same with a checkpoint every 3 updates under the strategy."""
    (w1, h1), (w2, h2) = mirrored_runs[model]
    assert len(w1) == len(w2) > 4
    for a, b in zip(w1, w2, strict=True):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-5, atol=1e-6)
    keys = {"d_loss", "g_loss", "d_real"} if model == "gan" else {"loss", "reconstruction", "kl"}
    assert h1.keys() == h2.keys() >= keys
    for key in h1:  # as reported: the global batch's mean, not R times it
        np.testing.assert_allclose(h2[key], h1[key], rtol=1e-5, err_msg=key)
    if model != "gan":
        assert h1["loss"][1] < h1["loss"][0]  # it trained


def test_the_dcgan_under_a_strategy_of_one_replica_is_one_clear_error(mirrored_runs):
    assert mirrored_runs["one_replica"].startswith(
        "the DCGAN trains under a tf.distribute strategy only with several replicas")


ENV = {**os.environ, "KERAS_BACKEND": "torch", "COURSEKIT_OFFLINE": "1",
       "PYTHONWARNINGS": "ignore"}
RUNS = {
    "gan": ["gan", "--rows", "256", "--updates", "6", "--batch", "32", "--latent", "8",
            "--generator-channels", "16,8,4", "--discriminator-channels", "4,8"],
    "vae": ["vae", "--rows", "256", "--epochs", "2", "--batch", "32", "--hidden", "32",
            "--latent", "4"],
}


def _train(args: list[str], out, processes: int = 1, **env: str) -> subprocess.CompletedProcess:
    launch = [sys.executable, "-m", "coursekit.train"]
    if processes > 1:
        launch = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                  f"--nproc_per_node={processes}", "-m", "coursekit.train"]
    return subprocess.run([*launch, *args, "--framework", "keras", "--quiet", "--out", str(out)],
                          env={**ENV, **env}, capture_output=True, text=True, timeout=600)


def _weights(path) -> dict[str, np.ndarray]:
    with np.load(path) as z:
        return {k: z[k] for k in z.files if z[k].dtype.kind == "f"}


@pytest.mark.parametrize("model", ["gan", "vae"])
def test_keras_on_torch_under_ddp_with_two_gloo_processes_trains_as_one(tmp_path, model):
    """The yardstick for rounding, as in ``test_distributed.py``: the same one-process run on
    1 thread; each array of the 2-process run is at most twice as far (plus 1e-6)."""
    pytest.importorskip("torch")
    args = RUNS[model]
    one, two = _train(args, tmp_path / "one"), _train(args, tmp_path / "two", processes=2)
    thread = _train(args, tmp_path / "thread", COURSEKIT_THREADS="1")
    for run in (one, two, thread):
        assert run.returncode == 0, run.stderr[-3000:]
    assert "2 process(es)" in two.stderr and "1 process(es)" in one.stderr
    a, b = _weights(tmp_path / "one/model.npz"), _weights(tmp_path / "two/model.npz")
    c = _weights(tmp_path / "thread/model.npz")
    assert a.keys() == b.keys() == c.keys() and len(a) >= 8
    for key in a:
        rounding = float(np.abs(c[key] - a[key]).max())
        assert float(np.abs(b[key] - a[key]).max()) <= 2 * rounding + 1e-6, key
    # and it trained: the 2-process run's history is the one-process run's
    h1 = json.loads((tmp_path / "one/history.json").read_text())
    h2 = json.loads((tmp_path / "two/history.json").read_text())
    key = "loss" if model == "vae" else "d_loss"
    np.testing.assert_allclose(h2[key], h1[key], rtol=1e-4)
    if model == "vae":
        assert h1["loss"][1] < h1["loss"][0]


def test_keras_under_torchrun_refuses_an_uneven_batch_and_the_tensorflow_backend(tmp_path):
    pytest.importorskip("torch")
    run = _train([*RUNS["vae"], "--rows", "251"], tmp_path / "odd", processes=2)
    assert run.returncode != 0
    assert "the last batch of an epoch (27 of 251 rows) must split evenly over the 2" in run.stderr
    run = _train(RUNS["gan"], tmp_path / "tf", processes=2, KERAS_BACKEND="tensorflow")
    assert run.returncode != 0
    assert "--framework keras under torchrun needs KERAS_BACKEND=torch" in run.stderr
