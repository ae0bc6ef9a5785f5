"""The fixed inputs of the week 3 (VAE) exercise checks, NumPy only."""

from __future__ import annotations

import numpy as np

__all__ = ["vae_problem"]


def vae_problem(
    n: int = 6, latent: int = 3, pixels: int = 20, seed: int = 0
) -> dict[str, np.ndarray]:
    """The fixed inputs of the week 3 checks, float32 NumPy arrays (each framework converts
    them).

    ``x`` [n, pixels] binary images (``n != latent != pixels``, so that a sum or a mean over
    the wrong axis shows as a wrong shape or value); the encoder's outputs ``mean`` and
    ``log_var`` [n, latent], ``log_var`` of both signs (so that ``exp(log_var)``,
    ``exp(log_var / 2)`` and ``log_var`` itself all differ); the noise ``eps`` [n, latent];
    decoder ``logits`` [n, pixels] of order one (``sigmoid`` of them is far from 0 and 1, so
    that probabilities and logits differ); ``probe`` [n, latent], fixed weights whose product
    with ``z`` gives the scalar whose gradient the checks compare; and a linear encoder
    ``W_enc`` [pixels, 2 latent], ``b_enc`` [2 latent] whose output is ``[mean, log_var]``.
    """
    rng = np.random.default_rng(seed)
    arrays = {
        "x": rng.random((n, pixels)) < 0.4,
        "mean": rng.normal(0, 1, (n, latent)),
        "log_var": rng.normal(0, 1, (n, latent)),
        "eps": rng.normal(0, 1, (n, latent)),
        "logits": rng.normal(0, 1.5, (n, pixels)),
        "probe": rng.normal(0, 1, (n, latent)),
        "W_enc": rng.normal(0, 0.4, (pixels, 2 * latent)),
        "b_enc": rng.normal(0, 0.5, 2 * latent),
    }
    return {name: np.asarray(value, dtype=np.float32) for name, value in arrays.items()}
