"""Week 2's checks (the EBM), PyTorch: the student's function against coursekit's.

Each check builds fixed inputs (a tiny energy network on 5x5 images, chain starts, the normal
draws of every Langevin step, a replay buffer and the rows and noise it draws), runs the
student's function and coursekit's verified implementation on them, and prints one pass line,
or stops with one message that says what differs in the lecture's terms
(:mod:`coursekit.common.exercises`)::

    from coursekit.torch import exercises as ex
    ex.check_langevin(langevin)         # ✓ langevin agrees with coursekit (...)
    ex.check_buffer_draw(buffer_draw)
    ex.check_ebm_loss(ebm_loss)

The Langevin step is the package's (:func:`coursekit.torch.langevin`): ``x <- clamp(x +
step_size * clip(grad log p(x)) + noise_scale * w)`` with ``log p = -E``, and ``noise_scale =
sqrt(2 step_size)`` when it is None (exact Langevin for ``e^{-E}``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from coursekit.common import exercises
from coursekit.common.exercises import NotYetRight, call_student, verdict
from coursekit.common.exercises.ebm import SIDE
from coursekit.torch.ebm import contrastive_loss
from coursekit.torch.langevin import langevin as package_langevin

__all__ = ["check_buffer_draw", "check_ebm_loss", "check_langevin", "ebm_problem"]

LANGEVIN = ("langevin(energy, x, noise, step_size, noise_scale, grad_clip) -> x "
            f"[n, 1, {SIDE}, {SIDE}]")  # fmt: skip
BUFFER_DRAW = f"buffer_draw(buffer, idx, fresh, restart) -> x0 [n, 1, {SIDE}, {SIDE}]"
EBM_LOSS = "ebm_loss(energy, x_data, x_fake, alpha) -> loss (a scalar tensor)"
IMAGE = (1, SIDE, SIDE)
EXACT, IMAGES = "x (exact Langevin)", "x (image settings)"


def ebm_problem(**sizes: int) -> dict[str, torch.Tensor]:
    """The fixed inputs of the EBM checks (:func:`coursekit.common.exercises.ebm_problem`) as
    float32 tensors, images [n, 1, SIDE, SIDE]."""
    p = {name: torch.from_numpy(v) for name, v in exercises.ebm_problem(**sizes).items()}
    for name in ("x0", "x_data", "x_fake"):
        p[name] = p[name].reshape(-1, *IMAGE)
    p["noise"] = p["noise"].reshape(len(p["noise"]), -1, *IMAGE)
    return p


def tiny_energy(p: dict[str, torch.Tensor]) -> nn.Module:
    """The checks' energy ``E(x) = silu(flat(x) W1 + b1) w2 + b2``: [n, 1, SIDE, SIDE] -> [n]."""
    hidden = p["W1"].shape[1]
    net = nn.Sequential(OrderedDict(
        flat=nn.Flatten(), hidden=nn.Linear(SIDE * SIDE, hidden), silu=nn.SiLU(),
        out=nn.Linear(hidden, 1), energy=nn.Flatten(0)))  # fmt: skip
    with torch.no_grad():
        net.hidden.weight.copy_(p["W1"].T)
        net.hidden.bias.copy_(p["b1"])
        net.out.weight.copy_(p["w2"].T)
        net.out.bias.copy_(p["b2"])
    return net


# ---- Langevin -------------------------------------------------------------------------------

SETTINGS = {EXACT: (0.05, None, None), IMAGES: (10.0, 0.005, 0.03)}


def _langevin_variant(
    energy: nn.Module, x: torch.Tensor, noise: torch.Tensor, step: float,
    noise_scale: float | None, grad_clip: float | None, *, variance: float = 2.0,
    clamp: bool = True, sign: float = 1.0, clip: bool = True, same_noise: bool = False,
    mean: bool = False,
) -> torch.Tensor:
    """The Langevin chains (with the defaults, the right ones) or a typical wrong version."""
    scale = (variance * step) ** 0.5 if noise_scale is None else noise_scale
    for t in range(len(noise)):
        x = x.detach().requires_grad_(True)
        e = energy(x)
        (g,) = torch.autograd.grad(-(e.mean() if mean else e.sum()), x)
        if grad_clip is not None and clip:
            g = g.clamp(-grad_clip, grad_clip)
        x = x + sign * step * g + scale * noise[0 if same_noise else t]
        x = x.clamp(-1, 1) if clamp else x
    return x.detach()


def check_langevin(langevin: Callable[..., Any]) -> None:
    """Check ``langevin(energy, x, noise, step_size, noise_scale, grad_clip) -> x``:
    ``len(noise)`` steps ``x <- clamp_[-1,1](x + step_size * clip(grad_x log p(x)) +
    noise_scale * noise[t])`` with ``log p = -energy(x)`` (each chain's own gradient: of the
    sum of the energies), the gradient's elements clipped to ``[-grad_clip, grad_clip]`` unless
    ``grad_clip`` is None, and ``noise_scale = sqrt(2 step_size)`` when it is None. Run twice:
    with exact Langevin (step 0.05, no clip) and with the image EBMs' settings."""
    p = ebm_problem()
    energy = tiny_energy(p)
    got, want = {}, {}
    for key, (step, scale, clip) in SETTINGS.items():
        got[key] = call_student(langevin, "langevin", LANGEVIN, energy, p["x0"].clone(),
                                p["noise"].clone(), step, scale, clip)  # fmt: skip
        want[key] = package_langevin(lambda x: -energy(x), p["x0"], step_size=step,
                                     n_steps=len(p["noise"]), noise_scale=scale, grad_clip=clip,
                                     clamp=(-1.0, 1.0), noise=p["noise"]).x  # fmt: skip

    def variant(only: str | None = None, **kw: Any) -> dict[str, torch.Tensor]:
        return {key: _langevin_variant(energy, p["x0"], p["noise"], *args, **kw)
                for key, args in SETTINGS.items() if only in (None, key)}  # fmt: skip

    mistakes = {
        "this Langevin step samples p^2, not p: with drift step_size * grad log p the noise "
        "must be sqrt(2 step_size) (the lecture notes' sqrt(eta) is the p^2 form; see the "
        "lecture notebook, section 3)": variant(EXACT, variance=1.0),
        "the chains climb the energy: log p = -E, so the drift is -step_size * grad E "
        "(x + step_size * grad log p)": variant(sign=-1.0),
        "the states are not clamped to [-1, 1] after each step (the pixel range)": variant(
            clamp=False),
        "the gradient is not clipped: clip each element to [-grad_clip, grad_clip] when "
        "grad_clip is given": variant(IMAGES, clip=False),
        "every step uses noise[0]; step t uses noise[t]": variant(same_noise=True),
        "the gradient is that of the mean energy, divided by the number of chains: take the "
        "gradient of the sum, so that each chain gets its own grad log p": variant(mean=True),
    }  # fmt: skip
    print(verdict("langevin", got, want, mistakes))


# ---- the replay buffer ----------------------------------------------------------------------


def check_buffer_draw(buffer_draw: Callable[..., Any]) -> None:
    """Check ``buffer_draw(buffer, idx, fresh, restart) -> x0``: the chains' start states for
    one update, from a buffer [capacity, 1, SIDE, SIDE]: the first ``k = round(restart * n)``
    rows fresh noise (``fresh[:k]``), the others copies of the stored states ``buffer[idx[k:]]``
    (``n = len(idx)``), as :meth:`coursekit.common.ebm.ReplayBuffer.sample`; the buffer itself
    unchanged."""
    q = exercises.buffer_problem()
    buffer = torch.from_numpy(q["buffer"]).reshape(-1, *IMAGE)
    idx, restart = torch.from_numpy(q["idx"]), q["restart"]
    fresh = torch.from_numpy(q["fresh"]).reshape(-1, *IMAGE)
    before = buffer.clone()
    out = call_student(buffer_draw, "buffer_draw", BUFFER_DRAW, buffer, idx, fresh.clone(),
                       restart)  # fmt: skip
    if not torch.equal(buffer, before):
        raise NotYetRight(
            "buffer_draw: the buffer itself changed; copy the rows first (buffer[idx] is a "
            "copy) and write the fresh noise into the copy"
        )
    n = len(idx)

    def draw(k: int, *, at_end: bool = False, rows: torch.Tensor | None = None) -> dict:
        x0 = (buffer[idx] if rows is None else rows).clone()
        if at_end:
            x0[n - k:] = fresh[n - k:] if k else x0[n - k:]
        else:
            x0[:k] = fresh[:k]
        return {"x0": x0}

    k = round(restart * n)
    mistakes = {
        "restart is inverted: it is the share of fresh noise (the first round(restart * n) "
        "rows), the rest come from the buffer": draw(round((1 - restart) * n)),
        f"{int(restart * n)} rows restart, not {k}: the count is round(restart * n), not "
        "int(restart * n), which truncates": draw(int(restart * n)),
        "no row restarts from noise: the first round(restart * n) rows are fresh[:k]": draw(0),
        "every row is fresh noise: only the first round(restart * n) are; the others are "
        "buffer[idx[k:]]": draw(n),
        "the fresh rows are the last ones; coursekit's buffer restarts the first k = "
        "round(restart * n) rows": draw(k, at_end=True),
        "the stored rows are buffer[:n]; they are the drawn rows buffer[idx]": draw(
            k, rows=buffer[:n]),
    }  # fmt: skip
    got = {"x0": out}
    want = {"x0": torch.from_numpy(q["want"]).reshape(-1, *IMAGE)}
    print(verdict("buffer_draw", got, want, mistakes, rtol=0.0, atol=0.0))


# ---- the loss -------------------------------------------------------------------------------


def _graph_samples(energy: nn.Module, x_fake: torch.Tensor) -> torch.Tensor:
    """Samples that still carry a sampler's graph: each moved by an amount that depends on the
    energy's parameters (as the output of a sampler that was not detached would)."""
    return (x_fake + 0.1 * torch.tanh(energy(x_fake)).view(-1, 1, 1, 1)).clamp(-1, 1)


def _loss_variant(
    energy: nn.Module, x_data: torch.Tensor, x_fake: torch.Tensor, alpha: float, *,
    sign: float = 1.0, reg: str = "both", detach: bool = True, reduce: str = "mean",
) -> torch.Tensor:
    """The loss (with the defaults, coursekit's formula) or a typical wrong version."""
    e_data, e_fake = energy(x_data), energy(x_fake.detach() if detach else x_fake)
    mean = torch.sum if reduce == "sum" else torch.mean
    terms = {"both": alpha * (mean(e_data**2) + mean(e_fake**2)), "none": 0.0,
             "data": alpha * mean(e_data**2), "fake": alpha * mean(e_fake**2),
             "no alpha": mean(e_data**2) + mean(e_fake**2),
             "square of mean": alpha * (mean(e_data) ** 2 + mean(e_fake) ** 2)}  # fmt: skip
    return sign * (mean(e_data) - mean(e_fake)) + terms[reg]


def _loss_outputs(energy: nn.Module, loss_fn: Callable[[torch.Tensor], Any], p: dict) -> dict:
    """The loss and its gradient by each parameter of ``energy``; the samples given to
    ``loss_fn`` still carry the graph of :func:`_graph_samples`."""
    with torch.enable_grad():
        loss = loss_fn(_graph_samples(energy, p["x_fake"]))
        if not isinstance(loss, torch.Tensor):
            raise NotYetRight(
                f"ebm_loss must return a scalar tensor (the loss); it returned "
                f"{type(loss).__name__}"
            )
        if loss.dim() != 0:
            raise NotYetRight(f"ebm_loss: the loss must be a scalar, got shape "
                              f"{tuple(loss.shape)}")  # fmt: skip
        if not loss.requires_grad:
            raise NotYetRight("ebm_loss: the loss does not depend on the energy's parameters; "
                              "compute it from energy(x_data) and energy(x_fake)")  # fmt: skip
        names, params = zip(*energy.named_parameters(), strict=True)
        grads = torch.autograd.grad(loss, params, allow_unused=True)
    out = {"loss": loss.detach()}
    for name, param, g in zip(names, params, grads, strict=True):
        out[f"gradient of the loss by {name}"] = torch.zeros_like(param) if g is None else g
    return out


def check_ebm_loss(ebm_loss: Callable[..., Any]) -> None:
    """Check ``ebm_loss(energy, x_data, x_fake, alpha) -> loss``: ``mean E(x_data) - mean
    E(x_fake) + alpha (mean E(x_data)^2 + mean E(x_fake)^2)`` with the samples held fixed
    (``x_fake.detach()``: here they still carry a sampler's graph), and its gradient by the
    energy's parameters (coursekit's :func:`coursekit.torch.ebm.contrastive_loss`)."""
    p = ebm_problem()
    alpha = 0.1
    energy = tiny_energy(p)

    def student(x_fake: torch.Tensor) -> Any:
        return call_student(ebm_loss, "ebm_loss", EBM_LOSS, energy, p["x_data"].clone(),
                            x_fake, alpha)  # fmt: skip

    got = _loss_outputs(energy, student, p)

    def package(x_fake: torch.Tensor) -> torch.Tensor:
        return contrastive_loss(energy(p["x_data"]), energy(x_fake.detach()), alpha)[0]

    want = _loss_outputs(energy, package, p)

    def variant(**kw: Any) -> dict:
        return _loss_outputs(
            energy, lambda x_fake: _loss_variant(energy, p["x_data"], x_fake, alpha, **kw), p)

    mistakes = {
        "the contrastive term has the wrong sign: minimising it pushes the data's energy up. "
        "It is mean E(x_data) - mean E(x_fake)": variant(sign=-1.0),
        "the regulariser is missing: add alpha (mean E(x_data)^2 + mean E(x_fake)^2)": variant(
            reg="none"),
        "the regulariser has the data's term only: alpha (mean E(x_data)^2 + mean "
        "E(x_fake)^2)": variant(reg="data"),
        "the regulariser has the samples' term only: alpha (mean E(x_data)^2 + mean "
        "E(x_fake)^2)": variant(reg="fake"),
        "the regulariser is not multiplied by alpha": variant(reg="no alpha"),
        "the regulariser squares the mean energy; it is the mean of the squared energies, "
        "alpha (mean E^2 + ...)": variant(reg="square of mean"),
        "these are sums over the rows; the loss averages each term (there are more data "
        "rows than samples here)": variant(reduce="sum"),
        "the samples are not detached: the gradient flows back through the sampler into the "
        "energy's parameters. Use energy(x_fake.detach())": variant(detach=False),
    }  # fmt: skip
    print(verdict("ebm_loss", got, want, mistakes))
