"""coursekit.keras.RBM against the NumPy reference, on whichever Keras backend is active.

``make test`` runs these tests under the tensorflow backend and again under the torch backend.
The CD-k checks feed the Keras RBM the uniforms that ``reference.cd_gradient`` draws from a
seeded generator (u_h[0], u_x[0], u_h[1], ... in that order), so both take the same samples.
"""

from __future__ import annotations

import time
import zipfile

import keras
import numpy as np
import pytest

from coursekit.data import bars_and_stripes, bars_and_stripes_distribution
from coursekit.keras import RBM
from coursekit.keras.rbm_fast import FastOptions, FastPath
from coursekit.reference import rbm as ref

pytestmark = pytest.mark.keras

N_V, N_H = 7, 5
TOL = {"rtol": 1e-5, "atol": 1e-5}


def _np(t) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(t))


def _params(n_v: int = N_V, n_h: int = N_H, seed: int = 0, scale: float = 0.7):
    rng = np.random.default_rng(seed)
    f32 = np.float32
    return (
        rng.normal(0, scale, (n_v, n_h)).astype(f32),
        rng.normal(0, scale, n_v).astype(f32),
        rng.normal(0, scale, n_h).astype(f32),
    )


def _rbm(seed: int = 0, **kwargs) -> tuple[RBM, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """An RBM with random, not tiny, weights (so that the tests see real structure)."""
    rbm = RBM(N_V, N_H, seed=seed, **kwargs)
    W, a, b = _params(seed=seed)
    rbm.set_weights(W=W, a=a, b=b)
    return rbm, (W, a, b)


def _binary(n: int, width: int = N_V, seed: int = 1) -> np.ndarray:
    return (np.random.default_rng(seed).random((n, width)) < 0.5).astype(np.float32)


def _ref_uniforms(seed: int, k: int, m: int, n_v: int = N_V, n_h: int = N_H):
    """The uniforms ``reference.cd_gradient(..., rng=default_rng(seed))`` draws, in its order."""
    rng = np.random.default_rng(seed)
    u_h, u_x = np.empty((k, m, n_h)), np.empty((k, m, n_v))
    for s in range(k):
        u_h[s] = rng.random((m, n_h))
        u_x[s] = rng.random((m, n_v))
    return u_h.astype(np.float32), u_x.astype(np.float32)


# ------------------------------------------------------------------ maths vs the reference


def test_conditionals_energies_match_reference():
    rbm, (W, a, b) = _rbm()
    x = _binary(9)
    h = _binary(9, N_H, seed=2)
    probs = np.random.default_rng(3).random((4, N_V)).astype(np.float32)
    np.testing.assert_allclose(_np(rbm.p_h(x)), ref.p_h_given_x(x, W, b), **TOL)
    np.testing.assert_allclose(_np(rbm.p_h(probs)), ref.p_h_given_x(probs, W, b), **TOL)
    np.testing.assert_allclose(_np(rbm.p_x(h)), ref.p_x_given_h(h, W, a), **TOL)
    np.testing.assert_allclose(_np(rbm.energy(x, h)), ref.energy(x, h, W, a, b), **TOL)
    np.testing.assert_allclose(_np(rbm.free_energy(x)), ref.free_energy(x, W, a, b), **TOL)
    assert [tuple(v.shape) for v in (rbm.W, rbm.a, rbm.b)] == [(N_V, N_H), (N_V,), (N_H,)]


def test_free_energy_is_one_number_per_row():
    """The sum runs over the hidden units: each row's F(x) does not depend on the other rows."""
    rbm, (W, a, b) = _rbm()
    x = _binary(N_H + 3)  # a row count unlike n_h or n_v
    batch = _np(rbm.free_energy(x))
    assert batch.shape == (len(x),)
    singles = np.array([_np(rbm.free_energy(row[None]))[0] for row in x])
    np.testing.assert_allclose(batch, singles, **TOL)


def test_init_and_weights():
    rbm = RBM(50, 40, init_std=0.01, seed=0)
    w = rbm.get_weights()
    assert set(w) == {"W", "a", "b"} and all(v.dtype == np.float32 for v in w.values())
    assert not w["a"].any() and not w["b"].any()
    assert 0.008 < w["W"].std() < 0.012 and abs(w["W"].mean()) < 0.002
    w["W"][:] = 5.0  # a copy
    assert rbm.get_weights()["W"].max() < 1.0
    with pytest.raises(ValueError, match="W must have shape"):
        rbm.set_weights(W=np.zeros((40, 50)))
    with pytest.raises(ValueError, match="b contains NaN"):
        rbm.set_weights(b=np.full(40, np.nan))
    x = np.array([[1.0] * 25 + [0.0] * 25, [1.0] * 10 + [0.0] * 40], np.float32)
    rbm.init_visible_bias(x)
    p = np.clip(x.mean(0), 1e-3, 1 - 1e-3)
    np.testing.assert_allclose(rbm.get_weights()["a"], np.log(p / (1 - p)), rtol=1e-5)


def test_sampling_with_uniforms_matches_reference():
    rbm, (W, a, b) = _rbm()
    x = _binary(6)
    u = np.random.default_rng(4).random((6, N_H)).astype(np.float32)
    p, h = rbm.sample_h(x, u=u)
    p_ref = ref.p_h_given_x(x, W, b)
    np.testing.assert_allclose(_np(p), p_ref, **TOL)
    np.testing.assert_array_equal(_np(h), (u < p_ref).astype(np.float32))
    u = np.random.default_rng(5).random((6, N_V)).astype(np.float32)
    p, xs = rbm.sample_x(_np(h), u=u)
    p_ref = ref.p_x_given_h(_np(h), W, a)
    np.testing.assert_allclose(_np(p), p_ref, **TOL)
    np.testing.assert_array_equal(_np(xs), (u < p_ref).astype(np.float32))


def test_every_row_gets_its_own_random_numbers():
    """Identical rows must give different samples (not one random row reused for the batch)."""
    rbm = RBM(20, 30, seed=0)  # W ~ 0: every p is ~ 1/2
    _, h = rbm.sample_h(np.zeros((8, 20), np.float32))
    _, x = rbm.sample_x(np.zeros((8, 30), np.float32))
    assert len({tuple(r) for r in _np(h)}) == 8 and len({tuple(r) for r in _np(x)}) == 8
    x1 = rbm.gibbs(np.zeros((8, 20), np.float32), 1)
    assert len({tuple(r) for r in x1}) == 8


@pytest.mark.parametrize("k", [1, 3])
def test_cd_gradient_matches_reference(k):
    rbm, (W, a, b) = _rbm(k=k)
    x = _binary(10)
    dW, da, db = rbm.gradient(x, uniforms=_ref_uniforms(7, k, 10))
    dW_r, da_r, db_r, _ = ref.cd_gradient(x, W, a, b, k=k, rng=np.random.default_rng(7))
    np.testing.assert_allclose(_np(dW), dW_r, **TOL)
    np.testing.assert_allclose(_np(da), da_r, **TOL)
    np.testing.assert_allclose(_np(db), db_r, **TOL)
    after = rbm.get_weights()  # gradient() does not change the parameters
    np.testing.assert_array_equal(after["W"], W)
    np.testing.assert_array_equal(after["a"], a)


def test_pcd_gradient_matches_reference_and_advances_chains():
    rbm, (W, a, b) = _rbm(k=2, persistent=True, n_chains=6)
    chains = _binary(6, seed=8)
    rbm.persistent_chains = chains
    for call, x in enumerate([_binary(10, seed=9), _binary(4, seed=10)]):
        dW, da, db = rbm.gradient(x, uniforms=_ref_uniforms(20 + call, 2, 6))
        dW_r, da_r, db_r, chains = ref.cd_gradient(
            x, W, a, b, k=2, rng=np.random.default_rng(20 + call), persistent=chains
        )
        np.testing.assert_allclose(_np(dW), dW_r, **TOL)
        np.testing.assert_allclose(_np(da), da_r, **TOL)
        np.testing.assert_allclose(_np(db), db_r, **TOL)
        np.testing.assert_array_equal(rbm.persistent_chains, chains)
    with pytest.raises(ValueError, match="u_h must have shape"):
        rbm.gradient(_binary(3), uniforms=_ref_uniforms(0, 2, 3))


def test_pcd_chains_start_as_coin_flips():
    rbm = RBM(30, 4, persistent=True, n_chains=50, seed=0)
    assert rbm.persistent_chains is None
    rbm.update(_binary(10, 30))
    chains = rbm.persistent_chains
    assert chains.shape == (50, 30) and set(np.unique(chains)) <= {0.0, 1.0}
    assert 0.4 < chains.mean() < 0.6
    assert RBM(30, 4, persistent=True, seed=0).n_chains is None  # batch size, on first use


def test_update_momentum_and_weight_decay_two_steps():
    eta, mom, wd = 0.1, 0.6, 0.01
    rbm, (W, a, b) = _rbm(k=1, eta=eta, momentum=mom, weight_decay=wd)
    vW, va, vb = np.zeros_like(W), np.zeros_like(a), np.zeros_like(b)
    W, a, b = W.astype(np.float64), a.astype(np.float64), b.astype(np.float64)
    for step, x in enumerate([_binary(8, seed=11), _binary(5, seed=12)]):
        out = rbm.update(x, uniforms=_ref_uniforms(30 + step, 1, len(x)))
        assert float(_np(out["recon_error"])) >= 0.0
        dW, da, db, _ = ref.cd_gradient(x, W, a, b, k=1, rng=np.random.default_rng(30 + step))
        vW = mom * vW + eta * (dW - wd * W)
        va = mom * va + eta * da
        vb = mom * vb + eta * db
        W, a, b = W + vW, a + va, b + vb
        got = rbm.get_weights()
        np.testing.assert_allclose(got["W"], W, **TOL)
        np.testing.assert_allclose(got["a"], a, **TOL)
        np.testing.assert_allclose(got["b"], b, **TOL)


LAYOUTS = {
    "one matmul": FastOptions(),
    "phases apart": FastOptions(split_phases=True),
    "halves": FastOptions(split_phases=True, halves=True),
    "fused momentum": FastOptions(split_phases=True, halves=True, fused_momentum=True),
    "in place": FastOptions(in_place=True),
}


@pytest.mark.parametrize("persistent", [False, True])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_every_fast_layout_gives_the_reference_update(persistent, layout):
    """The layouts of the fast path's update (the phases' matmuls apart, the batch in two
    halves, TensorFlow's fused momentum kernel, torch's in-place update) only reorder sums: two
    updates (odd batch sizes: uneven halves) match the reference on every backend."""
    backend = {"fused momentum": "tensorflow", "in place": "torch"}.get(layout)
    if backend and keras.backend.backend() != backend:
        pytest.skip(f"{backend} only")
    eta, mom, wd = 0.1, 0.6, 0.01
    chains = _binary(6, seed=8) if persistent else None
    rbm, (W, a, b) = _rbm(
        k=2, eta=eta, momentum=mom, weight_decay=wd, persistent=persistent, n_chains=6
        if persistent else None,
    )  # fmt: skip
    fast = FastPath(rbm, LAYOUTS[layout])
    if persistent:
        rbm.persistent_chains = chains
    vW, va, vb = np.zeros_like(W), np.zeros_like(a), np.zeros_like(b)
    W, a, b = W.astype(np.float64), a.astype(np.float64), b.astype(np.float64)
    for step, x in enumerate([_binary(9, seed=11), _binary(5, seed=12)]):
        m = 6 if persistent else len(x)
        fast.update(x, _ref_uniforms(30 + step, 2, m))
        dW, da, db, ends = ref.cd_gradient(
            x, W, a, b, k=2, rng=np.random.default_rng(30 + step), persistent=chains
        )
        chains = ends if persistent else None
        vW, va, vb = mom * vW + eta * (dW - wd * W), mom * va + eta * da, mom * vb + eta * db
        W, a, b = W + vW, a + va, b + vb
        got = rbm.get_weights()
        np.testing.assert_allclose(got["W"], W, **TOL)
        np.testing.assert_allclose(got["a"], a, **TOL)
        np.testing.assert_allclose(got["b"], b, **TOL)
        if persistent:
            np.testing.assert_array_equal(rbm.persistent_chains, chains)
    dW_k, da_k, db_k = rbm.gradient(x, uniforms=_ref_uniforms(50, 2, m))
    dW, da, db, _ = ref.cd_gradient(
        x, W, a, b, k=2, rng=np.random.default_rng(50), persistent=chains
    )
    np.testing.assert_allclose(_np(dW_k), dW, **TOL)
    np.testing.assert_allclose(_np(da_k), da, **TOL)
    np.testing.assert_allclose(_np(db_k), db, **TOL)


def test_gibbs_and_sample_with_uniforms():
    rbm, (W, a, b) = _rbm()
    x0 = _binary(5, seed=13)
    u_h, u_x = _ref_uniforms(40, 4, 5)
    x_end, chain = rbm.gibbs(x0, 4, u=(u_h, u_x), return_chain=True, every=2)
    x, means = x0.astype(np.float64), []
    for s in range(4):
        h = (u_h[s] < ref.p_h_given_x(x, W, b)).astype(np.float64)
        p = ref.p_x_given_h(h, W, a)
        x = (u_x[s] < p).astype(np.float64)
        means.append(p)
    assert chain.shape == (2, 5, N_V)
    np.testing.assert_allclose(chain, np.stack(means[1::2]), **TOL)
    np.testing.assert_array_equal(x_end, x)
    np.testing.assert_array_equal(rbm.gibbs(x0, 4, u=(u_h, u_x)), x)
    last = rbm.sample(5, steps=4, start=x0, u=(u_h, u_x))
    np.testing.assert_allclose(last, means[-1], **TOL)
    assert rbm.sample(3, steps=6, every=3).shape == (2, 3, N_V)
    noise = rbm.sample(3, steps=2)
    assert noise.shape == (3, N_V) and ((noise >= 0) & (noise <= 1)).all()


def test_monitors_match_reference():
    rbm, (W, a, b) = _rbm()
    x = _binary(12, seed=14)
    np.testing.assert_allclose(
        rbm.reconstruction_error(x), ref.reconstruction_error(x, W, a, b), rtol=1e-5
    )
    r = ref.p_x_given_h(ref.p_h_given_x(x, W, b), W, a)
    np.testing.assert_allclose(rbm.reconstruct(x), r, **TOL)
    np.testing.assert_allclose(
        rbm.pseudo_log_likelihood(x, exact=True), ref.pseudo_log_likelihood(x, W, a, b), rtol=1e-5
    )
    # The stochastic estimate is unbiased: its average over many draws approaches the exact one.
    big = np.tile(x, (200, 1))
    exact = ref.pseudo_log_likelihood(x, W, a, b)
    assert rbm.pseudo_log_likelihood(big) == pytest.approx(exact, abs=0.15 * abs(exact))


# ------------------------------------------------------------------------------ training


def test_training_on_bars_and_stripes_lowers_the_exact_kl():
    t0 = time.perf_counter()
    p_data = bars_and_stripes_distribution(3)
    x = np.tile(bars_and_stripes(3).astype(np.float32), (8, 1))  # 112 rows
    rbm = RBM(9, 16, k=1, eta=0.2, momentum=0.5, init_std=0.1, seed=0)
    kl_before = ref.kl_divergence(p_data, ref.model_distribution(**rbm.get_weights()))
    rbm.fit(x, epochs=60, batch_size=16, binarize=None, monitor_every=0, progress=False)
    kl_after = ref.kl_divergence(p_data, ref.model_distribution(**rbm.get_weights()))
    assert kl_after < 0.5 * kl_before, (kl_before, kl_after)
    assert time.perf_counter() - t0 < 10.0


def test_fit_history():
    x = np.random.default_rng(0).random((150, N_V)).astype(np.float32)
    rbm = RBM(N_V, N_H, seed=0)
    hist = rbm.fit(x, epochs=5, batch_size=32, monitor_every=2, progress=False)
    assert set(hist) == {"epoch", "recon_error", "pll", "seconds"}
    assert hist["epoch"] == [2.0, 4.0, 5.0]
    assert all(len(v) == 3 for v in hist.values())
    assert np.all(np.diff(hist["seconds"]) > 0) and hist["seconds"][0] > 0
    assert all(np.isfinite(hist["recon_error"])) and all(np.array(hist["pll"]) < 0)
    val = _binary(20)
    hist = rbm.fit(x, epochs=2, validation=val, binarize="static", progress=False)
    assert hist["recon_error"][-1] == pytest.approx(rbm.reconstruction_error(val), rel=1e-5)
    hist = rbm.fit(x, epochs=2, monitor_every=0, progress=False)
    assert hist["epoch"] == [1.0, 2.0] and np.isnan(hist["pll"]).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_visible": 0}, "n_visible"),
        ({"n_hidden": 2.5}, "n_hidden"),
        ({"k": 0}, "k"),
        ({"k": True}, "k"),
        ({"eta": 0.0}, "eta"),
        ({"eta": -0.1}, "eta"),
        ({"eta": float("nan")}, "eta"),
        ({"momentum": 1.0}, "momentum"),
        ({"weight_decay": -1e-4}, "weight_decay"),
        ({"n_chains": 0}, "n_chains"),
        ({"init_std": -1.0}, "init_std"),
    ],
)
def test_bad_hyperparameters(kwargs, match):
    args = {"n_visible": N_V, "n_hidden": N_H} | kwargs
    with pytest.raises(ValueError, match=match):
        RBM(**args)


def test_bad_data():
    rbm = RBM(N_V, N_H, seed=0)
    ok = np.random.default_rng(0).random((20, N_V)).astype(np.float32)
    with pytest.raises(ValueError, match=r"uint8.*to_float"):
        rbm.fit((ok * 255).astype(np.uint8), epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"x must have values in \[0, 1\]"):
        rbm.fit(ok * 2.0, epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"x must have values in \[0, 1\]"):
        rbm.fit(np.where(ok > 0.5, np.nan, ok), epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"x must be binary \(0/1\) when binarize=None"):
        rbm.fit(ok, epochs=1, binarize=None, progress=False)
    with pytest.raises(ValueError, match=r"x has 6 columns but the RBM has n_visible=7"):
        rbm.fit(ok[:, :6], epochs=1, progress=False)
    with pytest.raises(ValueError, match="flatten"):
        rbm.fit(np.zeros((2, 28, 28), np.uint8), epochs=1, progress=False)
    with pytest.raises(ValueError, match="binarize"):
        rbm.fit(ok, epochs=1, binarize="yes", progress=False)
    with pytest.raises(ValueError, match="epochs"):
        rbm.fit(ok, epochs=0, progress=False)
    with pytest.raises(ValueError, match="batch_size"):
        rbm.fit(ok, epochs=1, batch_size=0, progress=False)
    with pytest.raises(ValueError, match=r"x has 6 columns"):
        rbm.p_h(ok[:, :6])
    with pytest.raises(ValueError, match="eta"):
        rbm.eta = 0.0
    with pytest.raises(ValueError, match="k"):
        rbm.k = 0


def test_divergence_raises_floating_point_error():
    rbm = RBM(N_V, N_H, eta=1e38, momentum=0.9, seed=0)
    with pytest.raises(FloatingPointError, match=r"diverged in epoch 1: .* eta \(now 1e\+38\)"):
        rbm.fit(_binary(50), epochs=3, batch_size=10, binarize=None, progress=False)


def test_reproducible_with_seed():
    x = np.random.default_rng(0).random((100, N_V)).astype(np.float32)

    def train(seed):
        rbm = RBM(N_V, N_H, k=2, seed=seed)
        hist = rbm.fit(x, epochs=2, batch_size=20, progress=False)
        return rbm.get_weights(), hist["pll"]

    (w1, pll1), (w2, pll2), (w3, _) = train(3), train(3), train(4)
    for name in w1:
        np.testing.assert_array_equal(w1[name], w2[name])
    assert pll1 == pll2
    assert not np.array_equal(w1["W"], w3["W"])


# ---------------------------------------------------------------------------- save / load


def test_save_load_roundtrip(tmp_path):
    x = _binary(60)
    rbm = RBM(N_V, N_H, k=2, persistent=True, n_chains=9, eta=0.07, momentum=0.3, seed=0)
    rbm.fit(x, epochs=2, batch_size=20, binarize=None, progress=False)
    path = tmp_path / "models" / "rbm"  # no suffix: the file keeps exactly this name
    assert rbm.save(path) == path  # save returns where it wrote, like the torch twin
    rbm.save(path)  # overwriting works too
    assert [p.name for p in path.parent.iterdir()] == ["rbm"]  # no temporary files left
    back = RBM.load(path)
    for name, value in rbm.get_weights().items():
        np.testing.assert_array_equal(back.get_weights()[name], value)
    np.testing.assert_array_equal(back.persistent_chains, rbm.persistent_chains)
    np.testing.assert_array_equal(_np(back._vW), _np(rbm._vW))
    assert (back.k, back.persistent, back.n_chains) == (2, True, 9)
    assert back.eta == pytest.approx(0.07) and back.momentum == pytest.approx(0.3)
    # The random generators are restored too: training continues identically.
    rbm.fit(x, epochs=1, batch_size=20, binarize=None, progress=False)
    back.fit(x, epochs=1, batch_size=20, binarize=None, progress=False)
    np.testing.assert_array_equal(back.get_weights()["W"], rbm.get_weights()["W"])


def test_save_is_atomic(tmp_path, monkeypatch):
    rbm = RBM(N_V, N_H, seed=0)
    path = tmp_path / "rbm.npz"
    rbm.save(path)
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        RBM(N_V, N_H, seed=1).save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["rbm.npz"]


def test_load_bad_files(tmp_path):
    missing = tmp_path / "nothing.npz"
    with pytest.raises(FileNotFoundError, match="nothing.npz"):
        RBM.load(missing)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="garbage.npz"):
        RBM.load(garbage)
    good = tmp_path / "good.npz"
    RBM(N_V, N_H, seed=0).save(good)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:300])
    with pytest.raises(ValueError, match="truncated.npz"):
        RBM.load(truncated)
    other = tmp_path / "other.npz"
    np.savez(other, W=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="other.npz"):
        RBM.load(other)
    assert zipfile.is_zipfile(good)
