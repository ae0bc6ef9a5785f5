"""Week 3's checks (the VAE), Keras: the student's function against coursekit's, on the current
Keras backend (tensorflow or torch).

Each check builds fixed inputs (:func:`coursekit.common.exercises.vae_problem`, the numbers of
the PyTorch checks), runs the student's function and coursekit's verified one
(:mod:`coursekit.keras.vae`) on them, and prints one pass line, or stops with one message that
says what differs in the lecture's terms::

    from coursekit.keras import exercises as ex
    ex.check_reparameterize(reparameterize)       # values, and gradients by mean and log_var
    ex.check_kl_divergence(kl_divergence)
    ex.check_bernoulli_log_prob(bernoulli_log_prob)

The encoder returns ``mean`` and ``log_var = log sigma^2`` [n, k], so ``sigma = exp(log_var /
2)``; the decoder returns logits ``l`` [n, pixels], ``p(x_i = 1|h) = sigmoid(l_i)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from keras import ops

from coursekit.checks import to_numpy
from coursekit.common import exercises
from coursekit.common.exercises import NotYetRight, call_student, verdict
from coursekit.keras.autodiff import loss_and_grads
from coursekit.keras.vae import bernoulli_log_prob, kl_standard_normal, reparameterize

__all__ = [
    "check_bernoulli_log_prob",
    "check_kl_divergence",
    "check_reparameterize",
    "vae_problem",
]

REPARAMETERIZE = "reparameterize(mean, log_var, eps) -> z [n, k]"
KL = "kl_divergence(mean, log_var) -> kl [n]"
BERNOULLI = "bernoulli_log_prob(x, logits) -> log p(x|z) [n]"
NEGATIVE = (
    "log_var = log sigma^2 is negative where sigma < 1: its square root or logarithm is NaN. "
    "It is the logarithm of the variance: sigma^2 = exp(log_var), sigma = exp(log_var / 2)"
)


def vae_problem(**sizes: int) -> dict[str, Any]:
    """The fixed inputs of the VAE checks (:func:`coursekit.common.exercises.vae_problem`) as
    float32 backend tensors."""
    return {name: ops.convert_to_tensor(v) for name, v in exercises.vae_problem(**sizes).items()}


def _finite(name: str, value: Any, hint: str) -> None:
    """Stop with ``hint`` when the student's output holds NaN or infinite values."""
    try:
        arr = np.asarray(to_numpy(value), dtype=np.float64)
    except (TypeError, ValueError):
        return  # the verdict names what it is
    if not np.all(np.isfinite(arr)):
        raise NotYetRight(f"{name}: the result contains NaN or infinite values. {hint}")


def check_reparameterize(reparameterize_fn: Callable[..., Any]) -> None:
    """Check ``reparameterize(mean, log_var, eps) -> z``: ``z = mean + exp(log_var / 2) * eps``
    [n, k], a draw from ``Q(h|x)`` through which gradients reach the mean and the
    log-variance (the reparameterisation trick). The check compares ``z`` and the gradients of
    ``sum(z * probe)`` with respect to ``mean`` and ``log_var``."""
    p = vae_problem()
    variables = [keras.Variable(p["mean"], name="mean"), keras.Variable(p["log_var"], name="lv")]

    def student() -> tuple[Any, Any]:
        mean, log_var = (v.value for v in variables)
        z = call_student(reparameterize_fn, "reparameterize", REPARAMETERIZE, mean, log_var,
                         p["eps"])  # fmt: skip
        _finite("reparameterize", z, NEGATIVE)
        if tuple(getattr(z, "shape", ())) != tuple(p["eps"].shape):  # the verdict names it
            return ops.sum(mean) * 0.0 + ops.sum(log_var) * 0.0, z
        return ops.sum(z * p["probe"]), z

    try:
        _, z, grads = loss_and_grads(student, variables)
    except RuntimeError as err:  # torch: z depends on neither variable
        if "does not require grad" not in str(err):
            raise
        grads = [None, None]
        z = student()[1]
    missing = [name for name, g in zip(("mean", "log_var"), grads, strict=True) if g is None]
    if len(missing) == 2:
        raise NotYetRight(
            "reparameterize: z carries no gradient back to the encoder (ops.stop_gradient, or a "
            "draw from keras.random around mean and sigma instead of through them?), so the "
            "reconstruction term cannot train it: z = mean + exp(log_var / 2) * eps"
        )
    zeros = ops.zeros_like(p["mean"])
    got = {"z": z, "gradient by mean": zeros if grads[0] is None else grads[0],
           "gradient by log_var": zeros if grads[1] is None else grads[1]}  # fmt: skip
    mean, log_var, eps, probe = p["mean"], p["log_var"], p["eps"], p["probe"]
    sigma = ops.exp(0.5 * log_var)

    def outcome(z: Any, d_mean: float = 1.0, d_lv: Any = None) -> dict:
        return {"z": z, "gradient by mean": probe * d_mean,
                "gradient by log_var": probe * eps * sigma / 2 if d_lv is None else d_lv}

    want = outcome(reparameterize(mean, log_var, eps))
    mistakes = {
        "z = mean + exp(log_var) * eps: exp(log_var) is the variance sigma^2; the noise is "
        "scaled by the standard deviation sigma = exp(log_var / 2)": {
            "z": mean + ops.exp(log_var) * eps},
        "z = mean + log_var * eps: log_var is the logarithm of the variance, not the standard "
        "deviation; sigma = exp(log_var / 2)": {"z": mean + log_var * eps},
        "z = mean + eps: the noise is not scaled by sigma = exp(log_var / 2)": {
            "z": mean + eps},
        "z = mean + sigma: the noise eps is missing; z = mean + exp(log_var / 2) * eps": {
            "z": mean + sigma},
        "z = mean: no noise; a VAE draws z = mean + exp(log_var / 2) * eps": {"z": mean},
        "z has the right values, but its gradient does not reach the mean (stop_gradient?)":
            outcome(want["z"], d_mean=0.0),
        "z has the right values, but its gradient does not reach log_var (stop_gradient?)":
            outcome(want["z"], d_lv=zeros),
    }  # fmt: skip
    print(verdict("reparameterize", got, want, mistakes))


def check_kl_divergence(kl_divergence: Callable[..., Any]) -> None:
    """Check ``kl_divergence(mean, log_var) -> kl``: ``D[N(mean, diag(sigma^2)) || N(0, I)]
    = 1/2 sum_j (sigma_j^2 + mean_j^2 - 1 - log sigma_j^2)`` for each row [n], summed over the
    k latent variables, with ``sigma^2 = exp(log_var)``."""
    p = vae_problem()
    mean, log_var = p["mean"], p["log_var"]
    kl = call_student(kl_divergence, "kl_divergence", KL, mean, log_var)
    _finite("kl_divergence", kl, NEGATIVE)
    want = kl_standard_normal(mean, log_var)
    k = int(mean.shape[1])
    sq = ops.square(mean)
    mistakes = {
        "the sign is flipped: D = 1/2 sum_j (sigma_j^2 + mean_j^2 - 1 - log sigma_j^2) >= 0 "
        "(the keras.io form: -1/2 sum_j (1 + log_var - mean^2 - exp(log_var)))": {"kl": -want},
        "the factor 1/2 is missing": {"kl": 2.0 * want},
        "log_var is read as log sigma: sigma^2 = exp(2 log_var); it is log sigma^2, so "
        "sigma^2 = exp(log_var)": {"kl": 0.5 * ops.sum(ops.exp(2.0 * log_var) + sq - 1.0
                                                        - 2.0 * log_var, axis=1)},
        f"a mean over the latent variables; the KL of independent coordinates is their sum "
        f"(over the k = {k} columns)": {"kl": want / k},
        "the -1 per latent variable is missing (then D is not 0 at Q = p(h))": {
            "kl": want + 0.5 * k},
        "exp(log_var / 2) = sigma is used where sigma^2 = exp(log_var) belongs": {
            "kl": 0.5 * ops.sum(ops.exp(0.5 * log_var) + sq - 1.0 - 0.5 * log_var, axis=1)},
    }  # fmt: skip
    print(verdict("kl_divergence", {"kl": kl}, {"kl": want}, mistakes))


def check_bernoulli_log_prob(bernoulli_log_prob_fn: Callable[..., Any]) -> None:
    """Check ``bernoulli_log_prob(x, logits) -> log p(x|z)``: ``sum_i x_i log sigmoid(l_i) +
    (1 - x_i) log(1 - sigmoid(l_i)) = sum_i x_i l_i - softplus(l_i)`` for each row [n],
    summed over the pixels."""
    p = vae_problem()
    x, logits = p["x"], p["logits"]
    got = call_student(bernoulli_log_prob_fn, "bernoulli_log_prob", BERNOULLI, x, logits)
    _finite("bernoulli_log_prob", got, "log(sigmoid(l)) underflows for large |l|: write "
            "x * l - softplus(l) (keras.ops.softplus is stable)")  # fmt: skip
    want = bernoulli_log_prob(x, logits)
    pixels = int(x.shape[1])
    probs = ops.sigmoid(logits)
    keras_bce = keras.losses.binary_crossentropy(x, logits)  # from_logits=False: a mistake
    mistakes = {
        "the sign is flipped: this is the binary cross-entropy; log p(x|z) is minus it": {
            "log_p": -want},
        "probabilities are passed where logits belong (sigmoid applied twice): the decoder "
        "returns logits; log p = x * l - softplus(l)": {
            "log_p": bernoulli_log_prob(x, probs)},
        f"a mean over the pixels; log p(x|z) sums the {pixels} pixels (a mean weights the KL "
        f"term {pixels} times too much, a beta-VAE by accident)": {"log_p": want / pixels},
        "the (1 - x_i) log(1 - sigmoid(l_i)) part is missing: the pixels that are 0 count "
        "too": {"log_p": ops.sum(x * ops.log_sigmoid(logits), axis=1)},
        "keras.losses.binary_crossentropy without from_logits=True: it takes probabilities, "
        "averages over the pixels and is minus the log-likelihood; write x * l - "
        "softplus(l) summed over the pixels": {"log_p": keras_bce},
        "keras.losses.binary_crossentropy(..., from_logits=True) averages over the pixels and "
        "is minus the log-likelihood: multiply by -(number of pixels)": {
            "log_p": -want / pixels},
    }  # fmt: skip
    print(verdict("bernoulli_log_prob", {"log_p": got}, {"log_p": want}, mistakes))
