"""coursekit: the package behind the course *Deep generative models for the physical sciences*.

A notebook starts with::

    import coursekit as ck
    EPOCHS = ck.by_mode(full=30, smoke=1)
    ck.seed_everything(0)
    images, labels = ck.data.load_mnist("train")

The framework-free core lives here (configuration, data, plotting, NumPy reference maths);
PyTorch code is in :mod:`coursekit.torch` and Keras 3 code in :mod:`coursekit.keras`.
"""

from coursekit import (
    _env,  # noqa: F401  (must run before anything imports TensorFlow)
    data,
    plotting,
    threads,
)
from coursekit.config import (
    available_cpus,
    by_mode,
    device,
    is_smoke,
    mode,
    num_threads,
    seed_everything,
)

threads.install()  # COURSEKIT_THREADS reaches torch and TensorFlow, whenever they are imported

__version__ = "0.1.0"
REPO_URL = "https://github.com/coursekit/coursekit"

__all__ = [
    "REPO_URL",
    "__version__",
    "available_cpus",
    "by_mode",
    "data",
    "device",
    "doctor",
    "is_smoke",
    "mode",
    "num_threads",
    "plotting",
    "seed_everything",
    "threads",
]


def doctor() -> None:
    """Print the environment report (the same as ``coursekit doctor``).

    The report (:mod:`coursekit.envreport`) belongs to the command-line layer; it is imported
    only when asked for, so ``import coursekit`` never loads it. (Its module is not called
    ``doctor``: importing a submodule of that name would replace this function.)
    """
    from coursekit.envreport import print_report

    print_report()
