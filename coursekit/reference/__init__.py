"""Framework-free NumPy reference maths for the course (float64, exact where feasible).

Week 1, restricted Boltzmann machines: :mod:`coursekit.reference.rbm` (energies, conditionals,
exact log Z / likelihood / gradient by enumeration, CD-k and PCD, pseudo-likelihood) and
:mod:`coursekit.reference.ais` (annealed importance sampling for log Z). The notebooks' PyTorch
and Keras models are tested against these functions.
"""

from coursekit.reference.ais import (
    AISResult,
    ais_log_partition,
    base_rate_biases,
    beta_schedule,
    log_likelihood_ais,
)
from coursekit.reference.rbm import (
    MAX_ENUMERATION_UNITS,
    all_states,
    cd_gradient,
    empirical_distribution,
    energy,
    free_energy,
    gibbs_step,
    kl_divergence,
    log_likelihood,
    log_likelihood_gradient,
    log_partition,
    log_sigmoid,
    logsumexp,
    model_distribution,
    p_h_given_x,
    p_x_given_h,
    pseudo_log_likelihood,
    pseudo_log_likelihood_stochastic,
    reconstruction_error,
    sigmoid,
    softplus,
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
    "sigmoid",
    "softplus",
    "state_index",
]
