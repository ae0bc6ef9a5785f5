"""Keras on tensorflow under ``tf.distribute.MirroredStrategy`` (issue 24): the VAE trained on
2 logical CPU devices ends equal, to float rounding, to the same VAE on one device with the same
global batch and rows; its history (loss, reconstruction, KL) is the same.

Runs in a fresh process: TensorFlow's logical devices are fixed before it first runs anything.
What keeps the two equal: each replica's loss is divided by the number of replicas (Keras' optimizer
adds the replicas' gradients), and the per-row draws (the dynamic binarisation, the noise eps)
are drawn for the whole global batch and cut by replica (``coursekit.keras.draws``).
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
from coursekit.keras import VAE

x = np.random.default_rng(0).uniform(0, 1, (256, 784)).astype(np.float32) ** 3

def run(strategy):
    scope = strategy.scope() if strategy is not None else tf.distribute.get_strategy().scope()
    with scope:
        vae = VAE(4, hidden=32, seed=0)
        vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = vae.fit(x, epochs=2, batch_size=64, verbose=0, shuffle=False).history
    return [w.tolist() for w in vae.get_weights()], history

one = run(None)
two = run(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
json.dump({"one": one, "two": two}, open(sys.argv[1], "w"))
"""


def test_mirrored_strategy_on_two_cpu_devices_trains_the_keras_vae_as_one_device(tmp_path):
    out = tmp_path / "runs.json"
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "PYTHONWARNINGS": "ignore"}
    run = subprocess.run([sys.executable, "-c", WORKER, str(out)], env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    runs = json.loads(out.read_text())
    (w1, h1), (w2, h2) = runs["one"], runs["two"]
    assert len(w1) == len(w2) > 4
    for a, b in zip(w1, w2, strict=True):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-5, atol=1e-6)
    assert h1.keys() == h2.keys() >= {"loss", "reconstruction", "kl"}
    for key in h1:  # the loss as Keras reports it: the global batch's mean, not R times it
        np.testing.assert_allclose(h2[key], h1[key], rtol=1e-5, err_msg=key)
    assert h1["loss"][1] < h1["loss"][0]  # it trained
