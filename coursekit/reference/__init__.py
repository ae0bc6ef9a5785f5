"""Framework-free NumPy reference maths for the course (float64, exact where feasible).

Week 1, restricted Boltzmann machines: :mod:`coursekit.reference.rbm` (energies, conditionals,
free energy, Gibbs sampling, CD-k and PCD, pseudo-likelihood) and
:mod:`coursekit.reference.rbm_exact` (exact log Z / likelihood / gradient, model distribution
and KL by enumeration), both built on :mod:`coursekit.reference.rbm_base` (argument checks, the
free-energy kernel) and :mod:`coursekit.reference.numerics` (stable sigmoid, softplus,
log-sum-exp); :mod:`coursekit.reference.ais` (annealed importance sampling for log Z),
:mod:`coursekit.reference.evaluate` (log Z with an error bar that covers the schedule's bias,
test log-likelihood) and :mod:`coursekit.reference.tempering` (parallel tempering and its
exact checks). The notebooks' PyTorch and Keras models are tested against these functions.

Week 6, the 2-D Ising model: :mod:`coursekit.reference.ising` (energies and observables of spin
configurations, exact enumeration of lattices up to 4 x 4, Onsager's energy and free energy and
Yang's spontaneous magnetisation). Import it as a module (``from coursekit.reference import
ising``); its names are not re-exported here, since ``ising.energy`` is not the RBM's ``energy``.
"""

from coursekit.reference.ais import (
    AISResult,
    ais_log_partition,
    base_rate_biases,
    beta_schedule,
    halve_schedule,
    log_likelihood_ais,
    sm2008_schedule,
)
from coursekit.reference.numerics import log_sigmoid, logsumexp, sigmoid, softplus
from coursekit.reference.rbm import (
    cd_gradient,
    energy,
    free_energy,
    gibbs_step,
    p_h_given_x,
    p_x_given_h,
    pseudo_log_likelihood,
    pseudo_log_likelihood_stochastic,
    reconstruction_error,
)
from coursekit.reference.rbm_exact import (
    MAX_ENUMERATION_UNITS,
    all_states,
    empirical_distribution,
    kl_divergence,
    log_likelihood,
    log_likelihood_gradient,
    log_partition,
    model_distribution,
    state_index,
)

__all__ = [
    "MAX_ENUMERATION_UNITS",
    "AISResult",
    "ais_log_partition",
    "all_states",
    "base_rate_biases",
    "beta_schedule",
    "cd_gradient",
    "empirical_distribution",
    "energy",
    "free_energy",
    "gibbs_step",
    "halve_schedule",
    "kl_divergence",
    "log_likelihood",
    "log_likelihood_ais",
    "log_likelihood_gradient",
    "log_partition",
    "log_sigmoid",
    "logsumexp",
    "model_distribution",
    "p_h_given_x",
    "p_x_given_h",
    "pseudo_log_likelihood",
    "pseudo_log_likelihood_stochastic",
    "reconstruction_error",
    "sm2008_schedule",
    "sigmoid",
    "softplus",
    "state_index",
]
