"""Checks of the parallel-tempering tests (tests/test_tempering.py; not collected itself)."""

from __future__ import annotations

import numpy as np

from coursekit.reference import rbm
from coursekit.reference import tempering as pt

N_V, N_H = 7, 5


def weights(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "W": rng.normal(0, 1.0, (N_V, N_H)).astype(np.float32),
        "a": rng.normal(0, 0.7, N_V).astype(np.float32),
        "b": rng.normal(0, 0.7, N_H).astype(np.float32),
    }


def check_parity(model, sampler) -> None:
    """Same uniforms, same moves as the NumPy reference (states, swaps, mean images)."""
    w = weights()
    model.set_weights(**w)
    n, steps, betas = 6, 9, [1.0, 0.7, 0.4, 0.0]
    rng = np.random.default_rng(3)
    R = len(betas)
    u = (
        rng.random((steps, R - 1, n)).astype(np.float32),
        rng.random((steps, R, n, N_H)).astype(np.float32),
        rng.random((steps, R, n, N_V)).astype(np.float32),
    )
    base = rng.normal(0, 1, N_V).astype(np.float32)
    start = (rng.random((n, N_V)) < 0.5).astype(np.float32)
    kw = dict(steps=steps, betas=betas, base_a=base, start=start, uniforms=u, every=3)
    want = pt.parallel_tempering(w["W"], w["a"], w["b"], n, **kw)
    got = sampler(model, n, **kw)
    np.testing.assert_array_equal(got.states, want.states)
    np.testing.assert_allclose(got.swap_rates, want.swap_rates)
    np.testing.assert_array_equal(got.swap_attempts, want.swap_attempts)
    np.testing.assert_array_equal(got.round_trips, want.round_trips)
    np.testing.assert_allclose(got.samples, want.samples, rtol=1e-5, atol=1e-6)
    assert got.samples.shape == (3, n, N_V)
    assert want.swap_rates.min() > 0.0  # the uniforms above do make swaps


def two_mode_weights() -> dict[str, np.ndarray]:
    """The two-mode RBM of test_reference_tempering (8 visible units, 1 hidden unit)."""
    n_v, w = 8, 5.0
    return {
        "W": np.full((n_v, 1), w, np.float32),
        "a": np.full(n_v, -w / 2 + 0.1, np.float32),
        "b": np.full(1, -w * n_v / 2, np.float32),
    }


def tv_at_beta_1(result, weights) -> float:
    p = pt.exact_marginal(weights["W"], weights["a"], weights["b"])
    idx = rbm.state_index(result.states[0].astype(np.int64))
    counts = np.bincount(idx, minlength=p.size)
    return 0.5 * float(np.abs(counts / counts.sum() - p).sum())
