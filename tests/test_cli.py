"""The coursekit command: doctor, data, run, and its error messages."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from conftest import REPO

from coursekit.course import assets, cli, runner


@pytest.fixture(autouse=True)
def fake_mathjax(tmp_path, monkeypatch) -> Path:
    """A slides/node_modules with a stand-in MathJax, so a run never calls npm."""
    slides_dir = tmp_path / "fake-slides"
    node_modules = slides_dir / "node_modules"
    for key, rel in assets.ASSET_FILES.items():
        path = node_modules / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"/* {key} stand-in </script> */")
    (slides_dir / "package-lock.json").write_text("{}")
    os.utime(slides_dir / "package-lock.json", (1, 1))  # older than node_modules
    monkeypatch.setattr(assets, "SLIDES_DIR", slides_dir)
    return node_modules


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


def test_data_list_one_name_and_an_unknown_name(capsys):
    assert cli.main(["data", "list", "fashion_mnist"]) == 0
    out = capsys.readouterr().out
    assert "\nfashion_mnist\n" in out and "\nmnist\n" not in out
    assert cli.main(["data", "list", "bogus"]) == 2
    captured = capsys.readouterr()
    assert "coursekit: error: unknown data set 'bogus'" in captured.err
    assert "mnist" not in captured.out  # nothing listed


def test_doctor_reports_threads_per_framework_and_shareable_paths(capsys, monkeypatch):
    monkeypatch.setenv("COURSEKIT_THREADS", "1")
    monkeypatch.setenv("COURSEKIT_MODE", "smoke")
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^  mode +smoke ", out, re.M)
    assert re.search(r"^  threads +1  \(from COURSEKIT_THREADS\)", out, re.M)
    assert re.search(r"^  torch threads +intra-op 1, inter-op 1", out, re.M)
    assert re.search(r"^  tensorflow threads +", out, re.M)
    assert str(Path.home()) + os.sep not in out  # ~/... instead


def test_the_doctor_report_prints_every_time_and_the_old_name_still_works(capsys):
    import coursekit as ck
    from coursekit.course import doctor

    for _ in range(2):
        doctor.print_report()
        assert "[Runtime]" in capsys.readouterr().out
    with pytest.warns(DeprecationWarning, match=r"coursekit.doctor.*coursekit.course.doctor"):
        ck.doctor()
    assert "[Runtime]" in capsys.readouterr().out


@pytest.mark.slow
def test_make_run_smoke_prints_a_doctor_report_in_smoke_mode(tmp_path):
    make, script = shutil.which("make"), Path(sys.executable).with_name("coursekit")
    if make is None or not script.exists():
        pytest.skip("needs make and the coursekit console script beside this Python")
    stamp = tmp_path / "installed"
    stamp.touch()  # newer than pyproject.toml: make does not reinstall
    proc = subprocess.run(
        [make, "-C", str(REPO), "run", "MODE=smoke", "WEEK=99",
         f"BIN={script.parent}", f"STAMP={stamp}"],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO), KERAS_BACKEND="torch",
                 COURSEKIT_MODE="full", COURSEKIT_THREADS="1"),
        check=False,
    )
    assert re.search(r"^  mode +smoke ", proc.stdout, re.M), proc.stdout + proc.stderr
    assert "week '99' matches no folder" in proc.stderr  # and the run got the mode too


def test_unknown_dataset_is_a_clean_error(capsys):
    assert cli.main(["data", "fetch", "cifar"]) == 2
    err = capsys.readouterr().err
    assert "coursekit: error: unknown data set 'cifar'" in err


def test_bad_mode_in_environment_gives_one_line_not_a_traceback(tmp_path):
    env = {"COURSEKIT_MODE": "turbo", "PATH": "", "COURSEKIT_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "coursekit.course.cli", "run", "--notebooks", str(tmp_path)],
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
    html = (build / "notebooks" / "week0_demo" / "demo.html").read_text()
    assert html.lstrip().startswith("<!DOCTYPE html>")
    _assert_offline_html(html)
    assert (build / "notebooks" / "week1_broken" / "broken.html").exists()
    summary = json.loads((build / "summary.json").read_text())
    assert [r["status"] for r in summary["results"]] == ["ok", "error"]
    assert "ZeroDivisionError" in summary["results"][1]["error"]
    table = (build / "summary.md").read_text()
    assert "| notebook | status | seconds |" in table and "demo.ipynb | ok |" in table


def test_a_progress_bar_leaves_one_final_line_in_the_executed_notebook(tmp_path):
    root = tmp_path / "notebooks"
    _write_notebook(root / "week0_bar" / "bar.ipynb", (
        "import sys\nfrom tqdm import tqdm\nprint('before')\n"
        "bar = tqdm(range(50), desc='steps', file=sys.stderr, mininterval=0)\n"
        "for i in bar:\n    bar.set_postfix(loss=50 - i)\nprint('after')"))  # fmt: skip
    build = tmp_path / "build"
    args = ["run", "--mode", "smoke", "--notebooks", str(root), "--build", str(build)]
    assert cli.main(args) == 0
    outputs = nbformat.read(build / "notebooks" / "week0_bar" / "bar.ipynb", as_version=4)
    streams = {o["name"]: o["text"] for o in outputs.cells[0].outputs}
    assert len(outputs.cells[0].outputs) == 2 and streams["stdout"] == "before\nafter\n"
    lines = streams["stderr"].strip().split("\n")
    assert len(lines) == 1 and "\r" not in lines[0], lines
    assert lines[0].startswith("steps: 100%") and "loss=1" in lines[0]


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


@pytest.mark.parametrize("command", ["run", "exercises"])
def test_a_notebook_folder_that_is_missing_or_a_file_is_one_error_line(tmp_path, capsys,
                                                                        command):
    a_file = tmp_path / "notebooks.txt"
    a_file.write_text("x")
    for folder, what in ((tmp_path / "nope", "does not exist"), (a_file, "is a file, not a "
                                                                          "folder")):
        argv = [command, "--notebooks", str(folder), "--out" if command == "exercises" else
                "--build", str(tmp_path / "out")]  # fmt: skip
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert err == f"coursekit: error: notebook folder {str(folder)!r} {what}.\n"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv", [["run", "--mode", "fast"], ["frobnicate"]])
def test_argparse_rejects_bad_arguments(argv):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2


def _assert_offline_html(html: str) -> None:
    """Nothing loaded from the network; the (stand-in) MathJax is inlined."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(["script", "link", "img", "iframe"]):
        for attr in ("src", "href"):
            assert not str(tag.get(attr, "")).startswith(("http:", "https:", "//")), tag
    scripts = [s.string or "" for s in soup.find_all("script")]
    assert any("mathjax_js stand-in <\\/script>" in s for s in scripts)
    assert any("window.MathJax" in s for s in scripts)
    assert "require.js" not in html and "cdnjs" not in html


def test_timeout_must_be_positive(capsys, tmp_path):
    for bad in ("0", "-5", "soon"):
        with pytest.raises(SystemExit) as info:
            cli.main(["run", "--timeout", bad, "--notebooks", str(tmp_path)])
        assert info.value.code == 2
        assert "--timeout: must be a positive whole number of seconds" in capsys.readouterr().err
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds, got 0"):
        runner.run_course(mode="smoke", root=tmp_path, build=tmp_path / "b", timeout=0)


def test_run_drops_the_kernels_tcp_notice_and_keeps_other_kernel_output(tmp_path, capfd):
    root = tmp_path / "notebooks"
    _write_notebook(root / "week0_a" / "a.ipynb", "x = 1")
    assert cli.main(["run", "--mode", "smoke", "--notebooks", str(root),
                     "--build", str(tmp_path / "build")]) == 0
    assert "without encryption" not in capfd.readouterr().err
    log = io.BytesIO(
        b"[IPKernelApp] WARNING | Kernel is running over TCP without encryption. All ...\n"
        b"[IPKernelApp] ERROR | something real\n"
    )
    runner._replay_kernel_log(log)
    err = capfd.readouterr().err
    assert "something real" in err and "encryption" not in err


def test_without_npm_the_html_says_so_and_loads_mathjax_from_a_cdn(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(assets, "SLIDES_DIR", tmp_path / "no-slides")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("COURSEKIT_OFFLINE", "0")
    assert runner.html_assets() is None
    assert "load it from a CDN" in capsys.readouterr().out
    # offline, npm is not even tried
    monkeypatch.setenv("COURSEKIT_OFFLINE", "1")
    monkeypatch.setattr(assets, "ensure_assets", lambda *a: pytest.fail("npm tried offline"))
    assert runner.html_assets() is None
    assert "COURSEKIT_OFFLINE=1" in capsys.readouterr().out
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("$x$")])
    html = runner.render_html(nb, None)
    assert assets.CDN_URLS["mathjax_js"] in html and "require.js" not in html


@pytest.mark.slow
def test_html_render_typesets_maths_offline_in_a_browser(tmp_path):
    """With the real npm MathJax (installed here as ``make slides`` does) and Chromium; CI sets
    COURSEKIT_SLIDES_REQUIRED=1, so that there a missing prerequisite fails the test."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        if chromium is None:
            raise assets.SlidesError("Chromium is not installed (apt install chromium)")
        node_modules = assets.ensure_assets(REPO / "slides")  # the real one, not the fixture's
    except assets.SlidesError as exc:
        if os.environ.get("COURSEKIT_SLIDES_REQUIRED"):
            pytest.fail(f"browser test required but {exc}")
        pytest.skip(str(exc))
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("Energy $E(x,h)=-a^T x$ and $$Z=\\sum_x e^{-E}$$")]
    )
    page = tmp_path / "page.html"
    page.write_text(runner.render_html(nb, node_modules))
    proc = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
         "--proxy-server=127.0.0.1:9", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.stdout.count("<mjx-container") == 2, proc.stderr[-2000:]
