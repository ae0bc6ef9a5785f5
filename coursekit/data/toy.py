"""Tiny binary data sets whose distributions can be enumerated exactly (week 1, RBMs).

The bit order of every distribution here is the one defined in
:mod:`coursekit.reference.rbm_exact`
(:func:`~coursekit.reference.rbm_exact.all_states`: first pixel = most significant bit).
"""

from __future__ import annotations

import numpy as np

from coursekit.reference.rbm_exact import MAX_ENUMERATION_UNITS, state_index

__all__ = ["bars_and_stripes", "bars_and_stripes_distribution"]


def _check_n(n, limit):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= limit:
        raise ValueError(f"n must be an int in 1..{limit}, got {n!r}")
    return int(n)


def bars_and_stripes(n=3):
    """All distinct n x n bars-and-stripes images -> uint8 [2**(n+1) - 2, n*n].

    A *stripes* image has every row all on or all off, a *bars* image every column. Each family
    has 2**n members; the all-off and all-on images belong to both and are counted once, hence
    ``2**(n+1) - 2`` images (14 for n = 3). Images are flattened row-major and sorted in
    :func:`~coursekit.reference.rbm_exact.all_states` order (ascending state index).
    ``1 <= n <= 8``.
    """
    n = _check_n(n, 8)
    codes = ((np.arange(1 << n)[:, None] >> np.arange(n - 1, -1, -1)) & 1).astype(np.uint8)
    stripes = np.repeat(codes[:, :, None], n, axis=2)  # [2**n, row, col]: row i = code_i
    bars = np.repeat(codes[:, None, :], n, axis=1)  # column j = code_j
    images = np.concatenate([stripes, bars]).reshape(-1, n * n)
    # Lexicographic row order with the first pixel most significant = all_states order.
    return np.unique(images, axis=0)


def bars_and_stripes_distribution(n=3):
    """Uniform distribution over :func:`bars_and_stripes` ``(n)`` -> float64 [2**(n*n)].

    Indexed in :func:`~coursekit.reference.rbm_exact.all_states` order; ``n*n <= 24``, so
    ``n <= 4``.
    """
    n = _check_n(n, int(np.sqrt(MAX_ENUMERATION_UNITS)))
    patterns = bars_and_stripes(n)
    p = np.zeros(1 << (n * n))
    p[state_index(patterns)] = 1.0 / len(patterns)
    return p
