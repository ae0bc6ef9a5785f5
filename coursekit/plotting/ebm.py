"""Figures of week 2: densities with Langevin chains, energy histograms and ROC curves.

Matplotlib and NumPy only; framework tensors are converted by :func:`coursekit.checks.to_numpy`.
Each function with an ``ax=`` argument draws into it (a panel of a larger figure) or into a new
figure, through :func:`coursekit.plotting.style.figure_and_axes` like every course figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from coursekit.checks import to_numpy
from coursekit.metrics.ood import roc_auc, roc_curve
from coursekit.plotting.images import image_grid
from coursekit.plotting.style import figure_and_axes

__all__ = ["chain_frames", "density_and_chains", "energy_histograms", "roc_curves", "toy_panel"]


def _density_image(log_density: Any, lim: float, ax: Axes, resolution: int = 200) -> None:
    grid = np.linspace(-lim, lim, resolution)
    xx, yy = np.meshgrid(grid, grid)
    dens = np.exp(log_density(np.stack([xx.ravel(), yy.ravel()], 1))).reshape(xx.shape)
    ax.imshow(dens, origin="lower", extent=(-lim, lim, -lim, lim), cmap="Blues", aspect="equal")


def density_and_chains(
    target: Any,
    chain: Any = None,
    samples: Any = None,
    *,
    n_chains: int = 5,
    lim: float = 5.0,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """The exact density of a 2-D ``target`` (image), a few chain paths (``chain`` [k, n, 2])
    and samples (``samples`` [m, 2], dots)."""
    fig, ax = figure_and_axes(ax, (4.2, 4.2))
    _density_image(target.log_prob, lim, ax)
    if samples is not None:
        s = to_numpy(samples)
        ax.plot(s[:, 0], s[:, 1], ".", ms=1.5, color="tab:orange", alpha=0.5)
    if chain is not None:
        c = to_numpy(chain)
        for i in range(min(n_chains, c.shape[1])):
            ax.plot(c[:, i, 0], c[:, i, 1], "-", lw=0.8, color=f"C{i + 1}")
            ax.plot(c[0, i, 0], c[0, i, 1], "o", ms=4, color=f"C{i + 1}")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title if title is not None else target.name)
    return fig


def toy_panel(
    targets: Sequence[Any], results: Sequence[Any], *, lim: float = 5.0, suptitle: str = ""
) -> Figure:
    """One :func:`density_and_chains` panel per target, from sampler results
    (``x`` the samples, ``chain`` the paths)."""
    fig, axes = plt.subplots(1, len(targets), figsize=(4.2 * len(targets), 4.2))
    for ax, target, res in zip(np.atleast_1d(axes), targets, results, strict=True):
        density_and_chains(target, res.chain, res.x, ax=ax, lim=lim)
    if suptitle:
        fig.suptitle(suptitle)
    if fig.get_layout_engine() is None:  # the course style lays figures out already
        fig.tight_layout()
    return fig


def energy_histograms(
    energies: Mapping[str, Any], *, ax: Axes | None = None, bins: int = 60,
    title: str = "energies", colors: Mapping[str, str] | None = None,
) -> Figure:
    """Overlaid normalised histograms of energies, one per named set.

    All sets share ``bins`` equal bins over their joint range (0.5 to 99.5 percentiles; the
    few values outside are counted in the end bins). Sets far apart share one coarse scale:
    draw the close ones again in a panel of their own (their joint range) to resolve them.
    ``colors`` maps set names to colours, to keep one colour per set across panels.
    """
    fig, ax = figure_and_axes(ax, (7.5, 3.8))
    arrays = {k: np.asarray(to_numpy(v), dtype=np.float64).ravel() for k, v in energies.items()}
    lo = min(np.percentile(a, 0.5) for a in arrays.values())
    hi = max(np.percentile(a, 99.5) for a in arrays.values())
    if hi <= lo:  # every set one value: a bin around it
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    for name, a in arrays.items():
        color = None if colors is None else colors.get(name)
        ax.hist(np.clip(a, lo, hi), bins=edges, density=True, alpha=0.5, label=name, color=color)
    ax.set_xlabel("energy E(x)")
    ax.set_ylabel("density")
    ax.set_title(title)
    ax.legend()
    return fig


def roc_curves(
    scores_in: Any, scores_out: Mapping[str, Any], *, ax: Axes | None = None,
    label: str = "", linestyle: str = "-", colors: Sequence[str] | None = None,
) -> tuple[Figure, dict[str, float]]:
    """ROC curves of "in distribution" against each named out-of-distribution set; returns the
    figure and the AUCs.

    Call it again on the same ``ax`` for a second score (a baseline detector): ``label``
    prefixes its legend entries, ``linestyle`` and ``colors`` (one per set) tell it apart.
    """
    fig, ax = figure_and_axes(ax, (4.2, 4.2))
    aucs = {}
    for i, (name, out) in enumerate(scores_out.items()):
        fpr, tpr = roc_curve(scores_in, out)
        aucs[name] = roc_auc(scores_in, out)
        color = None if colors is None else colors[i]
        ax.plot(fpr, tpr, linestyle, color=color, label=f"{label}{name}: AUC {aucs[name]:.3f}")
    ax.plot([0, 1], [0, 1], ":", color="gray")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(loc="lower right")
    return fig, aucs


def chain_frames(
    frames: Any, steps: Sequence[int], *, ax: Axes | None = None, title: str | None = None
) -> Figure:
    """Langevin chains at chosen steps: ``frames`` [k, n, H, W] (k steps, n chains; pixels in
    [-1, 1] or [0, 1]) as a grid with one chain per row and one step per column, each column
    labelled with its step number ``steps[j]`` (0: the start state)."""
    arr = np.asarray(to_numpy(frames), dtype=np.float64)
    if arr.ndim != 4 or arr.shape[0] != len(steps):
        raise ValueError(
            f"frames must be [k, n, H, W] with k = len(steps) = {len(steps)}, got {arr.shape}"
        )
    k, n, h, w = arr.shape
    value_range = (-1.0, 1.0) if arr.min() < 0 else (0.0, 1.0)
    fig = image_grid(arr.transpose(1, 0, 2, 3).reshape(-1, h, w), ncols=k, ax=ax,
                     value_range=value_range, title=title)
    ax = fig.axes[0] if ax is None else ax
    ax.set_xticks([j * (w + 1) + (w - 1) / 2 for j in range(k)], [str(s) for s in steps])
    ax.tick_params(axis="x", length=0)
    ax.set_xlabel("Langevin steps from noise")
    return fig
