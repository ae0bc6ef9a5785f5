"""coursekit.torch.DCGAN and coursekit.keras.DCGAN compute the same networks: with the same
weights (and batch-norm statistics) and the same noise, the generators give the same images and
the discriminators the same D(x), in inference mode; a file saved by one loads into the other.
Runs on either Keras backend (``make test`` runs it under both)."""

from __future__ import annotations

import numpy as np
import pytest
from gan_shared import LATENT, SMALL, bar_images, random_weights

from coursekit.keras import DCGAN as KerasDCGAN
from coursekit.torch import DCGAN as TorchDCGAN

pytestmark = pytest.mark.keras
TOL = {"rtol": 1e-4, "atol": 1e-5}


def test_same_seed_gives_the_same_initial_networks():
    k, t = KerasDCGAN(LATENT, **SMALL, seed=3), TorchDCGAN(LATENT, **SMALL, seed=3)
    z = np.random.default_rng(0).standard_normal((8, LATENT))
    np.testing.assert_allclose(k.generate(z), t.generate(z), **TOL)


@pytest.mark.parametrize("channels", [SMALL, {"generator_channels": (32, 16, 8),
                                              "discriminator_channels": (8, 16)}])  # fmt: skip
def test_same_weights_same_images_and_same_discriminator(channels):
    k, t = KerasDCGAN(LATENT, **channels, seed=0), TorchDCGAN(LATENT, **channels, seed=1)
    w = random_weights(t, seed=5)
    k.set_weights(w)
    t.set_weights(w)
    z = np.random.default_rng(1).standard_normal((10, LATENT))
    gk, gt = k.generate(z), t.generate(z)
    assert np.std(gk) > 0.05  # not a constant image
    np.testing.assert_allclose(gk, gt, **TOL)
    x = np.clip(bar_images(10) + 0.3 * np.random.default_rng(2).normal(size=(10, 28, 28)), -1, 1)
    np.testing.assert_allclose(k.discriminate(x), t.discriminate(x), **TOL)
    for name, value in k.get_weights().items():
        np.testing.assert_array_equal(value, t.get_weights()[name])


def test_a_keras_trained_model_loads_into_torch_and_back(tmp_path):
    k = KerasDCGAN(LATENT, **SMALL, learning_rate=1e-3, seed=0)
    k.fit(bar_images(64), updates=4, batch_size=16, progress=False)  # BN statistics move
    t = TorchDCGAN.load(k.save(tmp_path / "k.npz"))
    z = np.random.default_rng(3).standard_normal((6, LATENT))
    np.testing.assert_allclose(k.generate(z), t.generate(z), **TOL)
    t.fit(bar_images(64), updates=2, batch_size=16, progress=False)
    k2 = KerasDCGAN.load(t.save(tmp_path / "t.npz"))
    np.testing.assert_allclose(k2.generate(z), t.generate(z), **TOL)
    assert k2.updates == 6
