"""Checkpoints and resume (coursekit.checkpoint, the loop's state, each trainer's state).

A run interrupted with Ctrl-C after k updates and resumed from its checkpoint ends with the
same parameters, optimiser state and history as the run that was never interrupted, bitwise
(one CPU process); a checkpoint of another model or other settings, a damaged or missing one
is one clear error naming the file.
"""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
from gan_shared import LATENT, SMALL, bar_images

from coursekit.checkpoint import LoopState, read_checkpoint, write_checkpoint

torch = pytest.importorskip("torch")
torch_gan = pytest.importorskip("coursekit.torch")


def _interrupt_after(update: int):
    """A callback that presses Ctrl-C (SIGINT to this process) at the history row of
    ``update``: the loop finishes that update, writes its checkpoint and stops."""
    def callback(model, row):
        if row["update"] == update:
            os.kill(os.getpid(), signal.SIGINT)
    return callback


def _same_history(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if key == "seconds":
            continue  # wall-clock time
        for x, y in zip(a[key], b[key], strict=True):
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y), err_msg=key)


def test_loop_state_round_trips_with_arrays_in_the_history(tmp_path):
    loop = LoopState(order=np.array([2, 0, 1]), pos=1, steps=4, seconds=0.5,
                     history={"update": [2, 4], "loss": [0.5, 0.25],
                              "grid": [np.zeros((2, 3), np.float32), np.ones((2, 3), np.float32)]},
                     window=[{"loss": 0.1}])
    path = write_checkpoint(tmp_path / "c.npz", model={"w": np.arange(3.0)}, meta={"m": 1},
                            loop=loop, what="X")
    model, back = read_checkpoint(path, meta={"m": 1}, what="X")
    np.testing.assert_array_equal(model["w"], np.arange(3.0))
    assert (back.pos, back.steps, back.seconds, back.window) == (1, 4, 0.5, [{"loss": 0.1}])
    np.testing.assert_array_equal(back.order, [2, 0, 1])
    assert back.history["grid"][1].dtype == np.float32
    _same_history(back.history, loop.history)
    with pytest.raises(ValueError, match=r"c\.npz is a checkpoint of another model or run.*"
                                         r"m: 1 in the checkpoint, 2 here"):
        read_checkpoint(path, meta={"m": 2}, what="X")


def _dcgan(**kw):
    return torch_gan.DCGAN(LATENT, **{**SMALL, "seed": 0, **kw})


def test_torch_dcgan_resumed_equals_uninterrupted(tmp_path):
    x = bar_images(40)
    run = dict(updates=9, batch_size=16, log_every=2, grid_size=4, progress=False)
    whole = _dcgan()
    torch.manual_seed(1)  # dropout draws from torch's global generator, as nn.Dropout does
    h_whole = whole.fit(x, **run)

    ckpt = tmp_path / "gan.ckpt.npz"
    first = _dcgan()
    torch.manual_seed(1)
    with pytest.raises(KeyboardInterrupt, match="interrupted after update 4 .checkpoint"):
        first.fit(x, **run, checkpoint=ckpt, checkpoint_every=100, callback=_interrupt_after(4))
    assert first.updates == 4 and ckpt.is_file()

    resumed = _dcgan()  # trained elsewhere first: the checkpoint must set everything back
    resumed.fit(x[::-1], updates=3, batch_size=8, progress=False)
    h_resumed = resumed.fit(x, **run, checkpoint=ckpt, resume=ckpt)
    assert resumed.updates == whole.updates == 9
    for key, value in whole.get_weights().items():
        np.testing.assert_array_equal(resumed.get_weights()[key], value, err_msg=key)
    for a, b in ((whole.g_optimizer, resumed.g_optimizer),
                 (whole.d_optimizer, resumed.d_optimizer)):
        for sa, sb in zip(a.state.values(), b.state.values(), strict=True):
            assert all(torch.equal(sa[k], sb[k]) for k in sa)
    _same_history(h_whole, h_resumed)
    # the resumed run's end rewrote the checkpoint: resuming from it again has nothing to do
    again = _dcgan()
    assert again.fit(x, **run, resume=ckpt)["update"] == h_whole["update"]
    assert again.updates == 9
    for key, value in whole.get_weights().items():
        np.testing.assert_array_equal(again.get_weights()[key], value, err_msg=key)


def test_torch_dcgan_refuses_a_checkpoint_of_other_settings_or_a_damaged_one(tmp_path):
    x = bar_images(40)
    ckpt = tmp_path / "gan.ckpt.npz"
    _dcgan().fit(x, updates=2, batch_size=16, progress=False, checkpoint=ckpt)
    with pytest.raises(ValueError, match=r"gan\.ckpt\.npz is a checkpoint of another model or "
                                         r"run.*batch_size: 16 in the checkpoint, 8 here"):
        _dcgan().fit(x, updates=4, batch_size=8, progress=False, resume=ckpt)
    with pytest.raises(ValueError, match=r"learning_rate"):
        _dcgan(learning_rate=1e-3).fit(x, updates=4, batch_size=16, progress=False, resume=ckpt)
    with pytest.raises(FileNotFoundError, match=r"no saved DCGAN checkpoint at .*missing\.npz"):
        _dcgan().fit(x, updates=4, batch_size=16, progress=False, resume=tmp_path / "missing.npz")
    ckpt.write_bytes(ckpt.read_bytes()[:100])
    with pytest.raises(ValueError, match=r"gan\.ckpt\.npz cannot be read as a DCGAN checkpoint"):
        _dcgan().fit(x, updates=4, batch_size=16, progress=False, resume=ckpt)
    with pytest.raises(ValueError, match="checkpoint_every needs checkpoint"):
        _dcgan().fit(x, updates=2, batch_size=16, progress=False, checkpoint_every=1)


def _ebm(seed: int = 0):
    torch.manual_seed(0)
    net = torch_gan.CNNEnergy((4, 4, 4, 4), 8, image_side=8)
    return torch_gan.EBM(net, (1, 8, 8), n_steps=3, lr=1e-3, buffer_size=64, seed=seed)


def _spins(n: int) -> np.ndarray:
    return np.sign(np.random.default_rng(3).standard_normal((n, 1, 8, 8))).astype(np.float32)


def test_torch_ebm_resumed_equals_uninterrupted(tmp_path):
    x = _spins(48)
    run = dict(updates=7, batch_size=16, log_every=2, progress=False)
    whole = _ebm()
    h_whole = whole.fit(x, **run)

    ckpt = tmp_path / "ebm.ckpt.npz"
    first = _ebm()
    with pytest.raises(KeyboardInterrupt, match="interrupted after update 4 .checkpoint"):
        first.fit(x, **run, checkpoint=ckpt, checkpoint_every=3, callback=_interrupt_after(4))
    resumed = _ebm(seed=5)  # another buffer and other streams: the checkpoint sets them back
    resumed.fit(x[::-1], updates=2, batch_size=16, progress=False)
    h_resumed = resumed.fit(x, **run, resume=ckpt)
    assert resumed.updates == whole.updates == 7
    for a, b in zip(whole.energy.parameters(), resumed.energy.parameters(), strict=True):
        assert torch.equal(a, b)
    np.testing.assert_array_equal(whole.buffer.states, resumed.buffer.states)
    _same_history(h_whole, h_resumed)


def test_torch_ebm_refuses_another_network_or_sampler(tmp_path):
    x = _spins(48)
    ckpt = tmp_path / "ebm.ckpt.npz"
    _ebm().fit(x, updates=2, batch_size=16, progress=False, checkpoint=ckpt)
    torch.manual_seed(0)
    wider = torch_gan.EBM(torch_gan.CNNEnergy((4, 4, 4, 8), 8, image_side=8), (1, 8, 8),
                          n_steps=3, lr=1e-3, buffer_size=64, seed=0)
    with pytest.raises(ValueError, match=r"checkpoint's energy/.* has shape .* another network"):
        wider.fit(x, updates=4, batch_size=16, progress=False, resume=ckpt)
    with pytest.raises(ValueError, match=r"n_steps.*3, .*n_steps.*5|sampler"):
        torch.manual_seed(0)
        other = torch_gan.EBM(torch_gan.CNNEnergy((4, 4, 4, 4), 8, image_side=8), (1, 8, 8),
                              n_steps=5, lr=1e-3, buffer_size=64, seed=0)
        other.fit(x, updates=4, batch_size=16, progress=False, resume=ckpt)
