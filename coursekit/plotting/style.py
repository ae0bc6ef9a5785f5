"""The one figure style of the course: palette, font sizes, rcParams, and how figures are made
and saved.

Every figure module of :mod:`coursekit.plotting` (the generic ones and the per-family ``ebm``,
``vae``, ``gan``) takes its colours from :data:`PALETTE`, gets its figure and axes from
:func:`figure_and_axes` and is saved with :func:`save_figure`, so that all course figures look
alike and read the same from the back of a lecture hall.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from coursekit.io import atomic_path

__all__ = [
    "COURSE_STYLE",
    "MIN_FONT_PT",
    "PALETTE",
    "figure_and_axes",
    "save_figure",
    "use_style",
]

#: Okabe-Ito colour-blind-safe palette (yellow last: it is hard to read on white).
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#E69F00",  # orange
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow
)

#: The smallest text a course figure draws (tick labels, legends), in points. At the figure dpi
#: of 100 that is 20.8 px, so a figure shown at 90 % of its size on a 1280x720 slide still has
#: text of about 18 px, readable from the back of a lecture hall (the slide test checks it).
MIN_FONT_PT = 15

#: rcParams applied by :func:`use_style`: sizes readable on a projector, light grid, no top/right
#: spines, constrained layout, grey-scale images and the colour-blind-safe :data:`PALETTE`.
#: Figures are wide (8 x 4 in) so that they fill a 16:9 slide without running off its bottom.
COURSE_STYLE: dict[str, Any] = {
    "figure.figsize": (8.0, 4.0),
    "figure.dpi": 100,
    "figure.titlesize": 18,
    "figure.constrained_layout.use": True,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "font.size": MIN_FONT_PT + 1,
    "axes.titlesize": MIN_FONT_PT + 3,
    "axes.labelsize": MIN_FONT_PT + 2,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.prop_cycle": cycler(color=list(PALETTE)),
    "grid.color": "#b0b0b0",
    "grid.alpha": 0.35,
    "grid.linewidth": 0.8,
    "xtick.labelsize": MIN_FONT_PT,
    "ytick.labelsize": MIN_FONT_PT,
    "legend.fontsize": MIN_FONT_PT,
    "legend.frameon": False,
    "lines.linewidth": 2.5,
    "lines.markersize": 7,
    "image.cmap": "gray",
    "image.interpolation": "nearest",
}


def use_style() -> None:
    """Apply :data:`COURSE_STYLE` to matplotlib's global rcParams. Calling it again is harmless.

    Inside Jupyter it also switches inline figures to double-resolution PNG ("retina"), so they
    stay sharp on a projector and in the slide decks built from the notebooks.
    """
    mpl.rcParams.update(COURSE_STYLE)
    shell = sys.modules["IPython"].get_ipython() if "IPython" in sys.modules else None
    if shell is not None and getattr(shell, "kernel", None) is not None:
        try:
            from matplotlib_inline.backend_inline import set_matplotlib_formats
        except ImportError:  # pragma: no cover - ships with ipykernel
            return
        set_matplotlib_formats("retina")


def _figure_of(ax: Axes) -> Figure:
    """The top-level figure of ``ax`` (also when ``ax`` lives in a sub-figure).

    The figure functions return it, so that a caller who passed ``ax`` gets the figure it can
    save or show, not a sub-figure.
    """
    fig: Any = ax.figure
    while not isinstance(fig, Figure):
        fig = fig.figure
    return fig


def figure_and_axes(
    ax: Axes | None,
    figsize: tuple[float, float] | None = None,
    *,
    layout: str | None = None,
) -> tuple[Figure, Axes]:
    """Where a figure function draws: the given ``ax`` and its top-level figure, or else a new
    figure of ``figsize`` inches (None: the style's) with one axes.

    Every function that takes ``ax=`` goes through here, so that a panel of a larger figure and
    a figure of its own are drawn by the same code. ``layout`` (e.g. ``"constrained"``) is used
    for a new figure only.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout=layout)
        return fig, ax
    return _figure_of(ax), ax


def save_figure(fig: Figure, path: str | os.PathLike[str]) -> Path:
    """Save ``fig`` to ``path`` atomically; the format comes from the suffix (.png, .pdf, .svg).

    Parent folders are created. The figure is written to a temporary file in the same folder
    and moved into place with :func:`os.replace`, so a reader never sees a half-written file
    and a failed save leaves any earlier file untouched.

    Returns:
        ``path`` as a :class:`pathlib.Path`.
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    supported = fig.canvas.get_supported_filetypes()
    if fmt not in supported:
        raise ValueError(
            f"path must end in one of {sorted('.' + s for s in supported)}, got {str(path)!r}"
        )
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt)
    return path
