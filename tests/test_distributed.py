"""Data-parallel training (coursekit.torch.distributed) and the command line (coursekit.train).

Two gloo processes under ``torchrun`` train the DCGAN and the VAE and end with the same
parameters as one process with the same global batch and data order, to float tolerance; a
run stopped by SIGTERM (a cluster's time limit) resumes from its checkpoint to the same end as
an uninterrupted run; a batch that does not split over the processes is one clear error; the
VAE's epoch loop resumes bitwise from inside an epoch and from an epoch's end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from coursekit.torch import DCGAN, VAE  # noqa: E402
from coursekit.torch.distributed import Shard  # noqa: E402

ENV = {**os.environ, "COURSEKIT_OFFLINE": "1", "PYTHONWARNINGS": "ignore"}
GAN = ["gan", "--rows", "256", "--updates", "6", "--batch", "32", "--latent", "8",
       "--generator-channels", "16,8,4", "--discriminator-channels", "4,8", "--quiet"]
VAE_RUN = ["vae", "--rows", "251", "--epochs", "2", "--batch", "32", "--hidden", "32",
           "--latent", "4", "--quiet"]


def _train(args: list[str], out, processes: int = 1, env: dict | None = None,
           **kw) -> subprocess.CompletedProcess:
    launch = [sys.executable, "-m", "coursekit.train"]
    if processes > 1:
        launch = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                  f"--nproc_per_node={processes}", "-m", "coursekit.train"]
    return subprocess.run([*launch, *args, "--out", str(out)], env=env or ENV, capture_output=True,
                          text=True, timeout=300, **kw)


def _weights(path) -> dict[str, np.ndarray]:
    with np.load(path) as z:
        return {k: z[k] for k in z.files if z[k].dtype.kind == "f"}


@pytest.mark.parametrize("args", [GAN, VAE_RUN], ids=["dcgan", "vae"])
def test_two_gloo_processes_train_as_one_with_the_same_global_batch(tmp_path, args):
    """Equal to float rounding. Rounding alone moves Adam's steps where a gradient entry is
    about zero (Adam divides by its running size), so the yardstick is the same one-process run
    on 1 thread instead of 2: each array of the 2-process run is at most twice as far from the
    one-process run as that (plus 1e-6)."""
    one, two = _train(args, tmp_path / "one"), _train(args, tmp_path / "two", processes=2)
    thread = _train(args, tmp_path / "thread", env={**ENV, "COURSEKIT_THREADS": "1"})
    for run in (one, two, thread):
        assert run.returncode == 0, run.stderr[-3000:]
    assert "2 process(es)" in two.stderr and "1 process(es)" in one.stderr
    a, b = _weights(tmp_path / "one/model.npz"), _weights(tmp_path / "two/model.npz")
    c = _weights(tmp_path / "thread/model.npz")
    assert a.keys() == b.keys() == c.keys() and len(a) > 4
    for key in a:
        rounding = float(np.abs(c[key] - a[key]).max())
        assert float(np.abs(b[key] - a[key]).max()) <= 2 * rounding + 1e-6, key
    # and they trained: the weights moved away from the initial ones of the same seed
    start = (DCGAN(8, generator_channels=(16, 8, 4), discriminator_channels=(4, 8), seed=0)
             if args is GAN else VAE(4, hidden=32, seed=0))
    start.save(tmp_path / "start.npz")
    initial = _weights(tmp_path / "start.npz")
    assert initial.keys() == a.keys()
    assert sum(not np.allclose(a[k], initial[k]) for k in a) >= len(a) // 2


def test_a_batch_that_does_not_split_over_the_processes_is_one_clear_error(tmp_path):
    run = _train([*GAN, "--batch", "31"], tmp_path / "odd", processes=2)
    assert run.returncode != 0
    assert "batch_size must split evenly over the 2 processes" in run.stderr
    run = _train([*VAE_RUN, "--batch", "1"], tmp_path / "one", processes=2)
    assert run.returncode != 0
    assert "must be at least the number of processes (2" in run.stderr


def test_sigterm_stops_with_a_checkpoint_and_resume_ends_as_an_uninterrupted_run(tmp_path):
    args = [*GAN, "--updates", "400", "--checkpoint-every", "5", "--log-every", "50"]
    whole = _train(args, tmp_path / "whole")
    assert whole.returncode == 0, whole.stderr[-3000:]
    out = tmp_path / "stopped"
    proc = subprocess.Popen([sys.executable, "-m", "coursekit.train", *args, "--out", str(out)],
                            env=ENV, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "checkpoint.npz").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.fail("the run ended before SIGTERM arrived: give it more updates")
    assert proc.returncode == 130, err[-3000:]
    assert "continue with the same command and --resume" in err
    assert not (out / "model.npz").exists()
    resumed = _train([*args, "--resume"], out)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    a, b = _weights(tmp_path / "whole/model.npz"), _weights(out / "model.npz")
    for key in a:
        np.testing.assert_array_equal(b[key], a[key], err_msg=key)


def test_resume_without_a_checkpoint_names_the_file(tmp_path):
    run = _train([*GAN, "--resume"], tmp_path / "none")
    assert run.returncode != 0 and "there is no checkpoint at" in run.stderr


@pytest.mark.parametrize(("n", "world"), [(32, 2), (27, 2), (10, 3), (5, 5)])
def test_shards_cover_the_batch_and_weights_average_to_the_global_mean(n, world):
    shards = [Shard(r, world) for r in range(world)]
    bounds = [s.bounds(n) for s in shards]
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:], strict=False))
    sizes = [stop - start for start, stop in bounds]
    assert max(sizes) - min(sizes) <= 1
    # mean over ranks of weight_r * (mean of rank r's rows) = the global mean
    rows = np.random.default_rng(0).standard_normal(n)
    shares = [rows[a:b].mean() * s.weight(n) for s, (a, b) in zip(shards, bounds, strict=True)]
    assert np.mean(shares) == pytest.approx(rows.mean(), rel=1e-12)
    with pytest.raises(ValueError, match=f"at least the number of processes .{world}"):
        Shard(0, world).check(world - 1)


def _interrupting(vae, at: int):
    """Ctrl-C (SIGINT to this process) during update ``at`` of this run: fit finishes it,
    writes the checkpoint and stops."""
    step, count = vae.train_step, [0]

    def train_step(*args, **kw):
        count[0] += 1
        if count[0] == at:
            os.kill(os.getpid(), signal.SIGINT)
        return step(*args, **kw)

    vae.train_step = train_step


def _blobs(n: int) -> np.ndarray:
    return np.random.default_rng(2).uniform(0, 1, (n, 784)).astype(np.float32) ** 3


@pytest.mark.parametrize("at", [5, 8, 13], ids=["inside-epoch-1", "end-of-epoch-1", "epoch-2"])
def test_vae_resumed_equals_uninterrupted(tmp_path, at):
    x = _blobs(250)  # 8 updates per epoch at batch 32, the last of 26 rows
    run = dict(epochs=3, batch_size=32, progress=False, validation=x[:20])
    whole = VAE(3, hidden=16, seed=0)
    h_whole = whole.fit(x, **run)
    ckpt = tmp_path / "vae.ckpt.npz"
    first = VAE(3, hidden=16, seed=0)
    _interrupting(first, at)
    with pytest.raises(KeyboardInterrupt, match=f"after update {at} .*checkpoint written"):
        first.fit(x, **run, checkpoint=ckpt, checkpoint_every=100)
    resumed = VAE(3, hidden=16, seed=7)  # another start: the checkpoint sets everything back
    h_resumed = resumed.fit(x, **run, resume=ckpt)
    assert resumed.updates == whole.updates == 24
    for (name, a), b in zip(whole.state_dict().items(), resumed.state_dict().values(),
                            strict=True):
        assert torch.equal(a, b), name
    for sa, sb in zip(whole.optimizer.state.values(), resumed.optimizer.state.values(),
                      strict=True):
        assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert h_whole.keys() == h_resumed.keys()
    for key in h_whole:
        if key != "seconds":
            np.testing.assert_array_equal(h_resumed[key], h_whole[key], err_msg=key)


def test_vae_refuses_a_checkpoint_of_other_settings(tmp_path):
    x = _blobs(64)
    ckpt = tmp_path / "vae.ckpt.npz"
    VAE(3, hidden=16, seed=0).fit(x, epochs=1, batch_size=32, progress=False, checkpoint=ckpt)
    with pytest.raises(ValueError, match=r"vae\.ckpt\.npz is a checkpoint of another model or "
                                         r"run.*batch_size: 32 in the checkpoint, 16 here"):
        VAE(3, hidden=16, seed=0).fit(x, epochs=2, batch_size=16, progress=False, resume=ckpt)
    with pytest.raises(ValueError, match=r"hidden: 16 in the checkpoint, 8 here"):
        VAE(3, hidden=8, seed=0).fit(x, epochs=2, batch_size=32, progress=False, resume=ckpt)
