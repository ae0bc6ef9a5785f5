"""Checks of the Keras labs' exercises: the student's function against coursekit's, on the
current Keras backend (tensorflow or torch).

Each check runs the student's function and coursekit's verified implementation on fixed inputs
and prints one pass line, or stops with one message that says what differs in the lecture's
terms (:mod:`coursekit.common.exercises`)::

    from coursekit.keras import exercises as ex
    ex.check_free_energy(free_energy)     # ✓ free_energy agrees with coursekit (...)

One module per week's family; every check is re-exported here.
"""

from coursekit.keras.exercises.ebm import (
    check_buffer_draw,
    check_ebm_loss,
    check_langevin,
    ebm_problem,
)
from coursekit.keras.exercises.gan import (
    check_discriminator_loss,
    check_generator_loss,
    check_train_step,
    gan_problem,
)
from coursekit.keras.exercises.rbm import check_cd_loss, check_free_energy, rbm_problem
from coursekit.keras.exercises.vae import (
    check_bernoulli_log_prob,
    check_kl_divergence,
    check_reparameterize,
    vae_problem,
)

__all__ = [
    "check_bernoulli_log_prob",
    "check_buffer_draw",
    "check_cd_loss",
    "check_discriminator_loss",
    "check_generator_loss",
    "check_train_step",
    "gan_problem",
    "check_ebm_loss",
    "check_free_energy",
    "check_kl_divergence",
    "check_langevin",
    "check_reparameterize",
    "ebm_problem",
    "rbm_problem",
    "vae_problem",
]
