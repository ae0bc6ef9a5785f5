"""Week 1's checks (the RBM), Keras: the student's function against coursekit's, on the
current Keras backend (tensorflow or torch).

Each check builds fixed inputs, runs the student's function and coursekit's verified
implementation on them, and prints one pass line, or stops with one message that says what
differs in the lecture's terms (:mod:`coursekit.common.exercises`)::

    from coursekit.keras import exercises as ex
    ex.check_free_energy(free_energy)     # ✓ free_energy agrees with coursekit (...)
    ex.check_cd_loss(cd_loss)

Week 1 (RBM) in the free-energy form of the lecture notes' Keras reference: the gradient of
``mean F(x_data) - mean F(x_chain)``, with the chain's states held fixed, is minus the CD
estimate of the log-likelihood gradient; a Bernoulli draw with probability ``p`` is ``(u < p)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
from keras import ops

from coursekit.common import exercises
from coursekit.common.exercises import NotYetRight, call_student, verdict
from coursekit.keras.autodiff import loss_and_grads
from coursekit.keras.rbm import RBM

__all__ = ["check_cd_loss", "check_free_energy", "rbm_problem"]

FREE_ENERGY = "free_energy(x, W, a, b) -> F [n]"
CD_LOSS = "cd_loss(x, chain, W, a, b, u_h, u_x) -> (loss, chain_end)"


def rbm_problem(**sizes: int) -> dict[str, Any]:
    """The fixed inputs of the RBM checks (:func:`coursekit.common.exercises.rbm_problem`, the
    numbers of the PyTorch checks) as float32 backend tensors."""
    return {name: ops.convert_to_tensor(v) for name, v in exercises.rbm_problem(**sizes).items()}


def _variables(p: dict[str, Any]) -> list[keras.Variable]:
    return [keras.Variable(p[name], name=name) for name in ("W", "a", "b")]


def _rbm(p: dict[str, Any]) -> RBM:
    n_v, n_h = (int(d) for d in p["W"].shape)
    rbm = RBM(n_v, n_h, k=int(p["u_h"].shape[0]), persistent=True,
              n_chains=int(p["chain"].shape[0]), seed=0)  # fmt: skip
    rbm.set_weights(W=p["W"], a=p["a"], b=p["b"])
    return rbm


def _free_energy(x: Any, W: Any, a: Any, b: Any, *, variant: str = "") -> Any:
    """``F(x) = -a^T x - sum_j softplus(b_j + x^T W[:, j])`` per row, or a typical wrong one."""
    visible = ops.matmul(x, a)
    hidden_input = ops.matmul(x, W) + b
    if variant == "sigmoid":
        return -visible - ops.sum(ops.sigmoid(hidden_input), axis=1)
    hidden = ops.sum(ops.softplus(hidden_input), axis=1)
    if variant == "no visible term":
        return -hidden
    if variant == "visible sign":
        return visible - hidden
    return -visible - hidden


def check_free_energy(free_energy: Callable[..., Any]) -> None:
    """Check ``free_energy(x, W, a, b) -> F``: ``F(x) = -a^T x - sum_j softplus(b_j + x^T
    W[:, j])`` for each row of ``x`` [n, n_v], summed over the hidden units: [n]."""
    p = rbm_problem()
    got = {"F": call_student(free_energy, "free_energy", FREE_ENERGY,
                             p["x"], p["W"], p["a"], p["b"])}  # fmt: skip
    want = {"F": _rbm(p).free_energy(p["x"])}
    args = (p["x"], p["W"], p["a"], p["b"])
    mistakes = {
        "the sign is flipped: F(x) = -a^T x - sum_j softplus(b_j + x^T W[:, j]) (a low "
        "free energy is a likely x)": {"F": -want["F"]},
        "the visible bias term -a^T x is missing": {"F": _free_energy(*args,
                                                                      variant="no visible term")},
        "the visible bias term has the wrong sign: it is -a^T x": {
            "F": _free_energy(*args, variant="visible sign")},
        "summing out the hidden units gives softplus(b_j + x^T W[:, j]) = log(1 + e^(...)), "
        "not a sigmoid": {"F": _free_energy(*args, variant="sigmoid")},
    }  # fmt: skip
    print(verdict("free_energy", got, want, mistakes))


def _cd_loss(
    p: dict[str, Any], variables: list[keras.Variable], *, sample: bool = True,
    detach: bool = True, steps: int | None = None, reduce: str = "mean",
) -> tuple[Any, Any]:
    """The free-energy CD loss and the chains' end, or a typical wrong version of it."""
    W, a, b = (v.value for v in variables)
    chain = p["chain"]
    for s in range(int(p["u_h"].shape[0]) if steps is None else steps):
        p_h = ops.sigmoid(ops.matmul(chain, W) + b)
        h = ops.cast(p["u_h"][s] < p_h, "float32") if sample else p_h
        p_x = ops.sigmoid(ops.matmul(h, ops.transpose(W)) + a)
        chain = ops.cast(p["u_x"][s] < p_x, "float32") if sample else p_x
    if detach:
        chain = ops.stop_gradient(chain)
    mean = ops.sum if reduce == "sum" else ops.mean
    loss = mean(_free_energy(p["x"], W, a, b)) - mean(_free_energy(chain, W, a, b))
    return loss, chain


def _outputs(fn: Callable[[], tuple[Any, Any]], variables: list[keras.Variable]) -> dict:
    """Loss, chain end and the loss's gradient with respect to ``W, a, b`` of ``fn()``."""
    try:
        loss, chain, grads = loss_and_grads(fn, variables)
    except RuntimeError as err:  # torch: a loss that depends on no parameter has no graph
        if "does not require grad" not in str(err):
            raise
        grads = [None, None, None]
    missing = [name for name, grad in zip("Wab", grads, strict=True) if grad is None]
    if missing:
        raise NotYetRight(
            f"cd_loss: the loss does not depend on {', '.join(missing)}; it is mean F(x) - mean "
            "F(chain_end), and F depends on W, a and b"
        )
    out = {"loss": loss, "chain_end": chain}
    for name, grad in zip("Wab", grads, strict=True):
        out[f"gradient of the loss by {name}"] = grad
    return out


def check_cd_loss(cd_loss: Callable[..., Any]) -> None:
    """Check ``cd_loss(x, chain, W, a, b, u_h, u_x) -> (loss, chain_end)``: run ``k =
    len(u_h)`` block-Gibbs steps of the chains ``chain`` (step ``s`` draws ``h = (u_h[s] <
    p(h | x))``, then ``x = (u_x[s] < p(x | h))``), hold the end states fixed
    (``keras.ops.stop_gradient``) and return ``mean F(x) - mean F(chain_end)`` and the end
    states. Its gradient with respect to ``W, a, b`` must be minus coursekit's CD estimate."""
    p = rbm_problem()
    student_vars = _variables(p)

    def student() -> tuple[Any, Any]:
        W, a, b = (v.value for v in student_vars)
        out = call_student(cd_loss, "cd_loss", CD_LOSS, p["x"], p["chain"], W, a, b,
                           p["u_h"], p["u_x"])  # fmt: skip
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise NotYetRight("cd_loss must return two values: (loss, chain_end)")
        loss, chain = out
        if len(tuple(ops.shape(loss))) != 0:
            raise NotYetRight(f"cd_loss: the loss must be a scalar, got shape {ops.shape(loss)}")
        return loss, chain

    got = _outputs(student, student_vars)
    rbm = _rbm(p)
    rbm.persistent_chains = p["chain"]
    dW, da, db = rbm.gradient(p["x"], uniforms=(p["u_h"], p["u_x"]))
    chain_end = rbm.persistent_chains
    loss = ops.mean(rbm.free_energy(p["x"])) - ops.mean(rbm.free_energy(chain_end))
    want = {"loss": loss, "chain_end": chain_end, "gradient of the loss by W": -dW,
            "gradient of the loss by a": -da, "gradient of the loss by b": -db}  # fmt: skip

    def variant(**kw: Any) -> dict:
        variables = _variables(p)
        return _outputs(lambda: _cd_loss(p, variables, **kw), variables)

    flipped = {k: (v if k == "chain_end" else -v) for k, v in want.items()}
    mistakes = {
        "the loss is F(chains) - F(data); it is mean F(x) - mean F(chain_end): minimising it "
        "lowers the free energy of the data (makes it likelier)": flipped,
        "the negative phase is not detached: gradients flow through the chain. Draw binary "
        "states (u < p) and hold the chain fixed with keras.ops.stop_gradient": variant(
            sample=False, detach=False),
        "the chain carries probabilities where it should draw binary states: h = (u_h[s] < "
        "p(h | x)), then x = (u_x[s] < p(x | h))": variant(sample=False),
        "these are sums over the rows; the loss averages each term: keras.ops.mean": variant(
            reduce="sum"),
        "the chains take one Gibbs step; take k = len(u_h) steps, step s drawing h with "
        "u_h[s], then x with u_x[s]": variant(steps=1),
    }  # fmt: skip
    print(verdict("cd_loss", got, want, mistakes))
