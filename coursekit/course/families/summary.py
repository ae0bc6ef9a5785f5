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
from coursekit.course.families.records import FAMILIES, check_rows, report_of, row_label


def _fmt_seconds(value: float | None) -> str:
    """Seconds as week 5 shows them: :func:`results.format_seconds`, thousands grouped."""
    return results.format_seconds(value, thousands=True)


def table(rows: Sequence[dict]) -> str:
    """A compact markdown table: one row per model, the columns that compare families.

    Columns: family, framework, source, updates, training seconds, sampling seconds (for the
    report's ``n`` samples), ``n``, classifier FID, classes covered, class entropy,
    log-likelihood (nats per test image) with its method. Smoke-mode rows say so.
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
    """Per family the fastest sampler and the slowest, and the ratio of sampling times.

    Returns a dict: ``"sample_seconds"``: family -> (seconds, n samples, framework) of the
    fastest record of that family that has a sampling time; ``"slowest"`` and ``"fastest"``:
    the family names with the largest and smallest of those times (per sample); ``"ratio"``:
    slowest over fastest time per sample (None with fewer than two families).
    """
    rows = check_rows(rows)
    best: dict[str, tuple[float, int, str]] = {}
    for r in rows:
        sec, n = r.get("sample_seconds"), report_of(r).get("n_samples")
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


def _best(rows: list[dict], family: str) -> dict | None:
    """The record of ``family`` with the lowest FID (None if there is none with an FID)."""
    scored = [r for r in rows if r["family"] == family and report_of(r).get("fid") is not None]
    return min(scored, key=lambda r: report_of(r)["fid"]) if scored else None


def family_facts(rows: Sequence[dict]) -> str:
    """Markdown bullets, one per family: its best record by FID, with classes covered, training
    and sampling time, and the log-likelihood where it has one (every number from the records).
    """
    rows = check_rows(rows)
    lines = []
    for family in FAMILIES:
        r = _best(rows, family)
        if r is None:
            lines.append(f"* **{family}**: no record with a sample report yet.")
            continue
        s = report_of(r)
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
