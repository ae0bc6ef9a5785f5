"""Week 4's checks (the GAN), Keras: the student's function against coursekit's, on the current
Keras backend (tensorflow or torch).

Each check runs the student's function and coursekit's verified one on fixed inputs (logits;
two small MLPs with fixed weights, a batch and the noise ``z``) and prints one pass line, or
stops with one message that names the mistake (:mod:`coursekit.common.exercises`)::

    from coursekit.keras import exercises as ex
    ex.check_discriminator_loss(discriminator_loss)
    ex.check_generator_loss(generator_loss)     # both kinds: saturating=True and False
    ex.check_train_step(train_step)             # the TensorFlow DCGAN tutorial's train_step

The lecture's value function ``v = E log D(x) + E log(1 - D(G(z)))`` with ``D = sigmoid(logit)``:
the discriminator minimises ``-v``, the generator ``log(1 - D(G(z)))`` (saturating) or
``-log D(G(z))`` (non-saturating). Gradients come from :mod:`coursekit.keras.autodiff`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
from keras import layers, ops

from coursekit.common import exercises
from coursekit.common.exercises import NotYetRight, call_student, return_error, verdict
from coursekit.common.exercises.gan import LEAKY
from coursekit.keras.autodiff import loss_and_grads
from coursekit.keras.gan import discriminator_loss as _d_loss
from coursekit.keras.gan import generator_loss as _g_loss

__all__ = ["check_discriminator_loss", "check_generator_loss", "check_train_step", "gan_problem"]

D_LOSS = "discriminator_loss(logit_real [n], logit_fake [m]) -> scalar tensor"
G_LOSS = "generator_loss(logit_fake [m], saturating) -> scalar tensor"
TRAIN_STEP = ("train_step(generator, discriminator, g_opt, d_opt, x [n, ...], z [n, latent], "
              "saturating) -> (d_loss, g_loss)")  # fmt: skip
#: SGD's step size in the step check (an update is then -LR times the gradient, exactly).
LR = 0.1
G_NAMES, D_NAMES = ("G1", "g1", "G2", "g2"), ("D1", "d1", "D2", "d2")


def gan_problem(**sizes: int) -> dict[str, Any]:
    """The fixed inputs of the step check (:func:`coursekit.common.exercises.gan_problem`, the
    numbers of the PyTorch check) as float32 backend tensors."""
    return {name: ops.convert_to_tensor(v) for name, v in exercises.gan_problem(**sizes).items()}


def _kind(saturating: bool) -> str:
    return "saturating" if saturating else "non_saturating"


def _loss(fn: Callable[..., Any], name: str, signature: str, logits: list, *rest: Any) -> dict:
    """The loss ``fn(*logits, *rest)`` and its gradient by each logit tensor."""
    variables = [keras.Variable(v, name=f"logits{i}") for i, v in enumerate(logits)]

    def run() -> tuple[Any, None]:
        loss = call_student(fn, name, signature, *(v.value for v in variables), *rest)
        if isinstance(loss, (int, float)) or not hasattr(loss, "shape"):
            raise NotYetRight(f"{name} must return a scalar tensor (keras.ops), got "
                              f"{type(loss).__name__}: {signature}")  # fmt: skip
        if len(tuple(ops.shape(loss))) != 0:
            raise NotYetRight(f"{name}: the loss has shape {tuple(ops.shape(loss))}; expected "
                              "a scalar (a mean over the rows)")  # fmt: skip
        return loss, None

    try:
        loss, _, grads = loss_and_grads(run, variables)
    except RuntimeError as err:  # torch: a loss that depends on no logit has no graph
        if "does not require grad" not in str(err):
            raise
        grads = [None] * len(variables)
        loss = None
    if all(g is None for g in grads):
        raise NotYetRight(f"{name}: the loss does not depend on the logits through keras.ops "
                          "(no gradient): compute it with keras.ops functions")  # fmt: skip
    out = {"loss": loss}
    for label, v, g in zip(("logit_real", "logit_fake"), variables, grads, strict=False):
        key = f"gradient by {label}" if len(variables) > 1 else "gradient"
        out[key] = ops.zeros_like(v.value) if g is None else g
    return out


def check_discriminator_loss(discriminator_loss: Callable[..., Any]) -> None:
    """Check ``discriminator_loss(logit_real, logit_fake) -> loss``: ``-v``, the binary
    cross-entropy of ``D = sigmoid(logit)`` with real labelled 1 and fake 0, each term a mean
    over its rows: ``mean softplus(-logit_real) + mean softplus(logit_fake)``. Its value and
    its gradient by both logit tensors are compared."""
    p = exercises.gan_logits()
    args = [p["logit_real"], p["logit_fake"]]
    got = _loss(discriminator_loss, "discriminator_loss", D_LOSS, args)
    want = _loss(_d_loss, "coursekit", D_LOSS, args)

    def variant(fn: Callable[[Any, Any], Any]) -> dict:
        return _loss(fn, "variant", D_LOSS, args)

    sp, mean, sig = ops.softplus, ops.mean, ops.sigmoid
    mistakes = {
        "the labels are swapped: real images are labelled 1 and fakes 0 (yours label the real "
        "ones 0)": variant(lambda r, f: mean(sp(r)) + mean(sp(-f))),
        "the sign is flipped: this is v; the discriminator maximises v, so its loss is -v = "
        "-mean log D(x) - mean log(1 - D(G(z)))": variant(lambda r, f: -_d_loss(r, f)),
        "sigmoid is applied twice: a cross-entropy from logits (from_logits=True) takes the "
        "logits themselves, not D = sigmoid(logit)": variant(
            lambda r, f: mean(sp(-sig(r))) + mean(sp(sig(f)))),
        "one mean over real and fake rows together (concatenate, then one mean): each term is "
        "its own mean, the two added": variant(
            lambda r, f: mean(ops.concatenate([sp(-r), sp(f)]))),
        "these are sums over the rows; each term of the loss is a mean": variant(
            lambda r, f: ops.sum(sp(-r)) + ops.sum(sp(f))),
        "the fake term is missing: add mean -log(1 - D(G(z))) = mean softplus(logit_fake)":
            variant(lambda r, f: mean(sp(-r)) + 0 * ops.sum(f)),
        "the real term is missing: add mean -log D(x) = mean softplus(-logit_real)": variant(
            lambda r, f: 0 * ops.sum(r) + mean(sp(f))),
    }  # fmt: skip
    print(verdict("discriminator_loss", got, want, mistakes))


def check_generator_loss(generator_loss: Callable[..., Any]) -> None:
    """Check ``generator_loss(logit_fake, saturating) -> loss``, a mean over the fakes:
    ``log(1 - D) = -softplus(logit)`` with ``saturating=True`` (the minimax game),
    ``-log D = softplus(-logit)`` with ``saturating=False``. Both kinds, value and gradient."""
    lf = exercises.gan_logits()["logit_fake"]

    def both(fn: Callable[..., Any], name: str = "generator_loss") -> dict:
        out = {}
        for saturating in (True, False):
            one = _loss(fn, name, G_LOSS, [lf], saturating)
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

    twice = both(lambda f, s: _g_loss(ops.sigmoid(f), _kind(s)), "variant")
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


def _nets(p: dict[str, Any]) -> tuple[keras.Model, keras.Model]:
    """The check's generator ``z -> fakes`` and discriminator ``x -> logits [n]`` (Keras
    models with the problem's weights)."""
    (latent, hidden), data = p["G1"].shape, p["G2"].shape[1]
    G = keras.Sequential([keras.Input((int(latent),)), layers.Dense(int(hidden), "relu"),
                          layers.Dense(int(data), "tanh")])  # fmt: skip
    D = keras.Sequential([keras.Input((int(data),)), layers.Dense(int(hidden)),
                          layers.LeakyReLU(LEAKY), layers.Dense(1),
                          layers.Reshape(())])  # fmt: skip
    for net, names in ((G, G_NAMES), (D, D_NAMES)):
        for v, name in zip(net.trainable_variables, names, strict=True):
            v.assign(p[name])
    return G, D


def _G(w: dict, z: Any) -> Any:
    return ops.tanh(ops.matmul(ops.relu(ops.matmul(z, w["G1"]) + w["g1"]), w["G2"]) + w["g2"])


def _D(w: dict, x: Any) -> Any:
    h = ops.leaky_relu(ops.matmul(x, w["D1"]) + w["d1"], LEAKY)
    return (ops.matmul(h, w["D2"]) + w["d2"])[:, 0]


def _step(
    p: dict[str, Any], saturating: bool, *, swap: bool = False, alternating: bool = False,
    d_takes_g: bool = False, g_takes_d: bool = False, d_on_g: bool = False,
    g_on_d: bool = False,
) -> dict[str, Any]:
    """The tutorial's ``train_step`` with SGD (with the defaults: both gradients from one
    pass, before either update), or a typical wrong one: labels swapped, the G step against
    the updated D, one loss for both networks, each network descending the other's loss."""
    w = {k: keras.Variable(ops.copy(p[k]), name=k) for k in G_NAMES + D_NAMES}  # p stays
    wd, wg = [w[k] for k in D_NAMES], [w[k] for k in G_NAMES]

    def losses() -> tuple[Any, Any]:
        values = {k: v.value for k, v in w.items()}
        lr, lf = _D(values, p["x"]), _D(values, _G(values, p["z"]))
        d = _d_loss(lf, lr) if swap else _d_loss(lr, lf)
        return d, _g_loss(lf, _kind(saturating))

    def pick(d_or_g: str, both: bool) -> Callable[[], tuple[Any, None]]:
        def fn() -> tuple[Any, None]:
            d, g = losses()
            return (d + g if both else (d if d_or_g == "d" else g)), None
        return fn

    d_loss, _, d_grads = loss_and_grads(pick("g" if d_on_g else "d", d_takes_g), wd)
    d_loss = losses()[0]
    g_at_start = losses()[1]
    new_d = [v.value - LR * g for v, g in zip(wd, d_grads, strict=True)]
    if alternating:
        for v, value in zip(wd, new_d, strict=True):
            v.assign(value)
    g_loss, _, g_grads = loss_and_grads(pick("d" if g_on_d else "g", g_takes_d), wg)
    g_loss = losses()[1] if alternating else g_at_start
    new_g = [v.value - LR * g for v, g in zip(wg, g_grads, strict=True)]
    flat = {net: ops.concatenate([ops.reshape(t, (-1,)) for t in values])
            for net, values in (("D", new_d), ("G", new_g))}  # fmt: skip
    return {"d_loss": d_loss, "g_loss": g_loss, **flat}


def _keys(out: dict[str, Any], saturating: bool) -> dict[str, Any]:
    tag = " (saturating=True)" if saturating else ""
    return {"d_loss": out["d_loss"], f"g_loss{tag}": out["g_loss"],
            f"D's weights after the step{tag}": out["D"],
            f"G's weights after the step{tag}": out["G"]}  # fmt: skip


def _both(**kw: Any) -> dict[str, Any]:
    p = gan_problem()
    return {**_keys(_step(p, False, **kw), False), **_keys(_step(p, True, **kw), True)}


def _recording(name: str, log: list[str]) -> keras.optimizers.Optimizer:
    """SGD whose ``apply`` (also behind ``apply_gradients``) notes each call in ``log``."""
    opt = keras.optimizers.SGD(LR)
    apply = opt.apply

    def recorded(grads: Any, trainable_variables: Any = None) -> Any:
        log.append(name)
        return apply(grads, trainable_variables)

    opt.apply = recorded
    return opt


def _run_student(train_step: Callable[..., Any], saturating: bool) -> dict[str, Any]:
    p = gan_problem()
    G, D = _nets(p)
    log: list[str] = []
    g_opt, d_opt = _recording("g", log), _recording("d", log)
    out = call_student(train_step, "train_step", TRAIN_STEP, G, D, g_opt, d_opt, p["x"], p["z"],
                       saturating)  # fmt: skip
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise return_error("train_step", "two values (d_loss, g_loss)", out)
    for net, name in (("d", "d_opt"), ("g", "g_opt")):
        count = log.count(net)
        whose = {"d": "discriminator", "g": "generator"}[net]
        other = {"d": "generator", "g": "discriminator"}[net]
        if count == 0:
            raise NotYetRight(f"train_step: the {whose} was not updated: {name}.apply(grads, "
                              f"{whose}.trainable_variables)")  # fmt: skip
        if count > 1:
            raise NotYetRight(f"train_step: {name} was applied {count} times in one step: the "
                              f"{other}'s update must not move the {whose}")  # fmt: skip
    flat = {net: ops.concatenate([ops.reshape(v.value, (-1,)) for v in model.trainable_variables])
            for net, model in (("D", D), ("G", G))}  # fmt: skip
    return {"d_loss": out[0], "g_loss": out[1], **flat}


def check_train_step(train_step: Callable[..., Any]) -> None:
    """Check ``train_step(generator, discriminator, g_opt, d_opt, x, z, saturating) -> (d_loss,
    g_loss)``, the TensorFlow DCGAN tutorial's step: from one pass (``fake = generator(z)``,
    the discriminator's logits on ``x`` and on ``fake``), the gradient of ``d_loss`` by the
    discriminator's weights and of ``g_loss`` by the generator's, each applied by its own
    optimizer. Runs it with ``saturating=False`` and ``True`` on small MLPs (SGD) and compares
    the losses and both networks' weights after the step with coursekit's."""
    got = {**_keys(_run_student(train_step, False), False),
           **_keys(_run_student(train_step, True), True)}  # fmt: skip
    want = _both()
    p = gan_problem()
    swapped = {**_keys(_step(p, True), False), **_keys(_step(p, False), True)}
    mistakes = {
        "the labels are swapped in the discriminator's loss: real images are labelled 1, "
        "fakes 0": _both(swap=True),
        "saturating=True and False are swapped: True is the minimax game's log(1 - D(G(z)))":
            swapped,
        "the generator descends the discriminator's loss: take g_loss's gradient by the "
        "generator's weights": _both(g_on_d=True),
        "the discriminator descends the generator's loss: take d_loss's gradient by the "
        "discriminator's weights": _both(d_on_g=True),
        "the generator's update includes the discriminator's loss (one loss, d_loss + g_loss, "
        "for both): the discriminator's loss must not move the generator": _both(
            g_takes_d=True),
        "the discriminator's update includes the generator's loss (one loss, d_loss + g_loss, "
        "for both): the generator's step must not move the discriminator": _both(
            d_takes_g=True),
        "both networks descend d_loss + g_loss: take each loss's gradient by its own network's "
        "weights (two tapes in the tutorial)": _both(d_takes_g=True, g_takes_d=True),
        "the generator's step ran against the updated discriminator (pytorch/examples' order); "
        "the tutorial takes both gradients from one pass, before either update": _both(
            alternating=True),
    }  # fmt: skip
    print(verdict("train_step", got, want, mistakes))
