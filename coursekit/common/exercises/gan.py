"""The fixed inputs of the week 4 (GAN) exercise checks, NumPy only.

The checks run the student's losses on fixed logits and the student's training step on two
small MLPs with fixed weights (each framework builds its networks from these arrays):

* generator ``z [n, latent] -> tanh(relu(z G1 + g1) G2 + g2)``: fakes [n, data];
* discriminator ``x [n, data] -> leaky_relu(x D1 + d1, 0.2) D2 + d2``: logits [n].
"""

from __future__ import annotations

import numpy as np

__all__ = ["LEAKY", "gan_logits", "gan_problem"]

#: The negative slope of the check discriminator's leaky ReLU.
LEAKY = 0.2


def gan_logits(n_real: int = 7, n_fake: int = 5, seed: int = 0) -> dict[str, np.ndarray]:
    """Float32 logits of order one, ``logit_real`` [n_real] and ``logit_fake`` [n_fake]
    (``n_real != n_fake``, so that a mean over the wrong rows shows; some of each sign, so that
    ``D = sigmoid(logit)`` is neither 0 nor 1)."""
    rng = np.random.default_rng(seed)
    return {
        "logit_real": rng.normal(0.5, 1.2, n_real).astype(np.float32),
        "logit_fake": rng.normal(-0.5, 1.2, n_fake).astype(np.float32),
    }


def gan_problem(
    n: int = 6, latent: int = 3, data: int = 10, hidden: int = 8, seed: int = 0
) -> dict[str, np.ndarray]:
    """The fixed inputs of the training-step checks, float32 NumPy arrays: real data ``x``
    [n, data] in [-1, 1], noise ``z`` [n, latent], the weights of the two MLPs (module
    docstring; kernels ``[in, out]``), and stale gradients ``stale_<name>`` of the weights'
    shapes, left in the ``.grad`` of the PyTorch networks before the step, as the previous
    step's ``backward`` leaves them."""
    rng = np.random.default_rng(seed)
    arrays = {
        "x": np.tanh(rng.normal(0, 1.0, (n, data))),
        "z": rng.normal(0, 1, (n, latent)),
        "G1": rng.normal(0, 0.8, (latent, hidden)),
        "g1": rng.normal(0, 0.3, hidden),
        "G2": rng.normal(0, 0.6, (hidden, data)),
        "g2": rng.normal(0, 0.3, data),
        "D1": rng.normal(0, 0.6, (data, hidden)),
        "d1": rng.normal(0, 0.3, hidden),
        "D2": rng.normal(0, 0.6, (hidden, 1)),
        "d2": rng.normal(0, 0.3, 1),
    }
    for name in ("G1", "g1", "G2", "g2", "D1", "d1", "D2", "d2"):
        arrays[f"stale_{name}"] = rng.normal(0, 0.5, np.shape(arrays[name]))
    return {name: np.asarray(value, dtype=np.float32) for name, value in arrays.items()}
