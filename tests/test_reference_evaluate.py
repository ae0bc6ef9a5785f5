"""coursekit.reference.evaluate: AIS-based log-likelihood report against exact values."""

from __future__ import annotations

import numpy as np
import pytest

from coursekit.reference import log_likelihood, log_partition
from coursekit.reference.evaluate import ais_report


def test_report_matches_exact_values_on_a_model_with_few_hidden_units():
    rng = np.random.default_rng(0)
    n_v, n_h = 64, 10
    train = (rng.random((300, n_v)) < rng.random(n_v)).astype(float)
    test = (rng.random((100, n_v)) < 0.3).astype(float)
    weights = {
        "W": rng.normal(0, 0.1, (n_v, n_h)),
        "a": rng.normal(0, 0.5, n_v),
        "b": rng.normal(0, 0.5, n_h),
    }
    report = ais_report(weights, train, test, n_chains=64, n_betas=3000, seed=1)
    exact_log_z = log_partition(weights["W"], weights["a"], weights["b"])
    assert report.log_z == pytest.approx(exact_log_z, abs=0.1)
    exact_test = log_likelihood(test, weights["W"], weights["a"], weights["b"])
    assert report.test_ll == pytest.approx(exact_test, abs=0.1)
    lo, hi = report.test_ll_range
    assert lo <= report.test_ll <= hi
    text = str(report)
    assert "log Z" in text and "test" in text and "100 test images" in text


# --------------------------------------------------------------------------------------------
# The error bar covers the schedule's bias (issue: AIS ranges that missed a finer schedule)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist_rbm_16():
    """A 784 x 16 RBM trained briefly with PCD-1 on (offline) MNIST: log Z is exact by
    enumerating the 2**16 hidden states, yet AIS with a short schedule is visibly biased."""
    import warnings

    import coursekit as ck
    from coursekit.reference import ais, rbm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the offline fallback's warning
        images, _ = ck.data.load_mnist("train")
    x = ck.data.binarize(ck.data.flatten(ck.data.to_float(images)))
    rng = np.random.default_rng(0)
    W = rng.normal(0, 0.01, (784, 16))
    p = np.clip(x.mean(axis=0), 1e-3, 1 - 1e-3)
    a, b = np.log(p / (1 - p)), np.zeros(16)
    chains = (rng.random((100, 784)) < 0.5).astype(float)
    for _ in range(1500):
        batch = x[rng.integers(0, len(x), 100)]
        dW, da, db, chains = rbm.cd_gradient(batch, W, a, b, k=1, rng=rng, persistent=chains)
        W, a, b = W + 0.05 * dW, a + 0.05 * da, b + 0.05 * db
    return W, a, b, ais.base_rate_biases(x), log_partition(W, a, b)


@pytest.mark.slow
def test_range_contains_exact_log_z_and_covers_doubling_the_betas(mnist_rbm_16):
    # Measured over 16 seeds on this model: with 200 intervals the range held the exact log Z
    # 16 times of 16 (the Monte-Carlo-only 3-sigma range of S&M 2008: 13 of 16), and doubling
    # the betas moved the estimate by less than the uncertainty 16 times of 16.
    from coursekit.reference.evaluate import estimate_log_z

    W, a, b, base, exact = mnist_rbm_16
    for seed in range(3):
        est = estimate_log_z(W, a, b, n_betas=201, n_chains=100, base_a=base, seed=seed)
        assert len(est.full.betas) == 201 and len(est.half.betas) == 101
        assert est.low <= exact <= est.high
        doubled = estimate_log_z(W, a, b, n_betas=401, n_chains=100, base_a=base, seed=10 + seed)
        assert abs(doubled.log_z - est.log_z) < est.uncertainty
        assert doubled.low <= exact <= doubled.high


@pytest.mark.slow
def test_monte_carlo_spread_alone_misses_the_schedule_bias(mnist_rbm_16):
    # The power of the check above: with 50 intervals, the 3-sigma range of the weights alone
    # misses the exact log Z for some seeds (8 of 16 when measured), while the estimate sits
    # below the truth, as AIS's bias says it should on average.
    from coursekit.reference.evaluate import estimate_log_z

    W, a, b, base, exact = mnist_rbm_16
    ests = [
        estimate_log_z(W, a, b, n_betas=51, n_chains=100, base_a=base, seed=s) for s in range(4)
    ]
    missed = [not (e.full.log_z_low <= exact <= e.full.log_z_high) for e in ests]
    assert any(missed)
    assert np.mean([e.log_z for e in ests]) < exact


def test_estimate_parts_and_text():
    from coursekit.reference import ais
    from coursekit.reference.evaluate import estimate_log_z

    rng = np.random.default_rng(1)
    W, a, b = rng.normal(0, 0.3, (12, 4)), rng.normal(0, 0.5, 12), rng.normal(0, 0.5, 4)
    est = estimate_log_z(W, a, b, n_betas=41, n_chains=40, n_runs=4, seed=0)
    assert est.schedule_shift == pytest.approx(est.full.log_z - est.half.log_z)
    assert est.std >= est.full.std_log_z and est.std >= est.full.run_spread(4)
    assert est.high == pytest.approx(est.log_z + abs(est.schedule_shift) + 3 * est.std)
    assert est.low <= min(est.full.log_z, est.half.log_z)
    assert est.uncertainty == pytest.approx((est.high - est.low) / 2)
    text = str(est)
    assert "40 intervals" in text and "20 intervals" in text and "doubling" in text
    short = estimate_log_z(W, a, b, betas=41, n_chains=40, seed=0)
    np.testing.assert_array_equal(short.full.betas, est.full.betas)
    sm = estimate_log_z(W, a, b, betas="sm2008", n_chains=4, n_runs=2, seed=0)
    assert len(sm.full.betas) == 14_501 and len(sm.half.betas) == 7_251
    np.testing.assert_array_equal(sm.full.betas, ais.sm2008_schedule())
    for kwargs, match in (
        ({"betas": "fast"}, "betas"),
        ({"betas": "sm2008", "n_betas": 10}, "not both"),
        ({"n_runs": 0}, "n_runs"),
        ({"n_chains": 3, "n_runs": 4}, "n_chains"),
    ):
        with pytest.raises(ValueError, match=match):
            estimate_log_z(W, a, b, **kwargs)
