"""The coursekit rows of benchmarks/gan.py: worker factories for :mod:`series`.

Each factory runs in a process of its own (``spawn``): it imports ``coursekit`` first (which
sets torch's and TensorFlow's thread pools from ``COURSEKIT_THREADS``, as in the notebooks),
then its framework, builds the model and returns ``run()``, which times one sample: ``steps``
calls of the model's public ``train_step`` on real MNIST batches in [-1, 1], drawn as
``DCGAN.fit`` draws them (a random order of the images, consecutive slices of ``batch``, a new
order when fewer than ``batch`` are left; the order and the slicing are timed, as the peer's
``tf.data`` pipeline is).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable

import numpy as np


def train_images_uint8(batch: int) -> tuple[np.ndarray, str]:
    """The MNIST training digits, uint8 ``[n, 28, 28]`` (tiled to ``batch`` if fewer), and
    where they came from (``ck.data.source``)."""
    import coursekit as ck

    with warnings.catch_warnings():  # the fallback's warning: the parent reports the source
        warnings.simplefilter("ignore")
        images, _ = ck.data.load_mnist("train")
        origin = ck.data.source("mnist", "train")
    if len(images) < batch:
        images = np.resize(images, (batch, 28, 28))
    return images, origin


def framework_info() -> dict:
    """The frameworks loaded in this process and their thread pools (for the record)."""
    import sys

    import coursekit as ck

    info = {}
    for name in ("torch", "tensorflow", "keras"):
        if name in sys.modules:
            info[f"{name}_version"] = sys.modules[name].__version__
    for name in ck.threads.FRAMEWORKS:
        pools = ck.threads.effective(name)
        if pools.loaded:
            info[f"{name}_threads"] = pools.describe()
    return info


def coursekit_row(
    impl: str,
    batch: int = 256,
    steps: int = 5,
    latent: int = 100,
    g: tuple[int, int, int] = (256, 128, 64),
    d: tuple[int, int] = (64, 128),
    seed: int = 0,
) -> tuple[Callable[[], float], dict]:
    """Worker factory for ``impl`` "torch" or "keras" (the backend: ``KERAS_BACKEND``)."""
    import coursekit as ck  # first: the thread pools, before any framework starts

    ck.seed_everything(seed)
    images, origin = train_images_uint8(batch)
    x = 2.0 * ck.data.to_float(images) - 1.0  # [n, 28, 28] in [-1, 1]
    kwargs = {"generator_channels": tuple(g), "discriminator_channels": tuple(d), "seed": seed}
    if impl == "torch":
        import torch

        from coursekit.torch import DCGAN

        gan = DCGAN(latent, **kwargs)
        data = torch.from_numpy(np.ascontiguousarray(x[:, None]))  # [n, 1, 28, 28]
        gen = torch.Generator().manual_seed(seed)

        def permutation(n: int):
            return torch.randperm(n, generator=gen)

        label, framework = "torch", f"torch {torch.__version__}"
    elif impl == "keras":
        import keras

        from coursekit.keras import DCGAN

        gan = DCGAN(latent, **kwargs)
        data = np.ascontiguousarray(x[..., None])  # [n, 28, 28, 1]
        rng = np.random.default_rng(seed)

        def permutation(n: int):
            return rng.permutation(n)

        backend = keras.backend.backend()
        label, framework = f"keras[{backend}]", f"Keras {keras.__version__} (backend {backend})"
    else:
        raise ValueError(f"impl must be 'torch' or 'keras', got {impl!r}")
    n = len(data)
    state = {"order": permutation(n), "pos": 0}

    def run() -> float:
        start = time.perf_counter()
        for _ in range(steps):  # as coursekit.loop.train_updates (DCGAN.fit) draws batches
            if state["pos"] + batch > n:
                state["order"], state["pos"] = permutation(n), 0
            pos = state["pos"]
            gan.train_step(data[state["order"][pos : pos + batch]])
            state["pos"] = pos + batch
        return time.perf_counter() - start  # train_step reads its losses back: work is done

    info = {"impl": label, "framework": framework, "data": origin, "images": n,
            "threads": ck.num_threads(), **framework_info()}  # fmt: skip
    return run, info
