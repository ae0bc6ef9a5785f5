"""What the labs' exercise checks share, framework-free: the verdicts a student is told
(:mod:`.verdict`) and each week's fixed inputs (one module per family).

The checks themselves run the student's function beside coursekit's verified one in its
framework: :mod:`coursekit.torch.exercises`, :mod:`coursekit.keras.exercises`.
"""

from coursekit.common.exercises.ebm import buffer_problem, ebm_problem
from coursekit.common.exercises.gan import gan_logits, gan_problem
from coursekit.common.exercises.rbm import rbm_problem
from coursekit.common.exercises.vae import vae_problem
from coursekit.common.exercises.verdict import (
    ExerciseMessage,
    NotWrittenYet,
    NotYetRight,
    call_student,
    return_error,
    verdict,
)

__all__ = [
    "ExerciseMessage",
    "NotWrittenYet",
    "NotYetRight",
    "buffer_problem",
    "call_student",
    "ebm_problem",
    "gan_logits",
    "gan_problem",
    "rbm_problem",
    "return_error",
    "vae_problem",
    "verdict",
]
