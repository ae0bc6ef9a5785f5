"""A step size that decays during ``fit`` (``eta_final``), the same in both RBMs.

``common.rbm.eta_schedule`` gives each epoch the linear schedule's value at its midpoint; both
``fit`` methods use it epoch by epoch, reach the updates with it, and restore ``eta`` when they
return, also when training stops with an error. Every test runs once per framework; the Keras
cases are marked ``keras`` so that ``make test`` runs them again on the torch backend.
"""

from __future__ import annotations

import numpy as np
import pytest

from coursekit.common.rbm import eta_schedule

N_V, N_H = 6, 4


def _data(n: int = 60, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).random((n, N_V)).astype(np.float32)


def _fit(rbm, **kwargs):
    return rbm.fit(_data(), batch_size=20, progress=False, monitor_every=0, seed=3, **kwargs)


def test_the_schedule_is_the_linear_one_at_each_epochs_midpoint():
    np.testing.assert_allclose(eta_schedule(0.01, 0.0, 4), [0.00875, 0.00625, 0.00375, 0.00125])
    np.testing.assert_allclose(eta_schedule(0.02, 0.01, 1), [0.015])
    etas = eta_schedule(0.05, 0.001, 150)
    assert np.all(np.diff(etas) < 0) and min(etas) > 0.001
    assert np.mean(etas) == pytest.approx((0.05 + 0.001) / 2)  # the per-update schedule's mean
    assert eta_schedule(0.05, None, 10) is None


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "0", True])
def test_a_bad_eta_final_is_named(RBM, bad):
    with pytest.raises(ValueError, match=r"eta_final \(the step size the schedule decays to\)"):
        _fit(RBM(N_V, N_H, seed=0), epochs=2, eta_final=bad)


def test_a_rising_schedule_is_refused_before_any_update(RBM):
    rbm = RBM(N_V, N_H, eta=0.05, seed=0)
    w0 = rbm.get_weights()["W"]
    with pytest.raises(ValueError, match=r"eta_final .* must be <= eta = 0.05, got 0.5: the "
                       "schedule decays; to train with a larger step, raise eta"):
        _fit(rbm, epochs=2, eta_final=0.5)
    np.testing.assert_array_equal(rbm.get_weights()["W"], w0)


def test_fit_sets_the_schedule_epoch_by_epoch_and_restores_eta(RBM):
    rbm = RBM(N_V, N_H, eta=0.05, seed=0)
    seen = []
    check = rbm._check_finite  # runs once after every epoch's updates

    def record(epoch):
        seen.append(rbm.eta)
        return check(epoch)

    rbm._check_finite = record
    _fit(rbm, epochs=4, eta_final=0.0)
    np.testing.assert_allclose(seen, eta_schedule(0.05, 0.0, 4), rtol=1e-6)
    assert rbm.eta == pytest.approx(0.05, rel=1e-6)
    seen.clear()
    _fit(rbm, epochs=2)  # no eta_final: constant
    np.testing.assert_allclose(seen, [0.05, 0.05], rtol=1e-6)


def test_the_updates_use_the_schedule(RBM):
    """A decay to 0 halves the mean step: the weights move less than at a constant eta; a
    "decay" to eta itself is the constant schedule, number for number."""
    moved = {}
    for name, final in [("constant", None), ("same", 0.05), ("decayed", 0.0)]:
        rbm = RBM(N_V, N_H, eta=0.05, momentum=0.0, weight_decay=0.0, seed=0)
        w0 = rbm.get_weights()["W"]
        _fit(rbm, epochs=6, eta_final=final)
        moved[name] = rbm.get_weights()["W"] - w0
    np.testing.assert_array_equal(moved["same"], moved["constant"])
    ratio = np.linalg.norm(moved["decayed"]) / np.linalg.norm(moved["constant"])
    assert 0.2 < ratio < 0.8


def test_eta_is_restored_when_training_stops(RBM):
    rbm = RBM(N_V, N_H, eta=1e6, seed=0)
    with pytest.raises(FloatingPointError):
        _fit(rbm, epochs=3, eta_final=1e5)
    assert rbm.eta == pytest.approx(1e6, rel=1e-6)
