"""Evaluating a trained RBM the way the literature does: AIS log Z, then test log-likelihood.

Both labs (PyTorch and Keras) hand their weights to :func:`ais_report`, so the two frameworks
are scored by one tested NumPy implementation.

**An error bar that covers the schedule.** AIS estimates ``Z`` without bias, but ``log Z``
with a bias *downwards* (Jensen's inequality) that shrinks as the schedule gets finer; the
usual "3 sigma" range of S&M 2008 reflects only the Monte Carlo spread of the weights and
misses it. (Two estimates of the same trained MNIST RBM, with 5,501 and with 14,500 betas,
differed by 0.75 nats while each printed a range of a few tenths.) :func:`estimate_log_z`
therefore runs AIS twice, on the schedule and on every other beta of it, with independent
chains, and reports

* ``log_z``: the estimate on the full schedule, ``L_K``;
* ``schedule_shift = L_K - L_{K/2}``: how much the estimate moved when the betas doubled.
  If the bias falls like ``c / K`` (it does for fine schedules, where it is half the variance
  of ``log w``), then the full-schedule estimate is still low by about ``c / K``, which is
  that shift;
* ``std``: the Monte Carlo standard error of ``L_K``, the larger of the delta-method value
  and the spread over independent runs (groups of chains);
* the range ``[min(L_K - 3 std_K, L_{K/2} - 3 std_{K/2}),  L_K + max(shift, 0) + 3 std_K]``,
  which holds both estimates and the bias extrapolated one doubling further.

A test checks, on models whose ``log Z`` is exact (enumeration), that the range contains it
and that doubling the betas once more moves the estimate by less than the range's width.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coursekit.reference.ais import (
    AISResult,
    ais_log_partition,
    base_rate_biases,
    beta_schedule,
    halve_schedule,
    sm2008_schedule,
)
from coursekit.reference.rbm import free_energy

#: Salakhutdinov and Murray (2008), "On the quantitative analysis of deep belief networks",
#: ICML: an RBM with 500 hidden units trained with CD-25 on MNIST scores about -86.34 nats per
#: test image (AIS estimate), on test digits binarised stochastically (each pixel drawn once with
#: probability its intensity), not at a threshold: compare with a stochastic binarisation.
PUBLISHED_CD25_500 = -86.34

#: Named schedules accepted by :func:`estimate_log_z` and :func:`ais_report`.
SCHEDULES = {"sm2008": sm2008_schedule, "default": beta_schedule}


def _schedule(betas, n_betas) -> np.ndarray:
    if betas is not None and n_betas is not None:
        raise ValueError("give betas or n_betas, not both")
    if isinstance(betas, str):
        if betas not in SCHEDULES:
            raise ValueError(f"betas must be one of {sorted(SCHEDULES)} or an array, got {betas!r}")
        return SCHEDULES[betas]()
    if betas is None or (isinstance(betas, (int, np.integer)) and not isinstance(betas, bool)):
        return beta_schedule(n_betas if betas is None else int(betas))
    return np.asarray(betas, dtype=np.float64)


@dataclass
class LogZEstimate:
    """``log Z`` by AIS with an uncertainty that covers the schedule's bias (module doc).

    Attributes:
        full: AIS on the full schedule (``K`` intervals).
        half: AIS with independent chains on every other beta (``K / 2`` intervals).
        n_runs: number of independent runs (groups of chains) for the spread.
    """

    full: AISResult
    half: AISResult
    n_runs: int

    @property
    def log_z(self) -> float:
        """The estimate on the full schedule."""
        return self.full.log_z

    @property
    def schedule_shift(self) -> float:
        """``L_K - L_{K/2}``: the change of the estimate when the number of betas doubled."""
        return self.full.log_z - self.half.log_z

    def _std(self, res: AISResult) -> float:
        stds = [res.std_log_z]
        if self.n_runs >= 2:
            stds.append(res.run_spread(self.n_runs))
        return float(np.nanmax(stds))

    @property
    def std(self) -> float:
        """Monte Carlo standard error of :attr:`log_z`: max(delta method, run spread)."""
        return self._std(self.full)

    @property
    def low(self) -> float:
        return min(self.full.log_z - 3 * self.std, self.half.log_z - 3 * self._std(self.half))

    @property
    def high(self) -> float:
        return self.full.log_z + abs(self.schedule_shift) + 3 * self.std

    @property
    def uncertainty(self) -> float:
        """Half the width of ``[low, high]``."""
        return 0.5 * (self.high - self.low)

    def __str__(self) -> str:
        k = len(self.full.betas) - 1
        return (
            f"log Z = {self.log_z:.2f} (AIS, {len(self.full.log_weights)} chains, {k:,} "
            f"intervals), range {self.low:.2f} .. {self.high:.2f}\n"
            f"  Monte Carlo: std {self.std:.2f} (delta method {self.full.std_log_z:.2f}, "
            f"spread over {self.n_runs} runs "
            f"{self.full.run_spread(self.n_runs) if self.n_runs >= 2 else float('nan'):.2f}); "
            f"schedule: with {len(self.half.betas) - 1:,} intervals {self.half.log_z:.2f}, "
            f"so doubling the betas moved it by {self.schedule_shift:+.2f}"
        )


def estimate_log_z(
    W,
    a,
    b,
    *,
    betas=None,
    n_betas: int | None = None,
    n_chains: int = 100,
    n_runs: int = 4,
    base_a=None,
    seed: int = 0,
) -> LogZEstimate:
    """``log Z`` of the RBM ``(W, a, b)`` with an error bar that covers the schedule's bias.

    Args:
        W, a, b: the RBM, [n_v, n_h], [n_v], [n_h].
        betas: ``"sm2008"`` (Salakhutdinov and Murray's 14,500 intervals), ``"default"``
            (5,500), an int ``N`` (``beta_schedule(N)``: ``N`` betas of the same shape), an
            explicit schedule, or None for :func:`~coursekit.reference.ais.beta_schedule`
            ``(n_betas)``.
        n_chains: AIS chains for each of the two runs (full and halved schedule).
        n_runs: the chains are split into this many independent runs for the spread (>= 2;
            1 keeps only the delta method).
        base_a: visible bias of the base-rate model (e.g. ``base_rate_biases(x_train)``).
        seed: seeds both runs (independently).

    Cost: AIS on 1.5 times the schedule's betas.
    """
    full_betas = _schedule(betas, n_betas)
    if isinstance(n_runs, bool) or not isinstance(n_runs, (int, np.integer)) or n_runs < 1:
        raise ValueError(f"n_runs must be a positive int, got {n_runs!r}")
    if n_runs > 1 and n_chains // n_runs < 2:
        raise ValueError(f"n_chains={n_chains} is too few for n_runs={n_runs} runs of 2 chains")
    rngs = np.random.default_rng(seed).spawn(2)
    kw = {"n_chains": n_chains, "base_a": base_a}
    full = ais_log_partition(W, a, b, betas=full_betas, rng=rngs[0], **kw)
    half = ais_log_partition(W, a, b, betas=halve_schedule(full_betas), rng=rngs[1], **kw)
    return LogZEstimate(full=full, half=half, n_runs=int(n_runs))


@dataclass
class LikelihoodReport:
    """Log Z by AIS and the mean log-likelihoods it implies (nats per image)."""

    estimate: LogZEstimate
    train_ll: float
    test_ll: float
    n_test: int

    @property
    def ais(self) -> AISResult:
        """The AIS run on the full schedule."""
        return self.estimate.full

    @property
    def log_z(self) -> float:
        return self.estimate.log_z

    @property
    def test_ll_range(self) -> tuple[float, float]:
        """Test LL implied by the ends of the log Z range (the higher log Z gives the lower
        LL)."""
        mean_neg_f = self.test_ll + self.log_z
        return mean_neg_f - self.estimate.high, mean_neg_f - self.estimate.low

    def __str__(self) -> str:
        lo, hi = self.test_ll_range
        return (
            f"{self.estimate}\n"
            f"mean log-likelihood: train {self.train_ll:.2f}, test {self.test_ll:.2f} nats "
            f"({self.n_test:,} test images; range {lo:.2f} .. {hi:.2f})"
        )


def ais_report(
    weights: dict[str, np.ndarray],
    x_train: np.ndarray,
    x_test: np.ndarray,
    *,
    n_chains: int = 100,
    betas=None,
    n_betas: int | None = None,
    n_runs: int = 4,
    seed: int = 0,
) -> LikelihoodReport:
    """Estimate log Z of the RBM ``weights`` (``W`` [n_v, n_h], ``a``, ``b``) and score data.

    ``x_train`` [n, n_v] (binary) fixes the base-rate model of AIS; ``x_test`` [m, n_v]
    (binary) is scored. ``betas``/``n_betas`` choose the schedule as in
    :func:`estimate_log_z` (default: 5,500 intervals; ``betas="sm2008"``: 14,500). Mean
    log-likelihood = mean(-F(x)) - log Z; the range comes from the range of log Z, which
    covers the Monte Carlo spread and the schedule's bias.
    """
    W, a, b = (np.asarray(weights[k], dtype=np.float64) for k in ("W", "a", "b"))
    est = estimate_log_z(
        W,
        a,
        b,
        betas=betas,
        n_betas=n_betas,
        n_chains=n_chains,
        n_runs=n_runs,
        base_a=base_rate_biases(x_train),
        seed=seed,
    )
    train_ll = float(np.mean(-free_energy(x_train, W, a, b)) - est.log_z)
    test_ll = float(np.mean(-free_energy(x_test, W, a, b)) - est.log_z)
    return LikelihoodReport(estimate=est, train_ll=train_ll, test_ll=test_ll, n_test=len(x_test))
