"""Both RBMs (torch and Keras) against misuse: read-only structure, n_chains without PCD, bad
snapshot intervals, runaway training, and save/load errors that name the file.

Every test runs once per framework; the Keras cases are marked ``keras`` so that ``make test``
runs them again on the torch backend.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from coursekit.common import rbm as rbm_checks

N_V, N_H = 6, 4


def _binary(n: int, width: int = N_V, seed: int = 1) -> np.ndarray:
    return (np.random.default_rng(seed).random((n, width)) < 0.5).astype(np.float32)


# ------------------------------------------------------------------- structure is read-only


@pytest.mark.parametrize(
    ("name", "value"), [("n_hidden", 10), ("n_visible", 3), ("persistent", True), ("n_chains", 5)]
)
def test_structural_attributes_are_read_only(RBM, name, value, tmp_path):
    rbm = RBM(N_V, N_H, seed=0)
    before = getattr(rbm, name)
    with pytest.raises(AttributeError, match=rf"{name} is fixed when the RBM is built.*new RBM"):
        setattr(rbm, name, value)
    assert getattr(rbm, name) == before
    # Still consistent: its own file loads back.
    rbm.save(tmp_path / "rbm.npz")
    assert RBM.load(tmp_path / "rbm.npz").n_hidden == N_H


def test_hyperparameters_stay_settable(RBM):
    rbm = RBM(N_V, N_H, seed=0)
    rbm.eta, rbm.k, rbm.momentum, rbm.weight_decay = 0.2, 3, 0.1, 0.0
    assert (rbm.k, rbm.eta, rbm.momentum, rbm.weight_decay) == pytest.approx((3, 0.2, 0.1, 0.0))


# ------------------------------------------------------------------ n_chains without PCD


def test_n_chains_without_persistent_warns(RBM):
    with pytest.warns(UserWarning, match=r"n_chains=7 is ignored with persistent=False"):
        RBM(N_V, N_H, n_chains=7, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RBM(N_V, N_H, n_chains=7, persistent=True, seed=0)  # PCD uses it: no warning
        RBM(N_V, N_H, seed=0)


# ------------------------------------------------------------------- snapshot intervals


@pytest.mark.parametrize("every", [0, -1, 7, 2.0])
def test_sample_rejects_bad_every(RBM, every):
    rbm = RBM(N_V, N_H, seed=0)
    with pytest.raises(ValueError, match="every"):
        rbm.sample(3, steps=6, every=every)


def test_sample_every_shapes(RBM):
    rbm = RBM(N_V, N_H, seed=0)
    assert rbm.sample(3, steps=6).shape == (3, N_V)
    assert rbm.sample(3, steps=6, every=6).shape == (1, 3, N_V)
    assert rbm.sample(3, steps=6, every=4).shape == (1, 3, N_V)
    assert rbm.sample(3, steps=6, every=1).shape == (6, 3, N_V)
    with pytest.raises(ValueError, match=r"every \(snapshot interval\) must be <= steps=2"):
        rbm.gibbs(_binary(3), 2, return_chain=True, every=3)
    assert rbm.gibbs(_binary(3), 0, return_chain=True)[1].shape == (0, 3, N_V)


# --------------------------------------------------------------------------- divergence


@pytest.mark.parametrize("eta", [1e4, 1e38])
def test_huge_eta_stops_with_a_message(RBM, eta):
    """A huge step size either overflows (NaN/inf) or blows the weights up to huge finite
    values (a pseudo-log-likelihood of millions): both stop after the first epoch."""
    x = _binary(200, seed=3)
    rbm = RBM(N_V, N_H, eta=eta, momentum=0.9, seed=0)
    now = re.escape(f"(now {eta:g})")
    with pytest.raises(FloatingPointError, match=rf"diverged in epoch 1: .*smaller eta {now}"):
        rbm.fit(x, epochs=3, batch_size=10, binarize=None, progress=False)


def test_ordinary_training_does_not_trip_the_divergence_check(RBM):
    x = _binary(200, seed=3)
    rbm = RBM(N_V, N_H, eta=0.1, momentum=0.5, seed=0)
    hist = rbm.fit(x, epochs=3, batch_size=10, binarize=None, progress=False)
    assert all(math.isfinite(v) for v in hist["pll"])


def test_divergence_check_by_hand():
    rbm_checks.check_not_diverged({"W": 99.0, "a": 0.0}, 1, 0.1)
    with pytest.raises(FloatingPointError, match=r"epoch 2: W has grown to \|W\| = 101 .*eta"):
        rbm_checks.check_not_diverged({"W": 101.0}, 2, 0.1)
    with pytest.raises(FloatingPointError, match=r"epoch 3: pll contains NaN or inf"):
        rbm_checks.check_not_diverged({"pll": float("nan")}, 3, 0.1, math.inf)
    rbm_checks.check_not_diverged({"pll": -1e7}, 3, 0.1, math.inf)  # monitors: finite is enough


# ----------------------------------------------------------------------------- save errors


def test_save_errors_name_the_target(RBM, tmp_path):
    rbm = RBM(N_V, N_H, seed=0)
    folder = tmp_path / "models"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match=rf"save the RBM to {folder}: it is a folder"):
        rbm.save(folder)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OSError, match=rf"cannot save the RBM to {blocker / 'rbm.npz'}") as err:
        rbm.save(blocker / "rbm.npz")  # the parent is a file
    assert ".tmp" not in str(err.value)
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(PermissionError, match=rf"cannot save the RBM to {locked / 'r.npz'}"):
            rbm.save(locked / "r.npz")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


# ----------------------------------------------------------------------------- load errors


def test_load_errors_name_the_file_and_what_was_expected(RBM, tmp_path: Path):
    writer = f"{RBM.__module__.rsplit('.', 1)[0]}.RBM.save"
    noise = tmp_path / "noise.bin"
    noise.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ValueError, match=rf"{noise} is not an \.npz \(zip\) archive.*{writer}"):
        RBM.load(noise)
    array = tmp_path / "weights.npy"
    np.save(array, np.zeros((N_V, N_H)))
    with pytest.raises(ValueError, match=rf"{array} is a \.npy file .*not an RBM file"):
        RBM.load(array)
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match=rf"{empty} is empty"):
        RBM.load(empty)
    other = tmp_path / "other.npz"
    np.savez(other, W=np.zeros((2, 2)))
    with pytest.raises(ValueError, match=rf"{other} has no format tag; expected .*{writer}"):
        RBM.load(other)
    with pytest.raises(IsADirectoryError, match=str(tmp_path)):
        RBM.load(tmp_path)
    for bad in (noise, array, empty, other):  # never numpy's pickle advice or a TypeError
        with pytest.raises(ValueError) as err:
            RBM.load(bad)
        assert "pickle" not in str(err.value)


def test_load_a_file_of_the_other_framework(RBM, tmp_path: Path):
    from coursekit.keras import RBM as KerasRBM
    from coursekit.torch import RBM as TorchRBM

    other = KerasRBM if RBM is TorchRBM else TorchRBM
    path = other(N_V, N_H, seed=0).save(tmp_path / "other.npz")
    with pytest.raises(ValueError, match=r"has format 'coursekit\.(torch|keras)\.RBM/1'; expected"):
        RBM.load(path)
