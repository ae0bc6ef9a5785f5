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
    weights = {"W": rng.normal(0, 0.1, (n_v, n_h)), "a": rng.normal(0, 0.5, n_v),
               "b": rng.normal(0, 0.5, n_h)}
    report = ais_report(weights, train, test, n_chains=64, n_betas=3000, seed=1)
    exact_log_z = log_partition(weights["W"], weights["a"], weights["b"])
    assert report.log_z == pytest.approx(exact_log_z, abs=0.1)
    exact_test = log_likelihood(test, weights["W"], weights["a"], weights["b"])
    assert report.test_ll == pytest.approx(exact_test, abs=0.1)
    lo, hi = report.test_ll_range
    assert lo <= report.test_ll <= hi
    text = str(report)
    assert "log Z" in text and "test" in text and "100 test images" in text
