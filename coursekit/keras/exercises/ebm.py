"""Week 2's checks (the EBM), Keras: the student's function against coursekit's, on the
current Keras backend (tensorflow or torch).

Each check builds fixed inputs (a tiny energy network on 5x5 images, chain starts, the normal
draws of every Langevin step, a replay buffer and the rows and noise it draws; the numbers of
the PyTorch checks, channels last), runs the student's function and coursekit's verified
implementation on them, and prints one pass line, or stops with one message that says what
differs in the lecture's terms (:mod:`coursekit.common.exercises`)::

    from coursekit.keras import exercises as ex
    ex.check_langevin(langevin)         # ✓ langevin agrees with coursekit (...)
    ex.check_buffer_draw(buffer_draw)
    ex.check_ebm_loss(ebm_loss)

The Langevin step is the package's (:func:`coursekit.keras.langevin`): ``x <- clamp(x +
step_size * clip(grad log p(x)) + noise_scale * w)`` with ``log p = -E``, and ``noise_scale =
sqrt(2 step_size)`` when it is None (exact Langevin for ``e^{-E}``).
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
from coursekit.common.exercises.ebm import SIDE
from coursekit.keras.autodiff import input_value_and_grad, loss_and_grads
from coursekit.keras.ebm import contrastive_loss
from coursekit.keras.langevin import langevin as package_langevin

__all__ = ["check_buffer_draw", "check_ebm_loss", "check_langevin", "ebm_problem"]

LANGEVIN = ("langevin(energy, x, noise, step_size, noise_scale, grad_clip) -> x "
            f"[n, {SIDE}, {SIDE}, 1]")  # fmt: skip
BUFFER_DRAW = f"buffer_draw(buffer, idx, fresh, restart) -> x0 [n, {SIDE}, {SIDE}, 1]"
EBM_LOSS = "ebm_loss(energy, x_data, x_fake, alpha) -> loss (a scalar tensor)"
IMAGE = (SIDE, SIDE, 1)
EXACT, IMAGES = "x (exact Langevin)", "x (image settings)"
SETTINGS = {EXACT: (0.05, None, None), IMAGES: (10.0, 0.005, 0.03)}


def ebm_problem(**sizes: int) -> dict[str, Any]:
    """The fixed inputs of the EBM checks (:func:`coursekit.common.exercises.ebm_problem`) as
    float32 backend tensors, images [n, SIDE, SIDE, 1]."""
    p = dict(exercises.ebm_problem(**sizes))
    for name in ("x0", "x_data", "x_fake"):
        p[name] = p[name].reshape(-1, *IMAGE)
    p["noise"] = p["noise"].reshape(len(p["noise"]), -1, *IMAGE)
    return {name: ops.convert_to_tensor(v) for name, v in p.items()}


def tiny_energy(p: dict[str, Any]) -> keras.Model:
    """The checks' energy ``E(x) = silu(flat(x) W1 + b1) w2 + b2``: [n, SIDE, SIDE, 1] -> [n]."""
    net = keras.Sequential([
        keras.Input(IMAGE), keras.layers.Flatten(),
        keras.layers.Dense(int(p["W1"].shape[1]), activation="silu", name="hidden"),
        keras.layers.Dense(1, name="out"), keras.layers.Reshape(())], name="tiny_energy")
    net.set_weights([to_numpy(p[k]) for k in ("W1", "b1", "w2", "b2")])
    return net


# ---- Langevin -------------------------------------------------------------------------------


def _langevin_variant(
    energy: keras.Model, x: Any, noise: Any, step: float, noise_scale: float | None,
    grad_clip: float | None, *, variance: float = 2.0, clamp: bool = True, sign: float = 1.0,
    clip: bool = True, same_noise: bool = False, mean: bool = False,
) -> Any:
    """The Langevin chains (with the defaults, the right ones) or a typical wrong version."""
    scale = (variance * step) ** 0.5 if noise_scale is None else noise_scale
    n = int(x.shape[0])
    for t in range(int(noise.shape[0])):
        _, g = input_value_and_grad(lambda z: -energy(z), x)
        g = g / n if mean else g
        if grad_clip is not None and clip:
            g = ops.clip(g, -grad_clip, grad_clip)
        x = x + sign * step * g + scale * noise[0 if same_noise else t]
        x = ops.clip(x, -1.0, 1.0) if clamp else x
    return x


def check_langevin(langevin: Callable[..., Any]) -> None:
    """Check ``langevin(energy, x, noise, step_size, noise_scale, grad_clip) -> x``:
    ``noise.shape[0]`` steps ``x <- clamp_[-1,1](x + step_size * clip(grad_x log p(x)) +
    noise_scale * noise[t])`` with ``log p = -energy(x)`` (each chain's own gradient:
    ``coursekit.keras.autodiff.input_value_and_grad``), the gradient's elements clipped to
    ``[-grad_clip, grad_clip]`` unless ``grad_clip`` is None, and ``noise_scale = sqrt(2
    step_size)`` when it is None. Run twice: with exact Langevin (step 0.05, no clip) and with
    the image EBMs' settings."""
    p = ebm_problem()
    energy = tiny_energy(p)
    got, want = {}, {}
    for key, (step, scale, clip) in SETTINGS.items():
        got[key] = call_student(langevin, "langevin", LANGEVIN, energy, p["x0"], p["noise"],
                                step, scale, clip)  # fmt: skip
        want[key] = package_langevin(lambda x: -energy(x), p["x0"], step_size=step,
                                     n_steps=int(p["noise"].shape[0]), noise_scale=scale,
                                     grad_clip=clip, clamp=(-1.0, 1.0), noise=p["noise"]).x

    def variant(only: str | None = None, **kw: Any) -> dict[str, Any]:
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
    one update, from a buffer [capacity, SIDE, SIDE, 1]: the first ``k = round(restart * n)``
    rows fresh noise (``fresh[:k]``), the others the stored states ``buffer[idx[k:]]`` (``n =
    idx.shape[0]``; ``keras.ops.take``), as :meth:`coursekit.common.ebm.ReplayBuffer.sample`."""
    q = exercises.buffer_problem()
    buffer = q["buffer"].reshape(-1, *IMAGE)
    idx, restart, fresh = q["idx"].astype("int32"), q["restart"], q["fresh"].reshape(-1, *IMAGE)
    out = call_student(buffer_draw, "buffer_draw", BUFFER_DRAW, ops.convert_to_tensor(buffer),
                       ops.convert_to_tensor(idx), ops.convert_to_tensor(fresh), restart)
    n = len(idx)

    def draw(k: int, *, at_end: bool = False, rows: np.ndarray | None = None) -> dict:
        x0 = (buffer[idx] if rows is None else rows).copy()
        if at_end:
            x0[n - k:] = fresh[n - k:]
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
        "the stored rows are buffer[:n]; they are the drawn rows buffer[idx] (keras.ops.take)":
            draw(k, rows=buffer[:n]),
    }  # fmt: skip
    want = {"x0": q["want"].reshape(-1, *IMAGE)}
    print(verdict("buffer_draw", {"x0": out}, want, mistakes, rtol=0.0, atol=0.0))


# ---- the loss -------------------------------------------------------------------------------


def _graph_samples(energy: keras.Model, x_fake: Any) -> Any:
    """Samples that still carry a sampler's graph: each moved by an amount that depends on the
    energy's parameters (as the output of a sampler that was not held fixed would)."""
    shift = ops.reshape(ops.tanh(energy(x_fake)), (-1, 1, 1, 1))
    return ops.clip(x_fake + 0.1 * shift, -1.0, 1.0)


def _loss_variant(
    energy: keras.Model, x_data: Any, x_fake: Any, alpha: float, *, sign: float = 1.0,
    reg: str = "both", detach: bool = True, reduce: str = "mean",
) -> Any:
    """The loss (with the defaults, coursekit's formula) or a typical wrong version."""
    e_data = energy(x_data)
    e_fake = energy(ops.stop_gradient(x_fake) if detach else x_fake)
    mean = ops.sum if reduce == "sum" else ops.mean
    terms = {"both": alpha * (mean(ops.square(e_data)) + mean(ops.square(e_fake))),
             "none": 0.0, "data": alpha * mean(ops.square(e_data)),
             "fake": alpha * mean(ops.square(e_fake)),
             "no alpha": mean(ops.square(e_data)) + mean(ops.square(e_fake)),
             "square of mean": alpha * (ops.square(mean(e_data)) + ops.square(mean(e_fake)))}
    return sign * (mean(e_data) - mean(e_fake)) + terms[reg]


def _loss_outputs(energy: keras.Model, loss_fn: Callable[[Any], Any], p: dict) -> dict:
    """The loss and its gradient by each weight of ``energy``; the samples given to
    ``loss_fn`` still carry the graph of :func:`_graph_samples`."""
    variables = energy.trainable_variables

    def fn() -> tuple[Any, None]:
        loss = loss_fn(_graph_samples(energy, p["x_fake"]))
        if isinstance(loss, (tuple, list)) or not hasattr(loss, "shape"):
            raise NotYetRight(f"ebm_loss must return a scalar tensor (the loss); it returned "
                              f"{type(loss).__name__}")  # fmt: skip
        if len(tuple(loss.shape)) != 0:
            raise NotYetRight(f"ebm_loss: the loss must be a scalar, got shape "
                              f"{tuple(loss.shape)}")  # fmt: skip
        return loss, None

    try:
        loss, _, grads = loss_and_grads(fn, variables)
    except RuntimeError as err:  # torch: a loss that depends on no weight has no graph
        if "does not require grad" not in str(err):
            raise
        grads = [None] * len(variables)
    if all(g is None for g in grads):
        raise NotYetRight("ebm_loss: the loss does not depend on the energy's weights; "
                          "compute it from energy(x_data) and energy(x_fake)")  # fmt: skip
    out = {"loss": loss}
    for v, g in zip(variables, grads, strict=True):
        out[f"gradient of the loss by {v.path}"] = ops.zeros(v.shape) if g is None else g
    return out


def check_ebm_loss(ebm_loss: Callable[..., Any]) -> None:
    """Check ``ebm_loss(energy, x_data, x_fake, alpha) -> loss``: ``mean E(x_data) - mean
    E(x_fake) + alpha (mean E(x_data)^2 + mean E(x_fake)^2)`` with the samples held fixed
    (``keras.ops.stop_gradient``: here they still carry a sampler's graph), and its gradient by
    the energy's weights (coursekit's :func:`coursekit.keras.ebm.contrastive_loss`)."""
    p = ebm_problem()
    alpha = 0.1
    energy = tiny_energy(p)

    def student(x_fake: Any) -> Any:
        return call_student(ebm_loss, "ebm_loss", EBM_LOSS, energy, p["x_data"], x_fake, alpha)

    got = _loss_outputs(energy, student, p)

    def package(x_fake: Any) -> Any:
        return contrastive_loss(energy(p["x_data"]), energy(ops.stop_gradient(x_fake)),
                                alpha)[0]  # fmt: skip

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
        "the samples are not held fixed: the gradient flows back through the sampler into the "
        "energy's weights. Use energy(keras.ops.stop_gradient(x_fake))": variant(detach=False),
    }  # fmt: skip
    print(verdict("ebm_loss", got, want, mistakes))
