"""The labs' exercise checks (coursekit.torch.exercises, coursekit.keras.exercises): each passes
the solution, names each typical mistake in the student's terms, and answers bad input with one
message (never a traceback from inside coursekit). Week 1: the RBM."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from coursekit.common.exercises import ExerciseMessage, NotWrittenYet, NotYetRight

# ---- PyTorch: cd_gradient and momentum_step ------------------------------------------------


def cd_gradient(x, chain, W, a, b, u_h, u_x, *, sample=True, steps=None, sign=1.0, mean=True):
    """The solution (with the defaults), and the typical mistakes by keyword."""
    p_data = torch.sigmoid(x @ W + b)
    for s in range(len(u_h) if steps is None else steps):
        p_h = torch.sigmoid(chain @ W + b)
        h = (u_h[s] < p_h).float() if sample else p_h
        p_x = torch.sigmoid(h @ W.T + a)
        chain = (u_x[s] < p_x).float() if sample else p_x
    p_model = torch.sigmoid(chain @ W + b)
    n, m = (len(x), len(chain)) if mean else (1, 1)
    dW = x.T @ p_data / n - chain.T @ p_model / m
    da = x.sum(0) / n - chain.sum(0) / m
    db = p_data.sum(0) / n - p_model.sum(0) / m
    return sign * dW, sign * da, sign * db, chain


def _torch_mistake(**kw):
    return lambda x, chain, W, a, b, u_h, u_x: cd_gradient(x, chain, W, a, b, u_h, u_x, **kw)


def test_the_cd_gradient_solution_passes(capsys):
    from coursekit.torch import exercises as ex

    ex.check_cd_gradient(cd_gradient)
    assert capsys.readouterr().out.startswith("✓ cd_gradient agrees with coursekit")


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        ({"sign": -1.0}, "points downhill"),
        ({"sample": False}, "carries probabilities where it should draw binary states"),
        ({"mean": False}, "sums over the rows"),
        ({"steps": 1}, "one Gibbs step"),
    ],
)
def test_each_cd_gradient_mistake_is_named(mistake, message):
    from coursekit.torch import exercises as ex

    with pytest.raises(NotYetRight, match=message):
        ex.check_cd_gradient(_torch_mistake(**mistake))


def test_dividing_the_chains_by_n_is_named():
    from coursekit.torch import exercises as ex

    def by_n(x, chain, W, a, b, u_h, u_x):
        dW, da, db, end = cd_gradient(x, chain, W, a, b, u_h, u_x)
        m, n = len(chain), len(x)
        p_model = torch.sigmoid(end @ W + b)
        fix = end.T @ p_model / m - end.T @ p_model / n
        return dW + fix, da + end.mean(0) - end.sum(0) / n, db + p_model.mean(0) - (
            p_model.sum(0) / n), end

    with pytest.raises(NotYetRight, match="divided by n"):
        ex.check_cd_gradient(by_n)


def momentum_step(theta, velocity, grad, eta, momentum, decay):
    velocity = momentum * velocity + eta * (grad - decay * theta)
    return theta + velocity, velocity


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda t, v, g, eta, mu, d: ((v := mu * v + eta * (g + d * t)), t + v)[::-1],
         "pulls theta away from zero"),
        (lambda t, v, g, eta, mu, d: ((v := mu * v + eta * g - d * t), t + v)[::-1],
         "not scaled by eta"),
        (lambda t, v, g, eta, mu, d: (t + eta * (g - d * t), mu * v + eta * (g - d * t)),
         "gradient step alone"),
        (lambda t, v, g, eta, mu, d: (t + v, mu * v + eta * (g - d * t)), "old velocity"),
        (lambda t, v, g, eta, mu, d: ((v := mu * v - eta * (g - d * t)), t + v)[::-1],
         "goes downhill"),
    ],
)  # fmt: skip
def test_the_momentum_step_passes_and_each_mistake_is_named(capsys, wrong, message):
    from coursekit.torch import exercises as ex

    ex.check_momentum_step(momentum_step)
    assert "✓ momentum_step agrees" in capsys.readouterr().out
    with pytest.raises(NotYetRight, match=message):
        ex.check_momentum_step(lambda *args: wrong(*args))


def test_the_momentum_rule_is_the_rbms_update(one_torch_thread):
    """The rule the check holds students to is the one coursekit.torch.RBM.update applies."""
    from coursekit.torch import RBM
    from coursekit.torch.exercises import rbm_problem

    p = rbm_problem(m=20)  # CD: one chain per data row
    rbm = RBM(12, 7, k=2, eta=0.1, momentum=0.5, weight_decay=0.01, seed=0)
    rbm.set_weights(W=p["W"], a=p["a"], b=p["b"])
    dW, da, db = rbm.gradient(p["x"], uniforms=(p["u_h"], p["u_x"]))
    expected = {
        "W": momentum_step(p["W"], torch.zeros_like(p["W"]), dW, 0.1, 0.5, 0.01)[0],
        "a": momentum_step(p["a"], torch.zeros_like(p["a"]), da, 0.1, 0.5, 0.0)[0],
        "b": momentum_step(p["b"], torch.zeros_like(p["b"]), db, 0.1, 0.5, 0.0)[0],
    }
    rbm.update(p["x"], uniforms=(p["u_h"], p["u_x"]))
    for name, value in rbm.get_weights().items():
        np.testing.assert_allclose(value, expected[name].numpy(), rtol=1e-5, atol=1e-6)


# ---- bad input, the same for every check ----------------------------------------------------


def _stub(*args):
    raise NotImplementedError


def _wrong_shape(x, chain, W, a, b, u_h, u_x):
    dW, da, db, end = cd_gradient(x, chain, W, a, b, u_h, u_x)
    return dW.T, da, db, end


@pytest.mark.parametrize(
    ("fn", "error", "message"),
    [
        (_stub, NotWrittenYet, "^not written yet: cd_gradient"),
        (42, NotYetRight, "expected a function cd_gradient"),
        (lambda x, W: None, NotYetRight, r"must take 7 arguments: cd_gradient\(x, chain"),
        (lambda *a: cd_gradient(*a)[:3], NotYetRight, "must return four tensors"),
        (_wrong_shape, NotYetRight, r"dW has shape \(7, 12\); expected \(12, 7\)"),
        (lambda *a: (cd_gradient(*a)[0] * np.nan, *cd_gradient(*a)[1:]), NotYetRight, "NaN"),
        (lambda *a: (cd_gradient(*a)[0], 1.0, *cd_gradient(*a)[2:]), NotYetRight,
         "da is a Python number"),
        (lambda *a: 1 / 0, NotYetRight, "cd_gradient raised ZeroDivisionError"),
    ],
)  # fmt: skip
def test_bad_input_gets_one_message_and_no_traceback(fn, error, message):
    from coursekit.torch import exercises as ex

    with pytest.raises(error, match=message) as caught:
        ex.check_cd_gradient(fn)
    assert isinstance(caught.value, ExerciseMessage)
    assert caught.value._render_traceback_() == [str(caught.value)]  # how IPython shows it
    assert caught.value.__cause__ is None  # no chained traceback from inside coursekit


# ---- Keras: free_energy and cd_loss, on the current backend ---------------------------------


def _keras():
    import keras

    import coursekit.keras  # noqa: F401  (the backend is set before keras is imported)

    return keras, keras.ops


def free_energy(x, W, a, b, variant=""):
    _, ops = _keras()
    hidden = ops.matmul(x, W) + b
    fn = ops.sigmoid if variant == "sigmoid" else ops.softplus
    visible = 0.0 if variant == "no visible" else ops.matmul(x, a)
    sign = -1.0 if variant == "sign" else 1.0
    return sign * (-visible - ops.sum(fn(hidden), axis=1))


def cd_loss(x, chain, W, a, b, u_h, u_x, *, sample=True, detach=True, sign=1.0, mean=True,
            steps=None):  # fmt: skip
    _, ops = _keras()
    for s in range(u_h.shape[0] if steps is None else steps):
        p_h = ops.sigmoid(ops.matmul(chain, W) + b)
        h = ops.cast(u_h[s] < p_h, "float32") if sample else p_h
        p_x = ops.sigmoid(ops.matmul(h, ops.transpose(W)) + a)
        chain = ops.cast(u_x[s] < p_x, "float32") if sample else p_x
    if detach:
        chain = ops.stop_gradient(chain)
    reduce = ops.mean if mean else ops.sum
    loss = reduce(free_energy(x, W, a, b)) - reduce(free_energy(chain, W, a, b))
    return sign * loss, chain


@pytest.mark.keras
@pytest.mark.parametrize(
    ("variant", "message"),
    [
        ("", None),
        ("sign", "sign is flipped"),
        ("no visible", "visible bias term -a.T x is missing|visible bias term -a\\^T x is missing"),
        ("sigmoid", "not a sigmoid"),
    ],
)
def test_the_free_energy_check(capsys, variant, message):
    from coursekit.keras import exercises as ex

    fn = lambda x, W, a, b: free_energy(x, W, a, b, variant)  # noqa: E731
    if message is None:
        ex.check_free_energy(fn)
        assert capsys.readouterr().out.startswith("✓ free_energy agrees with coursekit")
    else:
        with pytest.raises(NotYetRight, match=message):
            ex.check_free_energy(fn)


@pytest.mark.keras
@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        ({}, None),
        ({"sign": -1.0}, "the loss is F\\(chains\\) - F\\(data\\)"),
        ({"sample": False, "detach": False}, "not detached: gradients flow through the chain"),
        ({"sample": False}, "carries probabilities"),
        ({"mean": False}, "sums over the rows"),
        ({"steps": 1}, "one Gibbs step"),
    ],
)
def test_the_cd_loss_check(capsys, mistake, message):
    from coursekit.keras import exercises as ex

    def fn(x, chain, W, a, b, u_h, u_x):
        return cd_loss(x, chain, W, a, b, u_h, u_x, **mistake)

    if message is None:
        ex.check_cd_loss(fn)
        assert capsys.readouterr().out.startswith("✓ cd_loss agrees with coursekit")
    else:
        with pytest.raises(NotYetRight, match=message):
            ex.check_cd_loss(fn)


@pytest.mark.keras
def test_keras_stubs_and_constant_losses_get_one_message():
    from coursekit.keras import exercises as ex

    with pytest.raises(NotWrittenYet, match="^not written yet: cd_loss"):
        ex.check_cd_loss(_stub)
    _, ops = _keras()
    with pytest.raises(NotYetRight, match="does not depend on W, a, b"):
        ex.check_cd_loss(lambda x, chain, W, a, b, u_h, u_x: (ops.sum(x) * 0.0, chain))
    with pytest.raises(NotYetRight, match="must be a scalar"):
        ex.check_cd_loss(lambda x, chain, W, a, b, u_h, u_x: (free_energy(x, W, a, b), chain))
