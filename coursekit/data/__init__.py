"""Datasets of the course (MNIST, Fashion-MNIST) as NumPy arrays, and their preprocessing.

Framework-free: nothing here imports torch, Keras or TensorFlow (see :mod:`coursekit.torch`
and :mod:`coursekit.keras` for loaders)::

    from coursekit.data import load_mnist, to_float
    x, y = load_mnist("train")        # uint8 [60000, 28, 28], uint8 [60000]
    x = to_float(x)                   # float32 in [0, 1]

:mod:`coursekit.data.ising` makes configurations of the 2-D Ising model (week 6)::

    data = ising.sample(16, 2.0, 4000)  # data.spins: int8 [4000, 16, 16] in {-1, +1}
"""

from coursekit.data import ising
from coursekit.data.cache import (
    DataError,
    DataSourceWarning,
    cache_dir,
    network_allowed,
    offline_reason,
    reset_network_state,
)
from coursekit.data.fallback import DataFallbackWarning
from coursekit.data.idx import IDXFormatError, read_idx, write_idx
from coursekit.data.loaders import (
    cached,
    fetch,
    load,
    load_fashion_mnist,
    load_mnist,
    source,
    splits,
)
from coursekit.data.preprocess import (
    as_images,
    binarize,
    dynamic_binarize,
    flatten,
    to_float,
)
from coursekit.data.registry import CLASS_NAMES, DATASETS
from coursekit.data.toy import bars_and_stripes, bars_and_stripes_distribution

__all__ = [
    "CLASS_NAMES",
    "DATASETS",
    "DataError",
    "DataFallbackWarning",
    "DataSourceWarning",
    "IDXFormatError",
    "as_images",
    "bars_and_stripes",
    "bars_and_stripes_distribution",
    "binarize",
    "cache_dir",
    "cached",
    "dynamic_binarize",
    "fetch",
    "flatten",
    "ising",
    "load",
    "load_fashion_mnist",
    "load_mnist",
    "network_allowed",
    "offline_reason",
    "read_idx",
    "reset_network_state",
    "source",
    "splits",
    "to_float",
    "write_idx",
]
