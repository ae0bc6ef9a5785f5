"""coursekit.torch.RBM checked against the NumPy reference, by hand, and by training."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import coursekit as ck
from coursekit.data.toy import bars_and_stripes, bars_and_stripes_distribution
from coursekit.reference import rbm as ref
from coursekit.torch import RBM

TOL = {"rtol": 1e-5, "atol": 1e-5}  # float32 against float64


def _random_rbm(n_v=7, n_h=5, seed=0, scale=0.5, **kwargs) -> RBM:
    rbm = RBM(n_v, n_h, seed=seed, **kwargs)
    rng = np.random.default_rng(seed)
    rbm.set_weights(
        W=rng.normal(0, scale, (n_v, n_h)), a=rng.normal(0, scale, n_v), b=rng.normal(0, scale, n_h)
    )
    return rbm


def _params64(rbm: RBM) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    w = rbm.get_weights()
    return w["W"].astype(np.float64), w["a"].astype(np.float64), w["b"].astype(np.float64)


def _binary(shape, seed=1, p=0.5) -> np.ndarray:
    return (np.random.default_rng(seed).random(shape) < p).astype(np.float32)


def _uniforms(k, m, n_v, n_h, seed=2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (
        rng.random((k, m, n_h), dtype=np.float32),
        rng.random((k, m, n_v), dtype=np.float32),
    )


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ------------------------------------------------------- reference: explicit uniforms


def test_reference_gibbs_step_and_cd_gradient_use_the_given_uniforms():
    rng = np.random.default_rng(30)
    W, a, b = rng.normal(0, 1, (5, 3)), rng.normal(0, 1, 5), rng.normal(0, 1, 3)
    x = _binary((4, 5), seed=31).astype(float)
    u_h, u_x = rng.random((2, 4, 3)), rng.random((2, 4, 5))
    # By hand: a Bernoulli(p) unit is (u < p); step s uses u_h[s], then u_x[s].
    chain = x
    for s in range(2):
        h = (u_h[s] < ref.sigmoid(chain @ W + b)).astype(float)
        chain = (u_x[s] < ref.sigmoid(h @ W.T + a)).astype(float)
        if s == 0:
            h_ref, x_ref = ref.gibbs_step(x, W, a, b, uniforms=(u_h[0], u_x[0]))
            np.testing.assert_array_equal(h_ref, h)
            np.testing.assert_array_equal(x_ref, chain)
    dW, da, db, end = ref.cd_gradient(x, W, a, b, k=2, uniforms=(u_h, u_x))
    np.testing.assert_array_equal(end, chain)
    ph, pk = ref.sigmoid(x @ W + b), ref.sigmoid(chain @ W + b)
    np.testing.assert_allclose(dW, x.T @ ph / 4 - chain.T @ pk / 4, rtol=1e-12)
    np.testing.assert_allclose(da, x.mean(0) - chain.mean(0), atol=1e-15)
    np.testing.assert_allclose(db, ph.mean(0) - pk.mean(0), atol=1e-15)
    # The rng is not consulted when uniforms are given.
    again = ref.cd_gradient(x, W, a, b, k=2, rng=123, uniforms=(u_h, u_x))
    np.testing.assert_array_equal(again[3], end)
    # PCD: m = rows of `persistent`, not of x.
    persistent = _binary((6, 5), seed=32)
    u_pcd = (rng.random((1, 6, 3)), rng.random((1, 6, 5)))
    assert ref.cd_gradient(x, W, a, b, persistent=persistent, uniforms=u_pcd)[3].shape == (6, 5)
    with pytest.raises(ValueError, match=r"uniforms: u_h must have shape \(1, 6, 3\)"):
        ref.cd_gradient(x, W, a, b, persistent=persistent, uniforms=(u_h[:1], u_pcd[1]))
    with pytest.raises(ValueError, match=r"uniforms: u_x must hold values in \[0, 1\)"):
        ref.gibbs_step(x, W, a, b, uniforms=(u_h[0], u_x[0] + 1.0))
    with pytest.raises(ValueError, match="uniforms must be a pair"):
        ref.gibbs_step(x, W, a, b, uniforms=u_h[0])


# ----------------------------------------------------------------------- maths vs reference


def test_conditionals_energies_equal_the_reference():
    rbm = _random_rbm()
    W, a, b = _params64(rbm)
    x, h = _binary((11, 7)), _binary((11, 5), seed=3)
    np.testing.assert_allclose(_np(rbm.p_h(x)), ref.p_h_given_x(x, W, b), **TOL)
    np.testing.assert_allclose(_np(rbm.p_x(h)), ref.p_x_given_h(h, W, a), **TOL)
    np.testing.assert_allclose(_np(rbm.free_energy(x)), ref.free_energy(x, W, a, b), **TOL)
    np.testing.assert_allclose(_np(rbm.energy(x, h)), ref.energy(x, h, W, a, b), **TOL)
    probs = np.random.default_rng(4).random((3, 7))  # probabilities work too (tensor input)
    np.testing.assert_allclose(
        _np(rbm.free_energy(torch.from_numpy(probs))), ref.free_energy(probs, W, a, b), **TOL
    )
    assert rbm.W.dtype == torch.float32 and not rbm.W.requires_grad
    assert tuple(rbm.W.shape) == (7, 5) and tuple(rbm.a.shape) == (7,)


def test_initialisation_follows_hinton():
    rbm = RBM(400, 300, init_std=0.02, seed=0)
    w = rbm.get_weights()
    assert w["W"].dtype == np.float32 and abs(w["W"].std() - 0.02) < 5e-4
    assert abs(w["W"].mean()) < 5e-4 and not w["a"].any() and not w["b"].any()
    x = np.zeros((4, 400), np.float32)
    x[:2, :100] = 1.0  # pixel means 0.5 on the first 100 pixels, 0 elsewhere
    rbm.init_visible_bias(x)
    a = rbm.get_weights()["a"]
    np.testing.assert_allclose(a[:100], 0.0, atol=1e-6)
    np.testing.assert_allclose(a[100:], np.log(1e-3 / (1 - 1e-3)), rtol=1e-5)


def test_sample_h_and_x_with_uniforms_equal_the_reference():
    rbm = _random_rbm()
    W, a, b = _params64(rbm)
    x = _binary((9, 7))
    (u_h,), (u_x,) = _uniforms(1, 9, 7, 5)
    p_h, h = rbm.sample_h(x, u=u_h)
    p_x, x_new = rbm.sample_x(h, u=u_x)
    h_ref, x_ref = ref.gibbs_step(x, W, a, b, uniforms=(u_h, u_x))
    np.testing.assert_array_equal(_np(h), h_ref)
    np.testing.assert_array_equal(_np(x_new), x_ref)
    np.testing.assert_allclose(_np(p_h), ref.p_h_given_x(x, W, b), **TOL)
    np.testing.assert_allclose(_np(p_x), ref.p_x_given_h(h_ref, W, a), **TOL)
    # gibbs() is the same chain, step by step, with every step's p(x | h) recorded.
    uh3, ux3 = _uniforms(3, 9, 7, 5, seed=5)
    x_end, chain = rbm.gibbs(x, 3, u=(uh3, ux3), return_chain=True)
    xs = x
    for s in range(3):
        hs, x_next = ref.gibbs_step(xs, W, a, b, uniforms=(uh3[s], ux3[s]))
        np.testing.assert_allclose(chain[s], ref.p_x_given_h(hs, W, a), **TOL)
        xs = x_next
    np.testing.assert_array_equal(_np(x_end), xs)
    assert chain.shape == (3, 9, 7) and isinstance(chain, np.ndarray)
    assert rbm.gibbs(x, 3, u=(uh3, ux3), return_chain=True, every=2)[1].shape == (1, 9, 7)


@pytest.mark.parametrize(("k", "persistent"), [(1, False), (3, False), (2, True)])
def test_gradient_with_uniforms_equals_the_reference(k, persistent):
    n_v, n_h, n, m = 7, 5, 12, 6
    rbm = _random_rbm(n_v, n_h, k=k, persistent=persistent, n_chains=m if persistent else None)
    W, a, b = _params64(rbm)
    x = _binary((n, n_v))
    chains = _binary((m, n_v), seed=9) if persistent else None
    if persistent:
        rbm.persistent_chains = chains
    for step in range(2):  # PCD: the second call continues from the stored chains
        u = _uniforms(k, m if persistent else n, n_v, n_h, seed=10 + step)
        dW, da, db = rbm.gradient(x, uniforms=u)
        dW_ref, da_ref, db_ref, chain_ref = ref.cd_gradient(
            x, W, a, b, k=k, persistent=chains, uniforms=u
        )
        np.testing.assert_allclose(_np(dW), dW_ref, **TOL)
        np.testing.assert_allclose(_np(da), da_ref, **TOL)
        np.testing.assert_allclose(_np(db), db_ref, **TOL)
        if persistent:
            np.testing.assert_array_equal(rbm.persistent_chains, chain_ref)
            chains = chain_ref
    np.testing.assert_array_equal(_params64(rbm)[0], W)  # gradient() leaves W alone


def test_update_is_momentum_and_weight_decay_by_hand():
    n_v, n_h, n = 6, 4, 10
    eta, mom, wd = 0.1, 0.7, 0.01
    rbm = _random_rbm(n_v, n_h, k=2, eta=eta, momentum=mom, weight_decay=wd)
    W, a, b = _params64(rbm)
    vW, va, vb = np.zeros_like(W), np.zeros_like(a), np.zeros_like(b)
    x = _binary((n, n_v))
    for step in range(2):
        u = _uniforms(2, n, n_v, n_h, seed=20 + step)
        out = rbm.update(x, uniforms=u)
        dW, da, db, _ = ref.cd_gradient(x, W, a, b, k=2, uniforms=u)
        # recon_error: one-step reconstruction p(x | h_1) of the batch, from the same uniforms
        h1 = (u[0][0] < ref.p_h_given_x(x, W, b)).astype(float)
        recon = np.mean(np.sum((x - ref.p_x_given_h(h1, W, a)) ** 2, axis=1))
        assert float(out["recon_error"]) == pytest.approx(recon, rel=1e-5)
        vW = mom * vW + eta * (dW - wd * W)
        va = mom * va + eta * da
        vb = mom * vb + eta * db
        W, a, b = W + vW, a + va, b + vb
        got = rbm.get_weights()
        np.testing.assert_allclose(got["W"], W, **TOL)
        np.testing.assert_allclose(got["a"], a, **TOL)
        np.testing.assert_allclose(got["b"], b, **TOL)
    np.testing.assert_allclose(_np(rbm.vW), vW, **TOL)


def test_cd_with_many_steps_approaches_the_exact_gradient():
    rbm = _random_rbm(9, 4, seed=3, k=1)
    W, a, b = _params64(rbm)
    x = bars_and_stripes(3).astype(np.float32)
    exact = ref.log_likelihood_gradient(x, W, a, b)
    chains = np.tile(x, (2000, 1))  # 28,000 chains started at the data rows

    def error(k: int) -> float:
        rbm.k = k
        est = rbm.gradient(chains)
        return max(np.abs(_np(e) - g).max() for e, g in zip(est, exact, strict=True))

    err_1, err_100 = error(1), error(100)
    assert err_100 < 0.02
    assert err_100 < 0.5 * err_1


def test_pseudo_likelihood_and_reconstruction_equal_the_reference():
    rbm = _random_rbm(8, 5, seed=6, scale=1.0)
    W, a, b = _params64(rbm)
    x = _binary((30, 8), seed=7)
    assert rbm.pseudo_log_likelihood(x, exact=True) == pytest.approx(
        ref.pseudo_log_likelihood(x, W, a, b), rel=1e-5
    )
    stochastic = [rbm.pseudo_log_likelihood(x) for _ in range(300)]
    assert np.mean(stochastic) == pytest.approx(ref.pseudo_log_likelihood(x, W, a, b), rel=0.05)
    probs = np.random.default_rng(8).random((5, 8)).astype(np.float32)
    assert rbm.reconstruction_error(probs) == pytest.approx(
        ref.reconstruction_error(probs, W, a, b), rel=1e-5
    )
    np.testing.assert_allclose(
        rbm.reconstruct(probs), ref.p_x_given_h(ref.p_h_given_x(probs, W, b), W, a), **TOL
    )


# ----------------------------------------------------------------------------- training


def _bas_kl(rbm: RBM) -> float:
    return ref.kl_divergence(
        bars_and_stripes_distribution(3), ref.model_distribution(*_params64(rbm))
    )


@pytest.mark.parametrize("persistent", [False, True])
def test_training_on_bars_and_stripes_lowers_the_exact_kl(persistent):
    x = np.tile(bars_and_stripes(3).astype(np.float32), (20, 1))  # 280 rows, 20 batches
    settings = {"k": 5, "persistent": persistent, "n_chains": 100 if persistent else None}
    settings |= {"eta": 0.1, "momentum": 0.5, "weight_decay": 1e-4, "init_std": 0.1, "seed": 0}
    rbm = RBM(9, 8, **settings)
    kl_0, ll_0 = _bas_kl(rbm), ref.log_likelihood(x, *_params64(rbm))
    fit = {"epochs": 100, "batch_size": 14, "binarize": None, "monitor_every": 40}
    history = rbm.fit(x, progress=False, **fit)
    kl, ll = _bas_kl(rbm), ref.log_likelihood(x, *_params64(rbm))
    # From ~3.6 nats (a near-uniform model over 512 states) to well under half of that.
    assert kl < 0.5 * kl_0, (kl_0, kl)
    # The exact log-likelihood closes more than half its gap to the optimum, -log 14.
    assert ll > ll_0 + 0.5 * (-np.log(14) - ll_0), (ll_0, ll)
    assert history["epoch"] == [40, 80, 100]
    # Deterministic with the seed.
    again = RBM(9, 8, **settings)
    history_2 = again.fit(x, progress=False, **fit)
    np.testing.assert_array_equal(again.get_weights()["W"], rbm.get_weights()["W"])
    assert history_2["pll"] == history["pll"]


def test_fit_history_and_falling_reconstruction_error_on_digits():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the offline fallback warns that it is a fallback
        images, _ = ck.data.load_mnist("train")
    x = ck.data.flatten(ck.data.to_float(images[:1000]))
    rbm = RBM(784, 64, eta=0.1, seed=0)
    rbm.init_visible_bias(x)
    binary = (x >= 0.5).astype(np.float32)
    before = rbm.reconstruction_error(binary)  # the monitor uses all 1,000 rows, binarised
    history = rbm.fit(x, epochs=2, batch_size=20, progress=False)
    assert set(history) == {"epoch", "recon_error", "pll", "seconds"}
    assert history["epoch"] == [1, 2] and all(len(v) == 2 for v in history.values())
    assert 0 < history["seconds"][0] < history["seconds"][1]
    assert history["recon_error"][1] < history["recon_error"][0] < before
    assert all(np.isfinite(history["pll"])) and max(history["pll"]) < 0
    # With a validation set, it is what gets monitored (binarised statically).
    h_val = rbm.fit(
        x, epochs=3, batch_size=100, progress=False, validation=x[:200], monitor_every=2
    )
    assert h_val["epoch"] == [2, 3]
    assert h_val["recon_error"][-1] == pytest.approx(
        rbm.reconstruction_error(binary[:200]), rel=1e-5
    )


def test_fit_is_reproducible_with_a_seed_and_static_binarisation():
    x = np.random.default_rng(0).random((64, 12)).astype(np.float32)
    runs = []
    for _ in range(2):
        rbm = RBM(12, 6, seed=3)
        h = rbm.fit(x, epochs=3, batch_size=16, progress=False, seed=11)
        runs.append((rbm.get_weights()["W"], h["recon_error"], h["pll"]))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1:] == runs[1][1:]
    other = RBM(12, 6, seed=3)
    other.fit(x, epochs=3, batch_size=16, progress=False, seed=12)
    assert not np.array_equal(other.get_weights()["W"], runs[0][0])
    # binarize="static" trains on x >= 0.5, exactly as on that binary data with binarize=None.
    s1, s2 = RBM(12, 6, seed=3), RBM(12, 6, seed=3)
    s1.fit(x, epochs=2, batch_size=16, progress=False, binarize="static", seed=1)
    s2.fit(
        (x >= 0.5).astype(np.float32),
        epochs=2,
        batch_size=16,
        progress=False,
        binarize=None,
        seed=1,
    )
    np.testing.assert_array_equal(s1.get_weights()["W"], s2.get_weights()["W"])


def test_dynamic_binarisation_learns_grey_levels():
    # Pixels of intensity 0.3 are on 30% of the time under "dynamic", never under "static".
    x = np.full((400, 4), 0.3, np.float32)
    states = ref.all_states(4).astype(float)
    means = {}
    for mode in ("dynamic", "static"):
        rbm = RBM(4, 2, eta=0.05, seed=0)
        rbm.fit(x, epochs=25, batch_size=40, binarize=mode, progress=False)
        means[mode] = ref.model_distribution(*_params64(rbm)) @ states  # E_model[x] [4]
    np.testing.assert_allclose(means["dynamic"], 0.3, atol=0.05)
    assert means["static"].max() < 0.1


# --------------------------------------------------------------------------- sampling


def test_sample_shapes_and_starts():
    rbm = _random_rbm(7, 5, seed=1)
    assert rbm.sample(4, steps=3).shape == (4, 7)
    assert rbm.sample(4, steps=6, every=2).shape == (3, 4, 7)
    start = _binary((2, 7))
    out = rbm.sample(2, steps=1, start=start)
    assert out.shape == (2, 7) and out.dtype == np.float32
    assert np.all((out > 0) & (out < 1))  # p(x | h), not a binary sample
    # From data with given uniforms: p(x | h_1) with h_1 = (u_h < p(h | start)).
    W, a, b = _params64(rbm)
    u = _uniforms(1, 2, 7, 5, seed=4)
    h1 = (u[0][0] < ref.p_h_given_x(start, W, b)).astype(float)
    np.testing.assert_allclose(
        rbm.sample(2, steps=1, start=start, u=u), ref.p_x_given_h(h1, W, a), **TOL
    )
    with pytest.raises(ValueError, match="start"):
        rbm.sample(3, steps=1, start=start)
    with pytest.raises(ValueError, match="start"):
        rbm.sample(2, steps=1, start="zeros")
    with pytest.raises(ValueError, match="steps"):
        rbm.sample(2, steps=0)
    # Seeded RBMs sample alike.
    np.testing.assert_array_equal(
        _random_rbm(seed=5).sample(3, steps=4), _random_rbm(seed=5).sample(3, steps=4)
    )


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"k": 0}, "k"),
        ({"k": 1.5}, "k"),
        ({"eta": 0.0}, "eta"),
        ({"eta": -1}, "eta"),
        ({"momentum": 1.0}, "momentum"),
        ({"momentum": -0.1}, "momentum"),
        ({"weight_decay": -1e-3}, "weight_decay"),
        ({"n_chains": 0}, "n_chains"),
        ({"n_visible": 0}, "n_visible"),
        ({"n_hidden": 2.0}, "n_hidden"),
        ({"init_std": -1.0}, "init_std"),
    ],
)
def test_bad_hyperparameters(kwargs, name):
    args = {"n_visible": 4, "n_hidden": 3} | kwargs
    with pytest.raises(ValueError, match=name):
        RBM(args.pop("n_visible"), args.pop("n_hidden"), **args)


def test_bad_hyperparameters_set_later():
    rbm = RBM(4, 3)
    with pytest.raises(ValueError, match="eta"):
        rbm.eta = 0
    with pytest.raises(ValueError, match="k"):
        rbm.k = 0
    assert rbm.eta == 0.05 and rbm.k == 1


def test_bad_data():
    rbm = RBM(784, 8, seed=0)
    good = np.zeros((10, 784), np.float32)
    with pytest.raises(ValueError, match=r"uint8.*to_float"):
        rbm.fit(np.zeros((10, 784), np.uint8), epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"x must have values in \[0, 1\]"):
        rbm.fit(good + 2.0, epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"x must be binary \(0/1\) when binarize=None"):
        rbm.fit(good + 0.5, epochs=1, binarize=None, progress=False)
    with pytest.raises(ValueError, match="x has 783 columns but the RBM has n_visible=784"):
        rbm.fit(good[:, :783], epochs=1, progress=False)
    with pytest.raises(ValueError, match="flatten"):
        rbm.fit(good.reshape(10, 28, 28), epochs=1, progress=False)
    with pytest.raises(ValueError, match="binarize"):
        rbm.fit(good, epochs=1, binarize="otsu", progress=False)
    with pytest.raises(ValueError, match="epochs"):
        rbm.fit(good, epochs=0, progress=False)
    with pytest.raises(ValueError, match="validation"):
        rbm.fit(good, epochs=1, validation=good[:, :5], progress=False)
    with pytest.raises(ValueError, match="x has 5 columns"):
        rbm.update(good[:, :5])
    with pytest.raises(ValueError, match="u_h"):
        rbm.gradient(good, uniforms=_uniforms(1, 9, 784, 8))
    with pytest.raises(ValueError, match="W must have shape"):
        rbm.set_weights(W=np.zeros((8, 784)))
    with pytest.raises(ValueError, match="persistent_chains"):
        rbm.persistent_chains = np.full((3, 784), 0.5)


def test_divergence_raises_floating_point_error():
    x = _binary((40, 6))
    rbm = RBM(6, 4, seed=0)
    with torch.no_grad():
        rbm.W[0, 0] = float("nan")
    with pytest.raises(FloatingPointError, match=r"training diverged in epoch 1: W contains NaN"):
        rbm.fit(x, epochs=2, progress=False)
    huge = RBM(6, 4, eta=1e38, momentum=0.9, seed=0)
    with pytest.raises(FloatingPointError, match=r"try a smaller eta \(now 1e\+38\)"):
        huge.fit(x, epochs=5, batch_size=4, progress=False)


# --------------------------------------------------------------------------- save / load


def test_save_load_roundtrip(tmp_path: Path):
    rbm = RBM(
        9,
        5,
        k=2,
        persistent=True,
        n_chains=7,
        eta=0.02,
        momentum=0.3,
        weight_decay=1e-3,
        init_std=0.05,
        seed=4,
    )
    rbm.fit(
        np.tile(bars_and_stripes(3).astype(np.float32), (3, 1)),
        epochs=2,
        batch_size=7,
        progress=False,
    )
    path = tmp_path / "sub" / "rbm.npz"
    assert rbm.save(path) == path
    assert sorted(p.name for p in path.parent.iterdir()) == ["rbm.npz"]  # no temp files left
    back = RBM.load(path)
    for name in ("W", "a", "b"):
        np.testing.assert_array_equal(back.get_weights()[name], rbm.get_weights()[name])
    for name in ("vW", "va", "vb"):
        np.testing.assert_array_equal(_np(getattr(back, name)), _np(getattr(rbm, name)))
    np.testing.assert_array_equal(back.persistent_chains, rbm.persistent_chains)
    for name in (
        "n_visible",
        "n_hidden",
        "k",
        "persistent",
        "n_chains",
        "eta",
        "momentum",
        "weight_decay",
        "init_std",
        "seed",
    ):
        assert getattr(back, name) == getattr(rbm, name), name
    # The random stream is restored too: both continue identically.
    np.testing.assert_array_equal(back.sample(3, steps=2), rbm.sample(3, steps=2))
    # A plain name without .npz is written exactly there.
    plain = RBM(3, 2, seed=1)
    assert plain.save(tmp_path / "model").is_file()
    assert RBM.load(tmp_path / "model").persistent_chains is None


def test_load_errors_name_the_path(tmp_path: Path):
    bad = tmp_path / "corrupt.npz"
    bad.write_bytes(b"this is not an npz file")
    with pytest.raises(ValueError, match="corrupt.npz"):
        RBM.load(bad)
    good = tmp_path / "good.npz"
    RBM(3, 2, seed=0).save(good)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ValueError, match="truncated.npz"):
        RBM.load(truncated)
    other = tmp_path / "other.npz"
    np.savez(other, W=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="other.npz"):
        RBM.load(other)
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        RBM.load(tmp_path / "missing.npz")
