"""Gradients for Keras 3 code, from whichever backend runs it (tensorflow, torch or jax).

``keras.ops`` has no gradient function, so this is the one place that branches on
``keras.backend.backend()``: ``tf.GradientTape`` on tensorflow, ``torch.autograd`` on torch,
``jax.value_and_grad`` on jax. Everything else in :mod:`coursekit.keras` is backend-agnostic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras

from coursekit.config import quiet_native_stderr

__all__ = ["compile_fn", "input_value_and_grad", "loss_and_grads", "two_losses_and_grads"]


def input_value_and_grad(fn: Callable[[Any], Any], x: Any) -> tuple[Any, Any]:
    """``fn(x)`` (a vector [n]) and the gradient of its sum with respect to ``x``."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(x)
            value = fn(x)
        return value, tape.gradient(value, x)
    if backend == "torch":
        import torch

        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            value = fn(x)
            (grad,) = torch.autograd.grad(value.sum(), x)
        return value.detach(), grad
    if backend == "jax":  # pragma: no cover  (not installed here)
        import jax

        (_, value), grad = jax.value_and_grad(lambda z: (fn(z).sum(), fn(z)), has_aux=True)(x)
        return value, grad
    raise ValueError(f"Keras backend {backend!r} is not supported; use tensorflow, torch or jax.")


def loss_and_grads(
    fn: Callable[[], tuple[Any, Any]], variables: Sequence[keras.Variable]
) -> tuple[Any, Any, list[Any]]:
    """``(loss, aux), grads``: ``fn()`` returns a scalar loss and anything else; the gradients of
    the loss with respect to ``variables`` (trainable ``keras.Variable`` s)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss, aux = fn()
        return loss, aux, tape.gradient(loss, variables)
    if backend == "torch":
        import torch

        with torch.enable_grad():
            loss, aux = fn()
            grads = torch.autograd.grad(loss, [v.value for v in variables], allow_unused=True)
        return loss.detach(), aux, list(grads)
    raise ValueError(
        f"Keras backend {backend!r} is not supported for training; use tensorflow or torch."
    )


def two_losses_and_grads(
    fn: Callable[[], tuple[Any, Any, Any]],
    variables_a: Sequence[keras.Variable],
    variables_b: Sequence[keras.Variable],
    *,
    backward: bool = False,
) -> tuple[Any, list[Any], list[Any]]:
    """One forward pass, two gradients: ``fn()`` returns ``(loss_a, loss_b, aux)``; the result
    is ``aux``, the gradients of ``loss_a`` w.r.t. ``variables_a`` and of ``loss_b`` w.r.t.
    ``variables_b`` (a GAN's discriminator and generator, updated from the same pass).

    ``backward`` (torch only): through ``Tensor.backward(inputs=...)``, which runs the hooks
    ``DistributedDataParallel`` puts on the variables (they average the gradients over the
    processes), rather than ``torch.autograd.grad``, which skips them."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape(persistent=True) as tape:
            loss_a, loss_b, aux = fn()
        grads_a = tape.gradient(loss_a, variables_a)
        grads_b = tape.gradient(loss_b, variables_b)
        del tape
        return aux, grads_a, grads_b
    if backend == "torch":
        import torch

        if backward:
            return _backward_two(torch, fn, variables_a, variables_b)
        with torch.enable_grad():
            loss_a, loss_b, aux = fn()
            grads_a = torch.autograd.grad(
                loss_a, [v.value for v in variables_a], retain_graph=True, allow_unused=True
            )
            grads_b = torch.autograd.grad(loss_b, [v.value for v in variables_b], allow_unused=True)
        return aux, list(grads_a), list(grads_b)
    raise ValueError(
        f"Keras backend {backend!r} is not supported for training; use tensorflow or torch."
    )


def _backward_two(torch: Any, fn: Callable[[], tuple[Any, Any, Any]],
                  variables_a: Sequence[keras.Variable],
                  variables_b: Sequence[keras.Variable]) -> tuple[Any, list[Any], list[Any]]:
    params_a, params_b = [v.value for v in variables_a], [v.value for v in variables_b]
    for p in (*params_a, *params_b):
        p.grad = None
    with torch.enable_grad():
        loss_a, loss_b, aux = fn()
        loss_a.backward(inputs=params_a, retain_graph=True)
        loss_b.backward(inputs=params_b)
    grads_a, grads_b = [p.grad for p in params_a], [p.grad for p in params_b]
    for p in (*params_a, *params_b):
        p.grad = None
    return aux, grads_a, grads_b


def compile_fn(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` compiled with ``tf.function`` on the tensorflow backend, unchanged otherwise.

    Calls with argument shapes not seen before (the ones that trace and optimise a graph) run
    inside :func:`coursekit.config.quiet_native_stderr`, which drops grappler's C++ notices
    (``remapper failed ...``) and passes every other line on.
    """
    if keras.backend.backend() != "tensorflow":
        return fn
    import tensorflow as tf

    compiled = tf.function(fn, reduce_retracing=True)
    seen: set[tuple] = set()

    def call(*args: Any, **kwargs: Any) -> Any:
        signature = tuple(
            (tuple(a.shape), str(a.dtype)) if hasattr(a, "shape") else type(a).__name__
            for a in (*args, *kwargs.values())
        )
        if signature in seen:
            return compiled(*args, **kwargs)
        with quiet_native_stderr():
            out = compiled(*args, **kwargs)
        seen.add(signature)
        return out

    return call
