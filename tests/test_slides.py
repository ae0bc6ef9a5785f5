"""Lecture decks (coursekit.course.slides): slide grouping, rendering, npm, a real browser.

The browser test opens decks in headless Debian Chromium through Playwright with every non-local
request blocked and recorded. It is skipped when Chromium, Playwright or the npm assets are not
available; set COURSEKIT_SLIDES_REQUIRED=1 (CI does) to make those skips failures.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import nbformat
import pytest
from browser_shared import LOCAL_SCHEMES, launch, open_offline
from bs4 import BeautifulSoup
from conftest import REPO
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from coursekit.course import assets, notebooks, slides

SCREENSHOTS = REPO / "build" / "slides" / "screenshots"
# Every course notebook that marks slides: each must build a deck that works offline.
LECTURES = sorted(
    p
    for p in (REPO / "notebooks").glob("week*/*.ipynb")
    if '"slide_type"' in p.read_text(encoding="utf-8")
)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def md(source: str, slide_type: str | None = None, tags: list[str] | None = None):
    cell = new_markdown_cell(source)
    if slide_type:
        cell.metadata["slideshow"] = {"slide_type": slide_type}
    if tags:
        cell.metadata["tags"] = tags
    return cell


def code(source: str, slide_type: str | None = None, tags: list[str] | None = None,
         outputs: list | None = None):
    cell = new_code_cell(source, outputs=outputs or [])
    if slide_type:
        cell.metadata["slideshow"] = {"slide_type": slide_type}
    if tags:
        cell.metadata["tags"] = tags
    return cell


def stream(text: str, name: str = "stdout"):
    return new_output("stream", name=name, text=text)


def png_bytes(width_in: float = 4.0, height_in: float = 2.5, dpi: int = 100) -> bytes:
    """A real matplotlib PNG (object-oriented API: no pyplot, no global backend change)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    ax = fig.add_subplot()
    ax.plot([0, 1, 2, 3], [0, 1, 4, 9], marker="o")
    ax.set_title("a parabola")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def png_output(raw: bytes, metadata: dict | None = None):
    return new_output(
        "display_data",
        data={"image/png": base64.b64encode(raw).decode(), "text/plain": "<Figure size 400x250>"},
        metadata=metadata or {},
    )


def expected_total_slides(nb) -> int:
    """The slide count the browser must report, computed from the metadata alone.

    One title slide, plus one per kept ``slide``/``subslide`` cell (or, without any slide
    metadata, per markdown cell starting with ``#``/``##``); a cell holding nothing but the
    title heading becomes the title slide itself.
    """
    def kind(cell) -> str:
        return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")

    use_metadata = any(kind(c) != "-" for c in nb.cells)
    title_seen = False
    count = 1
    for cell in nb.cells:
        text = cell.source.strip()
        if cell.cell_type == "markdown" and not title_seen and re.search(r"(?m)^# ", text):
            title_seen = True
            if re.fullmatch(r"# [^\n]*", text):
                continue
        if kind(cell) == "skip" or "remove-cell" in cell.get("metadata", {}).get("tags", []):
            continue
        if use_metadata:
            count += kind(cell) in {"slide", "subslide"}
        else:
            count += cell.cell_type == "markdown" and bool(re.match(r"#{1,2} ", text))
    return count


@pytest.fixture
def fake_assets(tmp_path: Path) -> Path:
    """A node_modules with tiny stand-ins for reveal.js and MathJax (for HTML-only tests)."""
    node_modules = tmp_path / "slides" / "node_modules"
    for key, rel in slides.ASSET_FILES.items():
        path = node_modules / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        body = "/* css */" if rel.endswith(".css") else f"/* {key} </script> <!-- */"
        path.write_text(body)
    (tmp_path / "slides" / "package-lock.json").write_text("{}")
    os.utime(tmp_path / "slides" / "package-lock.json", (1, 1))  # older than node_modules
    return node_modules


def lecture_notebook() -> nbformat.NotebookNode:
    """A small lecture: title, math, a matplotlib PNG, fragments, notes, a subslide."""
    nb = new_notebook(metadata={"language_info": {"name": "python"}})
    nb.cells = [
        md("# Test lecture: maths and a figure", "slide"),
        md("Presented by the test suite."),
        md("## The mean image\n\n$$\\bar{x}_c = \\frac{1}{N_c}\\sum_{n:\\,y_n=c} x^{(n)}$$\n\n"
           "Inline too: $\\frac{a}{b}$ and \\(x^2\\), while `$HOME` stays code.", "slide"),
        md("Say: the sum runs over the images of class $c$.", "notes"),
        code("import numpy as np\nprint(np.arange(3))", "fragment",
             outputs=[stream("[0 1 2]\n")]),
        md("## A figure", "slide"),
        code("fig", tags=["hide-input"], outputs=[png_output(png_bytes())]),
        md("### Same figure, vertically", "subslide"),
        md("$$E(\\boldsymbol{x},\\boldsymbol{h}) = -\\boldsymbol{a}^\\top\\boldsymbol{x}"
           " - \\boldsymbol{b}^\\top\\boldsymbol{h} - \\boldsymbol{x}^\\top W\\boldsymbol{h}$$"),
        code("secret = 1", "skip"),
        md("## A wide figure, marked as a fragment", "slide"),
        code("wide", "fragment", tags=["hide-input"],
             outputs=[png_output(png_bytes(10, 3, dpi=200),  # "retina": 2000 x 600 pixels
                                 {"image/png": {"width": 1000, "height": 300}})]),
        code("print('after the figure')", "fragment", outputs=[stream("after\n")]),
        md("## The end", "slide"),
        code("print('not on a slide')", tags=["remove-cell"], outputs=[stream("hidden\n")]),
    ]
    return nb


# --------------------------------------------------------------------------------------------
# slide grouping
# --------------------------------------------------------------------------------------------


def test_slide_types_give_the_expected_structure():
    nb = new_notebook()
    nb.cells = [
        md("# Title", "slide"),                                        # 0: title slide
        md("by someone"),                                              # 1: on the title slide
        md("## A", "slide"),                                           # 2
        code("x = 1", "fragment", outputs=[stream("1\n")]),            # 3: fragment 0
        md("continues the fragment"),                                  # 4: fragment 0
        md("speaker only", "notes"),                                   # 5: notes of A
        md("second fragment", "fragment"),                             # 6: fragment 1
        md("## A, below", "subslide"),                                 # 7
        code("plot()", tags=["hide-input"], outputs=[stream("out\n")]),  # 8
        md("skipped", "skip"),                                         # 9
        code("gone()", tags=["remove-cell"]),                          # 10
        md("## B", "slide"),                                           # 11
    ]
    plan = slides.plan_deck(nb)
    assert plan.title == "Title" and not plan.by_headings and plan.title_only_cell
    assert plan.shape() == [[[1]], [[2, 3, 4, 6], [7, 8]], [[11]]]
    a = plan.stacks[1][0]
    assert [p.fragment for p in a.parts] == [None, 0, 0, 1]
    assert a.notes == [5]
    hidden = plan.stacks[1][1].parts[1]
    assert (hidden.cell, hidden.show_input, hidden.show_output) == (8, False, True)
    assert plan.total_slides == expected_total_slides(nb) == 4

    soup = BeautifulSoup(slides.render_deck(nb, offline=False, plan=plan), "html.parser")
    top = soup.select(".reveal .slides > section")
    assert len(top) == 3
    assert len(top[1].find_all("section", recursive=False)) == 2  # a vertical stack
    first = top[1].find_all("section", recursive=False)[0]
    fragments = first.select("div.fragment")
    assert [f["data-fragment-index"] for f in fragments] == ["0", "1"]
    assert "continues the fragment" in fragments[0].get_text()
    assert first.select_one("aside.notes").get_text(strip=True) == "speaker only"
    assert "speaker only" not in first.select_one(".ck-body").get_text()
    below = top[1].find_all("section", recursive=False)[1]
    assert below.select(".ck-outputs") and not below.select(".ck-input")  # hide-input
    text = soup.get_text()
    assert "skipped" not in text and "gone()" not in text
    assert soup.select_one(".ck-title-slide h1").get_text() == "Title"
    assert "by someone" in soup.select_one(".ck-title-slide").get_text()
    assert soup.select(".ck-footer") and slides.COURSE_TITLE in soup.select_one(".ck-footer").text


def test_notebook_without_metadata_splits_at_headings(tmp_path, fake_assets, capsys):
    nb = new_notebook()
    nb.cells = [
        md("# Week 9: no metadata\n\nAn introduction."),
        code("x = 1"),
        md("## First"),
        code("print(2)", outputs=[stream("2\n")]),
        md("### a sub-heading stays on the slide"),
        md("## Second"),
        md("Text without a heading."),
    ]
    plan = slides.plan_deck(nb)
    assert plan.by_headings
    assert plan.shape() == [[[]], [[0, 1]], [[2, 3, 4]], [[5, 6]]]
    assert plan.total_slides == expected_total_slides(nb)

    path = tmp_path / "week9_plain" / "plain.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    deck = slides.build_deck(path, tmp_path / "out", slides_dir=fake_assets.parent)
    assert deck == tmp_path / "out" / "plain.html" and deck.stat().st_size > 1000
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "no slide metadata" in out[0]
    soup = BeautifulSoup(deck.read_text(), "html.parser")
    assert len(soup.select(".reveal .slides > section")) == 4
    assert soup.select_one(".ck-title-slide h1").get_text() == "Week 9: no metadata"
    assert soup.select_one(".ck-footer-week").get_text() == "Week 9: no metadata"


def test_title_falls_back_to_file_name_and_leading_cells_join_the_title_slide():
    nb = new_notebook()
    nb.cells = [md("Some words first.", "-"), md("## Only h2", "slide")]
    plan = slides.plan_deck(nb, fallback_title="my lecture")
    assert plan.title == "my lecture" and plan.shape() == [[[0]], [[1]]]


# --------------------------------------------------------------------------------------------
# rendering
# --------------------------------------------------------------------------------------------


def test_math_survives_markdown_verbatim():
    source = (
        "Inline $\\frac{a}{b}$, $a<b$, $a_1 * b_2 * c_3$ and \\(x^2\\); price \\$5.\n\n"
        "$$\\bar{x}_c = \\frac{1}{N_c}\\sum_{n:\\,y_n=c} x^{(n)},$$\n\n"
        "\\[ E = mc^2 \\]\n\n"
        "\\begin{align} a &= b \\\\ c &= d \\end{align}\n\n"
        "Code keeps dollars: `$HOME` and `a $x$ b`.\n\n"
        "```bash\necho $PATH $$\n```\n"
    )
    out = slides.render_markdown(source)
    for tex in ("$\\frac{a}{b}$", "$a&lt;b$", "$a_1 * b_2 * c_3$", "\\(x^2\\)", "\\$5",
                "$$\\bar{x}_c = \\frac{1}{N_c}\\sum_{n:\\,y_n=c} x^{(n)},$$",
                "\\[ E = mc^2 \\]", "\\begin{align} a &amp;= b \\\\ c &amp;= d \\end{align}"):
        assert tex in out, tex
    assert "<em>" not in out  # underscores and stars inside maths are not emphasis
    assert "<code>$HOME</code>" in out and "<code>a $x$ b</code>" in out
    code_block = BeautifulSoup(out, "html.parser").select_one(".highlight pre").get_text()
    assert code_block.strip() == "echo $PATH $$"


def test_offline_markdown_drops_badges_and_embeds_local_images(tmp_path):
    (tmp_path / "fig.png").write_bytes(png_bytes(1, 1))
    source = (
        "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        "(https://colab.research.google.com/x)\n\n"
        "Text ![local](fig.png) and ![remote](https://example.org/a.png).\n\n"
        "<script src=\"https://example.org/x.js\"></script>"
    )
    out = slides.render_markdown(source, resource_dir=tmp_path)
    soup = BeautifulSoup(out, "html.parser")
    assert all(img["src"].startswith("data:image/png;base64,") for img in soup.find_all("img"))
    assert len(soup.find_all("img")) == 1
    assert "Open In Colab" not in out and "[remote]" in out and not soup.find("script")
    online = slides.render_markdown(source, resource_dir=tmp_path, offline=False)
    assert "colab-badge.svg" in online  # --cdn decks need network anyway: badges stay


def test_outputs_images_text_truncation_and_noise():
    raw = png_bytes(4, 2.5, dpi=100)  # 400 x 250 pixels
    html = slides.render_output(png_output(raw), offline=True, resource_dir=None)
    img = BeautifulSoup(html, "html.parser").img
    assert img["src"].startswith("data:image/png;base64,")
    assert (img["width"], img["height"]) == ("400", "250")
    retina = png_output(raw, {"image/png": {"width": 200, "height": 125}})
    img = BeautifulSoup(slides.render_output(retina, offline=True, resource_dir=None),
                        "html.parser").img
    assert (img["width"], img["height"]) == ("200", "125")  # shown at double density
    assert slides.display_size((4000, 3000)) == (627, 470)  # fits the slide, keeps the aspect

    long = stream("".join(f"line {i}\n" for i in range(100)))
    html = slides.render_output(long, offline=True, resource_dir=None)
    assert "line 0" in html and "line 99" not in html
    assert f"… {100 - slides.MAX_OUTPUT_LINES} more lines not shown" in html

    repr_only = new_output("execute_result", data={"text/plain": "[<matplotlib.lines.Line2D "
                                                   "at 0x7f00aa>]"}, execution_count=1)
    error = new_output("error", ename="ValueError", evalue="boom", traceback=["boom"])
    warning = stream("UserWarning: careful\n", name="stderr")
    for out in (repr_only, error, warning):
        assert slides.render_output(out, offline=True, resource_dir=None) == ""
    table = new_output("execute_result", execution_count=1, data={
        "text/html": "<table><tr><td>1</td></tr></table><script>alert(1)</script>",
        "text/plain": "table"})
    html = slides.render_output(table, offline=True, resource_dir=None)
    assert "<table>" in html and "<script" not in html


def test_offline_deck_references_nothing_remote(tmp_path, fake_assets):
    path = tmp_path / "week9_test" / "lecture.ipynb"
    path.parent.mkdir()
    nbformat.write(lecture_notebook(), path)
    deck = slides.build_deck(path, tmp_path / "out", slides_dir=fake_assets.parent)
    text = deck.read_text()
    soup = BeautifulSoup(text, "html.parser")
    for tag in soup.find_all(["script", "img", "iframe", "link", "source"]):
        for attr in ("src", "href"):
            assert not str(tag.get(attr, "")).startswith(("http:", "https:", "//")), tag
    for style in soup.find_all("style"):
        assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", style.text), style.text[:200]
    assert not soup.find("link", rel="stylesheet")
    assert "@font-face" not in text  # system fonts only
    # assets are inlined, and the inlined script cannot end its <script> element early
    scripts = [s.string or "" for s in soup.find_all("script")]
    assert any("/* reveal_js <\\/script> <\\!-- */" in s for s in scripts)
    assert "$\\frac{a}{b}$" in text
    config = json.loads(soup.find(id="ck-deck-config").string)
    assert (config["width"], config["height"]) == (1280, 720)


def test_cdn_deck_needs_no_npm(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    path = tmp_path / "week9_test" / "lecture.ipynb"
    path.parent.mkdir()
    nbformat.write(lecture_notebook(), path)
    deck = slides.build_deck(path, tmp_path / "out", cdn=True, slides_dir=tmp_path / "none")
    soup = BeautifulSoup(deck.read_text(), "html.parser")
    sources = [s["src"] for s in soup.find_all("script", src=True)]
    assert sources == [slides.CDN_URLS[k] for k in ("reveal_js", "notes_js", "mathjax_js")]
    assert soup.find("link", rel="stylesheet")["href"] == slides.CDN_URLS["reveal_css"]
    assert soup.find("img")["src"].startswith("data:")  # figures are inlined all the same


# --------------------------------------------------------------------------------------------
# npm handling and the command line
# --------------------------------------------------------------------------------------------


def test_missing_npm_is_one_clear_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    slides_dir = tmp_path / "slides"
    slides_dir.mkdir()
    (slides_dir / "package-lock.json").write_text("{}")
    with pytest.raises(slides.NpmMissingError) as info:
        slides.ensure_assets(slides_dir)
    message = str(info.value)
    assert "\n" not in message
    assert "npm" in message and "offline" in message
    assert "--cdn" in message and "jupyterlab-rise" in message

    # the same through `coursekit slides`, with PATH emptied as on a machine without Node.js
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr(assets, "SLIDES_DIR", slides_dir)
    nb_dir = tmp_path / "notebooks" / "week9_test"
    nb_dir.mkdir(parents=True)
    nbformat.write(lecture_notebook(), nb_dir / "lecture.ipynb")
    parser = argparse.ArgumentParser(prog="coursekit")
    slides.add_slides_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["slides", "--notebooks", str(tmp_path / "notebooks"),
                              "--executed", str(tmp_path / "build"), "--out",
                              str(tmp_path / "decks")])
    assert args.func(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("coursekit: error: npm")
    args = parser.parse_args(["slides", "9", "--cdn", "--notebooks", str(tmp_path / "notebooks"),
                              "--executed", str(tmp_path / "build"), "--out",
                              str(tmp_path / "decks")])
    assert args.func(args) == 0
    assert (tmp_path / "decks" / "week9_test" / "lecture.html").is_file()
    assert "lecture: from " in capsys.readouterr().out  # it says which notebook it used


JAN, JUN = "2026-01-01T10:00:00+00:00", "2026-06-01T10:00:00+00:00"


def _lecture(root: Path, name: str, words: str, *, mode: str | None = None,
             executed: str | None = None, mtime: str | None = None) -> Path:
    """A two-slide lecture week2_ebm/<name>.ipynb saying "<words> outputs"; ``mode`` and
    ``executed`` as the runner records them, ``mtime`` the file's date (ISO strings)."""
    nb = new_notebook()
    nb.cells = [md(f"# Lecture {name}", "slide"), md(f"{words} outputs", "slide")]
    if mode is not None:
        nb.metadata["coursekit"] = {"mode": mode, "executed": executed}
    path = root / "week2_ebm" / f"{name}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    if mtime is not None:
        stamp = datetime.fromisoformat(mtime).timestamp()
        os.utime(path, (stamp, stamp))
    return path


def test_decks_come_from_full_mode_outputs_and_say_which(tmp_path, fake_assets, capsys):
    src, build = tmp_path / "notebooks", tmp_path / "build" / "notebooks"
    # a: committed before modes were recorded (taken as full), and a newer SMOKE run in build/
    _lecture(src, "a", "committed", mtime=JAN)
    _lecture(build, "a", "smoke", mode="smoke", executed=JUN)
    # b: committed full-mode outputs, and a newer FULL run in build/: build/ wins
    _lecture(src, "b", "committed", mode="full", executed=JAN)
    _lecture(build, "b", "fresh", mode="full", executed=JUN)
    # c: a full run in build/ that is OLDER than the committed outputs
    _lecture(src, "c", "committed", mode="full", executed=JUN)
    _lecture(build, "c", "stale", mode="full", executed=JAN)
    # d: a copy in build/ that records no mode (made before the runner recorded it)
    _lecture(src, "d", "committed", mtime=JAN)
    _lecture(build, "d", "unrecorded")
    out_root = tmp_path / "decks"
    decks = slides.build_all("2", build, out_root, notebooks_root=src,
                             slides_dir=fake_assets.parent)
    texts = {deck.stem: deck.read_text() for deck in decks}
    assert sorted(texts) == ["a", "b", "c", "d"]
    for name, words in {"a": "committed", "b": "fresh", "c": "committed",
                        "d": "committed"}.items():
        assert f"{words} outputs" in texts[name], name
        soup = BeautifulSoup(texts[name], "html.parser")
        assert not soup.select(".ck-mode-mark, .ck-footer-mark, meta[name=coursekit-mark]")
    printed = capsys.readouterr().out
    week = "week2_ebm"
    assert (f"a: from {src / week / 'a.ipynb'} (committed, full mode assumed: committed outputs "
            "come from `make outputs`, file dated 2026-01-01 10:00 UTC)") in printed
    assert (f"  not from {build / week / 'a.ipynb'} (executed, smoke mode, run 2026-06-01 "
            "10:00 UTC): smoke mode; `coursekit slides --allow-smoke` would use it") in printed
    assert (f"b: from {build / week / 'b.ipynb'} (executed, full mode, run 2026-06-01 10:00 UTC)"
            in printed)
    assert f"  not from {src / week / 'b.ipynb'} (committed, full mode, run 2026-01-01" in printed
    assert f"c: from {src / week / 'c.ipynb'} (committed, full mode, run 2026-06-01" in printed
    assert f"  not from {build / week / 'd.ipynb'} (executed, mode not recorded" in printed
    assert "SMOKE" not in printed

    # asked for explicitly: the newest outputs whatever their mode, marked unless full mode
    decks = slides.build_all("2", build, out_root, notebooks_root=src,
                             slides_dir=fake_assets.parent, allow_smoke=True)
    printed = capsys.readouterr().out
    for deck in decks:
        soup = BeautifulSoup(deck.read_text(), "html.parser")
        leaves = soup.select("section.ck-slide")
        marks = soup.select("section.ck-slide > .ck-mode-mark")
        if deck.stem in ("a", "d"):  # smoke-mode and unrecorded outputs
            assert ("smoke" if deck.stem == "a" else "unrecorded") + " outputs" in soup.text
            assert len(marks) == len(leaves) == 2  # the title slide and the other one
            assert all(m.get_text() == slides.SMOKE_MARK for m in marks)
            assert soup.find("meta", attrs={"name": "coursekit-mark"})
            assert "SMOKE MODE" in soup.select_one(".ck-footer").text
            assert soup.title.text.startswith("[smoke mode]")
            assert f"{deck.stem}: from {build / week / deck.stem}.ipynb" in printed
        else:
            assert not marks, deck.stem
    assert printed.count("[marked SMOKE MODE on every slide]") == 2


def test_no_deck_without_full_mode_outputs_unless_asked(tmp_path, fake_assets, capsys):
    src, build = tmp_path / "notebooks", tmp_path / "build" / "notebooks"
    _lecture(src, "good", "committed")
    _lecture(src, "quick", "smoke", mode="smoke", executed=JUN)  # smoke outputs committed
    out_root = tmp_path / "decks"
    with pytest.raises(slides.SlidesError, match=r"no deck for quick: no full-mode outputs.*"
                                                 r"SMOKE=1.*--allow-smoke.*1 other deck"):
        slides.build_all("2", build, out_root, notebooks_root=src,
                         slides_dir=fake_assets.parent)
    assert (out_root / "week2_ebm" / "good.html").is_file()  # the others are still built
    assert not (out_root / "week2_ebm" / "quick.html").exists()
    assert "quick: NO DECK" in capsys.readouterr().out
    decks = slides.build_all("2", build, out_root, notebooks_root=src,
                             slides_dir=fake_assets.parent, allow_smoke=True)
    marks = BeautifulSoup(decks[1].read_text(), "html.parser").select(".ck-mode-mark")
    assert decks[1].stem == "quick" and len(marks) == 2
    with pytest.raises(slides.SlidesError, match="week .7. has no lecture notebooks.*week2_ebm"):
        slides.build_all("7", build, out_root, notebooks_root=src,
                         slides_dir=fake_assets.parent)


def test_the_runner_records_the_mode_the_slides_read(tmp_path):
    from coursekit.course import runner

    # one definition of the record, written by the runner and read by the slides
    assert notebooks.RUN_METADATA_KEY == "coursekit"  # the key committed notebooks carry
    source = _lecture(tmp_path / "notebooks", "run", "any")
    before = datetime.now(timezone.utc).replace(microsecond=0)
    result = runner.execute_notebook(source, mode="smoke", out_dir=tmp_path / "build")
    assert result.status == "ok", result.error
    executed = Path(result.output)
    record = nbformat.read(executed, as_version=4).metadata["coursekit"]
    assert record["mode"] == "smoke"
    assert before <= datetime.fromisoformat(record["executed"])
    outputs = slides.notebook_outputs(executed, committed=False)
    assert (outputs.mode, outputs.assumed) == ("smoke", False)
    assert slides.choose_outputs(executed, None).chosen is None
    assert slides.choose_outputs(executed, None, allow_smoke=True).smoke


def test_figures_are_never_hidden_in_fragments():
    nb = lecture_notebook()
    plan = slides.plan_deck(nb)
    parts = {p.cell: p for stack in plan.stacks for slide in stack for p in slide.parts}
    figure = next(i for i, c in enumerate(nb.cells) if c.source == "wide")
    printout = figure + 1
    assert slides.slide_type(nb.cells[figure]) == "fragment"  # marked so in the notebook ...
    assert parts[figure].fragment is None  # ... but shown with its slide
    assert parts[printout].fragment is not None  # text still appears on a key press
    soup = BeautifulSoup(slides.render_deck(nb, offline=False, plan=plan), "html.parser")
    assert not soup.select(".fragment img, .fragment svg")
    img = soup.select("img.ck-img")[-1]
    assert (img["width"], img["height"], img["data-ck-dpi"]) == ("1000", "300", "200")
    assert slides.png_dpi(png_bytes(dpi=100)) == 100
    assert slides.png_dpi(b"not a png") is None


def test_npm_ci_runs_only_when_node_modules_is_missing_or_stale(tmp_path, monkeypatch):
    slides_dir = tmp_path / "slides"
    slides_dir.mkdir()
    lock = slides_dir / "package-lock.json"
    lock.write_text("{}")
    calls = []

    def fake_run(cmd, **kwargs):
        calls.append(cmd)
        for rel in slides.ASSET_FILES.values():
            target = slides_dir / "node_modules" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("x")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(subprocess, "run", fake_run)
    assert slides.ensure_assets(slides_dir) == slides_dir / "node_modules"
    assert calls == [["/usr/bin/npm", "ci", "--prefix", str(slides_dir), "--no-audit",
                      "--no-fund"]]
    slides.ensure_assets(slides_dir)
    assert len(calls) == 1  # up to date: nothing to do
    future = time.time() + 100
    os.utime(lock, (future, future))  # the lockfile changed (a version bump was pulled)
    slides.ensure_assets(slides_dir)
    assert len(calls) == 2


def test_package_json_pins_what_the_code_expects():
    package = json.loads((REPO / "slides" / "package.json").read_text())
    lock = json.loads((REPO / "slides" / "package-lock.json").read_text())
    assert package["dependencies"] == {"mathjax": slides.MATHJAX_VERSION,
                                       "reveal.js": slides.REVEAL_VERSION}
    for name, version in package["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), "pin exact versions"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version


# --------------------------------------------------------------------------------------------
# a real browser, offline
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    yield from launch()


def _open_offline(browser, deck: Path):
    """Open ``deck`` offline and wait for it to be ready; return (page, requests, blocked,
    errors) as :func:`browser_shared.open_offline` does."""
    page, requests, blocked, errors = open_offline(browser, deck.as_uri())
    page.wait_for_function("document.documentElement.dataset.ckReady === '1'", timeout=20_000)
    return page, requests, blocked, errors


FIGURES_ON_FIRST_VIEW = """() => {
    // every figure of the current slide as it first appears, before any key press
    const slide = Reveal.getCurrentSlide();
    const footer = document.querySelector('.ck-footer').getBoundingClientRect();
    const box = slide.getBoundingClientRect();
    const body = slide.querySelector('.ck-body').getBoundingClientRect();
    return Array.from(slide.querySelectorAll('img.ck-img')).map(img => {
        const r = img.getBoundingClientRect();
        let opacity = 1, visible = true;
        for (let e = img; e && e !== slide.parentElement; e = e.parentElement) {
            const st = getComputedStyle(e);
            opacity *= parseFloat(st.opacity);
            visible = visible && st.visibility !== 'hidden' && st.display !== 'none';
        }
        return {opacity, visible, left: r.left, right: r.right, top: r.top, bottom: r.bottom,
                width: r.width, slideTop: box.top, footerTop: footer.top,
                bodyWidth: body.width, logical: parseFloat(img.getAttribute('width')),
                natural: img.naturalWidth, dpi: parseFloat(img.dataset.ckDpi || '0'),
                slideScale: parseFloat(slide.dataset.ckScale), complete: img.complete};
    });
}"""


def _slide_indices(page) -> list[tuple[int, int]]:
    return [tuple(i) for i in page.evaluate(
        "Reveal.getSlides().map(s => { const i = Reveal.getIndices(s); return [i.h, i.v || 0]; })"
    )]


def _text_px(fig: dict) -> float:
    """Rendered size in CSS pixels of the smallest text of a course figure (ticks, legend)."""
    from coursekit.plotting import MIN_FONT_PT

    return MIN_FONT_PT * fig["dpi"] / 72 * fig["width"] / fig["natural"]


def _check_figures(page, name: str, *, readable: bool) -> list[dict]:
    """Go to every slide without pressing a key; each figure must be fully visible, as wide as
    the deck's rules make it and, when ``readable``, with text of at least 18 px."""
    reveal_scale = page.evaluate("Reveal.getScale()")
    found = []
    for h, v in _slide_indices(page):
        page.evaluate(f"Reveal.slide({h}, {v}, -1)")  # -1: no fragment shown yet
        page.wait_for_timeout(60)
        for fig in page.evaluate(FIGURES_ON_FIRST_VIEW):
            where = f"{name} slide {h}/{v}"
            assert fig["complete"] and fig["natural"] > 0, f"{where}: figure not loaded"
            assert fig["visible"] and fig["opacity"] == 1, f"{where}: figure hidden: {fig}"
            assert fig["top"] >= fig["slideTop"] - 1, f"{where}: figure cut at the top: {fig}"
            assert fig["bottom"] <= fig["footerTop"] + 1, f"{where}: figure runs under the footer"
            assert 0 <= fig["left"] and fig["right"] <= 1280, f"{where}: figure off screen: {fig}"
            # as wide as the slide, its own pixels, or (to fit the slide) at least
            # FIGURE_MIN_SCALE of its size in the notebook; all times the slide's own scale
            widest = min(fig["bodyWidth"] / fig["slideScale"], fig["natural"] * reveal_scale)
            floor = min(widest, slides.FIGURE_MIN_SCALE * fig["logical"] * reveal_scale)
            assert fig["width"] >= floor * fig["slideScale"] - 1, f"{where}: too narrow: {fig}"
            if readable and fig["dpi"]:
                assert _text_px(fig) >= 18, (
                    f"{where}: figure text renders at {_text_px(fig):.1f} px (< 18 px at "
                    f"1280x720): make the figure lower or wider, or give it its own slide"
                )
            found.append({**fig, "h": h, "v": v})
    return found


def _check_deck(browser, deck: Path, nb, name: str, *, readable: bool = True) -> list[dict]:
    page, requests, blocked, errors = _open_offline(browser, deck)
    try:
        assert page.evaluate("Reveal.isReady()")
        assert page.evaluate("Reveal.getTotalSlides()") == expected_total_slides(nb)
        typeset = page.evaluate("document.querySelectorAll('mjx-container').length")
        assert typeset > 0, "MathJax typeset nothing"
        assert page.evaluate("document.querySelectorAll('[data-mml-node=merror]').length") == 0
        leftover = page.evaluate("""() => {
            const copy = document.querySelector('.reveal .slides').cloneNode(true);
            copy.querySelectorAll('pre, code, script, style, mjx-container, aside.notes')
                .forEach(e => e.remove());
            return copy.textContent;
        }""")
        assert "$$" not in leftover and "\\frac" not in leftover and "\\(" not in leftover
        number = page.evaluate("document.querySelector('.slide-number').textContent")
        assert " ".join(number.split()) == f"1 / {expected_total_slides(nb)}"  # 'c/t
        page.evaluate("Reveal.configure({transition: 'none', backgroundTransition: 'none'})")
        figures = _check_figures(page, name, readable=readable)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shots = {"title": (0, 0)}
        shots["math"] = tuple(page.evaluate("""() => {
            const s = Reveal.getSlides().find(
                x => x.querySelector('.ck-body mjx-container[display="true"]'));
            const i = Reveal.getIndices(s);
            return [i.h, i.v || 0];
        }"""))
        if figures:
            widest = max(figures, key=lambda f: f["width"])
            shots["figure"] = (widest["h"], widest["v"])
        for label, (h, v) in shots.items():
            page.evaluate(f"Reveal.slide({h}, {v}, -1)")
            page.wait_for_timeout(150)
            assert page.evaluate("Reveal.getIndices().h") == h
            shot = SCREENSHOTS / f"{name}-{label}.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 5_000, f"{shot} looks empty"
        assert page.evaluate("document.querySelector('.ck-footer').textContent").startswith(
            slides.COURSE_TITLE
        )
        assert not errors, errors
    finally:
        page.close()
    assert blocked == [], f"the deck tried to reach the network: {blocked}"
    assert all(u.split(":", 1)[0] in LOCAL_SCHEMES for u in requests)
    return figures


@pytest.mark.slow
def test_deck_in_a_real_browser_offline(browser, tmp_path):
    nb = lecture_notebook()
    path = tmp_path / "week9_test" / "lecture.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    deck = slides.build_deck(path, tmp_path / "out")
    assert deck.stat().st_size > 1_000_000  # reveal.js and MathJax are inside
    figures = _check_deck(browser, deck, nb, "test_lecture")
    # the wide "retina" figure (1000 x 300 in the notebook, 2000 x 600 pixels) spans the
    # slide's content width (1168 of 1280 slide pixels, times reveal.js's scale for the window)
    wide = max(figures, key=lambda f: f["natural"])
    assert wide["natural"] == 2000
    assert wide["width"] == pytest.approx(wide["bodyWidth"], abs=1)
    assert wide["width"] >= 0.85 * 1280


@pytest.mark.slow
def test_smoke_mark_on_every_slide_in_a_real_browser(browser, tmp_path):
    nb = lecture_notebook()
    path = tmp_path / "week9_test" / "lecture.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    deck = slides.build_deck(path, tmp_path / "out", mark=slides.SMOKE_MARK)
    page, _, blocked, errors = _open_offline(browser, deck)
    try:
        page.evaluate("Reveal.configure({transition: 'none', backgroundTransition: 'none'})")
        for h, v in _slide_indices(page):
            page.evaluate(f"Reveal.slide({h}, {v}, -1)")
            page.wait_for_timeout(60)
            mark = page.evaluate("""() => {
                const m = Reveal.getCurrentSlide().querySelector('.ck-mode-mark');
                if (!m) return null;
                const r = m.getBoundingClientRect(), st = getComputedStyle(m);
                return {text: m.textContent, top: r.top, left: r.left, right: r.right,
                        bottom: r.bottom, font: parseFloat(st.fontSize) * Reveal.getScale(),
                        shown: st.visibility === 'visible' && st.display !== 'none'
                               && st.opacity === '1', colour: st.backgroundColor};
            }""")
            assert mark is not None, f"slide {h}/{v} has no smoke-mode mark"
            assert mark["shown"] and mark["text"] == slides.SMOKE_MARK, mark
            assert 0 <= mark["top"] and mark["bottom"] <= 720, mark
            assert 0 <= mark["left"] and mark["right"] <= 1280, mark
            assert mark["font"] >= 18, mark
            if (h, v) == (1, 0):
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / "test_lecture-smoke-mark.png"))
        assert not errors, errors
    finally:
        page.close()
    assert blocked == []


@pytest.mark.parametrize("source", LECTURES, ids=[p.stem for p in LECTURES])
@pytest.mark.slow
def test_course_deck_in_a_real_browser_offline(browser, tmp_path, source):
    executed = REPO / "build" / "notebooks" / source.parent.name / source.name
    choice = slides.choose_outputs(executed if executed.exists() else None, source)
    assert choice.chosen is not None and not choice.smoke, choice
    notebook = choice.chosen.path
    start = time.perf_counter()
    deck = slides.build_deck(notebook, tmp_path / source.parent.name, resource_dir=source.parent)
    seconds = time.perf_counter() - start
    print(f"{source.stem} deck: {deck.stat().st_size / 1e6:.2f} MB in {seconds:.2f} s",
          file=sys.stderr)
    # Lecture decks are shown in a hall: their figures must read from the back (>= 18 px).
    # That holds for outputs made with the current figure style, i.e. by a runner that records
    # the mode (coursekit.course.runner); lab decks are checked for visibility and width only.
    recorded = not choice.chosen.assumed
    readable = recorded and source.stem.endswith("_lecture")
    figures = _check_deck(browser, deck, nbformat.read(notebook, as_version=4), source.stem,
                          readable=readable)
    for fig in figures:
        if fig["dpi"]:
            print(f"  slide {fig['h']}/{fig['v']}: figure {fig['width']:.0f} px wide; its "
                  f"15 pt text (course style) at {_text_px(fig):.1f} px", file=sys.stderr)
