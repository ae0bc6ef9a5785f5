"""Checks of the PyTorch labs' exercises: the student's function against coursekit's.

Each check runs the student's function and coursekit's verified implementation on fixed inputs
(the same weights, data and random numbers) and prints one pass line, or stops with one message
that says what differs in the lecture's terms (:mod:`coursekit.common.exercises`)::

    from coursekit.torch import exercises as ex
    ex.check_cd_gradient(cd_gradient)       # ✓ cd_gradient agrees with coursekit (...)

One module per week's family; every check is re-exported here.
"""

from coursekit.torch.exercises.ebm import (
    check_buffer_draw,
    check_ebm_loss,
    check_langevin,
    ebm_problem,
)
from coursekit.torch.exercises.gan import (
    check_discriminator_loss,
    check_gan_step,
    check_generator_loss,
    gan_problem,
)
from coursekit.torch.exercises.rbm import check_cd_gradient, check_momentum_step, rbm_problem
from coursekit.torch.exercises.vae import (
    check_elbo,
    check_encode,
    check_reparameterize,
    vae_problem,
)

__all__ = [
    "check_buffer_draw",
    "check_cd_gradient",
    "check_discriminator_loss",
    "check_gan_step",
    "check_generator_loss",
    "gan_problem",
    "check_ebm_loss",
    "check_elbo",
    "check_encode",
    "check_langevin",
    "check_momentum_step",
    "check_reparameterize",
    "ebm_problem",
    "rbm_problem",
    "vae_problem",
]
