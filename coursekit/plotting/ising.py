"""Figures of week 6: Ising configurations, observables against temperature, magnetisation
histograms.

* :func:`lattices` shows configurations [n, L, L] of spins -1/+1 (black -1, white +1);
* :func:`observable_curves` draws the four per-spin observables of
  :mod:`coursekit.reference.ising` (``e``, ``|m|``, ``c``, ``chi``) against ``T`` in a 2 x 2
  figure, one line per source (Monte Carlo, a model, exact enumeration), with Onsager's infinite
  lattice (energy; Yang's spontaneous magnetisation) and ``T_c`` marked;
* :func:`magnetisation_histograms` overlays histograms of ``m = M / N`` on the values the
  lattice allows: below ``T_c`` the data have two peaks (the two ordered phases), and a model
  that learned one of them shows one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from coursekit.checks import to_numpy
from coursekit.metrics.ising import NAMES, OBSERVABLES, magnetisation_histogram
from coursekit.plotting.images import image_grid
from coursekit.plotting.style import PALETTE, figure_and_axes
from coursekit.reference.ising import (
    T_C,
    check_spins,
    onsager_energy_per_spin,
    spontaneous_magnetisation,
)

__all__ = ["lattices", "magnetisation_histograms", "observable_curves"]

_LABELS = {"e": "e = <E>/N", "abs_m": "<|m|>", "c": "c (specific heat)",
           "chi": "χ (susceptibility)"}  # fmt: skip


def lattices(
    spins: Any, *, ncols: int | None = None, titles: Sequence[str] | None = None,
    ax: Axes | None = None, title: str | None = None,
) -> Figure:  # fmt: skip
    """Configurations ``spins`` [n, L, L] (or one [L, L]) of -1/+1 spins as a grid of images:
    black is -1, white +1. ``titles`` label the panels (e.g. their temperatures)."""
    s = check_spins(spins)
    return image_grid(s.astype(np.float32), ncols=ncols, titles=titles, value_range=(-1, 1),
                      ax=ax, title=title)  # fmt: skip


def _series(name: str, curve: Mapping[str, Any]) -> tuple[np.ndarray, dict, dict]:
    if "T" not in curve:
        raise ValueError(f"curves[{name!r}] needs 'T' (temperatures) and the observables "
                         f"{', '.join(OBSERVABLES)} (errors optional: '<name>_err')")  # fmt: skip
    t = to_numpy(curve["T"]).astype(float).ravel()
    values, errors = {}, {}
    for k in OBSERVABLES:
        if k in curve:
            values[k] = to_numpy(curve[k]).astype(float).ravel()
            if values[k].shape != t.shape:
                raise ValueError(f"curves[{name!r}][{k!r}] has {values[k].size} values for "
                                 f"{t.size} temperatures")  # fmt: skip
            if f"{k}_err" in curve:
                errors[k] = to_numpy(curve[f"{k}_err"]).astype(float).ravel()
    return t, values, errors


def observable_curves(
    curves: Mapping[str, Mapping[str, Any]], *, onsager: bool = True, title: str | None = None,
    figsize: tuple[float, float] = (12.0, 7.5),
) -> Figure:  # fmt: skip
    """The per-spin observables against temperature, one panel each (2 x 2).

    Args:
        curves: label -> ``{"T": [k], "e": [k], "abs_m": [k], "c": [k], "chi": [k]}`` with
            optional errors ``"e_err"`` etc. (drawn as error bars). A source may give only some
            observables. The first source is drawn as points with error bars (the data), the
            others as lines with markers.
        onsager: draw the infinite lattice's energy (Onsager 1944) and spontaneous
            magnetisation (Yang 1952) as black lines.

    A dotted vertical line marks ``T_c = 2 / log(1 + sqrt 2)`` in every panel.
    """
    if not curves:
        raise ValueError("curves is empty: pass label -> {'T': ..., 'e': ..., ...}")
    fig, axes = figure_and_axes(None, figsize)
    fig.delaxes(axes)
    axes = fig.subplots(2, 2, sharex=True).ravel()
    t_all = np.concatenate([_series(n, c)[0] for n, c in curves.items()])
    t_grid = np.linspace(t_all.min(), t_all.max(), 300)
    for i, (name, curve) in enumerate(curves.items()):
        t, values, errors = _series(name, curve)
        colour = PALETTE[i % len(PALETTE)]
        for ax, k in zip(axes, OBSERVABLES, strict=True):
            if k not in values:
                continue
            style = dict(marker="o" if i == 0 else "s^Dv"[(i - 1) % 4], color=colour, label=name,
                         ms=5, lw=0 if i == 0 else 1.5, elinewidth=1.5, capsize=2)  # fmt: skip
            ax.errorbar(t, values[k], yerr=errors.get(k), **style)
    if onsager:
        axes[0].plot(t_grid, onsager_energy_per_spin(t_grid), color="k", lw=1.2,
                     label="Onsager (L = ∞)")  # fmt: skip
        axes[1].plot(t_grid, spontaneous_magnetisation(t_grid), color="k", lw=1.2,
                     label="Yang (L = ∞)")  # fmt: skip
    for ax, k in zip(axes, OBSERVABLES, strict=True):
        ax.axvline(T_C, color="0.4", ls=":", lw=1.2)
        ax.set_ylabel(_LABELS[k])
        ax.set_title(NAMES[k])
    for ax in axes[2:]:
        ax.set_xlabel("temperature T (T_c dotted)")
    handles, labels = [], []
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 4),
               frameon=False)  # fmt: skip
    if title:
        fig.suptitle(title)
    return fig


def magnetisation_histograms(
    sets: Mapping[str, Any], *, bins: int = 33, ax: Axes | None = None, title: str | None = None,
) -> Figure:  # fmt: skip
    """Histograms of ``m = M / N`` of configuration sets ``name -> spins [n, L, L]`` (one
    lattice), as step lines on about ``bins`` bins of [-1, 1]. ``m`` takes the ``N + 1`` values
    ``-1, -1 + 2/N, ..., 1``; each bin holds the same number of them (edges half-way between
    allowed values), so no bin is emptier than its neighbours by construction."""
    if not sets:
        raise ValueError("sets is empty: pass name -> spins [n, L, L]")
    fig, ax = figure_and_axes(ax, (8.0, 4.0))
    n_spins = {check_spins(spins).shape[1] ** 2 for spins in sets.values()}
    if len(n_spins) != 1:
        raise ValueError(f"every set in sets must hold lattices of one size, got "
                         f"{sorted(int(np.sqrt(n)) for n in n_spins)} (sides)")  # fmt: skip
    N = n_spins.pop()
    step = 2.0 / N  # between allowed values of m
    group = max(1, round((N + 1) / bins))  # allowed values per bin
    edges = -1.0 - step / 2 + step * group * np.arange(-(-(N + 1) // group) + 1)
    edges[-1] = 1.0 + step / 2  # a last bin with fewer values is narrower: densities stay fair
    for i, (name, spins) in enumerate(sets.items()):
        m, share = magnetisation_histogram(spins)
        counts, _ = np.histogram(m, bins=edges, weights=share)
        colour = PALETTE[i % len(PALETTE)]
        first = i == 0  # the reference: filled, under the models' lines
        ax.stairs(counts / np.diff(edges), edges, label=name, color=colour,
                  lw=2.5 if first else 1.8, fill=first, alpha=0.35 if first else 1.0)  # fmt: skip
    ax.set_xlabel("magnetisation per spin m = M / N")
    ax.set_ylabel("density")
    top = ax.get_ylim()[1]
    ax.set_ylim(0, 1.3 * top)
    ax.legend(loc="upper center", ncol=min(len(sets), 3), frameon=False)
    if title:
        ax.set_title(title)
    return fig
