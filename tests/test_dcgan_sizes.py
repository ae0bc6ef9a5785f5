"""The DCGANs of both frameworks (``fw``: coursekit.torch, then coursekit.keras on the current
Keras backend) on square images of another side than MNIST's 28: ``image_side`` L, a multiple
of 4 from 8 (16 for the Ising lattices of the course). Shapes, input layouts, training,
saving and loading, bad sides and bad shapes named, torch against Keras at L = 16, and a
learning check on two-mode 16 x 16 spin images.

The default L = 28 is tests/test_dcgan.py's and tests/test_gan_parity.py's.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from gan_shared import LATENT, SMALL, random_weights

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny networks: one thread is faster


def spins(n: int, side: int, seed: int = 0) -> np.ndarray:
    """``n`` random spin configurations [n, side, side] in {-1, +1} (float32)."""
    rng = np.random.default_rng(seed)
    return rng.choice(np.array([-1.0, 1.0], np.float32), size=(n, side, side))


def two_modes(n: int, side: int, seed: int = 0) -> np.ndarray:
    """``n`` images [n, side, side], each all +1 or all -1 (half each on average): the two
    ground states of the ferromagnet."""
    signs = np.where(np.random.default_rng(seed).random(n) < 0.5, -1.0, 1.0).astype(np.float32)
    return np.broadcast_to(signs[:, None, None], (n, side, side)).copy()


def _gan(fw, side: int, **kw):
    return fw.DCGAN(LATENT, **{**SMALL, "seed": 0, "image_side": side, **kw})


def _layouts(x: np.ndarray) -> dict[str, np.ndarray]:
    """``x`` [n, L, L] in the four accepted layouts."""
    n, side, _ = x.shape
    return {"rows": x.reshape(n, side * side), "square": x, "nhwc": x[..., None],
            "nchw": x[:, None]}  # fmt: skip


@pytest.mark.parametrize("side", [8, 16])
def test_the_networks_follow_the_side(fw, side):
    gan = _gan(fw, side)
    assert gan.image_side == side and gan.config["image_side"] == side
    shapes = {k: v.shape for k, v in gan.get_weights().items()}
    cells = (side // 4) ** 2  # the generator's first grid, the discriminator's last
    assert shapes["g/dense/kernel"] == (LATENT, cells * SMALL["generator_channels"][0])
    assert shapes["g/bn0/gamma"] == (cells * SMALL["generator_channels"][0],)
    assert shapes["d/dense/kernel"] == (cells * SMALL["discriminator_channels"][1], 1)
    z = np.random.default_rng(0).standard_normal((5, LATENT))
    img = gan.generate(z)
    assert img.shape == (5, side, side) and np.all(np.abs(img) <= 1) and img.std() > 0
    s = gan.sample(7, seed=1)
    assert s.shape == (7, side, side) and s.min() >= 0 and s.max() <= 1
    np.testing.assert_array_equal(gan.sample(3, seed=2), gan.sample(3, seed=2))


def test_the_default_side_is_28(fw):
    gan = fw.DCGAN(LATENT, **SMALL, seed=0)
    assert gan.image_side == 28 and gan.config["image_side"] == 28
    assert gan.generate(np.zeros((2, LATENT))).shape == (2, 28, 28)


@pytest.mark.parametrize("side", [8, 16])
def test_every_layout_is_accepted_and_means_the_same_images(fw, side):
    gan = _gan(fw, side, learning_rate=1e-3)
    x = spins(12, side)
    d = {name: gan.discriminate(v) for name, v in _layouts(x).items()}
    assert d["square"].shape == (12,) and np.all((d["square"] > 0) & (d["square"] < 1))
    for name, value in d.items():
        np.testing.assert_array_equal(value, d["square"], err_msg=name)
    for name, value in _layouts(x).items():
        stats = gan.train_step(value)
        assert all(math.isfinite(v) for v in stats.values()), name
    assert gan.updates == 4


@pytest.mark.parametrize("side", [8, 16])
def test_a_few_updates_on_random_spins(fw, side):
    gan = _gan(fw, side, learning_rate=1e-3)
    before = gan.get_weights()
    hist = gan.fit(spins(64, side), updates=6, batch_size=16, progress=False)
    assert gan.updates == 6 and hist["update"] == [4, 6]
    for key in ("d_real", "d_fake", "d_loss", "g_loss"):
        assert all(math.isfinite(v) for v in hist[key])
    assert hist["grid"][-1].shape == (16, side, side)
    after = gan.get_weights()
    changed = [k for k in before if not np.array_equal(before[k], after[k])]
    assert sorted(changed) == sorted(before)  # every weight and batch-norm statistic moved
    assert gan.sample(5).shape == (5, side, side)


@pytest.mark.parametrize("value", [18, 6, 4, 0, -16, 30, 16.0, True, "16", None])
def test_a_bad_image_side_is_named(fw, value):
    with pytest.raises(ValueError, match=(
        r"^image_side \(pixels along each side of the square images\) must be an int >= 8 and "
        rf"a multiple of 4 .*28 for MNIST, 16 for the Ising lattices\), got {value!r}$"
    )):  # fmt: skip
        _gan(fw, value)


def test_images_of_another_side_are_refused_naming_the_shapes_expected(fw):
    gan = _gan(fw, 16)
    expected = (r"must hold 16x16 images as \[n, 256\], \[n, 16, 16\], \[n, 16, 16, 1\] or "
                r"\[n, 1, 16, 16\] with n >= 1, got shape ")  # fmt: skip
    mnist = spins(8, 28)
    with pytest.raises(ValueError, match=rf"^x {expected}\(8, 28, 28\)$"):
        gan.fit(mnist, updates=1, batch_size=4, progress=False)
    with pytest.raises(ValueError, match=rf"^x_real {expected}\(8, 784\)$"):
        gan.train_step(mnist.reshape(8, 784))
    with pytest.raises(ValueError, match=rf"^x {expected}\(8, 1, 28, 28\)$"):
        gan.discriminate(mnist[:, None])
    with pytest.raises(ValueError, match=r"^x must hold 28x28 images as \[n, 784\], .*got shape "
                       r"\(8, 16, 16\)$"):  # fmt: skip
        _gan(fw, 28).discriminate(spins(8, 16))
    assert gan.updates == 0


@pytest.mark.parametrize("side", [16, 8])
def test_a_saved_model_loads_with_its_side_and_makes_the_same_samples(fw, tmp_path, side):
    gan = _gan(fw, side, learning_rate=1e-3)
    gan.fit(spins(32, side), updates=3, batch_size=16, progress=False)  # BN statistics move
    loaded = fw.DCGAN.load(gan.save(tmp_path / "ising.npz"))
    assert loaded.image_side == side and loaded.updates == 3
    z = np.random.default_rng(4).standard_normal((6, LATENT))
    np.testing.assert_array_equal(loaded.generate(z), gan.generate(z))
    np.testing.assert_array_equal(loaded.sample(5, seed=7), gan.sample(5, seed=7))
    for name, value in gan.get_weights().items():
        np.testing.assert_array_equal(loaded.get_weights()[name], value, err_msg=name)


def test_a_file_of_another_side_is_refused_naming_image_side(fw, tmp_path):
    path = _gan(fw, 16).save(tmp_path / "ising.npz")
    mnist = _gan(fw, 28)
    with (
        pytest.warns(DeprecationWarning, match="DCGAN.load"),
        pytest.raises(ValueError, match=r"holds a DCGAN with image_side=16, this one has "
                      r"image_side=28; build a matching model or use DCGAN.load\(path\)"),
    ):  # fmt: skip
        mnist.load(path)


def _rewrite_config(path, out, change) -> None:
    """Copy the DCGAN file ``path`` to ``out`` with ``change(config)`` applied to its config."""
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    config = json.loads(str(arrays["config"]))
    change(config)
    arrays["config"] = np.array(json.dumps(config))
    np.savez(out, **arrays)


def test_a_file_saved_before_image_side_loads_as_28(fw, tmp_path):
    """Files written before the DCGANs took other sizes have no image_side in their config."""
    gan = _gan(fw, 28)
    gan.save(tmp_path / "new.npz")
    _rewrite_config(tmp_path / "new.npz", tmp_path / "old.npz",
                    lambda c: c.pop("image_side"))  # fmt: skip
    loaded = fw.DCGAN.load(tmp_path / "old.npz")
    assert loaded.image_side == 28
    z = np.random.default_rng(5).standard_normal((4, LATENT))
    np.testing.assert_array_equal(loaded.generate(z), gan.generate(z))
    with pytest.warns(DeprecationWarning):  # the old instance load into a 28 model works too
        assert _gan(fw, 28).load(tmp_path / "old.npz").image_side == 28


@pytest.mark.parametrize("side", [20, 18])
def test_a_file_whose_side_does_not_match_its_weights_is_damaged(fw, tmp_path, side):
    _gan(fw, 16).save(tmp_path / "ising.npz")
    _rewrite_config(tmp_path / "ising.npz", tmp_path / "bad.npz",
                    lambda c: c.update(image_side=side))  # fmt: skip
    with pytest.raises(ValueError, match=r"bad\.npz does not hold the weights of the DCGAN its "
                       r"config describes \(.*\): the file is damaged"):  # fmt: skip
        fw.DCGAN.load(tmp_path / "bad.npz")


@pytest.mark.slow
def test_the_generator_learns_two_saturated_modes(fw):
    """300 updates on 16 x 16 images that are all +1 or all -1 (half each). The initial
    generator's images are near 0 (mean |pixel| about 0.017 for these seeds: small Glorot
    weights, batch norm in inference mode, tanh); measured after training, 0.86-0.93 in both
    frameworks and on both Keras backends over several runs (dropout draws differ from run to
    run). The bounds, 0.05 before and 0.6 after, leave room on both sides; a generator that
    does not learn stays near 0. Both modes are made: each sign is the mean of at least 10% of
    the images (measured: 23-39%)."""
    gan = _gan(fw, 16, learning_rate=2e-3)
    z = np.random.default_rng(9).standard_normal((256, LATENT))
    start = float(np.abs(gan.generate(z)).mean())
    gan.fit(two_modes(256, 16), updates=300, batch_size=32, progress=False)
    images = gan.generate(z)
    end = float(np.abs(images).mean())
    assert start < 0.05 and end > 0.6, (start, end)
    positive = float((images.reshape(256, -1).mean(axis=1) > 0).mean())
    assert 0.1 <= positive <= 0.9, positive


# ---- torch against Keras at L = 16: same weights, same numbers -----------------------------

TOL = {"rtol": 1e-4, "atol": 1e-5}


@pytest.mark.keras
def test_same_seed_same_initial_networks_at_16():
    from coursekit.keras import DCGAN as KerasDCGAN
    from coursekit.torch import DCGAN as TorchDCGAN

    k = KerasDCGAN(LATENT, **SMALL, seed=3, image_side=16)
    t = TorchDCGAN(LATENT, **SMALL, seed=3, image_side=16)
    for name, value in k.get_weights().items():
        np.testing.assert_array_equal(value, t.get_weights()[name], err_msg=name)
    z = np.random.default_rng(0).standard_normal((8, LATENT))
    np.testing.assert_allclose(k.generate(z), t.generate(z), **TOL)


@pytest.mark.keras
def test_same_weights_same_images_discriminator_and_training_losses_at_16():
    """Inference mode (generate, discriminate), then training mode without dropout: batch norm
    on batch statistics, the same noise and batch give the same losses."""
    import torch
    from keras import ops

    from coursekit.keras import DCGAN as KerasDCGAN
    from coursekit.keras import gan as kgan
    from coursekit.torch import DCGAN as TorchDCGAN

    k = KerasDCGAN(LATENT, **SMALL, seed=0, image_side=16, dropout=0.0)
    t = TorchDCGAN(LATENT, **SMALL, seed=1, image_side=16, dropout=0.0)
    w = random_weights(t, seed=5)
    k.set_weights(w)
    t.set_weights(w)
    z = np.random.default_rng(1).standard_normal((10, LATENT)).astype(np.float32)
    gk, gt = k.generate(z), t.generate(z)
    assert np.std(gk) > 0.05  # not a constant image
    np.testing.assert_allclose(gk, gt, **TOL)
    x = spins(10, 16, seed=2)
    np.testing.assert_allclose(k.discriminate(x), t.discriminate(x), **TOL)

    t.generator.train()
    t.discriminator.train()
    with torch.no_grad():
        t_losses = t._losses(torch.from_numpy(x[:, None]), torch.from_numpy(z), "non_saturating")
    fake = k.generator(z, training=True)
    logits = k.discriminator(ops.concatenate([x[..., None], fake], axis=0), training=True)
    k_losses = (kgan.discriminator_loss(logits[:10], logits[10:]),
                kgan.generator_loss(logits[10:], "non_saturating"))  # fmt: skip
    for got, want in zip(k_losses, t_losses[:2], strict=True):
        assert float(ops.convert_to_numpy(got)) == pytest.approx(float(want), rel=1e-4)


@pytest.mark.keras
def test_a_16x16_file_loads_into_the_other_framework(tmp_path):
    from coursekit.keras import DCGAN as KerasDCGAN
    from coursekit.torch import DCGAN as TorchDCGAN

    t = TorchDCGAN(LATENT, **SMALL, learning_rate=1e-3, seed=0, image_side=16)
    t.fit(spins(32, 16), updates=2, batch_size=16, progress=False)
    k = KerasDCGAN.load(t.save(tmp_path / "t.npz"))
    assert k.image_side == 16 and k.updates == 2
    z = np.random.default_rng(3).standard_normal((6, LATENT))
    np.testing.assert_allclose(k.generate(z), t.generate(z), **TOL)
