"""The data pipelines of both frameworks (``fw``): ``coursekit.torch.make_loader`` (a torch
``DataLoader``) and ``coursekit.keras.make_dataset`` (a ``keras.utils.PyDataset``): batch shapes,
dtypes, value ranges, the NumPy preprocessing, shuffling, seeding, bad input."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import torch

from coursekit.checks import to_numpy
from coursekit.data import binarize, to_float
from coursekit.keras import make_dataset
from coursekit.torch import make_loader

N = 50


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, (N, 28, 28), dtype=np.uint8)


@pytest.fixture
def labels():
    return (np.arange(N) % 10).astype(np.uint8)


def _epoch(fw, images, labels=None, **kw) -> list:
    """One epoch of batches from the framework's pipeline, as NumPy: ``[(x, y), ...]`` or
    ``[x, ...]`` without labels."""
    if fw.__name__ == "coursekit.torch":
        batches = list(fw.make_loader(images, labels, **kw))
    else:
        ds = fw.make_dataset(images, labels, **kw)
        batches = [ds[i] for i in range(len(ds))]
    if labels is None:
        return [to_numpy(x) for x in batches]
    return [(to_numpy(x), to_numpy(y)) for x, y in batches]


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
def test_batches(fw, images, labels, transform, dtype, lo, hi, flatten):
    batches = _epoch(fw, images, labels, batch_size=16, transform=transform, flatten=flatten)
    assert [len(y) for _, y in batches] == [16, 16, 16, 2]
    shape = (16, 784) if flatten else (16, 28, 28)
    for x, y in batches[:-1]:
        assert x.shape == shape and x.dtype == dtype
        assert y.dtype == np.int64
    xs = np.concatenate([x for x, _ in batches])
    assert xs.min() == lo and xs.max() == hi
    if transform in ("binary", "dynamic"):
        assert set(np.unique(xs).tolist()) == {0.0, 1.0}


def test_values_match_the_numpy_preprocessing(fw, images, labels):
    """Unshuffled batches equal coursekit.data's functions on the same images."""
    for transform, expected in [
        ("float", to_float(images)),
        ("tanh", to_float(images, "[-1,1]")),
        ("binary", binarize(images)),
        (None, images),
    ]:
        [(x, y)] = _epoch(fw, images, labels, batch_size=N, shuffle=False, transform=transform)
        np.testing.assert_allclose(x, expected, atol=1e-6)
        np.testing.assert_array_equal(y, labels)


def test_shuffle_covers_every_sample_once(fw, images, labels):
    seen = np.concatenate([y for _, y in _epoch(fw, images, labels, batch_size=8, seed=1)])
    assert not np.array_equal(seen, labels)  # shuffled ...
    assert sorted(seen.tolist()) == sorted(labels.tolist())  # ... but complete


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"images": np.zeros((4, 28, 28))}, "images must be a uint8 NumPy array"),
        ({"images": [[1, 2]]}, "images must be a uint8 NumPy array"),
        ({"labels": np.zeros(3, dtype=np.int64)}, r"labels must be integers of shape \[50\]"),
        ({"transform": "sigmoid"}, "transform must be one of"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"batch_size": -1}, "batch_size must be a positive integer"),
    ],
)
def test_bad_arguments(fw, images, kwargs, message):
    args = {"images": images, **kwargs}
    make = fw.make_loader if fw.__name__ == "coursekit.torch" else fw.make_dataset
    with pytest.raises(ValueError, match=message):
        make(args.pop("images"), **args)


# ---- PyTorch's DataLoader -------------------------------------------------------------------


def test_torch_dynamic_differs_between_epochs_and_is_reproducible(images):
    a = make_loader(images, batch_size=N, shuffle=False, transform="dynamic", seed=7)
    b = make_loader(images, batch_size=N, shuffle=False, transform="dynamic", seed=7)
    a1, a2 = next(iter(a)), next(iter(a))
    b1, b2 = next(iter(b)), next(iter(b))
    assert not torch.equal(a1, a2)
    assert torch.equal(a1, b1) and torch.equal(a2, b2)
    c1 = next(iter(make_loader(images, batch_size=N, shuffle=False, transform="dynamic",
                               seed=8)))
    assert not torch.equal(a1, c1)
    # Mean close to the intensity: 39,200 draws of mean ~0.5, standard error ~0.0025.
    assert abs(a1.mean().item() - images.mean() / 255) < 0.015


def test_torch_seeded_shuffling_is_reproducible_and_changes_per_epoch(images, labels):
    def order(loader):
        return torch.cat([y for _, y in loader]).tolist()

    a = make_loader(images, labels, batch_size=10, seed=3)
    b = make_loader(images, labels, batch_size=10, seed=3)
    first = order(a)
    assert first == order(b)
    assert order(a) != first  # the next epoch is reshuffled


def test_torch_unseeded_loader_follows_torch_global_seed(images, labels):
    torch.manual_seed(0)
    a = [y.tolist() for _, y in make_loader(images, labels, batch_size=10, transform="dynamic")]
    torch.manual_seed(0)
    b = [y.tolist() for _, y in make_loader(images, labels, batch_size=10, transform="dynamic")]
    assert a == b


def test_torch_drop_last_and_no_labels(images):
    loader = make_loader(images, batch_size=16, drop_last=True)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert all(isinstance(x, torch.Tensor) and x.shape == (16, 28, 28) for x in batches)


def test_torch_device_argument(images, labels):
    x, y = next(iter(make_loader(images, labels, device="cpu", transform="dynamic", seed=0)))
    assert x.device.type == "cpu" and y.device.type == "cpu"


# ---- Keras' PyDataset -----------------------------------------------------------------------


@pytest.mark.keras
def test_keras_is_a_pydataset_with_batches_per_epoch(images, labels):
    ds = make_dataset(images, labels, batch_size=16)
    assert isinstance(ds, keras.utils.PyDataset)
    assert len(ds) == 4
    sizes = [len(ds[i][1]) for i in range(len(ds))]
    assert sizes == [16, 16, 16, 2]
    assert len(ds[-1][0]) == 2
    with pytest.raises(IndexError):
        ds[4]


@pytest.mark.keras
def test_keras_seeded_shuffling_per_epoch(images, labels):
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


@pytest.mark.keras
def test_keras_dynamic_binarisation_is_reproducible_and_changes_per_epoch(images):
    a = make_dataset(images, batch_size=25, shuffle=False, transform="dynamic", seed=5)
    b = make_dataset(images, batch_size=25, shuffle=False, transform="dynamic", seed=5)
    first = a[1]
    assert isinstance(first, np.ndarray)  # no labels: just x
    np.testing.assert_array_equal(first, a[1])  # independent of call order and repeats
    np.testing.assert_array_equal(first, b[1])
    a.on_epoch_end()
    assert not np.array_equal(first, a[1])
    assert abs(first.mean() - images[25:].mean() / 255) < 0.02


@pytest.mark.keras
def test_keras_model_fits_on_it(images, labels):
    ds = make_dataset(images, labels, batch_size=16, transform="binary", flatten=True, seed=0)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10)])
    model.compile(
        optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    history = model.fit(ds, epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1 and np.isfinite(history.history["loss"][0])
    unlabelled = make_dataset(images, batch_size=16, shuffle=False, flatten=True)
    assert model.predict(unlabelled, verbose=0).shape == (N, 10)


@pytest.mark.keras
def test_keras_conv_model_fits_on_images(images, labels):
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
