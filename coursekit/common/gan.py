"""What the PyTorch and Keras DCGANs (week 4) share, framework-free: input checks, the weight
layout both load, their common initial weights, and the file format.

Both DCGANs take square ``L x L`` images, ``L = image_side``: 28 for MNIST (the default, the
tutorial's networks), 16 for the Ising configurations of the course; any multiple of 4 from 8.
The generator starts at ``s = L / 4`` (7 for 28, 4 for 16) and doubles it twice; the
discriminator's two stride-2 convolutions halve ``L`` twice back to ``s``.

Every check raises a :class:`ValueError` that names the argument and says what was expected
(:mod:`coursekit.checks`).

**Weights** are exchanged as a dict of NumPy float32 arrays in Keras' layout (the canonical
layout; :mod:`coursekit.torch.gan` transposes on the way in and out):

=======================  ===========================================  ========================
name                     shape                                        layer
=======================  ===========================================  ========================
``g/dense/kernel``       [latent_dim, s^2 c0]                         Dense, no bias
``g/bn0/{gamma,beta,moving_mean,moving_variance}``  [s^2 c0]          BatchNorm
``g/deconv1/kernel``     [5, 5, c1, c0]                               Conv2DTranspose, stride 1
``g/bn1/...``            [c1]
``g/deconv2/kernel``     [5, 5, c2, c1]                               Conv2DTranspose, stride 2
``g/bn2/...``            [c2]
``g/deconv3/kernel``     [5, 5, 1, c2]                                Conv2DTranspose, stride 2
``d/conv1/{kernel,bias}``  [5, 5, 1, d1], [d1]                        Conv2D, stride 2
``d/conv2/{kernel,bias}``  [5, 5, d1, d2], [d2]                       Conv2D, stride 2
``d/dense/{kernel,bias}``  [s^2 d2, 1], [1]                           Dense (the logit)
=======================  ===========================================  ========================

with generator channels ``(c0, c1, c2)``, discriminator channels ``(d1, d2)`` and
``s = image_side / 4`` (``s^2 = 49`` for 28 x 28 images, 16 for 16 x 16).
"""

from __future__ import annotations

import json
import math
import os
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from coursekit.checks import (
    check_float,
    check_image_batch,
    check_int,
    check_numbers,
    check_seed,
    warn_deprecated,
)
from coursekit.io import read_npz, write_npz

__all__ = [
    "FILE_FORMAT",
    "LOSSES",
    "check_channels",
    "DCGANBase",
    "DEFAULT_SIDE",
    "check_config",
    "check_image_side",
    "check_images_pm1",
    "check_latent_dim",
    "check_loss",
    "check_lr",
    "check_seed",
    "check_weights",
    "check_z",
    "diverged_message",
    "initial_weights",
    "read_gan",
    "weight_shapes",
    "write_gan",
]

#: Tag of saved DCGAN files (the same for both frameworks: either can load the other's file).
FILE_FORMAT = "coursekit.DCGAN/1"
#: The generator losses.
LOSSES = ("non_saturating", "saturating")
#: Slope of the leaky ReLU for negative inputs (Keras' default, used by the tutorial).
LEAKY_SLOPE = 0.3
#: Batch normalisation's epsilon (Keras' default; torch's is 1e-5).
BN_EPS = 1e-3
#: The four arrays of a batch-norm layer, by their Keras names.
BATCH_NORM = ("gamma", "beta", "moving_mean", "moving_variance")
#: The side of the images by default (MNIST's 28 x 28, the tutorial's); also that of a file
#: saved before the DCGANs took other sizes (its config has no ``image_side``).
DEFAULT_SIDE = 28


def check_latent_dim(value: Any) -> int:
    """``value`` as an int >= 1 (the dimension of the generator's noise ``z``)."""
    return check_int(value, "latent_dim", 1, "the dimension of the noise z")


def check_image_side(value: Any) -> int:
    """``value`` as an int >= 8 and a multiple of 4: the side ``L`` of the ``L x L`` images (the
    generator starts at ``L / 4`` and doubles it twice; the discriminator halves it twice)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or value < 8
        or value % 4
    ):
        raise ValueError(
            "image_side (pixels along each side of the square images) must be an int >= 8 and "
            "a multiple of 4 (the generator starts at image_side / 4 and doubles it twice; 28 "
            f"for MNIST, 16 for the Ising lattices), got {value!r}"
        )
    return int(value)


def check_loss(value: Any) -> str:
    """``"non_saturating"`` or ``"saturating"``."""
    if value not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {value!r}")
    return value


def check_lr(value: Any, name: str = "learning_rate") -> float:
    """``value`` as a finite float > 0 (Adam's step size)."""
    return check_float(value, name, "> 0", "Adam's step size")


def check_channels(value: Any, name: str, length: int) -> tuple[int, ...]:
    """``value`` as a tuple of ``length`` ints >= 1 (layer widths)."""
    try:
        out = tuple(value)
    except TypeError:
        out = ()
    if len(out) != length or any(
        isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 1 for c in out
    ):
        raise ValueError(f"{name} must be {length} ints >= 1 (channels per layer), got {value!r}")
    return tuple(int(c) for c in out)


def check_images_pm1(
    x: Any, name: str = "x", layout: str = "nhwc", side: int = DEFAULT_SIDE
) -> np.ndarray:
    """``side x side`` images (``L = side``) as float32 ``[n, L, L, 1]`` (``layout="nhwc"``) or
    ``[n, 1, L, L]`` ("nchw") with values in [-1, 1], the range of the generator's tanh.

    Accepts ``[n, L*L]``, ``[n, L, L]``, ``[n, L, L, 1]`` or ``[n, 1, L, L]`` (arrays,
    tensors; for 28: ``[n, 784]``, ``[n, 28, 28]``, ...); any other shape, e.g. 28 x 28 images
    for a model of side 16, is refused naming the shapes expected. Refuses uint8 images, values
    outside [-1, 1], and images with no negative value (they look like [0, 1] intensities: pass
    ``2 * x - 1``); Ising spins in {-1, +1} are taken as they are.
    """
    img = check_image_batch(
        x, name, expect="values in [-1, 1]: pass 2 * ck.data.to_float(images) - 1", side=side
    )
    if not np.all(np.isfinite(img)):
        raise ValueError(f"{name} contains NaN or infinite values")
    lo, hi = float(img.min()), float(img.max())
    if lo < -1.0 - 1e-5 or hi > 1.0 + 1e-5:
        raise ValueError(
            f"{name} must have values in [-1, 1] (the generator's tanh range), got "
            f"[{lo:.3g}, {hi:.3g}]"
        )
    if lo >= 0.0:
        raise ValueError(
            f"{name} has no negative values (range [{lo:.3g}, {hi:.3g}]): these look like "
            "images in [0, 1], but the generator works in [-1, 1] (tanh); pass 2 * x - 1"
        )
    img = np.clip(img, -1.0, 1.0)
    return img[:, None] if layout == "nchw" else img[..., None]


def weight_shapes(
    latent_dim: int,
    generator_channels: tuple[int, ...],
    discriminator_channels: tuple[int, ...],
    image_side: int = DEFAULT_SIDE,
) -> dict[str, tuple[int, ...]]:
    """Names and shapes of the canonical weights (see the module docstring)."""
    c0, c1, c2 = generator_channels
    d1, d2 = discriminator_channels
    cells = (image_side // 4) ** 2  # the generator's first grid, the discriminator's last
    shapes: dict[str, tuple[int, ...]] = {"g/dense/kernel": (latent_dim, cells * c0)}
    for i, (width, kernel) in enumerate(
        [(cells * c0, None), (c1, (5, 5, c1, c0)), (c2, (5, 5, c2, c1))]
    ):
        if kernel is not None:
            shapes[f"g/deconv{i}/kernel"] = kernel
        for p in BATCH_NORM:
            shapes[f"g/bn{i}/{p}"] = (width,)
    shapes["g/deconv3/kernel"] = (5, 5, 1, c2)
    shapes.update({
        "d/conv1/kernel": (5, 5, 1, d1), "d/conv1/bias": (d1,),
        "d/conv2/kernel": (5, 5, d1, d2), "d/conv2/bias": (d2,),
        "d/dense/kernel": (cells * d2, 1), "d/dense/bias": (1,),
    })  # fmt: skip
    return shapes


def _fans(name: str, shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = shape[0] * shape[1]
    return receptive * shape[2], receptive * shape[3]


def initial_weights(
    latent_dim: int,
    generator_channels: tuple[int, ...],
    discriminator_channels: tuple[int, ...],
    seed: int,
    image_side: int = DEFAULT_SIDE,
) -> dict[str, np.ndarray]:
    """Initial weights, identical in both frameworks: Glorot-uniform kernels (Keras' default;
    Glorot and Bengio 2010), zero biases, batch norm ``gamma = 1, beta = 0``, moving mean 0,
    moving variance 1."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in weight_shapes(
        latent_dim, generator_channels, discriminator_channels, image_side
    ).items():
        last = name.rsplit("/", 1)[1]
        if last == "kernel":
            fan_in, fan_out = _fans(name, shape)
            limit = math.sqrt(6.0 / (fan_in + fan_out))
            out[name] = rng.uniform(-limit, limit, shape).astype(np.float32)
        elif last in ("gamma", "moving_variance"):
            out[name] = np.ones(shape, np.float32)
        else:
            out[name] = np.zeros(shape, np.float32)
    return out


def check_z(z: Any, latent_dim: int) -> np.ndarray:
    """Noise ``z`` as float32 ``[n, latent_dim]`` of finite numbers (array or tensor)."""
    what = f"noise [n, {latent_dim}] (latent_dim = {latent_dim})"
    arr = check_numbers(z, "z", what)
    if arr.ndim != 2 or arr.shape[1] != latent_dim:
        raise ValueError(f"z must be {what}, got shape {arr.shape}")
    return arr.astype(np.float32)


def check_weights(weights: dict[str, Any], expected: dict[str, tuple[int, ...]]) -> dict:
    """``weights`` as float32 arrays with exactly the expected names and shapes, all finite
    (every array is checked before any is returned: a bad one changes nothing)."""
    if not isinstance(weights, Mapping):
        raise ValueError(f"weights must be a dict name -> array, as get_weights() returns it, "
                         f"got {type(weights).__name__}")  # fmt: skip
    missing = sorted(set(expected) - set(weights))
    extra = sorted(set(weights) - set(expected))
    if missing or extra:
        raise ValueError(f"weights: missing {missing}, unexpected {extra}")
    out = {}
    for name, shape in expected.items():
        arr = np.asarray(weights[name], dtype=np.float32)
        if arr.shape != shape:
            raise ValueError(f"weights[{name!r}] must have shape {shape}, got {arr.shape}")
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        if bad:
            raise ValueError(f"weights[{name!r}] holds {bad} NaN or infinite values (weights of "
                             "a run that diverged?)")  # fmt: skip
        out[name] = arr
    return out


def check_config(saved: dict[str, Any], own: dict[str, Any], path: Any) -> None:
    """Refuse a file whose architecture differs from the model's."""
    for key, value in own.items():
        got = saved.get(key)
        if isinstance(value, tuple):
            got = tuple(got) if got is not None else None
        if got != value:
            raise ValueError(
                f"{path} holds a DCGAN with {key}={got!r}, this one has {key}={value!r}; "
                "build a matching model or use DCGAN.load(path), which does"
            )


def diverged_message(update: int, stats: dict[str, float], learning_rate: float, loss: str) -> str:
    """The message of a NaN/inf loss, naming the likely causes."""
    shown = ", ".join(f"{k} = {v:.4g}" for k, v in stats.items())
    hint = (
        "the saturating loss log(1 - D(G(z))) is flat where the discriminator wins, so "
        "try loss='non_saturating'; "
        if loss == "saturating"
        else ""
    )
    return (
        f"GAN training diverged at update {update}: {shown}. Likely cause: a learning rate too "
        f"large (now {learning_rate:g}; the DCGAN tutorial uses 1e-4) making the weights blow "
        f"up, or inputs outside [-1, 1]; {hint}the weights before this update are kept."
    )


def write_gan(
    path: str | os.PathLike[str], config: dict[str, Any], weights: dict[str, np.ndarray],
    updates: int,
) -> Path:  # fmt: skip
    """Write a DCGAN file (.npz, atomically): format tag, config (JSON), updates, weights."""
    arrays = {
        "format": np.array(FILE_FORMAT),
        "config": np.array(json.dumps(config)),
        "updates": np.array(int(updates)),
    }
    arrays.update({f"w:{k}": v for k, v in weights.items()})
    return write_npz(path, arrays, "DCGAN")


def read_gan(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray], int]:
    """``(config, weights, updates)`` from a file written by :func:`write_gan`. A config
    without ``image_side`` (a file saved before the DCGANs took other sizes) gets 28."""
    z = read_npz(path, "DCGAN", file_format=FILE_FORMAT, writer="DCGAN.save")
    config = json.loads(str(z["config"]))
    config.setdefault("image_side", DEFAULT_SIDE)
    weights = {k[2:]: v for k, v in z.items() if k.startswith("w:")}
    latent, channels = config.get("latent_dim"), (config.get("generator_channels"),
                                                  config.get("discriminator_channels"))
    try:  # every weight the saved architecture has, of its shape: else name the file
        side = check_image_side(config["image_side"])
        check_weights(weights, weight_shapes(latent, *channels, side))
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path} does not hold the weights of the DCGAN its config describes "
                         f"({err}): the file is damaged") from None
    return config, weights, int(z["updates"])


class _Load:
    """``DCGAN.load(path)``: a new model built from the file; on an instance, the old API.

    ``gan.load(path)`` (an instance method until the package's restructuring) loaded the
    weights into ``gan``; for one release it still does, with a ``DeprecationWarning``.
    """

    def __get__(self, obj: Any, cls: type) -> Any:
        if obj is None:
            return types.MethodType(_load_new, cls)
        return types.MethodType(_load_into_deprecated, obj)


def _load_new(cls: type, path: str | os.PathLike[str], **settings: Any) -> Any:
    """A DCGAN built with a saved file's settings, holding its weights and update count.

    The file may come from either framework's :meth:`save`. ``settings`` override the saved
    non-structural ones (``loss``, ``learning_rate``, ``beta_1``, ``dropout``) or add a
    ``seed`` for the model's noise.
    """
    config, _, _ = read_gan(path)
    saved = {k: config[k] for k in ("loss", "learning_rate", "beta_1", "dropout")}
    model = cls(
        config["latent_dim"],
        generator_channels=tuple(config["generator_channels"]),
        discriminator_channels=tuple(config["discriminator_channels"]),
        image_side=config["image_side"],
        **{**saved, **settings},
    )
    return model._load_into(path)


def _load_into_deprecated(model: Any, path: str | os.PathLike[str]) -> Any:
    warn_deprecated("gan.load(path) on a model", "DCGAN.load(path), which builds the model from "
                    "the file")  # fmt: skip
    return model._load_into(path)


class DCGANBase:
    """What both frameworks' DCGAN classes share: their checked settings, the architecture they
    describe, and saving and loading (one file format: either framework loads the other's).

    The class using it calls :meth:`_settings` first in its constructor and provides
    ``get_weights``/``set_weights`` in the shared layout and an ``updates`` count.
    """

    def _settings(
        self,
        latent_dim: Any,
        generator_channels: Any,
        discriminator_channels: Any,
        loss: Any,
        learning_rate: Any,
        beta_1: Any,
        dropout: Any,
        seed: Any,
        image_side: Any = DEFAULT_SIDE,
    ) -> int | None:
        """Check and keep the constructor's settings; returns the checked ``seed`` (None: the
        framework draws one from its global generator)."""
        self.latent_dim = check_latent_dim(latent_dim)
        self.image_side = check_image_side(image_side)
        self.generator_channels = check_channels(generator_channels, "generator_channels", 3)
        self.discriminator_channels = check_channels(
            discriminator_channels, "discriminator_channels", 2
        )
        self.loss = check_loss(loss)
        self.learning_rate = check_lr(learning_rate)
        self.beta_1 = check_float(beta_1, "beta_1", "in [0, 1)", "Adam's first-moment decay")
        self.dropout = check_float(dropout, "dropout", "in [0, 1)", "dropout rate")
        return check_seed(seed)

    @property
    def _channels(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        return self.generator_channels, self.discriminator_channels

    @property
    def config(self) -> dict[str, Any]:
        """The architecture (what a saved file must match), ``image_side`` included."""
        return {
            "latent_dim": self.latent_dim,
            "generator_channels": self.generator_channels,
            "discriminator_channels": self.discriminator_channels,
            "image_side": self.image_side,
        }

    def _initial_weights(self) -> dict[str, np.ndarray]:
        """The seeded initial weights (:func:`initial_weights`), the same in both frameworks."""
        return initial_weights(self.latent_dim, *self._channels, self.seed, self.image_side)

    def _check_weights(self, weights: dict[str, Any]) -> dict[str, np.ndarray]:
        return check_weights(
            weights, weight_shapes(self.latent_dim, *self._channels, self.image_side)
        )

    def _images(self, x: Any, name: str, layout: str) -> np.ndarray:
        """``x`` checked as a batch of this model's ``image_side`` images in [-1, 1]
        (:func:`check_images_pm1`), ``[n, L, L, 1]`` ("nhwc") or ``[n, 1, L, L]`` ("nchw")."""
        return check_images_pm1(x, name, layout=layout, side=self.image_side)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write architecture, settings, weights and update count to ``path`` (.npz, atomic).
        The file loads into either framework's DCGAN. (Optimiser state is not saved.)"""
        config = {**self.config, "loss": self.loss, "learning_rate": self.learning_rate,
                  "beta_1": self.beta_1, "dropout": self.dropout}  # fmt: skip
        return write_gan(path, config, self.get_weights(), self.updates)

    load = _Load()

    def _load_into(self, path: str | os.PathLike[str]) -> Any:
        config, weights, updates = read_gan(path)
        check_config(config, self.config, path)
        self.set_weights(weights)
        self.updates = updates
        return self

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **settings: Any) -> Any:
        """Deprecated: use :meth:`load`."""
        warn_deprecated("DCGAN.from_file", "DCGAN.load")
        return _load_new(cls, path, **settings)
