"""coursekit.keras.data.make_dataset: batches, transforms, seeding, and model.fit on it.

Runs on whichever Keras backend is configured; `make test` runs it on tensorflow and torch.
"""

from __future__ import annotations

import numpy as np
import pytest

import coursekit.keras  # noqa: F401  (sets KERAS_BACKEND before keras is imported)
from coursekit.data import binarize, to_float
from coursekit.keras.data import make_dataset

keras = pytest.importorskip("keras")

pytestmark = pytest.mark.keras

N = 50


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, (N, 28, 28), dtype=np.uint8)


@pytest.fixture
def labels():
    return (np.arange(N) % 10).astype(np.uint8)


def test_is_a_pydataset_with_batches_per_epoch(images, labels):
    ds = make_dataset(images, labels, batch_size=16)
    assert isinstance(ds, keras.utils.PyDataset)
    assert len(ds) == 4
    sizes = [len(ds[i][1]) for i in range(len(ds))]
    assert sizes == [16, 16, 16, 2]
    assert len(ds[-1][0]) == 2
    with pytest.raises(IndexError):
        ds[4]


@pytest.mark.parametrize(
    ("transform", "dtype", "lo", "hi"),
    [
        ("float", np.float32, 0.0, 1.0),
        ("tanh", np.float32, -1.0, 1.0),
        ("binary", np.float32, 0.0, 1.0),
        ("dynamic", np.float32, 0.0, 1.0),
        (None, np.uint8, 0, 255),
    ],
)
@pytest.mark.parametrize("flatten", [False, True])
def test_batches(images, labels, transform, dtype, lo, hi, flatten):
    ds = make_dataset(images, labels, batch_size=16, transform=transform, flatten=flatten)
    x, y = ds[0]
    assert x.shape == ((16, 784) if flatten else (16, 28, 28)) and x.dtype == dtype
    assert y.shape == (16,) and y.dtype == np.int64
    xs = np.concatenate([ds[i][0] for i in range(len(ds))])
    assert xs.min() == lo and xs.max() == hi
    if transform in ("binary", "dynamic"):
        assert set(np.unique(xs).tolist()) == {0.0, 1.0}


def test_values_match_the_numpy_preprocessing(images, labels):
    for transform, expected in [
        ("float", to_float(images)),
        ("tanh", to_float(images, (-1, 1))),
        ("binary", binarize(images)),
        (None, images),
    ]:
        x, y = make_dataset(images, labels, batch_size=N, shuffle=False, transform=transform)[0]
        np.testing.assert_array_equal(x, expected)
        np.testing.assert_array_equal(y, labels)


def test_seeded_shuffling_per_epoch(images, labels):
    def epoch(ds):
        return np.concatenate([ds[i][1] for i in range(len(ds))]).tolist()

    a = make_dataset(images, labels, batch_size=10, seed=1, transform=None)
    b = make_dataset(images, labels, batch_size=10, seed=1, transform=None)
    first = epoch(a)
    assert first == epoch(b) and first == epoch(a)  # stable within an epoch
    assert sorted(first) == sorted(labels.tolist()) and first != labels.tolist()
    a.on_epoch_end()
    b.on_epoch_end()
    assert epoch(a) != first and epoch(a) == epoch(b)
    unshuffled = make_dataset(images, labels, batch_size=10, shuffle=False)
    unshuffled.on_epoch_end()
    assert epoch(unshuffled) == labels.tolist()


def test_dynamic_binarisation_is_reproducible_and_changes_per_epoch(images):
    a = make_dataset(images, batch_size=25, shuffle=False, transform="dynamic", seed=5)
    b = make_dataset(images, batch_size=25, shuffle=False, transform="dynamic", seed=5)
    first = a[1]
    assert isinstance(first, np.ndarray)  # no labels: just x
    np.testing.assert_array_equal(first, a[1])  # independent of call order and repeats
    np.testing.assert_array_equal(first, b[1])
    a.on_epoch_end()
    assert not np.array_equal(first, a[1])
    assert abs(first.mean() - images[25:].mean() / 255) < 0.02


def test_bad_arguments(images):
    with pytest.raises(ValueError, match="images must be a uint8 NumPy array"):
        make_dataset(images.astype(np.float32))
    with pytest.raises(ValueError, match="transform must be one of"):
        make_dataset(images, transform="binarize")
    with pytest.raises(ValueError, match=r"labels must be integers of shape \[50\]"):
        make_dataset(images, np.zeros(49, dtype=np.int64))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        make_dataset(images, batch_size=-1)


def test_model_fits_on_it(images, labels):
    ds = make_dataset(images, labels, batch_size=16, transform="binary", flatten=True, seed=0)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10)])
    model.compile(
        optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    history = model.fit(ds, epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1 and np.isfinite(history.history["loss"][0])
    unlabelled = make_dataset(images, batch_size=16, shuffle=False, flatten=True)
    assert model.predict(unlabelled, verbose=0).shape == (N, 10)


def test_conv_model_fits_on_images(images, labels):
    """Image batches [b, 28, 28] work too; dynamic binarisation draws inside fit."""
    ds = make_dataset(images, labels, batch_size=25, transform="dynamic", seed=0)
    model = keras.Sequential(
        [
            keras.Input((28, 28)),
            keras.layers.Reshape((28, 28, 1)),
            keras.layers.Conv2D(2, 3),
            keras.layers.Flatten(),
            keras.layers.Dense(10),
        ]
    )
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(ds, epochs=2, verbose=0)
    assert ds.epoch >= 2  # Keras called on_epoch_end, so each epoch drew new pixels
