"""coursekit.torch.VAE and coursekit.keras.VAE compute the same ELBO number for number.

Given the same encoder outputs, decoder outputs and noise, the two ELBO functions agree; given
the same MLP weights and noise, the two models give the same ELBO terms and IWAE estimates.
Runs on either Keras backend (``make test`` runs it under both).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import torch

from coursekit.keras import VAE as KerasVAE
from coursekit.keras import vae as kv
from coursekit.torch import VAE as TorchVAE
from coursekit.torch import vae as tv

pytestmark = pytest.mark.keras
TOL = {"rtol": 1e-5, "atol": 1e-4}


def _np(t) -> np.ndarray:
    if hasattr(t, "detach"):
        return t.detach().cpu().numpy()
    return np.asarray(keras.ops.convert_to_numpy(t))


def test_elbo_functions_agree_on_the_same_encoder_decoder_outputs_and_noise():
    rng = np.random.default_rng(0)
    f32 = np.float32
    x = (rng.random((6, 784)) < 0.2).astype(f32)
    mean = rng.normal(size=(6, 4)).astype(f32)
    log_var = rng.normal(0, 0.7, (6, 4)).astype(f32)
    eps = rng.normal(size=(6, 4)).astype(f32)
    logits = rng.normal(0, 4, (6, 784)).astype(f32)
    for a, b in zip(
        tv.elbo_terms(*map(torch.from_numpy, (x, mean, log_var, logits))),
        kv.elbo_terms(x, mean, log_var, logits),
        strict=True,
    ):
        np.testing.assert_allclose(_np(a), _np(b), **TOL)
    z_t = tv.reparameterize(*map(torch.from_numpy, (mean, log_var, eps)))
    np.testing.assert_allclose(_np(z_t), _np(kv.reparameterize(mean, log_var, eps)), **TOL)


def _copy_mlp(source: TorchVAE, target: KerasVAE) -> None:
    """Torch Linear layers (weight [out, in]) into Keras Dense layers (kernel [in, out])."""
    linears = [m for m in (*source.encoder, *source.decoder) if isinstance(m, torch.nn.Linear)]
    dense = [
        layer for net in (target.encoder, target.decoder) for layer in net.layers
        if isinstance(layer, keras.layers.Dense)
    ]  # fmt: skip
    assert len(linears) == len(dense) == 4
    for lin, den in zip(linears, dense, strict=True):
        den.set_weights([lin.weight.detach().numpy().T, lin.bias.detach().numpy()])


def test_models_with_the_same_weights_and_noise_agree():
    t_vae = TorchVAE(3, arch="mlp", hidden=20, seed=0)
    k_vae = KerasVAE(3, arch="mlp", hidden=20, seed=1)
    _copy_mlp(t_vae, k_vae)
    rng = np.random.default_rng(1)
    x = (rng.random((5, 784)) < 0.3).astype(np.float32)
    eps = rng.normal(size=(5, 3)).astype(np.float32)

    out = t_vae(torch.from_numpy(x), eps=torch.from_numpy(eps))
    t_terms = tv.elbo_terms(torch.from_numpy(x), out["mean"], out["log_var"], out["logits"])
    mean, log_var = k_vae.encoder_params(x)
    logits = k_vae.decoder(kv.reparameterize(mean, log_var, eps))
    k_terms = kv.elbo_terms(x, mean, log_var, logits)
    for a, b in zip(t_terms, k_terms, strict=True):
        np.testing.assert_allclose(_np(a), _np(b), **TOL)

    noise = rng.normal(size=(5, 40, 3)).astype(np.float32)
    np.testing.assert_allclose(
        t_vae.log_likelihood(x, k=40, eps=noise), k_vae.log_likelihood(x, k=40, eps=noise), **TOL
    )
    np.testing.assert_allclose(t_vae.embed(x), k_vae.embed(x), **TOL)
