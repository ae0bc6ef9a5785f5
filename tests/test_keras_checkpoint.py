"""Checkpoints and resume of the Keras DCGAN, EBM and VAE (:mod:`coursekit.keras.checkpoint`),
on the tensorflow and the torch backend (marked ``keras``: ``make test`` runs them on both).

A run interrupted with Ctrl-C after k updates and resumed from its checkpoint, into a model
built with another seed (and, for the DCGAN and the EBM, trained elsewhere first), ends with
the same weights, optimizer state, seed-generator states and history (its wall-clock
``seconds`` aside) as the run that was never interrupted: **bitwise**, on both backends (one
CPU process). A checkpoint of other settings is one ``ValueError`` naming the file and the
difference; one of another network changes nothing and names the array.
"""

from __future__ import annotations

import os
import signal

import keras
import numpy as np
import pytest
from gan_shared import LATENT, SMALL, bar_images

from coursekit.keras import DCGAN, EBM, VAE, cnn_energy
from coursekit.keras.checkpoint import TrainingState

pytestmark = pytest.mark.keras


def _interrupt_after(update: int):
    """A history-row callback that presses Ctrl-C (SIGINT to this process) at the row of
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
        assert len(a[key]) == len(b[key]), key
        for x, y in zip(a[key], b[key], strict=True):
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y), err_msg=key)


def _same_variables(a: list, b: list) -> None:
    """Bitwise equal values, variable by variable (weights, optimizer slots, seed states)."""
    assert len(a) == len(b)
    for va, vb in zip(a, b, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(va.value),
                                      keras.ops.convert_to_numpy(vb.value), err_msg=va.path)


# ---- DCGAN ----------------------------------------------------------------------------------


def _dcgan(seed: int = 0, **kw) -> DCGAN:
    """A small DCGAN whose dropout layers' seed generators also follow ``seed`` (Keras seeds
    them from its global generator, not from the model's seed)."""
    gan = DCGAN(LATENT, **{**SMALL, "seed": seed, **kw})
    dropouts = [la for la in gan.discriminator.layers if isinstance(la, keras.layers.Dropout)]
    for i, layer in enumerate(dropouts):
        state = layer.seed_generator.state
        state.assign(np.array([100 * seed + i, 0]).astype(state.dtype))
    return gan


def _dcgan_state(gan: DCGAN) -> list:
    return [*gan.generator.variables, *gan.discriminator.variables, *gan.g_optimizer.variables,
            *gan.d_optimizer.variables, gan.seed_generator.state]


def test_keras_dcgan_resumed_equals_uninterrupted(tmp_path):
    x = bar_images(40)
    run = dict(updates=9, batch_size=16, log_every=2, grid_size=4, progress=False)
    whole = _dcgan()
    h_whole = whole.fit(x, **run)

    ckpt = tmp_path / "gan.ckpt.npz"
    first = _dcgan()
    with pytest.raises(KeyboardInterrupt, match="interrupted after update 4 .checkpoint"):
        first.fit(x, **run, checkpoint=ckpt, checkpoint_every=100, callback=_interrupt_after(4))
    assert first.updates == 4 and ckpt.is_file()
    assert not list(tmp_path.glob("*.tmp*"))  # written atomically: nothing half-written left

    resumed = _dcgan(seed=3)  # another seed, trained elsewhere: the checkpoint sets it all back
    # (on batches of the same size: after two sizes tf.function traces the step again for any
    # batch size, and that graph may round differently)
    resumed.fit(x[::-1], updates=3, batch_size=16, progress=False)
    h_resumed = resumed.fit(x, **run, checkpoint=ckpt, resume=ckpt)
    assert resumed.updates == whole.updates == 9 and resumed.seed == 0
    _same_variables(_dcgan_state(whole), _dcgan_state(resumed))
    _same_history(h_whole, h_resumed)
    # the resumed run's end rewrote the checkpoint: resuming from it again has nothing to do
    again = _dcgan(seed=5)
    assert again.fit(x, **run, resume=ckpt)["update"] == h_whole["update"]
    _same_variables(_dcgan_state(whole), _dcgan_state(again))


def test_keras_dcgan_refuses_a_checkpoint_of_other_settings_or_a_damaged_one(tmp_path):
    x = bar_images(40)
    ckpt = tmp_path / "gan.ckpt.npz"
    _dcgan().fit(x, updates=2, batch_size=16, progress=False, checkpoint=ckpt)
    with pytest.raises(ValueError, match=r"gan\.ckpt\.npz is a checkpoint of another model or "
                                         r"run.*batch_size: 16 in the checkpoint, 8 here"):
        _dcgan().fit(x, updates=4, batch_size=8, progress=False, resume=ckpt)
    with pytest.raises(ValueError, match=r"gan\.ckpt\.npz .*generator_channels: \[16, 8, 4\] "
                                         r"in the checkpoint, \[8, 8, 4\] here"):
        _dcgan(generator_channels=(8, 8, 4)).fit(x, updates=4, batch_size=16, progress=False,
                                                 resume=ckpt)
    with pytest.raises(FileNotFoundError, match=r"no saved DCGAN checkpoint at .*missing\.npz"):
        _dcgan().fit(x, updates=4, batch_size=16, progress=False, resume=tmp_path / "missing.npz")
    ckpt.write_bytes(ckpt.read_bytes()[:100])
    with pytest.raises(ValueError, match=r"gan\.ckpt\.npz cannot be read as a DCGAN checkpoint"):
        _dcgan().fit(x, updates=4, batch_size=16, progress=False, resume=ckpt)
    with pytest.raises(ValueError, match="checkpoint_every needs checkpoint"):
        _dcgan().fit(x, updates=2, batch_size=16, progress=False, checkpoint_every=1)


# ---- EBM ------------------------------------------------------------------------------------


def _ebm(seed: int = 0, channels=(4, 4, 4, 4), n_steps: int = 3) -> EBM:
    net = cnn_energy(channels, 8, image_side=8)  # Keras' own initial weights: the same ones
    net.set_weights([np.full(w.shape, 0.05 * (i + 1) / w.size ** 0.5, np.float32)
                     for i, w in enumerate(net.get_weights())])  # for every model built here
    return EBM(net, (8, 8, 1), n_steps=n_steps, lr=1e-3, buffer_size=64, seed=seed)


def _spins(n: int) -> np.ndarray:
    return np.sign(np.random.default_rng(3).standard_normal((n, 8, 8, 1))).astype(np.float32)


def test_keras_ebm_resumed_equals_uninterrupted(tmp_path):
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
    _same_variables([*whole.energy.variables, *whole.optimizer.variables, whole.seed_gen.state],
                    [*resumed.energy.variables, *resumed.optimizer.variables,
                     resumed.seed_gen.state])
    np.testing.assert_array_equal(whole.buffer.states, resumed.buffer.states)
    _same_history(h_whole, h_resumed)


def test_keras_ebm_refuses_another_network_or_sampler_and_changes_nothing(tmp_path):
    x = _spins(48)
    ckpt = tmp_path / "ebm.ckpt.npz"
    _ebm().fit(x, updates=2, batch_size=16, progress=False, checkpoint=ckpt)
    wider = _ebm(channels=(4, 4, 4, 8))
    before = [np.array(v) for v in wider.energy.get_weights()]
    with pytest.raises(ValueError, match=r"checkpoint's energy/\d+ has shape .* another network"):
        wider.fit(x, updates=4, batch_size=16, progress=False, resume=ckpt)
    for a, b in zip(before, wider.energy.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # refused before anything was assigned
    with pytest.raises(ValueError, match=r"ebm\.ckpt\.npz is a checkpoint of another model or "
                                         r"run.*n_steps"):
        _ebm(n_steps=5).fit(x, updates=4, batch_size=16, progress=False, resume=ckpt)


def test_training_state_counts_and_names_the_variables(tmp_path):
    small = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    deeper = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Dense(2)])
    saved = TrainingState(variables={"net": small}).arrays()
    assert sorted(saved) == ["net/0", "net/1"]
    with pytest.raises(ValueError, match="the checkpoint holds 2 net variables, this model 4"):
        TrainingState(variables={"net": deeper}).restore(saved)


# ---- VAE ------------------------------------------------------------------------------------


def _vae(seed: int = 0, **kw) -> VAE:
    return VAE(2, **{"arch": "mlp", "hidden": 8, "image_side": 8, "seed": seed, **kw})


def _rows(n: int) -> np.ndarray:
    return np.random.default_rng(1).uniform(0, 1, (n, 64)).astype(np.float32)


class _InterruptAt(keras.callbacks.Callback):
    """Presses Ctrl-C at the end of update ``update`` (the model's count)."""

    def __init__(self, update: int) -> None:
        super().__init__()
        self.update = update

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.model.updates == self.update:
            os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.parametrize("at", [4, 6])  # 4 updates per epoch: at an epoch's end, inside one
def test_keras_vae_resumed_equals_uninterrupted(tmp_path, at):
    x = _rows(50)  # batches of 16, 16, 16 and 2 rows
    run = dict(epochs=3, batch_size=16, verbose=0, validation_data=x[:10])
    whole = _vae()  # the same run, never interrupted: it draws its rows' order as they do
    h_whole = whole.fit(x, **run, checkpoint=tmp_path / "whole.npz")

    ckpt = tmp_path / "vae.ckpt.npz"
    first = _vae()
    with pytest.raises(KeyboardInterrupt, match=f"after update {at} .*checkpoint written"):
        first.fit(x, **run, checkpoint=ckpt, checkpoint_every=100, callbacks=[_InterruptAt(at)])
    resumed = _vae(seed=7)  # another start: the checkpoint sets everything back
    h_resumed = resumed.fit(x, **run, resume=ckpt)
    assert resumed.updates == whole.updates == 12
    _same_variables([*whole.variables, *whole.optimizer.variables],
                    [*resumed.variables, *resumed.optimizer.variables])
    assert h_resumed.epoch == [0, 1, 2]
    _same_history(h_whole.history, h_resumed.history)


class _CrashAt(keras.callbacks.Callback):
    """Raises an error (not Ctrl-C: no checkpoint is written for it) after update ``update``."""

    def __init__(self, update: int) -> None:
        super().__init__()
        self.update = update

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.model.updates == self.update:
            raise RuntimeError("the machine went away")


@pytest.mark.parametrize("every", [3, 4])  # the last checkpoint: inside epoch 2, at epoch 1's end
def test_keras_vae_resumes_from_its_last_periodic_checkpoint_after_a_crash(tmp_path, every):
    x = _rows(50)
    run = dict(epochs=2, batch_size=16, verbose=0)
    whole = _vae()
    h_whole = whole.fit(x, **run, checkpoint=tmp_path / "whole.npz")
    ckpt = tmp_path / "vae.ckpt.npz"
    with pytest.raises(RuntimeError, match="went away"):
        _vae().fit(x, **run, checkpoint=ckpt, checkpoint_every=every, callbacks=[_CrashAt(7)])
    resumed = _vae(seed=3)
    h_resumed = resumed.fit(x, **run, resume=ckpt)
    assert resumed.updates == whole.updates == 8
    _same_variables([*whole.variables, *whole.optimizer.variables],
                    [*resumed.variables, *resumed.optimizer.variables])
    _same_history(h_whole.history, h_resumed.history)


def test_keras_vae_refuses_a_checkpoint_of_other_settings(tmp_path):
    x = _rows(40)
    ckpt = tmp_path / "vae.ckpt.npz"
    _vae().fit(x, epochs=1, batch_size=16, verbose=0, checkpoint=ckpt)
    with pytest.raises(ValueError, match=r"vae\.ckpt\.npz is a checkpoint of another model or "
                                         r"run.*batch_size: 16 in the checkpoint, 8 here"):
        _vae().fit(x, epochs=2, batch_size=8, verbose=0, resume=ckpt)
    with pytest.raises(ValueError, match=r"hidden: 8 in the checkpoint, 16 here"):
        _vae(hidden=16).fit(x, epochs=2, batch_size=16, verbose=0, resume=ckpt)
    with pytest.raises(ValueError, match=r"validation_split cannot be given with checkpoint"):
        _vae().fit(x, epochs=2, batch_size=16, verbose=0, resume=ckpt, validation_split=0.1)
    with pytest.raises(ValueError, match="checkpoint_every needs checkpoint"):
        _vae().fit(x, epochs=1, batch_size=16, verbose=0, checkpoint_every=1)
