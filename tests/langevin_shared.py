"""Statistical checks of a Langevin sampler, run by tests/test_langevin.py on each framework.

Each check takes a ``Framework``: its ``langevin`` function, a way to build a log density of a
toy target, a standard-normal log density, and ``to_numpy``. The tolerances come from the
effective sample size: every check runs ``C`` independent chains for many more steps than the
chain's relaxation time, so the ``C`` final states are (nearly) independent draws from the
chain's stationary law and standard errors are those of ``C`` independent samples. Where the
discretisation bias of the step is known exactly (Gaussians), it is part of the expectation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from coursekit.reference import langevin as ref

SIGMAS = 5.0  # tolerance in standard errors: a false alarm has probability ~ 6e-7 per number


@dataclass
class Framework:
    """One framework's sampler and the pieces the checks need, in its own tensors."""

    langevin: Callable[..., Any]
    target_log_prob: Callable[[Any], Callable]
    std_normal: Callable[[Any], Any]  # x [n, d] -> -|x|^2 / 2
    to_numpy: Callable[[Any], np.ndarray]


def framework(fw: Any) -> Framework:
    """The :class:`Framework` of ``coursekit.torch`` or ``coursekit.keras``."""
    from coursekit.checks import to_numpy

    if fw.__name__ == "coursekit.torch":
        std_normal = lambda x: -0.5 * (x * x).sum(1)  # noqa: E731
    else:
        from keras import ops

        std_normal = lambda x: -0.5 * ops.sum(x * x, axis=1)  # noqa: E731
    return Framework(fw.langevin, fw.target_log_prob, std_normal, to_numpy)


def gaussian_mean_and_cov(fw: Framework) -> None:
    """2-D Gaussian, rho = 0.9: final states of C chains from a far start match mean and cov."""
    target = ref.correlated_gaussian(0.9)
    step, chains = 0.01, 3000
    slowest = np.linalg.eigvalsh(target.cov).max()  # 1.9: the slow direction
    relax = slowest / step  # steps for the slow direction to forget its start by a factor e
    n_steps = int(12 * relax)  # e^-12 of the start's offset is left
    x0 = np.tile([[3.0, -3.0]], (chains, 1)).astype(np.float32)
    out = fw.langevin(fw.target_log_prob(target), x0, step_size=step, n_steps=n_steps, seed=1)
    x = fw.to_numpy(out.x).astype(np.float64)
    # exact stationary covariance of the discretised chain: S (I - step P / 2)^{-1}
    cov = target.cov @ np.linalg.inv(np.eye(2) - step * np.linalg.inv(target.cov) / 2)
    assert np.abs(cov - target.cov).max() < 0.01  # the step's bias is small beside the tolerance
    se_mean = np.sqrt(np.diag(target.cov) / chains)
    assert np.all(np.abs(x.mean(0) - target.mean) < SIGMAS * se_mean), x.mean(0)
    # standard error of a sample covariance entry: sqrt((S_ii S_jj + S_ij^2) / C)
    se_cov = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / chains)
    err = np.abs(np.cov(x.T) - target.cov)
    assert np.all(err < SIGMAS * se_cov + np.abs(cov - target.cov)), np.cov(x.T)


def lecture_form_halves_variance(fw: Framework) -> None:
    """theta + eta grad log p + sqrt(eta) w samples p^2: variance 1/2 on N(0, 1); the
    standard form (drift eta/2) gives 1. Both compared with the exact discretised values."""
    eta, chains, n_steps = 0.02, 4000, 600  # relaxation in 1/eta = 50 steps: 12 times over
    x0 = np.full((chains, 1), 2.0, dtype=np.float32)
    lecture = fw.langevin(fw.std_normal, x0, step_size=eta, noise_scale=np.sqrt(eta),
                          n_steps=n_steps, seed=2)
    standard = fw.langevin(fw.std_normal, x0, step_size=eta / 2, n_steps=2 * n_steps, seed=3)
    for out, expected in (
        (lecture, ref.stationary_variance_gaussian(1.0, eta, np.sqrt(eta))),  # 1 / (2 - eta)
        (standard, ref.stationary_variance_gaussian(1.0, eta / 2)),  # 1 / (1 - eta / 4)
    ):
        var = fw.to_numpy(out.x).astype(np.float64).var()
        se = expected * np.sqrt(2.0 / chains)
        assert abs(var - expected) < SIGMAS * se, (var, expected)
    var_lecture = fw.to_numpy(lecture.x).var()
    var_standard = fw.to_numpy(standard.x).var()
    assert 0.45 < var_lecture / var_standard < 0.55


def mixture_proportions(fw: Framework) -> None:
    """Every chain starts in the light mode (weight 0.3); at the end 70% sit in the heavy one."""
    target = ref.mixture(separation=5.0, weights=(0.7, 0.3))
    chains = 2000
    x0 = np.tile([[2.5, 0.0]], (chains, 1)).astype(np.float32)
    out = fw.langevin(fw.target_log_prob(target), x0, step_size=0.1, n_steps=1500, seed=4)
    share = np.bincount(target.mode_of(fw.to_numpy(out.x)), minlength=2) / chains
    se = np.sqrt(0.7 * 0.3 / chains)
    # step 0.1 widens each unit-variance mode by 1/(1 - 0.05): a small bias beside 0.05
    assert abs(share[0] - 0.7) < SIGMAS * se + 0.02, share


def mala_acceptance_and_bias(fw: Framework) -> None:
    """MALA's acceptance falls as the step grows; at step 0.8 on N(0, 1) plain Langevin's
    variance is 1 / (1 - 0.4) = 1.67, MALA's stays 1."""
    chains = 2000
    x0 = np.zeros((chains, 1), dtype=np.float32)
    rates = []
    for step in (0.05, 0.3, 0.8, 1.5):
        out = fw.langevin(fw.std_normal, x0, step_size=step, n_steps=40, mala=True, seed=5)
        rates.append(out.acceptance_rate)
    assert all(a > b for a, b in zip(rates, rates[1:], strict=False)), rates
    assert rates[0] > 0.95 and rates[-1] < 0.8, rates
    step = 0.8
    ula = fw.langevin(fw.std_normal, x0, step_size=step, n_steps=100, seed=6)
    mala = fw.langevin(fw.std_normal, x0, step_size=step, n_steps=400, mala=True, seed=7)
    var_ula = fw.to_numpy(ula.x).astype(np.float64).var()
    var_mala = fw.to_numpy(mala.x).astype(np.float64).var()
    biased = ref.stationary_variance_gaussian(1.0, step)
    assert abs(biased - 5.0 / 3.0) < 1e-12
    assert abs(var_ula - biased) < SIGMAS * biased * np.sqrt(2.0 / chains), var_ula
    # MALA: exact target; its chains mix more slowly than ULA (rejections), hence 400 steps
    assert abs(var_mala - 1.0) < SIGMAS * np.sqrt(2.0 / chains), var_mala
