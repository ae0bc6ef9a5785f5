"""The coursekit command: doctor, data, run, and its error messages."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from coursekit import cli


def test_doctor_reports_every_section(capsys):
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    for heading in ("[Python]", "[Packages]", "[Imports]", "[Runtime]", "[Data]"):
        assert heading in out
    assert "keras backend" in out
    assert "mnist train" in out and "fashion_mnist test" in out
    assert "network" in out and "off" in out  # the test environment is offline


def test_data_list_runs_offline(capsys):
    assert cli.main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "cache folder" in out and "mnist" in out


def test_unknown_dataset_is_a_clean_error(capsys):
    assert cli.main(["data", "fetch", "cifar"]) == 2
    err = capsys.readouterr().err
    assert "coursekit: error: unknown data set 'cifar'" in err


def test_bad_mode_in_environment_gives_one_line_not_a_traceback(tmp_path):
    env = {"COURSEKIT_MODE": "turbo", "PATH": "", "COURSEKIT_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "coursekit.cli", "run", "--notebooks", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "COURSEKIT_MODE='turbo'" in proc.stderr


def _write_notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def test_run_executes_into_build_and_never_touches_sources(tmp_path, capsys):
    root = tmp_path / "notebooks"
    good = _write_notebook(
        root / "week0_demo" / "demo.ipynb", "import os\nprint(os.environ['COURSEKIT_MODE'])"
    )
    bad = _write_notebook(root / "week1_broken" / "broken.ipynb", "1/0")
    before = {p: p.read_bytes() for p in (good, bad)}
    build = tmp_path / "build"

    code = cli.main(["run", "--mode", "smoke", "--notebooks", str(root), "--build", str(build)])

    assert code == 1  # one notebook failed
    assert {p: p.read_bytes() for p in (good, bad)} == before
    executed = nbformat.read(build / "notebooks" / "week0_demo" / "demo.ipynb", as_version=4)
    assert executed.cells[0].outputs[0]["text"].strip() == "smoke"
    assert (
        (build / "notebooks" / "week0_demo" / "demo.html")
        .read_text()
        .lstrip()
        .startswith("<!DOCTYPE html>")
    )
    assert (build / "notebooks" / "week1_broken" / "broken.html").exists()
    summary = json.loads((build / "summary.json").read_text())
    assert [r["status"] for r in summary["results"]] == ["ok", "error"]
    assert "ZeroDivisionError" in summary["results"][1]["error"]
    table = (build / "summary.md").read_text()
    assert "| notebook | status | seconds |" in table and "demo.ipynb | ok |" in table


def test_run_one_week(tmp_path):
    root = tmp_path / "notebooks"
    _write_notebook(root / "week0_a" / "a.ipynb", "x = 1")
    _write_notebook(root / "week1_b" / "b.ipynb", "x = 2")
    build = tmp_path / "build"
    assert (
        cli.main(
            [
                "run",
                "--mode",
                "smoke",
                "--week",
                "1",
                "--notebooks",
                str(root),
                "--build",
                str(build),
            ]
        )
        == 0
    )
    assert (build / "notebooks" / "week1_b" / "b.ipynb").exists()
    assert not (build / "notebooks" / "week0_a").exists()


def test_unknown_week_lists_what_exists(tmp_path, capsys):
    _write_notebook(tmp_path / "week0_a" / "a.ipynb", "x = 1")
    assert cli.main(["run", "--week", "7", "--notebooks", str(tmp_path)]) == 2
    assert "week '7' matches no folder" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["run", "--mode", "fast"], ["frobnicate"]])
def test_argparse_rejects_bad_arguments(argv):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
