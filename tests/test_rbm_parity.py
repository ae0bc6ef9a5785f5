"""coursekit.torch.RBM and coursekit.keras.RBM agree number for number.

Given the same weights (``set_weights``) and the same uniform random numbers, both compute the
same conditionals, free energies, samples, Gibbs chains, CD-k / PCD-k gradients and learning
steps. Runs on either Keras backend (``make test`` runs it under both).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from coursekit.keras import RBM as KerasRBM
from coursekit.torch import RBM as TorchRBM

pytestmark = pytest.mark.keras

N_V, N_H = 11, 6
TOL = {"rtol": 1e-5, "atol": 1e-5}


def _np(t) -> np.ndarray:
    """A torch tensor, a Keras-backend tensor or an array -> NumPy."""
    if hasattr(t, "detach"):
        return t.detach().cpu().numpy()
    return np.asarray(keras.ops.convert_to_numpy(t))


def _pair(**kwargs) -> tuple[TorchRBM, KerasRBM]:
    """A torch and a Keras RBM with the same (random, not tiny) weights."""
    rng = np.random.default_rng(0)
    W = rng.normal(0, 0.7, (N_V, N_H)).astype(np.float32)
    a = rng.normal(0, 0.7, N_V).astype(np.float32)
    b = rng.normal(0, 0.7, N_H).astype(np.float32)
    models = TorchRBM(N_V, N_H, seed=0, **kwargs), KerasRBM(N_V, N_H, seed=1, **kwargs)
    for model in models:
        model.set_weights(W=W, a=a, b=b)
    return models


def _binary(n: int, width: int = N_V, seed: int = 1) -> np.ndarray:
    return (np.random.default_rng(seed).random((n, width)) < 0.5).astype(np.float32)


def _uniforms(seed: int, steps: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (
        rng.random((steps, m, N_H), dtype=np.float32),
        rng.random((steps, m, N_V), dtype=np.float32),
    )


def _close(t, k, exact: bool = False) -> None:
    if exact:
        np.testing.assert_array_equal(_np(t), _np(k))
    else:
        np.testing.assert_allclose(_np(t), _np(k), **TOL)


def test_conditionals_and_energies():
    t, k = _pair()
    x = _binary(8)
    h = _binary(8, N_H, seed=2)
    probs = np.random.default_rng(3).random((5, N_V)).astype(np.float32)
    _close(t.p_h(x), k.p_h(x))
    _close(t.p_h(probs), k.p_h(probs))
    _close(t.p_x(h), k.p_x(h))
    _close(t.free_energy(x), k.free_energy(x))
    _close(t.energy(x, h), k.energy(x, h))
    assert t.reconstruction_error(x) == pytest.approx(k.reconstruction_error(x), rel=1e-5)
    _close(t.reconstruct(x), k.reconstruct(x))
    assert t.pseudo_log_likelihood(x, exact=True) == pytest.approx(
        k.pseudo_log_likelihood(x, exact=True), rel=1e-5
    )


def test_samples():
    t, k = _pair()
    x = _binary(8)
    u_h, u_x = _uniforms(4, 1, 8)
    for (p1, s1), (p2, s2) in [
        (t.sample_h(x, u=u_h[0]), k.sample_h(x, u=u_h[0])),
        (t.sample_x(_binary(8, N_H), u=u_x[0]), k.sample_x(_binary(8, N_H), u=u_x[0])),
    ]:
        _close(p1, p2)
        _close(s1, s2, exact=True)


def test_gibbs_chains():
    t, k = _pair()
    x0 = _binary(7, seed=5)
    u = _uniforms(6, 6, 7)
    (xt, chain_t), (xk, chain_k) = (m.gibbs(x0, 6, u=u, return_chain=True, every=2) for m in (t, k))
    assert _np(chain_t).shape == _np(chain_k).shape == (3, 7, N_V)
    _close(chain_t, chain_k)
    _close(xt, xk, exact=True)
    _close(t.gibbs(x0, 6, u=u), k.gibbs(x0, 6, u=u), exact=True)
    _close(t.sample(7, steps=6, start=x0, u=u), k.sample(7, steps=6, start=x0, u=u))
    _close(
        t.sample(7, steps=6, start=x0, u=u, every=3), k.sample(7, steps=6, start=x0, u=u, every=3)
    )


@pytest.mark.parametrize("steps", [1, 3])
def test_cd_gradients(steps):
    t, k = _pair(k=steps)
    x = _binary(9, seed=7)
    u = _uniforms(8, steps, 9)
    for g_t, g_k in zip(t.gradient(x, uniforms=u), k.gradient(x, uniforms=u), strict=True):
        _close(g_t, g_k)


def test_pcd_gradients_and_chains():
    t, k = _pair(k=2, persistent=True, n_chains=5)
    chains = _binary(5, seed=9)
    t.persistent_chains = chains
    k.persistent_chains = chains
    for call in range(3):
        x = _binary(4 + call, seed=10 + call)
        u = _uniforms(20 + call, 2, 5)
        for g_t, g_k in zip(t.gradient(x, uniforms=u), k.gradient(x, uniforms=u), strict=True):
            _close(g_t, g_k)
        np.testing.assert_array_equal(t.persistent_chains, k.persistent_chains)


@pytest.mark.parametrize("persistent", [False, True])
def test_three_updates_with_momentum_and_weight_decay(persistent):
    kwargs = {"k": 2, "eta": 0.1, "momentum": 0.7, "weight_decay": 0.01}
    if persistent:
        kwargs |= {"persistent": True, "n_chains": 6}
    t, k = _pair(**kwargs)
    if persistent:
        t.persistent_chains = k.persistent_chains = _binary(6, seed=30)
    for step in range(3):
        x = _binary(6, seed=40 + step)
        u = _uniforms(50 + step, 2, 6)
        out_t, out_k = t.update(x, uniforms=u), k.update(x, uniforms=u)
        assert set(out_t) == set(out_k)
        for name in out_t:
            assert float(_np(out_t[name])) == pytest.approx(float(_np(out_k[name])), rel=1e-5)
    w_t, w_k = t.get_weights(), k.get_weights()
    assert set(w_t) == set(w_k) == {"W", "a", "b"}
    for name in w_t:
        np.testing.assert_allclose(w_t[name], w_k[name], **TOL, err_msg=name)
