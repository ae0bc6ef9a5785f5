"""Parallel tempering of both frameworks' RBMs (the ``RBM`` fixture: coursekit.torch.RBM, then
coursekit.keras.RBM on the current Keras backend): the same moves as the NumPy reference given
the same uniforms, the exact target at beta = 1, shapes, seeds and bad input."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from tempering_shared import N_H, N_V, check_parity, tv_at_beta_1, two_mode_weights

from coursekit.reference.tempering import temperature_ladder


def test_same_moves_as_the_reference(RBM):  # noqa: N803
    sampler = importlib.import_module(RBM.__module__.replace(".rbm", ".tempering"))
    check_parity(RBM(N_V, N_H, seed=0), sampler.parallel_tempering)


@pytest.mark.slow
def test_beta_1_replica_samples_the_exact_distribution(RBM):  # noqa: N803
    w = two_mode_weights()
    rbm = RBM(8, 1, seed=0)
    rbm.set_weights(**w)
    x0 = np.zeros((4000, 8), np.float32)
    res = rbm.sample_tempered(4000, steps=100, betas=temperature_ladder(6), start=x0, seed=1)
    assert tv_at_beta_1(res, w) < 0.07  # iid samples: ~0.045
    assert np.all(res.swap_rates > 0.4)
    gibbs = rbm.sample_tempered(4000, steps=100, betas=[1.0], start=x0, seed=1)
    assert tv_at_beta_1(gibbs, w) > 0.3  # plain Gibbs is stuck in one mode


def test_shapes_seed_and_errors(RBM):  # noqa: N803
    rbm = RBM(N_V, N_H, seed=0)
    r1 = rbm.sample_tempered(5, steps=4, seed=3)
    r2 = rbm.sample_tempered(5, steps=4, seed=3)
    np.testing.assert_array_equal(r1.states, r2.states)
    assert r1.samples.shape == (5, N_V) and r1.states.shape == (10, 5, N_V)
    assert r1.betas.tolist() == temperature_ladder(10).tolist()
    with pytest.raises(ValueError, match="betas"):
        rbm.sample_tempered(5, steps=4, betas=[0.5, 0.2])
    with pytest.raises(ValueError, match="base_a"):
        rbm.sample_tempered(5, steps=4, base_a=np.zeros(N_V + 1))
    with pytest.raises(ValueError, match="binary"):
        rbm.sample_tempered(2, steps=4, start=np.full((2, N_V), 0.5))
    with pytest.raises(ValueError, match="every"):
        rbm.sample_tempered(2, steps=4, every=5)
