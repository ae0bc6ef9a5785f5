"""Toy data sets: bars and stripes."""

from __future__ import annotations

import numpy as np
import pytest

from coursekit.data.toy import bars_and_stripes, bars_and_stripes_distribution
from coursekit.reference.rbm import all_states, state_index


def _is_bar_or_stripe(img):
    rows_constant = np.all(img == img[:, :1], axis=1).all()  # stripes: each row all on/off
    cols_constant = np.all(img == img[:1, :], axis=0).all()  # bars: each column all on/off
    return rows_constant or cols_constant


@pytest.mark.parametrize("n, count", [(1, 2), (2, 6), (3, 14), (4, 30)])
def test_bars_and_stripes(n, count):
    x = bars_and_stripes(n)
    assert x.dtype == np.uint8 and x.shape == (count, n * n) == (2 ** (n + 1) - 2, n * n)
    assert len(np.unique(x, axis=0)) == count
    assert all(_is_bar_or_stripe(row.reshape(n, n)) for row in x)
    idx = state_index(x)
    assert np.all(np.diff(idx) > 0)  # sorted in all_states order
    # Every bar/stripe image among all n*n binary images is present (n <= 3: enumerate them).
    if n <= 3:
        every = all_states(n * n)
        mask = [_is_bar_or_stripe(s.reshape(n, n)) for s in every]
        np.testing.assert_array_equal(x, every[mask])


def test_bars_and_stripes_2x2_explicit():
    expected = [
        [0, 0, 0, 0],
        [0, 0, 1, 1],  # bottom row on (stripe)
        [0, 1, 0, 1],  # right column on (bar)
        [1, 0, 1, 0],
        [1, 1, 0, 0],
        [1, 1, 1, 1],
    ]
    np.testing.assert_array_equal(bars_and_stripes(2), expected)


def test_bars_and_stripes_distribution():
    p = bars_and_stripes_distribution(3)
    assert p.shape == (512,) and p.dtype == np.float64
    assert p.sum() == pytest.approx(1.0)
    assert np.count_nonzero(p) == 14
    np.testing.assert_allclose(p[state_index(bars_and_stripes(3))], 1 / 14)
    np.testing.assert_array_equal(np.flatnonzero(p), state_index(bars_and_stripes(3)))


@pytest.mark.parametrize("n", [0, -1, 2.0, 9])
def test_bad_n(n):
    with pytest.raises(ValueError, match="n"):
        bars_and_stripes(n)


def test_distribution_size_limit():
    with pytest.raises(ValueError, match="n"):
        bars_and_stripes_distribution(5)
