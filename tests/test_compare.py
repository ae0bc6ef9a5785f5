"""Week 5's comparison at one n: records of real digits, the PCA + GMM baseline, mixed-n refusal."""

from __future__ import annotations

import io
import json
import math
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from coursekit import data, metrics
from coursekit.course import families, results
from coursekit.course.families import baseline as bl


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    """The training digits as the tests' loader gives them (offline: 4,000), uint8 [N, 28, 28]."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return data.load_mnist("train")[0]


@pytest.fixture(scope="module")
def small_baseline(digits) -> bl.PCAGaussianMixture:
    return bl.fit_pca_gmm(digits[:600], n_components=10, n_mixture=3, seed=0)


def _record(folder, key, family, images, *, drawn=None, sample_seconds=1.0, **extra):
    return results.record(key, family=family, model=f"{family} model", framework="PyTorch",
                          train_seconds=10.0, sample_seconds=sample_seconds, samples=images,
                          folder=folder, **extra)


def _legacy(folder, key, family, images):
    """A record as written before the common n: 64 samples, no samples_drawn / samples_kept."""
    path = _record(folder, key, family, images[:64])
    row = json.loads(path.read_text())
    del row["samples_drawn"], row["samples_kept"]
    path.write_text(json.dumps(row))


# --------------------------------------------------------------------------- the records


def test_records_keep_n_compare_samples_compactly_and_say_how_many(tmp_path, digits):
    assert results.N_KEPT_SAMPLES == results.N_COMPARE == 500
    x = digits[:700].astype(np.float32) / 255.0
    _record(tmp_path, "week4_gan_pytorch", "GAN", x)
    (row,) = results.collect(tmp_path)
    assert (row["samples_drawn"], row["samples_kept"]) == (700, 500)
    back = results.load_samples(row)
    np.testing.assert_array_equal(back, x[:500])  # real digits are exact in 8 bits
    with np.load(tmp_path / row["sample_file"]) as f:
        assert f["images"].dtype == np.uint8 and f["images"].shape == (500, 28, 28)
    info = __import__("zipfile").ZipFile(tmp_path / row["sample_file"]).infolist()
    assert info[0].compress_type == 8  # deflated: savez_compressed
    assert (tmp_path / row["sample_file"]).stat().st_size < 500 * 784 / 2


def test_seconds_per_sample_divides_by_the_samples_timed(tmp_path, digits):
    x = digits[:1000].astype(np.float32) / 255.0
    _record(tmp_path, "a", "VAE", x, sample_seconds=2.0)
    (row,) = results.collect(tmp_path)
    assert families.seconds_per_sample(row) == 2.0 / 1000  # all drawn, not the 500 kept
    old = {"sample_seconds": 3.0, "samples": {"n_samples": 1500}}  # a record before the field
    assert families.seconds_per_sample(old) == 3.0 / 1500
    assert families.seconds_per_sample({"sample_seconds": None}) is None


def test_subsample_is_exact_at_n_and_a_fixed_seed_choice_above(digits):
    x = digits[:600]
    assert families.subsample(x[:500], 500) is not None
    np.testing.assert_array_equal(families.subsample(x[:500], 500), x[:500])
    a, b = families.subsample(x, 500, seed=3), families.subsample(x, 500, seed=3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, families.subsample(x, 500, seed=4))
    with pytest.raises(ValueError, match="cannot take n = 500 of 64"):
        families.subsample(x[:64], 500)


# --------------------------------------------------------------------------- the comparison


def test_every_entry_is_scored_at_one_n_and_a_legacy_record_is_named(tmp_path, digits,
                                                                       small_baseline):
    n = 500
    pick = np.random.default_rng(0).permutation(len(digits))[:n]  # what compare's real row takes
    real = digits[pick].astype(np.float32) / 255.0
    _record(tmp_path, "week1_rbm_pytorch", "RBM", real)  # a "model" drawing real digits
    blurred = 0.5 * digits[1000:1800].astype(np.float32) / 255.0 + 0.25
    _record(tmp_path, "week3_vae_pytorch", "VAE", blurred, sample_seconds=0.01)
    _legacy(tmp_path, "week4_gan_pytorch", "GAN", real)
    rows = families.choose_records(["run"], run=tmp_path, allow_smoke=True).rows
    c = families.compare(rows, n=n, baseline=small_baseline, train_images=digits)
    assert [e.label for e in c.entries] == [
        "RBM, PyTorch", "VAE, PyTorch", "GAN, PyTorch", "PCA + GMM baseline",
        "500 real training digits"]
    assert families.check_same_n(c) == n and {e.n for e in c.entries if e.scored} == {n}
    rbm, vae, gan = c.models
    # the record of real digits scores exactly as the real digits do
    assert rbm.fid == pytest.approx(c.real.fid, abs=1e-9) and rbm.n_classes == c.real.n_classes
    # a record storing more is a fixed-seed subsample, scored as the yardstick scores it
    ref = metrics.sample_report(families.subsample(results.load_samples(rows[1]), n), "x")
    assert vae.fid == pytest.approx(ref.fid) and vae.seconds_per_sample == 0.01 / 800
    # the legacy record: not scored, and said so
    assert not gan.scored and gan.stored == 64 and "written before records kept n = 500" in gan.note
    assert "NOT scored: GAN, PyTorch" in str(c) and "not scored (64 samples stored)" in (
        families.comparison_table(c))
    assert c.baseline.scored and c.baseline.train_seconds == small_baseline.fit_seconds
    table = families.comparison_table(c)
    assert table.count("\n") == 6 and "| p(x|h) means |" in table and "| +0.00 |" in table
    assert f"| {rbm.fid:.2f} |" in table
    # each model row links the lab that wrote its record; the baseline and real rows do not
    assert "| **[VAE, PyTorch](../week3_vae/week3_vae_pytorch.ipynb)** |" in table
    assert "| **PCA + GMM baseline** |" in table and table.count("](../week") == 3
    text = families.buys_text(c)
    assert "**RBM** (best: PyTorch)" in text and "**GAN**: nothing scored at n = 500" in text
    floor, base = c.real.fid, c.baseline.fid
    level = abs(vae.fid - base) < max(2 * floor, 0.1 * (base - floor))
    assert ("level with the baseline" in text) == level
    assert ("does not beat the baseline" in text) == (not level and vae.fid >= base)
    assert "**EBM**: nothing scored" in text
    facts = families.family_facts(c)
    assert f"FID {rbm.fid:.2f}, {rbm.n_classes}/10 classes" in facts
    assert "**GAN**: no score at n = 500 (64 samples stored)" in facts
    # the figures: one marker per scored entry and the floor; the legend outside the axes
    fig = families.quality_vs_cost(c)
    train_ax, sample_ax = fig.axes
    assert len(train_ax.collections) == 3  # RBM, VAE, baseline
    assert [line.get_ydata()[0] for line in train_ax.lines] == [c.real.fid]
    assert "per sample" in sample_ax.get_xlabel() and train_ax.get_legend() is None
    assert "1 of 3 records not scored" in fig.get_suptitle()  # the GAN: 64 stored
    legend = fig.legends[0]
    assert {t.get_text() for t in legend.get_texts()} >= {"RBM", "VAE", "PCA + GMM baseline",
                                                          "500 real digits (the floor)"}
    fig.canvas.draw()  # the legend lies below both panels: it covers no data
    box = legend.get_window_extent()
    assert all(box.y1 <= ax.get_window_extent().y0 for ax in fig.axes)
    hist = families.coverage_histograms(c)
    assert len(hist.axes) == 10 and "not scored" in hist.axes[3].texts[0].get_text()
    grid = families.sample_grids(rows, comparison=c)
    assert grid.axes[0].get_title().startswith("RBM · PyTorch\nFID ")
    assert "not scored at n=500" in grid.axes[3].get_title()
    assert grid.axes[-1].get_title().startswith("PCA + GMM baseline")
    draws = families.bernoulli_draws(c)
    assert [d.label for d in draws] == ["RBM, PyTorch (binary draws)",
                                        "VAE, PyTorch (binary draws)"]
    assert set(np.unique(draws[1].images)) <= {0.0, 1.0} and draws[1].n == n


def test_scores_at_different_n_are_refused(tmp_path, digits, small_baseline):
    _record(tmp_path, "week1_rbm_pytorch", "RBM", digits[:500].astype(np.float32) / 255.0)
    rows = results.collect(tmp_path)
    at_500 = families.compare(rows, n=500, baseline=small_baseline, train_images=digits)
    at_100 = families.compare(rows, n=100, baseline=False, real=False)
    mixed = families.Comparison(n=500, entries=at_500.entries + at_100.entries)
    for show in (families.comparison_table, families.buys_text, families.family_facts,
                 families.quality_vs_cost, families.coverage_histograms):
        with pytest.raises(ValueError, match="FIDs at different sample counts do not compare"):
            show(mixed)
    with pytest.raises(ValueError, match=r"RBM, PyTorch: n = 500; .*RBM, PyTorch: n = 100"):
        families.check_same_n(at_500.entries + at_100.entries)
    assert families.check_same_n([]) is None


def test_a_record_of_a_smoke_run_with_few_samples_is_not_called_old(tmp_path, digits):
    _record(tmp_path, "week2_ebm_pytorch", "EBM", digits[:40].astype(np.float32) / 255.0)
    c = families.compare(results.collect(tmp_path), n=500, baseline=False, real=False)
    assert "the lab drew 40 samples, fewer than n = 500" in c.models[0].note
    with pytest.raises(ValueError, match=r"n \(the sample count of every score\) must be an "
                       "int >= 10, got 5"):
        families.compare([], n=5)


# --------------------------------------------------------------------------- the baseline


def test_one_gaussian_is_the_sample_mean_and_covariance():
    z = np.random.default_rng(0).normal(size=(200, 3)) @ np.array([[2, 0, 0], [1, 1, 0],
                                                                  [0, 0.5, 0.2]])
    gm = bl.fit_gaussian_mixture(z, 1, reg=1e-6)
    np.testing.assert_allclose(gm.weights, [1.0])
    np.testing.assert_allclose(gm.means[0], z.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(gm.covariances[0], np.cov(z.T, bias=True) + 1e-6 * np.eye(3),
                               atol=1e-12)
    # its log-density is the Gaussian's
    from math import log, pi

    cov = gm.covariances[0]
    d = z[:5] - gm.means[0]
    expect = -0.5 * (3 * log(2 * pi) + np.linalg.slogdet(cov)[1]
                     + np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d))
    np.testing.assert_allclose(gm.log_prob(z[:5]), expect, rtol=1e-10)


def test_em_finds_two_separated_clusters_and_never_lowers_the_likelihood():
    rng = np.random.default_rng(1)
    z = np.concatenate([rng.normal(-5, 1, (300, 2)), rng.normal(5, 0.5, (100, 2))])
    gm = bl.fit_gaussian_mixture(z, 2, seed=0)
    order = np.argsort(gm.means[:, 0])
    np.testing.assert_allclose(gm.weights[order], [0.75, 0.25], atol=1e-6)
    np.testing.assert_allclose(gm.means[order, 0], [-5, 5], atol=0.2)
    assert np.all(np.diff(gm.history) > -1e-9) and gm.converged
    with pytest.raises(ValueError, match=r"k \(Gaussians in the mixture\) must be an int in "
                       r"\[1, 400\]"):
        bl.fit_gaussian_mixture(z, 0)


def test_the_baseline_is_reproducible_and_draws_images_in_range(digits, small_baseline):
    again = bl.fit_pca_gmm(digits[:600], n_components=10, n_mixture=3, seed=0)
    np.testing.assert_array_equal(again.sample(20, seed=5), small_baseline.sample(20, seed=5))
    x = small_baseline.sample(50, seed=1)
    assert x.shape == (50, 28, 28) and x.dtype == np.float32 and x.min() >= 0 and x.max() <= 1
    assert not np.array_equal(x, small_baseline.sample(50, seed=2))
    comp = small_baseline.components
    np.testing.assert_allclose(comp @ comp.T, np.eye(10), atol=1e-8)  # orthonormal directions
    assert 0 < small_baseline.explained < 1 and small_baseline.n_fit == 600
    assert "fitted to 600 digits" in str(small_baseline)
    with pytest.raises(ValueError, match=r"images must have shape \[n, 28, 28\] or \[n, 784\] "
                       r".*got \(10, 5\)"):
        bl.fit_pca_gmm(np.zeros((10, 5)))


def test_old_records_still_load(tmp_path, digits):
    """A 64-sample record file of the old format (no counts) reads back as before."""
    _legacy(tmp_path, "k", "GAN", digits[:64].astype(np.float32) / 255.0)
    (row,) = results.collect(tmp_path)
    assert "samples_kept" not in row and results.load_samples(row).shape == (64, 28, 28)
    buffer = io.BytesIO((tmp_path / row["sample_file"]).read_bytes())
    assert np.load(buffer)["images"].dtype == np.uint8


def test_a_difference_within_the_noise_of_fid_is_called_a_tie():
    from coursekit.course.families.compare import Comparison, Entry, buys_text

    def entry(label, family, fid, kind="model"):
        return Entry(label=label, family=family, framework="PyTorch", kind=kind, n=500, fid=fid,
                     n_classes=10, entropy=2.2, train_seconds=1.0, seconds_per_sample=1e-3)

    c = Comparison(n=500, entries=[entry("VAE, PyTorch", "VAE", 5.02),
                                   entry("GAN, PyTorch", "GAN", 3.90),
                                   entry("baseline", "baseline", 5.12, kind="baseline"),
                                   entry("real", "real", 0.24, kind="real")])
    text = buys_text(c)
    assert "**VAE** (best: PyTorch): FID 5.02" in text and "level with the baseline" in text
    assert "**GAN** (best: PyTorch): FID 3.90" in text and "beats it: 1.3x closer" in text


def test_the_fid_verdict_and_its_tie_band():
    from coursekit.course.families import fid_tie_band, fid_verdict

    assert fid_tie_band(5.12, 0.24) == pytest.approx(0.488)  # a tenth of 4.88 beats 2 x 0.24
    assert fid_tie_band(1.0, 0.4) == pytest.approx(0.8)  # twice the floor
    assert fid_verdict(5.02, 5.12, 0.24) == "level with"
    assert fid_verdict(3.90, 5.12, 0.24) == "beats"
    assert fid_verdict(6.00, 5.12, 0.24) == "does not beat"


# --------------------------------------------------------------------------- bad input, named


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(n=5), r"^n \(the sample count of every score\) must be an int >= 10, got 5"),
        (dict(n=50.0), r"^n \(the sample count of every score\) must be an int >= 10, got 50.0"),
        (dict(seed=-1), r"^seed \(random seed\) must be an int >= 0, got -1"),
        (dict(real="no"), "^real must be True or False, got 'no'"),
        (dict(baseline="yes"), r"^baseline must be True \(fit the PCA \+ GMM baseline\), False "
         r"\(no baseline\) or a fitted model \(families.fit_pca_gmm\(images\)\), got str 'yes'"),
        (dict(train_images=np.full((40, 28, 28), 200.0)), r"^train_images must lie in \[0, 1\], "
         r"got values in \[200, 200\]; they look like 0-255 pixel values: pass x / 255"),
        (dict(train_images=np.full((40, 784), np.nan)), "^train_images holds 31360 NaN"),
        (dict(train_images=np.zeros((40, 5), np.uint8)), r"^train_images must have shape "
         r"\[n, 28, 28\] or \[n, 784\] \(or with a channel axis of 1\), got \(40, 5\)"),
    ],
)
def test_compare_names_a_bad_setting_before_scoring_anything(kwargs, message):
    """``real="no"`` scored real digits, ``baseline="yes"`` failed on a missing attribute, and
    training digits of another range were named as ``samples`` (issue 20)."""
    args = dict(n=10, baseline=False, real=True, train_images=np.zeros((40, 28, 28), np.uint8))
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        families.compare([], **args)


def test_the_comparisons_helpers_name_what_they_were_given():
    from coursekit.course.families.compare import Comparison

    empty = Comparison(n=10, entries=[])
    cases = [
        (lambda: families.comparison_table(None), r"^comparison must be a Comparison "
         r"\(families.compare\(rows\)\), got NoneType"),
        (lambda: families.buys_text({}), "^comparison must be a Comparison .*got dict"),
        (lambda: families.bernoulli_draws(None), "^comparison must be a Comparison"),
        (lambda: families.bernoulli_draws(empty, "RBM"), r"^families must be a list of some of "
         r"\('RBM', 'EBM', 'VAE', 'GAN'\), e.g. \('RBM', 'VAE'\), got 'RBM'"),
        (lambda: families.bernoulli_draws(empty, ["RBM"], seed=-2), r"^seed \(random seed\)"),
        (lambda: families.check_same_n(["a"]), "^entries must be a Comparison or a list of its "
         "entries, got list"),
        (lambda: families.check_same_n(None), "^entries must be a Comparison .*got NoneType"),
        (lambda: families.fid_verdict(math.nan, 10.0, 1.0), r"^fid \(the model's FID\) must be "
         "a finite number >= 0, got nan"),
        (lambda: families.fid_verdict("a", 10.0, 1.0), r"^fid \(the model's FID\)"),
        (lambda: families.fid_tie_band(10.0, -1.0), r"^floor \(the real digits' FID at the "
         "same n\\) must be a finite number >= 0, got -1.0"),
        (lambda: families.fid_tie_band(None, 1.0), r"^baseline_fid \(the baseline's FID\)"),
        (lambda: families.subsample(np.zeros((20, 28, 28)), 5, seed="a"), r"^seed \(random "
         r"seed\) must be an int >= 0, got 'a'"),
        (lambda: families.subsample(np.zeros((20, 28, 28)), 0), r"^n \(images to take\) must be "
         "an int >= 1, got 0"),
        (lambda: families.subsample(None, 5), r"^images must be an array \[m, ...\] of images"),
        (lambda: families.seconds_per_sample(None), r"^row must be a record \(a dict from "
         r"choose_records\(\).rows\), got NoneType"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()
    assert families.subsample(np.zeros((20, 28, 28)), np.int64(5)).shape == (5, 28, 28)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda z: bl.fit_gaussian_mixture(z, 2, tol=math.nan), r"^tol \(the change of the "
         "log-likelihood that stops EM\\) must be a finite number > 0, got nan"),
        (lambda z: bl.fit_gaussian_mixture(z, 2, reg=math.nan), r"^reg \(added to every "
         "covariance's diagonal\\) must be a finite number >= 0, got nan"),
        (lambda z: bl.fit_gaussian_mixture(z, 2, max_iter=2.5), r"^max_iter \(EM iterations at "
         r"most\) must be an int >= 1, got 2.5"),
        (lambda z: bl.fit_gaussian_mixture(z, 2, seed=-1), r"^seed \(random seed\) must be an "
         "int >= 0, got -1"),
        (lambda z: bl.fit_gaussian_mixture("abc", 2), r"^z must be points \[n, d\] \(numbers\), "
         "got dtype <U3"),
        (lambda z: bl.fit_gaussian_mixture(np.full((10, 2), np.nan), 2), "^z holds 20 NaN"),
        (lambda z: bl.fit_gaussian_mixture(z, 11), r"^k \(Gaussians in the mixture\) must be an "
         r"int in \[1, 10\] \(at most the points\), got 11"),
    ],
)
def test_em_names_a_bad_setting(call, message):
    z = np.random.default_rng(0).normal(size=(10, 2))
    with pytest.raises(ValueError, match=message):
        call(z)


def test_the_baseline_names_a_bad_setting_or_images_before_fitting(digits, small_baseline):
    x = digits[:60]
    cases = [
        (lambda: bl.fit_pca_gmm(x.astype(np.float32)), r"^images must lie in \[0, 1\], got "
         r"values in \[0, 255\]; they look like 0-255 pixel values: pass x / 255"),
        (lambda: bl.fit_pca_gmm(x / 127.5 - 1), r"^images must lie in \[0, 1\], .*they look "
         r"like \[-1, 1\] images .*pass \(x \+ 1\) / 2"),
        (lambda: bl.fit_pca_gmm(np.full((60, 784), np.nan)), "^images holds 47040 NaN"),
        (lambda: bl.fit_pca_gmm(None), "^images must hold numbers, got dtype object"),
        (lambda: bl.fit_pca_gmm(x, n_components=5, n_mixture=0), r"^n_mixture \(Gaussians in "
         r"the mixture\) must be an int in \[1, 60\] \(at most the images\), got 0"),
        (lambda: bl.fit_pca_gmm(x, n_components=60), r"^n_components \(principal components\) "
         r"must be an int in \[1, 59\] \(N - 1, N the number of images\), got 60"),
        (lambda: bl.fit_pca_gmm(x, n_components=5, n_mixture=2, tol=0),
         r"^tol \(the change of the log-likelihood that stops EM\) must be a finite number > 0"),
        (lambda: small_baseline.sample(5, seed=-1), r"^seed \(random seed\) must be an int "
         ">= 0, got -1"),
        (lambda: small_baseline.sample(0), r"^n \(number of samples\) must be an int >= 1"),
        (lambda: small_baseline.mixture.sample(3, 0), r"^rng must be a numpy.random.Generator"),
        (lambda: small_baseline.mixture.log_prob(np.zeros((3, 4))), r"^z must be points "
         r"\[n, 10\] \(the mixture's dimension\), got shape \(3, 4\)"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()
    assert small_baseline.sample(np.int64(3)).shape == (3, 28, 28)
