"""Week 3's checks (the VAE), PyTorch: the student's function against coursekit's.

Each check builds fixed inputs (:func:`coursekit.common.exercises.vae_problem`: binary images,
encoder outputs with log-variances of both signs, the noise ``eps``, decoder logits), runs the
student's function and coursekit's verified one (:mod:`coursekit.torch.vae`) on them, and prints
one pass line, or stops with one message that says what differs in the lecture's terms::

    from coursekit.torch import exercises as ex
    ex.check_encode(encode)                 # Q(h|x) as a torch.distributions.Normal
    ex.check_reparameterize(reparameterize) # z = mu + sigma * eps, values and gradients
    ex.check_elbo(elbo)                     # batch means of the ELBO and its two terms

The encoder's output is ``[mean, log_var]`` (``log_var = log sigma^2``), so ``sigma =
exp(log_var / 2)``; the decoder returns logits ``l``, ``p(x_i = 1|h) = sigmoid(l_i)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.nn import functional as nnf

from coursekit.common import exercises
from coursekit.common.exercises import NotYetRight, call_student, return_error, verdict
from coursekit.torch.vae import bernoulli_log_prob, kl_standard_normal

__all__ = ["check_elbo", "check_encode", "check_reparameterize", "vae_problem"]

ENCODE = "encode(encoder, x) -> torch.distributions.Normal [n, k]"
REPARAMETERIZE = "reparameterize(q, eps) -> z [n, k]"
ELBO = "elbo(x, q, logits) -> (elbo, reconstruction, kl), three scalars (batch means)"
SIGMA = "sigma = exp(log_var / 2)"


def vae_problem(**sizes: int) -> dict[str, torch.Tensor]:
    """The fixed inputs of the VAE checks (:func:`coursekit.common.exercises.vae_problem`) as
    float32 tensors."""
    return {name: torch.from_numpy(v) for name, v in exercises.vae_problem(**sizes).items()}


def _leaves(p: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    return (p["mean"].clone().requires_grad_(True), p["log_var"].clone().requires_grad_(True))


def _normal(mean: torch.Tensor, log_var: torch.Tensor) -> torch.distributions.Normal:
    return torch.distributions.Normal(mean, (0.5 * log_var).exp())


def check_encode(encode: Callable[..., Any]) -> None:
    """Check ``encode(encoder, x) -> Q``: ``encoder(x)`` [n, 2k] holds ``[mean, log_var]``
    (the first k columns the mean, the last k ``log sigma^2``); ``Q`` is
    ``torch.distributions.Normal(loc=mean, scale=sigma)`` with ``sigma = exp(log_var / 2)``."""
    p = vae_problem()
    encoder = torch.nn.Linear(*p["W_enc"].shape)
    with torch.no_grad():
        encoder.weight.copy_(p["W_enc"].T)
        encoder.bias.copy_(p["b_enc"])
    try:
        q = call_student(encode, "encode", ENCODE, encoder, p["x"].clone())
    except NotYetRight as err:
        if "parameter scale" not in str(err):
            raise
        raise NotYetRight(
            "encode: Normal refused its scale: the scale is the standard deviation, which must "
            f"be positive; log_var = log sigma^2 can be negative, so {SIGMA}"
        ) from None
    if not isinstance(q, torch.distributions.Normal):
        raise return_error("encode", "a torch.distributions.Normal(loc=mean, scale=sigma)", q)
    k = p["mean"].shape[1]
    with torch.no_grad():
        out = encoder(p["x"])
    mean, log_var = out[:, :k], out[:, k:]
    want = {"loc": mean, "scale": (0.5 * log_var).exp()}
    mistakes = {
        "the scale is exp(log_var), the variance sigma^2; Normal takes the standard deviation "
        f"(the lecture notes' encoder outputs log sigma; this one outputs log sigma^2): {SIGMA}":
            {"scale": log_var.exp()},
        "mean and log_var are swapped: the first k columns of encoder(x) are the mean, the "
        "last k the log-variance": {"loc": log_var, "scale": (0.5 * mean).exp()},
        "the scale is the inverse of sigma: exp(-log_var / 2) is 1 / sigma; "
        f"{SIGMA}": {"scale": (-0.5 * log_var).exp()},
    }  # fmt: skip
    got = {"loc": q.loc, "scale": q.scale}
    print(verdict("encode", got, want, mistakes))


def check_reparameterize(reparameterize: Callable[..., Any]) -> None:
    """Check ``reparameterize(q, eps) -> z``: ``z = q.loc + q.scale * eps`` [n, k], a draw from
    ``q`` through which gradients reach the encoder's mean and log-variance (the
    reparameterisation trick). The check compares ``z`` and the gradients of
    ``sum(z * probe)`` with respect to ``mean`` and ``log_var``."""
    p = vae_problem()
    mean, log_var = _leaves(p)
    with torch.random.fork_rng(devices=[]):  # a student's own draw is repeatable: name it
        torch.manual_seed(0)
        z = call_student(reparameterize, "reparameterize", REPARAMETERIZE,
                         _normal(mean, log_var), p["eps"].clone())  # fmt: skip
        torch.manual_seed(0)
        own_noise = _normal(*_leaves(p)).rsample()
    if isinstance(z, torch.Tensor) and z.shape == p["eps"].shape and not z.requires_grad:
        raise NotYetRight(
            "reparameterize: z carries no gradient back to the encoder, so the reconstruction "
            "term cannot train it. q.sample() (or a .detach()) cuts the path; write z = q.loc + "
            "q.scale * eps, a function of the mean and sigma (what q.rsample() does)"
        )
    got = _with_grads(z, mean, log_var, p["probe"])
    sigma = (0.5 * p["log_var"]).exp()

    def outcome(z: torch.Tensor, d_mean: Any = 1.0, d_log_var: Any = None) -> dict:
        d_lv = p["probe"] * p["eps"] * sigma / 2 if d_log_var is None else d_log_var
        return {"z": z, "gradient by mean": p["probe"] * d_mean, "gradient by log_var": d_lv}

    want = outcome(p["mean"] + sigma * p["eps"])
    zero = torch.zeros_like(p["eps"])
    mistakes = {
        "z ignores the eps given: q.rsample() draws its own noise; write z = q.loc + q.scale * "
        "eps, so that the noise is an input (the check and the parity cell pass the same eps)":
            {"z": own_noise.detach()},
        "z = mean + sigma^2 * eps: the noise is scaled by the variance (q.variance); it is "
        "scaled by the standard deviation q.scale": {"z": p["mean"] + sigma**2 * p["eps"]},
        "z = mean + eps: the noise is not scaled by sigma = q.scale": {
            "z": p["mean"] + p["eps"]},
        "z = mean: no noise; a VAE draws z = mean + sigma * eps": {"z": p["mean"]},
        "z has the right values, but its gradient does not reach the mean (detached?); "
        "z = q.loc + q.scale * eps": outcome(want["z"], d_mean=0.0),
        "z has the right values, but its gradient does not reach sigma (detached?); "
        "z = q.loc + q.scale * eps": outcome(want["z"], d_log_var=zero),
    }  # fmt: skip
    print(verdict("reparameterize", got, want, mistakes))


def _with_grads(z: Any, mean: torch.Tensor, log_var: torch.Tensor, probe: torch.Tensor) -> dict:
    """``z`` and the gradients of ``sum(z * probe)`` by ``mean`` and ``log_var`` (zeros where
    ``z`` does not depend on one)."""
    grads: list[Any] = [torch.zeros_like(mean), torch.zeros_like(log_var)]
    if isinstance(z, torch.Tensor) and z.shape == probe.shape and z.requires_grad:
        found = torch.autograd.grad((z * probe).sum(), [mean, log_var], allow_unused=True)
        grads = [torch.zeros_like(mean) if g is None else g for g in found]
    return {"z": z, "gradient by mean": grads[0], "gradient by log_var": grads[1]}


def _elbo_terms(x: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor,
                logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Batch means of ``log p(x|z)`` and ``D[Q(h|x) || p(h)]``, coursekit's."""
    return bernoulli_log_prob(x, logits).mean(), kl_standard_normal(mean, log_var).mean()


def check_elbo(elbo: Callable[..., Any]) -> None:
    """Check ``elbo(x, q, logits) -> (elbo, reconstruction, kl)``: the batch means of
    ``log p(x|z) = sum_i x_i log sigmoid(l_i) + (1 - x_i) log(1 - sigmoid(l_i))`` (summed over
    the pixels) and of ``D[Q(h|x) || N(0, I)] = 1/2 sum_j (sigma_j^2 + mu_j^2 - 1 - log
    sigma_j^2)``, and ``elbo = reconstruction - kl``; also the gradients of ``elbo`` with
    respect to the logits, the mean and the log-variance."""
    p = vae_problem()
    mean, log_var = _leaves(p)
    logits = p["logits"].clone().requires_grad_(True)
    x = p["x"].clone()
    out = call_student(elbo, "elbo", ELBO, x, _normal(mean, log_var), logits)
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise return_error("elbo", "three scalars (elbo, reconstruction, kl)", out)
    got = dict(zip(("elbo", "reconstruction", "kl"), out, strict=True))
    for key, value in got.items():
        if not isinstance(value, torch.Tensor):
            raise NotYetRight(f"elbo: {key} is a {type(value).__name__}; expected a scalar "
                              "tensor (no .item(): a Python number has no gradient)")  # fmt: skip
        if value.dim() != 0:
            raise NotYetRight(f"elbo: {key} has shape {tuple(value.shape)}; expected a scalar, "
                              "the mean over the batch (sum over the pixels first)")  # fmt: skip
    found = [None, None, None]
    if got["elbo"].requires_grad:
        found = torch.autograd.grad(got["elbo"], [logits, mean, log_var], allow_unused=True)
    missing = [n for n, g in zip(("logits", "mean", "log_var"), found, strict=True) if g is None]
    if missing:
        raise NotYetRight(f"elbo: the ELBO does not depend on {', '.join(missing)} (a "
                          ".detach() or NumPy on the way?)")  # fmt: skip
    got.update(zip(("gradient by logits", "gradient by mean", "gradient by log_var"),
                   found, strict=True))  # fmt: skip
    x, m, lv, lg = p["x"], p["mean"], p["log_var"], p["logits"]
    rec, kl = _elbo_terms(x, m, lv, lg)
    want = _full(rec, kl, x, m, lv, lg)
    n, pixels = x.shape
    sigma = (0.5 * lv).exp()
    rec_p = bernoulli_log_prob(x, torch.sigmoid(lg)).mean()
    rec_x_only = (x * nnf.logsigmoid(lg)).sum(1).mean()
    kl_sigma = 0.5 * (sigma + m.square() - 1.0 - sigma.log()).sum(1).mean()

    def terms(r: torch.Tensor, k: torch.Tensor, e: torch.Tensor | None = None) -> dict:
        return {"elbo": r - k if e is None else e, "reconstruction": r, "kl": k}

    mistakes = {
        "the KL term is added: the ELBO is reconstruction - kl": terms(rec, kl, rec + kl),
        "the KL term has the wrong sign: D[Q || N(0, I)] = 1/2 sum_j (sigma_j^2 + mu_j^2 - 1 - "
        "log sigma_j^2) >= 0 (the keras.io form is -1/2 sum_j (1 + log sigma^2 - mu^2 - "
        "sigma^2))": terms(rec, -kl),
        "the KL term lacks the factor 1/2": terms(rec, 2 * kl),
        "the KL term uses sigma where sigma^2 belongs: 1/2 sum_j (sigma_j^2 + mu_j^2 - 1 - "
        "log sigma_j^2), with sigma^2 = q.variance": terms(rec, kl_sigma),
        "the reconstruction term has the wrong sign: it is the log-likelihood log p(x|z), minus "
        "the binary cross-entropy": terms(-rec, kl),
        "probabilities are passed where logits belong (sigmoid applied twice): the decoder "
        "returns logits; use them as they are (binary_cross_entropy_with_logits)":
            terms(rec_p, kl),
        "the reconstruction term is a mean over the pixels; log p(x|z) sums them (a mean "
        f"weights the KL term {pixels} times too much, a beta-VAE by accident)":
            terms(rec / pixels, kl),
        "the reconstruction term misses the (1 - x_i) log(1 - sigmoid(l_i)) part: the pixels "
        "that are 0 count too": terms(rec_x_only, kl),
        f"these are sums over the batch; the loss is a mean over its {n} images":
            terms(rec * n, kl * n),
    }  # fmt: skip
    print(verdict("elbo", got, want, mistakes))


def _full(rec: torch.Tensor, kl: torch.Tensor, x: torch.Tensor, mean: torch.Tensor,
          log_var: torch.Tensor, logits: torch.Tensor) -> dict:  # fmt: skip
    """coursekit's terms and the ELBO's gradients (by autograd on its own functions)."""
    leaves = [t.clone().requires_grad_(True) for t in (logits, mean, log_var)]
    r, k = _elbo_terms(x, leaves[1], leaves[2], leaves[0])
    grads = torch.autograd.grad(r - k, leaves)
    return {"elbo": rec - kl, "reconstruction": rec, "kl": kl,
            "gradient by logits": grads[0], "gradient by mean": grads[1],
            "gradient by log_var": grads[2]}  # fmt: skip
