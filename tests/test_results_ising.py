"""coursekit.course.results_ising: the Ising rows of the course-wide results table (week 6)."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from coursekit import metrics
from coursekit.course import cli, families, results
from coursekit.course.results_ising import ISING_FIELDS, ising_json
from coursekit.metrics.ising import OBSERVABLES, ising_report
from coursekit.reference.ising import sample_exact


@pytest.fixture(scope="module")
def report():
    """A 4 x 4 lattice at T = 2: exact samples scored against other exact samples."""
    return ising_report(sample_exact(4, 2.0, 400, seed=1), sample_exact(4, 2.0, 400, seed=2), 2.0)


def _ising(folder, ising, key="week6_ising_rbm_T2.0", family="RBM", **extra):
    return results.record(key, family=family, model=f"{family} 16-16", framework="PyTorch",
                          ising=ising, train_seconds=12.5, sample_seconds=0.25, updates=3000,
                          notes="exact samples", folder=folder, **extra)  # fmt: skip


def _sample_report() -> metrics.SampleReport:
    x = np.random.default_rng(0).random((40, 28, 28), dtype=np.float32)
    return metrics.sample_report(x, "noise", reference=x[::-1] * 0.5, min_samples=10)


def _digits(folder, key="week3_vae_pytorch"):
    return results.record(key, family="VAE", model="MLP", framework="PyTorch",
                          report=_sample_report(), folder=folder)  # fmt: skip


def test_an_ising_record_round_trips_through_json(tmp_path, monkeypatch, report):
    monkeypatch.setenv("COURSEKIT_MODE", "full")
    path = _ising(tmp_path, report)
    assert path == tmp_path / "week6_ising_rbm_T2.0.json"  # the dot of T2.0 is file-name safe
    stored = json.loads(path.read_text())["ising"]
    assert list(stored) == list(ISING_FIELDS)
    (row,) = results.collect(tmp_path)
    s = row["ising"]
    assert (s["L"], s["T"], s["n"], s["n_reference"]) == (4, 2.0, 400, 400)
    assert isinstance(s["L"], int) and isinstance(s["n"], int)
    for field in ("values", "errors", "reference", "reference_errors", "z"):
        assert s[field] == pytest.approx(getattr(report, field))
        assert set(s[field]) == set(OBSERVABLES)
    assert s["up_share"] == pytest.approx(report.up_share)
    assert s["m_distance"] == pytest.approx(report.m_distance)
    assert row["samples"] is None and row["sample_file"] is None
    assert row["updates"] == 3000 and row["notes"] == "exact samples"


def test_the_markdown_has_both_tables_and_the_numbers(tmp_path, monkeypatch, report):
    monkeypatch.setenv("COURSEKIT_MODE", "full")
    _digits(tmp_path)
    _ising(tmp_path, report)
    _ising(tmp_path, report, key="week6_ising_ebm_T2.0", family="EBM")
    table = results.to_markdown(results.collect(tmp_path))
    digits_part, ising_part = table.split("## Ising (week 6): observables against Monte Carlo")
    assert "| VAE | MLP | PyTorch | full |" in digits_part and "classifier FID" in digits_part
    assert "RBM" not in digits_part
    v, r, z = report.values, report.reference, report.z
    e_cell = f"{v['e']:.3f} / {r['e']:.3f} (z {z['e']:+.1f})"
    m_cell = f"{v['abs_m']:.3f} / {r['abs_m']:.3f} (z {z['abs_m']:+.1f})"
    assert (f"| RBM | RBM 16-16 | PyTorch | full | 4 | 2 | 400 (400) | 3,000 | 12 | {e_cell} "
            f"| {m_cell} | {v['c']:.3f} (z {z['c']:+.1f}) | {v['chi']:.3f} (z {z['chi']:+.1f}) "
            f"| {report.up_share:.2f} ({report.reference_up_share:.2f}) "
            f"| {report.m_distance:.2f} | 0.25 |") in ising_part  # fmt: skip
    # the families in the order of the course, whatever the keys' order
    assert ising_part.index("| RBM |") < ising_part.index("| EBM |")
    assert "\\|m\\|" in ising_part  # a bare | would split the header cell
    head = next(line for line in ising_part.splitlines() if line.startswith("| family"))
    rule = next(line for line in ising_part.splitlines() if line.startswith("|---"))
    assert head.replace("\\|", "").count("|") == rule.count("|")
    assert "|z| < 3 is within the Monte Carlo noise" in ising_part
    assert "T_c = 2.269" in ising_part and "total-variation" in ising_part
    # only Ising rows: only the Ising table
    alone = results.to_markdown([r for r in results.collect(tmp_path) if "ising" in r])
    assert alone.startswith("## Ising (week 6)") and "classifier FID" not in alone


def test_without_ising_rows_the_table_is_what_it_was(tmp_path, monkeypatch, report):
    _digits(tmp_path)
    rows = results.collect(tmp_path)
    table = results.to_markdown(rows)
    assert "Ising" not in table
    assert table.endswith("Reference: 40 reference images given by the caller.")
    assert "ising" not in json.loads((tmp_path / "week3_vae_pytorch.json").read_text())
    assert "Ising" not in results.to_markdown([])


def test_an_infinite_z_is_stored_as_null_and_shown_as_infinity(tmp_path, report):
    z = dict(report.z, c=math.inf)
    values = dict(report.values, c=report.reference["c"] + 1.0)
    _ising(tmp_path, dataclasses.replace(report, z=z, values=values))
    (row,) = results.collect(tmp_path)
    assert row["ising"]["z"]["c"] is None
    assert "(z +∞)" in results.to_markdown([row])


def test_the_cli_writes_the_ising_table(tmp_path, report):
    _ising(tmp_path / "build" / "results", report)
    out = tmp_path / "course.md"
    assert cli.main(["results", "--build", str(tmp_path / "build"), "--out", str(out)]) == 0
    assert "## Ising (week 6)" in out.read_text() and "| RBM | RBM 16-16 |" in out.read_text()


@pytest.mark.parametrize(
    ("given", "match"),
    [
        ("report", r"^a record holds digit samples \(report=\) or an Ising report "
         r"\(ising=\), not both; got both report and ising"),
        ("samples", r"^a record holds digit samples \(samples=\) or "
         "an Ising report"),
    ],
)
def test_digits_and_ising_in_one_record_are_refused(tmp_path, report, given, match):
    digits = _sample_report() if given == "report" else np.zeros((4, 28, 28))
    kwargs = {given: digits}
    with pytest.raises(ValueError, match=match):
        _ising(tmp_path, report, **kwargs)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (None, r"^ising must be a coursekit.metrics.ising.IsingReport \(from ising_report"
         r"\(spins, reference, T\)\) or None, got dict without L, T, n"),
        ({"L": 4.0}, r"^ising.L must be a whole number >= 1, got 4.0"),
        ({"n": 0}, r"^ising.n must be a whole number >= 1, got 0"),
        ({"T": -1.0}, r"^ising.T must be a finite number > 0, got -1.0"),
        ({"values": {"e": 1.0}}, r"^ising.values must map each of e, abs_m, c, chi to a number"),
        ({"errors": {"e": 0.1, "abs_m": 0.1, "c": float("nan"), "chi": 0.1}},
         r"^ising.errors\['c'\] must be a finite number, got nan"),
        ({"z": {"e": "big", "abs_m": 0.0, "c": 0.0, "chi": 0.0}},
         r"^ising.z\['e'\] must be a finite number \(or infinite\), got 'big'"),
        ({"m_distance": 1.5}, r"^ising.m_distance must be a number in \[0, 1\], got 1.5"),
    ],
)
def test_a_bad_ising_report_is_refused_by_name(tmp_path, report, change, match):
    bad = {"L": 4} if change is None else dataclasses.replace(report, **change)
    with pytest.raises(ValueError, match=match):
        _ising(tmp_path, bad)
    assert list(tmp_path.iterdir()) == []


def test_an_ising_report_passed_as_report_gets_a_hint(tmp_path, report):
    with pytest.raises(ValueError, match=r"got IsingReport \(an Ising report goes in ising=\)"):
        results.record("k", family="RBM", model="m", framework="f", report=report,
                       folder=tmp_path)  # fmt: skip


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda s: [1], "'ising' must be an object or null, got list"),
        (lambda s: s.pop("T") and s, "'ising.T' is missing"),
        (lambda s: s.update(L=4.5) or s, "'ising.L' must be a whole number >= 1, got 4.5"),
        (lambda s: s.update(n=True) or s, "'ising.n' must be a whole number >= 1, got True"),
        (lambda s: s.update(T="hot") or s, "'ising.T' must be a finite number > 0, got 'hot'"),
        (lambda s: s.update(values=[1, 2]) or s, "'ising.values' must be an object, got list"),
        (lambda s: s["reference"].pop("chi") and s,
         "'ising.reference' has no 'chi' (it needs e, abs_m, c, chi)"),
        (lambda s: s["z"].pop("abs_m") and s, "'ising.z' has no 'abs_m'"),
        (lambda s: s["values"].update(e=None) or s,
         "'ising.values.e' must be a finite number, got None"),
        (lambda s: s["z"].update(c="x") or s,
         "'ising.z.c' must be a finite number or null (infinite), got 'x'"),
        (lambda s: s.update(up_share=2) or s,
         "'ising.up_share' must be a number in [0, 1], got 2"),
    ],
)
def test_a_malformed_ising_record_is_skipped_with_a_message(tmp_path, capsys, report, damage,
                                                             problem):
    folder = tmp_path / "build" / "results"
    _ising(folder, report)
    row = json.loads((folder / "week6_ising_rbm_T2.0.json").read_text())
    row["key"] = "zz_broken"
    row["ising"] = damage(ising_json(report))
    (folder / "zz_broken.json").write_text(json.dumps(row))
    out = tmp_path / "table.md"
    assert cli.main(["results", "--build", str(tmp_path / "build"), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"skipping malformed result {folder / 'zz_broken.json'}: {problem}" in err
    assert "Traceback" not in err
    assert [r["key"] for r in results.collect(folder)] == ["week6_ising_rbm_T2.0"]
    assert "| RBM | RBM 16-16 |" in out.read_text()


def test_a_record_on_disk_with_samples_and_ising_is_skipped(tmp_path, capsys, report):
    _ising(tmp_path, report)
    row = json.loads((tmp_path / "week6_ising_rbm_T2.0.json").read_text())
    row["samples"] = {"fid": 1.0}
    (tmp_path / "week6_ising_rbm_T2.0.json").write_text(json.dumps(row))
    assert results.collect(tmp_path) == []
    assert "holds 'samples' (digits) or 'ising', not both" in capsys.readouterr().err


def test_week5_leaves_the_ising_records_out(tmp_path, monkeypatch, report):
    monkeypatch.setenv("COURSEKIT_MODE", "full")
    committed, run = tmp_path / "committed", tmp_path / "run"
    _digits(committed)
    _ising(committed, report)
    _ising(run, report, key="week6_ising_gan_T2.0", family="GAN")
    chosen = families.choose_records(committed=committed, run=run)
    assert [r["key"] for r in chosen.rows] == ["week3_vae_pytorch"]
    assert chosen.missing == ["RBM", "EBM", "GAN"]  # an Ising GAN is no digit GAN
    assert "not shown: 2 Ising model(s) of week 6" in str(chosen)
    # no Ising records, no such line
    digits_only = tmp_path / "digits_only"
    _digits(digits_only)
    assert "Ising" not in str(families.choose_records(["committed"], committed=digits_only))
