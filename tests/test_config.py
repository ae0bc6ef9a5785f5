"""coursekit.config: the mode switch and seeding; the thread count; the torch device."""

from __future__ import annotations

import random

import numpy as np
import pytest

from coursekit import config, threads


def test_mode_defaults_to_full():
    assert config.mode() == "full"
    assert not config.is_smoke()
    assert config.by_mode(full=30, smoke=1) == 30


@pytest.mark.parametrize("value", ["smoke", "SMOKE", " smoke "])
def test_smoke_mode_from_environment(monkeypatch, value):
    monkeypatch.setenv("COURSEKIT_MODE", value)
    assert config.mode() == "smoke"
    assert config.by_mode(full=30, smoke=1) == 1


def test_empty_mode_means_full(monkeypatch):
    monkeypatch.setenv("COURSEKIT_MODE", "")
    assert config.mode() == "full"


def test_unknown_mode_names_value_and_choices(monkeypatch):
    monkeypatch.setenv("COURSEKIT_MODE", "fast")
    with pytest.raises(ValueError, match=r"COURSEKIT_MODE='fast'.*'full', 'smoke'"):
        config.mode()
    with pytest.raises(ValueError, match="fast"):
        config.by_mode(full=1, smoke=2)


def test_seed_everything_repeats_python_numpy_and_torch():
    import torch

    def draw():
        legacy = np.random.rand(3).tolist()  # noqa: NPY002  (the global state is seeded too)
        return random.random(), legacy, torch.rand(3).tolist()

    assert config.seed_everything(123) == 123
    first = draw()
    config.seed_everything(123)
    assert draw() == first
    config.seed_everything(124)
    assert draw() != first
    assert config.last_seed() == 124


@pytest.mark.keras
def test_seed_everything_seeds_keras_when_imported():
    import keras

    config.seed_everything(7)
    a = keras.ops.convert_to_numpy(keras.random.normal((4,)))
    config.seed_everything(7)
    b = keras.ops.convert_to_numpy(keras.random.normal((4,)))
    np.testing.assert_array_equal(a, b)


def test_reapply_seed_uses_last_seed():
    import torch
    config.seed_everything(5)
    expected = torch.rand(2)
    torch.manual_seed(999)
    config.reapply_seed("torch")
    assert torch.equal(torch.rand(2), expected)


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, "3", True, None])
def test_bad_seed_is_rejected_with_its_value(bad):
    with pytest.raises(ValueError, match="seed"):
        config.seed_everything(bad)


def test_available_cpus_is_a_sane_count():
    import os

    n = threads.available_cpus()
    assert 1 <= n <= (os.cpu_count() or 1)


def test_threads_follow_environment(monkeypatch):
    assert threads.num_threads() == threads.available_cpus()
    monkeypatch.setenv("COURSEKIT_THREADS", "3")
    assert threads.num_threads() == 3
    monkeypatch.setenv("COURSEKIT_THREADS", "zero")
    with pytest.raises(ValueError, match="COURSEKIT_THREADS='zero'"):
        threads.num_threads()


def test_device_is_one_of_the_known_names(capsys):
    from coursekit.torch import device

    name = device(verbose=True)
    assert name in {"cuda", "mps", "cpu"}
    assert capsys.readouterr().out.startswith(f"device: {name}")
