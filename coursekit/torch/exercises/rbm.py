"""Week 1's checks (the RBM), PyTorch: the student's function against coursekit's.

Each check builds fixed inputs (a small RBM with weights that are not tiny, binary data and
chains, the uniforms of every Bernoulli draw), runs the student's function and coursekit's
verified implementation on them, and prints one pass line, or stops with one message that says
what differs in the lecture's terms (:mod:`coursekit.common.exercises`)::

    from coursekit.torch import exercises as ex
    ex.check_cd_gradient(cd_gradient)       # ✓ cd_gradient agrees with coursekit (...)
    ex.check_momentum_step(momentum_step)

Week 1 (RBM), the lecture's notation: weights ``W`` [n_v, n_h], visible bias ``a`` [n_v],
hidden bias ``b`` [n_h]; a Bernoulli draw with probability ``p`` is ``(u < p)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from coursekit.common import exercises
from coursekit.common.exercises import call_student, return_error, verdict
from coursekit.torch.rbm import RBM

__all__ = ["check_cd_gradient", "check_momentum_step", "rbm_problem"]

CD_GRADIENT = "cd_gradient(x, chain, W, a, b, u_h, u_x) -> (dW, da, db, chain_end)"
MOMENTUM_STEP = "momentum_step(theta, velocity, grad, eta, momentum, decay) -> (theta, velocity)"


def rbm_problem(**sizes: int) -> dict[str, torch.Tensor]:
    """The fixed inputs of the RBM checks (:func:`coursekit.common.exercises.rbm_problem`) as
    float32 tensors."""
    return {name: torch.from_numpy(v) for name, v in exercises.rbm_problem(**sizes).items()}


def _reference_cd(p: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """coursekit.torch.RBM's CD-k / PCD-k estimate on the problem ``p``."""
    n_v, n_h = p["W"].shape
    rbm = RBM(n_v, n_h, k=len(p["u_h"]), persistent=True, n_chains=len(p["chain"]), seed=0)
    rbm.set_weights(W=p["W"], a=p["a"], b=p["b"])
    rbm.persistent_chains = p["chain"]
    dW, da, db = rbm.gradient(p["x"], uniforms=(p["u_h"], p["u_x"]))
    return {"dW": dW, "da": da, "db": db, "chain_end": torch.from_numpy(rbm.persistent_chains)}


def _cd_variant(
    p: dict[str, torch.Tensor], *, sample: bool = True, steps: int | None = None,
    divide: str = "mean",
) -> dict[str, torch.Tensor]:
    """A typical wrong version of CD-k (with the defaults, the right one), to name a mistake:
    probabilities instead of draws, fewer Gibbs steps, sums or the wrong count."""
    x, W, a, b, chain = p["x"], p["W"], p["a"], p["b"], p["chain"].clone()
    for s in range(len(p["u_h"]) if steps is None else steps):
        p_h = torch.sigmoid(chain @ W + b)
        h = (p["u_h"][s] < p_h).float() if sample else p_h
        p_x = torch.sigmoid(h @ W.T + a)
        chain = (p["u_x"][s] < p_x).float() if sample else p_x
    p_data, p_model = torch.sigmoid(x @ W + b), torch.sigmoid(chain @ W + b)
    n = 1.0 if divide == "sum" else float(len(x))
    m = {"sum": 1.0, "mean": float(len(chain)), "n for both": float(len(x))}[divide]
    return {
        "dW": x.T @ p_data / n - chain.T @ p_model / m,
        "da": x.sum(0) / n - chain.sum(0) / m,
        "db": p_data.sum(0) / n - p_model.sum(0) / m,
        "chain_end": chain,
    }


def check_cd_gradient(cd_gradient: Callable[..., Any]) -> None:
    """Check ``cd_gradient(x, chain, W, a, b, u_h, u_x) -> (dW, da, db, chain_end)``: the CD-k
    (PCD-k) estimate of the log-likelihood gradient, uphill, from ``k = len(u_h)`` block-Gibbs
    steps of the chains ``chain`` (step ``s`` draws ``h = (u_h[s] < p(h | x))``, then
    ``x = (u_x[s] < p(x | h))``), and the chains' end states."""
    p = rbm_problem()
    inputs = {k: v.clone() for k, v in p.items()}
    out = call_student(cd_gradient, "cd_gradient", CD_GRADIENT, *inputs.values())
    if not isinstance(out, (tuple, list)) or len(out) != 4:
        raise return_error("cd_gradient", "four tensors (dW, da, db, chain_end)", out)
    got = dict(zip(("dW", "da", "db", "chain_end"), out, strict=True))
    want = _reference_cd(p)
    flipped = {k: (-v if k != "chain_end" else v) for k, v in want.items()}
    mistakes = {
        "the gradient points downhill: it is the data's statistics minus the chains' "
        "(positive phase minus negative phase), yours is the reverse": flipped,
        "the Gibbs chain carries probabilities where it should draw binary states: "
        "h = (u_h[s] < p(h | x)), then x = (u_x[s] < p(x | h))": _cd_variant(p, sample=False),
        "these are sums over the rows; the gradient averages them: divide the data's "
        "statistics by n (its rows) and the chains' by m (the chains)": _cd_variant(
            p, divide="sum"),
        "the chains' statistics are divided by n, the number of data rows; there are m = "
        "len(chain) chains": _cd_variant(p, divide="n for both"),
        "the chains take one Gibbs step; take k = len(u_h) steps, step s drawing h with "
        "u_h[s], then x with u_x[s]": _cd_variant(p, steps=1),
    }  # fmt: skip
    print(verdict("cd_gradient", got, want, mistakes))


def check_momentum_step(momentum_step: Callable[..., Any]) -> None:
    """Check ``momentum_step(theta, velocity, grad, eta, momentum, decay) -> (theta, velocity)``:
    Hinton's rule (2010, sections 9 and 10) for one parameter, with ``grad`` the uphill
    gradient estimate: ``velocity <- momentum velocity + eta (grad - decay theta)``, then
    ``theta <- theta + velocity`` (the RBM's ``update`` applies it to ``W`` with the weight
    decay and to ``a`` and ``b`` with ``decay = 0``)."""
    rng = np.random.default_rng(1)
    theta, velocity, grad = (torch.from_numpy(rng.normal(0, 1, (5, 3)).astype(np.float32))
                             for _ in range(3))  # fmt: skip
    eta, momentum, decay = 0.1, 0.5, 0.2
    args = (theta.clone(), velocity.clone(), grad.clone(), eta, momentum, decay)
    out = call_student(momentum_step, "momentum_step", MOMENTUM_STEP, *args)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise return_error("momentum_step", "two tensors (theta, velocity)", out)
    got = dict(zip(("theta", "velocity"), out, strict=True))

    def rule(v_new: torch.Tensor, theta_step: torch.Tensor | None = None) -> dict:
        return {"theta": theta + (v_new if theta_step is None else theta_step), "velocity": v_new}

    v = momentum * velocity + eta * (grad - decay * theta)
    mistakes = {
        "the weight decay pulls theta away from zero: subtract decay * theta from the "
        "gradient": rule(momentum * velocity + eta * (grad + decay * theta)),
        "the weight decay is not scaled by eta: velocity <- momentum velocity + eta (grad - "
        "decay theta)": rule(momentum * velocity + eta * grad - decay * theta),
        "theta moves by the gradient step alone; it moves by the new velocity, which carries "
        "the momentum": rule(v, eta * (grad - decay * theta)),
        "theta moves by the old velocity; update the velocity first, then theta += velocity":
            rule(v, velocity),
        "the step goes downhill: grad is the log-likelihood's gradient, to be climbed":
            rule(momentum * velocity - eta * (grad - decay * theta)),
    }  # fmt: skip
    print(verdict("momentum_step", got, rule(v), mistakes))

