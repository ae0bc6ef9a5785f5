"""A real browser for the tests of the decks and the website: headless Chromium (Debian's
``chromium``) driven by Playwright, every request to another host aborted and recorded.

Without Chromium, Playwright or npm's assets the browser tests skip with the reason, unless
``COURSEKIT_SLIDES_REQUIRED`` is set (as ``.ci/run`` does): then they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from coursekit.course import assets

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOCAL_SCHEMES = ("file", "data", "blob", "about")


def unavailable(reason: str) -> None:
    """Skip the test for ``reason``, or fail it where the browser tests are required."""
    if os.environ.get("COURSEKIT_SLIDES_REQUIRED"):
        pytest.fail(f"browser test required but {reason}")
    pytest.skip(reason)


def launch() -> Iterator[Any]:
    """A fixture body: npm's assets installed, then one Chromium for the module."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} not installed (apt install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install playwright)")
    try:
        assets.ensure_assets()
    except assets.SlidesError as exc:
        unavailable(f"npm assets unavailable: {exc}")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_offline(browser: Any, url: str, *, width: int = 1280, height: int = 720):
    """Open ``url`` with every non-local request aborted; return (page, requests, blocked,
    errors): every URL asked for, those aborted, and the page's script and console errors."""
    page = browser.new_page(viewport={"width": width, "height": height})
    requests: list[str] = []
    errors: list[str] = []
    blocked: list[str] = []

    def route(r: Any) -> None:
        requests.append(r.request.url)
        if r.request.url.split(":", 1)[0].lower() in LOCAL_SCHEMES:
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url)
    return page, requests, blocked, errors
