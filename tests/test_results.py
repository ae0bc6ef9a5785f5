"""coursekit.course.results: the course-wide results table (records, collection, markdown, CLI)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from coursekit import metrics
from coursekit.course import cli, results


def _report(n: int = 40) -> metrics.SampleReport:
    x = np.random.default_rng(0).random((n, 28, 28), dtype=np.float32)
    return metrics.sample_report(x, "noise", reference=x[::-1] * 0.5, min_samples=10)


def test_record_writes_one_json_per_key_and_collect_reads_them(tmp_path, monkeypatch):
    monkeypatch.setenv(results.RESULTS_ENV, str(tmp_path))
    monkeypatch.setenv("COURSEKIT_MODE", "smoke")
    rep = _report()
    path = results.record(
        "week1_rbm_x",
        family="RBM",
        model="RBM 784-16",
        framework="PyTorch",
        report=rep,
        log_likelihood=-180.5,
        likelihood_method="AIS",
        train_seconds=3.0,
        sample_seconds=0.5,
        updates=20,
    )
    assert path == tmp_path / "week1_rbm_x.json"
    row = json.loads(path.read_text())
    assert row["mode"] == "smoke" and row["samples"]["fid"] == pytest.approx(rep.fid)
    # the same key replaces the row
    results.record("week1_rbm_x", family="RBM", model="RBM 784-16", framework="PyTorch")
    results.record(
        "week3_vae_x",
        family="VAE",
        model="VAE",
        framework="Keras (torch)",
        report=rep,
        log_likelihood=-99.0,
        likelihood_method="IWAE, K=1000",
    )
    rows = results.collect()
    assert [r["key"] for r in rows] == ["week1_rbm_x", "week3_vae_x"]
    assert rows[0]["samples"] is None
    assert results.collect(mode="full") == []
    table = results.to_markdown(rows)
    assert "| RBM | RBM 784-16 | PyTorch | smoke |" in table
    assert "-99.0 (IWAE, K=1000)" in table and f"{rep.fid:.2f}" in table
    assert rep.reference in table


def test_results_dir_finds_the_repository_from_a_notebook_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(results.RESULTS_ENV, raising=False)
    (tmp_path / "notebooks" / "week1").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text("")
    monkeypatch.chdir(tmp_path / "notebooks" / "week1")
    assert results.results_dir() == tmp_path / "build" / "results"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"key": "a b"}, "key"),
        ({"family": ""}, "family"),
        ({"log_likelihood": float("nan")}, "log_likelihood"),
        ({"train_seconds": -1}, "train_seconds"),
        ({"updates": 2.5}, "updates"),
        ({"report": {"fid": 1}}, "report"),
        ({"family": "XYZ"}, "^family must be one of 'RBM', 'EBM', 'VAE', 'GAN', got 'XYZ'"),
        ({"notes": 5}, r"^notes must be a string \(may be empty\), got 5"),
        ({"likelihood_method": None}, r"^likelihood_method must be a string \(may be empty\)"),
        ({"train_seconds": True}, "^train_seconds must be a number or None, got True"),
        ({"sample_seconds": "1"}, "^sample_seconds must be a number or None, got '1'"),
        ({"folder": 5}, r"^folder must be a path \(a str or pathlib.Path\), got int 5"),
    ],
)
def test_bad_records_are_refused_by_name(tmp_path, kwargs, match):
    args = {"key": "k", "family": "GAN", "model": "m", "framework": "f", "folder": tmp_path}
    args.update(kwargs)
    key = args.pop("key")
    with pytest.raises(ValueError, match=match):
        results.record(key, **args)
    assert list(tmp_path.iterdir()) == []


def test_cli_results_writes_the_table(tmp_path, capsys):
    results.record(
        "week2_ebm",
        family="EBM",
        model="CNN energy",
        framework="PyTorch",
        folder=tmp_path / "build" / "results",
        train_seconds=10,
    )
    out = tmp_path / "course.md"
    assert cli.main(["results", "--build", str(tmp_path / "build"), "--out", str(out)]) == 0
    assert "| EBM | CNN energy | PyTorch |" in out.read_text()
    assert "written" in capsys.readouterr().out
    kept = tmp_path / "committed"
    cli.main(["results", "--build", str(tmp_path / "build"), "--out", str(out), "--records",
              str(kept)])
    assert [p.name for p in kept.iterdir()] == ["week2_ebm.json"]
    assert "copied 1 records" in capsys.readouterr().out
    empty = tmp_path / "empty.md"
    (tmp_path / "fresh").mkdir()
    cli.main(["results", "--build", str(tmp_path / "fresh"), "--out", str(empty)])
    assert "No results recorded yet" in empty.read_text()


def test_cli_results_on_a_missing_build_folder_is_one_error(tmp_path, capsys):
    missing = tmp_path / "nothing"
    assert cli.main(["results", "--build", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("coursekit: error: --build ")
    assert "missing" in err and "make run" in err
    assert not missing.exists()  # nothing was created where the user pointed by mistake


def test_cli_results_into_an_unwritable_place_is_one_error(tmp_path, capsys):
    (tmp_path / "build").mkdir()
    (tmp_path / "a_file").write_text("x")
    out = tmp_path / "a_file" / "results.md"
    assert cli.main(["results", "--build", str(tmp_path / "build"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"cannot write {out}" in err and "is a file, not a folder" in err
    assert ".tmp" not in err


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ([1, 2], "expected a JSON object"),
        ({"key": "x", "model": "m", "framework": "f"}, "'family' must be a non-empty string"),
        ({"key": "x", "family": "", "model": "m", "framework": "f"}, "'family'"),
        ({"key": "x", "family": "VAE", "model": "m", "framework": "f", "train_seconds": "10"},
         "'train_seconds' must be a finite number or null"),
        ({"key": "x", "family": "VAE", "model": "m", "framework": "f",
          "samples": {"fid": "low"}}, "'samples.fid'"),
        ({"key": "x", "family": "VAE", "model": "m", "framework": "f", "samples": [1]},
         "'samples' must be an object"),
        ({"key": "x", "family": "VAE", "model": "m", "framework": "f",
          "sample_file": "../../etc/passwd"}, "'sample_file' must be a file name"),
        # issue 20: a format error naming no record, a traceback, a write outside the folder
        ({"key": "x", "family": "VAE", "model": "m", "framework": "f",
          "samples": {"n_classes": 3.5}}, "'samples.n_classes' must be a whole number >= 0 or "
         "null, got 3.5"),
        ({"key": "x", "family": "VAE", "model": "m", "framework": "f",
          "samples": {"reference": 5}}, "'samples.reference' must be a string or null, got 5"),
        ({"key": "x", "family": "VAE", "model": "m", "framework": "f",
          "samples": {"histogram": "abc"}}, "'samples.histogram' must be a list of finite "
         "numbers"),
        ({"key": "x", "family": "VAE", "model": "m", "framework": "f", "updates": 2.5},
         "'updates' must be a whole number >= 0 or null, got 2.5"),
        ({"key": "x", "family": "VAE", "model": "m", "framework": "f", "recorded": 5},
         "'recorded' must be a string or null, got 5"),
        ({"key": "x", "family": "VAE", "model": "m", "framework": "f", "likelihood_method": 5},
         "'likelihood_method' must be a string or null, got 5"),
        ({"key": "../x", "family": "VAE", "model": "m", "framework": "f"}, "'key' must be a "
         "file-name-safe string"),
        ({"key": "x", "family": "VAE", "model": "m", "framework": "f", "sample_file": ".."},
         "'sample_file' must be a file name beside the record, got '..'"),
    ],
)
def test_a_malformed_record_is_skipped_with_a_note_naming_its_file(tmp_path, capsys, record,
                                                                    problem):
    import json

    folder = tmp_path / "build" / "results"
    results.record("week3_vae", family="VAE", model="MLP", framework="PyTorch", folder=folder)
    (folder / "zz_broken.json").write_text(json.dumps(record))
    out = tmp_path / "table.md"
    assert cli.main(["results", "--build", str(tmp_path / "build"), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"skipping malformed result {folder / 'zz_broken.json'}: {problem}" in err
    assert "Traceback" not in err
    assert "| VAE | MLP | PyTorch |" in out.read_text()


def test_table_shows_short_sampling_times_and_one_reference_per_source(tmp_path, monkeypatch):
    from pathlib import Path

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    base = dict(family="VAE", model="VAE", framework="PyTorch", folder=tmp_path)
    results.record("fast", sample_seconds=0.0123, **base)
    results.record("slow", sample_seconds=37.2, **base)
    table = results.to_markdown(results.collect(tmp_path))
    assert "| 0.012 |" in table and "| 37 |" in table
    rows = [{"family": "X", "model": "m", "framework": "f",
             "samples": {"reference": f"cache: {Path.home()}/.cache/coursekit/mnist"}},
            {"family": "X", "model": "m", "framework": "f",
             "samples": {"reference": "cache: ~/.cache/coursekit/mnist"}}]
    assert results.to_markdown(rows).count("Reference:") == 1


def test_samples_are_kept_beside_the_record_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setenv(results.RESULTS_ENV, str(tmp_path / "run"))
    monkeypatch.setenv("COURSEKIT_MODE", "full")
    x = np.random.default_rng(1).random((100, 784))
    results.record("week3_vae_x", family="VAE", model="VAE", framework="PyTorch", samples=x)
    (row,) = results.collect()
    assert row["sample_file"] == "week3_vae_x.samples.npz"
    back = results.load_samples(row)
    assert back.shape == (100, 28, 28) and back.dtype == np.float32  # all 100 (<= 500 kept)
    assert (row["samples_drawn"], row["samples_kept"]) == (100, 100)
    # 8-bit storage: within half a grey level of what was recorded
    np.testing.assert_allclose(back, x.reshape(-1, 28, 28), atol=0.5 / 255 + 1e-7)
    # copied with its samples (the committed records of make outputs)
    copied = results.copy_records(tmp_path / "committed", mode="full")
    assert [p.name for p in copied] == ["week3_vae_x.json"]
    (again,) = results.collect(tmp_path / "committed")
    assert "_folder" not in json.loads(copied[0].read_text())
    np.testing.assert_array_equal(results.load_samples(again), back)
    # a later record without samples removes the stale grid
    results.record("week3_vae_x", family="VAE", model="VAE", framework="PyTorch")
    (row,) = results.collect()
    assert row["sample_file"] is None and results.load_samples(row) is None
    assert row["samples_drawn"] is None and row["samples_kept"] is None
    assert not (tmp_path / "run" / "week3_vae_x.samples.npz").exists()


@pytest.mark.parametrize(
    ("samples", "match"),
    [
        (np.zeros((4, 27, 27)), r"\[n, 28, 28\]"),
        (np.full((4, 784), np.nan), "NaN"),
        (np.full((4, 784), -0.5), r"\[-1, 1\]"),
        (np.full((4, 28, 28), 2.0), r"\[0, 1\]"),
        ("digits", "samples must"),
    ],
)
def test_bad_samples_are_refused_by_name(tmp_path, samples, match):
    with pytest.raises(ValueError, match=match):
        results.record("k", family="GAN", model="m", framework="f", samples=samples,
                       folder=tmp_path)
    assert not list(tmp_path.iterdir())


def test_records_are_read_and_copied_only_from_and_into_folders(tmp_path, capsys):
    folder = tmp_path / "build" / "results"
    results.record("week3_vae", family="VAE", model="MLP", framework="PyTorch", folder=folder)
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    with pytest.raises(ValueError, match=rf"^folder {a_file} is a file; it must be a folder"):
        results.record("k", family="VAE", model="m", framework="f", folder=a_file)
    with pytest.raises(ValueError, match=rf"^folder {a_file} is a file; it must be a folder"):
        results.collect(a_file)
    with pytest.raises(ValueError, match=r"^mode must be None \(every record\) or one of "
                       "'full', 'smoke', got 'fool'"):
        results.collect(folder, mode="fool")
    with pytest.raises(ValueError, match=r"^row must be a record \(a dict from collect\(\)\), "
                       "got NoneType"):
        results.load_samples(None)
    with pytest.raises(ValueError, match="^value must be a number of seconds or None, got 'a'"):
        results.format_seconds("a")
    with pytest.raises(ValueError, match=rf"^target {a_file} is a file; it must be a folder"):
        results.copy_records(a_file, folder)
    # the command line: records copied onto a file are one error line, even with none to copy,
    # before the table is written
    for build in (tmp_path / "build", tmp_path / "empty"):
        build.mkdir(exist_ok=True)
        assert cli.main(["results", "--build", str(build), "--out", str(tmp_path / "t.md"),
                         "--records", str(a_file)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("coursekit: error: --records ") and err.count("\n") == 1
        assert err.endswith("a_file is a file; it must be the folder the records are copied "
                            "to\n")
        assert not (tmp_path / "t.md").exists()
