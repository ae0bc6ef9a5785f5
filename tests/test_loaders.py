"""coursekit.torch.data.make_loader: batch shapes, dtypes, value ranges, seeding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from coursekit.data import binarize, to_float
from coursekit.torch.data import make_loader

N = 50


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, (N, 28, 28), dtype=np.uint8)


@pytest.fixture
def labels():
    return (np.arange(N) % 10).astype(np.uint8)


@pytest.mark.parametrize(
    ("transform", "dtype", "lo", "hi"),
    [
        ("float", torch.float32, 0.0, 1.0),
        ("tanh", torch.float32, -1.0, 1.0),
        ("binary", torch.float32, 0.0, 1.0),
        ("dynamic", torch.float32, 0.0, 1.0),
        (None, torch.uint8, 0, 255),
    ],
)
@pytest.mark.parametrize("flatten", [False, True])
def test_batches(images, labels, transform, dtype, lo, hi, flatten):
    loader = make_loader(images, labels, batch_size=16, transform=transform, flatten=flatten)
    batches = list(loader)
    assert len(loader) == len(batches) == 4
    assert [len(y) for _, y in batches] == [16, 16, 16, 2]
    shape = (16, 784) if flatten else (16, 28, 28)
    for x, y in batches[:-1]:
        assert x.shape == shape and x.dtype == dtype
        assert y.dtype == torch.int64
    xs = torch.cat([x for x, _ in batches])
    assert xs.min().item() == lo and xs.max().item() == hi
    if transform in ("binary", "dynamic"):
        assert set(torch.unique(xs).tolist()) == {0.0, 1.0}


def test_values_match_the_numpy_preprocessing(images, labels):
    """Unshuffled batches equal coursekit.data's functions on the same images."""
    for transform, expected in [
        ("float", to_float(images)),
        ("tanh", to_float(images, "[-1,1]")),
        ("binary", binarize(images)),
        (None, images),
    ]:
        loader = make_loader(images, labels, batch_size=N, shuffle=False, transform=transform)
        x, y = next(iter(loader))
        np.testing.assert_allclose(x.numpy(), expected, atol=1e-6)
        np.testing.assert_array_equal(y.numpy(), labels)


def test_shuffle_covers_every_sample_once(images, labels):
    loader = make_loader(images, labels, batch_size=8, seed=1, transform=None)
    seen = torch.cat([y for _, y in loader]).numpy()
    assert not np.array_equal(seen, labels)  # shuffled ...
    assert sorted(seen.tolist()) == sorted(labels.tolist())  # ... but complete


def test_dynamic_differs_between_epochs_and_is_reproducible(images):
    a = make_loader(images, batch_size=N, shuffle=False, transform="dynamic", seed=7)
    b = make_loader(images, batch_size=N, shuffle=False, transform="dynamic", seed=7)
    a1, a2 = next(iter(a)), next(iter(a))
    b1, b2 = next(iter(b)), next(iter(b))
    assert not torch.equal(a1, a2)
    assert torch.equal(a1, b1) and torch.equal(a2, b2)
    c1 = next(iter(make_loader(images, batch_size=N, shuffle=False, transform="dynamic", seed=8)))
    assert not torch.equal(a1, c1)
    # Mean close to the intensity: 39,200 draws of mean ~0.5, standard error ~0.0025.
    assert abs(a1.mean().item() - images.mean() / 255) < 0.015


def test_seeded_shuffling_is_reproducible_and_changes_per_epoch(images, labels):
    def order(loader):
        return torch.cat([y for _, y in loader]).tolist()

    a = make_loader(images, labels, batch_size=10, seed=3)
    b = make_loader(images, labels, batch_size=10, seed=3)
    first = order(a)
    assert first == order(b)
    assert order(a) != first  # the next epoch is reshuffled


def test_unseeded_loader_follows_torch_global_seed(images, labels):
    torch.manual_seed(0)
    a = [y.tolist() for _, y in make_loader(images, labels, batch_size=10, transform="dynamic")]
    torch.manual_seed(0)
    b = [y.tolist() for _, y in make_loader(images, labels, batch_size=10, transform="dynamic")]
    assert a == b


def test_drop_last_and_no_labels(images):
    loader = make_loader(images, batch_size=16, drop_last=True)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert all(isinstance(x, torch.Tensor) and x.shape == (16, 28, 28) for x in batches)


def test_device_argument(images, labels):
    x, y = next(iter(make_loader(images, labels, device="cpu", transform="dynamic", seed=0)))
    assert x.device.type == "cpu" and y.device.type == "cpu"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"images": np.zeros((4, 28, 28))}, "images must be a uint8 NumPy array"),
        ({"images": [[1, 2]]}, "images must be a uint8 NumPy array"),
        ({"labels": np.zeros(3, dtype=np.int64)}, r"labels must be integers of shape \[50\]"),
        ({"transform": "sigmoid"}, "transform must be one of"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
    ],
)
def test_bad_arguments(images, kwargs, message):
    args = {"images": images, **kwargs}
    with pytest.raises(ValueError, match=message):
        make_loader(args.pop("images"), **args)
