"""Preprocessing: exact values on small arrays, shapes, and clear errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest

from coursekit.data import as_images, binarize, dynamic_binarize, flatten, to_float
from coursekit.data.preprocess import check_images

PIXELS = np.array([[0, 1, 127, 128, 254, 255]], dtype=np.uint8)


def test_to_float_unit_range():
    out = to_float(PIXELS)
    assert out.dtype == np.float32 and out.shape == PIXELS.shape
    np.testing.assert_array_equal(out, np.float32([[0, 1, 127, 128, 254, 255]]) / np.float32(255))
    assert out[0, 0] == 0.0 and out[0, -1] == 1.0


@pytest.mark.parametrize("value_range", [(-1, 1), (-1.0, 1.0), "[-1,1]", "[-1, 1]", [-1, 1]])
def test_to_float_symmetric_range(value_range):
    out = to_float(PIXELS, value_range)
    assert out.dtype == np.float32
    assert out[0, 0] == -1.0 and out[0, -1] == 1.0
    np.testing.assert_allclose(out, PIXELS / 127.5 - 1.0, atol=1e-6)


@pytest.mark.parametrize("value_range", ["[0,1]", (0, 1), (0.0, 1.0)])
def test_to_float_unit_range_spellings(value_range):
    np.testing.assert_array_equal(to_float(PIXELS, value_range), to_float(PIXELS))


@pytest.mark.parametrize("value_range", [(0, 255), "0-1", (-1, 0), None, "[-1,1)", (0, 1, 2)])
def test_to_float_rejects_other_ranges(value_range):
    with pytest.raises(ValueError, match="value_range must be"):
        to_float(PIXELS, value_range)


def test_to_float_rejects_non_uint8_and_non_arrays():
    with pytest.raises(ValueError, match="x must have dtype uint8"):
        to_float(PIXELS.astype(np.float32) / 255)
    with pytest.raises(ValueError, match="x must be a NumPy array"):
        to_float([[0, 255]])


def test_binarize_threshold_boundary():
    out = binarize(PIXELS)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[0, 0, 0, 1, 1, 1]])  # 127 -> 0, 128 -> 1
    floats = np.array([0.0, 0.4999, 0.5, 0.75, 1.0], dtype=np.float64)
    np.testing.assert_array_equal(binarize(floats), np.float32([0, 0, 1, 1, 1]))
    np.testing.assert_array_equal(binarize(PIXELS, threshold=0.0), np.ones((1, 6)))
    np.testing.assert_array_equal(binarize(floats, threshold=0.8), np.float32([0, 0, 0, 0, 1]))


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (np.array([-0.5, 0.5]), r"x must hold intensities in \[0, 1\], found values in \[-0.5"),
        (np.array([0.5, np.nan]), r"^x holds 1 NaN or infinite values; it must hold intensities "
         r"in \[0, 1\] \(clean the data first\)$"),
        (np.array([1, 2], dtype=np.int64), "x must be uint8 or floating point"),
        ([0, 255], "x must be a NumPy array"),
    ],
)
def test_binarize_rejects_bad_input(x, message):
    with pytest.raises(ValueError, match=message):
        binarize(x)


@pytest.mark.parametrize("threshold", [-0.1, 1.5, "0.5", True])
def test_binarize_rejects_bad_threshold(threshold):
    with pytest.raises(ValueError, match="threshold must be"):
        binarize(PIXELS, threshold)


def test_dynamic_binarize_is_bernoulli_and_reproducible():
    x = np.full((200, 28, 28), 64, dtype=np.uint8)  # p = 64 / 255 ~ 0.251
    a = dynamic_binarize(x, rng=0)
    assert a.dtype == np.float32 and a.shape == x.shape
    assert set(np.unique(a)) <= {0.0, 1.0}
    assert abs(a.mean() - 64 / 255) < 0.005  # 156,800 draws: standard error ~0.0011
    np.testing.assert_array_equal(a, dynamic_binarize(x, rng=0))
    np.testing.assert_array_equal(a, dynamic_binarize(x, rng=np.random.default_rng(0)))
    assert not np.array_equal(a, dynamic_binarize(x, rng=1))
    gen = np.random.default_rng(5)
    assert not np.array_equal(dynamic_binarize(x, gen), dynamic_binarize(x, gen))


def test_dynamic_binarize_extremes_and_floats():
    x = np.array([[0, 255]], dtype=np.uint8).repeat(1000, axis=0)
    out = dynamic_binarize(x, rng=3)
    assert (out[:, 0] == 0).all() and (out[:, 1] == 1).all()
    f = np.full(100_000, 0.9)
    assert abs(dynamic_binarize(f, rng=4).mean() - 0.9) < 0.01
    assert dynamic_binarize(PIXELS).shape == PIXELS.shape  # rng=None works


def test_dynamic_binarize_rejects_bad_rng():
    with pytest.raises(ValueError, match="rng must be"):
        dynamic_binarize(PIXELS, rng="seed")
    with pytest.raises(ValueError, match=r"x must hold intensities in \[0, 1\]"):
        dynamic_binarize(np.array([2.0]))


@pytest.mark.parametrize(
    ("layout", "shape"),
    [("NHW", (3, 28, 28)), ("NCHW", (3, 1, 28, 28)), ("NHWC", (3, 28, 28, 1)), ("nchw", None)],
)
def test_flatten_as_images_roundtrip(layout, shape):
    images = np.arange(3 * 28 * 28, dtype=np.int64).reshape(3, 28, 28).astype(np.uint8)
    flat = flatten(images)
    assert flat.shape == (3, 784) and flat.dtype == np.uint8
    np.testing.assert_array_equal(flat[1], images[1].ravel())
    back = as_images(flat, layout=layout)
    assert back.shape == (shape or (3, 1, 28, 28))
    np.testing.assert_array_equal(back.reshape(3, 28, 28), images)
    np.testing.assert_array_equal(flatten(back), flat)


def test_as_images_other_shape_and_from_images():
    x = np.arange(2 * 12).reshape(2, 12)
    out = as_images(x, shape=(3, 4))
    assert out.shape == (2, 3, 4) and out[1, 2, 3] == 23
    assert as_images(out, shape=(3, 4), layout="NHWC").shape == (2, 3, 4, 1)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: flatten(np.zeros(784)), r"x must have shape \[n, H, W\]"),
        (lambda: flatten(np.zeros((2, 784))), r"got shape \(2, 784\)"),
        (lambda: flatten([[1, 2]]), "x must be an array of shape"),
        (lambda: as_images(np.zeros((2, 783))), r"x must have shape \[n, 784\]"),
        (lambda: as_images(np.zeros(784)), r"x must have shape \[n, 784\]"),
        (lambda: as_images([[0] * 784]), "x must be an array"),
        (lambda: as_images(np.zeros((2, 784)), layout="NWH"), "layout must be one of"),
        (lambda: as_images(np.zeros((2, 784)), shape=(28,)), "shape must be"),
        (lambda: as_images(np.zeros((2, 784)), shape=(0, 28)), "shape must be positive"),
    ],
)
def test_shape_errors_name_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_check_images():
    x = np.zeros((3, 28, 28), dtype=np.uint8)
    _, y = check_images(x, [0, 1, 2])
    assert y.dtype == np.int64
    assert check_images(x)[1] is None
    with pytest.raises(ValueError, match=r"images must be a uint8 NumPy array \[n, H, W\]"):
        check_images(x.astype(np.float32))
    with pytest.raises(ValueError, match=r"labels must be integers of shape \[3\]"):
        check_images(x, [0, 1])
    with pytest.raises(ValueError, match="labels must be integers"):
        check_images(x, [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="at least one image"):
        check_images(x[:0])
