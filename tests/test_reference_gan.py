"""coursekit.reference.gan against exact values: d*, JS, the value at d*, the generator losses."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coursekit.reference import gan as rg

LN2 = math.log(2.0)


def _uniform(a: float, b: float):
    return lambda x: np.where((x >= a) & (x <= b), 1.0 / (b - a), 0.0)


def test_optimal_discriminator_of_two_gaussians_matches_the_closed_form():
    x = np.linspace(-6, 6, 121)
    p, q = rg.gaussian_pdf(x, 0.0, 1.0), rg.gaussian_pdf(x, 2.0, 1.0)
    d = rg.optimal_discriminator(p, q)
    # equal variances: log p/q = (m_q^2 - m_p^2)/2 + (m_p - m_q) x = 2 - 2x
    np.testing.assert_allclose(d, 1.0 / (1.0 + np.exp(-(2.0 - 2.0 * x))), rtol=1e-12)
    np.testing.assert_allclose(
        rg.optimal_discriminator_gaussians(x, 0.0, 1.0, 2.0, 1.0), d, rtol=1e-10, atol=1e-300
    )
    assert d[np.argmin(abs(x - 1.0))] == pytest.approx(0.5)  # midway the densities are equal
    d2 = rg.optimal_discriminator_gaussians(x, 0.0, 1.0, 1.0, 2.0)
    np.testing.assert_allclose(
        d2, rg.optimal_discriminator(rg.gaussian_pdf(x), rg.gaussian_pdf(x, 1.0, 2.0)), rtol=1e-10
    )


def test_optimal_discriminator_is_one_half_where_model_equals_data_and_where_both_vanish():
    p = np.array([0.0, 0.2, 1.0, 0.0])
    q = np.array([0.0, 0.2, 0.0, 3.0])
    np.testing.assert_array_equal(rg.optimal_discriminator(p, q), [0.5, 0.5, 1.0, 0.0])
    with pytest.raises(ValueError, match="p_data and p_model"):
        rg.optimal_discriminator(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match=">= 0"):
        rg.optimal_discriminator(np.array([-1.0]), np.array([1.0]))


def test_d_star_maximises_the_value_function_pointwise():
    # v(d) = p log d + q log(1 - d) at one x is maximised at d = p/(p+q)
    p, q = 0.3, 0.9
    ds = np.linspace(1e-4, 1 - 1e-4, 100_001)
    best = ds[np.argmax(p * np.log(ds) + q * np.log1p(-ds))]
    assert best == pytest.approx(p / (p + q), abs=1e-4)


def test_js_of_identical_densities_is_zero_of_disjoint_ones_ln2():
    x = np.linspace(-10, 10, 20_001)
    assert rg.js_divergence(rg.gaussian_pdf, rg.gaussian_pdf, x) == pytest.approx(0, abs=1e-12)
    x = np.linspace(-20, 20, 40_001)
    far = rg.js_divergence(rg.gaussian_pdf(x, -10), rg.gaussian_pdf(x, 10), x)
    assert far == pytest.approx(LN2, rel=1e-9)  # N(-10, 1) and N(10, 1) barely overlap
    assert rg.js_divergence_discrete(np.array([1.0, 0, 0]), np.array([0, 0.5, 0.5])) == (
        pytest.approx(LN2)
    )
    assert rg.js_divergence_discrete(np.array([0.2, 0.8]), np.array([2.0, 8.0])) == 0.0


def test_js_of_half_overlapping_uniforms_is_half_ln2():
    # U[0,1] and U[0.5,1.5]: m = 1 on the overlap, 1/2 elsewhere -> KL(p||m) = ln2/2 each
    x = np.linspace(-1, 3, 400_001)
    js = rg.js_divergence(_uniform(0, 1), _uniform(0.5, 1.5), x)
    assert js == pytest.approx(0.5 * LN2, rel=1e-4)
    js_d = rg.js_divergence_discrete(np.array([1, 1, 0.0]), np.array([0, 1, 1.0]))
    assert js_d == pytest.approx(0.5 * LN2)


@pytest.mark.parametrize("params", [(0, 1, 2, 1), (0, 1, 0.5, 0.5), (1, 2, -1, 1), (0, 1, 0, 1)])
def test_value_at_d_star_is_minus_ln4_plus_two_js(params):
    mp, sp, mq, sq = params
    x = np.linspace(-20, 20, 200_001)
    p, q = rg.gaussian_pdf(x, mp, sp), rg.gaussian_pdf(x, mq, sq)
    v = rg.value_at_optimum(p, q, x)
    js = rg.js_divergence(p, q, x)
    assert v == pytest.approx(-math.log(4) + 2 * js, abs=1e-9)
    assert 0 <= js <= LN2
    assert v >= -math.log(4) - 1e-12  # the generator's minimum is -ln 4, at p_model = p_data


def test_value_at_d_star_of_disjoint_densities_is_zero():
    x = np.linspace(-5, 5, 100_001)
    assert rg.value_at_optimum(_uniform(-4, -2), _uniform(2, 4), x) == pytest.approx(0, abs=1e-12)


def test_js_refuses_a_grid_that_misses_mass():
    x = np.linspace(-1, 1, 101)
    with pytest.raises(ValueError, match="integrating to 1"):
        rg.js_divergence(rg.gaussian_pdf, rg.gaussian_pdf, x)
    with pytest.raises(ValueError, match="increasing"):
        rg.js_divergence(rg.gaussian_pdf, rg.gaussian_pdf, x[::-1])


def test_value_function_from_probabilities_and_logits_agree():
    rng = np.random.default_rng(0)
    lr, lf = rng.normal(1, 2, 50), rng.normal(-1, 2, 70)
    v = rg.value_function(rg.sigmoid(lr), rg.sigmoid(lf))
    assert rg.value_function_logits(lr, lf) == pytest.approx(v, rel=1e-12)
    assert rg.discriminator_loss(lr, lf) == pytest.approx(-v, rel=1e-12)
    # a discriminator that says 1/2 everywhere: v = -ln 4
    assert rg.value_function(np.full(3, 0.5), np.full(4, 0.5)) == pytest.approx(-math.log(4))
    with pytest.raises(ValueError, match="d_fake"):
        rg.value_function(np.full(3, 0.5), np.array([1.5]))


def test_generator_losses_and_their_closed_form_gradients():
    lf = np.linspace(-30, 30, 61)
    d = rg.sigmoid(lf)
    with np.errstate(divide="ignore"):
        sat = np.log1p(-d)
    ok = np.isfinite(sat)
    assert rg.generator_loss(lf[ok], "saturating") == pytest.approx(np.mean(sat[ok]), rel=1e-6)
    assert rg.generator_loss(lf, "non_saturating") == pytest.approx(-np.mean(np.log(d)), rel=1e-9)
    h = 1e-6
    for loss in rg.LOSSES:
        numeric = np.array(
            [(rg.generator_loss([v + h], loss) - rg.generator_loss([v - h], loss)) / (2 * h)
             for v in lf]
        )  # fmt: skip
        np.testing.assert_allclose(rg.generator_loss_grad(lf, loss), numeric, atol=1e-6)
    np.testing.assert_allclose(rg.generator_loss_grad(lf, "saturating"), -d)
    np.testing.assert_allclose(rg.generator_loss_grad(lf, "non_saturating"), -(1 - d), atol=1e-15)


def test_non_saturating_gradient_is_larger_when_the_discriminator_rejects_the_fakes():
    # early in training d(g(z)) is small: logit -5 -> d = 0.0067
    sat = abs(rg.generator_loss_grad(np.array([-5.0]), "saturating"))[0]
    ns = abs(rg.generator_loss_grad(np.array([-5.0]), "non_saturating"))[0]
    assert sat == pytest.approx(rg.sigmoid(-5.0))
    assert ns / sat == pytest.approx(math.exp(5.0))  # (1 - d) / d = exp(-l)
    with pytest.raises(ValueError, match="loss must be one of"):
        rg.generator_loss_grad(np.zeros(2), "wasserstein")
