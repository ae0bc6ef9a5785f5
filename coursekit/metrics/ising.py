"""The Ising yardstick (week 6): a model's spin configurations judged by the physics they show.

On Ising data there is ground truth, so a model is scored by what a physicist would measure on
its samples, against the same measurement on Monte Carlo configurations of the same lattice and
temperature::

    report = ising_report(model_spins, mc.spins, T=2.0)   # int8 [n, L, L] in {-1, +1} each
    print(report.summary())
    report.z["e"]          # (model - reference) / combined standard error, per observable

For every observable of :func:`coursekit.reference.ising.observables` (``e``, ``abs_m``, ``c``,
``chi``) the report holds both values, their jackknife errors, the difference and its z-score.
Two further numbers make the mode test that FID cannot give:

* ``up_share``: the share of configurations with ``M > 0`` (``M = 0`` counts one half). Below
  ``T_c`` the Boltzmann distribution puts half its mass on each of the two ordered phases, so
  a model that has learned only one of them shows ``up_share`` near 0 or 1;
* ``m_distance``: the total-variation distance between the histograms of ``m = M / N`` of the
  model and of the reference, on the exact grid of values ``M`` can take (0: the same
  histogram; 1: no overlap).

The z-scores use both sets' errors, so a model with few samples is not judged more harshly than
the Monte Carlo data could show. "Real data at the same n" is the baseline: score a second,
independent Monte Carlo set with :func:`ising_report` and read its z-scores as the noise floor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from coursekit.checks import check_float
from coursekit.reference.ising import (
    check_spins,
    magnetisation,
    observable_errors,
    observables,
)

__all__ = ["OBSERVABLES", "IsingReport", "ising_report", "magnetisation_histogram"]

#: The observables a report compares, in the order tables show them.
OBSERVABLES = ("e", "abs_m", "c", "chi")
#: Human names of :data:`OBSERVABLES` (for tables and figure labels).
NAMES = {
    "e": "energy per spin e",
    "abs_m": "|m|",
    "c": "specific heat c",
    "chi": "susceptibility chi",
}


@dataclass(frozen=True)
class IsingReport:
    """A model's configurations against reference ones at one ``(L, T)`` (see module docstring).

    ``values``, ``errors``: the model's observables and their jackknife standard errors;
    ``reference``, ``reference_errors``: the same for the reference set; ``delta`` = model -
    reference and ``z`` = delta / sqrt(error^2 + reference_error^2), per name in
    :data:`OBSERVABLES`. ``n`` and ``n_reference`` count configurations.
    """

    L: int
    T: float
    n: int
    n_reference: int
    values: dict[str, float]
    errors: dict[str, float]
    reference: dict[str, float]
    reference_errors: dict[str, float]
    delta: dict[str, float]
    z: dict[str, float]
    up_share: float
    reference_up_share: float
    m_distance: float

    def summary(self) -> str:
        """One line per observable, then the mode test: for a notebook to print."""
        lines = [f"L={self.L} T={self.T:.4g}: {self.n:,} configurations against "
                 f"{self.n_reference:,} reference ones"]  # fmt: skip
        for name in OBSERVABLES:
            lines.append(
                f"  {name:>5}: {self.values[name]:8.4f} ± {self.errors[name]:.4f}   reference "
                f"{self.reference[name]:8.4f} ± {self.reference_errors[name]:.4f}   "
                f"z = {self.z[name]:+.1f}"
            )
        lines.append(f"  share with M > 0: {self.up_share:.2f} (reference "
                     f"{self.reference_up_share:.2f}); histogram of m: TV distance "
                     f"{self.m_distance:.2f}")  # fmt: skip
        return "\n".join(lines)


def _up_share(spins: np.ndarray) -> float:
    m = magnetisation(spins)
    return float(np.mean((m > 0) + 0.5 * (m == 0)))


def magnetisation_histogram(spins: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(m_values [N + 1], shares [N + 1])``: the share of configurations [n, L, L] at each
    magnetisation per spin ``m = M / N`` the lattice allows (``M = -N, -N + 2, ..., N``; the
    odd values of ``M - N`` cannot occur and get share 0, so two sets are compared bin by bin)."""
    s = check_spins(spins)
    N = s.shape[1] * s.shape[2]
    M = magnetisation(s).astype(np.int64)
    counts = np.bincount(M + N, minlength=2 * N + 1)[::2]
    return np.arange(-N, N + 1, 2) / N, counts / counts.sum()


def ising_report(spins: Any, reference: Any, T: float, *, n_blocks: int = 20) -> IsingReport:
    """Score configurations ``spins`` [n, L, L] against ``reference`` [n', L, L] at ``T``.

    Both int8 (or integer) arrays of -1/+1 spins on the same lattice; 0/1 units are refused by
    :func:`coursekit.reference.ising.check_spins` with the conversion to use (``s = 2x - 1``).
    ``n_blocks``: jackknife blocks for the errors (each set needs at least that many rows).
    """
    s = check_spins(spins, "spins")
    r = check_spins(reference, "reference")
    t = check_float(T, "T", "> 0", "temperature")
    if s.shape[1:] != r.shape[1:]:
        raise ValueError(f"spins are {s.shape[1]} x {s.shape[2]} lattices but reference is "
                         f"{r.shape[1]} x {r.shape[2]}; compare sets of one lattice")  # fmt: skip
    for name, x in (("spins", s), ("reference", r)):
        if len(x) < n_blocks:
            raise ValueError(f"{name} holds {len(x)} configurations; the jackknife errors need "
                             f"at least n_blocks = {n_blocks}")  # fmt: skip
    values, errors, ref_values, ref_errors = (
        {k: float(d[k]) for k in OBSERVABLES}
        for d in (observables(s, t), observable_errors(s, t, n_blocks),
                  observables(r, t), observable_errors(r, t, n_blocks))
    )  # fmt: skip
    delta = {k: values[k] - ref_values[k] for k in OBSERVABLES}
    z = {}
    for k in OBSERVABLES:
        scale = math.hypot(errors[k], ref_errors[k])
        if scale > 0:
            z[k] = delta[k] / scale
        else:  # both sets constant (e.g. all ground states): equal or infinitely far apart
            z[k] = 0.0 if delta[k] == 0 else math.copysign(math.inf, delta[k])
    _, p = magnetisation_histogram(s)
    _, q = magnetisation_histogram(r)
    return IsingReport(
        L=int(s.shape[1]),
        T=t,
        n=len(s),
        n_reference=len(r),
        values=values,
        errors=errors,
        reference=ref_values,
        reference_errors=ref_errors,
        delta=delta,
        z=z,
        up_share=_up_share(s),
        reference_up_share=_up_share(r),
        m_distance=float(0.5 * np.abs(p - q).sum()),
    )
