"""coursekit.keras.VAE on whichever Keras backend is active (``make test`` runs both)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from coursekit.keras import VAE
from coursekit.keras import vae as kv
from coursekit.reference import vae as ref

pytestmark = pytest.mark.keras


def _np(t) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(t))


def _blobs(n: int = 256, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.random((n, 28, 28)).astype(np.float32) * 0.1
    left = rng.random(n) < 0.5
    x[left, :, 4:10] = 0.95
    x[~left, :, 18:24] = 0.95
    return x.reshape(n, 784)


def test_elbo_functions_match_the_reference():
    rng = np.random.default_rng(0)
    f32 = np.float32
    x = (rng.random((4, 784)) < 0.3).astype(f32)
    mean, log_var = rng.normal(size=(4, 3)).astype(f32), rng.normal(0, 0.5, (4, 3)).astype(f32)
    logits, eps = rng.normal(0, 2, (4, 784)).astype(f32), rng.normal(size=(4, 3)).astype(f32)
    rec, kl = kv.elbo_terms(x, mean, log_var, logits)
    ref_rec, ref_kl = ref.elbo_terms(x, mean, log_var, logits)
    np.testing.assert_allclose(_np(rec), ref_rec, rtol=1e-5)
    np.testing.assert_allclose(_np(kl), ref_kl, rtol=1e-5)
    z = _np(kv.reparameterize(mean, log_var, eps))
    np.testing.assert_allclose(z, ref.reparameterize(mean, log_var, eps), rtol=1e-6)


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_fit_lowers_the_loss_and_reports_both_terms(arch):
    x = _blobs(256)
    vae = VAE(2, arch=arch, hidden=64, seed=0)
    before = vae.elbo(x > 0.5)
    history = vae.fit(x, epochs=4, batch_size=32, verbose=0).history
    assert set(history) >= {"loss", "reconstruction", "kl"}
    assert history["loss"][-1] < history["loss"][0] - 20
    assert all(np.isfinite(history["kl"])) and min(history["kl"]) >= 0
    assert vae.updates == 32
    assert vae.elbo(x > 0.5) > before + 20


def test_shapes_sampling_and_iwae():
    vae = VAE(3, arch="conv", seed=0)
    x = (_blobs(5) > 0.5).astype(np.float32)
    assert vae.sample(4, seed=1).shape == (4, 784)
    np.testing.assert_array_equal(vae.sample(4, seed=1), vae.sample(4, seed=1))
    assert vae.embed(x.reshape(5, 28, 28, 1)).shape == (5, 3)
    assert vae.reconstruct(x).shape == (5, 784)
    eps = np.random.default_rng(0).standard_normal((5, 30, 3)).astype(np.float32)
    whole = vae.log_likelihood(x, k=30, eps=eps)
    np.testing.assert_allclose(vae.log_likelihood(x, k=30, eps=eps, max_rows=7), whole, rtol=1e-5)
    assert whole.shape == (5,) and np.all(whole < 0)


def test_bad_input_is_refused_with_clear_errors():
    with pytest.raises(ValueError, match="latent_dim"):
        VAE(0)
    vae = VAE(2, arch="mlp", hidden=8, seed=0)
    with pytest.raises(ValueError, match="shape"):
        vae.fit(np.zeros((10, 27, 28), np.float32), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        vae.fit(np.full((10, 784), 2.0, np.float32), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="uint8"):
        vae.elbo(np.zeros((2, 784), np.uint8))
    with pytest.raises(ValueError, match="k"):
        vae.log_likelihood(np.zeros((2, 784), np.float32), k=0)


def test_a_seed_fixes_the_weights_without_touching_global_seeds():
    # the legacy global state is what keras.utils.set_random_seed would have reset
    np.random.seed(7)  # noqa: NPY002
    expected = np.random.rand(3)  # noqa: NPY002
    np.random.seed(7)  # noqa: NPY002
    a, b = VAE(2, arch="mlp", hidden=8, seed=4), VAE(2, arch="mlp", hidden=8, seed=4)
    np.testing.assert_array_equal(np.random.rand(3), expected)  # noqa: NPY002
    for p, q in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(p, q)
    c = VAE(2, arch="mlp", hidden=8, seed=5)
    assert not np.array_equal(c.get_weights()[0], a.get_weights()[0])
