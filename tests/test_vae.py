"""coursekit.torch.VAE: its maths against the NumPy reference, training, evaluation, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from coursekit.reference import vae as ref
from coursekit.torch import VAE
from coursekit.torch import vae as tv


def _blobs(n: int = 256, seed: int = 0) -> np.ndarray:
    """Two kinds of 28x28 'images' (a bar left or right) with grey noise: learnable in seconds."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 28, 28)).astype(np.float32) * 0.1
    left = rng.random(n) < 0.5
    x[left, :, 4:10] = 0.95
    x[~left, :, 18:24] = 0.95
    return x.reshape(n, 784)


def test_elbo_functions_match_the_reference():
    rng = np.random.default_rng(0)
    x = (rng.random((4, 784)) < 0.3).astype(np.float32)
    mean, log_var = rng.normal(size=(4, 3)), rng.normal(0, 0.5, (4, 3))
    logits, eps = rng.normal(0, 2, (4, 784)), rng.normal(size=(4, 3))
    t = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    rec, kl = tv.elbo_terms(t(x), t(mean), t(log_var), t(logits))
    ref_rec, ref_kl = ref.elbo_terms(x, mean, log_var, logits)
    np.testing.assert_allclose(rec.numpy(), ref_rec, rtol=1e-10)
    np.testing.assert_allclose(kl.numpy(), ref_kl, rtol=1e-10)
    z = tv.reparameterize(t(mean), t(log_var), t(eps)).numpy()
    np.testing.assert_allclose(z, ref.reparameterize(mean, log_var, eps), rtol=1e-12)


def test_encoder_returns_a_normal_whose_kl_is_the_closed_form():
    vae = VAE(5, seed=0)
    x = torch.from_numpy(_blobs(8))
    q = vae.encode(x)
    assert isinstance(q, torch.distributions.Normal) and q.loc.shape == (8, 5)
    prior = torch.distributions.Normal(torch.zeros(8, 5), torch.ones(8, 5))
    mean, log_var = vae.encoder_params(x)
    torch.testing.assert_close(
        torch.distributions.kl_divergence(q, prior).sum(-1), tv.kl_standard_normal(mean, log_var)
    )


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_shapes_of_both_architectures(arch):
    vae = VAE(3, arch=arch, hidden=32, seed=0)
    x = _blobs(6)
    out = vae(torch.from_numpy(x))
    assert out["logits"].shape == (6, 784) and out["z"].shape == (6, 3)
    assert vae.sample(4, seed=1).shape == (4, 784)
    assert vae.embed(x.reshape(6, 28, 28)).shape == (6, 3)
    assert vae.reconstruct(x.reshape(6, 1, 28, 28)).shape == (6, 784)
    assert vae.log_likelihood((x > 0.5).astype(np.float32), k=7).shape == (6,)


def test_training_raises_the_elbo_and_records_both_terms():
    x = _blobs(512)
    vae = VAE(2, hidden=64, seed=0)
    before = vae.elbo(x > 0.5)
    history = vae.fit(x, epochs=4, batch_size=64, validation=x[:100], progress=False, seed=0)
    assert history["updates"] == [8, 16, 24, 32] and vae.updates == 32
    for key in ("loss", "reconstruction", "kl", "val_elbo"):
        assert len(history[key]) == 4 and np.all(np.isfinite(history[key]))
    np.testing.assert_allclose(
        history["loss"], np.array(history["kl"]) - history["reconstruction"], rtol=1e-5
    )
    assert history["loss"][-1] < history["loss"][0] - 50
    assert vae.elbo(x > 0.5) > before + 50


def test_seeded_training_repeats_exactly():
    x = _blobs(128)
    runs = [VAE(2, hidden=16, seed=3).fit(x, epochs=2, progress=False)["loss"] for _ in range(2)]
    assert runs[0] == runs[1]


def test_iwae_estimate_is_batched_exactly_and_matches_the_reference():
    x = (_blobs(12, seed=1) > 0.5).astype(np.float32)
    vae = VAE(2, hidden=32, seed=0)
    vae.fit(_blobs(256), epochs=3, batch_size=32, progress=False)
    k = 50
    eps = np.random.default_rng(5).standard_normal((len(x), k, 2)).astype(np.float32)
    whole = vae.log_likelihood(x, k=k, eps=eps)
    for max_rows in (7, 64, 100):  # K split over passes, several images per pass
        np.testing.assert_allclose(vae.log_likelihood(x, k=k, max_rows=max_rows, eps=eps), whole,
                                   rtol=1e-6)  # fmt: skip
    # the same estimate from the reference maths
    with torch.no_grad():
        mean, log_var = (t.double().numpy() for t in vae.encoder_params(torch.from_numpy(x)))
        z = ref.reparameterize(mean[:, None], log_var[:, None], eps)
        logits = vae.decode(torch.from_numpy(z.reshape(-1, 2)).float()).double().numpy()
    log_w = (
        ref.bernoulli_log_prob(x[:, None], logits.reshape(len(x), k, 784))
        + ref.diag_gaussian_log_prob(z, np.zeros(2), np.zeros(2))
        - ref.diag_gaussian_log_prob(z, mean[:, None], log_var[:, None])
    )
    np.testing.assert_allclose(whole, ref.iwae_bound(log_w), rtol=1e-5)


def test_iwae_estimate_rises_with_k():
    x = (_blobs(40, seed=1) > 0.5).astype(np.float32)
    vae = VAE(2, hidden=32, seed=0)
    vae.fit(_blobs(256), epochs=3, batch_size=32, progress=False)
    k1 = vae.log_likelihood(x, k=1, seed=3)
    assert abs(k1.mean() - vae.elbo(x)) < 5  # two one-sample estimates of the same ELBO
    assert vae.log_likelihood(x, k=100, seed=4).mean() > k1.mean()


def test_bad_input_is_refused_with_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="latent_dim"):
        VAE(0)
    with pytest.raises(ValueError, match="arch"):
        VAE(2, arch="rnn")
    vae = VAE(2, hidden=8, seed=0)
    with pytest.raises(ValueError, match="shape"):
        vae.fit(np.zeros((10, 30, 30), np.float32), epochs=1)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        vae.fit(np.full((10, 784), 1.5, np.float32), epochs=1)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        vae.elbo(torch.full((3, 784), -0.1))
    with pytest.raises(ValueError, match="uint8"):
        vae.embed(np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="k"):
        vae.log_likelihood(np.zeros((2, 784), np.float32), k=0)
    with pytest.raises(ValueError, match="epochs"):
        vae.fit(np.zeros((4, 784), np.float32), epochs=0)


def test_a_seed_fixes_the_weights_without_touching_the_global_generator():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    a, b = VAE(2, hidden=8, seed=4), VAE(2, hidden=8, seed=4)
    assert torch.equal(torch.rand(3), expected)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)
    assert not torch.equal(VAE(2, hidden=8, seed=5).decoder[0].weight, a.decoder[0].weight)
