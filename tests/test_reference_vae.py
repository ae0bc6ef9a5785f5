"""The VAE's maths in NumPy (coursekit.reference.vae) against exact and analytic values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from coursekit.reference import vae as ref


def _posterior_params(seed: int = 0, n: int = 4, k: int = 3):
    rng = np.random.default_rng(seed)
    return rng.normal(0, 1.2, (n, k)), rng.normal(0, 0.8, (n, k))


def test_closed_form_kl_equals_torch_kl_divergence():
    mean, log_var = _posterior_params()
    q = torch.distributions.Normal(torch.tensor(mean), torch.tensor(np.exp(0.5 * log_var)))
    p = torch.distributions.Normal(torch.zeros(mean.shape, dtype=torch.float64), 1.0)
    expected = torch.distributions.kl_divergence(q, p).sum(-1).numpy()
    np.testing.assert_allclose(ref.kl_standard_normal(mean, log_var), expected, rtol=1e-12)


def test_closed_form_kl_equals_a_large_monte_carlo_estimate():
    mean, log_var = _posterior_params(seed=1)
    rng = np.random.default_rng(2)
    eps = rng.standard_normal((200_000, *mean.shape))
    z = ref.reparameterize(mean, log_var, eps)
    log_q = ref.diag_gaussian_log_prob(z, mean, log_var)
    log_p = ref.diag_gaussian_log_prob(z, np.zeros_like(mean), np.zeros_like(log_var))
    samples = log_q - log_p  # [m, n]
    mc, err = samples.mean(0), samples.std(0) / np.sqrt(len(samples))
    exact = ref.kl_standard_normal(mean, log_var)
    assert np.all(np.abs(mc - exact) < 4 * err + 1e-9), (mc, exact, err)
    assert np.all(err < 0.02)


def test_full_covariance_kl_agrees_with_the_diagonal_formula_and_is_zero_for_equal():
    mean, log_var = _posterior_params(seed=3, n=1, k=4)
    full = ref.kl_gaussians(mean[0], np.diag(np.exp(log_var[0])), np.zeros(4), np.eye(4))
    assert full == pytest.approx(ref.kl_standard_normal(mean, log_var)[0], rel=1e-12)
    a = np.array([[2.0, 0.3], [0.3, 1.0]])
    assert ref.kl_gaussians(np.ones(2), a, np.ones(2), a) == pytest.approx(0.0, abs=1e-12)
    assert ref.kl_gaussians(np.ones(2), a, np.zeros(2), np.eye(2)) > 0


def test_bernoulli_log_prob_is_minus_the_cross_entropy():
    rng = np.random.default_rng(4)
    x = (rng.random((3, 10)) < 0.5).astype(float)
    logits = rng.normal(0, 3, (3, 10))
    p = 1 / (1 + np.exp(-logits))
    expected = np.sum(x * np.log(p) + (1 - x) * np.log1p(-p), axis=1)
    np.testing.assert_allclose(ref.bernoulli_log_prob(x, logits), expected, rtol=1e-10)
    # stable at extreme logits, where log(sigmoid) would underflow
    assert np.isfinite(ref.bernoulli_log_prob(np.array([[1.0, 0.0]]), np.array([[-800.0, 800.0]])))


@pytest.fixture
def model_and_data():
    model = ref.LinearGaussian.random(d=6, k=2, sigma2=0.4, seed=0)
    x = model.sample(5, np.random.default_rng(1))
    post_mean, post_cov = model.posterior(x)
    # an imperfect encoder: shifted means, a diagonal covariance of the wrong size
    q_mean = post_mean + np.array([0.3, -0.2])
    q_log_var = np.log(np.diag(post_cov) * 1.7)[None].repeat(len(x), 0)
    return model, x, q_mean, q_log_var


def test_linear_gaussian_posterior_is_bayes_rule(model_and_data):
    model, x, _, _ = model_and_data
    mean, cov = model.posterior(x[:1])
    h = np.random.default_rng(5).normal(size=(3, 2))
    # log p(h|x) = log p(x|h) + log p(h) - log p(x), for any h
    log_prior = ref.diag_gaussian_log_prob(h, np.zeros(2), np.zeros(2))
    bayes = model.log_likelihood(x[:1], h) + log_prior - model.log_marginal(x[:1])
    diff = h - mean
    log_post = -0.5 * (
        np.sum(diff @ np.linalg.inv(cov) * diff, 1) + np.linalg.slogdet(2 * np.pi * cov)[1]
    )
    np.testing.assert_allclose(bayes, log_post, rtol=1e-10)


def test_elbo_gap_is_the_kl_to_the_exact_posterior(model_and_data):
    model, x, q_mean, q_log_var = model_and_data
    gap = model.log_marginal(x) - model.elbo(x, q_mean, q_log_var)
    np.testing.assert_allclose(gap, model.elbo_gap(x, q_mean, q_log_var), rtol=1e-10)
    assert np.all(gap > 0.05)


def test_the_exact_posterior_closes_the_gap_when_it_is_diagonal():
    model = ref.LinearGaussian(np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]]), np.zeros(3), 0.5)
    x = model.sample(3, np.random.default_rng(0))
    mean, cov = model.posterior(x)
    log_var = np.log(np.diag(cov))[None].repeat(3, 0)  # W^T W diagonal: the posterior is too
    np.testing.assert_allclose(model.elbo(x, mean, log_var), model.log_marginal(x), rtol=1e-12)


def test_monte_carlo_elbo_matches_the_closed_form(model_and_data):
    model, x, q_mean, q_log_var = model_and_data
    log_w = model.log_weights(x, q_mean, q_log_var, 100_000, np.random.default_rng(6))
    mc, err = log_w.mean(1), log_w.std(1) / np.sqrt(log_w.shape[1])
    assert np.all(np.abs(mc - model.elbo(x, q_mean, q_log_var)) < 4 * err)


def test_elbo_below_iwae_below_log_px_and_iwae_rises_with_k(model_and_data):
    model, x, q_mean, q_log_var = model_and_data
    rng = np.random.default_rng(7)
    elbo = model.elbo(x, q_mean, q_log_var)
    log_px = model.log_marginal(x)
    bounds, errors = {}, {}
    for k in (1, 5, 50, 500):  # 400 independent IWAE_K estimates per image
        draws = np.array(
            [ref.iwae_bound(model.log_weights(x, q_mean, q_log_var, k, rng)) for _ in range(400)]
        )
        bounds[k], errors[k] = draws.mean(0), draws.std(0) / np.sqrt(len(draws))
    means = [bounds[k].mean() for k in (1, 5, 50, 500)]
    assert all(a < b for a, b in zip(means, means[1:], strict=False)), means
    for k in (5, 50, 500):  # ELBO <= E[IWAE_K] <= log p(x), up to 4 standard errors
        assert np.all(elbo < bounds[k] + 4 * errors[k]), k
        assert np.all(bounds[k] < log_px + 4 * errors[k]), k
    assert np.all(np.abs(bounds[1] - elbo) < 4 * errors[1])  # K = 1 is the ELBO
    assert np.all(log_px - bounds[500] < 0.1 * (log_px - elbo))  # K = 500 closes most of the gap


def test_iwae_and_log_mean_exp_are_stable():
    w = np.array([[-1000.0, -1000.0], [0.0, np.log(3.0)]])
    np.testing.assert_allclose(ref.iwae_bound(w), [-1000.0, np.log(2.0)])
    with pytest.raises(ValueError, match="k"):
        ref.LinearGaussian.random(3, 1).iwae(
            np.zeros((1, 3)), np.zeros((1, 1)), np.zeros((1, 1)), k=0, rng=np.random.default_rng(0)
        )


def test_both_gradient_estimators_are_unbiased_and_reparameterisation_has_less_variance():
    # d/dmu E[(z - 1)^2] = 2 (mu - 1) for z ~ N(mu, sigma^2)
    mean, sigma = np.array([0.5, -1.0]), np.array([0.7, 1.3])
    score, reparam = ref.gradient_estimators(
        lambda z: np.sum((z - 1.0) ** 2, -1),
        lambda z: 2 * (z - 1.0),
        mean,
        sigma,
        200_000,
        np.random.default_rng(8),
    )
    exact = 2 * (mean - 1.0)
    for est in (score, reparam):
        err = est.std(0) / np.sqrt(len(est))
        assert np.all(np.abs(est.mean(0) - exact) < 4 * err)
    assert np.all(score.var(0) > 10 * reparam.var(0))
    np.testing.assert_allclose(reparam.var(0), 4 * sigma**2, rtol=0.02)  # Var[2 sigma eps]


def test_linear_gaussian_rejects_bad_shapes():
    with pytest.raises(ValueError, match="W must be"):
        ref.LinearGaussian(np.zeros(3), np.zeros(3), 1.0)
    with pytest.raises(ValueError, match="sigma2"):
        ref.LinearGaussian(np.zeros((3, 1)), np.zeros(3), 0.0)
