"""Checkpoints and resume of both RBMs' ``fit`` (coursekit.common.rbm_fit).

A run stopped by Ctrl-C during epoch 2 finishes that epoch, writes its checkpoint and stops;
resumed from it into an RBM built with another seed (and trained elsewhere first), it ends with
the same weights, velocities, persistent chains, generator states and history (wall-clock
seconds aside) as the run that was never interrupted, bitwise (CD and PCD). Checkpoints fall at
the ends of the epochs in which the update count reaches a multiple of ``checkpoint_every``; a
checkpoint of another model or other settings, a damaged or a missing one is one clear error
naming the file, and leaves the RBM as it was. Every test runs once per framework; the Keras
cases are marked ``keras`` so that ``make test`` runs them again on the torch backend.
"""

from __future__ import annotations

import importlib
import json
import os
import signal

import numpy as np
import pytest

import coursekit.checkpoint

N_V, N_H = 12, 5
ROWS, BATCH = 70, 16  # 5 updates per epoch, the last of 6 rows
RUN = dict(epochs=4, batch_size=BATCH, progress=False, eta_final=0.01)


def _data() -> np.ndarray:
    return np.random.default_rng(1).random((ROWS, N_V)).astype(np.float32)


def _interrupting(rbm, at: int) -> None:
    """Ctrl-C (SIGINT to this process) during update ``at`` of this run: inside the update on
    torch (the fast path's step per batch), at the start of the epoch that holds it on Keras
    (a whole epoch is one call, one graph on tensorflow). ``fit`` finishes the epoch, writes
    its checkpoint and stops."""
    per_epoch = -(-ROWS // BATCH)
    if hasattr(rbm._fast, "_step"):  # torch: one Python call per update
        step, count = rbm._fast._step, [0]

        def one_update(*args, **kw):
            count[0] += 1
            if count[0] == at:
                os.kill(os.getpid(), signal.SIGINT)
            return step(*args, **kw)

        rbm._fast._step = one_update
        return
    train_epoch, done = rbm._fast.train_epoch, [0]

    def one_epoch(*args, **kw):
        if done[0] < at <= done[0] + per_epoch:
            os.kill(os.getpid(), signal.SIGINT)
        done[0] += per_epoch
        return train_epoch(*args, **kw)

    rbm._fast.train_epoch = one_epoch


def _same_state(a, b) -> None:
    """The whole training state: weights, velocities, chains, generators' states."""
    sa, sb = a._state(), b._state()
    assert sa.keys() == sb.keys()
    for key in sa:
        np.testing.assert_array_equal(sa[key], sb[key], err_msg=key)


def _meta(path) -> dict:
    """The settings a checkpoint holds (to read it back whatever they are)."""
    with np.load(path) as z:
        return json.loads(str(z["meta"]))


def _same_history(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if key != "seconds":  # wall-clock time
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.mark.parametrize("persistent", [False, True], ids=["cd", "pcd"])
def test_a_run_resumed_after_ctrl_c_ends_as_the_uninterrupted_one(RBM, persistent, tmp_path):
    x = _data()
    whole = RBM(N_V, N_H, k=2, persistent=persistent, seed=0)
    h_whole = whole.fit(x, **RUN)
    ckpt = tmp_path / "rbm.ckpt.npz"
    first = RBM(N_V, N_H, k=2, persistent=persistent, seed=0)
    _interrupting(first, 7)  # in epoch 2 (updates 6 to 10)
    with pytest.raises(KeyboardInterrupt, match=r"after epoch 2 \(update 10; checkpoint written"):
        first.fit(x, **RUN, checkpoint=ckpt)
    assert first.eta == pytest.approx(0.05)  # the schedule's step size put back
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rbm.ckpt.npz"]  # nothing half-written
    _, loop = coursekit.checkpoint.read_checkpoint(ckpt, meta=_meta(ckpt), what="RBM")
    assert loop.steps == 2 and loop.history["epoch"] == [1, 2]  # the epochs done
    resumed = RBM(N_V, N_H, k=2, persistent=persistent, seed=7)  # another start, and trained
    resumed.fit(x[::-1], epochs=1, batch_size=BATCH, progress=False)  # elsewhere: all set back
    h_resumed = resumed.fit(x, **RUN, checkpoint=ckpt, resume=ckpt)
    _same_state(whole, resumed)
    assert (whole.persistent_chains is None) == (not persistent)
    _same_history(h_whole, h_resumed)
    assert np.all(np.diff(h_resumed["seconds"]) > 0)  # the training time goes on
    # the resumed run's end rewrote the checkpoint: resuming from it again has nothing to do
    again = RBM(N_V, N_H, k=2, persistent=persistent, seed=8)
    _same_history(again.fit(x, **RUN, resume=ckpt), h_whole)
    _same_state(again, whole)
    np.testing.assert_array_equal(whole.sample(3, steps=2), resumed.sample(3, steps=2))


def test_checkpoints_fall_at_the_ends_of_the_epochs_that_reach_every_k_updates(
        RBM, tmp_path, monkeypatch):  # fmt: skip
    written = []
    write = coursekit.checkpoint.write_checkpoint

    def spy(path, *, model, meta, loop, what):
        written.append(loop.steps)
        return write(path, model=model, meta=meta, loop=loop, what=what)

    monkeypatch.setattr(coursekit.checkpoint, "write_checkpoint", spy)
    run = dict(batch_size=BATCH, progress=False, monitor_every=0)
    rbm = RBM(N_V, N_H, seed=0)
    rbm.fit(_data(), epochs=6, **run, checkpoint=tmp_path / "a.npz", checkpoint_every=7)
    assert written == [2, 3, 5, 6]  # updates 10 >= 7, 15 >= 14, 25 >= 21, 30 >= 28 (the end)
    written.clear()
    rbm.fit(_data(), epochs=3, **run, checkpoint=tmp_path / "b.npz")
    assert written == [3]  # only at the end
    with pytest.raises(ValueError, match="checkpoint_every needs checkpoint"):
        rbm.fit(_data(), epochs=1, **run, checkpoint_every=1)
    with pytest.raises(ValueError, match=r"checkpoint_every \(updates between checkpoints\)"):
        rbm.fit(_data(), epochs=1, **run, checkpoint=tmp_path / "c.npz", checkpoint_every=0)


def test_a_checkpoint_of_other_settings_is_refused_naming_the_file_and_the_difference(
        RBM, tmp_path):  # fmt: skip
    x = _data()
    ckpt = tmp_path / "rbm.ckpt.npz"
    RBM(N_V, N_H, seed=0).fit(x, epochs=2, batch_size=BATCH, progress=False, checkpoint=ckpt)
    cases = [
        (RBM(N_V, N_H, seed=0), dict(batch_size=8), r"batch_size: 16 in the checkpoint, 8 here"),
        (RBM(N_V, N_H + 1, seed=0), {}, r"n_hidden: 5 in the checkpoint, 6 here"),
        (RBM(N_V, N_H, persistent=True, seed=0), {},
         r"persistent: False in the checkpoint, True here"),
        (RBM(N_V, N_H, seed=0), dict(binarize="static"),
         r"binarize: 'dynamic' in the checkpoint, 'static' here"),
    ]  # fmt: skip
    for rbm, change, difference in cases:
        before = rbm._state()
        with pytest.raises(ValueError, match=r"rbm\.ckpt\.npz is a checkpoint of another model "
                                             r"or run.*" + difference):
            rbm.fit(x, **{"epochs": 3, "batch_size": BATCH, "progress": False, **change},
                    resume=ckpt)
        after = rbm._state()
        for key in before:  # refused before anything changed
            np.testing.assert_array_equal(before[key], after[key], err_msg=key)
    with pytest.raises(ValueError, match=r"rows: 70 in the checkpoint, 69 here"):
        RBM(N_V, N_H, seed=0).fit(x[1:], epochs=3, batch_size=BATCH, progress=False,
                                  resume=ckpt)  # fmt: skip
    with pytest.raises(ValueError, match=r"had done 2 epochs; this run has epochs=1"):
        RBM(N_V, N_H, seed=0).fit(x, epochs=1, batch_size=BATCH, progress=False, resume=ckpt)


def test_a_missing_or_damaged_checkpoint_is_one_clear_error(RBM, tmp_path):
    x = _data()
    run = dict(epochs=1, batch_size=BATCH, progress=False)
    with pytest.raises(FileNotFoundError, match=r"no saved RBM checkpoint at .*missing\.npz"):
        RBM(N_V, N_H, seed=0).fit(x, **run, resume=tmp_path / "missing.npz")
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(b"PK\x03\x04 not really a zip archive")
    with pytest.raises(ValueError, match=r"damaged\.npz cannot be read as an RBM checkpoint"):
        RBM(N_V, N_H, seed=0).fit(x, **run, resume=damaged)
    saved = RBM(N_V, N_H, seed=0).save(tmp_path / "model.npz")  # a model file, no checkpoint
    with pytest.raises(ValueError, match=r"model\.npz has format .*expected an RBM checkpoint"):
        RBM(N_V, N_H, seed=0).fit(x, **run, resume=saved)
    with pytest.raises(ValueError, match=r"resume must be a path"):
        RBM(N_V, N_H, seed=0).fit(x, **run, resume=3)


@pytest.mark.keras
def test_a_checkpoint_of_the_other_framework_is_refused(tmp_path):
    torch_rbm = importlib.import_module("coursekit.torch").RBM
    keras_rbm = importlib.import_module("coursekit.keras").RBM
    x, ckpt = _data(), tmp_path / "torch.ckpt.npz"
    torch_rbm(N_V, N_H, seed=0).fit(x, epochs=1, batch_size=BATCH, progress=False,
                                    checkpoint=ckpt)  # fmt: skip
    with pytest.raises(ValueError, match=r"model: 'coursekit\.torch\.RBM' in the checkpoint, "
                                         r"'coursekit\.keras\.RBM' here"):
        keras_rbm(N_V, N_H, seed=0).fit(x, epochs=2, batch_size=BATCH, progress=False,
                                        resume=ckpt)  # fmt: skip
