"""Parallel tempering checked exactly on tiny RBMs (enumeration of every joint state)."""

from __future__ import annotations

import numpy as np
import pytest

from coursekit.reference import rbm
from coursekit.reference import tempering as pt


def _tiny(seed=0, n_v=3, n_h=2):
    rng = np.random.default_rng(seed)
    W = rng.normal(0.0, 2.0, (n_v, n_h))
    return W, rng.normal(0.0, 1.0, n_v), rng.normal(0.0, 1.0, n_h), rng.normal(0.0, 1.0, n_v)


def _two_mode_rbm():
    """8 visible units, 1 hidden unit: two modes (pixels mostly off / mostly on) of similar
    mass (0.34 and 0.65) with a barrier of 0.0016 between them, so plain Gibbs started at
    ``x = 0`` stays in the first mode for hundreds of sweeps."""
    n_v, w = 8, 5.0
    W = np.full((n_v, 1), w)
    return W, np.full(n_v, -w / 2 + 0.1), np.full(1, -w * n_v / 2)


def _tv(states, p):
    counts = np.bincount(rbm.state_index(states.astype(np.int64)), minlength=p.size)
    return 0.5 * float(np.abs(counts / counts.sum() - p).sum())


def test_ladder():
    np.testing.assert_allclose(pt.temperature_ladder(5), [1.0, 0.75, 0.5, 0.25, 0.0])
    np.testing.assert_allclose(pt.temperature_ladder(3, 0.2), [1.0, 0.6, 0.2])
    sq = pt.temperature_ladder(5, power=2.0)
    np.testing.assert_allclose(sq, [1.0, 0.9375, 0.75, 0.4375, 0.0])
    assert pt.temperature_ladder(1).tolist() == [1.0]
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="n_replicas"):
            pt.temperature_ladder(bad)
    with pytest.raises(ValueError, match="beta_min"):
        pt.temperature_ladder(4, 1.0)
    for bad in ([0.9, 0.5], [1.0, 1.0], [1.0, 0.2, 0.5], [1.0, -0.1], [[1.0]]):
        with pytest.raises(ValueError, match="betas"):
            pt.check_betas(bad)


def test_tempered_model_is_the_geometric_mixture_of_rbm_and_base():
    W, a, b, base = _tiny(1)
    x = rbm.all_states(3).astype(float)
    for beta in (0.0, 0.3, 1.0):
        Wt, at, bt = pt.tempered_params(W, a, b, beta, base)
        want = -rbm.free_energy(x, Wt, at, bt)
        np.testing.assert_allclose(pt.tempered_neg_free_energy(x, W, a, b, beta, base), want)
    # beta = 0 is the base-rate model exactly: independent pixels with P(x_i=1) = sigma(a_A,i)
    p0 = pt.exact_marginal(W, a, b, 0.0, base)
    s = rbm.sigmoid(base)
    want = np.prod(np.where(x == 1, s, 1 - s), axis=1)
    np.testing.assert_allclose(p0, want, rtol=1e-12)
    np.testing.assert_allclose(pt.exact_marginal(W, a, b), rbm.model_distribution(W, a, b))


@pytest.mark.parametrize("base", [False, True])
def test_swap_rule_satisfies_detailed_balance(base):
    W, a, b, base_a = _tiny(2)
    betas = [1.0, 0.55, 0.2]
    for pair in (0, 1):
        assert (
            pt.swap_detailed_balance_error(W, a, b, betas, pair, base_a if base else None) < 1e-15
        )
    # Sanity of the check itself: a rule with the sign of L flipped violates it.
    T = pt.swap_kernel(-W, -a, -b, betas, 0)  # a different model's swaps ...
    pi = pt.product_marginal(W, a, b, betas)  # ... against this model's target
    flow = pi[:, None] * T
    assert np.abs(flow - flow.T).max() > 1e-3


def test_swap_log_ratio_formula():
    W, a, b, base = _tiny(3)
    rng = np.random.default_rng(0)
    xk, xl = (rng.random((20, 3)) < 0.5).astype(float), (rng.random((20, 3)) < 0.5).astype(float)

    # ratio of exact tempered probabilities: the partition functions cancel
    def log_p(x, beta):
        idx = rbm.state_index(x.astype(int))
        return np.log(pt.exact_marginal(W, a, b, beta, base)[idx])

    want = log_p(xl, 0.9) + log_p(xk, 0.4) - log_p(xk, 0.9) - log_p(xl, 0.4)
    np.testing.assert_allclose(pt.swap_log_ratio(xk, xl, 0.9, 0.4, W, a, b, base), want, atol=1e-12)


@pytest.mark.parametrize("step", [0, 1])
def test_every_pt_step_leaves_the_product_of_tempered_marginals_invariant(step):
    W, a, b, base = _tiny(4)
    betas = [1.0, 0.5, 0.0]
    pi = pt.product_marginal(W, a, b, betas, base)
    T = pt.pt_kernel(W, a, b, betas, step, base)
    np.testing.assert_allclose(T.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(pi @ T, pi, atol=1e-14)
    # and the beta = 1 marginal of pi is the model's distribution
    marg = pi.reshape(8, -1).sum(axis=1)
    np.testing.assert_allclose(marg, rbm.model_distribution(W, a, b), rtol=1e-12)


@pytest.mark.slow
def test_pt_reproduces_the_exact_distribution_where_gibbs_is_stuck():
    W, a, b = _two_mode_rbm()
    p = pt.exact_marginal(W, a, b)
    n, steps = 4000, 100
    x0 = np.zeros((n, 8))
    # iid samples of this size have TV ~ 0.045 (max 0.054 over 20 draws).
    ladder = pt.temperature_ladder(6)
    res = pt.parallel_tempering(W, a, b, n, steps=steps, betas=ladder, start=x0, rng=1)
    assert _tv(res.states[0], p) < 0.07
    upper = rbm.all_states(8).sum(axis=1) >= 5
    frac = np.mean(res.states[0].sum(axis=1) >= 5)
    assert abs(frac - p[upper].sum()) < 0.04
    assert res.swap_rates.shape == (5,) and np.all(res.swap_rates > 0.4)
    np.testing.assert_array_equal(res.swap_attempts, [n * steps // 2] * 5)
    assert res.samples.shape == (n, 8) and res.states.shape == (6, n, 8)
    # Plain Gibbs (one replica) from the same start has not left the first mode.
    gibbs = pt.parallel_tempering(W, a, b, n, steps=steps, betas=[1.0], start=x0, rng=1)
    assert _tv(gibbs.states[0], p) > 0.3
    assert gibbs.swap_rates.size == 0


@pytest.mark.parametrize("wrong", ["always", "sign"])
@pytest.mark.slow
def test_the_sampling_check_catches_a_wrong_swap_rule(monkeypatch, wrong):
    W, a, b = _two_mode_rbm()
    p = pt.exact_marginal(W, a, b)
    right = pt.swap_masks
    if wrong == "always":
        monkeypatch.setattr(pt, "swap_masks", lambda L, u, s: right(np.full_like(L, np.inf), u, s))
    else:
        monkeypatch.setattr(pt, "swap_masks", lambda L, u, s: right(-L, u, s))
    x0 = np.zeros((4000, 8))
    res = pt.parallel_tempering(
        W, a, b, 4000, steps=100, betas=pt.temperature_ladder(6), start=x0, rng=1
    )
    assert _tv(res.states[0], p) > 0.1


def test_snapshots_uniforms_and_errors():
    W, a, b, base = _tiny(5)
    n, steps, R = 4, 6, 3
    rng = np.random.default_rng(0)
    u = (rng.random((steps, R - 1, n)), rng.random((steps, R, n, 2)), rng.random((steps, R, n, 3)))
    betas = [1.0, 0.5, 0.1]
    r1 = pt.parallel_tempering(W, a, b, n, steps=steps, betas=betas, uniforms=u, every=2, rng=0)
    r2 = pt.parallel_tempering(W, a, b, n, steps=steps, betas=betas, uniforms=u, every=2, rng=0)
    np.testing.assert_array_equal(r1.samples, r2.samples)
    assert r1.samples.shape == (3, n, 3)
    last = pt.parallel_tempering(W, a, b, n, steps=steps, betas=betas, uniforms=u, rng=0)
    np.testing.assert_array_equal(last.samples, r1.samples[-1])
    assert "swap rate" in r1.ladder_table() and "3 replicas" in str(r1)
    with pytest.raises(ValueError, match="every"):
        pt.parallel_tempering(W, a, b, n, steps=3, every=4)
    with pytest.raises(ValueError, match="every"):
        pt.parallel_tempering(W, a, b, n, steps=3, every=0)
    with pytest.raises(ValueError, match="steps"):
        pt.parallel_tempering(W, a, b, n, steps=0)
    with pytest.raises(ValueError, match="u_h"):
        pt.parallel_tempering(W, a, b, n, steps=steps, betas=betas, uniforms=(u[0], u[2], u[2]))
    with pytest.raises(ValueError, match="start"):
        pt.parallel_tempering(W, a, b, n, steps=2, start=np.zeros((n + 1, 3)))
    with pytest.raises(ValueError, match="start"):
        pt.parallel_tempering(W, a, b, n, steps=2, start="data")
    with pytest.raises(ValueError, match="base_a"):
        pt.parallel_tempering(W, a, b, n, steps=2, base_a=np.zeros(4))


# ---- round trips through the ladder ---------------------------------------------------------


def _walk(n_replicas, moves, n_chains=1):
    """A RoundTrips fed one swap of pair k per step (chain 0), ``moves`` = [k, ...]."""
    from coursekit.reference.round_trips import RoundTrips

    walk = RoundTrips(n_replicas, n_chains)
    for k in moves:
        acc = np.zeros((n_replicas - 1, n_chains), bool)
        if k is not None:
            acc[k, 0] = True
        walk.update(acc)
    return walk


def test_a_replica_down_the_ladder_and_back_is_one_round_trip():
    # replica 0 goes 0 -> 1 -> 2 (the hottest) -> 1 -> 0: one trip; replica 1 reaches slot 0
    # on the first step and never the top; replica 2 never reaches slot 0
    walk = _walk(3, [0, 1, 1, 0])
    assert walk.total == 1 and walk.per_chain.tolist() == [1]
    assert walk.replica_in[:, 0].tolist() == [0, 1, 2]
    assert walk.trips[:, 0].tolist() == [1, 0, 0]


def test_half_trips_and_standing_still_count_nothing():
    assert _walk(3, [None] * 10).total == 0
    assert _walk(3, [0, 1]).total == 0  # down to the top only
    assert _walk(3, [1, 0]).total == 0  # the hottest replica down to slot 0: it never began
    assert _walk(3, [0, 1, 1, 0, 0, 1, 1, 0]).total == 2  # there and back twice
    # two replicas exchanging at every step: replica 0 is back at the cold end after steps 2
    # and 4, replica 1 (which began its first trip at step 1) after step 3
    assert _walk(2, [0, 0, 0, 0]).trips[:, 0].tolist() == [2, 1]


def test_round_trips_refuse_a_mask_of_the_wrong_shape():
    from coursekit.reference.round_trips import RoundTrips

    with pytest.raises(ValueError, match=r"accepted must be \[R-1, n\] = \[2, 4\]"):
        RoundTrips(3, 4).update(np.zeros((3, 4), bool))


def test_a_well_mixing_ladder_makes_round_trips_and_a_single_replica_none():
    from tempering_shared import two_mode_weights

    w = two_mode_weights()
    x0 = np.zeros((200, 8))
    res = pt.parallel_tempering(w["W"], w["a"], w["b"], 200, steps=200,
                                betas=pt.temperature_ladder(6), start=x0, rng=1)
    assert res.round_trips.shape == (200,) and res.round_trips.sum() > 200
    assert "round trips" in str(res)
    one = pt.parallel_tempering(w["W"], w["a"], w["b"], 20, steps=50, betas=[1.0],
                                start=x0[:20], rng=1)
    assert one.round_trips.sum() == 0
