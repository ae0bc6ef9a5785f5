"""The four families side by side: the closing notebook's records, table and figures.

Every lab records one row of the course-wide results table
(:mod:`coursekit.course.results`), with its first 64 samples. The closing notebook (week 5)
shows those rows without training anything::

    from coursekit.course import families
    chosen = families.choose_records()        # which record of each model, and from where
    print(chosen)                              # one line per row: its source; what was passed over
    families.sample_grids(chosen.rows)         # one sample grid per family and framework
    families.quality_vs_cost(chosen.rows)      # classifier FID against training / sampling time
    families.coverage_histograms(chosen.rows)  # the predicted-class histogram of every model

**Which records** (:func:`choose_records`), in the spirit of ``coursekit slides``: the committed
full-mode records in ``benchmarks/results/course/`` (what ``make outputs`` keeps, found from the
repository root), replaced key by key by this run's record (``results.results_dir()``, e.g.
``build/results`` after ``make run``) when that one is full mode and newer. Smoke-mode records
are never used unless asked for (``allow_smoke=True``); the rows then carry ``_smoke = True``
and every figure marks them. Every chosen row carries ``_source`` (``"committed"`` or
``"run"``) and ``_folder`` (where its samples are).

The module is framework-free: NumPy and matplotlib, imported when a function needs them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coursekit.course import results

__all__ = [
    "FAMILIES",
    "SOURCES",
    "Selection",
    "choose_records",
    "committed_dir",
    "cost_summary",
    "cost_text",
    "coverage_histograms",
    "family_facts",
    "likelihood_summary",
    "likelihood_text",
    "quality_vs_cost",
    "real_digit_fids",
    "sample_descriptions",
    "sample_grids",
    "table",
]

#: The course's four families, in the order of the weeks.
FAMILIES = ("RBM", "EBM", "VAE", "GAN")
#: Where records can come from: the committed full-mode records and this run's results folder.
SOURCES = ("committed", "run")
#: The committed records, relative to the repository root (``make outputs`` writes them).
COMMITTED_RECORDS = Path("benchmarks") / "results" / "course"
#: One colour and marker per family (colour-blind safe, Okabe-Ito), used by every figure.
FAMILY_STYLE = {
    "RBM": ("#0072B2", "o"),
    "EBM": ("#E69F00", "s"),
    "VAE": ("#009E73", "^"),
    "GAN": ("#CC79A7", "D"),
}
_OTHER_STYLE = ("#555555", "P")
SMOKE_COLOUR = "#D00000"


# --------------------------------------------------------------------------------------------
# Which records
# --------------------------------------------------------------------------------------------


def _repo_root() -> Path | None:
    """The repository holding the working folder (the first folder up that has
    ``pyproject.toml`` and ``notebooks/``, as :func:`coursekit.course.results.results_dir`
    finds it), else None (e.g. on Colab)."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "notebooks").is_dir():
            return folder
    return None


def committed_dir() -> Path:
    """``benchmarks/results/course`` of the repository (see :func:`_repo_root`); relative to
    the working folder when no repository is found."""
    root = _repo_root()
    return (root / COMMITTED_RECORDS) if root is not None else COMMITTED_RECORDS


def _shown(path: Path) -> str:
    """``path`` for printing: relative to the repository root, else with ``~`` for home."""
    path = Path(path)
    root = _repo_root()
    try:
        resolved = path.resolve()
        if root is not None:
            return str(resolved.relative_to(root))
    except (OSError, ValueError):
        pass
    home = str(Path.home())
    text = str(path)
    return "~" + text[len(home):] if home not in ("", "/") and text.startswith(home) else text


@dataclass
class Selection:
    """The rows :func:`choose_records` chose and why.

    ``rows``: records of :func:`results.collect` (sorted by family, then framework), each with
    ``_source`` and ``_smoke`` added. ``lines``: one line per chosen row (its source, mode and
    time) and per record passed over (with the reason). ``missing``: families of
    :data:`FAMILIES` without a row. ``folders``: source name -> folder read.
    """

    rows: list[dict]
    lines: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    folders: dict[str, Path] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.rows)

    def __str__(self) -> str:
        head = [] if self.rows else [_nothing_message(self.folders)]
        tail = [f"no record of: {', '.join(self.missing)}"] if self.missing and self.rows else []
        return "\n".join(head + self.lines + tail)


def _nothing_message(folders: dict[str, Path]) -> str:
    where = "; ".join(
        f"{name}: {_shown(path)}{'' if path.is_dir() else ' (does not exist)'}"
        for name, path in folders.items()
    )
    return (
        f"No records to show ({where}). The labs of weeks 1 to 4 write them: run them in full "
        "mode (`make run`), or use the committed ones (`benchmarks/results/course/`, refreshed "
        "by `make outputs`). The figures below stay empty."
    )


def _family_rank(family: str) -> int:
    return FAMILIES.index(family) if family in FAMILIES else len(FAMILIES)


def _framework_rank(framework: str) -> int:
    name = framework.lower()
    return 0 if name.startswith("pytorch") else 1 if name.startswith("keras") else 2


def _sort_key(row: dict) -> tuple:
    return (_family_rank(row.get("family", "")), _framework_rank(row.get("framework", "")),
            row.get("key", ""))


def _describe(row: dict, source: str, folder: Path) -> str:
    when = (row.get("recorded") or "time not recorded").replace("T", " ")
    when = when.replace("+00:00", " UTC")
    path = _shown(folder / (row["key"] + ".json"))
    return f"{path} ({source}, {row.get('mode', '?')} mode, {when})"


def choose_records(
    sources: Sequence[str] = SOURCES,
    *,
    committed: str | os.PathLike[str] | None = None,
    run: str | os.PathLike[str] | None = None,
    allow_smoke: bool = False,
) -> Selection:
    """Choose one record per key from the committed records and this run's results.

    Args:
        sources: which of :data:`SOURCES` to read (default both).
        committed: the committed records' folder (default :func:`committed_dir`).
        run: this run's results folder (default :func:`coursekit.course.results.results_dir`).
        allow_smoke: also use smoke-mode records: then the newest record of each key whatever
            its mode, marked ``_smoke``.

    Returns:
        A :class:`Selection`. Per key, the newest full-mode record wins (the committed one when
        this run's is not newer); smoke-mode records are passed over (and said so) unless
        ``allow_smoke``. A default folder that does not exist holds no records; one given
        explicitly must exist.

    Raises:
        ValueError: an unknown source name, no source, or an explicit folder that does not
            exist.
    """
    if isinstance(sources, str):
        sources = (sources,)
    sources = tuple(sources)
    unknown = [s for s in sources if s not in SOURCES]
    if unknown or not sources:
        raise ValueError(f"sources must name some of {SOURCES}, got {sources!r}.")
    if not isinstance(allow_smoke, bool):
        raise ValueError(f"allow_smoke must be True or False, got {allow_smoke!r}.")
    given = {"committed": committed, "run": run}
    for name, value in given.items():
        if value is not None and not Path(value).is_dir():
            raise ValueError(f"{name} folder {str(value)!r} does not exist (or is not a folder).")
    defaults = {"committed": committed_dir, "run": results.results_dir}
    folders: dict[str, Path] = {}
    for name in sources:
        value = given[name]
        folder = Path(value) if value is not None else defaults[name]()
        if any(_same(folder, seen) for seen in folders.values()):
            continue  # one folder named twice (COURSEKIT_RESULTS=benchmarks/results/course)
        folders[name] = folder

    candidates: dict[str, list[tuple[str, Path, dict]]] = {}
    for name, folder in folders.items():
        for row in results.collect(folder):
            candidates.setdefault(row["key"], []).append((name, folder, row))

    chosen, lines = [], []
    for key in sorted(candidates):
        options = candidates[key]
        usable = [o for o in options if allow_smoke or o[2].get("mode") == "full"]
        # newest first; on a tie the earlier source (committed) wins
        usable.sort(key=lambda o: (o[2].get("recorded") or "", -sources.index(o[0])),
                    reverse=True)
        if usable:
            name, folder, row = usable[0]
            row = dict(row, _source=name, _smoke=row.get("mode") != "full")
            chosen.append(row)
            mark = "  SMOKE MODE" if row["_smoke"] else ""
            lines.append(f"{row['family']} {row['framework']}: from {_describe(row, name, folder)}"
                         f"{mark}")
        for other in options:
            if usable and other is usable[0]:
                continue
            name, folder, row = other
            if not allow_smoke and row.get("mode") != "full":
                why = f"{row.get('mode', 'unknown')} mode; allow_smoke=True would use it"
            else:
                why = "an older record of the same key"
            lines.append(f"  not from {_describe(row, name, folder)}: {why}")
    chosen.sort(key=_sort_key)
    present = {r.get("family") for r in chosen}
    missing = [f for f in FAMILIES if f not in present]
    return Selection(rows=chosen, lines=lines, missing=missing, folders=folders)


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------


def _report(row: dict) -> dict:
    return row.get("samples") or {}


def _label(row: dict) -> str:
    return f"{row.get('family', '?')}, {row.get('framework', '?')}"


def _check_rows(rows: Any, name: str = "rows") -> list[dict]:
    if isinstance(rows, Selection):
        rows = rows.rows
    if isinstance(rows, (str, bytes, dict)) or not isinstance(rows, Iterable):
        raise ValueError(f"{name} must be a list of records (choose_records().rows), got "
                         f"{type(rows).__name__}.")
    rows = list(rows)
    for row in rows:
        if not isinstance(row, dict) or not {"key", "family", "framework"} <= set(row):
            raise ValueError(
                f"{name} must hold records with key, family and framework, got {row!r}."
            )
    return rows


def _fmt_seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if value >= 10 else f"{value:.2g}"


def table(rows: Sequence[dict]) -> str:
    """A compact markdown table: one row per model, the columns that compare families.

    Columns: family, framework, source, updates, training seconds, sampling seconds (for the
    report's ``n`` samples), ``n``, classifier FID, classes covered, class entropy,
    log-likelihood (nats per test image) with its method. Smoke-mode rows say so.
    """
    rows = _check_rows(rows)
    if not rows:
        return "*No records to show: see the message above.*"
    lines = [
        "| family | framework | source | updates | train s | sample s | n | FID | classes "
        "| entropy | log-likelihood |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        s = _report(r)
        ll = r.get("log_likelihood")
        method = (r.get("likelihood_method") or "?").split(",")[0]
        source = r.get("_source", "?") + (" **SMOKE**" if r.get("_smoke") else "")
        lines.append(
            f"| {r['family']} | {r['framework']} | {source} "
            f"| {'—' if r.get('updates') is None else format(r['updates'], ',')} "
            f"| {_fmt_seconds(r.get('train_seconds'))} | {_fmt_seconds(r.get('sample_seconds'))} "
            f"| {'—' if s.get('n_samples') is None else format(s['n_samples'], ',')} "
            f"| {'—' if s.get('fid') is None else format(s['fid'], '.2f')} "
            f"| {'—' if s.get('n_classes') is None else s['n_classes']} "
            f"| {'—' if s.get('entropy') is None else format(s['entropy'], '.2f')} "
            f"| {'—' if ll is None else f'{ll:.1f} ({method})'} |"
        )
    return "\n".join(lines)


def cost_summary(rows: Sequence[dict]) -> dict[str, Any]:
    """Per family the fastest sampler and the slowest, and the ratio of sampling times.

    Returns a dict: ``"sample_seconds"``: family -> (seconds, n samples, framework) of the
    fastest record of that family that has a sampling time; ``"slowest"`` and ``"fastest"``:
    the family names with the largest and smallest of those times (per sample); ``"ratio"``:
    slowest over fastest time per sample (None with fewer than two families).
    """
    rows = _check_rows(rows)
    best: dict[str, tuple[float, int, str]] = {}
    for r in rows:
        sec, n = r.get("sample_seconds"), _report(r).get("n_samples")
        if sec is None or not n or sec <= 0:
            continue
        if r["family"] not in best or sec / n < best[r["family"]][0] / best[r["family"]][1]:
            best[r["family"]] = (float(sec), int(n), r["framework"])
    out: dict[str, Any] = {"sample_seconds": best, "slowest": None, "fastest": None, "ratio": None}
    if len(best) >= 2:
        per = {f: s / n for f, (s, n, _) in best.items()}
        out["slowest"], out["fastest"] = max(per, key=per.get), min(per, key=per.get)
        out["ratio"] = per[out["slowest"]] / per[out["fastest"]]
    return out


def likelihood_summary(rows: Sequence[dict]) -> list[dict[str, Any]]:
    """The rows with a log-likelihood: family, framework, value (nats), method, and the FID
    reference string (it names the test set the lab loaded, the one it scored too)."""
    rows = _check_rows(rows)
    return [
        {"family": r["family"], "framework": r["framework"], "value": r["log_likelihood"],
         "method": r.get("likelihood_method") or "?", "reference": _report(r).get("reference")}
        for r in rows if r.get("log_likelihood") is not None
    ]


def real_digit_fids(ns: Sequence[int], *, seed: int = 0) -> list[tuple[int, float, int]]:
    """Classifier FID of ``n`` real training digits (a random subset) for each ``n`` in ``ns``:
    the floor a perfect model would reach at that sample count, and how it falls with ``n``.

    Returns:
        ``[(n, fid, classes covered), ...]`` in the order of ``ns``.

    Raises:
        ValueError: ``ns`` empty, or an ``n`` below 10 or above the training digits available.
    """
    import warnings

    import numpy as np

    from coursekit import data, metrics

    ns = list(ns)
    if not ns or any(isinstance(n, bool) or not isinstance(n, int) or n < 10 for n in ns):
        raise ValueError(f"ns must be a non-empty list of integers >= 10, got {ns!r}.")
    with warnings.catch_warnings(record=True) as caught:  # said again from the caller's line,
        warnings.simplefilter("always")  # so that no path of this file shows in a notebook
        images, _ = data.load_mnist("train")
    for warning in caught:
        warnings.warn(warning.message, warning.category, stacklevel=2)
    if max(ns) > len(images):
        raise ValueError(f"ns asks for {max(ns):,} digits; the training split here has "
                         f"{len(images):,} (offline fallback?).")
    order = np.random.default_rng(seed).permutation(len(images))
    out = []
    for n in ns:
        rep = metrics.sample_report(images[order[:n]].astype(np.float32) / 255.0, min_samples=n)
        out.append((n, rep.fid, rep.coverage.n_classes))
    return out


def sample_descriptions(rows: Sequence[dict]) -> str:
    """Markdown bullets: per record, the model and what its report's samples are (the report's
    name, which each lab writes with its chain lengths, e.g. Gibbs or Langevin steps)."""
    rows = _check_rows(rows)
    if not rows:
        return "*No records.*"
    return "\n".join(
        f"* **{_label(r)}**: {r.get('model', '?')}; samples: {_report(r).get('name') or '?'}"
        for r in rows
    )


def _best(rows: list[dict], family: str) -> dict | None:
    """The record of ``family`` with the lowest FID (None if there is none with an FID)."""
    scored = [r for r in rows if r["family"] == family and _report(r).get("fid") is not None]
    return min(scored, key=lambda r: _report(r)["fid"]) if scored else None


def family_facts(rows: Sequence[dict]) -> str:
    """Markdown bullets, one per family: its best record by FID, with classes covered, training
    and sampling time, and the log-likelihood where it has one (every number from the records).
    """
    rows = _check_rows(rows)
    lines = []
    for family in FAMILIES:
        r = _best(rows, family)
        if r is None:
            lines.append(f"* **{family}**: no record with a sample report yet.")
            continue
        s = _report(r)
        ll = r.get("log_likelihood")
        lines.append(
            f"* **{family}** (best by FID: {r['framework']}): FID {s['fid']:.2f} at "
            f"n = {s.get('n_samples', '?'):,}, {s.get('n_classes', '?')}/10 classes; trained "
            f"{_fmt_seconds(r.get('train_seconds'))} s for "
            f"{'?' if r.get('updates') is None else format(r['updates'], ',')} updates; sampled in "
            f"{_fmt_seconds(r.get('sample_seconds'))} s"
            + ("" if ll is None else f"; log-likelihood {ll:.1f} nats "
               f"({(r.get('likelihood_method') or '?').split(',')[0]})")
            + (" **(smoke mode)**" if r.get("_smoke") else "")
        )
    return "\n".join(lines)


def cost_text(rows: Sequence[dict]) -> str:
    """One markdown sentence on sampling cost, from :func:`cost_summary`."""
    c = cost_summary(rows)
    if c["ratio"] is None:
        return "*Fewer than two families with a sampling time: nothing to compare yet.*"
    (s1, n1, f1), (s2, n2, f2) = (c["sample_seconds"][c["slowest"]],
                                  c["sample_seconds"][c["fastest"]])
    return (
        f"Per sample, the slowest sampler is the **{c['slowest']}** ({f1}: "
        f"{_fmt_seconds(s1)} s for {n1:,} samples) and the fastest the **{c['fastest']}** "
        f"({f2}: {_fmt_seconds(s2)} s for {n2:,}): a factor of about **{c['ratio']:,.0f}**."
    )


def likelihood_text(rows: Sequence[dict]) -> str:
    """Markdown: the log-likelihoods on record, whether they were scored on the same test set
    (the reference string of their sample reports), and the gap between the RBM and the VAE."""
    lls = likelihood_summary(rows)
    if not lls:
        return "*No record with a log-likelihood yet (the RBM and VAE labs write them).*"
    lines = [f"* **{x['family']}, {x['framework']}**: {x['value']:.1f} nats ({x['method']})"
             for x in lls]
    refs = {x["reference"] for x in lls}
    if len(refs) == 1 and None not in refs:
        lines.append(f"\nEvery one was recorded in a run whose test set was: {refs.pop()}.")
    else:
        lines.append("\n**The records name different test sets** "
                     f"({'; '.join(sorted(str(r) for r in refs))}): their numbers do not compare.")
    best = {f: max((x["value"] for x in lls if x["family"] == f), default=None)
            for f in ("RBM", "VAE")}
    if None not in best.values():
        lines.append(
            f"Best VAE bound minus best RBM estimate: **{best['VAE'] - best['RBM']:.1f} nats** "
            "per test image."
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def _layout(rows: list[dict]) -> tuple[list[str], list[list[dict]]]:
    """Families as columns (the four first, then any other), each column's records top down."""
    families = sorted({r["family"] for r in rows} | set(FAMILIES),
                      key=lambda f: (_family_rank(f), f))
    columns = [sorted((r for r in rows if r["family"] == f), key=_sort_key) for f in families]
    return families, columns


def _panel_title(row: dict) -> str:
    s = _report(row)
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
        rows: records (:func:`choose_records`); samples are read with
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

    rows = _check_rows(rows)
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
    FID or a time are left out. ``real``, the list of :func:`real_digit_fids`, draws the FID of
    real digits as a dashed line: the entry at the records' most common ``n`` (else the largest
    ``n``), the floor at that sample count.

    Returns:
        A figure with two axes: ``[training, sampling]``.
    """
    from collections import Counter

    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    rows = _check_rows(rows)
    counts = Counter(_report(r).get("n_samples") for r in rows if _report(r).get("fid") is not None)
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
        points = [r for r in rows if r.get(column) and _report(r).get("fid") is not None]
        for r in points:
            colour, marker = _style(r["family"])
            fid, x = _report(r)["fid"], r[column]
            n = _report(r).get("n_samples")
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

    rows = _check_rows(rows)
    families, columns = _layout(rows)
    nrows = max(1, max(len(c) for c in columns))
    fig, axes = plt.subplots(nrows, len(families), figsize=(3.3 * len(families), 2.7 * nrows),
                             squeeze=False, sharey=True, layout="constrained")
    for j, (family, column) in enumerate(zip(families, columns, strict=True)):
        for i in range(nrows):
            ax = axes[i, j]
            row = column[i] if i < len(column) else None
            hist = None if row is None else _report(row).get("histogram")
            if row is None or hist is None:
                first = not column and i == 0
                _empty(ax, f"no {family} record" if first else
                       ("" if row is None else "no sample report"))
                if row is not None or first:
                    ax.set_title(family if row is None else _label(row), fontsize="small")
                continue
            shares = np.asarray(hist, dtype=float)
            ax.bar(np.arange(shares.size), shares, color=_style(family)[0])
            ax.axhline(1 / shares.size, color="0.3", ls="--", lw=1)
            ax.set_xticks(np.arange(shares.size))
            ax.tick_params(labelsize="x-small")
            s = _report(row)
            k = s.get("n_classes", "?")
            ax.set_title(f"{_label(row)}\n{k} class{'' if k == 1 else 'es'}, entropy "
                         f"{s.get('entropy', float('nan')):.2f}", fontsize="small")
            _mark_smoke(ax, row)
    for ax in axes[:, 0]:
        ax.set_ylabel("share")
    fig.supxlabel(f"predicted digit (dashed: balanced; ln 10 = {math.log(10):.2f})",
                  fontsize="small")
    return fig
