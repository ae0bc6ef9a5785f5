"""Evaluating a trained RBM the way the literature does: AIS log Z, then test log-likelihood.

Both labs (PyTorch and Keras) hand their weights to :func:`ais_report`, so the two frameworks
are scored by one tested NumPy implementation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coursekit.reference.ais import AISResult, ais_log_partition, base_rate_biases
from coursekit.reference.rbm import free_energy

#: Salakhutdinov and Murray (2008), "On the quantitative analysis of deep belief networks",
#: ICML: an RBM with 500 hidden units trained with CD-25 on binarised MNIST scores about
#: -86.34 nats per test image (AIS estimate).
PUBLISHED_CD25_500 = -86.34


@dataclass
class LikelihoodReport:
    """Log Z by AIS and the mean log-likelihoods it implies (nats per image)."""

    ais: AISResult
    train_ll: float
    test_ll: float
    n_test: int

    @property
    def log_z(self) -> float:
        return self.ais.log_z

    @property
    def test_ll_range(self) -> tuple[float, float]:
        """Test LL implied by the AIS bounds ``log_z_high`` and ``log_z_low`` (a wider log Z
        interval means a wider LL interval; the lower log Z gives the higher LL)."""
        mean_neg_f = self.test_ll + self.ais.log_z
        return mean_neg_f - self.ais.log_z_high, mean_neg_f - self.ais.log_z_low

    def __str__(self) -> str:
        lo, hi = self.test_ll_range
        return (
            f"log Z = {self.ais.log_z:.2f} (AIS, {len(self.ais.log_weights)} chains, "
            f"{len(self.ais.betas):,} betas, 3-sigma range {self.ais.log_z_low:.2f} .. "
            f"{self.ais.log_z_high:.2f})\n"
            f"mean log-likelihood: train {self.train_ll:.2f}, test {self.test_ll:.2f} nats "
            f"({self.n_test:,} test images; range {lo:.2f} .. {hi:.2f})"
        )


def ais_report(
    weights: dict[str, np.ndarray],
    x_train: np.ndarray,
    x_test: np.ndarray,
    *,
    n_chains: int = 100,
    n_betas: int | None = None,
    seed: int = 0,
) -> LikelihoodReport:
    """Estimate log Z of the RBM ``weights`` (``W`` [n_v, n_h], ``a``, ``b``) and score data.

    ``x_train`` [n, n_v] (binary) fixes the base-rate model of AIS; ``x_test`` [m, n_v]
    (binary) is scored. ``n_betas=None`` is Salakhutdinov and Murray's schedule (5,501
    betas). Mean log-likelihood = mean(-F(x)) - log Z; since AIS tends to underestimate log Z,
    it tends to overestimate the log-likelihood.
    """
    W, a, b = (np.asarray(weights[k], dtype=np.float64) for k in ("W", "a", "b"))
    ais = ais_log_partition(
        W, a, b, n_chains=n_chains, n_betas=n_betas, base_a=base_rate_biases(x_train), rng=seed
    )
    train_ll = float(np.mean(-free_energy(x_train, W, a, b)) - ais.log_z)
    test_ll = float(np.mean(-free_energy(x_test, W, a, b)) - ais.log_z)
    return LikelihoodReport(ais=ais, train_ll=train_ll, test_ll=test_ll, n_test=len(x_test))
