"""Curves and statistics: training curves (:func:`plot_curves`), probability mass functions over
enumerated states (:func:`plot_distributions`), pixel values (:func:`pixel_histogram`) and the
class shares of samples (:func:`class_histogram`).

Each takes what a notebook has at hand (lists, arrays, framework tensors, a Keras ``History``,
a :class:`coursekit.metrics.SampleReport`) and returns the figure, drawn into ``ax`` if one is
given so that it can be a panel of a larger figure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatter, MaxNLocator

from coursekit.checks import to_numpy
from coursekit.plotting.batches import _to_array
from coursekit.plotting.style import PALETTE, figure_and_axes

__all__ = ["class_histogram", "pixel_histogram", "plot_curves", "plot_distributions"]


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

    fig, ax = figure_and_axes(ax, figsize, layout="constrained")
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
    fig, ax = figure_and_axes(ax, figsize)
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
    return fig


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

    fig, ax = figure_and_axes(ax, layout="constrained")
    ax.hist(values, bins=edges, log=log, color=PALETTE[0])
    ax.set_xlabel("pixel value")
    ax.set_ylabel("count")
    return fig


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
    fig, ax = figure_and_axes(ax, (9, 3.6))
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
    ax.legend(loc="upper center", ncol=min(len(rows) + 1, 4), frameon=False)
    return fig
