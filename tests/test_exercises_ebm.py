"""Week 2's exercise checks (the EBM: Langevin chains, the replay buffer's draw, the contrastive
loss), PyTorch and Keras: each passes the solution, names each typical mistake in the student's
terms, and answers bad input with one message (never a traceback from inside coursekit)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from coursekit.common.exercises import ExerciseMessage, NotWrittenYet, NotYetRight

# ---- PyTorch: students' versions, right (the defaults) and wrong (by keyword) ---------------


def langevin(energy, x, noise, step_size, noise_scale, grad_clip, *, var=2.0, clamp=True,
             sign=1.0, clip=True, first_noise=False, mean=False):  # fmt: skip
    if noise_scale is None:
        noise_scale = (var * step_size) ** 0.5
    for w in noise:
        x = x.detach().requires_grad_(True)
        e = energy(x)
        (grad,) = torch.autograd.grad(-(e.mean() if mean else e.sum()), x)
        if grad_clip is not None and clip:
            grad = grad.clamp(-grad_clip, grad_clip)
        x = x + sign * step_size * grad + noise_scale * (noise[0] if first_noise else w)
        if clamp:
            x = x.clamp(-1, 1)
    return x.detach()


def buffer_draw(buffer, idx, fresh, restart, *, count=round, last=False, first_rows=False):
    n = len(idx)
    k = count(restart * n)
    x0 = buffer[:n].clone() if first_rows else buffer[idx]
    if last:
        x0[n - k:] = fresh[n - k:]
    else:
        x0[:k] = fresh[:k]
    return x0


def ebm_loss(energy, x_data, x_fake, alpha, *, sign=1.0, reg="both", detach=True, sums=False):
    e_data, e_fake = energy(x_data), energy(x_fake.detach() if detach else x_fake)
    mean = torch.sum if sums else torch.mean
    penalty = {"both": alpha * (mean(e_data**2) + mean(e_fake**2)), "none": 0.0,
               "data": alpha * mean(e_data**2), "fake": alpha * mean(e_fake**2),
               "no alpha": mean(e_data**2) + mean(e_fake**2),
               "square of mean": alpha * (mean(e_data) ** 2 + mean(e_fake) ** 2)}[reg]
    return sign * (mean(e_data) - mean(e_fake)) + penalty


def _with(fn, **kw):
    return lambda *args: fn(*args, **kw)


def test_the_torch_solutions_pass(capsys):
    from coursekit.torch import exercises as ex

    ex.check_langevin(langevin)
    ex.check_buffer_draw(buffer_draw)
    ex.check_ebm_loss(ebm_loss)
    out = capsys.readouterr().out.splitlines()
    assert [line.split(" agrees")[0] for line in out] == [
        "✓ langevin", "✓ buffer_draw", "✓ ebm_loss"]


LANGEVIN_MISTAKES = [
    ({"var": 1.0}, "samples p\\^2, not p: .* sqrt\\(2 step_size\\)"),
    ({"sign": -1.0}, "the chains climb the energy"),
    ({"clamp": False}, "not clamped to \\[-1, 1\\]"),
    ({"clip": False}, "the gradient is not clipped"),
    ({"first_noise": True}, "every step uses noise\\[0\\]"),
    ({"mean": True}, "gradient of the sum"),
]
BUFFER_MISTAKES = [
    ({"count": lambda r: round(14 - r)}, "restart is inverted"),
    ({"count": int}, "3 rows restart, not 4: the count is round"),
    ({"count": lambda r: 0}, "no row restarts from noise"),
    ({"count": lambda r: 14}, "every row is fresh noise"),
    ({"last": True}, "the fresh rows are the last ones"),
    ({"first_rows": True}, "the stored rows are buffer\\[:n\\]"),
]
LOSS_MISTAKES = [
    ({"sign": -1.0}, "wrong sign: minimising it pushes the data's energy up"),
    ({"reg": "none"}, "the regulariser is missing"),
    ({"reg": "data"}, "the data's term only"),
    ({"reg": "fake"}, "the samples' term only"),
    ({"reg": "no alpha"}, "not multiplied by alpha"),
    ({"reg": "square of mean"}, "squares the mean energy"),
    ({"sums": True}, "sums over the rows"),
    ({"detach": False}, "the samples are not (detached|held fixed)"),
]


@pytest.mark.parametrize(("mistake", "message"), LANGEVIN_MISTAKES)
def test_each_torch_langevin_mistake_is_named(mistake, message):
    from coursekit.torch import exercises as ex

    with pytest.raises(NotYetRight, match="^langevin: .*" + message):
        ex.check_langevin(_with(langevin, **mistake))


def _inverted(buffer, idx, fresh, restart):
    return buffer_draw(buffer, idx, fresh, 1 - restart)


@pytest.mark.parametrize(("mistake", "message"), BUFFER_MISTAKES)
def test_each_torch_buffer_mistake_is_named(mistake, message):
    from coursekit.torch import exercises as ex

    fn = _inverted if "inverted" in message else _with(buffer_draw, **mistake)
    with pytest.raises(NotYetRight, match="^buffer_draw: .*" + message):
        ex.check_buffer_draw(fn)


def test_a_draw_that_writes_into_the_buffer_is_named():
    from coursekit.torch import exercises as ex

    def in_place(buffer, idx, fresh, restart):
        k = round(restart * len(idx))
        buffer[idx[:k]] = fresh[:k]
        return buffer[idx]

    with pytest.raises(NotYetRight, match="the buffer itself changed"):
        ex.check_buffer_draw(in_place)


@pytest.mark.parametrize(("mistake", "message"), LOSS_MISTAKES)
def test_each_torch_loss_mistake_is_named(mistake, message):
    from coursekit.torch import exercises as ex

    with pytest.raises(NotYetRight, match="^ebm_loss: .*" + message):
        ex.check_ebm_loss(_with(ebm_loss, **mistake))


def test_the_loss_check_holds_students_to_the_package_ebm_train_step(one_torch_thread):
    """The loss the check asks for is the one coursekit.torch.EBM.train_step minimises: its
    reported loss equals the student's loss on the same energies."""
    from coursekit.torch import EBM
    from coursekit.torch.exercises.ebm import ebm_problem, tiny_energy

    p = ebm_problem(n=8, m=8)
    energy = tiny_energy(p)
    ebm = EBM(energy, (1, 5, 5), n_steps=2, buffer_size=16, data_noise=0.0, seed=0)
    start = ebm.buffer.states.copy()
    stats = ebm.train_step(p["x_data"])
    x_fake = torch.from_numpy(ebm.buffer.states[np.any(ebm.buffer.states != start,
                                                       axis=(1, 2, 3))])  # fmt: skip
    assert len(x_fake) == 8
    # the energy moved with the update: the loss is that of the weights before it
    assert stats["loss"] == pytest.approx(ebm_loss(tiny_energy(p), p["x_data"], x_fake,
                                                   0.1).item(), rel=1e-4, abs=1e-5)


# ---- bad input, the same for every check ----------------------------------------------------


def _stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize(
    ("fn", "error", "message"),
    [
        (_stub, NotWrittenYet, "^not written yet: langevin"),
        ("langevin", NotYetRight, "expected a function langevin"),
        (lambda energy, x: x, NotYetRight,
         r"must take 6 arguments: langevin\(energy, x, noise, step_size, noise_scale"),
        (lambda *a: langevin(*a)[:, :, :4], NotYetRight,
         r"x \(exact Langevin\) has shape \(8, 1, 4, 5\); expected \(8, 1, 5, 5\)"),
        (lambda *a: langevin(*a) * np.nan, NotYetRight, "NaN"),
        (lambda *a: 0.5, NotYetRight, "is a Python number; expected a tensor of shape"),
        (lambda *a: 1 / 0, NotYetRight, "langevin raised ZeroDivisionError"),
    ],
)  # fmt: skip
def test_bad_langevin_input_gets_one_message_and_no_traceback(fn, error, message):
    from coursekit.torch import exercises as ex

    with pytest.raises(error, match=message) as caught:
        ex.check_langevin(fn)
    assert isinstance(caught.value, ExerciseMessage)
    assert caught.value.__cause__ is None


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda *a: (ebm_loss(*a), 0.0), "must return a scalar tensor"),
        (lambda e, xd, xf, alpha: e(xd) - e(xf[:1]), r"must be a scalar, got shape \(8,\)"),
        (lambda e, xd, xf, alpha: torch.tensor(1.0), "does not depend on the energy's"),
        (lambda e, xd, xf, alpha: 0.5, "must return a scalar tensor"),
        (lambda *a: ebm_loss(*a) * np.nan, "loss contains NaN"),
    ],
)
def test_bad_loss_input_gets_one_message(fn, message):
    from coursekit.torch import exercises as ex

    with pytest.raises(NotYetRight, match=message):
        ex.check_ebm_loss(fn)
    with pytest.raises(NotWrittenYet, match="^not written yet: ebm_loss"):
        ex.check_ebm_loss(_stub)
    with pytest.raises(NotWrittenYet, match="^not written yet: buffer_draw"):
        ex.check_buffer_draw(_stub)
    with pytest.raises(NotYetRight, match=r"x0 has shape \(13, 1, 5, 5\)"):
        ex.check_buffer_draw(lambda *a: buffer_draw(*a)[1:])


# ---- Keras: the same checks on the current backend ------------------------------------------


def _ops():
    import coursekit.keras  # noqa: F401  (the backend is set before keras is imported)

    # isort: split
    from keras import ops

    return ops


def k_langevin(energy, x, noise, step_size, noise_scale, grad_clip, *, var=2.0, clamp=True,
               sign=1.0, clip=True, first_noise=False, mean=False):  # fmt: skip
    ops = _ops()
    from coursekit.keras.autodiff import input_value_and_grad

    if noise_scale is None:
        noise_scale = (var * step_size) ** 0.5
    for t in range(noise.shape[0]):
        fn = (lambda z: -ops.mean(energy(z))) if mean else (lambda z: -energy(z))
        _, grad = input_value_and_grad(fn, x)
        if grad_clip is not None and clip:
            grad = ops.clip(grad, -grad_clip, grad_clip)
        x = x + sign * step_size * grad + noise_scale * noise[0 if first_noise else t]
        if clamp:
            x = ops.clip(x, -1.0, 1.0)
    return x


def k_buffer_draw(buffer, idx, fresh, restart, *, count=round, last=False, first_rows=False):
    ops = _ops()
    n = idx.shape[0]
    k = count(restart * n)
    stored = buffer[:n] if first_rows else ops.take(buffer, idx, axis=0)
    if last:
        return ops.concatenate([stored[:n - k], fresh[n - k:]], axis=0)
    return ops.concatenate([fresh[:k], stored[k:]], axis=0)


def k_ebm_loss(energy, x_data, x_fake, alpha, *, sign=1.0, reg="both", detach=True,
               sums=False):  # fmt: skip
    ops = _ops()
    e_data = energy(x_data)
    e_fake = energy(ops.stop_gradient(x_fake) if detach else x_fake)
    mean = ops.sum if sums else ops.mean
    sq = ops.square
    penalty = {"both": alpha * (mean(sq(e_data)) + mean(sq(e_fake))), "none": 0.0,
               "data": alpha * mean(sq(e_data)), "fake": alpha * mean(sq(e_fake)),
               "no alpha": mean(sq(e_data)) + mean(sq(e_fake)),
               "square of mean": alpha * (sq(mean(e_data)) + sq(mean(e_fake)))}[reg]
    return sign * (mean(e_data) - mean(e_fake)) + penalty


@pytest.mark.keras
def test_the_keras_solutions_pass(capsys):
    from coursekit.keras import exercises as ex

    ex.check_langevin(k_langevin)
    ex.check_buffer_draw(k_buffer_draw)
    ex.check_ebm_loss(k_ebm_loss)
    out = capsys.readouterr().out.splitlines()
    assert [line.split(" agrees")[0] for line in out] == [
        "✓ langevin", "✓ buffer_draw", "✓ ebm_loss"]


@pytest.mark.keras
@pytest.mark.parametrize(("mistake", "message"), LANGEVIN_MISTAKES)
def test_each_keras_langevin_mistake_is_named(mistake, message):
    from coursekit.keras import exercises as ex

    with pytest.raises(NotYetRight, match="^langevin: .*" + message):
        ex.check_langevin(_with(k_langevin, **mistake))


@pytest.mark.keras
@pytest.mark.parametrize(("mistake", "message"), BUFFER_MISTAKES)
def test_each_keras_buffer_mistake_is_named(mistake, message):
    from coursekit.keras import exercises as ex

    if "inverted" in message:
        fn = lambda b, i, f, r: k_buffer_draw(b, i, f, 1 - r)  # noqa: E731
    else:
        fn = _with(k_buffer_draw, **mistake)
    with pytest.raises(NotYetRight, match="^buffer_draw: .*" + message):
        ex.check_buffer_draw(fn)


@pytest.mark.keras
@pytest.mark.parametrize(("mistake", "message"), LOSS_MISTAKES)
def test_each_keras_loss_mistake_is_named(mistake, message):
    from coursekit.keras import exercises as ex

    with pytest.raises(NotYetRight, match="^ebm_loss: .*" + message):
        ex.check_ebm_loss(_with(k_ebm_loss, **mistake))


@pytest.mark.keras
def test_keras_bad_input_gets_one_message():
    from coursekit.keras import exercises as ex

    ops = _ops()
    for check in (ex.check_langevin, ex.check_buffer_draw, ex.check_ebm_loss):
        with pytest.raises(NotWrittenYet, match="^not written yet: "):
            check(_stub)
        with pytest.raises(NotYetRight, match="expected a function"):
            check(None)
        with pytest.raises(NotYetRight, match="must take"):
            check(lambda a: a)
    with pytest.raises(NotYetRight, match=r"has shape \(8, 5, 5\); expected \(8, 5, 5, 1\)"):
        ex.check_langevin(lambda *a: k_langevin(*a)[..., 0])
    with pytest.raises(NotYetRight, match="NaN"):
        ex.check_langevin(lambda *a: k_langevin(*a) * np.nan)
    with pytest.raises(NotYetRight, match="is a Python number"):
        ex.check_buffer_draw(lambda *a: 1.0)
    with pytest.raises(NotYetRight, match="must be a scalar"):
        ex.check_ebm_loss(lambda e, xd, xf, alpha: e(xd))
    with pytest.raises(NotYetRight, match="does not depend on the energy's weights"):
        ex.check_ebm_loss(lambda e, xd, xf, alpha: ops.sum(xd) * 0.0)
    with pytest.raises(NotYetRight, match="must return a scalar tensor"):
        ex.check_ebm_loss(lambda e, xd, xf, alpha: 0.5)
