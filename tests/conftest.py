"""Shared test set-up: markers, the repository root, the framework fixtures, and an isolated
environment per test.

Twin tests (the same behaviour of the PyTorch and the Keras model) are written once, over the
``fw`` fixture: ``coursekit.torch``, then ``coursekit.keras`` (marked ``keras``, so that
``make test`` runs those cases again on Keras' torch backend).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
# Real MNIST files kept beside the project (not in it): used when present, skipped otherwise.
SHARED_MNIST = Path(
    os.environ.get("COURSEKIT_SHARED_MNIST", REPO.parent / "shared" / "data" / "mnist")
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "keras: Keras tests; `make test` runs them on the tensorflow and torch backends"
    )
    config.addinivalue_line(
        "markers",
        "slow: statistical tests and notebooks (seconds each); `make test` runs them, "
        "`make test-quick` leaves them out",
    )
    config.addinivalue_line(
        "markers", "gpu: needs a CUDA GPU (torch); skipped, with that reason, where there is none"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every notebook cell that nbval re-executes is ``slow``: a notebook takes seconds. A ``gpu``
    test is skipped where torch sees no CUDA GPU."""
    for item in items:
        if type(item).__name__ == "IPyNbCell":
            item.add_marker(pytest.mark.slow)
    gpu = [item for item in items if item.get_closest_marker("gpu")]
    if gpu and not _cuda():
        skip = pytest.mark.skip(reason="needs a CUDA GPU: torch.cuda.is_available() is False here")
        for item in gpu:
            item.add_marker(skip)


def _cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    """No test sees the user's cache, mode or network: offline, smoke, a private cache folder."""
    monkeypatch.setenv("COURSEKIT_OFFLINE", "1")
    monkeypatch.setenv("COURSEKIT_DATA", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("COURSEKIT_MODE", raising=False)
    monkeypatch.delenv("COURSEKIT_THREADS", raising=False)
    from coursekit import data

    data.reset_network_state()
    yield
    data.reset_network_state()


@pytest.fixture
def repo_root() -> Path:
    return REPO


FRAMEWORKS = ["torch", pytest.param("keras", marks=pytest.mark.keras)]


@pytest.fixture(params=FRAMEWORKS)
def fw(request) -> ModuleType:
    """The framework package under test: ``coursekit.torch``, then ``coursekit.keras``."""
    return importlib.import_module(f"coursekit.{request.param}")


@pytest.fixture
def one_torch_thread():
    """torch on one thread for the test: tiny matrices run faster on one thread than on two,
    and are immune to a busy machine's OpenMP barriers."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(params=FRAMEWORKS)
def RBM(request):  # noqa: N802 - the class under test
    """``coursekit.torch.RBM``, then ``coursekit.keras.RBM`` (marked ``keras``, so that
    ``make test`` runs those cases again on the torch backend); torch on one thread, as the
    matrices of these tests are tiny."""
    if request.param == "torch":
        request.getfixturevalue("one_torch_thread")
    return importlib.import_module(f"coursekit.{request.param}").RBM
