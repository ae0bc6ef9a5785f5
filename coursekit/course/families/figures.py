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


def _panel_title(row: dict, comparison: Any = None) -> str:
    """The family, framework and score: at the comparison's ``n`` when one is given, else the
    lab's own report (its own ``n``, said)."""
    head = f"{row['family']} · {row['framework']}"
    if comparison is not None:
        e = comparison.entry(row["key"])
        if e is None or not e.scored:
            return head + f"\nnot scored at n={comparison.n}"
        return head + f"\nFID {e.fid:.1f} at n={e.n} · {e.n_classes}/10 classes"
    s = report_of(row)
    if s.get("fid") is None:
        return head + "\nno sample report"
    n, k = s.get("n_samples", "?"), s.get("n_classes", "?")
    return head + f"\nlab's FID {s['fid']:.1f} (its n={n}) · {k}/10 classes"


def _empty(ax: Any, text: str) -> None:
    ax.set_axis_off()  # not set_yticks([]): on shared axes that would clear every panel's ticks
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.35",
            fontsize="small", wrap=True)


def _mark_smoke(ax: Any, row: dict) -> None:
    if row.get("_smoke"):
        ax.title.set_color(SMOKE_COLOUR)
        ax.text(0.5, 0.5, "SMOKE MODE", ha="center", va="center", transform=ax.transAxes,
                color=SMOKE_COLOUR, fontsize="large", fontweight="bold", alpha=0.8, rotation=20)


def sample_grids(rows: Sequence[dict], *, n: int = 36, ncols: int = 6,
                 comparison: Any = None) -> Any:
    """One grid of stored samples per model: families as columns, frameworks as rows.

    Args:
        rows: records (:func:`~coursekit.course.families.choose_records`); samples are read with
            :func:`coursekit.course.results.load_samples`.
        n: images per grid (at most :data:`~coursekit.course.results.N_KEPT_SAMPLES`; a record
            that stores fewer shows all it has).
        ncols: columns of each grid.
        comparison: :func:`~coursekit.course.families.compare`: titles give its scores at one
            ``n``, and a last column shows the baseline's samples (None: the labs' own reports,
            each at its own ``n``).

    Returns:
        A figure with ``max(1, records per family) x len(families)`` axes (at least the four
        families, plus the baseline's column with ``comparison``); a family without a record,
        or a record without stored samples, gets an axes that says so.
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
    base = None if comparison is None else comparison.baseline
    extra = base is not None and base.images is not None
    nrows = max(1, max(len(c) for c in columns))
    ncol_axes = len(families) + extra
    fig, axes = plt.subplots(nrows, ncol_axes, figsize=(3.3 * ncol_axes, 3.9 * nrows),
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
                ax.set_title(_panel_title(row, comparison), fontsize="small")
            else:
                plotting.image_grid(images[:n], ncols=min(ncols, len(images[:n])), ax=ax,
                                    title=_panel_title(row, comparison))
                ax.title.set_fontsize("small")
            _mark_smoke(ax, row)
    if extra:
        plotting.image_grid(base.images[:n], ncols=min(ncols, n), ax=axes[0, -1],
                            title=f"PCA + GMM baseline\nFID {base.fid:.1f} at n={base.n} · "
                                  f"{base.n_classes}/10 classes")
        axes[0, -1].title.set_fontsize("small")
        for ax in axes[1:, -1]:
            _empty(ax, "")
    return fig


def _short_framework(framework: str) -> str:
    """"Keras (tensorflow)" -> "Keras/tf", "Keras (torch)" -> "Keras/torch"."""
    for backend, short in (("tensorflow", "tf"), ("torch", "torch"), ("jax", "jax")):
        framework = framework.replace(f"Keras ({backend})", f"Keras/{short}")
    return framework


def _style(family: str) -> tuple[str, str]:
    return FAMILY_STYLE.get(family, _OTHER_STYLE)


def _floor_and_baseline(comparison: Any) -> tuple[Any, Any]:
    real = comparison.real if comparison.real is not None and comparison.real.scored else None
    base = comparison.baseline
    return real, base if base is not None and base.scored else None


def _log_ticks(ax: Any, low: float, high: float) -> None:
    """Labelled ticks at 1, 2 and 5 per decade on a narrow log axis (at most two decades),
    else at the decades only; unlabelled minor ticks either way (no overlapping labels)."""
    from matplotlib.ticker import LogLocator, NullFormatter

    subs = (1.0, 2.0, 5.0) if math.log10(high / low) <= 2 else (1.0,)
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=subs, numticks=20))
    ax.xaxis.set_minor_formatter(NullFormatter())


def quality_vs_cost(comparison: Any) -> Any:
    """Classifier FID at the comparison's one ``n`` against training seconds and against
    sampling seconds **per sample** (log axes).

    One marker per family (colour and shape), PyTorch filled, Keras open; the PCA + GMM baseline
    a grey cross; the real digits at the same ``n`` a dashed line (the floor). The legend sits
    below the panels, outside the data; records not scored at ``n`` are named in the title.

    Args:
        comparison: :func:`~coursekit.course.families.compare` (scores at different ``n``
            are refused by :func:`~coursekit.course.families.compare.check_same_n`).

    Returns:
        A figure with two axes: ``[training, sampling per sample]``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from coursekit.course.families.compare import check_same_n

    check_same_n(comparison)
    n = comparison.n
    real, base = _floor_and_baseline(comparison)
    points = [e for e in comparison.models if e.scored] + ([base] if base else [])
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.4), layout="constrained")
    handles: dict[str, Any] = {}
    for ax, column, xlabel in (
        (axes[0], "train_seconds", "training time (s, log scale; baseline: its fit)"),
        (axes[1], "seconds_per_sample", "sampling time per sample (s, log scale)"),
    ):
        shown = [e for e in points if getattr(e, column)]
        for e in shown:
            colour, marker = _style(e.family) if e.kind == "model" else ("0.35", "X")
            keras = e.kind == "model" and not _short_framework(e.framework).startswith("PyTorch")
            edge = SMOKE_COLOUR if e.smoke else ("black" if not keras else colour)
            ax.scatter([getattr(e, column)], [e.fid], s=130, marker=marker, zorder=3,
                       facecolor="white" if keras else colour, edgecolor=edge,
                       linewidths=2.0 if keras else 1.0)
            name = e.family if e.kind == "model" else "PCA + GMM baseline"
            handles.setdefault(name, Line2D([], [], marker=marker, ls="", markersize=10,
                                            markerfacecolor=colour, markeredgecolor="black"))
            if e.smoke:
                ax.annotate("SMOKE", (getattr(e, column), e.fid), xytext=(6, 4),
                            textcoords="offset points", fontsize="x-small", color=SMOKE_COLOUR)
        if real is not None and shown:
            ax.axhline(real.fid, color="0.3", ls="--", lw=1.5)
            handles.setdefault(f"{n:,} real digits (the floor)",
                               Line2D([], [], color="0.3", ls="--", lw=1.5))
        ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"classifier FID, n = {n:,}")
        ax.grid(True, which="major", alpha=0.3)
        if shown:
            xs = [getattr(e, column) for e in shown]
            ax.set_xlim(min(xs) / 3, max(xs) * 4)
            _log_ticks(ax, min(xs) / 3, max(xs) * 4)
            top = max([e.fid for e in shown] + ([real.fid] if real else []))
            ax.set_ylim(0, top * 1.15)
        else:
            _empty(ax, f"no entry scored at n = {n:,} with this time")
    missing = [e.label for e in comparison.models if not e.scored]
    axes[0].set_title("quality against training cost")
    axes[1].set_title("quality against sampling cost per sample")
    head = f"classifier FID of {n:,} samples each (lower is better)"
    if missing:
        head += (f"; {len(missing)} of {len(comparison.models)} records not scored at this n "
                 "(too few samples stored: see the table)")
    fig.suptitle(head, fontsize="medium")
    if handles:
        labels = list(handles)
        lines = list(handles.values())
        if any(e.kind == "model" for e in points):
            for text, face in (("PyTorch: filled", "0.4"), ("Keras: open", "white")):
                lines.append(Line2D([], [], marker="o", ls="", markersize=9,
                                    markerfacecolor=face, markeredgecolor="0.4"))
                labels.append(text)
        fig.legend(lines, labels, loc="outside lower center", ncols=min(len(labels), 5),
                   fontsize="small")
    return fig


def coverage_histograms(comparison: Any) -> Any:
    """The predicted-class histogram of every entry at the comparison's ``n``: families as
    columns (PyTorch above Keras), then a column with the baseline above the real digits; a
    dashed line marks the balanced 1/10. An entry not scored at ``n`` gets a panel saying why.

    Returns:
        A figure with ``max(2, records per family) x 5`` axes.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from coursekit.course.families.compare import check_same_n

    check_same_n(comparison)
    families = sorted({e.family for e in comparison.models} | set(FAMILIES),
                      key=lambda f: (family_rank(f), f))
    columns = [[e for e in comparison.models if e.family == f] for f in families]
    columns.append([e for e in comparison.entries if e.kind != "model"])
    nrows = max(2, max(len(c) for c in columns))
    fig, axes = plt.subplots(nrows, len(columns), figsize=(3.2 * len(columns), 2.8 * nrows),
                             squeeze=False, sharey=True, layout="constrained")
    for j, column in enumerate(columns):
        for i in range(nrows):
            ax = axes[i, j]
            e = column[i] if i < len(column) else None
            if e is None or not e.scored:
                first = not column and i == 0 and j < len(families)
                _empty(ax, f"no {families[j]} record" if first else
                       ("" if e is None else
                        f"not scored at n = {comparison.n:,}:\n{e.short_note}"))
                if e is not None or first:
                    ax.set_title(families[j] if e is None else e.label, fontsize="small")
                continue
            shares = np.asarray(e.histogram, dtype=float)
            colour = _style(e.family)[0] if e.kind == "model" else "0.45"
            ax.bar(np.arange(shares.size), shares, color=colour)
            ax.axhline(1 / shares.size, color="0.3", ls="--", lw=1)
            ax.set_xticks(np.arange(shares.size))
            ax.tick_params(labelsize="x-small")
            k = e.n_classes
            ax.set_title(f"{e.label}\n{k} class{'' if k == 1 else 'es'}, entropy "
                         f"{e.entropy:.2f}", fontsize="small")
            if e.row:
                _mark_smoke(ax, e.row)
    for ax in axes[:, 0]:
        ax.set_ylabel("share")
    fig.supxlabel(f"predicted digit of {comparison.n:,} samples (dashed: balanced; "
                  f"ln 10 = {math.log(10):.2f})", fontsize="small")
    return fig
