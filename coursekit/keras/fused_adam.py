"""The fast path of Keras' Adam on the torch backend: each update as torch's fused Adam kernel.

Keras' torch backend updates the weights with about ten ``torch._foreach_*`` passes over the
weights and the two moment estimates, each writing a temporary; for a VAE's 650,000 weights
that costs more than the forward pass. :class:`Adam` is ``keras.optimizers.Adam`` (same
arguments, same state: ``iterations`` and one momentum and one velocity per weight, the same
save format) whose update, on the torch backend, is ``torch._fused_adam_``: one pass per
tensor. Everything around it stays Keras': the learning rate (or schedule), gradient clipping,
weight decay, EMA, ``iterations``. With ``amsgrad=True``, on any other backend, or for weights
of another dtype than float32, it is Keras' own update.

The two differ in where ``epsilon`` sits. Keras computes

    m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2,
    w <- w - lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps),

and torch ``w <- w - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps')``; they agree for
``eps' = eps / sqrt(1 - b2^t)``, which is what is passed (equal to float rounding, tested).
"""

from __future__ import annotations

import math
from typing import Any

import keras

__all__ = ["Adam"]


@keras.saving.register_keras_serializable(package="coursekit")
class Adam(keras.optimizers.Adam):
    """``keras.optimizers.Adam`` with torch's fused kernel on the torch backend (see the
    module's docstring); the arguments are Keras'."""

    def _backend_update_step(self, grads: list[Any], trainable_variables: list[Any],
                             learning_rate: Any) -> None:  # fmt: skip
        if (keras.backend.backend() != "torch" or self.amsgrad
                or any(v.dtype != "float32" for v in trainable_variables)):  # fmt: skip
            return super()._backend_update_step(grads, trainable_variables, learning_rate)
        import torch

        with torch.no_grad():
            step = float(self.iterations.value) + 1.0
            index = [self._get_variable_index(v) for v in trainable_variables]
            params = [v.value for v in trainable_variables]
            m = [self._momentums[i].value for i in index]
            v = [self._velocities[i].value for i in index]
            # the kernel walks each tensor's memory in order: every one must be laid out alike
            # (a gradient that came back through a permuted view, as keras.native's kernels
            # do, has the transposed strides)
            grads = [g.to(p.dtype).contiguous() for g, p in zip(grads, params, strict=True)]
            if not all(t.is_contiguous() for t in (*params, *m, *v)):
                return super()._backend_update_step(grads, trainable_variables, learning_rate)
            step_t = torch.full((), step, dtype=torch.float32, device=params[0].device)
            torch._fused_adam_(
                params, grads, m, v, [], [step_t] * len(params),
                lr=float(learning_rate), beta1=float(self.beta_1), beta2=float(self.beta_2),
                weight_decay=0.0,
                eps=float(self.epsilon) / math.sqrt(1.0 - float(self.beta_2) ** step),
                amsgrad=False, maximize=False,
            )  # fmt: skip
        return None
