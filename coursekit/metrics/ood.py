"""Out-of-distribution detection by a score: the ROC curve and its area, in NumPy.

An EBM gives every image an energy; low energy should mean "looks like the training data".
Using ``-E`` as the score for "in distribution", the area under the ROC curve is the chance that
a random in-distribution image scores higher than a random out-of-distribution one (ties count
one half): 1 separates perfectly, 0.5 is guessing.

A detector's AUC means little alone: :func:`ink_score`, minus the mean pixel value ("digits
are mostly background"), is the trivial baseline it has to beat.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from coursekit.checks import check_numbers, to_numpy

__all__ = ["ink_score", "roc_auc", "roc_curve"]


def _scores(x: Any, name: str) -> np.ndarray:
    """One score per image: a non-empty vector [n] of finite numbers (``[n, 1]`` is taken as
    ``[n]``); a matrix is refused rather than flattened into more scores."""
    try:
        arr = to_numpy(x)
    except (TypeError, ValueError, RuntimeError):
        arr = np.asarray(None)
    if arr.ndim == 2 and arr.shape[1:] == (1,):
        arr = arr[:, 0]
    return check_numbers(arr, name, "a non-empty vector of scores [n], one per image", ndim=1)


def roc_auc(scores_in: Any, scores_out: Any) -> float:
    """Area under the ROC curve for "higher score = in distribution" (Mann-Whitney U / n1 n2)."""
    a, b = _scores(scores_in, "scores_in"), _scores(scores_out, "scores_out")
    both = np.concatenate([a, b])
    order = np.argsort(both, kind="mergesort")
    ranks = np.empty(len(both))
    sorted_vals = both[order]
    # average ranks over ties
    _, first, counts = np.unique(sorted_vals, return_index=True, return_counts=True)
    avg = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    u = ranks[: len(a)].sum() - len(a) * (len(a) + 1) / 2.0
    return float(u / (len(a) * len(b)))


def roc_curve(scores_in: Any, scores_out: Any) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates over all thresholds (for plotting), each [k]."""
    a, b = _scores(scores_in, "scores_in"), _scores(scores_out, "scores_out")
    thresholds = np.unique(np.concatenate([a, b, [np.inf]]))[::-1]
    tpr = np.array([(a >= t).mean() for t in thresholds])
    fpr = np.array([(b >= t).mean() for t in thresholds])
    return fpr, tpr


def ink_score(images: Any) -> np.ndarray:
    """The trivial "is this a digit?" score: minus each image's mean pixel value, ``[n]``.

    ``images`` [n, ...] in any one pixel range (the AUC does not change under an increasing
    map of the pixels): less ink scores as more digit-like. An OOD detector that does not beat
    this score's AUC has learned nothing about digits beyond how much of the image is dark.
    """
    arr = check_numbers(images, "images", "a non-empty batch of images [n, ...] of pixels")
    if arr.ndim < 2:
        raise ValueError(f"images must be a non-empty batch of images [n, ...] of pixels, got "
                         f"shape {arr.shape}")  # fmt: skip
    return -arr.reshape(len(arr), -1).mean(axis=1)
