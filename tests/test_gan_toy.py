"""The 1-D toy GAN of the week 4 lecture (coursekit.torch.gan_toy): the game against d* and JS."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coursekit.reference import gan as rg
from coursekit.torch.gan_toy import ToyGAN1D, kde


@pytest.mark.slow
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


@pytest.mark.slow
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
