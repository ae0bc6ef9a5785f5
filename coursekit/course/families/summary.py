"""Week 5's numbers and texts: the side-by-side table, sampling cost, likelihoods, facts.

Every number comes from the records (:func:`coursekit.course.families.choose_records`); the
texts are markdown for the closing notebook to display, so that its prose never states a number
that a new run has changed. :func:`real_digit_fids` is the one computation: the classifier FID
of real digits, the floor a perfect model would reach.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from coursekit.course import results
from coursekit.course.families.compare import check_same_n, seconds_per_sample
from coursekit.course.families.records import FAMILIES, check_rows, report_of, row_label


def _fmt_seconds(value: float | None) -> str:
    """Seconds as week 5 shows them: :func:`results.format_seconds`, thousands grouped."""
    return results.format_seconds(value, thousands=True)


def table(rows: Sequence[dict]) -> str:
    """The labs' own reports as a compact markdown table: one row per model.

    Columns: family, framework, source, updates, training seconds, sampling seconds (for the
    report's ``n`` samples), ``n``, classifier FID, classes covered, class entropy,
    log-likelihood (nats per test image) with its method. Smoke-mode rows say so. Each FID is
    at the lab's own ``n``: rows of different ``n`` do not compare (week 5 compares with
    :func:`~coursekit.course.families.compare.comparison_table`).
    """
    rows = check_rows(rows)
    if not rows:
        return "*No records to show: see the message above.*"
    lines = [
        "| family | framework | source | updates | train s | sample s | n | FID | classes "
        "| entropy | log-likelihood |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        s = report_of(r)
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
    """Per family its fastest sampler per sample, and the ratio of the extremes.

    Returns a dict: ``"per_sample"``: family -> (seconds per sample, samples timed, framework)
    of the record of that family with the shortest time per sample
    (:func:`~coursekit.course.families.compare.seconds_per_sample`); ``"slowest"`` and
    ``"fastest"``: the family names with the largest and smallest of those; ``"ratio"``: slowest
    over fastest (None with fewer than two families).
    """
    rows = check_rows(rows)
    best: dict[str, tuple[float, int, str]] = {}
    for r in rows:
        per = seconds_per_sample(r)
        if per is None or per <= 0:
            continue
        count = int(r.get("samples_drawn") or report_of(r)["n_samples"])
        if r["family"] not in best or per < best[r["family"]][0]:
            best[r["family"]] = (per, count, r["framework"])
    out: dict[str, Any] = {"per_sample": best, "slowest": None, "fastest": None, "ratio": None}
    if len(best) >= 2:
        per = {f: v[0] for f, v in best.items()}
        out["slowest"], out["fastest"] = max(per, key=per.get), min(per, key=per.get)
        out["ratio"] = per[out["slowest"]] / per[out["fastest"]]
    return out


def likelihood_summary(rows: Sequence[dict]) -> list[dict[str, Any]]:
    """The rows with a log-likelihood: family, framework, value (nats), method, and the FID
    reference string (it names the test set the lab loaded, the one it scored too)."""
    rows = check_rows(rows)
    return [
        {"family": r["family"], "framework": r["framework"], "value": r["log_likelihood"],
         "method": r.get("likelihood_method") or "?", "reference": report_of(r).get("reference")}
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
    rows = check_rows(rows)
    if not rows:
        return "*No records.*"
    return "\n".join(
        f"* **{row_label(r)}**: {r.get('model', '?')}; samples: {report_of(r).get('name') or '?'}"
        for r in rows
    )


def family_facts(comparison: Any) -> str:
    """Markdown bullets, one per family: its best record by FID at the comparison's one ``n``,
    with classes covered, training time and updates, time per sample, and the log-likelihood
    where it has one (every number from the records and the scores)."""
    check_same_n(comparison)
    lines = []
    for family in FAMILIES:
        entries = [e for e in comparison.models if e.family == family]
        scored = [e for e in entries if e.scored]
        if not scored:
            why = "; ".join(sorted({e.short_note for e in entries})) or "no record"
            lines.append(f"* **{family}**: no score at n = {comparison.n:,} ({why}).")
            continue
        e = min(scored, key=lambda x: x.fid)
        r = e.row or {}
        ll = r.get("log_likelihood")
        per = e.seconds_per_sample
        lines.append(
            f"* **{family}** (best by FID at n = {comparison.n:,}: {e.framework}): FID "
            f"{e.fid:.2f}, {e.n_classes}/10 classes; trained {_fmt_seconds(e.train_seconds)} s "
            f"for {'?' if r.get('updates') is None else format(r['updates'], ',')} updates; "
            f"{'?' if per is None else format(per, '.2g')} s per sample"
            + ("" if ll is None else f"; log-likelihood {ll:.1f} nats "
               f"({(r.get('likelihood_method') or '?').split(',')[0]})")
            + (" **(smoke mode)**" if e.smoke else "")
        )
    return "\n".join(lines)


def cost_text(rows: Sequence[dict]) -> str:
    """One markdown sentence on sampling cost per sample, from :func:`cost_summary`."""
    c = cost_summary(rows)
    if c["ratio"] is None:
        return "*Fewer than two families with a sampling time: nothing to compare yet.*"
    (p1, n1, f1), (p2, n2, f2) = c["per_sample"][c["slowest"]], c["per_sample"][c["fastest"]]
    return (
        f"Per sample, the slowest sampler is the **{c['slowest']}** ({f1}: {p1:.2g} s per "
        f"sample, timed over {n1:,}) and the fastest the **{c['fastest']}** ({f2}: {p2:.2g} s, "
        f"over {n2:,}): a factor of about **{c['ratio']:,.0f}**."
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
