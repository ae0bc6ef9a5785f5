"""The course website in a real browser: the site ``make book`` builds from the committed
notebooks, opened from ``file://`` in headless Chromium with every request to another host
aborted and recorded.

For the landing page and one page per week: the page renders without script errors, every
piece of maths is typeset by the local MathJax, every image loads; the search finds a word of
the week 3 labs; and no request leaves the machine.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_shared import LOCAL_SCHEMES, launch, open_offline, unavailable
from conftest import REPO

from coursekit.course import assets
from coursekit.course.book import build_book
from coursekit.course.notebooks import find_notebooks

pytest.importorskip("myst_nb", reason="the website needs the [book] extra (make venv)")
pytestmark = pytest.mark.slow

SEARCH_WORD = "reparameterisation"  # the week 3 labs' subject


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The real course site, built once for this module (decks included, as make book does)."""
    try:
        assets.ensure_assets()
    except assets.SlidesError as exc:
        unavailable(f"npm assets unavailable: {exc}")
    out = tmp_path_factory.mktemp("book") / "book"
    return build_book(out, repo=REPO).parent


@pytest.fixture(scope="module")
def browser():
    yield from launch()


def _week_pages(site: Path) -> list[Path]:
    """Per week: its chapter page and its first notebook (the lecture when there is one)."""
    pages = []
    for week in sorted({nb.parent.name for nb in find_notebooks(REPO / "notebooks")}):
        pages.append(site / "notebooks" / week / "index.html")
        first = sorted((site / "notebooks" / week).glob("*_lecture.html")) or \
            sorted(p for p in (site / "notebooks" / week).glob("*.html") if p.stem != "index")
        pages.append(first[0])
    return pages


MATH_STATE = """async () => {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
        await MathJax.startup.promise;
    }
    const maths = Array.from(document.querySelectorAll('span.math, div.math'));
    return {
        maths: maths.length,
        untypeset: maths.filter(m => !m.querySelector('mjx-container'))
                        .map(m => m.textContent.slice(0, 60)),
        errors: document.querySelectorAll('[data-mml-node=merror]').length,
    };
}"""

IMAGES = """async () => {
    const imgs = Array.from(document.images);
    for (const img of imgs) {
        img.loading = 'eager';
        img.scrollIntoView();
        if (!img.complete) { await new Promise(r => { img.onload = r; img.onerror = r; }); }
    }
    return imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src);
}"""


def _open(browser, url: str):
    page, requests, blocked, errors = open_offline(browser, url, height=900)
    page.wait_for_load_state("load")
    return page, requests, blocked, errors


def test_landing_and_every_week_render_offline_with_maths_and_images(site, browser):
    checked, typeset = [], 0
    for html in [site / "index.html", *_week_pages(site)]:
        page, requests, blocked, errors = _open(browser, html.as_uri())
        try:
            name = html.relative_to(site).as_posix()
            heading = page.evaluate("document.querySelector('article h1')?.textContent || ''")
            assert heading.strip(), f"{name}: no title rendered"
            state = page.evaluate(MATH_STATE)
            assert state["untypeset"] == [], f"{name}: maths not typeset: {state['untypeset']}"
            assert state["errors"] == 0, f"{name}: MathJax errors"
            typeset += state["maths"]
            missing = page.evaluate(IMAGES)
            assert missing == [], f"{name}: images that did not load: {missing}"
            assert not errors, f"{name}: {errors}"
        finally:
            page.close()
        assert blocked == [], f"{name} tried to reach another host: {blocked}"
        assert all(u.split(":", 1)[0] in LOCAL_SCHEMES for u in requests)
        checked.append(name)
    assert typeset > 50, "expected the lectures' maths on the pages"
    weeks = {nb.parent.name for nb in find_notebooks(REPO / "notebooks")}
    assert len(checked) == 1 + 2 * len(weeks)
    # the landing page links every week's chapter, and the lecture decks ship with the site
    assert (site / "slides" / "week3_vae" / "week3_vae_lecture.html").is_file()


def test_search_finds_the_week3_labs_from_disk(site, browser):
    page, requests, blocked, errors = _open(browser, (site / "search.html").as_uri()
                                            + f"?q={SEARCH_WORD}")
    try:
        page.wait_for_function(
            "document.querySelectorAll('#search-results ul.search li').length > 0",
            timeout=20_000)
        found = page.evaluate(
            "Array.from(document.querySelectorAll('#search-results ul.search li a'))"
            ".map(a => a.getAttribute('href'))")
        assert not errors, errors
    finally:
        page.close()
    assert any("week3_vae/week3_vae_pytorch.html" in href for href in found), found
    assert blocked == [], blocked
