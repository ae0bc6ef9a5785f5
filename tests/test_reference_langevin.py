"""The NumPy Langevin reference: exact targets, the exact discretised variance, SGLD, the
replay buffer and the ROC AUC."""

from __future__ import annotations

import numpy as np
import pytest

from coursekit.common.ebm import ReplayBuffer
from coursekit.metrics.ood import roc_auc, roc_curve
from coursekit.reference import langevin as ref


@pytest.mark.parametrize("target", [ref.correlated_gaussian(0.9), ref.mixture(), ref.ring()],
                         ids=["gaussian", "mixture", "ring"])
def test_targets_are_normalised_and_sample_their_moments(target):
    grid = np.linspace(-8, 8, 801)
    xx, yy = np.meshgrid(grid, grid)
    dens = np.exp(target.log_prob(np.stack([xx.ravel(), yy.ravel()], 1)))
    assert dens.sum() * (grid[1] - grid[0]) ** 2 == pytest.approx(1.0, abs=1e-4)
    x = target.sample(200_000, np.random.default_rng(0))
    np.testing.assert_allclose(x.mean(0), target.mean, atol=0.03)
    np.testing.assert_allclose(np.cov(x.T), target.cov, atol=0.05)


@pytest.mark.parametrize("target", [ref.correlated_gaussian(0.5), ref.mixture(3.0), ref.ring()],
                         ids=["gaussian", "mixture", "ring"])
def test_grad_log_prob_is_the_gradient(target):
    x = target.sample(20, np.random.default_rng(1))
    eps = 1e-6
    num = np.stack([(target.log_prob(x + eps * e) - target.log_prob(x - eps * e)) / (2 * eps)
                    for e in np.eye(2)], 1)
    np.testing.assert_allclose(target.grad_log_prob(x), num, atol=1e-6)


def test_stationary_variance_formula_matches_simulation():
    # N(0, 2): AR(1) with a = 1 - h / 2; the lecture's noise sqrt(h) and the exact sqrt(2h)
    for h, noise, expected in ((0.2, None, 2 / (1 - 0.05)), (0.2, np.sqrt(0.2), 2 / (2 - 0.1))):
        assert ref.stationary_variance_gaussian(2.0, h, noise) == pytest.approx(expected)
        out = ref.langevin(lambda x: -x[:, 0] ** 2 / 4, lambda x: -x / 2, np.zeros((20000, 1)),
                           step_size=h, noise_scale=noise, n_steps=200, rng=0)
        assert out.x.var() == pytest.approx(expected, rel=5 * np.sqrt(2 / 20000))
    with pytest.raises(ValueError, match="unstable"):
        ref.stationary_variance_gaussian(1.0, 2.0)


def test_ar1_factor():
    assert ref.ar1_variance_factor(0.0) == 1.0
    assert ref.ar1_variance_factor(0.9) == pytest.approx(19.0)


@pytest.mark.slow
def test_sgld_matches_the_exact_posterior():
    rng = np.random.default_rng(0)
    data = rng.normal([1.0, -0.5], 1.0, (500, 2))
    mean, cov = ref.gaussian_mean_posterior(data, 1.0, 10.0)
    chains = 4000
    traj = ref.sgld(data, 1.0, 10.0, np.zeros((chains, 2)), step_size=1e-4, n_steps=300,
                    batch_size=50, rng=1)  # relaxation 1 / (h L) = 20 steps, 15 times over
    x = traj[-1]
    np.testing.assert_allclose(x.mean(0), mean, atol=5 * np.sqrt(cov[0, 0] / chains))
    # the minibatch noise inflates the variance by an exactly known factor (here ~1.28)
    want = ref.sgld_stationary_variance(data, 1.0, 10.0, step_size=1e-4, batch_size=50)
    assert np.all(want > 1.2 * np.diag(cov))
    np.testing.assert_allclose(x.var(0), want, rtol=5 * np.sqrt(2 / chains))
    # a 10x smaller step is nearly exact
    small = ref.sgld_stationary_variance(data, 1.0, 10.0, step_size=1e-5, batch_size=50)
    np.testing.assert_allclose(small, np.diag(cov), rtol=0.03)


def test_replay_buffer_keeps_its_size_and_restart_share():
    buf = ReplayBuffer(1000, (1, 4, 4), restart=0.05, low=-1, high=1, seed=0)
    buf.states[:] = 5.0  # marks stored states, outside the noise range
    for _ in range(3):
        x0, idx = buf.sample(128)
        assert x0.shape == (128, 1, 4, 4) and len(np.unique(idx)) == 128
        fresh = np.all(x0 != 5.0, axis=(1, 2, 3))
        assert fresh.sum() == buf.n_fresh(128) == 6  # round(0.05 * 128)
        assert np.all((x0[fresh] >= -1) & (x0[fresh] <= 1))
        buf.update(idx, np.full_like(x0, 5.0))
        assert len(buf) == 1000 and buf.states.shape == (1000, 1, 4, 4)
    with pytest.raises(ValueError, match="restart"):
        ReplayBuffer(10, (2,), restart=1.5)
    with pytest.raises(ValueError, match="diverged"):
        buf.update(idx, np.full_like(x0, np.nan))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(shape=2), r"shape \(shape of one state\) must be a tuple of ints >= 1 such as "
         r"\(1, 28, 28\) or \(2,\), got 2"),
        (dict(shape=()), "shape .* got \\(\\)"),
        (dict(shape=(1, 0, 28)), "shape .* got \\(1, 0, 28\\)"),
        (dict(shape=(2.5,)), "shape .* got \\(2.5,\\)"),
        (dict(capacity=0), r"capacity \(states kept\) must be an int >= 1"),
        (dict(low=1.0, high=-1.0), "low and high .* low < high, got low=1.0, high=-1.0"),
        (dict(low="a"), "low and high"),
        (dict(high=float("inf")), "low and high"),
        (dict(seed=-1), r"seed \(random seed\) must be an int >= 0"),
    ],
)
def test_a_bad_replay_buffer_argument_is_named(kwargs, message):
    args = dict(capacity=10, shape=(2,))
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        ReplayBuffer(args.pop("capacity"), args.pop("shape"), **args)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda b: b.sample(0), r"n \(chains per batch\) must be an int in \[1, 10\], got 0"),
        (lambda b: b.sample(11), r"n \(chains per batch\) must be an int in \[1, 10\], got 11"),
        (lambda b: b.noise(-1), r"n \(number of noise states\) must be an int >= 0, got -1"),
        (lambda b: b.n_fresh("a"), r"n \(chains per batch\) must be an int >= 0, got 'a'"),
        # three rows of three numbers are not three states of two (nor 4.5 of them)
        (lambda b: b.update(np.arange(3), np.zeros((3, 3))), r"states must be 3 states of shape "
         r"\(2,\) \(one per idx\), as \[3, \*\(2,\)\] or \[3, 2\]; got shape \(3, 3\)"),
        (lambda b: b.update(np.arange(3), np.zeros((2, 3))), r"states must be 3 states .*got "
         r"shape \(2, 3\)"),
        (lambda b: b.update(np.arange(2), "ab"), "states must be 2 states .*dtype <U2"),
        (lambda b: b.update(np.array([9, 10]), np.zeros((2, 2))), r"idx \(the buffer rows to "
         r"write\) must be a vector of ints in \[0, 9\], as sample\(\) returns it"),
        (lambda b: b.update(np.array([0.5, 1.5]), np.zeros((2, 2))), r"idx .*dtype float64"),
        (lambda b: b.update(np.array([-1, 0]), np.zeros((2, 2))), r"idx .*in \[0, 9\]"),
        (lambda b: b.update(None, np.zeros((2, 2))), r"idx .*got NoneType None"),
    ],
)
def test_a_bad_replay_buffer_call_is_named_and_changes_nothing(call, message):
    buf = ReplayBuffer(10, (2,), seed=0)
    states = buf.states.copy()
    with pytest.raises(ValueError, match=message):
        call(buf)
    np.testing.assert_array_equal(buf.states, states)


def test_roc_auc():
    assert roc_auc([2, 3, 4], [0, 1]) == 1.0
    assert roc_auc([0, 1], [2, 3]) == 0.0
    assert roc_auc([1, 1], [1, 1]) == 0.5
    rng = np.random.default_rng(0)
    a, b = rng.normal(1, 1, 3000), rng.normal(0, 1, 3000)
    # exact AUC of two unit Gaussians 1 apart: Phi(1 / sqrt 2) = 0.7602
    assert roc_auc(a, b) == pytest.approx(0.7602, abs=0.02)
    fpr, tpr = roc_curve(a, b)
    assert np.trapezoid(tpr, fpr) == pytest.approx(roc_auc(a, b), abs=1e-3)
    with pytest.raises(ValueError, match="scores_out"):
        roc_auc([1.0], [np.nan])
