"""Week 5's figures: sample grids, quality against cost, class coverage, one style per family.

Families are columns (the course's four first), each family's records top down, PyTorch before
Keras; a family without a record keeps its column with a note, and smoke-mode rows are marked
in red. The figures read the records only (samples with
:func:`coursekit.course.results.load_samples`): nothing is trained or sampled here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from coursekit.course import results
from coursekit.course.families.records import (
    FAMILIES,
    check_rows,
    family_rank,
    report_of,
    row_label,
    sort_key,
)

#: One colour and marker per family (colour-blind safe, Okabe-Ito), used by every figure.
FAMILY_STYLE = {
    "RBM": ("#0072B2", "o"),
    "EBM": ("#E69F00", "s"),
    "VAE": ("#009E73", "^"),
    "GAN": ("#CC79A7", "D"),
}
_OTHER_STYLE = ("#555555", "P")
SMOKE_COLOUR = "#D00000"


def _layout(rows: list[dict]) -> tuple[list[str], list[list[dict]]]:
    """Families as columns (the four first, then any other), each column's records top down."""
    families = sorted({r["family"] for r in rows} | set(FAMILIES),
                      key=lambda f: (family_rank(f), f))
    columns = [sorted((r for r in rows if r["family"] == f), key=sort_key) for f in families]
    return families, columns


def _panel_title(row: dict) -> str:
    s = report_of(row)
    head = f"{row['family']} · {row['framework']}"
    if s.get("fid") is None:
        return head + "\nno sample report"
    n, k = s.get("n_samples", "?"), s.get("n_classes", "?")
    return head + f"\nFID {s['fid']:.1f} (n={n}) · {k}/10 classes"


def _empty(ax: Any, text: str) -> None:
    ax.set_axis_off()  # not set_yticks([]): on shared axes that would clear every panel's ticks
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.35",
            fontsize="small", wrap=True)


def _mark_smoke(ax: Any, row: dict) -> None:
    if row.get("_smoke"):
        ax.title.set_color(SMOKE_COLOUR)
        ax.text(0.5, 0.5, "SMOKE MODE", ha="center", va="center", transform=ax.transAxes,
                color=SMOKE_COLOUR, fontsize="large", fontweight="bold", alpha=0.8, rotation=20)


def sample_grids(rows: Sequence[dict], *, n: int = 36, ncols: int = 6) -> Any:
    """One grid of stored samples per model: families as columns, frameworks as rows.

    Args:
        rows: records (:func:`~coursekit.course.families.choose_records`); samples are read with
            :func:`coursekit.course.results.load_samples`.
        n: images per grid (at most the stored 64).
        ncols: columns of each grid.

    Returns:
        A figure with ``max(1, records per family) x len(families)`` axes (at least the four
        families); a family without a record, or a record without stored samples, gets an
        axes that says so.
    """
    import matplotlib.pyplot as plt

    from coursekit import plotting

    rows = check_rows(rows)
    for name, value in (("n", n), ("ncols", ncols)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    if n > results.N_KEPT_SAMPLES:
        raise ValueError(f"n must be at most {results.N_KEPT_SAMPLES} (the samples kept per "
                         f"record), got {n}.")
    families, columns = _layout(rows)
    nrows = max(1, max(len(c) for c in columns))
    fig, axes = plt.subplots(nrows, len(families), figsize=(3.3 * len(families), 3.9 * nrows),
                             squeeze=False, layout="constrained")
    for j, (family, column) in enumerate(zip(families, columns, strict=True)):
        for i in range(nrows):
            ax = axes[i, j]
            if i >= len(column):
                _empty(ax, f"no {family} record" if not column and i == 0 else "")
                if not column and i == 0:
                    ax.set_title(family)
                continue
            row = column[i]
            try:
                images = results.load_samples(row)
                why = "no samples stored\n(record written without samples=)"
            except FileNotFoundError:  # the record was copied without its .samples.npz
                images, why = None, f"sample file missing:\n{row['sample_file']}"
            if images is None:
                _empty(ax, why)
                ax.set_title(_panel_title(row), fontsize="small")
            else:
                plotting.image_grid(images[:n], ncols=min(ncols, len(images[:n])), ax=ax,
                                    title=_panel_title(row))
                ax.title.set_fontsize("small")
            _mark_smoke(ax, row)
    return fig


def _short_framework(framework: str) -> str:
    """"Keras (tensorflow)" -> "Keras/tf", "Keras (torch)" -> "Keras/torch"."""
    for backend, short in (("tensorflow", "tf"), ("torch", "torch"), ("jax", "jax")):
        framework = framework.replace(f"Keras ({backend})", f"Keras/{short}")
    return framework


def _style(family: str) -> tuple[str, str]:
    return FAMILY_STYLE.get(family, _OTHER_STYLE)


def quality_vs_cost(rows: Sequence[dict], *, real: Sequence[tuple] | None = None) -> Any:
    """Classifier FID against training seconds and against sampling seconds (log axes).

    One marker per family (colour and shape); PyTorch points filled, Keras points open (no text
    beside the points, so close points stay readable). On the right panel a family whose
    reports drew another number of samples than most says so in the legend. Records without an
    FID or a time are left out. ``real``, the list of
    :func:`~coursekit.course.families.real_digit_fids`, draws the FID of real digits as a dashed
    line: the entry at the records' most common ``n`` (else the largest ``n``), the floor at that
    sample count.

    Returns:
        A figure with two axes: ``[training, sampling]``.
    """
    from collections import Counter

    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    rows = check_rows(rows)
    counts = Counter(report_of(r).get("n_samples") for r in rows
                     if report_of(r).get("fid") is not None)
    usual_n = counts.most_common(1)[0][0] if counts else None
    floor = None
    if real:
        same_n = [r for r in real if r[0] == usual_n]
        floor = same_n[0] if same_n else max(real, key=lambda r: r[0])
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), layout="constrained")
    for ax, column, xlabel in (
        (axes[0], "train_seconds", "training time (s, log scale)"),
        (axes[1], "sample_seconds",
         "time to draw the report's samples (s, log scale)"
         + (f"\nn = {usual_n:,} samples unless the legend says" if usual_n else "")),
    ):
        shown = set()
        points = [r for r in rows if r.get(column) and report_of(r).get("fid") is not None]
        for r in points:
            colour, marker = _style(r["family"])
            fid, x = report_of(r)["fid"], r[column]
            n = report_of(r).get("n_samples")
            label = None
            if r["family"] not in shown:
                label = r["family"]
                if column == "sample_seconds" and n != usual_n and n is not None:
                    label += f" (n = {n:,})"
            shown.add(r["family"])
            keras = not _short_framework(r["framework"]).startswith("PyTorch")
            edge = SMOKE_COLOUR if r.get("_smoke") else ("black" if not keras else colour)
            ax.scatter([x], [fid], s=120, marker=marker, label=label, zorder=3,
                       facecolor="white" if keras else colour, edgecolor=edge,
                       linewidths=2.0 if keras else 1.0)
            if r.get("_smoke"):
                ax.annotate("SMOKE", (x, fid), xytext=(6, 4), textcoords="offset points",
                            fontsize="x-small", color=SMOKE_COLOUR)
        if floor is not None and points:
            ax.axhline(floor[1], color="0.3", ls="--", lw=1.5,
                       label=f"{floor[0]:,} real digits")
        ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("classifier FID (lower is better)")
        ax.grid(True, which="major", alpha=0.3)
        if points:
            xs = [r[column] for r in points]
            ax.set_xlim(min(xs) / 3, max(xs) * 4)
            ax.set_ylim(bottom=0)
            handles, labels = ax.get_legend_handles_labels()
            for text, face in (("PyTorch: filled", "0.4"), ("Keras: open", "white")):
                handles.append(Line2D([], [], marker="o", ls="", markersize=9,
                                      markerfacecolor=face, markeredgecolor="0.4"))
                labels.append(text)
            ax.legend(handles, labels, loc="best", fontsize="small")
        else:
            _empty(ax, "no record with this time and an FID")
    axes[0].set_title("quality against training cost")
    axes[1].set_title("quality against sampling cost")
    return fig


def coverage_histograms(rows: Sequence[dict]) -> Any:
    """The predicted-class histogram of every model's samples, laid out like
    :func:`sample_grids` (families as columns); a dashed line marks the balanced 1/10.

    Returns:
        A figure with the same axes grid as :func:`sample_grids`.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    rows = check_rows(rows)
    families, columns = _layout(rows)
    nrows = max(1, max(len(c) for c in columns))
    fig, axes = plt.subplots(nrows, len(families), figsize=(3.3 * len(families), 2.7 * nrows),
                             squeeze=False, sharey=True, layout="constrained")
    for j, (family, column) in enumerate(zip(families, columns, strict=True)):
        for i in range(nrows):
            ax = axes[i, j]
            row = column[i] if i < len(column) else None
            hist = None if row is None else report_of(row).get("histogram")
            if row is None or hist is None:
                first = not column and i == 0
                _empty(ax, f"no {family} record" if first else
                       ("" if row is None else "no sample report"))
                if row is not None or first:
                    ax.set_title(family if row is None else row_label(row), fontsize="small")
                continue
            shares = np.asarray(hist, dtype=float)
            ax.bar(np.arange(shares.size), shares, color=_style(family)[0])
            ax.axhline(1 / shares.size, color="0.3", ls="--", lw=1)
            ax.set_xticks(np.arange(shares.size))
            ax.tick_params(labelsize="x-small")
            s = report_of(row)
            k = s.get("n_classes", "?")
            ax.set_title(f"{row_label(row)}\n{k} class{'' if k == 1 else 'es'}, entropy "
                         f"{s.get('entropy', float('nan')):.2f}", fontsize="small")
            _mark_smoke(ax, row)
    for ax in axes[:, 0]:
        ax.set_ylabel("share")
    fig.supxlabel(f"predicted digit (dashed: balanced; ln 10 = {math.log(10):.2f})",
                  fontsize="small")
    return fig
