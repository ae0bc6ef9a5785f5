"""Image mosaics: a batch as one grid (:func:`image_grid`), one row per class
(:func:`class_grid`), the receptive fields of hidden units (:func:`filter_grid`).

A mosaic is one array drawn by one ``imshow``: the images, scaled to ``[0, 1]`` by
:mod:`coursekit.plotting.batches`, are laid out by :func:`_tile` with ``pad`` pixels between
them. The padding is transparent, so the axes background (:data:`GAP_COLOUR`) shows through and
never looks like a pixel value; small patterns get a frame each (:data:`FRAME_COLOUR`). One
``imshow`` per grid keeps a figure of hundreds of digits fast to draw and the test can read the
whole mosaic back from ``fig.axes[0].images[0]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from coursekit.checks import to_numpy
from coursekit.plotting.batches import (
    _as_batch,
    _normalise,
    _positive_int,
    _to_array,
    _value_range,
)
from coursekit.plotting.style import figure_and_axes

__all__ = [
    "FRAME_COLOUR",
    "FRAME_MAX_SIDE",
    "GAP_COLOUR",
    "MOSAIC_MAX_HEIGHT",
    "class_grid",
    "filter_grid",
    "image_grid",
]

#: Colour of the gaps between images in a mosaic (the padding is transparent): a mid grey that
#: separates both black-background digits and white-background patterns.
GAP_COLOUR = "#8c8c8c"

#: The tallest a mosaic figure is made, in inches (plus a title): 500 px at the course dpi.
MOSAIC_MAX_HEIGHT = 5.0

#: Frame drawn around each image of a mosaic of small patterns (see ``image_grid(frame=...)``):
#: orange stands out against white pixels, black pixels and the grey gap colour alike.
FRAME_COLOUR = "#E69F00"
#: Images up to this many pixels on a side get a frame by default: on tiny binary patterns
#: (3x3 bars and stripes) white edge pixels would otherwise merge with the page.
FRAME_MAX_SIDE = 8

# Padding between mosaic cells is NaN (grey-scale) or alpha 0 (colour): it is drawn transparent,
# so it shows the axes background whatever the colour map, and it never looks like a pixel value.
_GREY_FILL = np.nan


def _tile(
    cells: np.ndarray,
    nrows: int,
    ncols: int,
    pad: int,
    slots: np.ndarray | None = None,
    *,
    fill: float | None = None,
) -> np.ndarray:
    """Lay ``cells`` ``[n, H, W, C]`` (values in [0, 1]) out in one mosaic array.

    ``slots`` gives the row-major cell index of each image (default ``0..n-1``); cells without an
    image and the ``pad`` pixels between cells are NaN (grey) or transparent (colour). ``fill``
    gives grey-scale gaps a value instead (e.g. 1.0, white, for an animation frame drawn
    without axes); colour gaps are always transparent.

    Returns ``[nrows*(H+pad)-pad, ncols*(W+pad)-pad]`` for grey-scale input, or the same with a
    trailing RGBA axis of 4 for colour input.
    """
    n, h, w, c = cells.shape
    if c == 3:  # colour: add an alpha channel so that the padding can be transparent
        alpha = np.ones((n, h, w, 1), dtype=np.float32)
        cells = np.concatenate([np.nan_to_num(cells, nan=0.0), alpha], axis=-1)
        c, fill = 4, 0.0
    elif fill is None:
        fill = _GREY_FILL
    if slots is None:
        slots = np.arange(n)
    grid = np.full((nrows * ncols, h + pad, w + pad, c), fill, dtype=np.float32)
    grid[slots, :h, :w] = cells
    mosaic = (
        grid.reshape(nrows, ncols, h + pad, w + pad, c)
        .transpose(0, 2, 1, 3, 4)
        .reshape(nrows * (h + pad), ncols * (w + pad), c)
    )
    mosaic = mosaic[: nrows * (h + pad) - pad, : ncols * (w + pad) - pad]
    return mosaic[..., 0] if c == 1 else mosaic


def _frame_cells(
    ax: Axes, slots: np.ndarray, ncols: int, h: int, w: int, pad: int, mosaic_shape: tuple[int, ...]
) -> None:
    """Draw a frame around every image and a gap-coloured margin around the whole mosaic.

    ``slots`` are the row-major cell indices that hold an image; the margin (three quarters of
    the gap, at least of a pixel) makes the outer images stand on the gap colour like the inner
    ones.
    """
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    rows, cols = np.divmod(np.asarray(slots), ncols)
    boxes = [
        Rectangle((c * (w + pad) - 0.5, r * (h + pad) - 0.5), w, h)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True)
    ]
    ax.add_collection(
        PatchCollection(boxes, facecolor="none", edgecolor=FRAME_COLOUR, linewidth=2.0,
                        zorder=3)
    )
    margin = max(pad, 1) * 0.75
    ax.set_xlim(-0.5 - margin, mosaic_shape[1] - 0.5 + margin)
    ax.set_ylim(mosaic_shape[0] - 0.5 + margin, -0.5 - margin)


def _strip_axes(ax: Axes) -> None:
    """Remove ticks, spines and grid: an image axes shows only the image, on the gap colour."""
    ax.set_facecolor(GAP_COLOUR)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)


def _mosaic_figsize(
    height_px: int, width_px: int, ncols: int, extra_width: float = 0.0
) -> tuple[float, float]:
    """Figure size in inches for a mosaic: about one inch per column, 2.5 to 10 inches wide,
    and at most :data:`MOSAIC_MAX_HEIGHT` inches tall (narrower instead), so that a tall grid
    still fits a 16:9 slide with its text at a readable size."""
    width = float(np.clip(ncols * 1.0, 2.5, 10.0))
    width = min(width, MOSAIC_MAX_HEIGHT * width_px / height_px)
    height = float(np.clip(width * height_px / width_px, 1.0, MOSAIC_MAX_HEIGHT))
    return width + extra_width, height + 0.4  # a little room for a title


def image_grid(
    images: Any,
    *,
    ncols: int | None = None,
    titles: Sequence[str] | None = None,
    value_range: Sequence[float] | None = None,
    image_shape: Sequence[int] | None = None,
    ax: Axes | None = None,
    cmap: str = "gray",
    title: str | None = None,
    pad: int = 1,
    frame: bool | None = None,
) -> Figure:
    """Show a batch of images as one grid.

    Args:
        images: NumPy array, PyTorch or TensorFlow tensor, or a list of them, in any layout of
            the module docstring: ``[n, H, W]``, ``[n, H*W]``, ``[n, 1|3, H, W]``,
            ``[n, H, W, 1|3]``, or a single image ``[H, W]``.
        ncols: grid columns; default ``ceil(sqrt(n))``, and never more than ``n``.
        titles: one title per image. Then every image gets its own subplot (slower; meant for
            a handful of images) and ``ax`` must be None.
        value_range: ``(low, high)`` data values shown as black and white; values outside are
            clipped. None infers it: uint8 -> (0, 255); floats with a negative value ->
            (-1, 1); other floats -> (0, 1).
        image_shape: ``(H, W)`` (or ``(H, W, C)`` / ``(C, H, W)``) to reshape each image to,
            needed for flattened non-square images.
        ax: draw into this axes instead of a new figure (mosaic mode only).
        cmap: colour map for grey-scale images (ignored for colour images).
        title: title of the axes (mosaic mode) or of the figure (``titles`` mode).
        pad: pixels between neighbouring images; they are drawn transparent.
        frame: draw a frame (:data:`FRAME_COLOUR`) around every image and a margin of the grey
            gap colour around the mosaic, so that each image stands out on a contrasting
            background even when its edge pixels are white. None (default): only for images
            of at most :data:`FRAME_MAX_SIDE` pixels a side, such as 3x3 bars and stripes.

    Returns:
        The figure (the one that owns ``ax`` if given). In mosaic mode ``ax.images[0]`` holds
        one array of shape ``[nrows*(H+pad)-pad, ncols*(W+pad)-pad]`` (grey, values in [0, 1],
        padding masked) or the same ``x 4`` (RGBA, padding alpha 0).

    Raises:
        ValueError: empty input, an unsupported shape, or bad ``ncols``/``pad``/``titles``/
            ``value_range``/``image_shape``; the message names the argument.
    """
    batch = _as_batch(images, image_shape)
    n, h, w, _ = batch.shape
    lo, hi = _value_range(batch, value_range)
    cells = _normalise(batch, lo, hi)

    ncols = math.ceil(math.sqrt(n)) if ncols is None else _positive_int(ncols, "ncols")
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    if isinstance(pad, bool) or not isinstance(pad, (int, np.integer)) or pad < 0:
        raise ValueError(f"pad must be a non-negative integer, got {pad!r}")
    pad = int(pad)

    if titles is not None:
        if ax is not None:
            raise ValueError("titles needs one subplot per image, so it cannot be used with ax")
        if isinstance(titles, str) or len(titles) != n:
            raise ValueError(f"titles must be a sequence of {n} strings (one per image)")
        return _titled_grid(cells, titles, nrows, ncols, cmap=cmap, title=title)

    mosaic = _tile(cells, nrows, ncols, pad)
    fig, ax = figure_and_axes(
        ax, _mosaic_figsize(mosaic.shape[0], mosaic.shape[1], ncols), layout="constrained"
    )
    ax.imshow(mosaic, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    _strip_axes(ax)
    if frame is None:
        frame = max(h, w) <= FRAME_MAX_SIDE
    if frame:
        _frame_cells(ax, np.arange(n), ncols, h, w, pad, mosaic.shape)
    if title is not None:
        ax.set_title(title)
    return fig


def _titled_grid(
    cells: np.ndarray,
    titles: Sequence[str],
    nrows: int,
    ncols: int,
    *,
    cmap: str,
    title: str | None,
) -> Figure:
    """One subplot per image of ``cells`` ``[n, H, W, C]`` (values in [0, 1]), with titles."""
    n = cells.shape[0]
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(min(1.6 * ncols, 12.0), min(1.8 * nrows, 14.0)),
        layout="constrained",
        squeeze=False,
    )
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.set_axis_off()
            continue
        img = cells[i, ..., 0] if cells.shape[-1] == 1 else np.nan_to_num(cells[i], nan=0.0)
        ax.imshow(img, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_title(str(titles[i]), fontsize="medium")
        _strip_axes(ax)
    if title is not None:
        fig.suptitle(title)
    return fig


def class_grid(
    images: Any,
    labels: Any,
    *,
    n_per_class: int = 8,
    class_names: Sequence[str] | Mapping[Any, str] | None = None,
    value_range: Sequence[float] | None = None,
) -> Figure:
    """One row per class showing the first ``n_per_class`` images of that class.

    Args:
        images: ``n`` images in any layout :func:`image_grid` accepts.
        labels: ``[n]`` class labels (array, tensor or list); rows are the sorted unique labels.
        n_per_class: images per row; a class with fewer leaves its remaining cells empty.
        class_names: row labels, indexed by label value (a sequence, for integer labels
            ``0..K-1``) or a mapping label -> name. Default: ``str(label)``.
        value_range: as in :func:`image_grid`, shared by all images.

    Returns:
        The figure; its single axes holds one mosaic of shape
        ``[K*(H+1)-1, n_per_class*(W+1)-1]`` for ``K`` classes, with the class names as y tick
        labels at the row centres.
    """
    batch = _as_batch(images)
    n, h, w, _ = batch.shape
    labels_arr = _to_array(labels, "labels")
    if labels_arr.ndim != 1 or labels_arr.shape[0] != n:
        raise ValueError(
            f"labels must have shape [n] = [{n}] to match images, got {labels_arr.shape}"
        )
    n_per_class = _positive_int(n_per_class, "n_per_class")
    lo, hi = _value_range(batch, value_range)

    classes = np.unique(labels_arr)
    names = [_class_name(c, class_names) for c in classes]
    picked: list[np.ndarray] = []
    slots: list[np.ndarray] = []
    for row, c in enumerate(classes):
        idx = np.flatnonzero(labels_arr == c)[:n_per_class]
        picked.append(idx)
        slots.append(row * n_per_class + np.arange(idx.size))
    index = np.concatenate(picked)
    cells = _normalise(batch[index], lo, hi)
    pad = 1
    mosaic = _tile(cells, len(classes), n_per_class, pad, slots=np.concatenate(slots))

    fig, ax = plt.subplots(
        figsize=_mosaic_figsize(mosaic.shape[0], mosaic.shape[1], n_per_class, extra_width=1.5),
        layout="constrained",
    )
    ax.imshow(mosaic, vmin=0.0, vmax=1.0, cmap="gray", interpolation="nearest")
    _strip_axes(ax)
    ax.set_yticks(np.arange(len(classes)) * (h + pad) + (h - 1) / 2, labels=names)
    ax.tick_params(axis="y", length=0)
    return fig


def _class_name(label: Any, class_names: Sequence[str] | Mapping[Any, str] | None) -> str:
    if class_names is None:
        return str(label)
    key = label.item() if isinstance(label, np.generic) else label
    if isinstance(class_names, Mapping):
        return str(class_names.get(key, key))
    try:
        return str(class_names[int(key)])
    except (IndexError, TypeError, ValueError) as err:
        raise ValueError(
            f"class_names has no entry for label {key!r}: a sequence is indexed by integer "
            f"label; use a mapping for other labels"
        ) from err


def filter_grid(
    W: Any,
    *,
    n: int | None = 100,
    image_shape: tuple[int, int] | None = None,
    ncols: int | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """The receptive fields of hidden units: column ``j`` of ``W`` [n_v, n_h] as an image.

    Each filter is scaled by its own largest absolute weight and drawn with a diverging map
    (red positive, blue negative, white zero), so weak and strong filters are both readable.
    ``n`` limits how many filters are shown (the first ``n``; None: all).
    """
    w = to_numpy(W).astype(np.float64)
    if w.ndim != 2:
        raise ValueError(f"W must be 2-D [n_visible, n_hidden], got shape {w.shape}.")
    filters = w.T[:n] if n is not None else w.T
    scale = np.abs(filters).max(axis=1, keepdims=True)
    scaled = 0.5 + 0.5 * filters / np.where(scale > 0, scale, 1.0)  # [-max, max] -> [0, 1]
    return image_grid(scaled, ncols=ncols, value_range=(0.0, 1.0), image_shape=image_shape,
                      cmap="RdBu_r", title=title, ax=ax)
