"""The workers behind benchmarks/vae.py's coursekit rows, and the data every row trains on.

Each factory runs in a process of its own (:func:`series.interleaved`), imports ``coursekit``
first (the thread pools of ``COURSEKIT_THREADS``, as in the notebooks) and only then its
framework; on Keras the backend comes from the series' ``KERAS_BACKEND``. A factory returns
``(run, info)``; ``run()`` does one timed unit of work and returns ``(seconds, extra)``:

* :func:`coursekit_epoch`: one ``fit(epochs=1)`` over the ``n`` training images, batch 128
  (``ceil(n / 128)`` Adam updates, dynamic binarisation, shuffling; data preloaded);
* :func:`coursekit_iwae`: one ``log_likelihood(k=...)`` call over ``n`` test images.

The images come from :func:`write_data`, called once by the parent process: every row (the
peers too) reads the same rows from its ``.npy`` files. No framework is imported at the top of
this module (the workers re-import it).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np

#: The two models: the pytorch/examples MLP (784-400-20) and the keras.io conv VAE (latent 2;
#: ``hidden`` is unused by the conv model).
MODELS = {
    "mlp": {"arch": "mlp", "latent": 20, "hidden": 400},
    "conv": {"arch": "conv", "latent": 2, "hidden": 400},
}


def training_data(n: int, n_test: int = 0) -> tuple[np.ndarray, np.ndarray, str]:
    """``n`` training rows [n, 784] of MNIST grey values in [0, 1], ``n_test`` binary test
    rows (each tiled if this machine has fewer), and a line saying where they came from."""
    import coursekit as ck

    images, _ = ck.data.load_mnist("train")
    rows = ck.data.flatten(ck.data.to_float(images))
    origin = ck.data.source("mnist", "train")
    if len(rows) < n:
        origin += f", {len(rows):,} rows tiled to {n:,}"
        rows = np.resize(rows, (n, rows.shape[1]))
    test_rows = np.zeros((0, rows.shape[1]), dtype=np.float32)
    if n_test:
        test, _ = ck.data.load_mnist("test")
        test_rows = ck.data.binarize(ck.data.flatten(ck.data.to_float(test)))
        origin += f"; test: {ck.data.source('mnist', 'test')}"
        if len(test_rows) < n_test:
            origin += f", {len(test_rows):,} rows tiled to {n_test:,}"
            test_rows = np.resize(test_rows, (n_test, test_rows.shape[1]))
    return np.ascontiguousarray(rows[:n]), test_rows[:n_test], origin


def write_data(folder: Path, n: int, n_test: int = 0) -> tuple[dict[str, str], str]:
    """:func:`training_data` saved as ``train.npy`` (and ``test.npy``) in ``folder``: their paths
    and where the images came from."""
    rows, test, origin = training_data(n, n_test)
    paths = {"train": str(folder / "train.npy"), "test": str(folder / "test.npy")}
    np.save(paths["train"], rows)
    np.save(paths["test"], test)
    return paths, origin


def load_rows(path: str, n: int) -> np.ndarray:
    """The first ``n`` rows [n, 784] of a file of :func:`write_data`, in memory."""
    rows = np.load(path)
    if len(rows) < n:
        raise ValueError(f"{path} holds {len(rows)} rows, {n} asked for")
    return np.ascontiguousarray(rows[:n])


def _framework_info(impl: str) -> dict[str, Any]:
    import coursekit as ck

    info: dict[str, Any] = {"threads": ck.num_threads()}
    if impl == "torch":
        import torch

        info |= {"torch": torch.__version__, "torch_threads": torch.get_num_threads()}
    else:
        import keras

        info |= {"keras": keras.__version__, "backend": keras.backend.backend()}
        if info["backend"] == "tensorflow":
            import tensorflow as tf

            info["tensorflow"] = tf.__version__
    return info


def _make_vae(impl: str, arch: str, latent: int, hidden: int) -> Any:
    if impl == "torch":
        from coursekit.torch import VAE
    else:
        from coursekit.keras import VAE
    return VAE(latent, arch=arch, hidden=hidden, seed=0)


def coursekit_epoch(
    impl: str, arch: str, data: str, n: int, batch: int = 128, latent: int = 20,
    hidden: int = 400,
) -> tuple[Any, dict]:
    """One epoch of ``coursekit.torch.VAE`` (``impl="torch"``) or ``coursekit.keras.VAE``
    (``"keras"``, on the process's ``KERAS_BACKEND``) over ``n`` images, as a notebook trains
    it: ``vae.fit(x, epochs=1, batch_size=batch)``, no progress bar; ``data``: the ``.npy``
    file of training rows."""
    import coursekit as ck

    ck.seed_everything(0)
    rows = load_rows(data, n)
    vae = _make_vae(impl, arch, latent, hidden)
    if impl == "torch":
        import torch

        x: Any = torch.from_numpy(rows)  # preloaded once, as a training loop keeps it

        def fit() -> None:
            vae.fit(x, epochs=1, batch_size=batch, progress=False)
    else:

        def fit() -> None:
            vae.fit(rows, epochs=1, batch_size=batch, verbose=0)

    def run() -> tuple[float, dict]:
        before = vae.updates
        start = time.perf_counter()
        fit()
        seconds = time.perf_counter() - start
        return seconds, {"updates": vae.updates - before}

    info = {**_framework_info(impl), "images": n, "updates_per_sample": math.ceil(n / batch)}
    return run, info


def coursekit_iwae(
    impl: str, arch: str, data: str, n: int, k: int, latent: int = 20, hidden: int = 400
) -> tuple[Any, dict]:
    """``vae.log_likelihood(test[:n], k=k)`` (one encoder and ``k`` decoder passes per image)
    of an untrained model (the cost does not depend on the weights), after a 2-image call;
    ``data``: the ``.npy`` file of binary test rows."""
    import coursekit as ck

    ck.seed_everything(0)
    test = load_rows(data, n)
    vae = _make_vae(impl, arch, latent, hidden)
    vae.log_likelihood(test[:2], k=k)  # warm-up: builds and traces

    def run() -> tuple[float, dict]:
        start = time.perf_counter()
        vae.log_likelihood(test, k=k)
        return time.perf_counter() - start, {}

    return run, {**_framework_info(impl), "images": n}
