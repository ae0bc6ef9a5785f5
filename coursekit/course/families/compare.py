"""Week 5's comparison at one sample count: every family, the baseline and real digits.

FID depends on the sample count ``n`` (it is biased upwards, more for small ``n``), so the labs'
own reports, drawn at their own ``n`` (500 to 2,000), do not compare. :func:`compare` scores
every record's stored samples again at one ``n`` (:data:`coursekit.course.results.N_COMPARE`;
a fixed-seed subsample where a record stores more), against the same reference (the test split
of :func:`coursekit.data.load_mnist`), beside two rows scored the same way:

* the **baseline**: PCA + Gaussian mixture (:mod:`~coursekit.course.families.baseline`) fitted
  to the training digits, ``n`` samples clipped to [0, 1];
* **real digits**: ``n`` random training digits, the floor a perfect model would reach at ``n``.

A record that stores fewer than ``n`` samples (written before the records kept
:data:`~coursekit.course.results.N_COMPARE`, or a smoke run) gets no score, and the entry says
why. Every consumer of the scores (:func:`comparison_table`, :func:`buys_text`, the figures)
first calls :func:`check_same_n`, which refuses scores at different ``n``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coursekit.checks import check_bool, check_float, check_int
from coursekit.course import results
from coursekit.course.families.records import FAMILIES, check_rows, report_of, sort_key

__all__ = [
    "SAMPLE_KINDS",
    "Comparison",
    "Entry",
    "bernoulli_draws",
    "buys_text",
    "check_same_n",
    "compare",
    "comparison_table",
    "seconds_per_sample",
    "subsample",
]

#: What each family's stored (and scored) images are, in the table's words. All are grey levels
#: in [0, 1], like the real digits; the RBM's and the VAE's are per-pixel Bernoulli means.
SAMPLE_KINDS = {
    "RBM": "p(x|h) means",
    "EBM": "Langevin states",
    "VAE": "decoder means",
    "GAN": "generator outputs",
    "baseline": "GMM draws, clipped",
    "real": "training digits",
}


@dataclass
class Entry:
    """One row of the comparison: a record, the baseline or the real digits.

    ``kind``: ``"model"``, ``"baseline"`` or ``"real"``. ``n``, ``fid``, ``n_classes``,
    ``entropy``, ``histogram`` [10]: the score at the comparison's ``n`` (None, and ``note``
    says why, when the entry has too few samples). ``train_seconds``: training (the baseline:
    its fit). ``seconds_per_sample``: the lab's ``sample_seconds`` over the samples it timed.
    ``images``: the images scored (float32 [n, 28, 28]) or, unscored, those stored ([m, 28, 28]).
    ``stored``: how many images the record stores (None: none, or not a record).
    """

    label: str
    family: str
    framework: str
    kind: str = "model"
    n: int | None = None
    fid: float | None = None
    n_classes: int | None = None
    entropy: float | None = None
    histogram: list[float] | None = None
    train_seconds: float | None = None
    seconds_per_sample: float | None = None
    note: str = ""
    stored: int | None = None
    row: dict | None = None
    images: np.ndarray | None = field(default=None, repr=False)

    @property
    def scored(self) -> bool:
        return self.fid is not None

    @property
    def smoke(self) -> bool:
        return bool(self.row and self.row.get("_smoke"))

    @property
    def short_note(self) -> str:
        """Why it is unscored, in a few words ("" when scored)."""
        if self.scored:
            return ""
        return "no samples" if self.stored is None else f"{self.stored:,} samples stored"


@dataclass
class Comparison:
    """Every entry scored at one ``n`` (:func:`compare`); ``str()`` says what was not scored."""

    n: int
    entries: list[Entry]
    reference: str = ""
    seed: int = 0
    baseline_model: Any = field(default=None, repr=False)

    def _kind(self, kind: str) -> list[Entry]:
        return [e for e in self.entries if e.kind == kind]

    @property
    def models(self) -> list[Entry]:
        return self._kind("model")

    @property
    def baseline(self) -> Entry | None:
        return next(iter(self._kind("baseline")), None)

    @property
    def real(self) -> Entry | None:
        return next(iter(self._kind("real")), None)

    def entry(self, key: str) -> Entry | None:
        """The entry of the record ``key`` (None if it has none)."""
        return next((e for e in self.models if e.row and e.row.get("key") == key), None)

    def __str__(self) -> str:
        scored = [e for e in self.entries if e.scored]
        lines = [f"Scored at n = {self.n:,} (fixed-seed subsample, seed {self.seed}) against "
                 f"{self.reference or 'the test split'}: "
                 f"{', '.join(e.label for e in scored) or 'nothing'}."]
        lines += [f"NOT scored: {e.label}: {e.note}" for e in self.entries if not e.scored]
        return "\n".join(lines)


def subsample(images: Any, n: int, *, seed: int = 0) -> np.ndarray:
    """``n`` of ``images`` [m, ...] (m >= n): all of them in order when m == n, else a
    fixed-seed choice without replacement, kept in stored order.

    Raises:
        ValueError: fewer than ``n`` images, or ``n`` not a positive integer.
    """
    n = check_int(n, "n", 1, "images to take")
    seed = check_int(seed, "seed", 0, "random seed")
    images = np.asarray(images)
    if images.ndim < 1:
        raise ValueError(f"images must be an array [m, ...] of images, got {type(images).__name__}"
                         f" of shape {images.shape}")  # fmt: skip
    if len(images) < n:
        raise ValueError(f"cannot take n = {n:,} of {len(images):,} images.")
    if len(images) == n:
        return images
    return images[np.sort(np.random.default_rng(seed).choice(len(images), n, replace=False))]


def seconds_per_sample(row: dict) -> float | None:
    """``sample_seconds`` over the samples the lab timed (``samples_drawn``, else the report's
    ``n_samples``); None when either is missing."""
    if not isinstance(row, dict):
        raise ValueError(f"row must be a record (a dict from choose_records().rows), got "
                         f"{type(row).__name__}")  # fmt: skip
    sec = row.get("sample_seconds")
    count = row.get("samples_drawn") or report_of(row).get("n_samples")
    return None if sec is None or not count else float(sec) / count


def _score(entry: Entry, images: np.ndarray, n: int, reference: Any) -> str:
    """Fill ``entry``'s score from ``images`` (exactly n); returns the reference's description."""
    from coursekit import metrics

    rep = metrics.sample_report(images, entry.label, reference=reference, min_samples=n)
    entry.n, entry.fid = rep.n_samples, float(rep.fid)
    entry.n_classes, entry.entropy = rep.coverage.n_classes, float(rep.coverage.entropy)
    entry.histogram = [float(s) for s in rep.coverage.histogram]
    entry.images = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28)
    return rep.reference


def _why_not(row: dict, stored: int, n: int) -> str:
    if row.get("samples_kept") is None:
        return (f"the record stores {stored:,} samples: written before records kept "
                f"n = {n:,} (re-run the lab to compare it)")
    drawn = row.get("samples_drawn") or stored
    return f"the lab drew {drawn:,} samples, fewer than n = {n:,} (a smoke run?)"


def _train_digits() -> np.ndarray:
    """The training split, uint8 [N, 28, 28]; a data warning is said again from the caller."""
    import warnings

    from coursekit import data

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        images, _ = data.load_mnist("train")
    for warning in caught:
        warnings.warn(warning.message, warning.category, stacklevel=3)
    return images


def compare(
    rows: Sequence[dict], *, n: int = results.N_COMPARE, seed: int = 0,
    baseline: Any = True, real: bool = True, train_images: Any = None, reference: Any = None,
) -> Comparison:  # fmt: skip
    """Score every record's stored samples, the baseline and real digits at one ``n``.

    Args:
        rows: records (:func:`~coursekit.course.families.choose_records`).
        n: the sample count of every score (default :data:`results.N_COMPARE`).
        seed: the subsample of records storing more than ``n``, the baseline's fit and draws,
            and the choice of real digits.
        baseline: True: fit :func:`~coursekit.course.families.baseline.fit_pca_gmm` to
            ``train_images``; a fitted model: use it; False: no baseline entry.
        real: add ``n`` random training digits (the floor at ``n``).
        train_images: the training digits, uint8 [N, 28, 28] (default: the training split of
            :func:`coursekit.data.load_mnist`, as the labs load it).
        reference: as in :func:`coursekit.metrics.sample_report` (None: the test split).

    Returns:
        A :class:`Comparison`: records in the course's order, then the baseline, then real.
    """
    rows = check_rows(rows)
    n = check_int(n, "n", 10, "the sample count of every score")
    seed = check_int(seed, "seed", 0, "random seed")
    real = check_bool(real, "real")
    if not (baseline is True or baseline is False or _is_baseline(baseline)):
        raise ValueError(
            "baseline must be True (fit the PCA + GMM baseline), False (no baseline) or a "
            f"fitted model (families.fit_pca_gmm(images)), got {type(baseline).__name__} "
            f"{baseline!r:.40}"
        )
    if train_images is not None and (baseline is True or real):
        from coursekit.course.families.baseline import check_digits

        check_digits(train_images, "train_images")
    entries, what = [], ""
    for row in sorted(rows, key=sort_key):
        e = Entry(f"{row['family']}, {row['framework']}", row["family"], row["framework"],
                  row=row, train_seconds=row.get("train_seconds"),
                  seconds_per_sample=seconds_per_sample(row))
        try:
            images = results.load_samples(row)
        except FileNotFoundError:
            images, e.note = None, f"sample file missing: {row.get('sample_file')}"
        if images is None:
            e.note = e.note or "no samples stored (recorded without samples=)"
        elif len(images) < n:
            e.note, e.images, e.stored = _why_not(row, len(images), n), images, len(images)
        else:
            e.stored = len(images)
            what = _score(e, subsample(images, n, seed=seed), n, reference)
        entries.append(e)
    model, train = None, train_images
    if train is None and (baseline is True or real):
        train = _train_digits()
    if baseline is not False:
        from coursekit.course.families.baseline import fit_pca_gmm

        model = fit_pca_gmm(train, seed=seed) if baseline is True else baseline
        e = Entry("PCA + GMM baseline", "baseline", "NumPy", kind="baseline",
                  train_seconds=model.fit_seconds)
        start = time.perf_counter()
        images = model.sample(n, seed=seed)
        e.seconds_per_sample = (time.perf_counter() - start) / n
        what = _score(e, images, n, reference)
        entries.append(e)
    if real:
        train = np.asarray(train)
        if len(train) < n:
            raise ValueError(f"n = {n:,} needs that many training digits; got {len(train):,}.")
        pick = np.random.default_rng(seed).permutation(len(train))[:n]
        e = Entry(f"{n:,} real training digits", "real", "—", kind="real")
        scale = 255.0 if train.dtype == np.uint8 else 1.0
        what = _score(e, train[pick].astype(np.float32) / scale, n, reference)
        entries.append(e)
    return Comparison(n=n, entries=entries, reference=what, seed=seed, baseline_model=model)


def _is_baseline(model: Any) -> bool:
    """Whether ``model`` is a fitted baseline: it draws images and says how long it took."""
    return callable(getattr(model, "sample", None)) and hasattr(model, "fit_seconds")


def _check_comparison(comparison: Any, name: str = "comparison") -> Comparison:
    if not isinstance(comparison, Comparison):
        raise ValueError(f"{name} must be a Comparison (families.compare(rows)), got "
                         f"{type(comparison).__name__}")  # fmt: skip
    return comparison


def check_same_n(entries: Comparison | Sequence[Entry]) -> int | None:
    """The one ``n`` of the scored entries (None if none is scored).

    Raises:
        ValueError: scores at different ``n``: FID depends on ``n``, so they do not compare;
            ``entries`` neither a :class:`Comparison` nor a list of :class:`Entry`.
    """
    if isinstance(entries, Comparison):
        items = entries.entries
    elif isinstance(entries, (list, tuple)) and all(isinstance(e, Entry) for e in entries):
        items = list(entries)
    else:
        raise ValueError(f"entries must be a Comparison or a list of its entries, got "
                         f"{type(entries).__name__}")  # fmt: skip
    ns = {e.n for e in items if e.scored}
    if len(ns) > 1:
        which = "; ".join(f"{e.label}: n = {e.n:,}" for e in items if e.scored)
        raise ValueError(
            f"FIDs at different sample counts do not compare ({which}): FID is biased upwards, "
            "more for small n. Score every entry at one n (families.compare(rows, n=...))."
        )
    return ns.pop() if ns else None


def _cell(value: Any, spec: str) -> str:
    return "—" if value is None else format(value, spec)


_LAB_KEY = re.compile(r"(week\d+_[a-z0-9]+)_[a-z0-9_]+")


def lab_link(row: dict | None) -> str | None:
    """The lab notebook that wrote a record, relative to the week 5 notebook
    (``week3_vae_pytorch`` -> ``../week3_vae/week3_vae_pytorch.ipynb``); None for rows that
    are not a lab's record (the baseline, real digits)."""
    key = (row or {}).get("key")
    match = _LAB_KEY.fullmatch(key) if isinstance(key, str) else None
    return f"../{match.group(1)}/{key}.ipynb" if match else None


def comparison_table(comparison: Comparison) -> str:
    """Markdown: one row per entry, every FID at the comparison's ``n``.

    Columns: model (linked to the lab that wrote its record), source, what the samples are,
    updates, training seconds (the baseline: its fit), seconds per sample, FID at ``n``, FID
    above the real digits' at ``n``, classes, entropy, log-likelihood. Unscored records say
    why in the FID column.
    """
    n = check_same_n(_check_comparison(comparison))
    floor = comparison.real.fid if comparison.real and comparison.real.scored else None
    lines = [
        f"| model | source | samples are | updates | train s | s per sample | FID (n = "
        f"{comparison.n:,}) | FID − real | classes | entropy | log-likelihood |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for e in comparison.entries:
        r = e.row or {}
        source = r.get("_source", "this notebook") + (" **SMOKE**" if e.smoke else "")
        ll = r.get("log_likelihood")
        method = (r.get("likelihood_method") or "?").split(",")[0]
        fid = f"{e.fid:.2f}" if e.scored else f"not scored ({e.short_note})"
        above = "—" if floor is None or not e.scored else f"{e.fid - floor:+.2f}"
        link = lab_link(e.row)
        label = f"[{e.label}]({link})" if link else e.label
        lines.append(
            f"| **{label}** | {source} | {SAMPLE_KINDS.get(e.family, '?')} "
            f"| {_cell(r.get('updates'), ',')} "
            f"| {results.format_seconds(e.train_seconds, thousands=True)} "
            f"| {_cell(e.seconds_per_sample, '.2g')} | {fid} | {above} "
            f"| {_cell(e.n_classes, 'd')} | {_cell(e.entropy, '.2f')} "
            f"| {'—' if ll is None else f'{ll:.1f} ({method})'} |"
        )
    if n is not None and n != comparison.n:
        raise ValueError(f"entries scored at n = {n}, the comparison says {comparison.n}.")
    return "\n".join(lines)


def fid_tie_band(baseline_fid: float, floor: float) -> float:
    """The FID difference below which two models at the same n are level: FID at one n is
    noisy (two sets of real digits already differ by the ``floor``), so twice the floor, or a
    tenth of the baseline's distance above it, whichever is larger."""
    baseline_fid = check_float(baseline_fid, "baseline_fid", ">= 0", "the baseline's FID")
    floor = check_float(floor, "floor", ">= 0", "the real digits' FID at the same n")
    return max(2 * floor, 0.1 * (baseline_fid - floor))


def fid_verdict(fid: float, baseline_fid: float, floor: float) -> str:
    """How a FID compares with the baseline's at the same n: ``"level with"`` (within
    :func:`fid_tie_band`), ``"beats"`` or ``"does not beat"``."""
    fid = check_float(fid, "fid", ">= 0", "the model's FID")
    if abs(fid - baseline_fid) < fid_tie_band(baseline_fid, floor):
        return "level with"
    return "beats" if fid < baseline_fid else "does not beat"


def buys_text(comparison: Comparison) -> str:
    """Markdown bullets: per family, its best entry by FID at ``n`` against the baseline (FID
    above the real digits' floor, classes, seconds per sample), every number from the scores."""
    check_same_n(_check_comparison(comparison))
    base, real = comparison.baseline, comparison.real
    if base is None or not base.scored:
        return "*No baseline scored: nothing to measure the families against.*"
    floor = real.fid if real is not None and real.scored else 0.0
    what = "above the real digits' floor" if real is not None and real.scored else "FID"
    lines = [f"* **Baseline**: FID {base.fid:.2f} at n = {comparison.n:,} ({base.fid - floor:.2f} "
             f"{what}), {base.n_classes}/10 classes, {base.seconds_per_sample:.2g} s per "
             f"sample, fitted in {base.train_seconds:.1f} s."]
    for family in FAMILIES:
        scored = [e for e in comparison.models if e.family == family and e.scored]
        if not scored:
            why = {e.short_note for e in comparison.models if e.family == family}
            lines.append(f"* **{family}**: nothing scored at n = {comparison.n:,} ("
                         f"{'; '.join(sorted(why)) or 'no record'}).")
            continue
        best = min(scored, key=lambda e: e.fid)
        gap, base_gap = best.fid - floor, base.fid - floor
        level = fid_verdict(best.fid, base.fid, floor) == "level with"
        verdict = (f"**level with the baseline** (a difference of {best.fid - base.fid:+.2f} is "
                   "within FID's noise at this n)" if level else
                   "**does not beat the baseline**" if best.fid >= base.fid else
                   f"beats it: {base_gap / gap:.1f}x closer to the floor" if gap > 0 else
                   "beats it: at the floor")
        per = best.seconds_per_sample
        lines.append(
            f"* **{family}** (best: {best.framework}): FID {best.fid:.2f} ({gap:.2f} {what}), "
            f"{best.n_classes}/10 classes, "
            f"{'?' if per is None else format(per, '.2g')} s per sample: {verdict}"
            + ("" if per is None or not base.seconds_per_sample else
               f", at {per / base.seconds_per_sample:,.1f}x the baseline's sampling time per "
               "sample") + "." + (" **(smoke mode)**" if best.smoke else "")
        )
    return "\n".join(lines)


def bernoulli_draws(
    comparison: Comparison, families: Sequence[str] = ("RBM", "VAE"), *, seed: int = 0,
    reference: Any = None,
) -> list[Entry]:  # fmt: skip
    """The scored entries of ``families`` (whose images are Bernoulli means) scored again as
    one binary draw ``x = (u < p)`` per image (a fixed seed), at the same ``n``: what their FID
    is when scored as draws, like the EBM's, the GAN's and the baseline's samples.

    Returns:
        New entries [one per scored entry of ``families``], labelled "... (binary draws)".
    """
    _check_comparison(comparison)
    if isinstance(families, str) or not isinstance(families, (list, tuple, set)) \
            or not all(f in FAMILIES for f in families):
        raise ValueError(f"families must be a list of some of {FAMILIES}, e.g. ('RBM', 'VAE'), "
                         f"got {families!r}")  # fmt: skip
    rng = np.random.default_rng(check_int(seed, "seed", 0, "random seed"))
    out = []
    for e in comparison.models:
        if e.family in families and e.scored:
            draw = Entry(f"{e.label} (binary draws)", e.family, e.framework, row=e.row)
            binary = (rng.random(e.images.shape) < e.images).astype(np.float32)
            _score(draw, binary, comparison.n, reference)
            out.append(draw)
    return out
