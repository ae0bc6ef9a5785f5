"""The course website (``coursekit book``): links, page choice, the HTML checks and whole builds
of a small repository (Sphinx runs; npm's MathJax and reveal.js are stand-ins here).

The real site, in a real browser, is tested in ``tests/test_book_browser.py``.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from coursekit.course import assets
from coursekit.course.book import BookError, build_book, check, links, pages
from coursekit.course.cli import main as cli_main

pytest.importorskip("myst_nb", reason="the website needs the [book] extra (make venv)")

PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)).decode()



def rewrite(text: str, here: str = "notebooks/week1_x/a.ipynb", on_site=(), repo=()) -> str:
    return links.rewrite(text, here=here, on_site=set(on_site), in_repo=lambda p: p in repo,
                         static="../../_static", where="a.ipynb, cell 0")


# --------------------------------------------------------------------------------------------
# links
# --------------------------------------------------------------------------------------------


def test_links_between_pages_on_the_site_stay_and_others_point_at_github():
    text = ("[b](b.ipynb) [res](../../benchmarks/results/t.md#row) [lic](../../LICENSE) "
            "[mod](../../coursekit/x.py) [dir](../../coursekit/weights/) [web](https://a.b/c) "
            "[anchor](#here) [typo](missing.ipynb)")
    out = rewrite(text, on_site={"notebooks/week1_x/b.ipynb", "benchmarks/results/t.md"},
                  repo={"LICENSE", "coursekit/x.py", "coursekit/weights"})
    assert "[b](b.ipynb)" in out
    assert "[res](../../benchmarks/results/t.md#row)" in out
    assert "[lic](https://github.com/coursekit/coursekit/blob/main/LICENSE)" in out
    assert "[mod](https://github.com/coursekit/coursekit/blob/main/coursekit/x.py)" in out
    assert "[dir](https://github.com/coursekit/coursekit/tree/main/coursekit/weights/)" in out
    assert "[web](https://a.b/c)" in out and "[anchor](#here)" in out
    # a path the repository does not have is left as it is, for Sphinx to report
    assert "[typo](missing.ipynb)" in out
    # in a cell's output (Markdown Sphinx does not resolve) pages on the site are .html
    out = links.rewrite("[b](b.ipynb#x) [lic](../../LICENSE)", here="notebooks/week1_x/a.ipynb",
                        on_site={"notebooks/week1_x/b.ipynb"}, in_repo=lambda p: True,
                        static="", where="", as_html=True)
    assert out.startswith("[b](b.html#x) [lic](https://github.com/")


def test_badges_become_local_and_other_remote_images_are_refused():
    badge = ("[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
             "(https://colab.research.google.com/github/coursekit/coursekit/blob/main/x.ipynb)")
    out = rewrite(badge)
    assert "](../../_static/badges/colab.svg)" in out
    assert "(https://colab.research.google.com/github/coursekit/coursekit/blob/main/x.ipynb)" \
        in out
    with pytest.raises(links.LinkError, match=r"a\.ipynb, cell 0: the image https://x\.org/p"):
        rewrite("![plot](https://x.org/p.png)")


def test_code_is_left_alone_but_a_link_whose_text_is_code_is_rewritten():
    text = ("`[a](../../LICENSE)` and [`weights/`](../../LICENSE)\n\n"
            "```python\nx = '[a](../../LICENSE)'\n```\n~~~\n[b](../../LICENSE)\n~~~\nend")
    out = rewrite(text, repo={"LICENSE"})
    assert out.startswith("`[a](../../LICENSE)` and [`weights/`](https://github.com/")
    assert "x = '[a](../../LICENSE)'" in out and "\n[b](../../LICENSE)\n" in out
    assert out.count("\n") == text.count("\n")  # nothing added or lost around the fences


def test_readme_sections_split_at_level_two_headings_outside_code():
    title, opening, sections = pages.readme_sections(
        "# Course\n\nOpening.\n\n## One\n\ntext\n\n```\n## not a heading\n```\n\n## Data: more\nx")
    assert title == "Course" and opening == "Opening."
    assert [h for h, _ in sections] == ["One", "Data: more"]
    assert "## not a heading" in sections[0][1]
    assert pages.slug("Data: where it comes from") == "data"
    assert pages.slug("For the lecturer") == "for-the-lecturer"


# --------------------------------------------------------------------------------------------
# the HTML checks
# --------------------------------------------------------------------------------------------


def test_check_finds_remote_loads_and_broken_links_with_their_line(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "ok.html").write_text("<p>ok</p>")
    (tmp_path / "sub" / "page.html").write_text(
        '<a href="../ok.html#x">fine</a>\n'
        '<a href="https://elsewhere.org/">a link out is fine</a>\n'
        '<img src="data:image/png;base64,AAAA">\n'
        '<script src="https://cdn.example/x.js"></script>\n'
        '<a href="../gone.html">broken</a>\n'
        '<div style="background: url(http://x.org/y.png)"></div>\n')
    (tmp_path / "s.css").write_text("a{b:url('data:image/svg+xml;x')} c{d:url(//cdn.x/f.woff)}")
    found = check.problems(tmp_path)
    assert found == [
        "sub/page.html:4: <script src> loads https://cdn.example/x.js from another host",
        "sub/page.html:5: broken link to ../gone.html (no gone.html)",
        "sub/page.html:6: <div style> loads http://x.org/y.png from another host",
        "s.css: loads //cdn.x/f.woff",
    ]
    (tmp_path / "sub" / "page.html").write_text('<a href="../ok.html">fine</a>')
    (tmp_path / "s.css").write_text("")
    assert check.problems(tmp_path) == []


# --------------------------------------------------------------------------------------------
# whole builds of a small repository
# --------------------------------------------------------------------------------------------


def _nb(cells, mode: str | None = "full"):
    nb = new_notebook(cells=cells, metadata={"language_info": {"name": "python"}})
    if mode:
        nb.metadata["coursekit"] = {"mode": mode, "executed": "2026-12-01T10:00:00+00:00"}
    return nb


def _png_cell():
    out = new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})
    return new_code_cell("fig", outputs=[out])


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A repository with two weeks: a lecture and a lab with an exercise (full mode), and a
    lecture run in smoke mode."""
    node_modules = tmp_path / "node_modules"
    for key, rel in assets.ASSET_FILES.items():
        (node_modules / rel).parent.mkdir(parents=True, exist_ok=True)
        (node_modules / rel).write_text(f"/* {key} */")
    monkeypatch.setattr(assets, "ensure_assets", lambda slides_dir=None: node_modules)
    root = tmp_path / "repo"
    (root / "benchmarks" / "results").mkdir(parents=True)
    (root / "benchmarks" / "results" / "t.md").write_text("# A table\n\n| a |\n|---|\n| 1 |\n")
    (root / "LICENSE").write_text("MIT")
    (root / "README.md").write_text(
        "# The course\n\nA course.\n\n## Two commands\n\n```\nmake run\n```\n\n"
        "## The weeks\n\n| week | topic | notebooks |\n|---|---|---|\n"
        "| 1 | first things | [`lecture`](notebooks/week1_a/week1_a_lecture.ipynb) |\n"
        "| 2 | second things | [`lecture`](notebooks/week2_b/week2_b_lecture.ipynb) |\n\n"
        "## Two modes\n\nSee [the table](benchmarks/results/t.md) and [LICENSE](LICENSE).\n\n"
        "## License\n\nMIT.\n")
    week1, week2 = root / "notebooks" / "week1_a", root / "notebooks" / "week2_b"
    week1.mkdir(parents=True)
    week2.mkdir(parents=True)
    nbformat.write(_nb([
        new_markdown_cell("# Week 1: first things\n\nThe energy $E(x, h) = -a^T x$ and\n\n"
                          "$$p(x) = \\frac{e^{-E}}{Z}$$\n\nThe [lab](week1_a_pytorch.ipynb)."),
        _png_cell(),
    ]), week1 / "week1_a_lecture.ipynb")
    nbformat.write(_nb([
        new_markdown_cell("# Week 1 lab: reparameterisation\n\n[code](../../LICENSE)"),
        new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION",
                      outputs=[new_output("stream", name="stdout", text="1\n")]),
        new_code_cell("display(Markdown(table))", outputs=[new_output(
            "display_data", data={"text/markdown": "| [lecture](week1_a_lecture.ipynb) |\n|---|",
                                  "text/plain": "<Markdown>"})]),
    ]), week1 / "week1_a_pytorch.ipynb")
    nbformat.write(_nb([new_markdown_cell("# Week 2: second things"), _png_cell()],
                       mode="smoke"), week2 / "week2_b_lecture.ipynb")
    return root


def test_build_leaves_smoke_out_naming_it_and_lists_every_page(repo, tmp_path, capsys):
    index = build_book(tmp_path / "site", repo=repo)
    out = capsys.readouterr().out
    site = index.parent
    assert "week2_b_lecture.ipynb: NOT ON THE SITE: smoke mode" in out
    assert re.search(r"notebooks/week1_a/week1_a_lecture\.html: from \S*week1_a_lecture"
                     r"\.ipynb \(committed, full mode, run 2026-12-01 10:00 UTC\)", out)
    assert "notebooks/week1_a/week1_a_pytorch.html: from" in out
    assert not (site / "notebooks" / "week2_b").exists()
    landing = (site / "index.html").read_text()
    # a notebook left out is linked on GitHub, not broken; week 1's row links its chapter
    assert "https://github.com/coursekit/coursekit/blob/main/notebooks/week2_b/" in landing
    assert 'href="notebooks/week1_a/index.html"' in landing
    chapter = (site / "notebooks" / "week1_a" / "index.html").read_text()
    assert 'href="../../exercises/week1_a/week1_a_pytorch.ipynb" download' in chapter
    assert 'href="../../slides/week1_a/week1_a_lecture.html"' in chapter
    student = nbformat.read(site / "exercises" / "week1_a" / "week1_a_pytorch.ipynb", 4)
    assert "return 1" not in student.cells[1].source and "NotImplementedError" in \
        student.cells[1].source
    assert (site / "slides" / "week1_a" / "week1_a_lecture.html").is_file()
    assert (site / "_static" / "mathjax" / "tex-svg-full.js").is_file()
    lab = (site / "notebooks" / "week1_a" / "week1_a_pytorch.html").read_text()
    assert "https://github.com/coursekit/coursekit/blob/main/LICENSE" in lab
    assert 'href="week1_a_lecture.html"' in lab  # a link in a displayed Markdown output
    assert check.problems(site) == []


def test_allow_smoke_shows_it_under_a_banner(repo, tmp_path, capsys):
    index = build_book(tmp_path / "site", repo=repo, allow_smoke=True, decks=False)
    out = capsys.readouterr().out
    assert "week2_b_lecture.html: from" in out and "[SMOKE MODE banner]" in out
    page = (index.parent / "notebooks" / "week2_b" / "week2_b_lecture.html").read_text()
    assert re.search(r'class="danger admonition">\s*<p class="admonition-title">SMOKE MODE</p>'
                     r"\s*<p>these outputs come from a quick test run", page)
    assert "SMOKE MODE" not in (index.parent / "notebooks/week1_a/week1_a_lecture.html") \
        .read_text()


def test_a_broken_internal_link_fails_with_its_location_and_keeps_the_old_site(
        repo, tmp_path, capsys):
    site = tmp_path / "site"
    build_book(site, repo=repo, decks=False)
    stamp = (site / "index.html").stat().st_mtime_ns
    lab = repo / "notebooks" / "week1_a" / "week1_a_lecture.ipynb"
    nb = nbformat.read(lab, 4)
    nb.cells[0].source += "\n\nSee [week 9](../week9_z/week9_z_lab.ipynb)."
    nbformat.write(nb, lab)
    with pytest.raises(BookError, match=r"notebooks/week1_a/week1_a_lecture\.ipynb:\d+: "
                                        r"WARNING: .*week9_z_lab"):
        build_book(site, repo=repo, decks=False)
    assert (site / "index.html").stat().st_mtime_ns == stamp  # the old site is untouched
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".book-")]


def test_a_remote_image_in_a_notebook_is_one_clear_error_from_the_command(
        repo, tmp_path, monkeypatch, capsys):
    lab = repo / "notebooks" / "week1_a" / "week1_a_pytorch.ipynb"
    nb = nbformat.read(lab, 4)
    nb.cells[0].source += "\n\n![a figure](https://example.org/fig.png)"
    nbformat.write(nb, lab)
    monkeypatch.chdir(repo)
    assert cli_main(["book", "--out", str(tmp_path / "site"), "--no-decks"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("coursekit: error: ")
    assert "week1_a_pytorch.ipynb, cell 0: the image https://example.org/fig.png" in err


def test_no_full_mode_notebook_at_all_is_one_clear_error(repo, tmp_path):
    for path in (repo / "notebooks").rglob("*.ipynb"):
        nb = nbformat.read(path, 4)
        nb.metadata["coursekit"]["mode"] = "smoke"
        nbformat.write(nb, path)
    with pytest.raises(BookError, match="has full-mode outputs; run `make outputs`"):
        build_book(tmp_path / "site", repo=repo, decks=False)


def test_widgets_and_remote_icon_fonts_leave_the_outputs():
    html_out = ('<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/font-awesome/'
                '4.4.0/css/font-awesome.min.css">\n<button><i class="fa fa-play"></i></button>')
    nb = new_notebook(cells=[new_code_cell("x", outputs=[
        new_output("display_data", data={"text/html": html_out, "text/plain": "anim"}),
        new_output("display_data", data={pages.WIDGET_VIEW: {"model_id": "1"},
                                         "text/plain": "100%"}),
    ])], metadata={"widgets": {"state": {}}})
    pages.offline_outputs(nb)
    first, second = nb.cells[0].outputs
    assert "font-awesome" not in first.data["text/html"]
    assert "<button>\u25b6</button>" in first.data["text/html"]
    assert list(second.data) == ["text/plain"] and "widgets" not in nb.metadata


def test_make_book_is_in_make_help_ci_and_the_publishing_workflow():
    import yaml

    root = Path(__file__).resolve().parents[1]
    makefile = (root / "Makefile").read_text()
    assert re.search(r"^book: \$\(STAMP\)  ## .*\n\t\$\(BIN\)/coursekit book$", makefile,
                     re.MULTILINE)
    assert re.search(r"^make book$", (root / ".ci" / "run").read_text(), re.MULTILINE)
    workflow = yaml.safe_load((root / ".github" / "workflows" / "book.yml").read_text())
    runs = [step.get("run", "") for job in workflow["jobs"].values()
            for step in job.get("steps", [])]
    assert "make book" in runs  # the same target the tests and CI run
    assert any(step.get("with", {}).get("path") == "build/book"
               for job in workflow["jobs"].values() for step in job.get("steps", []))
