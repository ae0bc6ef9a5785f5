"""What the labs' exercise checks share, framework-free: the verdicts a student is told
(:mod:`.verdict`) and each week's fixed inputs (one module per family).

The checks themselves run the student's function beside coursekit's verified one in its
framework: :mod:`coursekit.torch.exercises`, :mod:`coursekit.keras.exercises`.
"""

from coursekit.common.exercises.rbm import rbm_problem
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
    "call_student",
    "rbm_problem",
    "return_error",
    "verdict",
]
