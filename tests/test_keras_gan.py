"""coursekit.keras.DCGAN on the current Keras backend (``make test`` runs tensorflow and torch)."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
from gan_shared import LATENT, SMALL, bar_images

from coursekit.keras import DCGAN, TrainingDiverged
from coursekit.keras.gan import discriminator_loss, generator_loss
from coursekit.reference import gan as rg

pytestmark = pytest.mark.keras


def _gan(**kw) -> DCGAN:
    return DCGAN(LATENT, **{**SMALL, "seed": 0, **kw})


def test_shapes_and_the_tutorial_sizes():
    gan = _gan()
    z = np.random.default_rng(0).standard_normal((5, LATENT))
    img = gan.generate(z)
    assert img.shape == (5, 28, 28) and np.all(np.abs(img) <= 1)
    s = gan.sample(4, seed=1)
    assert s.shape == (4, 28, 28) and s.min() >= 0 and s.max() <= 1
    assert gan.discriminate(bar_images(3)).shape == (3,)
    full = DCGAN(seed=0)
    assert full.generator.output_shape == (None, 28, 28, 1)
    assert tuple(full.generator.get_layer("dense").kernel.shape) == (100, 7 * 7 * 256)


def test_losses_match_the_reference():
    rng = np.random.default_rng(0)
    lr, lf = rng.normal(1, 2, 40).astype("f4"), rng.normal(-1, 2, 30).astype("f4")
    num = keras.ops.convert_to_numpy
    assert float(num(discriminator_loss(lr, lf))) == pytest.approx(
        rg.discriminator_loss(lr, lf), rel=1e-5
    )
    for loss in rg.LOSSES:
        assert float(num(generator_loss(lf, loss))) == pytest.approx(
            rg.generator_loss(lf, loss), rel=1e-5
        )


def test_training_steps_run_on_this_backend():
    gan = _gan(learning_rate=1e-3)
    before = gan.get_weights()
    hist = gan.fit(bar_images(64), updates=6, batch_size=16, progress=False)
    assert gan.updates == 6 and hist["update"] == [4, 6]
    for key in ("d_real", "d_fake", "d_loss", "g_loss"):
        assert all(math.isfinite(v) for v in hist[key])
    assert hist["grid"][-1].shape == (16, 28, 28)
    after = gan.get_weights()
    changed = [k for k in before if not np.array_equal(before[k], after[k])]
    assert sorted(changed) == sorted(before)  # every weight and batch-norm statistic moved


def test_saturating_loss_trains_too():
    gan = _gan(loss="saturating", learning_rate=1e-3)
    hist = gan.fit(bar_images(32), updates=2, batch_size=16, progress=False)
    assert hist["g_loss"][-1] < 0  # mean log(1 - D) is negative


def test_non_saturating_gradient_is_larger_early_in_training():
    gan = _gan(learning_rate=2e-3)
    x = bar_images(256)
    for i in range(40):
        stats = gan.train_step(x[(i * 32) % 256 :][:32], update_generator=False)
    assert gan.updates == 0
    assert stats["d_fake"] < 0.1
    sat = gan.generator_gradient_norm(256, loss="saturating")
    ns = gan.generator_gradient_norm(256, loss="non_saturating")
    assert ns > 5 * sat


def test_nan_loss_stops_with_the_likely_cause():
    gan = _gan()
    layer = gan.discriminator.get_layer("dense")
    layer.bias.assign(np.full((1,), np.nan, np.float32))
    before = gan.get_weights()["g/dense/kernel"]
    with pytest.raises(TrainingDiverged, match="learning rate"):
        gan.fit(bar_images(32), updates=2, batch_size=16, progress=False)
    np.testing.assert_array_equal(gan.get_weights()["g/dense/kernel"], before)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"latent_dim": 0}, "latent_dim"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"loss": "minimax"}, "loss must be one of"),
        ({"generator_channels": (8,)}, "generator_channels"),
    ],
)
def test_bad_constructor_arguments(kwargs, match):
    args = {"latent_dim": LATENT, **SMALL, **kwargs}
    latent = args.pop("latent_dim")
    with pytest.raises(ValueError, match=match):
        DCGAN(latent, **args)


def test_bad_images_are_refused_with_a_reason():
    gan = _gan()
    x = bar_images(32)
    with pytest.raises(ValueError, match="x must hold 28x28 images"):
        gan.fit(x[:, :, :20], updates=1, batch_size=8, progress=False)
    with pytest.raises(ValueError, match=r"look like images in \[0, 1\]"):
        gan.fit((x + 1) / 2, updates=1, batch_size=8, progress=False)
    with pytest.raises(ValueError, match=r"values in \[-1, 1\]"):
        gan.discriminate(2 * x)


