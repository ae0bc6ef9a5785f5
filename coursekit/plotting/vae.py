"""Pictures of a VAE's latent space (week 3), for either framework's model; NumPy + matplotlib.

A model here is anything with ``embed(x) -> [n, k]`` and ``decode_mean(z) -> [n, 784]``
(:class:`coursekit.torch.VAE` and :class:`coursekit.keras.VAE` both have them)::

    from coursekit.plotting import vae as vae_plots
    vae_plots.latent_scatter(vae.embed(x_test), y_test)
    vae_plots.manifold(vae, n=15)
    vae_plots.interpolation(vae, x_test[0], x_test[1])
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from coursekit.plotting.charts import plot_curves
from coursekit.plotting.images import image_grid
from coursekit.plotting.style import figure_and_axes

__all__ = [
    "elbo_curves", "interpolation", "latent_grid", "latent_scatter", "manifold", "terms_curves"
]


def latent_grid(n: int = 15, *, low: float = 0.05, high: float = 0.95) -> np.ndarray:
    """An ``n x n`` grid of 2-D latent points at equally spaced quantiles of N(0, 1).

    Rows of the result [n*n, 2] run over the grid row by row, top row first (the second
    coordinate decreases downwards, as on a plot). Quantiles, not equal steps, so every cell
    covers the same prior mass (Kingma and Welling 2014, figure 4).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n (grid points per axis) must be an int >= 2, got {n!r}")
    if not 0.0 < low < high < 1.0:
        raise ValueError(f"need 0 < low < high < 1, got low={low!r}, high={high!r}")
    values = np.array([NormalDist().inv_cdf(q) for q in np.linspace(low, high, n)])
    z1, z2 = np.meshgrid(values, values[::-1])
    return np.column_stack([z1.ravel(), z2.ravel()]).astype(np.float32)


def latent_scatter(
    z: Any, labels: Any, *, ax: Axes | None = None, title: str = "encoder means of test images"
) -> Figure:
    """Scatter the first two latent coordinates ``z`` [n, >=2], coloured by ``labels`` [n]."""
    z = np.asarray(z, dtype=np.float64)
    labels = np.asarray(labels)
    if z.ndim != 2 or z.shape[1] < 2 or len(labels) != len(z):
        raise ValueError(f"z must be [n, >=2] and labels [n], got {z.shape} and {labels.shape}")
    fig, ax = figure_and_axes(ax, (6.2, 5.2), layout="constrained")
    points = ax.scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", s=6, alpha=0.8,
                        vmin=-0.5, vmax=9.5)  # fmt: skip
    fig.colorbar(points, ax=ax, ticks=range(10), label="digit")
    ax.set_xlabel("$h_1$")
    ax.set_ylabel("$h_2$")
    ax.set_title(title)
    return fig


def manifold(model: Any, n: int = 15, *, title: str | None = None) -> Figure:
    """Decoded means ``p(x=1|h)`` on :func:`latent_grid` ``(n)`` (a 2-D latent space only)."""
    latent_dim = getattr(model, "latent_dim", None)
    if latent_dim != 2:
        raise ValueError(f"the manifold needs a model with latent_dim=2, got {latent_dim!r}")
    images = model.decode_mean(latent_grid(n))
    title = title or f"decoded grid, quantiles 5%..95% of N(0, 1) per axis ({n} x {n})"
    return image_grid(images, ncols=n, title=title)


def interpolation(model: Any, x_a: Any, x_b: Any, *, steps: int = 10) -> Figure:
    """Decode ``steps`` points on the line between the encoder means of two images."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 2:
        raise ValueError(f"steps must be an int >= 2, got {steps!r}")
    z = model.embed(np.stack([np.asarray(x_a), np.asarray(x_b)]).reshape(2, -1))
    t = np.linspace(0.0, 1.0, steps)[:, None]
    path = ((1 - t) * z[0] + t * z[1]).astype(np.float32)
    images = np.concatenate([np.asarray(x_a).reshape(1, -1), model.decode_mean(path),
                             np.asarray(x_b).reshape(1, -1)])  # fmt: skip
    return image_grid(
        images, ncols=steps + 2, title="image A | decoded path from mu(A) to mu(B) | image B"
    )


def terms_curves(history: Any, *, x_key: str = "updates") -> Figure:
    """The two ELBO terms per epoch (reconstruction ``-E[log p(x|h)]`` and KL), side by side.

    ``history`` is ``coursekit.torch.VAE.fit``'s dict or a Keras ``History`` (``.history``);
    the x axis is ``history[x_key]`` when present, else the epoch.
    """
    data = getattr(history, "history", history)
    rec = -np.asarray(data["reconstruction"], dtype=np.float64)
    kl = np.asarray(data["kl"], dtype=np.float64)
    x = data.get(x_key)
    xlabel = x_key if x is not None else "epoch"
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6), layout="constrained")
    plot_curves({"-E[log p(x|h)] (reconstruction)": rec}, x=x, ax=ax1, xlabel=xlabel,
                ylabel="nats per image")  # fmt: skip
    plot_curves({"D[Q(h|x) || p(h)]": kl}, x=x, ax=ax2, xlabel=xlabel,
                ylabel="nats per image")  # fmt: skip
    return fig


def elbo_curves(history: Any, *, x_key: str = "updates", ax: Axes | None = None) -> Figure:
    """Minus the ELBO per epoch on the training batches and on the validation images, one axis.

    The same quantity for both sets, so the gap between the curves means something: training
    ``loss`` (the epoch mean of the one-sample -ELBO over the training batches, each a fresh
    Bernoulli draw when training binarises dynamically) against the validation -ELBO after the
    epoch (``val_loss`` of a Keras ``History``, minus ``val_elbo`` of
    ``coursekit.torch.VAE.fit``'s dict).
    """
    data = getattr(history, "history", history)
    train = np.asarray(data["loss"], dtype=np.float64)
    if "val_loss" in data:
        test = np.asarray(data["val_loss"], dtype=np.float64)
    elif "val_elbo" in data:
        test = -np.asarray(data["val_elbo"], dtype=np.float64)
    else:
        raise ValueError("history has no validation -ELBO ('val_loss' or 'val_elbo'): "
                         "fit with validation data")  # fmt: skip
    x = data.get(x_key)
    fig, ax = figure_and_axes(ax, (7.5, 4.2), layout="constrained")
    curves = {"training batches: -ELBO": train, "test images: -ELBO": test}
    plot_curves(curves, x=x, ax=ax, xlabel=x_key if x is not None else "epoch",
                ylabel="-ELBO, nats per image")
    return fig
