"""Annealed importance sampling checked against exact log Z."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coursekit.reference import ais, rbm


def _base_rate_rbm(n_v, n_h, w_scale, seed):
    """A random RBM whose visible biases sit near the base rates of synthetic binary data."""
    rng = np.random.default_rng(seed)
    pixel_p = rng.beta(0.3, 1.0, size=n_v)  # mostly-dark "images", like MNIST
    data = (rng.random((300, n_v)) < pixel_p).astype(np.uint8)
    base_a = ais.base_rate_biases(data)
    W = rng.normal(0.0, w_scale, (n_v, n_h))
    a = base_a + rng.normal(0.0, 0.2, n_v)
    b = rng.normal(0.0, 0.1, n_h)
    return W, a, b, base_a, data


@pytest.mark.slow
def test_ais_784_by_15_matches_exact():
    W, a, b, base_a, data = _base_rate_rbm(784, 15, w_scale=0.05, seed=0)
    exact = rbm.log_partition(W, a, b)
    res = ais.ais_log_partition(W, a, b, n_chains=64, n_betas=500, base_a=base_a, rng=0)
    assert abs(res.log_z - exact) < 0.5
    assert res.log_z_low <= res.log_z <= res.log_z_high
    assert res.log_weights.shape == (64,) and res.betas.shape == (500,)
    assert 0.0 < res.std_log_z < 0.5
    # log-likelihood with the estimate = exact log-likelihood shifted by the log Z error
    x = data[:20]
    ll = ais.log_likelihood_ais(x, W, a, b, res)
    assert ll == pytest.approx(rbm.log_likelihood(x, W, a, b, log_z=exact) + exact - res.log_z)
    assert ll == pytest.approx(np.mean(-rbm.free_energy(x, W, a, b)) - res.log_z, rel=1e-13)


def test_ais_tiny_model_many_chains():
    W, a, b, base_a, _ = _base_rate_rbm(6, 4, w_scale=1.0, seed=1)
    exact = rbm.log_partition(W, a, b)
    res = ais.ais_log_partition(W, a, b, n_chains=2000, n_betas=200, base_a=base_a, rng=1)
    assert abs(res.log_z - exact) < 0.05
    # The default base model (uniform) works too.
    res0 = ais.ais_log_partition(W, a, b, n_chains=2000, n_betas=200, rng=2)
    assert res0.log_z_base == pytest.approx(6 * math.log(2) + 4 * math.log(2))
    assert abs(res0.log_z - exact) < 0.05


def test_no_annealing_is_unbiased_importance_sampling():
    # betas = [0, 1]: w = p*_B(x) / p*_A(x) with x ~ A exactly, so E[w] = Z_B / Z_A exactly.
    # This pins log Z_A (including the n_h log 2 of the base's hidden units).
    W, a, b, base_a, _ = _base_rate_rbm(5, 3, w_scale=0.7, seed=2)
    res = ais.ais_log_partition(W, a, b, n_chains=200_000, betas=[0.0, 1.0], base_a=base_a, rng=3)
    assert res.log_z_base == pytest.approx(np.logaddexp(0, base_a).sum() + 3 * math.log(2))
    w = np.exp(res.log_weights)
    ratio = math.exp(rbm.log_partition(W, a, b) - res.log_z_base)
    sem = w.std() / math.sqrt(w.size)
    assert abs(w.mean() - ratio) < 4 * sem
    assert res.std_log_z == pytest.approx(w.std(ddof=1) / (math.sqrt(w.size) * w.mean()))
    spread = 3 * res.std_log_z
    assert res.log_z_high - res.log_z == pytest.approx(math.log1p(spread))
    assert res.log_z - res.log_z_low == pytest.approx(-math.log1p(-spread))


def test_reproducible_with_seed():
    W, a, b, base_a, _ = _base_rate_rbm(8, 3, w_scale=0.5, seed=4)
    r1 = ais.ais_log_partition(W, a, b, n_chains=10, n_betas=20, base_a=base_a, rng=5)
    r2 = ais.ais_log_partition(
        W, a, b, n_chains=10, n_betas=20, base_a=base_a, rng=np.random.default_rng(5)
    )
    np.testing.assert_array_equal(r1.log_weights, r2.log_weights)


@pytest.mark.parametrize(
    "betas",
    [[0.1, 0.5, 1.0], [0.0, 0.5, 0.9], [0.0, 0.6, 0.4, 1.0], [[0.0, 1.0]], [0.0], [1.0, 0.0]],
)
def test_bad_betas_rejected(betas):
    W, a, b, _, _ = _base_rate_rbm(4, 2, w_scale=0.1, seed=6)
    with pytest.raises(ValueError, match="betas"):
        ais.ais_log_partition(W, a, b, betas=betas)


def test_bad_arguments_rejected():
    W, a, b, _, _ = _base_rate_rbm(4, 2, w_scale=0.1, seed=6)
    with pytest.raises(ValueError, match="betas or n_betas"):
        ais.ais_log_partition(W, a, b, betas=[0.0, 1.0], n_betas=10)
    with pytest.raises(ValueError, match="n_chains"):
        ais.ais_log_partition(W, a, b, n_chains=0, n_betas=10)
    with pytest.raises(ValueError, match="base_a"):
        ais.ais_log_partition(W, a, b, n_betas=10, base_a=np.zeros(3))


def test_low_bound_is_minus_infinity_when_mean_minus_3_sigma_is_not_positive():
    # Two chains with very different weights: mean(w) - 3 std(w) / sqrt(2) < 0.
    W, a, b, _, _ = _base_rate_rbm(4, 2, w_scale=3.0, seed=7)
    out = ais.ais_log_partition(W, a, b, n_chains=2, betas=[0.0, 1.0], rng=0)
    w = np.exp(out.log_weights)
    assert w.mean() - 3 * w.std(ddof=1) / math.sqrt(2) <= 0
    assert out.log_z_low == -math.inf
    assert out.log_z <= out.log_z_high < math.inf


def test_beta_schedule():
    sm = ais.beta_schedule()
    assert sm.shape == (5501,) and sm[0] == 0.0 and sm[-1] == 1.0
    np.testing.assert_allclose(np.diff(sm)[:500], 1e-3)
    np.testing.assert_allclose(np.diff(sm)[500:], 1e-4)
    small = ais.beta_schedule(100)
    assert small.shape == (100,) and small[0] == 0.0 and small[-1] == 1.0
    assert np.all(np.diff(small) > 0)
    assert np.sum(small < 0.5) < np.sum(small > 0.5)  # denser near the target
    np.testing.assert_array_equal(ais.beta_schedule(3), [0.0, 0.5, 1.0])
    with pytest.raises(ValueError, match="n_betas"):
        ais.beta_schedule(1)


def test_base_rate_biases():
    x = np.array([[1, 0, 0], [1, 1, 0], [1, 0, 0], [1, 1, 0]])
    eps = 0.1
    p = (1 - eps) * np.array([1.0, 0.5, 0.0]) + eps / 2
    np.testing.assert_allclose(ais.base_rate_biases(x, eps=eps), np.log(p / (1 - p)))
    assert np.all(np.isfinite(ais.base_rate_biases(x)))
    with pytest.raises(ValueError, match="x"):
        ais.base_rate_biases(np.zeros(3))


def test_sm2008_schedule_and_halving():
    sm = ais.sm2008_schedule()
    assert sm.shape == (14_501,) and sm[0] == 0.0 and sm[-1] == 1.0
    steps = np.diff(sm)
    np.testing.assert_allclose(steps[:500], 1e-3)
    np.testing.assert_allclose(steps[500:4500], 1e-4)
    np.testing.assert_allclose(steps[4500:], 1e-5)
    half = ais.halve_schedule(sm)
    np.testing.assert_array_equal(half, sm[::2])
    np.testing.assert_array_equal(ais.halve_schedule([0.0, 0.3, 0.6, 1.0]), [0.0, 0.6, 1.0])
    with pytest.raises(ValueError, match="at least 3"):
        ais.halve_schedule([0.0, 1.0])


def test_run_spread_is_the_standard_error_over_groups_of_chains():
    W, a, b, base_a, _ = _base_rate_rbm(8, 3, w_scale=0.5, seed=6)
    res = ais.ais_log_partition(W, a, b, n_chains=40, n_betas=30, base_a=base_a, rng=0)
    groups = res.log_weights.reshape(4, 10)
    per_run = [rbm.logsumexp(g) - math.log(10) for g in groups]
    assert res.run_spread(4) == pytest.approx(np.std(per_run, ddof=1) / 2)
    for bad in (1, 41, 2.0):
        with pytest.raises(ValueError, match="n_runs"):
            res.run_spread(bad)
