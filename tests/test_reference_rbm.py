"""Exact RBM reference maths checked against brute-force enumeration and hand calculations."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from coursekit.data.toy import bars_and_stripes
from coursekit.reference import rbm


def _random_rbm(n_v, n_h, seed=0, scale=0.5):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(0.0, scale, (n_v, n_h)),
        rng.normal(0.0, scale, n_v),
        rng.normal(0.0, scale, n_h),
    )


def _binary(n):
    """All binary vectors of length n via itertools (independent of rbm.all_states)."""
    return np.array(list(itertools.product([0.0, 1.0], repeat=n))).reshape(-1, n)


def _joint_log_weights(W, a, b):
    """Brute force: xs [2^n_v, n_v], hs [2^n_h, n_h], and -E(x, h) as [2^n_v, 2^n_h]."""
    xs, hs = _binary(W.shape[0]), _binary(W.shape[1])
    neg_e = (xs @ a)[:, None] + (hs @ b)[None, :] + xs @ W @ hs.T
    return xs, hs, neg_e


def _brute_log_z(W, a, b):
    _, _, neg_e = _joint_log_weights(W, a, b)
    m = neg_e.max()
    return m + math.log(np.exp(neg_e - m).sum())


# ------------------------------------------------------------------------------- helpers


def test_stable_helpers():
    z = np.array([-1000.0, -30.0, -1.0, 0.0, 2.0, 30.0, 1000.0])
    with np.errstate(over="ignore"):
        naive_sigmoid = 1.0 / (1.0 + np.exp(-z))
    np.testing.assert_allclose(rbm.sigmoid(z), naive_sigmoid, rtol=1e-15, atol=0)
    mid = z[1:-1]
    np.testing.assert_allclose(rbm.softplus(mid), np.log1p(np.exp(mid)), rtol=1e-14)
    assert rbm.softplus(1000.0) == 1000.0 and rbm.softplus(-1000.0) == 0.0
    assert rbm.log_sigmoid(-1000.0) == -1000.0 and np.isfinite(rbm.log_sigmoid(z)).all()
    x = np.array([[1000.0, 1000.0], [-np.inf, -np.inf], [0.0, math.log(3.0)]])
    np.testing.assert_allclose(
        rbm.logsumexp(x, axis=1), [1000.0 + math.log(2.0), -np.inf, math.log(4.0)]
    )
    assert rbm.logsumexp(np.array([0.0, 0.0])) == pytest.approx(math.log(2.0))


def test_all_states_order_and_state_index():
    expected = [[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 1, 1]]
    expected += [[1, 0, 0], [1, 0, 1], [1, 1, 0], [1, 1, 1]]
    s = rbm.all_states(3)
    assert s.dtype == np.uint8 and s.shape == (8, 3)
    np.testing.assert_array_equal(s, expected)
    np.testing.assert_array_equal(rbm.all_states(10), _binary(10))
    np.testing.assert_array_equal(rbm.state_index(rbm.all_states(10)), np.arange(1024))
    assert rbm.all_states(0).shape == (1, 0)
    with pytest.raises(ValueError, match="n"):
        rbm.all_states(25)


# ------------------------------------------------------------ energies and conditionals


def test_energy_matches_definition():
    W, a, b = _random_rbm(4, 3)
    rng = np.random.default_rng(1)
    x = rng.integers(0, 2, (5, 4))
    h = rng.integers(0, 2, (5, 3))
    expected = [-(a @ xi) - (b @ hi) - xi @ W @ hi for xi, hi in zip(x, h, strict=True)]
    np.testing.assert_allclose(rbm.energy(x, h, W, a, b), expected, rtol=1e-13)


def test_free_energy_is_minus_log_sum_over_h():
    W, a, b = _random_rbm(4, 3, seed=2, scale=1.0)
    xs, _, neg_e = _joint_log_weights(W, a, b)
    brute = -np.log(np.exp(neg_e).sum(axis=1))
    np.testing.assert_allclose(rbm.free_energy(xs, W, a, b), brute, rtol=1e-12)


def test_model_distribution_equals_brute_force_marginal():
    W, a, b = _random_rbm(4, 3, seed=3, scale=1.0)
    _, _, neg_e = _joint_log_weights(W, a, b)
    joint = np.exp(neg_e) / np.exp(neg_e).sum()
    p = rbm.model_distribution(W, a, b)
    assert p.shape == (16,) and p.dtype == np.float64
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(p, joint.sum(axis=1), rtol=1e-12)


def test_conditionals_equal_brute_force_ratios():
    W, a, b = _random_rbm(4, 3, seed=4, scale=1.0)
    xs, hs, neg_e = _joint_log_weights(W, a, b)
    u = np.exp(neg_e)  # unnormalised joint [x, h]
    # p(h_j = 1 | x) = sum_{h: h_j = 1} u(x, h) / sum_h u(x, h)
    brute_h = (u @ hs) / u.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(rbm.p_h_given_x(xs, W, b), brute_h, rtol=1e-12)
    brute_x = (u.T @ xs) / u.sum(axis=0)[:, None]
    np.testing.assert_allclose(rbm.p_x_given_h(hs, W, a), brute_x, rtol=1e-12)


# ------------------------------------------------------------------ partition function


@pytest.mark.parametrize("n_v, n_h", [(4, 3), (3, 4), (1, 1), (5, 7), (7, 5)])
@pytest.mark.parametrize("chunk", [1, 3, 2**14])
def test_log_partition_brute_force(n_v, n_h, chunk):
    W, a, b = _random_rbm(n_v, n_h, seed=n_v * 10 + n_h, scale=1.0)
    assert rbm.log_partition(W, a, b, chunk=chunk) == pytest.approx(
        _brute_log_z(W, a, b), rel=1e-12
    )


def test_log_partition_same_whichever_layer_is_enumerated():
    # (W, a, b) on 5 visible x 7 hidden enumerates the 5 visible units; its transpose
    # (W^T, b, a) is the same model with the layers swapped and enumerates the 5 hidden units.
    W, a, b = _random_rbm(5, 7, seed=5, scale=1.0)
    z_visible = rbm.log_partition(W, a, b)
    z_hidden = rbm.log_partition(W.T, b, a)
    assert z_visible == pytest.approx(z_hidden, rel=1e-13)
    assert z_visible == pytest.approx(_brute_log_z(W, a, b), rel=1e-12)


def test_log_partition_784_by_15():
    W, a, b = _random_rbm(784, 15, seed=6, scale=0.05)
    hs = rbm.all_states(15).astype(np.float64)  # one batch, written out independently
    log_terms = hs @ b + np.logaddexp(0.0, hs @ W.T + a).sum(axis=1)
    m = log_terms.max()
    expected = m + math.log(np.exp(log_terms - m).sum())
    assert rbm.log_partition(W, a, b, chunk=1000) == pytest.approx(expected, rel=1e-12)


def test_log_partition_refuses_large_layers():
    W, a, b = _random_rbm(30, 25, seed=7)
    with pytest.raises(ValueError, match="hidden"):
        rbm.log_partition(W, a, b)
    with pytest.raises(ValueError, match="visible"):
        rbm.log_partition(W.T, b, a)


# ---------------------------------------------------------- likelihood and its gradient


def test_log_likelihood_exact():
    W, a, b = _random_rbm(4, 3, seed=8, scale=1.0)
    xs, _, neg_e = _joint_log_weights(W, a, b)
    p = np.exp(neg_e).sum(axis=1) / np.exp(neg_e).sum()
    idx = [0, 5, 5, 15, 9]
    expected = np.mean(np.log(p[idx]))
    assert rbm.log_likelihood(xs[idx], W, a, b) == pytest.approx(expected, rel=1e-12)
    log_z = rbm.log_partition(W, a, b)
    assert rbm.log_likelihood(xs[idx], W, a, b, log_z=log_z + 1.0) == pytest.approx(
        expected - 1.0, rel=1e-12
    )


@pytest.mark.parametrize("n_v, n_h", [(5, 3), (3, 5)])
def test_gradient_matches_finite_differences(n_v, n_h):
    W, a, b = _random_rbm(n_v, n_h, seed=9, scale=0.8)
    x = np.random.default_rng(10).integers(0, 2, (7, n_v))
    dW, da, db = rbm.log_likelihood_gradient(x, W, a, b)
    params = [W, a, b]
    eps = 1e-5
    for which, grad in enumerate((dW, da, db)):
        numeric = np.zeros_like(grad)
        for idx in np.ndindex(grad.shape):
            plus = [p.copy() for p in params]
            minus = [p.copy() for p in params]
            plus[which][idx] += eps
            minus[which][idx] -= eps
            numeric[idx] = (rbm.log_likelihood(x, *plus) - rbm.log_likelihood(x, *minus)) / (
                2 * eps
            )
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)
    # Streaming the enumeration in chunks (running rescaling) gives the same moments.
    for chunk in (1, 3):
        for g, g_chunked in zip(
            (dW, da, db), rbm.log_likelihood_gradient(x, W, a, b, chunk=chunk), strict=True
        ):
            np.testing.assert_allclose(g_chunked, g, rtol=1e-12, atol=1e-14)


@pytest.mark.slow
def test_cd_approaches_exact_gradient():
    W, a, b = _random_rbm(9, 4, seed=3, scale=0.5)
    x = bars_and_stripes(3)
    exact = rbm.log_likelihood_gradient(x, W, a, b)
    chains = np.tile(x, (2000, 1))  # 28,000 chains: the data rows replicated

    def error(k):
        est = rbm.cd_gradient(chains, W, a, b, k=k, rng=123)[:3]
        return max(np.abs(e - g).max() for e, g in zip(est, exact, strict=True))

    err_1, err_100 = error(1), error(100)
    assert err_100 < 0.02
    assert err_100 < 0.5 * err_1


def test_cd_positive_phase_and_output():
    W, a, b = _random_rbm(6, 3, seed=11)
    x = np.random.default_rng(12).integers(0, 2, (10, 6))
    dW, da, db, chain = rbm.cd_gradient(x, W, a, b, k=3, rng=0)
    assert dW.shape == (6, 3) and da.shape == (6,) and db.shape == (3,)
    assert chain.shape == (10, 6) and set(np.unique(chain)) <= {0.0, 1.0}
    # The update is <data stats> - <stats at the returned chain end, with p(h | x_k)>.
    ph, pk = rbm.p_h_given_x(x, W, b), rbm.p_h_given_x(chain, W, b)
    np.testing.assert_allclose(dW, x.T @ ph / 10 - chain.T @ pk / 10, rtol=1e-12)
    np.testing.assert_allclose(da, x.mean(0) - chain.mean(0), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(db, ph.mean(0) - pk.mean(0), rtol=1e-12, atol=1e-15)
    # Seeded runs are reproducible.
    again = rbm.cd_gradient(x, W, a, b, k=3, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(again[3], chain)


@pytest.mark.parametrize("k", [0, -1, 1.5])
def test_cd_rejects_bad_k(k):
    W, a, b = _random_rbm(4, 2)
    with pytest.raises(ValueError, match="k"):
        rbm.cd_gradient(np.zeros((2, 4)), W, a, b, k=k)


def test_pcd_starts_from_and_returns_the_persistent_chain():
    # h copies x and x copies h almost surely (flip probability ~ 5e-5 per unit and step), so
    # the chain stays where it starts: at the data for CD, at `persistent` for PCD.
    W, a, b = 20.0 * np.eye(2), -10.0 * np.ones(2), -10.0 * np.ones(2)
    x = np.zeros((4, 2))
    persistent = np.ones((50, 2))
    dW, da, db, chain = rbm.cd_gradient(x, W, a, b, k=2, rng=0, persistent=persistent)
    assert chain.shape == (50, 2)  # one row per persistent chain, not per data row
    assert chain.mean() > 0.99
    assert np.all(da < -0.99)  # <x>_data = 0, <x>_chain ~ 1
    _, _, _, cd_chain = rbm.cd_gradient(x, W, a, b, k=2, rng=0)
    assert cd_chain.shape == (4, 2) and cd_chain.mean() < 0.01
    # Feeding the chain back continues it.
    _, _, _, chain2 = rbm.cd_gradient(x, W, a, b, k=1, rng=1, persistent=chain)
    assert chain2.shape == (50, 2) and chain2.mean() > 0.99
    with pytest.raises(ValueError, match="persistent"):
        rbm.cd_gradient(x, W, a, b, persistent=np.ones((3, 5)))


def test_gibbs_step_samples_the_conditionals():
    W, a, b = _random_rbm(5, 3, seed=13, scale=1.0)
    x = np.tile(np.array([[1, 0, 1, 1, 0]]), (40000, 1))
    h, x_new = rbm.gibbs_step(x, W, a, b, rng=0)
    assert h.shape == (40000, 3) and x_new.shape == (40000, 5)
    assert set(np.unique(h)) <= {0.0, 1.0} and set(np.unique(x_new)) <= {0.0, 1.0}
    np.testing.assert_allclose(h.mean(0), rbm.p_h_given_x(x[:1], W, b)[0], atol=0.015)
    # E[x_new] = E_h[p(x | h)] with h ~ p(h | x): by enumeration of the 8 hidden states.
    hs = _binary(3)
    ph = rbm.p_h_given_x(x[:1], W, b)[0]
    w = np.prod(np.where(hs == 1, ph, 1 - ph), axis=1)
    np.testing.assert_allclose(x_new.mean(0), w @ rbm.p_x_given_h(hs, W, a), atol=0.015)


# --------------------------------------------------------------- pseudo-likelihood etc.


def test_pseudo_log_likelihood_exact_and_stochastic():
    W, a, b = _random_rbm(6, 4, seed=14, scale=1.0)
    p = rbm.model_distribution(W, a, b)
    states = rbm.all_states(6)
    x = np.random.default_rng(15).integers(0, 2, (9, 6))
    idx = rbm.state_index(x)
    # log p(x_i | x_-i) = log p(x) - log(p(x) + p(x with bit i flipped)), from p(x) itself.
    terms = np.empty(x.shape)
    for i in range(6):
        flipped = idx ^ (1 << (5 - i))
        assert np.all(states[flipped, i] != x[:, i])
        terms[:, i] = np.log(p[idx]) - np.log(p[idx] + p[flipped])
    exact = terms.sum(axis=1).mean()
    assert rbm.pseudo_log_likelihood(x, W, a, b) == pytest.approx(exact, rel=1e-12)

    # Stochastic: 6 * log p(x_i | x_-i) at one random i per row; unbiased for the exact value.
    reps = 20000
    estimate = rbm.pseudo_log_likelihood_stochastic(np.tile(x, (reps, 1)), W, a, b, rng=0)
    sem = 6 * terms.std() / math.sqrt(reps * len(x))
    assert abs(estimate - exact) < 5 * sem


def test_pseudo_log_likelihood_blocks_agree(monkeypatch):
    W, a, b = _random_rbm(7, 3, seed=16)
    x = np.random.default_rng(17).integers(0, 2, (11, 7))
    full = rbm.pseudo_log_likelihood(x, W, a, b)
    monkeypatch.setattr(rbm, "_PLL_BUDGET", 1)  # one visible unit per block
    assert rbm.pseudo_log_likelihood(x, W, a, b) == pytest.approx(full, rel=1e-13)


def test_reconstruction_error_by_hand():
    W = np.array([[1.0], [-2.0]])
    a = np.array([0.5, -0.5])
    b = np.array([0.3])
    x = np.array([[1, 0], [0, 1]])

    def s(z):
        return 1.0 / (1.0 + math.exp(-z))

    total = 0.0
    for x1, x2 in x:
        q = s(0.3 + 1.0 * x1 - 2.0 * x2)  # p(h = 1 | x), fed back as a probability
        r1, r2 = s(0.5 + 1.0 * q), s(-0.5 - 2.0 * q)
        total += (x1 - r1) ** 2 + (x2 - r2) ** 2
    assert rbm.reconstruction_error(x, W, a, b) == pytest.approx(total / 2, rel=1e-13)


# ------------------------------------------------------------ distributions over states


def test_kl_divergence_values():
    p = np.array([0.5, 0.5])
    assert rbm.kl_divergence(p, p) == 0.0
    q = np.array([0.25, 0.75])
    assert rbm.kl_divergence(p, q) == pytest.approx(0.5 * math.log(4 / 3), rel=1e-14)
    assert rbm.kl_divergence([1.0, 0.0], p) == pytest.approx(math.log(2.0), rel=1e-14)
    assert rbm.kl_divergence(p, [1.0, 0.0]) == math.inf
    with pytest.raises(ValueError, match="sum to 1"):
        rbm.kl_divergence([0.5, 0.6], p)
    with pytest.raises(ValueError, match="shape"):
        rbm.kl_divergence(p, [0.5, 0.25, 0.25])


def test_empirical_distribution_bit_order():
    x = np.array([[0, 0, 1], [1, 0, 0], [1, 0, 0]])
    p = rbm.empirical_distribution(x)
    expected = np.zeros(8)
    expected[1], expected[4] = 1 / 3, 2 / 3
    np.testing.assert_allclose(p, expected)
    np.testing.assert_array_equal(rbm.all_states(3)[[1, 4]], [[0, 0, 1], [1, 0, 0]])
    np.testing.assert_allclose(rbm.empirical_distribution(rbm.all_states(4)), np.full(16, 1 / 16))
    # The data distribution and the model distribution line up state by state.
    W, a, b = _random_rbm(3, 2, seed=18)
    q = rbm.model_distribution(W, a, b)
    expected_kl = (2 / 3) * math.log((2 / 3) / q[4]) + (1 / 3) * math.log((1 / 3) / q[1])
    assert rbm.kl_divergence(p, q) == pytest.approx(expected_kl, rel=1e-12)


# -------------------------------------------------------------------------- validation


def _call(name, x, W, a, b):
    fn = getattr(rbm, name)
    if name == "p_h_given_x":
        return fn(x, W, b)
    if name == "cd_gradient":
        return fn(x, W, a, b, rng=0)
    return fn(x, W, a, b)


BINARY_ONLY = [
    "log_likelihood",
    "log_likelihood_gradient",
    "cd_gradient",
    "pseudo_log_likelihood",
]
ANY_X = BINARY_ONLY + ["free_energy", "p_h_given_x", "reconstruction_error"]


@pytest.mark.parametrize("name", ANY_X)
def test_x_validation(name):
    W, a, b = _random_rbm(4, 2)
    with pytest.raises(ValueError, match="x must be 2-D"):
        _call(name, np.zeros(4), W, a, b)
    with pytest.raises(ValueError, match=r"x has 5 visible units.*W\.shape\[0\] = 4"):
        _call(name, np.zeros((3, 5)), W, a, b)
    with pytest.raises(ValueError, match=r"x must .*\[0, 1\]|x must be binary"):
        _call(name, np.full((3, 4), 1.5), W, a, b)


@pytest.mark.parametrize("name", BINARY_ONLY)
def test_binary_required(name):
    W, a, b = _random_rbm(4, 2)
    with pytest.raises(ValueError, match="x must be binary"):
        _call(name, np.full((3, 4), 0.5), W, a, b)


def test_probabilities_accepted_where_meaningful():
    W, a, b = _random_rbm(4, 2)
    x = np.full((3, 4), 0.5)
    assert rbm.free_energy(x, W, a, b).shape == (3,)
    assert np.isfinite(rbm.reconstruction_error(x, W, a, b))
    with pytest.raises(ValueError, match=r"h must .*\[0, 1\]"):
        rbm.p_x_given_h(np.full((3, 2), -0.1), W, a)


def test_parameter_validation():
    W, a, b = _random_rbm(4, 2)
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match="W must be 2-D"):
        rbm.free_energy(x, W.ravel(), a, b)
    with pytest.raises(ValueError, match=r"a \(visible bias\) must have shape"):
        rbm.free_energy(x, W, a[:3], b)
    with pytest.raises(ValueError, match=r"b \(hidden bias\) must have shape"):
        rbm.free_energy(x, W, a, np.zeros(3))
    with pytest.raises(ValueError, match="b"):
        rbm.p_h_given_x(x, W, np.zeros((2, 1)))
    with pytest.raises(ValueError, match="W contains NaN"):
        rbm.log_partition(np.full((4, 2), np.nan), a, b)
    with pytest.raises(ValueError, match="same number of rows"):
        rbm.energy(x, np.zeros((2, 2)), W, a, b)


def test_the_rbm_page_still_offers_every_name_it_had():
    """The exact maths moved to ``rbm_exact`` and the stable helpers to ``numerics``;
    ``coursekit.reference.rbm`` imports them back (the same objects), so that
    ``from coursekit.reference.rbm import X`` keeps working for the data, the models' tests and
    the notebooks."""
    from coursekit.reference import numerics, rbm_exact

    for module in (numerics, rbm_exact):
        for name in module.__all__:
            assert getattr(rbm, name) is getattr(module, name), name
    assert set(numerics.__all__) | set(rbm_exact.__all__) < set(rbm.__all__)
    for name in ("_as_rng", "_check_bias", "_check_enum_size", "_check_params", "_check_x"):
        assert callable(getattr(rbm, name)), name  # reference.tempering imports these from rbm
