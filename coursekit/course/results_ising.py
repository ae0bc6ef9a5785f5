"""The Ising rows of the course-wide results table (week 6): observable errors in place of FID.

Week 6 trains every family on 2-D Ising configurations and scores each model's samples with
:func:`coursekit.metrics.ising.ising_report` against Monte Carlo ones; each lab records that
:class:`~coursekit.metrics.ising.IsingReport` with
``results.record(key, ..., ising=report)``. This module holds the Ising part of
:mod:`coursekit.course.results` (which imports it; it does not import that module):

* :func:`ising_json`: the report checked and turned into the record's ``"ising"`` object (plain
  floats and ints; a z-score that is infinite, both sets constant and different, is stored as
  ``null``, since JSON has no infinity);
* :func:`ising_problem`: what is wrong with the ``"ising"`` object of a record read from disk,
  so that a malformed one is skipped with a message, never a ``KeyError``;
* :func:`ising_markdown`: the second table of ``results.md``, one row per Ising record.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from coursekit.metrics.ising import OBSERVABLES
from coursekit.reference.ising import T_C

__all__ = ["ISING_FIELDS", "ISING_TITLE", "ising_json", "ising_markdown", "ising_problem"]

#: The fields of a record's ``"ising"`` object, in the order it stores them.
ISING_FIELDS = (
    "L", "T", "n", "n_reference", "values", "errors", "reference", "reference_errors", "z",
    "up_share", "reference_up_share", "m_distance",
)  # fmt: skip
_COUNTS = ("L", "n", "n_reference")
_PER_OBSERVABLE = ("values", "errors", "reference", "reference_errors", "z")
_SHARES = ("up_share", "reference_up_share", "m_distance")
#: The heading of the Ising table in ``results.md``.
ISING_TITLE = "## Ising (week 6): observables against Monte Carlo"


def _is_count(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def ising_json(report: Any) -> dict:
    """The record's ``"ising"`` object of ``report`` (an ``IsingReport``), checked: a
    :class:`ValueError` naming ``ising`` for anything else or for a field that is not sound."""
    missing = [name for name in ISING_FIELDS if not hasattr(report, name)]
    if missing:
        raise ValueError(
            "ising must be a coursekit.metrics.ising.IsingReport (from ising_report(spins, "
            f"reference, T)) or None, got {type(report).__name__} without "
            f"{', '.join(missing)}."
        )
    out: dict[str, Any] = {}
    for name in ISING_FIELDS:
        value = getattr(report, name)
        where = f"ising.{name}"
        if name in _COUNTS:
            if not _is_count(value):
                raise ValueError(f"{where} must be a whole number >= 1, got {value!r}.")
            out[name] = int(value)
        elif name in _PER_OBSERVABLE:
            if not isinstance(value, Mapping) or any(k not in value for k in OBSERVABLES):
                raise ValueError(f"{where} must map each of {', '.join(OBSERVABLES)} to a number, "
                                 f"got {value!r:.80}.")  # fmt: skip
            out[name] = {}
            for k in OBSERVABLES:
                x = value[k]
                infinite_z = name == "z" and _is_real(x) and math.isinf(x)
                if not _is_real(x) or not (math.isfinite(x) or infinite_z):
                    raise ValueError(f"{where}[{k!r}] must be a finite number"
                                     f"{' (or infinite)' if name == 'z' else ''}, got {x!r}.")
                out[name][k] = None if infinite_z else float(x)
        else:
            finite = _is_real(value) and math.isfinite(value)
            if name in _SHARES and not (finite and 0 <= value <= 1):
                raise ValueError(f"{where} must be a number in [0, 1], got {value!r}.")
            if name not in _SHARES and not (finite and value > 0):
                raise ValueError(f"{where} must be a finite number > 0, got {value!r}.")
            out[name] = float(value)
    return out


def ising_problem(ising: Any) -> str | None:
    """What is wrong with the ``"ising"`` object of a record read from a file (None when it
    is sound): its counts, numbers and the four observables of each per-observable field."""
    if not isinstance(ising, dict):
        return f"'ising' must be an object or null, got {type(ising).__name__}"

    def finite(value: Any) -> bool:
        return _is_real(value) and math.isfinite(value)

    for name in ISING_FIELDS:
        where = f"'ising.{name}'"
        if name not in ising:
            return f"{where} is missing"
        value = ising[name]
        if name in _COUNTS:
            if not _is_count(value):
                return f"{where} must be a whole number >= 1, got {value!r:.60}"
        elif name in _PER_OBSERVABLE:
            if not isinstance(value, dict):
                return f"{where} must be an object, got {type(value).__name__}"
            for k in OBSERVABLES:
                if k not in value:
                    return f"{where} has no {k!r} (it needs {', '.join(OBSERVABLES)})"
                if not finite(value[k]) and not (name == "z" and value[k] is None):
                    what = "a finite number" + (" or null (infinite)" if name == "z" else "")
                    return f"'ising.{name}.{k}' must be {what}, got {value[k]!r:.60}"
        elif name in _SHARES:
            if not finite(value) or not 0 <= value <= 1:
                return f"{where} must be a number in [0, 1], got {value!r:.60}"
        elif not finite(value) or value <= 0:
            return f"{where} must be a finite number > 0, got {value!r:.60}"
    return None


def _value(x: float) -> str:
    return f"{x:.3f}" if abs(x) < 10 else f"{x:.1f}"


def _z(ising: dict, k: str) -> str:
    z = ising["z"][k]
    if z is None:  # infinite: both sets constant and different
        return "z +∞" if ising["values"][k] > ising["reference"][k] else "z −∞"
    return f"z {z:+.1f}"


def ising_markdown(rows: Sequence[dict], families: Sequence[str], format_seconds: Any) -> str:
    """The Ising table (heading, one row per record, notes), rows in the order of ``families``
    then framework, L, T. ``format_seconds``: :func:`coursekit.course.results.format_seconds`
    (passed in: this module does not import that one)."""

    def order(row: dict) -> tuple:
        family = row.get("family", "")
        rank = families.index(family) if family in families else len(families)
        return (rank, row.get("framework", ""), row["ising"]["L"], row["ising"]["T"],
                row.get("key", ""))  # fmt: skip

    lines = [
        ISING_TITLE,
        "",
        "| family | model | framework | mode | L | T | samples (MC) | updates | train s "
        "| e (model / MC, z) | \\|m\\| (model / MC, z) | c (z) | χ (z) | share M > 0 (MC) "
        "| TV(m) | sample s |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sorted(rows, key=order):
        s = r["ising"]
        v, ref = s["values"], s["reference"]
        updates = r.get("updates")
        lines.append(
            f"| {r['family']} | {r['model']} | {r['framework']} | {r.get('mode', '?')} "
            f"| {s['L']} | {s['T']:.4g} | {s['n']:,} ({s['n_reference']:,}) "
            f"| {'—' if updates is None else f'{updates:,}'} "
            f"| {format_seconds(r.get('train_seconds'))} "
            f"| {_value(v['e'])} / {_value(ref['e'])} ({_z(s, 'e')}) "
            f"| {_value(v['abs_m'])} / {_value(ref['abs_m'])} ({_z(s, 'abs_m')}) "
            f"| {_value(v['c'])} ({_z(s, 'c')}) | {_value(v['chi'])} ({_z(s, 'chi')}) "
            f"| {s['up_share']:.2f} ({s['reference_up_share']:.2f}) | {s['m_distance']:.2f} "
            f"| {format_seconds(r.get('sample_seconds'))} |"
        )
    lines += [
        "",
        "Each model's configurations against Monte Carlo ones of the same lattice (L x L, "
        "periodic) and temperature, by `coursekit.metrics.ising.ising_report`: energy per spin "
        "e, mean |m| (magnetisation per spin), specific heat c and susceptibility χ per spin. "
        "z is the difference model - MC over the combined jackknife standard error of the two "
        "sets, sqrt(err_model² + err_MC²): |z| < 3 is within the Monte Carlo noise, a larger "
        "|z| a real difference (for a fixed bias it grows with the sample count, so compare "
        "rows with equal `samples`).",
        f"Share M > 0: the share of the model's configurations with positive magnetisation "
        f"(M = 0 counts one half), the Monte Carlo share in parentheses. Below T_c = {T_C:.3f} "
        "the Boltzmann distribution puts half its mass on each of the two ordered phases, so a "
        "model that learned only one shows a share near 0 or 1. TV(m): the total-variation "
        "distance between the histograms of m = M / N of the model and of Monte Carlo (0: the "
        "same, 1: no overlap); it sees a missing phase, or a wrong spread of m, that the mean "
        "|m| hides.",
    ]
    return "\n".join(lines)
