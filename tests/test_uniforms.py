"""coursekit.common.uniforms.UniformStream: the uniforms behind every Bernoulli draw of the RBMs.

Checked against what the module promises: float32 values ``k * 2**-23`` in [0, 1), the
uniform distribution (a Kolmogorov-Smirnov test and the low bits of the mantissa), a stream
that a seed and a saved state repeat, and a buffer (``out=``) that changes nothing but where
the numbers land.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from coursekit.common.uniforms import UniformStream


def test_values_are_float32_multiples_of_2_to_the_minus_23_in_the_unit_interval():
    u = UniformStream(0).draw(100_001)  # odd: half of the last 64-bit word is unused
    assert u.dtype == np.float32 and u.shape == (100_001,) and u.flags.c_contiguous
    assert u.min() >= 0.0 and u.max() < 1.0
    k = u.astype(np.float64) * 2.0**23
    np.testing.assert_array_equal(k, np.round(k))


def test_the_numbers_are_uniform():
    u = UniformStream(1).draw(200_000).astype(np.float64)
    assert stats.kstest(u, "uniform").pvalue > 1e-4
    # The lowest mantissa bits are as random as the highest: each is 1 half of the time
    # (binomial standard error 0.0011; 5 of them is well beyond chance).
    k = (u * 2.0**23).astype(np.int64)
    for bit in (0, 1, 11, 22):
        assert abs(((k >> bit) & 1).mean() - 0.5) < 0.0056
    # Consecutive numbers are uncorrelated (the two halves of one 64-bit word included).
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.012
    assert abs(np.corrcoef(u[0::2], u[1::2])[0, 1]) < 0.012


def test_a_bernoulli_draw_has_the_right_rate():
    u = UniformStream(2).draw(400_000)
    for p in (0.001, 0.13, 0.5, 0.97):
        rate = float((u < np.float32(p)).mean())
        assert abs(rate - p) < 5 * np.sqrt(p * (1 - p) / u.size)


def test_seed_and_state_repeat_the_stream():
    a, b = UniformStream(7), UniformStream(7)
    np.testing.assert_array_equal(a.draw(1000), b.draw(1000))
    assert not np.array_equal(UniformStream(7).draw(1000), UniformStream(8).draw(1000))
    saved = a.state
    first = a.draw(333)
    c = UniformStream(0)
    c.state = saved
    np.testing.assert_array_equal(c.draw(333), first)


def test_out_gives_the_same_numbers_and_advances_the_same():
    plain, buffered = UniformStream(3), UniformStream(3)
    buf = np.empty(1001, dtype=np.float32)
    for n in (1001, 1001):
        got = buffered.draw(n, out=buf)
        assert got is not None and np.shares_memory(got, buf)
        np.testing.assert_array_equal(buf, plain.draw(n))
    np.testing.assert_array_equal(buffered.draw(10), plain.draw(10))


@pytest.mark.parametrize(
    "out",
    [np.empty(10, np.float64), np.empty(11, np.float32), np.empty((2, 5), np.float32),
     np.empty(20, np.float32)[::2]],
)  # fmt: skip
def test_a_bad_out_buffer_is_named(out):
    with pytest.raises(ValueError, match="out must be a C-contiguous float32 array of shape"):
        UniformStream(0).draw(10, out=out)
