"""Week 4's checks (the GAN), PyTorch: the student's function against coursekit's.

Each check runs the student's function and coursekit's verified one on fixed inputs (logits;
two small MLPs with fixed weights, a batch and the noise ``z``) and prints one pass line, or
stops with one message that names the mistake (:mod:`coursekit.common.exercises`)::

    from coursekit.torch import exercises as ex
    ex.check_discriminator_loss(discriminator_loss)
    ex.check_generator_loss(generator_loss)     # both kinds: saturating=True and False
    ex.check_gan_step(gan_step)                 # pytorch/examples' dcgan: D step, then G step

The lecture's value function ``v = E log D(x) + E log(1 - D(G(z)))`` with ``D = sigmoid(logit)``:
the discriminator minimises ``-v`` (binary cross-entropy, real labelled 1, fake 0), the
generator minimises ``log(1 - D(G(z)))`` (saturating) or ``-log D(G(z))`` (non-saturating).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn import functional as nnf

from coursekit.common import exercises
from coursekit.common.exercises import NotYetRight, call_student, return_error, verdict
from coursekit.common.exercises.gan import LEAKY
from coursekit.torch.gan import discriminator_loss as _d_loss
from coursekit.torch.gan import generator_loss as _g_loss

__all__ = ["check_discriminator_loss", "check_gan_step", "check_generator_loss", "gan_problem"]

D_LOSS = "discriminator_loss(logit_real [n], logit_fake [m]) -> scalar tensor"
G_LOSS = "generator_loss(logit_fake [m], saturating) -> scalar tensor"
GAN_STEP = "gan_step(G, D, opt_g, opt_d, x [n, ...], z [n, latent], saturating) -> (d_loss, g_loss)"
#: SGD's step size in the step check (an update is then -LR times the gradient, exactly).
LR = 0.1
G_NAMES, D_NAMES = ("G1", "g1", "G2", "g2"), ("D1", "d1", "D2", "d2")


def gan_problem(**sizes: int) -> dict[str, torch.Tensor]:
    """The fixed inputs of the step check (:func:`coursekit.common.exercises.gan_problem`) as
    float32 tensors."""
    return {name: torch.from_numpy(v) for name, v in exercises.gan_problem(**sizes).items()}


def _kind(saturating: bool) -> str:
    return "saturating" if saturating else "non_saturating"


def _loss(fn: Callable[..., Any], name: str, signature: str, *args: Any) -> dict:
    """The student's (or a variant's) loss on leaf copies of the logits in ``args[0:2]`` (the
    rest passed as is), and its gradient by each logit tensor."""
    leaves = [a.clone().requires_grad_(True) if isinstance(a, torch.Tensor) else a for a in args]
    loss = call_student(fn, name, signature, *leaves)
    if not isinstance(loss, torch.Tensor):
        raise NotYetRight(f"{name} must return a scalar tensor (0-d, differentiable), got "
                          f"{type(loss).__name__}: {signature}")  # fmt: skip
    if loss.dim() != 0:
        raise NotYetRight(f"{name}: the loss has shape {tuple(loss.shape)}; expected a scalar "
                          "(a mean over the rows)")  # fmt: skip
    tensors = [t for t in leaves if isinstance(t, torch.Tensor)]
    if not loss.requires_grad:
        raise NotYetRight(f"{name}: the loss does not depend on the logits through torch "
                          "operations (no gradient): compute it with torch functions")  # fmt: skip
    grads = torch.autograd.grad(loss, tensors, allow_unused=True)
    out = {"loss": loss.detach()}
    for label, t, g in zip(("logit_real", "logit_fake"), tensors, grads, strict=False):
        out[f"gradient by {label}" if len(tensors) > 1 else "gradient"] = (
            torch.zeros_like(t) if g is None else g)
    return out


def check_discriminator_loss(discriminator_loss: Callable[..., Any]) -> None:
    """Check ``discriminator_loss(logit_real, logit_fake) -> loss``: ``-v``, the binary
    cross-entropy of ``D = sigmoid(logit)`` with real labelled 1 and fake 0, each term a mean
    over its rows: ``mean softplus(-logit_real) + mean softplus(logit_fake)``. Its value and
    its gradient by both logit tensors are compared."""
    p = {k: torch.from_numpy(v) for k, v in exercises.gan_logits().items()}
    args = (p["logit_real"], p["logit_fake"])
    got = _loss(discriminator_loss, "discriminator_loss", D_LOSS, *args)
    want = _loss(_d_loss, "discriminator_loss", D_LOSS, *args)

    def variant(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> dict:
        return _loss(fn, "variant", D_LOSS, *args)

    sp = nnf.softplus
    mistakes = {
        "the labels are swapped: real images are labelled 1 and fakes 0 (yours label the real "
        "ones 0)": variant(lambda r, f: sp(r).mean() + sp(-f).mean()),
        "the sign is flipped: this is v; the discriminator maximises v, so its loss is -v = "
        "-mean log D(x) - mean log(1 - D(G(z)))": variant(lambda r, f: -_d_loss(r, f)),
        "sigmoid is applied twice: binary_cross_entropy_with_logits (softplus) takes the "
        "logits themselves, not D = sigmoid(logit)": variant(
            lambda r, f: sp(-torch.sigmoid(r)).mean() + sp(torch.sigmoid(f)).mean()),
        "one mean over real and fake rows together (torch.cat, then one mean): each term is "
        "its own mean, the two added": variant(
            lambda r, f: torch.cat([sp(-r), sp(f)]).mean()),
        "these are sums over the rows; each term of the loss is a mean": variant(
            lambda r, f: sp(-r).sum() + sp(f).sum()),
        "the fake term is missing: add mean -log(1 - D(G(z))) = mean softplus(logit_fake)":
            variant(lambda r, f: sp(-r).mean() + 0 * f.sum()),
        "the real term is missing: add mean -log D(x) = mean softplus(-logit_real)": variant(
            lambda r, f: 0 * r.sum() + sp(f).mean()),
    }  # fmt: skip
    print(verdict("discriminator_loss", got, want, mistakes))


def check_generator_loss(generator_loss: Callable[..., Any]) -> None:
    """Check ``generator_loss(logit_fake, saturating) -> loss``, a mean over the fakes:
    ``log(1 - D) = -softplus(logit)`` with ``saturating=True`` (the minimax game),
    ``-log D = softplus(-logit)`` with ``saturating=False``. Both kinds, value and gradient."""
    lf = torch.from_numpy(exercises.gan_logits()["logit_fake"])

    def both(fn: Callable[..., Any], name: str = "generator_loss") -> dict:
        out = {}
        for saturating in (True, False):
            one = _loss(fn, name, G_LOSS, lf, saturating)
            out.update({f"{k} (saturating={saturating})": v for k, v in one.items()})
        return out

    got = both(generator_loss)
    want = both(lambda f, s: _g_loss(f, _kind(s)), "coursekit")
    sat = {k: v for k, v in want.items() if "True" in k}
    ns = {k: v for k, v in want.items() if "False" in k}

    def as_kind(part: dict, saturating: bool) -> dict:  # part's values under the other keys
        return {k.replace(str(not saturating), str(saturating)): v for k, v in part.items()}

    def neg(part: dict) -> dict:
        return {k: -v for k, v in part.items()}

    twice = both(lambda f, s: _g_loss(torch.sigmoid(f), _kind(s)), "variant")
    mistakes = {
        "the two kinds are swapped: saturating=True is the minimax game's log(1 - D(G(z))), "
        "saturating=False the non-saturating -log D(G(z))": {**as_kind(ns, True),
                                                             **as_kind(sat, False)},
        "saturating is ignored: saturating=True must give log(1 - D(G(z))) = "
        "-softplus(logit_fake), not -log D(G(z))": as_kind(ns, True),
        "saturating is ignored: saturating=False must give -log D(G(z)) = "
        "softplus(-logit_fake), not log(1 - D(G(z)))": as_kind(sat, False),
        "the signs are flipped: the generator minimises log(1 - D(G(z))) (saturating) or "
        "-log D(G(z)) (non-saturating): it wants D(G(z)) near 1": {**neg(sat), **neg(ns)},
        "the saturating loss has the wrong sign: minimise log(1 - D(G(z))) = "
        "-softplus(logit_fake); yours is the discriminator's fake term -log(1 - D)": neg(sat),
        "the non-saturating loss has the wrong sign: minimise -log D(G(z)) = "
        "softplus(-logit_fake)": neg(ns),
        "sigmoid is applied twice: the loss takes the logits, not D = sigmoid(logit)": twice,
    }  # fmt: skip
    print(verdict("generator_loss", got, want, mistakes))


# ---- the training step ----------------------------------------------------------------------


def _nets(p: dict[str, torch.Tensor]) -> tuple[nn.Module, nn.Module]:
    """The check's generator ``z -> fakes`` and discriminator ``x -> logits [n]``, with the
    problem's weights and its stale gradients in ``.grad``."""
    (latent, hidden), data = p["G1"].shape, p["G2"].shape[1]
    G = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, data), nn.Tanh())
    D = nn.Sequential(nn.Linear(data, hidden), nn.LeakyReLU(LEAKY), nn.Linear(hidden, 1),
                      nn.Flatten(0))  # fmt: skip
    for net, names in ((G, G_NAMES), (D, D_NAMES)):
        layers = [m for m in net if isinstance(m, nn.Linear)]
        for layer, (k, b) in zip(layers, (names[:2], names[2:]), strict=True):
            with torch.no_grad():
                layer.weight.copy_(p[k].T)
                layer.bias.copy_(p[b])
            layer.weight.grad = p[f"stale_{k}"].T.contiguous()
            layer.bias.grad = p[f"stale_{b}"].clone()
    return G, D


def _flat(net: nn.Module) -> torch.Tensor:
    return torch.cat([q.detach().reshape(-1) for q in net.parameters()])


def _G(w: dict, z: torch.Tensor) -> torch.Tensor:
    return torch.tanh(torch.relu(z @ w["G1"] + w["g1"]) @ w["G2"] + w["g2"])


def _D(w: dict, x: torch.Tensor) -> torch.Tensor:
    return (nnf.leaky_relu(x @ w["D1"] + w["d1"], LEAKY) @ w["D2"] + w["d2"])[:, 0]


def _step(
    p: dict[str, torch.Tensor], saturating: bool, *, swap: bool = False, detach: bool = True,
    zero_d: bool = True, zero_g: bool = True, before_update: bool = False,
    d_takes_g: bool = False,
) -> dict[str, torch.Tensor]:
    """pytorch/examples' DCGAN step with SGD (with the defaults), or a typical wrong one:
    labels swapped, the fakes not detached, stale gradients, the G step against D before its
    update, D's update taking the generator's loss too."""
    w = {k: p[k].clone().requires_grad_(True) for k in G_NAMES + D_NAMES}
    wd, wg = [w[k] for k in D_NAMES], [w[k] for k in G_NAMES]
    fake = _G(w, p["z"])
    lr, lf = _D(w, p["x"]), _D(w, fake if not detach else fake.detach())
    d_loss = _d_loss(lf, lr) if swap else _d_loss(lr, lf)
    g_at_d0 = _g_loss(_D(w, fake), _kind(saturating))
    d_grads = torch.autograd.grad(d_loss, wd + wg, retain_graph=True, allow_unused=True)
    extra = torch.autograd.grad(g_at_d0, wd, retain_graph=True) if d_takes_g else [0] * 4
    new = {k: (w[k] - LR * (g + e + (0 if zero_d else p[f"stale_{k}"]))).detach()
           for k, g, e in zip(D_NAMES, d_grads[:4], extra, strict=True)}  # fmt: skip
    new_w = {**new, **{k: w[k] for k in G_NAMES}}
    g_loss = g_at_d0 if before_update else _g_loss(_D(new_w, fake), _kind(saturating))
    g_grads = torch.autograd.grad(g_loss, wg)
    for k, g, gd in zip(G_NAMES, g_grads, d_grads[4:], strict=True):
        g = g + (0 if zero_g else p[f"stale_{k}"]) + (0 if detach else gd)
        new[k] = (w[k] - LR * g).detach()
    flat = {net: torch.cat([(new[k].T if k[0].isupper() else new[k]).reshape(-1)
                            for k in names])
            for net, names in (("D", D_NAMES), ("G", G_NAMES))}  # fmt: skip
    return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(), **flat}


def _keys(out: dict[str, torch.Tensor], saturating: bool) -> dict[str, torch.Tensor]:
    tag = " (saturating=True)" if saturating else ""
    return {"d_loss": out["d_loss"], f"g_loss{tag}": out["g_loss"],
            f"D's weights after the step{tag}": out["D"],
            f"G's weights after the step{tag}": out["G"]}  # fmt: skip


def _both(**kw: Any) -> dict[str, torch.Tensor]:
    p = gan_problem()
    return {**_keys(_step(p, False, **kw), False), **_keys(_step(p, True, **kw), True)}


class _Recording(torch.optim.SGD):
    """SGD that notes each ``step`` in a shared log (which optimizer ran, in which order)."""

    def __init__(self, params: Any, name: str, log: list[str]) -> None:
        super().__init__(params, lr=LR)
        self.name, self.log = name, log

    def step(self, closure: Any = None) -> Any:
        self.log.append(self.name)
        return super().step(closure)


TORCH_ERRORS = {
    "backward through the graph a second time": "the fakes are not detached in the "
    "discriminator's step: d_loss.backward() went through the generator and freed its graph. "
    "Use D(fake.detach()) for the discriminator, D(fake) for the generator",
    "modified by an inplace operation": "the generator's loss uses D's output from before "
    "opt_d.step() changed D's weights: after the discriminator's step, compute D(fake) again",
}


def _run_student(gan_step: Callable[..., Any], saturating: bool) -> dict[str, torch.Tensor]:
    p = gan_problem()
    G, D = _nets(p)
    log: list[str] = []
    opt_g, opt_d = _Recording(G.parameters(), "g", log), _Recording(D.parameters(), "d", log)
    try:
        out = call_student(gan_step, "gan_step", GAN_STEP, G, D, opt_g, opt_d,
                           p["x"].clone(), p["z"].clone(), saturating)  # fmt: skip
    except NotYetRight as err:
        for words, message in TORCH_ERRORS.items():
            if words in str(err):
                raise NotYetRight(f"gan_step: {message}") from None
        raise
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise return_error("gan_step", "two values (d_loss, g_loss)", out)
    for net, name in (("d", "opt_d"), ("g", "opt_g")):
        count = log.count(net)
        whose = {"d": "discriminator", "g": "generator"}[net]
        other = {"d": "generator", "g": "discriminator"}[net]
        if count == 0:
            raise NotYetRight(f"gan_step: the {whose} was not updated: call {name}.step() after "
                              "its loss's backward()")  # fmt: skip
        if count > 1:
            raise NotYetRight(f"gan_step: {name}.step() ran {count} times in one step: the "
                              f"{other}'s step must not update the {whose}")  # fmt: skip
    if log == ["g", "d"]:
        raise NotYetRight("gan_step: the generator was updated before the discriminator: first "
                          "the D step (real images and detached fakes), then the G step "
                          "against the updated D")  # fmt: skip
    return {"d_loss": out[0], "g_loss": out[1], "D": _flat(D), "G": _flat(G)}


def check_gan_step(gan_step: Callable[..., Any]) -> None:
    """Check ``gan_step(G, D, opt_g, opt_d, x, z, saturating) -> (d_loss, g_loss)``, one step
    of pytorch/examples' DCGAN: ``fake = G(z)``; the discriminator's step on
    ``discriminator_loss(D(x), D(fake.detach()))`` with ``opt_d``; then the generator's step on
    ``generator_loss(D(fake), saturating)`` against the updated ``D`` with ``opt_g``; each step
    zeroes its network's gradients first. Runs it with ``saturating=False`` and ``True`` on
    small MLPs (SGD, stale gradients left in ``.grad`` as by a previous step) and compares the
    losses and both networks' weights after the step with coursekit's."""
    got = {**_keys(_run_student(gan_step, False), False),
           **_keys(_run_student(gan_step, True), True)}  # fmt: skip
    want = _both()
    p = gan_problem()
    swapped = {**_keys(_step(p, True), False), **_keys(_step(p, False), True)}
    mistakes = {
        "the labels are swapped in the discriminator's step: real images are labelled 1, "
        "fakes 0": _both(swap=True),
        "saturating=True and False are swapped: True is the minimax game's log(1 - D(G(z)))":
            swapped,
        "the fakes are not detached in the discriminator's step, so the generator's update "
        "adds the gradient of the discriminator's loss: use D(fake.detach()) there":
            _both(detach=False),
        "the discriminator's gradients are not zeroed: the generator's backward() of the last "
        "step left gradients in D's .grad. Call opt_d.zero_grad() before d_loss.backward()":
            _both(zero_d=False),
        "the generator's gradients are not zeroed before g_loss.backward(): call "
        "opt_g.zero_grad() first (stale gradients sit in .grad)": _both(zero_g=False),
        "the generator's step ran against D before its update: compute D(fake) again after "
        "opt_d.step() (the alternating step)": _both(before_update=True),
        "the discriminator's update includes the generator's loss (g_loss.backward() before "
        "opt_d.step()): the generator's step must not update the discriminator": _both(
            before_update=True, d_takes_g=True),
    }  # fmt: skip
    print(verdict("gan_step", got, want, mistakes))
