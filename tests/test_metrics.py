"""coursekit.metrics: the Fréchet distance against closed forms, FID and coverage on real digits,
the committed classifier (hash, accuracy) and every bad input named."""

from __future__ import annotations

import hashlib
import math
import shutil

import numpy as np
import pytest
from conftest import SHARED_MNIST
from scipy import linalg, ndimage

from coursekit import metrics
from coursekit.data.idx import read_idx
from coursekit.metrics import classifier as clf_mod
from coursekit.metrics import report as report_mod


def _random_spd(rng: np.random.Generator, d: int, scale: float = 1.0) -> np.ndarray:
    a = rng.standard_normal((d, 2 * d))
    return scale * (a @ a.T) / (2 * d) + 1e-3 * np.eye(d)


@pytest.fixture(scope="module")
def real_test() -> tuple[np.ndarray, np.ndarray, str]:
    """Real MNIST test digits in [0, 1] and labels: the shared t10k files if present, else the
    offline test split."""
    if SHARED_MNIST.is_dir():
        x = read_idx(SHARED_MNIST / "t10k-images-idx3-ubyte.gz")
        y = read_idx(SHARED_MNIST / "t10k-labels-idx1-ubyte.gz")
        return x.astype(np.float32) / 255, y, "shared"
    import warnings

    from coursekit import data

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", data.DataFallbackWarning)  # offline: the 1,000 digits
        x, y = data.load_mnist("test")
    return x.astype(np.float32) / 255, y, data.source("mnist", "test")


# --------------------------------------------------------------------------- Fréchet distance


def test_frechet_is_zero_for_identical_statistics_and_symmetric():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.standard_normal(20), rng.standard_normal(20)
    s1, s2 = _random_spd(rng, 20), _random_spd(rng, 20, scale=3.0)
    assert metrics.frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-9)
    d12 = metrics.frechet_distance(mu1, s1, mu2, s2)
    assert d12 > 1.0
    assert metrics.frechet_distance(mu2, s2, mu1, s1) == pytest.approx(d12, rel=1e-10)


def test_frechet_matches_the_closed_form_for_commuting_covariances():
    # S1 = Q diag(a) Q^T and S2 = Q diag(b) Q^T commute, so
    # d^2 = |mu1 - mu2|^2 + sum_i (sqrt(a_i) - sqrt(b_i))^2 exactly.
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    a, b = rng.uniform(0.1, 4.0, 6), rng.uniform(0.1, 4.0, 6)
    mu1, mu2 = rng.standard_normal(6), rng.standard_normal(6)
    exact = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    got = metrics.frechet_distance(mu1, q @ np.diag(a) @ q.T, mu2, q @ np.diag(b) @ q.T)
    assert got == pytest.approx(exact, rel=1e-10)
    # one dimension: (m1 - m2)^2 + (s1 - s2)^2
    assert metrics.frechet_distance([1.0], [[4.0]], [-2.0], [[9.0]]) == pytest.approx(9.0 + 1.0)


def test_frechet_matches_the_textbook_formula_for_general_covariances():
    rng = np.random.default_rng(2)
    s1, s2 = _random_spd(rng, 8), _random_spd(rng, 8, scale=2.0)
    mu1, mu2 = rng.standard_normal(8), rng.standard_normal(8)
    textbook = (
        np.sum((mu1 - mu2) ** 2)
        + np.trace(s1)
        + np.trace(s2)
        - 2 * np.trace(linalg.sqrtm(s1 @ s2)).real
    )
    assert metrics.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(textbook, rel=1e-8)


def test_frechet_of_sample_statistics_approaches_the_exact_value():
    rng = np.random.default_rng(3)
    exact = 1.0**2 + (math.sqrt(2.0) - 1.0) ** 2  # N(0, 1) against N(1, 2) in 1-D
    x = rng.normal(0.0, 1.0, (200_000, 1))
    y = rng.normal(1.0, math.sqrt(2.0), (200_000, 1))
    got = metrics.frechet_distance(*metrics.gaussian_stats(x), *metrics.gaussian_stats(y))
    assert got == pytest.approx(exact, abs=0.02)


def test_frechet_rejects_bad_statistics():
    with pytest.raises(ValueError, match="shape"):
        metrics.frechet_distance(np.zeros(3), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="NaN"):
        metrics.frechet_distance(np.array([np.nan]), np.eye(1), np.zeros(1), np.eye(1))
    with pytest.raises(ValueError, match="symmetric"):
        metrics.frechet_distance(
            np.zeros(2), np.array([[1.0, 0.5], [0.0, 1.0]]), np.zeros(2), np.eye(2)
        )
    with pytest.raises(ValueError, match="dimensions"):
        metrics.frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))


# --------------------------------------------------------------------------- the classifier


def test_committed_weights_load_and_their_hash_is_checked(tmp_path):
    for dataset in metrics.classifier.DATASETS:
        record = metrics.classifier_record(dataset)
        path = clf_mod.weights_path(dataset)
        assert path.stat().st_size < 1_000_000
        assert hashlib.sha256(path.read_bytes()).hexdigest() == record["sha256"]
        assert isinstance(metrics.load_classifier(dataset), metrics.NumpyClassifier)
    damaged = tmp_path / "mnist_cnn.npz"
    shutil.copy(clf_mod.weights_path("mnist"), damaged)
    payload = bytearray(damaged.read_bytes())
    payload[len(payload) // 2] ^= 0xFF
    damaged.write_bytes(bytes(payload))
    with pytest.raises(metrics.WeightsError, match="mnist_cnn.npz.*SHA-256"):
        metrics.NumpyClassifier.from_file(damaged, sha256=metrics.classifier_record()["sha256"])
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file at all")
    with pytest.raises(metrics.WeightsError, match="garbage.npz"):
        metrics.NumpyClassifier.from_file(garbage)
    with pytest.raises(metrics.WeightsError, match="shape"):
        metrics.NumpyClassifier({**metrics.load_classifier().weights, "fc2_w": np.zeros((3, 3))})


@pytest.mark.slow
def test_classifier_accuracy_on_real_test_digits_holds_its_record(real_test):
    x, y, where = real_test
    record = metrics.classifier_record("mnist")
    acc = float(np.mean(metrics.load_classifier().predict(x) == y))
    # The record is measured on the 10,000 real test digits; the 1,000 offline ones are a
    # smaller sample of the same distribution (binomial sd ~ 0.5%), hence the wider margin.
    margin = 0.002 if where == "shared" else 0.02
    assert record["test_accuracy"] >= 0.97
    assert acc >= record["test_accuracy"] - margin, (acc, where)


@pytest.mark.slow
def test_fashion_classifier_accuracy_holds_its_record():
    from coursekit import data

    if data.source("fashion_mnist", "test").startswith("unavailable"):
        pytest.skip("Fashion-MNIST is not installed (apt install dataset-fashion-mnist)")
    x, y = data.load_fashion_mnist("test")
    acc = float(np.mean(metrics.load_classifier("fashion_mnist").predict(x / 255) == y))
    assert acc >= metrics.classifier_record("fashion_mnist")["test_accuracy"] - 0.002


def test_numpy_forward_pass_equals_the_torch_model_on_the_same_weights():
    import torch

    from coursekit.torch.classifier import DigitCNN, export_weights

    torch.manual_seed(0)
    model = DigitCNN().eval()
    for bn in (model.bn1, model.bn2, model.bn3):  # non-trivial statistics to fold
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.data.uniform_(0.5, 1.5)
        bn.bias.data.uniform_(-0.2, 0.2)
    x = np.random.default_rng(0).random((23, 28, 28), dtype=np.float32)
    with torch.no_grad():
        xt = torch.from_numpy(x)[:, None]
        feats_t, logits_t = model.features(xt).numpy(), model(xt).numpy()
    feats, logits = metrics.NumpyClassifier(export_weights(model)).features_and_logits(x, 10)
    np.testing.assert_allclose(feats, feats_t, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(logits, logits_t, rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------------- FID and coverage


@pytest.mark.slow
def test_fid_of_two_halves_of_real_digits_is_small_and_grows_with_noise_and_blur(real_test):
    x, _, _ = real_test
    n = min(len(x) // 2, 2000)
    a, b = x[:n], x[n : 2 * n]
    base = metrics.classifier_fid(a, reference=b)
    noisy = [
        metrics.classifier_fid(
            np.clip(a + s * np.random.default_rng(0).standard_normal(a.shape), 0, 1), reference=b
        )
        for s in (0.1, 0.2, 0.4)
    ]
    blurred = [
        metrics.classifier_fid(ndimage.gaussian_filter(a, (0, s, s)), reference=b)
        for s in (0.5, 1.0, 2.0)
    ]
    assert base < noisy[0] < noisy[1] < noisy[2]
    assert base < blurred[0] < blurred[1] < blurred[2]
    assert noisy[-1] > 10 * base and blurred[-1] > 10 * base


@pytest.mark.slow
def test_class_coverage_of_one_digit_and_of_real_digits(real_test):
    x, y, _ = real_test
    three = x[y == 3][:20]
    three = three[metrics.load_classifier().predict(three) == 3][:1]  # a 3 the classifier knows
    cov = metrics.class_coverage(np.repeat(three, 600, axis=0))
    assert cov.n_classes == 1 and cov.entropy == pytest.approx(0.0)
    assert cov.histogram[3] == 1.0 and cov.counts[3] == 600
    real = metrics.class_coverage(x)
    assert real.n_classes == 10
    assert real.entropy > 0.99 * math.log(10)
    assert real.confidence > 0.9
    assert real.counts.sum() == len(x)


def test_sample_report_carries_everything_and_prints_a_table(real_test):
    x, _, _ = real_test
    n = min(len(x) // 2, 2000)
    rep = metrics.sample_report(x[:n], "real digits", reference=x[n : 2 * n])
    assert rep.n_samples == n
    assert rep.fid == pytest.approx(metrics.classifier_fid(x[:n], reference=x[n : 2 * n]))
    assert rep.coverage.n_classes == 10
    text = str(rep)
    assert "real digits" in text and f"{rep.fid:.2f}" in text and "10 / 10" in text
    assert f"{n:,} reference images" in text
    assert rep.as_dict()["n_classes"] == 10


def test_reference_statistics_default_to_the_test_split_and_are_cached_by_source(
    monkeypatch, tmp_path
):
    report_mod._MEMO.clear()
    monkeypatch.setenv("COURSEKIT_DATA", str(tmp_path / "cache"))  # offline: the fallback split
    mu, cov, n, what = metrics.reference_stats()
    assert n == 1000 and "offline fallback" in what
    files = list((tmp_path / "cache" / "metrics").glob("reference-mnist-*.npz"))
    assert len(files) == 1
    report_mod._MEMO.clear()
    mu2, cov2, _, _ = metrics.reference_stats()  # read back from disk
    np.testing.assert_array_equal(mu, mu2)
    np.testing.assert_array_equal(cov, cov2)
    if SHARED_MNIST.is_dir():  # another source, another entry
        report_mod._MEMO.clear()
        monkeypatch.setenv("COURSEKIT_DATA", str(SHARED_MNIST))
        monkeypatch.setattr(
            report_mod,
            "_cache_file",
            lambda key: tmp_path / "cache" / "metrics" / f"reference-{key}.npz",
        )
        _, _, n_real, what_real = metrics.reference_stats()
        assert n_real == 10_000 and "real" in what_real
        assert len(list((tmp_path / "cache" / "metrics").glob("*.npz"))) == 2
    report_mod._MEMO.clear()


@pytest.mark.parametrize(
    ("images", "match"),
    [
        (np.random.default_rng(0).uniform(-1, 1, (600, 28, 28)), r"\[-1, 1\].*\(x \+ 1\) / 2"),
        (np.random.default_rng(0).uniform(0, 255, (600, 784)), r"0-255.*x / 255"),
        (np.zeros((600, 27, 27)), r"shape \[n, 28, 28\] or \[n, 784\].*\(600, 27, 27\)"),
        (np.zeros((600, 28, 28, 3)), r"\(600, 28, 28, 3\)"),
        (np.full((600, 784), np.nan), "NaN"),
        (np.zeros((100, 784)), "100 images; at least 500"),
        ("digits", "dtype"),
    ],
)
def test_bad_samples_get_one_clear_error(images, match):
    with pytest.raises(ValueError, match=match):
        metrics.classifier_fid(images)


def test_other_bad_arguments_are_named():
    x = np.zeros((600, 784), dtype=np.float32)
    with pytest.raises(ValueError, match="dataset"):
        metrics.classifier_fid(x, dataset="cifar")
    with pytest.raises(ValueError, match="min_share"):
        metrics.class_coverage(x, min_share=0)
    with pytest.raises(ValueError, match="reference has 1 images"):
        metrics.classifier_fid(x, reference=x[:1])
    # fewer samples are allowed when the caller says so
    assert metrics.classifier_fid(x[:50], reference=x, min_samples=10) >= 0


def test_tensors_are_accepted():
    import torch
    x = np.random.default_rng(0).random((40, 1, 28, 28), dtype=np.float32)
    got = metrics.class_coverage(torch.from_numpy(x))
    assert got.counts.sum() == 40


def test_load_classifier_is_one_object_per_dataset_however_it_is_named():
    assert metrics.load_classifier() is metrics.load_classifier("mnist")
    assert metrics.load_classifier("fashion_mnist") is not metrics.load_classifier()
    with pytest.raises(ValueError, match="dataset must be one of"):
        metrics.load_classifier("cifar10")


@pytest.mark.parametrize("bad", [-5, 0, 2.5, True, "10"])
def test_a_bad_min_samples_is_named(bad):
    x = np.full((20, 784), 0.5, np.float32)
    with pytest.raises(ValueError, match=r"min_samples \(the fewest images accepted\) must be "
                       r"an int >= 1, got"):
        metrics.classifier_fid(x, reference=x, min_samples=bad)


def test_ink_score_is_the_trivial_ood_baseline():
    """Minus the mean pixel value: dark images score as digit-like, and its AUC does not depend
    on the pixel range (an increasing map of the pixels keeps every order)."""
    from coursekit.metrics.ood import ink_score, roc_auc

    rng = np.random.default_rng(0)
    dark = rng.uniform(0.0, 0.3, (40, 28, 28))
    bright = rng.uniform(0.2, 0.9, (30, 1, 28, 28))
    assert ink_score(dark).shape == (40,)
    np.testing.assert_allclose(ink_score(dark), -dark.reshape(40, -1).mean(1))
    assert roc_auc(ink_score(dark), ink_score(bright)) == 1.0
    assert roc_auc(ink_score(2 * dark - 1), ink_score(2 * bright - 1)) == 1.0
    assert roc_auc(ink_score(dark), ink_score(dark)) == 0.5
    for bad in (np.zeros(5), np.zeros((0, 4)), np.full((2, 3), np.nan)):
        with pytest.raises(ValueError, match="images"):
            ink_score(bad)


# --------------------------------------------------------------------------- bad input, named


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: metrics.frechet_distance("a", 1, 2, 3), r"^first Gaussian: the mean must be a "
         r"vector \[d\] \(numbers\), got dtype <U1"),
        (lambda: metrics.frechet_distance(None, None, None, None), "^first Gaussian: the mean "
         "must be a vector"),
        (lambda: metrics.frechet_distance(np.zeros(2), np.full((2, 2), np.nan), np.zeros(2),
                                          np.eye(2)), "^first Gaussian: the covariance holds 4 "
         "NaN or infinite values"),
        (lambda: metrics.gaussian_stats("abc"), r"^features must be a matrix \[n, d\] with "
         r"n >= 2 \(numbers\), got dtype <U3"),
        (lambda: metrics.gaussian_stats(np.full((4, 3), np.nan)), "^features holds 12 NaN or "
         "infinite values"),
        (lambda: metrics.gaussian_stats(np.zeros((1, 3))), r"^features must be \[n, d\] with "
         r"n >= 2, got shape \(1, 3\)"),
    ],
)
def test_the_frechet_maths_names_its_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (np.zeros((3, 30)), r"^x must have shape \[n, 28, 28\] or \[n, 784\] .*got \(3, 30\)"),
        (np.full((3, 784), 255, np.uint8), r"^x must lie in \[0, 1\], got values in \[255, 255\];"
         r" they look like 0-255 pixel values: pass x / 255"),
        (np.full((3, 784), np.nan), "^x holds 2352 NaN or infinite values"),
        (-np.ones((3, 28, 28)), r"^x must lie in \[0, 1\], .*pass \(x \+ 1\) / 2"),
        ("abc", "^x must hold numbers, got dtype <U3"),
    ],
)
def test_the_classifier_refuses_what_the_metrics_refuse(x, message):
    """``load_classifier().predict`` used to give a reshape error, or answer on uint8 pixels and
    NaN as if they were images."""
    clf = metrics.load_classifier()
    for method in (clf.predict, clf.predict_proba, clf.features):
        with pytest.raises(ValueError, match=message):
            method(x)
    with pytest.raises(ValueError, match=r"^batch_size \(images per forward pass\) must be an "
                       "int >= 1, got 0"):
        clf.features_and_logits(np.zeros((2, 784), np.float32), batch_size=0)


def test_min_share_and_the_report_name_are_checked():
    x = np.full((4, 784), 0.5, np.float32)
    for bad in (True, 0, 1.5, math.nan, "0.1", None):
        with pytest.raises(ValueError, match=r"^min_share \(the share of samples a class needs "
                           r"to count as covered\) must be a finite number in \(0, 1\], got"):
            metrics.class_coverage(x, min_share=bad)
    assert metrics.class_coverage(x, min_share=np.float32(0.5)).min_share == 0.5
    with pytest.raises(ValueError, match=r"^name \(what the samples are, for the title\) must be "
                       "a str such as 'RBM, Gibbs', got int 5"):
        metrics.sample_report(x, 5, reference=x, min_samples=2)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda ood: ood.roc_auc("abc", [1.0]), r"^scores_in must be a non-empty vector of "
         r"scores \[n\], one per image \(numbers\), got dtype <U3"),
        (lambda ood: ood.roc_auc(None, [1.0]), "^scores_in must be a non-empty vector"),
        (lambda ood: ood.roc_auc(np.zeros((3, 4)), [1.0]), r"^scores_in must be a non-empty "
         r"vector of scores \[n\], one per image, got shape \(3, 4\)"),
        (lambda ood: ood.roc_auc(1.0, [1.0]), r"^scores_in .*got shape \(\)"),
        (lambda ood: ood.roc_auc([1.0], []), r"^scores_out .*got shape \(0,\)"),
        (lambda ood: ood.roc_curve([1.0], [np.inf]), "^scores_out holds 1 NaN or infinite"),
        (lambda ood: ood.ink_score("abc"), r"^images must be a non-empty batch of images "
         r"\[n, ...\] of pixels \(numbers\), got dtype <U3"),
        (lambda ood: ood.ink_score([[1, "a"]]), r"^images must be .*\(numbers\)"),
        (lambda ood: ood.ink_score(np.zeros(5)), r"^images must be .*got shape \(5,\)"),
    ],
)
def test_the_ood_score_and_its_auc_name_bad_input(call, message):
    """A matrix of scores was flattened into more scores, a string gave NumPy's message."""
    from coursekit.metrics import ood

    with pytest.raises(ValueError, match=message):
        call(ood)


def test_the_ood_helpers_take_tensors_and_a_column_of_scores():
    import torch

    from coursekit.metrics.ood import ink_score, roc_auc

    scores = torch.tensor([3.0, 2.0], requires_grad=True)  # energies straight from a model
    assert roc_auc(-scores, torch.tensor([[0.0], [1.0]])) == 0.0  # [n, 1]: a column
    images = torch.zeros(2, 1, 28, 28, requires_grad=True)
    np.testing.assert_array_equal(ink_score(images), [0.0, 0.0])
