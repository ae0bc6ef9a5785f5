"""How much of the label a model's codes keep: a k-nearest-neighbour vote in the code space.

A VAE's decoder sees only the code ``mu(x)``, so its reconstructions cannot keep more of the
images' labels than the codes do. :func:`neighbour_accuracy` measures what the codes hold:
each test code gets the majority label of its ``k`` nearest training codes (Euclidean
distance), and the result is the share of test codes whose vote is right. Labels are used only
here, never in training. NumPy only; the distances are computed in blocks of test codes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from coursekit.checks import check_int, check_numbers

__all__ = ["neighbour_accuracy", "neighbour_labels"]


def _labels(y: Any, name: str, n: int, codes_name: str) -> np.ndarray:
    y = check_numbers(y, name, "integer labels [n]", ndim=1)
    if not np.array_equal(y, np.round(y)) or y.min() < 0:
        raise ValueError(f"{name} must be integer labels >= 0 [n], got values such as "
                         f"{y[(y != np.round(y)) | (y < 0)][0]!r}")  # fmt: skip
    if len(y) != n:
        raise ValueError(f"{name} has {len(y)} labels but {codes_name} has {n} codes: "
                         "they must match one to one")  # fmt: skip
    return y.astype(np.int64)


def neighbour_labels(
    train_codes: Any, train_labels: Any, codes: Any, *, k: int = 5, block: int = 1024
) -> np.ndarray:
    """The majority label [m] of the ``k`` nearest of ``train_codes`` [n, d] for each of
    ``codes`` [m, d]; ``train_labels`` [n] are integers >= 0.

    A tie between labels goes to the smallest label (as scikit-learn's ``KNeighborsClassifier``
    does); a tie in distance keeps the training code that comes first.
    """
    train = check_numbers(train_codes, "train_codes", "codes [n, latent_dim]", ndim=2)
    labels = _labels(train_labels, "train_labels", len(train), "train_codes")
    query = check_numbers(codes, "codes", "codes [m, latent_dim]", ndim=2)
    if query.shape[1] != train.shape[1]:
        raise ValueError(f"codes have {query.shape[1]} dimensions but train_codes have "
                         f"{train.shape[1]}: encode both with the same model")  # fmt: skip
    k = check_int(k, "k", 1, "neighbours per vote")
    if k > len(train):
        raise ValueError(f"k (neighbours per vote) must be at most the {len(train)} training "
                         f"codes, got {k}")  # fmt: skip
    block = check_int(block, "block", 1, "test codes per distance block")
    n_labels = int(labels.max()) + 1
    out = np.empty(len(query), dtype=np.int64)
    sq_train = (train**2).sum(axis=1)
    for i in range(0, len(query), block):
        q = query[i : i + block]
        d2 = (q**2).sum(axis=1)[:, None] - 2.0 * q @ train.T + sq_train[None, :]
        nearest = np.argsort(d2, axis=1, kind="stable")[:, :k]
        votes = np.zeros((len(q), n_labels), dtype=np.int64)
        np.add.at(votes, (np.arange(len(q))[:, None], labels[nearest]), 1)
        out[i : i + block] = votes.argmax(axis=1)  # argmax: the smallest label on a tie
    return out


def neighbour_accuracy(
    train_codes: Any, train_labels: Any, codes: Any, labels: Any, *, k: int = 5
) -> float:
    """The share of ``codes`` [m, d] whose ``k``-nearest-neighbour vote among
    ``train_codes`` [n, d] (labels ``train_labels`` [n]) gives their own ``labels`` [m]."""
    query = check_numbers(codes, "codes", "codes [m, latent_dim]", ndim=2)
    truth = _labels(labels, "labels", len(query), "codes")
    return float(np.mean(neighbour_labels(train_codes, train_labels, query, k=k) == truth))
