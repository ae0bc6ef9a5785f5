"""The RBMs' fast training path against their readable one: ``fit(fast=True)`` (the default,
``coursekit.<fw>.rbm_fast``) and ``fit(fast=False)`` (``RBM.update`` per batch) draw the same
random numbers in the same order and end with the same parameters, up to float rounding.

Every test runs once per framework (the ``RBM`` fixture); the Keras cases are marked ``keras``,
so that ``make test`` runs them on the tensorflow and on the torch backend.
"""

from __future__ import annotations

import numpy as np
import pytest

from coursekit.checks import to_numpy
from coursekit.common.uniforms import batch_uniform_count, split_batch_uniforms

N_V, N_H = 12, 5
TOL = {"rtol": 1e-5, "atol": 1e-5}

#: (constructor arguments, fit arguments): CD-1, PCD-1, CD-2, PCD-2 with given chains, a
#: smaller last batch, static and no binarisation, no shuffling, a decaying step size.
CASES = {
    "CD-1": ({}, {}),
    "PCD-1": ({"persistent": True}, {}),
    "CD-2 static": ({"k": 2}, {"binarize": "static"}),
    "PCD-2 n_chains": ({"k": 2, "persistent": True, "n_chains": 9}, {"eta_final": 0.0}),
    "CD-1 unshuffled": ({}, {"shuffle": False, "batch_size": 32}),
}


def _data(n: int = 70, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, N_V)).astype(np.float32)


def _fit(RBM, kwargs, fit_kwargs, *, fast, seed=3):  # noqa: N803 - the class under test
    rbm = RBM(N_V, N_H, seed=1, eta=0.1, momentum=0.5, weight_decay=1e-3, **kwargs)
    x = _data()
    if fit_kwargs.get("binarize", "dynamic") is None:
        x = (x >= 0.5).astype(np.float32)
    options = {"epochs": 3, "batch_size": 16, "progress": False, "seed": seed} | fit_kwargs
    history = rbm.fit(x, fast=fast, **options)
    return rbm, history


def _state(rbm) -> dict[str, np.ndarray]:
    """Parameters and velocities (``vW`` is an attribute in torch, a variable in Keras)."""
    state = rbm.get_weights()
    for name in ("vW", "va", "vb"):
        state[name] = to_numpy(getattr(rbm, name if hasattr(rbm, name) else f"_{name}"))
    return state


@pytest.mark.parametrize("case", list(CASES))
def test_the_fast_and_the_readable_fit_end_alike(RBM, case):  # noqa: N803
    kwargs, fit_kwargs = CASES[case]
    fast, h_fast = _fit(RBM, kwargs, fit_kwargs, fast=True)
    slow, h_slow = _fit(RBM, kwargs, fit_kwargs, fast=False)
    s_fast, s_slow = _state(fast), _state(slow)
    for name in s_fast:
        np.testing.assert_allclose(s_slow[name], s_fast[name], **TOL, err_msg=name)
    if kwargs.get("persistent"):  # the same random numbers: the same binary chain states
        np.testing.assert_array_equal(slow.persistent_chains, fast.persistent_chains)
    assert h_slow["epoch"] == h_fast["epoch"]
    for name in ("recon_error", "pll"):
        np.testing.assert_allclose(h_slow[name], h_fast[name], rtol=1e-4, err_msg=name)
    # Control: another seed (other random numbers) ends elsewhere, far beyond the tolerance.
    other, _ = _fit(RBM, kwargs, fit_kwargs, fast=True, seed=4)
    assert np.abs(other.get_weights()["W"] - s_fast["W"]).max() > 1e-3


def test_the_readable_fit_runs_update_once_per_batch(RBM, monkeypatch):  # noqa: N803
    rbm = RBM(N_V, N_H, seed=1)
    calls = []
    update = rbm.update

    def counted(x, *, uniforms=None):
        calls.append(len(x))
        return update(x, uniforms=uniforms)

    monkeypatch.setattr(rbm, "update", counted)
    rbm.fit(_data(), epochs=2, batch_size=32, progress=False, fast=False)
    assert calls == [32, 32, 6] * 2
    calls.clear()
    rbm.fit(_data(), epochs=1, batch_size=32, progress=False)  # the fast path does not
    assert calls == []
    with pytest.raises(ValueError, match="fast"):
        rbm.fit(_data(), epochs=1, progress=False, fast="no")


def test_one_draw_per_batch_in_the_layout_both_paths_use():
    """[u_data (n, n_v) if dynamic][k, m, n_h + n_v]: step s draws h with the first n_h
    numbers of each chain's block, then x with the rest; views, no copies."""
    n, m, k, n_v, n_h = 2, 3, 2, 4, 5
    u = np.arange(batch_uniform_count(n, m, k, n_v, n_h, True), dtype=np.float32)
    assert u.size == n * n_v + k * m * (n_h + n_v)
    u_data, u_h, u_x = split_batch_uniforms(u, n, m, k, n_v, n_h, True)
    np.testing.assert_array_equal(u_data, u[: n * n_v].reshape(n, n_v))
    blocks = u[n * n_v :].reshape(k, m, n_h + n_v)
    np.testing.assert_array_equal(u_h, blocks[..., :n_h])
    np.testing.assert_array_equal(u_x, blocks[..., n_h:])
    assert all(np.shares_memory(part, u) for part in (u_data, u_h, u_x))
    u = np.arange(batch_uniform_count(n, m, k, n_v, n_h, False), dtype=np.float32)
    u_data, u_h, _ = split_batch_uniforms(u, n, m, k, n_v, n_h, False)
    assert u_data is None and u_h[0, 0, 0] == 0.0
