"""coursekit.reference.tiny: exact-KL training of a tiny RBM on bars-and-stripes."""

from __future__ import annotations

import numpy as np
import pytest

from coursekit.data.toy import bars_and_stripes, bars_and_stripes_distribution
from coursekit.reference import kl_divergence, model_distribution
from coursekit.reference.tiny import gradient_error_by_k, init_params, train_tiny


@pytest.fixture(scope="module")
def data():
    return bars_and_stripes(3).astype(np.float64)


def test_kl_history_starts_at_the_initial_model(data):
    run = train_tiny(data, 4, method="exact", steps=0, seed=3)
    W, a, b = init_params(9, 4, seed=3)
    expected = kl_divergence(bars_and_stripes_distribution(3), model_distribution(W, a, b))
    assert run.kl == [pytest.approx(expected)]


def test_exact_gradient_ascent_lowers_kl_steadily(data):
    run = train_tiny(data, 6, method="exact", steps=800, eta=0.3)
    kl = np.array(run.kl)
    assert len(kl) == 801
    assert kl[-1] < 0.5 * kl[0]
    # small steps of the exact gradient never raise the KL by more than round-off
    assert np.all(np.diff(kl) < 1e-9)


@pytest.mark.parametrize("method", ["cd", "pcd"])
def test_sampled_rules_also_learn(data, method):
    run = train_tiny(data, 6, method=method, k=1, steps=800, eta=0.3, n_chains=50)
    assert run.kl[-1] < 0.5 * run.kl[0]


def test_cd_bias_shrinks_with_k_at_the_start(data):
    W, a, b = init_params(9, 6, init_std=1.0, seed=1)
    errors = gradient_error_by_k(data, W, a, b, [1, 50], replicas=400)
    assert errors[50] < errors[1]


def test_bad_arguments_name_themselves(data):
    with pytest.raises(ValueError, match="method"):
        train_tiny(data, 2, method="sgd")
    with pytest.raises(ValueError, match="eta"):
        train_tiny(data, 2, eta=0)
    with pytest.raises(ValueError, match="steps"):
        train_tiny(data, 2, steps=-1)
