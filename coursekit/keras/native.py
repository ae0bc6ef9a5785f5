"""The fast path of the Keras models' forward passes: plain torch on the torch backend, and the
zero paddings folded into the convolutions on tensorflow.

On the torch backend every Keras layer call is Python around torch: each ``Conv2D`` turns its
channels-last input into a contiguous channels-first copy, then into a channels-last copy for
oneDNN, and turns the kernel likewise, and batch norm is computed op by op (the moments, then
subtract, scale and shift) instead of by torch's batch-norm kernel. :func:`native` reads the
layers of a chain-shaped model (``keras.Sequential``, or a functional model whose layers each
take the previous one's output) and returns a function that computes the same numbers with
``torch.nn.functional`` on the layers' own variables (``variable.value``, so gradients reach
them and ``assign`` / ``set_weights`` are seen), keeping images channels-first in name and
channels-last in memory from the first layer to the last, so that no layout copy runs in
between. A ``ZeroPadding2D`` just before a ``Conv2D`` becomes the convolution's own padding;
TensorFlow's asymmetric ``"same"`` padding (odd kernel, stride 2) still pads by one copy, as in
Keras. A transposed convolution adds its bias after the convolution and crops its output by a
negative padding, whose gradient stays channels-last (a slice's would be a contiguous copy).

On tensorflow every layer is already compiled into the caller's graph; there, only a
``ZeroPadding2D`` followed by a "valid" ``Conv2D`` changes: it becomes one ``tf.nn.conv2d``
with explicit padding, which saves the padded copy and its gradient's slice. Under a
``tf.distribute`` strategy with several replicas (and under ``torchrun`` on torch), dropout's
masks and batch norm's statistics are those of the global batch
(:mod:`coursekit.keras.distributed`); with one, the layers' own calls.

It is a drop-in for ``model(x, training=...)``: the same input and output shapes (Keras'
channels-last), the same values (tested against the Keras call to float tolerance), the same
batch-norm moving statistics; dropout draws its mask from the layer's own seed generator
(the same law, other numbers than the Keras call). On any other backend, or for a model with
a layer it does not know (or, on tensorflow, with nothing to fold), it returns the Keras call
unchanged: the fast path is never required.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

from coursekit.keras import distributed, draws

__all__ = ["native"]

#: The Keras activations with a torch function of their own (see :func:`_activation`).
_ACTIVATIONS = ("linear", "relu", "silu", "swish", "tanh", "sigmoid")

Forward = Callable[..., Any]


def _keras_call(model: keras.Model) -> Forward:
    def call(x: Any, training: bool = False) -> Any:
        return model(x, training=training)

    return call


def _chain(model: keras.Model) -> list[keras.layers.Layer] | None:
    """The model's layers in order if each takes the previous one's output, else None."""
    if isinstance(model, keras.Sequential):
        return list(model.layers)
    previous = None
    chain = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            previous = layer.output
            continue
        if layer.input is not previous:  # branches, merges or shared layers
            return None
        chain.append(layer)
        previous = layer.output
    return chain


def _same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "same" padding (before, after) of one spatial axis."""
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def native(model: keras.Model) -> Forward:
    """``f(x, training=False)`` equal to ``model(x, training=training)``; plain torch on the
    torch backend when every layer is one of Dense, Conv2D, Conv2DTranspose, ZeroPadding2D,
    BatchNormalization, LeakyReLU, Activation, Dropout, Flatten and Reshape (with the
    activations linear, relu, silu, tanh and sigmoid); on tensorflow, the layers' own calls
    with each ``ZeroPadding2D`` folded into the next convolution (:func:`_tf_chain`); else the
    Keras call itself."""
    backend = keras.backend.backend()
    chain = None if backend not in ("torch", "tensorflow") else _chain(model)
    if chain is not None and backend == "tensorflow":
        return _tf_chain(chain) or _keras_call(model)
    ops = None if chain is None else _compile(chain)
    if ops is None:
        return _keras_call(model)
    return _Forward(ops)


class _Forward:
    """The compiled chain: a list of ``op(x, image, training) -> (x, image)``; ``image`` says the
    tensor is ``[n, c, h, w]`` standing for Keras' ``[n, h, w, c]``."""

    def __init__(self, ops: list[Callable]) -> None:
        self.ops = ops

    def __call__(self, x: Any, training: bool = False) -> Any:
        x = keras.ops.convert_to_tensor(x, "float32")
        image = False
        if x.ndim == 4:  # [n, h, w, c] -> [n, c, h, w] view (channels-last memory)
            x, image = x.permute(0, 3, 1, 2), True
        for op in self.ops:
            x, image = op(x, image, bool(training))
        return x.permute(0, 2, 3, 1) if image else x


def _compile(chain: list[keras.layers.Layer]) -> list[Callable] | None:
    """The ops of a chain, or None if one layer is not known."""
    out: list[Callable] = []
    pad = 0  # a ZeroPadding2D waiting for the next layer
    for layer in chain:
        if type(layer) is keras.layers.ZeroPadding2D:
            (top, bottom), (left, right) = layer.padding
            if pad or not top == bottom == left == right or layer.data_format != "channels_last":
                return None
            pad = top
            continue
        if pad and not (type(layer) is keras.layers.Conv2D and layer.padding == "valid"):
            out.append(_zero_pad(pad))
            pad = 0
        op = _translate(layer, pad)
        if op is None:
            return None
        out.append(op)
        pad = 0
    if pad:
        out.append(_zero_pad(pad))
    return out


def _translate(layer: keras.layers.Layer, pad: int) -> Callable | None:
    if layer.compute_dtype != "float32":
        return None
    kind = type(layer)
    if kind is keras.layers.InputLayer:
        return lambda x, image, training: (x, image)
    if kind is keras.layers.Dense:
        return _dense(layer)
    if kind in (keras.layers.Conv2D, keras.layers.Conv2DTranspose):
        return _conv(layer, pad)
    if kind is keras.layers.BatchNormalization:
        return _batch_norm(layer)
    if kind is keras.layers.Dropout:
        return _dropout(layer)
    if kind is keras.layers.LeakyReLU:
        slope = float(layer.negative_slope)
        return lambda x, image, training: (_f().leaky_relu(x, slope), image)
    if kind is keras.layers.Activation:
        act = _activation(layer.activation)
        return None if act is False else (lambda x, image, training: (_apply(act, x), image))
    if kind is keras.layers.Flatten:
        return lambda x, image, training: (_keras_layout(x, image).flatten(1), False)
    if kind is keras.layers.Reshape:
        return _reshape(tuple(layer.target_shape))
    return None


def _f() -> Any:
    from torch.nn import functional

    return functional


def _activation(fn: Callable) -> Callable | None | bool:
    """The torch function for a Keras activation (None: linear; False: not known)."""
    name = getattr(fn, "__name__", "")
    if name not in _ACTIVATIONS:
        return False
    if name == "linear":
        return None
    import torch

    return {"relu": torch.relu, "silu": _f().silu, "swish": _f().silu, "tanh": torch.tanh,
            "sigmoid": torch.sigmoid}[name]  # fmt: skip


def _apply(act: Callable | None, x: Any) -> Any:
    return x if act is None else act(x)


def _keras_layout(x: Any, image: bool) -> Any:
    return x.permute(0, 2, 3, 1) if image else x


def _zero_pad(pad: int) -> Callable:
    def op(x: Any, image: bool, training: bool) -> tuple[Any, bool]:
        return _f().pad(x, (pad, pad, pad, pad)), image

    return op


def _reshape(target: tuple[int, ...]) -> Callable:
    def op(x: Any, image: bool, training: bool) -> tuple[Any, bool]:
        x = _keras_layout(x, image).reshape(x.shape[0], *target)
        if x.ndim == 4:  # [n, h, w, c] -> [n, c, h, w], a view
            return x.permute(0, 3, 1, 2), True
        return x, False

    return op


def _dense(layer: keras.layers.Layer) -> Callable | None:
    act = _activation(layer.activation)
    if act is False or getattr(layer, "lora_enabled", False):
        return None

    def op(x: Any, image: bool, training: bool) -> tuple[Any, bool]:
        bias = None if layer.bias is None else layer.bias.value
        y = _f().linear(_keras_layout(x, image), layer.kernel.value.T, bias)
        return _apply(act, y.permute(0, 3, 1, 2) if image else y), image

    return op


def _conv(layer: keras.layers.Layer, pad: int) -> Callable | None:
    """Conv2D (with a ZeroPadding2D's ``pad`` before it) or Conv2DTranspose, channels-last,
    groups 1, no dilation; TensorFlow's "same" padding (more after than before when odd)."""
    act = _activation(layer.activation)
    transpose = type(layer) is keras.layers.Conv2DTranspose
    if (act is False or layer.data_format != "channels_last" or tuple(layer.dilation_rate) != (1, 1)
            or getattr(layer, "groups", 1) != 1
            or (transpose and layer.output_padding is not None)):  # fmt: skip
        return None
    (kh, kw), (sh, sw) = tuple(layer.kernel_size), tuple(layer.strides)
    if transpose and (kh < sh or kw < sw):
        return None
    same = layer.padding == "same"

    def op(x: Any, image: bool, training: bool) -> tuple[Any, bool]:
        f = _f()
        # Keras' kernel [kh, kw, in, out] ([kh, kw, out, in] transposed) -> torch's order
        kernel = layer.kernel.value.permute(3, 2, 0, 1)
        bias = None if layer.bias is None else layer.bias.value
        h, w = x.shape[2], x.shape[3]
        if transpose:
            y = _conv_transpose(f, x, kernel, bias, (kh, kw), (sh, sw), same)
        elif same:
            (top, bottom), (left, right) = _same_pads(h, kh, sh), _same_pads(w, kw, sw)
            if top == bottom and left == right:
                y = f.conv2d(x, kernel, bias, (sh, sw), (top, left))
            else:  # asymmetric: one explicit pad, as TensorFlow does
                y = f.conv2d(f.pad(x, (left, right, top, bottom)), kernel, bias, (sh, sw))
        else:
            y = f.conv2d(x, kernel, bias, (sh, sw), pad)
        return _apply(act, y), True

    return op


def _conv_transpose(f: Any, x: Any, kernel: Any, bias: Any, size: tuple[int, int],
                    stride: tuple[int, int], same: bool) -> Any:  # fmt: skip
    """The transposed convolution of Keras: the output of a "same" one is ``stride`` times the
    input, cropped as the gradient of TensorFlow's "same" convolution (fewer before than after)."""
    # the bias is added apart: torch 2.13's channels-last transposed convolution with a bias
    # takes about twice as long, forward and backward, as without one
    if not same:
        y = f.conv_transpose2d(x, kernel, None, stride)
    else:  # the full output is (n - 1) s + k; "same" keeps n s of it from before = (k - s) // 2
        before = [(k - s) // 2 for k, s in zip(size, stride, strict=True)]
        y = f.conv_transpose2d(x, kernel, None, stride, tuple(before))
        extra_h = y.shape[2] - x.shape[2] * stride[0]
        extra_w = y.shape[3] - x.shape[3] * stride[1]
        if extra_h or extra_w:  # cropped by a negative pad: its gradient stays channels-last
            y = f.pad(y, (0, -extra_w, 0, -extra_h))  # (a slice's is a contiguous copy)
    return y if bias is None else y + bias.view(1, -1, 1, 1)


def _batch_norm(layer: keras.layers.Layer) -> Callable | None:
    """Batch norm over the channels: in training the batch's statistics, and the moving averages
    updated as Keras does (``m <- momentum m + (1 - momentum) batch``, biased variance)."""
    if layer.axis not in (-1, len(layer.input.shape) - 1) or getattr(layer, "renorm", False):
        return None
    eps, momentum = float(layer.epsilon), float(layer.momentum)

    def op(x: Any, image: bool, training: bool) -> tuple[Any, bool]:
        import torch

        gamma = None if layer.gamma is None else layer.gamma.value
        beta = None if layer.beta is None else layer.beta.value
        mean, var = layer.moving_mean.value, layer.moving_variance.value
        if not training or not layer.trainable:
            return _f().batch_norm(x, mean, var, gamma, beta, False, 0.0, eps), image
        dims = [0, 2, 3] if x.ndim == 4 else [0]
        moments = distributed.batch_norm_moments(x, dims)  # over all processes (torchrun)
        if moments is None:
            y = _f().batch_norm(x, None, None, gamma, beta, True, 0.0, eps)
            with torch.no_grad():
                batch_var, batch_mean = torch.var_mean(x, dim=dims, correction=0)
        else:
            batch_mean, batch_var = moments
            view = (1, -1, 1, 1) if x.ndim == 4 else (1, -1)
            y = (x - batch_mean.view(view)) * torch.rsqrt(batch_var + eps).view(view)
            if gamma is not None:
                y = y * gamma.view(view)
            if beta is not None:
                y = y + beta.view(view)
            batch_mean, batch_var = batch_mean.detach(), batch_var.detach()
        with torch.no_grad():
            layer.moving_mean.assign(mean * momentum + batch_mean * (1.0 - momentum))
            layer.moving_variance.assign(var * momentum + batch_var * (1.0 - momentum))
        return y, image

    return op


def _dropout(layer: keras.layers.Layer) -> Callable | None:
    """Inverted dropout with the mask from uniforms drawn by the layer's seed generator, in
    Keras' layout (so each unit's draw is the one it would get in a channels-last array)."""
    if layer.noise_shape is not None:
        return None
    rate = float(layer.rate)

    def op(x: Any, image: bool, training: bool) -> tuple[Any, bool]:
        if not training or rate == 0.0:
            return x, image
        u = draws.uniform(tuple(_keras_layout(x, image).shape), layer.seed_generator)
        mask = u.ge_(rate).mul_(1.0 / (1.0 - rate))
        return x * (mask.permute(0, 3, 1, 2) if image else mask), image

    return op


# ---- tensorflow: the padding folded --------------------------------------------------------


def _tf_chain(chain: list[keras.layers.Layer]) -> Forward | None:
    """On tensorflow every layer is already compiled into the caller's graph; what is left is
    the copy a ``ZeroPadding2D`` makes of its input (and its gradient's slice). ``tf.nn.conv2d``
    takes the padding itself (explicit padding), so a ``ZeroPadding2D`` followed by a "valid"
    ``Conv2D`` becomes one call; dropout and batch norm become :func:`_tf_replicas`; every
    other layer is called as Keras calls it. None when there is none of these (the Keras call
    is then the same thing)."""
    calls: list[Callable] = []
    folded = False
    for i, layer in enumerate(chain):
        nxt = chain[i + 1] if i + 1 < len(chain) else None
        if i and _foldable(chain[i - 1], layer):
            continue  # the convolution took this padding's place
        if nxt is not None and _foldable(layer, nxt):
            calls.append(_tf_conv(nxt, layer.padding))
            folded = True
        elif type(layer) in (keras.layers.Dropout, keras.layers.BatchNormalization):
            calls.append(_tf_replicas(layer))  # the Keras call itself with one replica
            folded = True
        else:
            calls.append(lambda x, training, layer=layer: layer(x, training=training))
    return _Folded(calls) if folded else None


def _tf_replicas(layer: keras.layers.Layer) -> Callable:
    """A dropout or batch-norm layer's call; under a ``tf.distribute`` strategy with several
    replicas, dropout's mask is the replica's share of the global batch's mask and batch norm
    takes the global batch's statistics (:mod:`coursekit.keras.distributed`), so that R
    replicas compute what one device does with the whole batch. Keras' own
    ``BatchNormalization(synchronized=True)`` computes the variance as ``E[x^2] - E[x]^2``,
    even on one device: another number than the layer's, and less accurate."""
    import tensorflow as tf

    dropout = type(layer) is keras.layers.Dropout

    def call(x: Any, training: bool) -> Any:
        if (not training or distributed.replicas() == 1
                or (dropout and (layer.rate == 0 or layer.noise_shape is not None))):
            return layer(x, training=training)
        if dropout:  # Keras' draw for the global batch, cut to this replica's rows
            keep = distributed.share_of_draw(keras.ops.shape(x), lambda full: keras.random.dropout(
                tf.ones(full, x.dtype), layer.rate, seed=layer.seed_generator))
            return x * keep
        axes = list(range(len(x.shape) - 1))
        mean, var = distributed.batch_norm_moments(x, axes)
        m = layer.momentum
        layer.moving_mean.assign(layer.moving_mean * m + mean * (1.0 - m))
        layer.moving_variance.assign(layer.moving_variance * m + var * (1.0 - m))
        return keras.ops.batch_normalization(x, mean, var, -1, layer.beta, layer.gamma,
                                             layer.epsilon)

    return call


class _Folded:
    """The tensorflow chain: ``calls``, a list of ``fn(x, training) -> x``."""

    def __init__(self, calls: list[Callable]) -> None:
        self.calls = calls

    def __call__(self, x: Any, training: bool = False) -> Any:
        x = keras.ops.convert_to_tensor(x, "float32")
        for fn in self.calls:
            x = fn(x, bool(training))
        return x


def _foldable(pad: keras.layers.Layer, conv: keras.layers.Layer) -> bool:
    return (type(pad) is keras.layers.ZeroPadding2D and type(conv) is keras.layers.Conv2D
            and pad.data_format == conv.data_format == "channels_last"
            and conv.padding == "valid" and conv.compute_dtype == "float32"
            and tuple(conv.dilation_rate) == (1, 1) and getattr(conv, "groups", 1) == 1
            and getattr(conv.activation, "__name__", "") in _ACTIVATIONS
            and not getattr(conv, "lora_enabled", False))  # fmt: skip


def _tf_conv(layer: keras.layers.Layer, padding: Any) -> Callable:
    import tensorflow as tf

    (top, bottom), (left, right) = padding
    pads = [[0, 0], [top, bottom], [left, right], [0, 0]]
    act = {"relu": tf.nn.relu, "silu": tf.nn.silu, "swish": tf.nn.silu, "tanh": tf.tanh,
           "sigmoid": tf.sigmoid}.get(layer.activation.__name__)  # fmt: skip

    def call(x: Any, training: bool) -> Any:
        y = tf.nn.conv2d(x, layer.kernel.value, tuple(layer.strides), pads)
        if layer.bias is not None:
            y = tf.nn.bias_add(y, layer.bias.value)
        return y if act is None else act(y)

    return call
