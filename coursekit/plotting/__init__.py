"""Figures for the course notebooks: image mosaics, training curves and pixel statistics.

Every function returns a :class:`matplotlib.figure.Figure` (or the figure that owns the ``ax``
it was given), so a notebook can show it, tweak it, or hand it to :func:`save_figure`::

    import coursekit.plotting as ckp
    ckp.use_style()
    fig = ckp.image_grid(x_batch[:64])            # torch [64,1,28,28] or tf [64,28,28,1]
    fig = ckp.plot_curves(history)                 # dict of lists or a Keras History
    ckp.save_figure(fig, "figures/week2/samples.png")

The module is framework-free: it never imports torch, TensorFlow or Keras. Tensors are
recognised by duck typing in :func:`to_numpy`.

Image layout conventions accepted by :func:`image_grid` and :func:`class_grid` (``n`` images of
``H`` x ``W`` pixels):

* ``[n, H, W]``                     grey-scale batch
* ``[n, 1, H, W]`` / ``[n, 3, H, W]`` channels first (PyTorch, NCHW)
* ``[n, H, W, 1]`` / ``[n, H, W, 3]`` channels last (TensorFlow/Keras, NHWC)
* ``[n, H*W]``                      flattened batch; ``H = W`` is inferred when ``H*W`` is a perfect
  square, otherwise pass ``image_shape=(H, W)``
* ``[H, W]`` with ``H == W``        one square image (a non-square one: pass ``image[None]``)
* ``[H*W]``                         one flattened square image

A 2-D array is read as a *single* image only when it is square; any other 2-D array is read as a
flattened batch ``[n, H*W]``. Pass ``image_shape`` to override the inference.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatter, MaxNLocator

from coursekit.checks import to_numpy
from coursekit.io import atomic_path

__all__ = [
    "class_histogram",
    "COURSE_STYLE",
    "class_grid",
    "filter_grid",
    "image_grid",
    "pixel_histogram",
    "plot_curves",
    "plot_distributions",
    "save_figure",
    "to_numpy",
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

# Padding between mosaic cells is NaN (grey-scale) or alpha 0 (colour): it is drawn transparent,
# so it shows the axes background whatever the colour map, and it never looks like a pixel value.
_GREY_FILL = np.nan


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


# --------------------------------------------------------------------------------------------
# Conversion
# --------------------------------------------------------------------------------------------


def _to_array(images: Any, name: str) -> np.ndarray:
    """``images`` as one array; a list/tuple of arrays or tensors is stacked on a new axis 0."""
    if isinstance(images, (list, tuple)):
        if len(images) == 0:
            raise ValueError(f"{name} is empty")
        try:
            return np.stack([to_numpy(im) for im in images])
        except ValueError as err:
            raise ValueError(f"{name}: the items of the list differ in shape ({err})") from err
    return to_numpy(images)


def _is_square(k: int) -> bool:
    return k > 0 and math.isqrt(k) ** 2 == k


def _as_batch(
    images: Any, image_shape: Sequence[int] | None = None, *, name: str = "images"
) -> np.ndarray:
    """Bring any supported image layout to ``[n, H, W, C]`` with ``C`` in {1, 3}.

    The dtype is left unchanged so that the value range can still be inferred from it.
    """
    arr = _to_array(images, name)
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold numbers, got dtype {arr.dtype}")

    if image_shape is not None:
        shape = tuple(int(s) for s in image_shape)
        if len(shape) not in (2, 3) or min(shape) <= 0:
            raise ValueError(
                f"image_shape must be (H, W), (H, W, C) or (C, H, W) with positive sizes, "
                f"got {tuple(image_shape)}"
            )
        per_image = math.prod(shape)
        if arr.size % per_image != 0:
            raise ValueError(
                f"image_shape={shape} holds {per_image} values per image, which does not divide "
                f"the {arr.size} values of {name} with shape {arr.shape}"
            )
        arr = arr.reshape((-1, *shape))
    elif arr.ndim == 1:
        if not _is_square(arr.size):
            raise ValueError(
                f"{name}: a 1-D array is read as one flattened square image, but its "
                f"{arr.size} values are not a perfect square; pass image_shape=(H, W)"
            )
        side = math.isqrt(arr.size)
        arr = arr.reshape(1, side, side)
    elif arr.ndim == 2:
        rows, cols = arr.shape
        if rows == cols:
            arr = arr[None]  # a single square image [H, W]
        elif _is_square(cols):
            side = math.isqrt(cols)
            arr = arr.reshape(rows, side, side)
        else:
            raise ValueError(
                f"{name} with shape {arr.shape} is read as {rows} flattened images of {cols} "
                f"pixels, which is not a perfect square: pass image_shape=(H, W) "
                f"(or image[None] for one non-square image)"
            )

    if arr.ndim == 3:
        return arr[..., None]
    if arr.ndim == 4:
        if arr.shape[1] in (1, 3):  # NCHW (PyTorch); preferred when both readings fit
            return arr.transpose(0, 2, 3, 1)
        if arr.shape[-1] in (1, 3):  # NHWC (TensorFlow/Keras)
            return arr
        raise ValueError(
            f"{name} with shape {arr.shape}: a 4-D batch needs 1 or 3 channels, on axis 1 "
            f"([n, C, H, W]) or on the last axis ([n, H, W, C])"
        )
    raise ValueError(
        f"{name} must have 1 to 4 dimensions ([H*W], [H, W], [n, H*W], [n, H, W], "
        f"[n, C, H, W] or [n, H, W, C]), got shape {arr.shape}"
    )


def _value_range(arr: np.ndarray, value_range: Sequence[float] | None) -> tuple[float, float]:
    """The (low, high) data values that map to black and white.

    Inferred when ``value_range`` is None: bool -> (0, 1); uint8 -> (0, 255); other integers ->
    (-1, 1) if any value is negative, else (0, 1) if all are 0/1, else (0, 255); floats -> (-1, 1)
    if any finite value is negative, else (0, 1).
    """
    if value_range is not None:
        try:
            lo, hi = (float(v) for v in value_range)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"value_range must be two numbers (low, high), got {value_range!r}"
            ) from err
        if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
            raise ValueError(f"value_range must have finite low < high, got {value_range!r}")
        return lo, hi
    kind = arr.dtype.kind
    if kind == "b":
        return 0.0, 1.0
    if arr.dtype == np.uint8:
        return 0.0, 255.0
    if kind in "iu":
        if arr.min() < 0:
            return -1.0, 1.0
        return (0.0, 1.0) if arr.max() <= 1 else (0.0, 255.0)
    finite = arr[np.isfinite(arr)]
    if finite.size and finite.min() < 0:
        return -1.0, 1.0
    return 0.0, 1.0


def _normalise(arr: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Map ``[lo, hi]`` linearly to ``[0, 1]`` as float32, clipping outside values (NaN stays)."""
    out = (arr.astype(np.float32) - np.float32(lo)) / np.float32(hi - lo)
    return np.clip(out, 0.0, 1.0, out=out)


def _tile(
    cells: np.ndarray,
    nrows: int,
    ncols: int,
    pad: int,
    slots: np.ndarray | None = None,
) -> np.ndarray:
    """Lay ``cells`` ``[n, H, W, C]`` (values in [0, 1]) out in one mosaic array.

    ``slots`` gives the row-major cell index of each image (default ``0..n-1``); cells without an
    image and the ``pad`` pixels between cells are NaN (grey) or transparent (colour).

    Returns ``[nrows*(H+pad)-pad, ncols*(W+pad)-pad]`` for grey-scale input, or the same with a
    trailing RGBA axis of 4 for colour input.
    """
    n, h, w, c = cells.shape
    if c == 3:  # colour: add an alpha channel so that the padding can be transparent
        alpha = np.ones((n, h, w, 1), dtype=np.float32)
        cells = np.concatenate([np.nan_to_num(cells, nan=0.0), alpha], axis=-1)
        c, fill = 4, 0.0
    else:
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


def _figure_of(ax: Axes) -> Figure:
    """The top-level figure of ``ax`` (also when ``ax`` lives in a sub-figure)."""
    fig: Any = ax.figure
    while not isinstance(fig, Figure):
        fig = fig.figure
    return fig


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


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------------------------
# Image figures
# --------------------------------------------------------------------------------------------


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
    if ax is None:
        fig, ax = plt.subplots(
            figsize=_mosaic_figsize(mosaic.shape[0], mosaic.shape[1], ncols), layout="constrained"
        )
    else:
        fig = _figure_of(ax)
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


# --------------------------------------------------------------------------------------------
# Curves and statistics
# --------------------------------------------------------------------------------------------


def _history_mapping(history: Any) -> Mapping[Any, Any]:
    inner = getattr(history, "history", None)  # keras.callbacks.History
    if isinstance(inner, Mapping):
        return inner
    if isinstance(history, Mapping):
        return history
    raise TypeError(
        f"history must be a mapping name -> list of values or a Keras History, "
        f"got {type(history).__name__}"
    )


def _series(values: Any, key: Any) -> np.ndarray:
    """One history entry as a float ``[T]`` array; None becomes NaN; tensors are accepted."""
    if isinstance(values, (str, bytes)):
        raise ValueError(f"history[{key!r}] must be a sequence of numbers, got a string")
    if isinstance(values, Sequence):
        try:  # fast path: a list of Python or NumPy numbers
            return np.asarray(values, dtype=float).reshape(-1)
        except (TypeError, ValueError, RuntimeError):
            out = np.empty(len(values), dtype=float)
            for i, v in enumerate(values):
                a = np.asarray(np.nan if v is None else to_numpy(v), dtype=float).reshape(-1)
                if a.size != 1:
                    raise ValueError(
                        f"history[{key!r}][{i}] must be a single number, got shape {a.shape}"
                    ) from None
                out[i] = a[0]
            return out
    return np.asarray(to_numpy(values), dtype=float).reshape(-1)


class _PlainLogFormatter(LogFormatter):
    """Log-axis tick labels as plain numbers (0.3, 2, 100), labelled where matplotlib would."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{x:g}" if super().__call__(x, pos) else ""


def plot_curves(
    history: Any,
    *,
    x: Any = None,
    ax: Axes | None = None,
    xlabel: str = "epoch",
    ylabel: str | None = None,
    logy: bool = False,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Plot training curves, one line per key, against ``x`` (default 1, 2, ..., T).

    Args:
        history: mapping name -> ``[T]`` values (list, array or tensor; entries may be NaN or
            None, lengths may differ), e.g. ``{"train loss": [...], "test loss": [...]}``, or a
            Keras ``History`` (its ``.history`` dict is used). Keys with no values are skipped.
        x: the x values [T] shared by every key (e.g. the epochs at which a quantity was
            monitored); a key with fewer values uses the first ones.
        ax: draw into this axes instead of a new figure.
        xlabel, ylabel, title: axis labels and title. A curve is never left without a y label:
            by default it is the key of a single curve (then no legend repeats it) or the
            keys of several curves joined by ", ".
        logy: logarithmic y axis.
        figsize: (width, height) in inches of a new figure (default: the style's); a wide,
            low figure leaves room for text on a slide.

    Returns:
        The figure, with one ``Line2D`` per non-empty key, in key order, and a legend when
        there are several.

    Raises:
        ValueError: no key has any value.
    """
    data = _history_mapping(history)
    series = {str(k): y for k, v in data.items() if (y := _series(v, k)).size > 0}
    if not series:
        raise ValueError(f"history has nothing to plot (keys: {list(data.keys())!r})")

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    else:
        fig = _figure_of(ax)
    shared = None if x is None else to_numpy(x).astype(float).ravel()
    longest = max(y.size for y in series.values())
    if shared is not None and shared.size < longest:
        raise ValueError(f"x has {shared.size} values but a curve in history has {longest}.")
    for name, y in series.items():
        xs = np.arange(1, y.size + 1) if shared is None else shared[: y.size]
        # markers keep a short (smoke-mode) or NaN-broken curve visible
        ax.plot(xs, y, label=name, marker="o" if y.size <= 30 else "", markersize=4)
    # at most ~5 ticks: a half-width panel at the course's font size fits "6000" five times,
    # not nine times (the default "auto" overlaps the labels of long runs)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True, steps=[1, 2, 2.5, 5, 10]))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel if ylabel is not None else ", ".join(series))
    if logy:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(_PlainLogFormatter())  # 0.3, not 3 x 10^-1
        ax.yaxis.set_minor_formatter(_PlainLogFormatter(minor_thresholds=(1, 0.4)))
    if title is not None:
        ax.set_title(title)
    if len(series) > 1 or (ylabel is not None and ylabel != next(iter(series))):
        ax.legend()
    return fig


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


def plot_distributions(
    distributions: Mapping[str, Any],
    *,
    ax: Axes | None = None,
    highlight: Any = None,
    xlabel: str = "state index",
    log: bool = False,
    title: str | None = None,
    figsize: tuple[float, float] = (10.0, 3.8),
) -> Figure:
    """Probability mass functions over the same enumerated states, one stem plot each.

    ``distributions`` maps a label to a 1-D array of probabilities [n_states] (e.g. the data
    distribution and an RBM's exact model distribution). ``highlight`` (indices or a boolean
    mask [n_states]) shades those states, e.g. the ones the data occupies. ``figsize`` is
    used for a new figure (not with ``ax``).
    """
    if not distributions:
        raise ValueError("distributions must name at least one distribution.")
    arrays = {name: to_numpy(p).astype(float).ravel() for name, p in distributions.items()}
    sizes = {p.size for p in arrays.values()}
    if len(sizes) != 1:
        raise ValueError(f"distributions must all have the same length, got sizes {sorted(sizes)}.")
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    states = np.arange(sizes.pop())
    if highlight is not None:
        mask = np.zeros(states.size, dtype=bool)
        mask[np.asarray(highlight)] = True
        for s in states[mask]:
            ax.axvspan(s - 0.5, s + 0.5, color="#E69F00", alpha=0.25, lw=0)
    for i, (name, p) in enumerate(arrays.items()):
        marker, stem, base = ax.stem(states, p, label=name, basefmt=" ")
        colour = PALETTE[i % len(PALETTE)]
        plt.setp(stem, color=colour, alpha=0.8, linewidth=1.2)
        plt.setp(marker, color=colour, markersize=3)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("probability")
    ax.legend()
    if title:
        ax.set_title(title)
    return _figure_of(ax)


def pixel_histogram(
    images: Any,
    *,
    ax: Axes | None = None,
    bins: int | Sequence[float] = 50,
    log: bool = True,
) -> Figure:
    """Histogram of all pixel values of ``images`` (any shape; array, tensor or list).

    Values are counted as given (not rescaled); NaN and infinite values are left out. For
    integer data with an integer ``bins``, bin edges fall between integers (no comb artefacts).

    Returns:
        The figure; the axes holds one bar per bin whose heights sum to the number of finite
        pixel values. ``log`` gives a logarithmic count axis.
    """
    arr = _to_array(images, "images")
    if arr.dtype.kind == "b":
        arr = arr.astype(np.uint8)
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"images must hold numbers, got dtype {arr.dtype}")
    values = arr.reshape(-1)
    if values.dtype.kind == "f":
        values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError("images has no finite pixel values to histogram")

    edges: int | Sequence[float] | np.ndarray = bins
    if values.dtype.kind in "iu" and isinstance(bins, (int, np.integer)):
        lo, hi = int(values.min()), int(values.max())
        width = max(1, math.ceil((hi - lo + 1) / int(bins)))
        edges = np.arange(lo, hi + width + 1, width) - 0.5

    if ax is None:
        fig, ax = plt.subplots(layout="constrained")
    else:
        fig = _figure_of(ax)
    ax.hist(values, bins=edges, log=log, color=PALETTE[0])
    ax.set_xlabel("pixel value")
    ax.set_ylabel("count")
    return fig


# --------------------------------------------------------------------------------------------
# Saving
def class_histogram(
    shares: Mapping[str, Any],
    *,
    ax: Axes | None = None,
    class_names: Sequence[str] | None = None,
    title: str | None = "predicted class of the samples",
) -> Figure:
    """Grouped bars: the share of samples per predicted class, one colour per entry.

    Args:
        shares: name -> class shares [K] (summing to 1), or objects with a ``coverage.histogram``
            (a :class:`coursekit.metrics.SampleReport`) or a ``histogram`` attribute.
        class_names: labels of the K classes (default 0 ... K-1).

    Returns:
        The figure; a dashed line marks the balanced share 1/K.
    """
    if not shares:
        raise ValueError("shares is empty: pass a mapping name -> class shares.")
    rows = {}
    for name, value in shares.items():
        value = getattr(value, "coverage", value)
        value = getattr(value, "histogram", value)
        rows[str(name)] = to_numpy(value).astype(float).ravel()
    k = {v.size for v in rows.values()}
    if len(k) != 1:  # one bar group per class: every entry needs the same classes
        raise ValueError(f"every entry of shares needs the same number of classes, got {sorted(k)}")
    n_classes = k.pop()
    names = list(class_names) if class_names is not None else [str(i) for i in range(n_classes)]
    if len(names) != n_classes:
        raise ValueError(f"class_names has {len(names)} names for {n_classes} classes.")
    if ax is None:
        fig, ax = plt.subplots(figsize=(9, 3.6))
    width = 0.8 / len(rows)
    for i, (name, y) in enumerate(rows.items()):
        ax.bar(np.arange(n_classes) + (i - (len(rows) - 1) / 2) * width, y, width, label=name)
    ax.axhline(1 / n_classes, color="0.3", ls="--", lw=1, label="balanced")
    ax.set_xticks(np.arange(n_classes), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("share of samples")
    if title:
        ax.set_title(title)
    # The legend in one band above the tallest bar (headroom), never over the bars.
    top = max(max(float(y.max()) for y in rows.values()), 1 / n_classes)
    ax.set_ylim(0, 1.35 * top)
    ax.legend(fontsize="small", loc="upper center", ncol=min(len(rows) + 1, 4), frameon=False)
    return _figure_of(ax)


# --------------------------------------------------------------------------------------------


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
