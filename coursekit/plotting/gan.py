"""Figures of week 4 (GANs): the 1-D game frame by frame, the training curves of a DCGAN.

NumPy and matplotlib only; the frames come from :meth:`coursekit.torch.gan_toy.ToyGAN1D.train`
and the histories from ``DCGAN.fit`` (either framework).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from coursekit.plotting.images import _tile
from coursekit.reference.gan import optimal_discriminator

__all__ = ["game_frames", "gan_curves", "grid_animation", "mode_fractions", "quality_curves"]


def game_frames(
    frames: Sequence[dict[str, Any]],
    p_data: Callable[[np.ndarray], np.ndarray],
    *,
    cols: int = 4,
    title: str | None = None,
) -> Figure:
    """One panel per frame: the data density, the generator's (a KDE of its samples), the
    discriminator ``D(x)`` and ``d*(x) = p_data / (p_data + p_model)`` for that generator."""
    rows = -(-len(frames) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.15 * cols, 3.4 * rows), sharex=True,
                             sharey=True, layout="constrained", squeeze=False)  # fmt: skip
    # one scale for the densities of every frame, so that a frame's curves compare with the next
    top = 1.05 * max(max(p_data(f["grid"]).max(), f["p_model"].max()) for f in frames)
    for ax, f in zip(axes.ravel(), frames, strict=False):
        x = f["grid"]
        pd, pm = p_data(x), f["p_model"]
        ax.fill_between(x, pd / top, color="0.8", label="$p_{data}$ (scaled)")
        ax.plot(x, pm / top, "C0", label="$p_{model}$ (scaled)")
        ax.plot(x, f["d"], color="C1", label="$D(x)$")
        d_star = optimal_discriminator(pd, pm)
        total = pd + pm
        d_star[total < 1e-3 * total.max()] = np.nan  # undefined where neither has mass
        ax.plot(x, d_star, "k:", label="$d^*(x)$")
        ax.axhline(0.5, color="0.5", lw=0.5)
        ax.set_title(f"update {f['update']}")
        ax.set_ylim(0, 1.08)
    for ax in axes.ravel()[len(frames) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("D(x); densities, scaled")
    for ax in axes[-1]:
        ax.set_xlabel("x")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=4)
    if title:
        fig.suptitle(title)
    return fig


def mode_fractions(samples: np.ndarray, centers: Sequence[float]) -> np.ndarray:
    """Fraction of ``samples`` nearest to each of the ``centers`` [len(centers)]."""
    c = np.asarray(centers, dtype=np.float64)
    nearest = np.argmin(np.abs(np.asarray(samples)[:, None] - c[None, :]), axis=1)
    return np.bincount(nearest, minlength=len(c)) / len(nearest)


def gan_curves(history: dict[str, Sequence[float]], *, title: str | None = None) -> Figure:
    """``D`` on real and fake (with the equilibrium 1/2) and both losses, per history row."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained")
    u = history["update"]
    a.plot(u, history["d_real"], "o-", label="D(x), real")
    a.plot(u, history["d_fake"], "s-", label="D(G(z)), fake")
    a.axhline(0.5, color="k", ls=":", lw=1, label="1/2 (equilibrium)")
    a.set(xlabel="update", ylabel="mean D", ylim=(0, 1))
    a.legend()
    b.plot(u, history["d_loss"], "o-", label="discriminator: -v")
    b.plot(u, history["g_loss"], "s-", label="generator")
    b.set(xlabel="update", ylabel="loss (nats)")
    b.legend()
    if title:
        fig.suptitle(title)
    return fig


def quality_curves(updates: Sequence[int], reports: Sequence[Any]) -> Figure:
    """Classifier FID (log axis, plain-number ticks) and classes covered against the update.

    Args:
        updates: the update count of each report, length T.
        reports: T :class:`coursekit.metrics.SampleReport` (``fid``, ``coverage.n_classes``).
    """
    from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

    if len(updates) != len(reports):
        raise ValueError(
            f"updates and reports must have the same length, got {len(updates)} and {len(reports)}"
        )
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.2), layout="constrained")
    fids = [r.fid for r in reports]
    a.plot(updates, fids, "o-")
    a.set(xlabel="update", ylabel="classifier FID", yscale="log", title="distance to the data")
    # within a decade, 1-2-5 labels only two values: label 3 and 7 too (at least three ticks)
    narrow = max(fids) < 10 * min(fids) if min(fids, default=0) > 0 else False
    subs = (1.0, 2.0, 3.0, 5.0, 7.0) if narrow else (1.0, 2.0, 5.0)
    a.yaxis.set_major_locator(LogLocator(base=10, subs=subs))
    a.yaxis.set_major_formatter(ScalarFormatter())  # 2, 5, 10, 20 rather than 2x10^0
    a.yaxis.set_minor_formatter(NullFormatter())
    b.plot(updates, [r.coverage.n_classes for r in reports], "o-")
    b.set(xlabel="update", ylabel="classes covered", ylim=(0, 10.5), title="digits present")
    b.set_yticks([0, 2, 4, 6, 8, 10])
    return fig


def grid_animation(
    grids: Sequence[np.ndarray], updates: Sequence[int], *, ncols: int = 4, interval: int = 600
) -> Any:
    """The fixed-noise grid over training as a looping animation (``IPython.display.HTML``).

    Args:
        grids: T arrays [g, 28, 28] in [-1, 1] (``history["grid"]`` of ``DCGAN.fit``).
        updates: the update count of each grid, length T.
        ncols: images per row of the grid.
        interval: milliseconds per frame.

    Returns:
        An ``IPython.display.HTML`` with the animation as JavaScript and inline PNG frames
        (no network needed, so it also plays in the offline decks).
    """
    from IPython.display import HTML
    from matplotlib.animation import FuncAnimation

    if len(grids) == 0 or len(grids) != len(updates):
        raise ValueError(
            f"grids and updates must be non-empty and of the same length, got {len(grids)} "
            f"and {len(updates)}"
        )
    tiles = [_white_gap_mosaic((np.asarray(g) + 1.0) / 2.0, ncols) for g in grids]
    fig, ax = plt.subplots(figsize=(3.2, 3.5), dpi=80)
    image = ax.imshow(tiles[0], cmap="gray", vmin=0.0, vmax=1.0)
    ax.set_axis_off()
    title = ax.set_title(f"update {updates[0]}")

    def show(i: int) -> tuple:
        image.set_data(tiles[i])
        title.set_text(f"update {updates[i]}")
        return image, title

    anim = FuncAnimation(fig, show, frames=len(tiles), interval=interval, blit=False)
    html = HTML(anim.to_jshtml(default_mode="loop"))
    plt.close(fig)
    return html


def _white_gap_mosaic(images: np.ndarray, ncols: int) -> np.ndarray:
    """Images [g, h, w] (clipped to [0, 1]) as one float32 array of ``ncols`` columns with
    1-pixel white gaps: the course mosaic (:func:`coursekit.plotting.images._tile`), but with
    gaps of value 1 rather than transparent ones, since an animation frame has no axes
    background to show through."""
    cells = np.clip(images, 0, 1)[..., None]  # [g, h, w, 1]
    return _tile(cells, -(-len(cells) // ncols), ncols, 1, fill=1.0)
