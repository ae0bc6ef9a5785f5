"""Argument checks (coursekit.checks) and the rules both RBMs share (coursekit.common.rbm)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from coursekit.checks import check_bool, check_float, check_int, check_seed
from coursekit.common import rbm as rbm_checks
from coursekit.common.rbm import (
    check_binarize,
    check_hyperparameter,
    check_hyperparameters,
    check_rows,
    check_training_data,
    check_weights,
)

# --------------------------------------------------------------------------- scalars


@pytest.mark.parametrize("value", [3, np.int64(3), np.uint8(3)])
def test_check_int_converts(value):
    out = check_int(value, "k", 1)
    assert out == 3 and type(out) is int


@pytest.mark.parametrize("value", [0, -1, 1.0, 2.5, True, "2", None, np.float32(2)])
def test_check_int_rejects(value):
    with pytest.raises(ValueError, match=r"^k \(number of Gibbs steps\) must be an int >= 1, got"):
        check_int(value, "k", 1)


def test_check_int_what():
    with pytest.raises(ValueError, match=r"^m \(chains\) must be an int >= 2, got 1$"):
        check_int(1, "m", 2, "chains")
    with pytest.raises(ValueError, match=r"^m must be an int >= 2, got 1$"):
        check_int(1, "m", 2)  # no description known
    assert check_int(0, "steps", 0) == 0


@pytest.mark.parametrize(
    ("value", "rule", "expected"),
    [(0.1, "> 0", 0.1), (1, "> 0", 1.0), (np.float32(0.5), "in [0, 1)", 0.5), (0, ">= 0", 0.0)],
)
def test_check_float_converts(value, rule, expected):
    out = check_float(value, "eta", rule)
    assert out == pytest.approx(expected) and type(out) is float


def test_check_float_accepts_0d_arrays():
    assert check_float(np.array(0.25), "eta", "> 0") == 0.25


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (0.0, "> 0"),
        (-1e-3, ">= 0"),
        (1.0, "in [0, 1)"),
        (-0.1, "in [0, 1)"),
        (float("nan"), ">= 0"),
        (float("inf"), "> 0"),
        (True, "> 0"),
        ("0.1", "> 0"),
        (None, "> 0"),
        ([0.1], "> 0"),
    ],
)
def test_check_float_rejects(value, rule):
    message = rf"^eta \(step size\) must be a finite number {re.escape(rule)}, got "
    with pytest.raises(ValueError, match=message):
        check_float(value, "eta", rule)


def test_check_bool_and_seed_and_binarize():
    assert check_bool(np.bool_(True), "persistent") is True
    assert check_bool(False, "persistent") is False
    with pytest.raises(ValueError, match="persistent must be True or False, got 1"):
        check_bool(1, "persistent")
    assert check_seed(None) is None
    assert check_seed(np.int32(7)) == 7
    for bad in (-1, 1.0, True, "0"):
        with pytest.raises(ValueError, match=r"^seed \(random seed\) must be an int >= 0"):
            check_seed(bad)
    for mode in rbm_checks.BINARIZE_MODES:
        assert check_binarize(mode) == mode
    with pytest.raises(ValueError, match="binarize must be 'dynamic', 'static' or None"):
        check_binarize("otsu")


def test_check_hyperparameters_converts():
    hyper = check_hyperparameters(
        np.int64(784), 500, k=np.int32(2), persistent=np.bool_(True), eta=1, seed=np.int64(3)
    )
    assert hyper == {
        "n_visible": 784,
        "n_hidden": 500,
        "k": 2,
        "persistent": True,
        "n_chains": None,
        "eta": 1.0,
        "momentum": 0.5,
        "weight_decay": 1e-4,
        "init_std": 0.01,
        "seed": 3,
    }
    assert type(hyper["k"]) is int and type(hyper["eta"]) is float
    assert check_hyperparameters(4, 3)["seed"] is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("n_visible", 0),
        ("n_hidden", 2.0),
        ("k", 0),
        ("persistent", "yes"),
        ("n_chains", 0),
        ("eta", 0.0),
        ("momentum", 1.0),
        ("weight_decay", -1e-3),
        ("init_std", -1.0),
        ("seed", -1),
    ],
)
def test_check_hyperparameters_names_the_bad_one(name, value):
    args = {"n_visible": 4, "n_hidden": 3, name: value}
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        check_hyperparameters(args.pop("n_visible"), args.pop("n_hidden"), **args)
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        check_hyperparameter(name, value)


# --------------------------------------------------------------------------- data


def test_check_training_data_converts():
    x = np.array([[0.0, 0.5, 1.0], [1.0, 0.25, 0.0]])
    out = check_training_data(x, 3)
    assert out.dtype == np.float32 and out.flags.c_contiguous
    np.testing.assert_array_equal(out, x.astype(np.float32))
    # Lists, bools and 0/1 integers are numbers too; non-contiguous input is made contiguous.
    assert check_training_data([[0, 1, 1]], 3, binarize=None).dtype == np.float32
    assert check_training_data(np.ones((2, 3), bool), 3).tolist() == [[1.0] * 3] * 2
    strided = np.zeros((3, 4), np.float32)[:, ::2]
    assert check_training_data(strided, 2).flags.c_contiguous


def test_check_training_data_does_not_copy_float32():
    x = np.random.default_rng(0).random((5, 4), dtype=np.float32)
    assert check_training_data(x, 4) is x


@pytest.mark.parametrize(
    ("x", "kwargs", "message"),
    [
        (np.zeros((2, 4), np.uint8), {}, r"data has dtype uint8.*ck\.data\.to_float\(data\)"),
        (np.zeros((2, 2, 2), np.uint8), {}, r"ck\.data\.flatten"),
        (np.array([["a"] * 4]), {}, r"data must hold numbers in \[0, 1\], got dtype <U1"),
        (np.zeros((2, 2, 2)), {}, r"data must be 2-D .*n_visible=4.*flatten images"),
        (np.zeros(4), {}, r"data must be 2-D \[n, n_visible\] .*got shape \(4,\)$"),
        (np.zeros((2, 5)), {}, "data has 5 columns but the RBM has n_visible=4"),
        (np.zeros((0, 4)), {}, "data has no rows"),
        (np.full((2, 4), np.nan), {}, r"data must have values in \[0, 1\] but contains NaN"),
        (np.full((2, 4), 2.0), {}, r"data must have values in \[0, 1\]; got values in \[2, 2\]"),
        (np.full((2, 4), -1.0), {"binarize": None}, r"data must have values in \[0, 1\]"),
        (
            np.full((2, 4), 0.5),
            {"binarize": None},
            r"data must be binary \(0/1\) when binarize=None.*e\.g\. 0\.5.*'static'",
        ),
        (np.zeros((2, 4)), {"binarize": "otsu"}, "binarize must be"),
    ],
)
def test_check_training_data_rejects(x, kwargs, message):
    with pytest.raises(ValueError, match=message):
        check_training_data(x, 4, "data", **kwargs)


def test_check_training_data_nan_before_binary():
    x = np.array([[0.0, np.nan]])
    with pytest.raises(ValueError, match="contains NaN"):
        check_training_data(x, 2, binarize=None)


def test_check_rows():
    out = check_rows(np.array([[0, 1]], np.int64), 2, "start", binary=True)
    assert out.dtype == np.float32 and out.tolist() == [[0.0, 1.0]]
    assert check_rows(np.zeros((0, 2)), 2).shape == (0, 2)  # no rows is fine here
    assert check_rows(np.full((1, 2), 7.0), 2).tolist() == [[7.0, 7.0]]  # values not checked
    with pytest.raises(ValueError, match=r"start must be binary \(every value 0 or 1\)"):
        check_rows(np.full((1, 2), 0.5), 2, "start", binary=True)
    with pytest.raises(ValueError, match="start has 3 columns but the RBM has n_visible=2"):
        check_rows(np.zeros((1, 3)), 2, "start")


def test_check_weights():
    out = check_weights(3, 2, W=np.ones((3, 2)), a=None, b=[0, 1])
    assert set(out) == {"W", "b"} and all(v.dtype == np.float32 for v in out.values())
    with pytest.raises(ValueError, match=r"W must have shape \(3, 2\), got shape \(2, 3\)"):
        check_weights(3, 2, W=np.ones((2, 3)))
    with pytest.raises(ValueError, match="a contains NaN or inf"):
        check_weights(3, 2, a=[0.0, np.inf, 0.0])


def test_coursekit_warnings_print_without_the_file_and_line():
    import warnings

    from coursekit.checks import CoursekitWarning
    from coursekit.data import DataFallbackWarning, DataSourceWarning

    for category in (CoursekitWarning, DataFallbackWarning, DataSourceWarning):
        text = warnings.formatwarning("the message", category, "/tmp/ipykernel_1/2.py", 1)
        assert text == f"{category.__name__}: the message\n"
    other = warnings.formatwarning("plain", UserWarning, "/tmp/ipykernel_1/2.py", 1, "x = 1")
    assert other.startswith("/tmp/ipykernel_1/2.py:1: UserWarning: plain")


# --------------------------------------------------------------- callables, paths, arrays


def test_check_callable_path_and_numbers():
    import math
    from pathlib import Path

    from coursekit.checks import check_callable, check_numbers, check_path

    assert check_callable(print, "callback", "a function") is print
    with pytest.raises(ValueError, match=r"^callback must be a function f\(x\), got int 3$"):
        check_callable(3, "callback", "a function f(x)")
    assert check_path("a/b.npz", "path") == Path("a/b.npz")
    assert check_path(Path("c"), "path") == Path("c")
    for bad in (None, 5, b"a.npz", ""):
        with pytest.raises(ValueError, match=r"^path must be a path \(a str or pathlib.Path\)"):
            check_path(bad, "path")
    out = check_numbers([[1, 2], [3, 4]], "z", "points [n, 2]", ndim=2)
    assert out.dtype == np.float64 and out.shape == (2, 2)
    for bad, message in [
        ("abc", r"^z must be points \[n, 2\] \(numbers\), got dtype <U3$"),
        (None, r"^z must be points \[n, 2\] \(numbers\), got dtype object$"),
        ([[1], [2, 3]], r"^z must be points \[n, 2\] \(numbers\), got list$"),
        (np.zeros(3), r"^z must be points \[n, 2\], got shape \(3,\)$"),
        (np.zeros((0, 2)), r"^z must be points \[n, 2\], got shape \(0, 2\)$"),
        ([[1.0, math.nan]], r"^z holds 1 NaN or infinite values; it must be points \[n, 2\] of "
         "finite numbers$"),
    ]:
        with pytest.raises(ValueError, match=message):
            check_numbers(bad, "z", "points [n, 2]", ndim=2)


@pytest.mark.parametrize("value", [0, -0.1, 1.01, math.nan, True, "0.5"])
def test_the_open_closed_unit_interval(value):
    with pytest.raises(ValueError, match=r"must be a finite number in \(0, 1\], got"):
        check_float(value, "share", "in (0, 1]")
    assert check_float(1, "share", "in (0, 1]") == 1.0
