"""coursekit.torch.DCGAN and the 1-D toy GAN: shapes, training, the losses, bad input, files."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from gan_shared import LATENT, SMALL, bar_images

from coursekit.reference import gan as rg
from coursekit.torch import DCGAN, TrainingDiverged
from coursekit.torch.gan import discriminator_loss, generator_loss
from coursekit.torch.gan_toy import ToyGAN1D, kde


def _gan(**kw) -> DCGAN:
    return DCGAN(LATENT, **{**SMALL, "seed": 0, **kw})


def test_shapes_and_ranges():
    gan = _gan()
    z = np.random.default_rng(0).standard_normal((5, LATENT))
    img = gan.generate(z)
    assert img.shape == (5, 28, 28) and np.all(np.abs(img) <= 1)
    s = gan.sample(7, seed=1)
    assert s.shape == (7, 28, 28) and s.min() >= 0 and s.max() <= 1
    np.testing.assert_array_equal(gan.sample(3, seed=2), gan.sample(3, seed=2))
    d = gan.discriminate(bar_images(6))
    assert d.shape == (6,) and np.all((d > 0) & (d < 1))
    # the default sizes are the tutorial's: 7x7x256 dense, 64 and 128 discriminator channels
    full = DCGAN(seed=0)
    assert full.generator.dense.weight.shape == (256 * 49, 100)
    assert full.discriminator.dense.weight.shape == (1, 128 * 49)


def test_losses_match_the_reference():
    rng = np.random.default_rng(0)
    lr, lf = rng.normal(1, 2, 40), rng.normal(-1, 2, 30)
    t = torch.from_numpy
    assert float(discriminator_loss(t(lr), t(lf))) == pytest.approx(rg.discriminator_loss(lr, lf))
    for loss in rg.LOSSES:
        assert float(generator_loss(t(lf), loss)) == pytest.approx(rg.generator_loss(lf, loss))


def test_training_takes_steps_and_logs_rows():
    gan = _gan(learning_rate=1e-3)
    x = bar_images(64)
    before = gan.get_weights()
    hist = gan.fit(x, updates=6, batch_size=16, progress=False)
    assert gan.updates == 6
    assert hist["update"] == [4, 6] and hist["epoch"] == [1.0, 1.5]
    for key in ("d_real", "d_fake", "d_loss", "g_loss"):
        assert all(math.isfinite(v) for v in hist[key])
    assert hist["grid"][0].shape == (16, 28, 28)
    after = gan.get_weights()
    assert all(not np.array_equal(before[k], after[k]) for k in before if "moving" not in k)


def test_discriminator_only_steps_leave_the_generator_alone():
    gan = _gan(learning_rate=1e-3)
    g_before = {k: v for k, v in gan.get_weights().items() if k.startswith("g/dense")}
    for _ in range(3):
        gan.train_step(bar_images(16), update_generator=False)
    assert gan.updates == 0
    np.testing.assert_array_equal(gan.get_weights()["g/dense/kernel"], g_before["g/dense/kernel"])


def test_non_saturating_gradient_is_larger_early_in_training():
    """Early in training the discriminator rejects the fakes; the saturating loss's gradient
    then vanishes (reference: -D per logit) while the non-saturating one's does not (-(1-D))."""
    gan = _gan(learning_rate=2e-3)
    x = bar_images(256)
    for i in range(40):
        stats = gan.train_step(x[(i * 32) % 256 :][:32], update_generator=False)
    assert stats["d_fake"] < 0.1  # the discriminator wins against the initial generator
    sat = gan.generator_gradient_norm(256, loss="saturating")
    ns = gan.generator_gradient_norm(256, loss="non_saturating")
    assert ns > 5 * sat


def test_nan_loss_stops_with_the_likely_cause():
    gan = _gan()
    with torch.no_grad():
        gan.discriminator.dense.bias.fill_(float("nan"))
    before = gan.get_weights()["g/dense/kernel"]
    with pytest.raises(TrainingDiverged, match="learning rate"):
        gan.fit(bar_images(32), updates=2, batch_size=16, progress=False)
    np.testing.assert_array_equal(gan.get_weights()["g/dense/kernel"], before)
    assert gan.updates == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"latent_dim": 0}, "latent_dim"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"learning_rate": -1e-4}, "learning_rate"),
        ({"loss": "minimax"}, "loss must be one of"),
        ({"generator_channels": (8, 4)}, "generator_channels"),
        ({"discriminator_channels": (0, 4)}, "discriminator_channels"),
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
    with pytest.raises(ValueError, match=r"x must hold 28x28 images.*\(32, 27, 28\)"):
        gan.fit(x[:, :27], updates=1, batch_size=8, progress=False)
    with pytest.raises(ValueError, match=r"look like images in \[0, 1\].*2 \* x - 1"):
        gan.fit((x + 1) / 2, updates=1, batch_size=8, progress=False)
    with pytest.raises(ValueError, match=r"values in \[-1, 1\]"):
        gan.fit(3 * x, updates=1, batch_size=8, progress=False)
    with pytest.raises(ValueError, match="uint8"):
        gan.fit(((x + 1) * 127).astype(np.uint8), updates=1, batch_size=8, progress=False)
    with pytest.raises(ValueError, match="updates"):
        gan.fit(x, updates=0, batch_size=8, progress=False)
    with pytest.raises(ValueError, match="z must be"):
        gan.generate(np.zeros((2, LATENT + 1)))
    with pytest.raises(ValueError, match="x_real"):
        gan.train_step((x + 1) / 2)


def test_same_seed_same_initial_weights_different_seed_different():
    a, b, c = _gan(), _gan(), _gan(seed=1)
    wa, wb, wc = a.get_weights(), b.get_weights(), c.get_weights()
    assert all(np.array_equal(wa[k], wb[k]) for k in wa)
    assert not np.array_equal(wa["g/dense/kernel"], wc["g/dense/kernel"])


# ---- the 1-D game ----------------------------------------------------------------------------


def test_discriminator_on_fixed_gaussians_approaches_d_star():
    toy = ToyGAN1D(seed=0)
    losses = toy.train_discriminator(
        lambda n, r: r.normal(0, 1, n), lambda n, r: r.normal(2, 0.5, n), steps=800
    )
    x = np.linspace(-1.5, 3, 91)
    d_star = rg.optimal_discriminator_gaussians(x, 0, 1, 2, 0.5)
    err = np.abs(toy.discriminator_prob(x) - d_star).max()
    assert err < 0.06
    # and its loss approaches the minimum ln 4 - 2 JS
    grid = np.linspace(-10, 10, 20_001)
    js = rg.js_divergence(rg.gaussian_pdf(grid, 0, 1), rg.gaussian_pdf(grid, 2, 0.5), grid)
    assert np.mean(losses[-100:]) == pytest.approx(math.log(4) - 2 * js, abs=0.03)
    untrained = ToyGAN1D(seed=0).discriminator_prob(x)
    assert np.abs(untrained - d_star).max() > 0.3  # the test can fail: training made the fit


def test_toy_game_moves_the_generator_to_the_data():
    toy = ToyGAN1D(seed=0)
    frames = toy.train(lambda n, r: r.normal(1.5, 0.5, n), updates=600, frame_every=300)
    assert [f["update"] for f in frames] == [0, 300, 600]
    first, last = frames[0]["samples"], frames[-1]["samples"]
    assert abs(np.mean(last) - 1.5) < 0.2 < abs(np.mean(first) - 1.5)
    assert 0.3 < frames[-1]["d_fake"] < 0.7 and 0.3 < frames[-1]["d_real"] < 0.7


def test_kde_integrates_to_one():
    grid = np.linspace(-8, 8, 4001)
    p = kde(np.random.default_rng(0).normal(size=2000), grid)
    assert np.trapezoid(p, grid) == pytest.approx(1.0, abs=1e-3)
