"""Checks of a built website: nothing loads from another host, and no internal link is broken.

Sphinx warns about the cross-references it resolves; these checks read the HTML it wrote, so
they also cover the links Sphinx passes through untouched (the decks, the student versions,
links inside notebook outputs) and every file a page asks the browser to load.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: (tag, attribute) pairs whose URL the browser loads without a click.
LOADS = {("script", "src"), ("img", "src"), ("link", "href"), ("iframe", "src"),
         ("source", "src"), ("video", "src"), ("audio", "src"), ("embed", "src"),
         ("object", "data"), ("input", "src")}
#: Links a reader follows; relative ones must exist on the site.
FOLLOWS = {("a", "href"), ("area", "href")}
_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")\s]+)")
_LOCAL_SCHEMES = ("data:", "blob:", "about:", "javascript:", "mailto:", "tel:")


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[int, str, str, str]] = []  # (line, tag, attribute, url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if (tag, name) in LOADS or (tag, name) in FOLLOWS:
                self.refs.append((self.getpos()[0], tag, name, value.strip()))
            elif name == "style":
                for url in _CSS_URL.findall(value):
                    self.refs.append((self.getpos()[0], tag, "style", url))


def _is_remote(url: str) -> bool:
    scheme = urlsplit(url).scheme.lower()
    return url.startswith("//") or (bool(scheme) and not url.startswith(_LOCAL_SCHEMES))


def _target(page: Path, url: str) -> Path | None:
    """The file a relative URL of ``page`` points at (None for a pure #fragment)."""
    path = unquote(urlsplit(url).path)
    if not path:
        return None
    target = (page.parent / path).resolve()
    return target / "index.html" if target.is_dir() else target


def problems(site: Path) -> list[str]:
    """Every remote load and broken internal link of the site under ``site``, one line each
    (``page:line: ...``); an empty list when there are none."""
    site = Path(site).resolve()
    found: list[str] = []
    for page in sorted(site.rglob("*.html")):
        rel = page.relative_to(site).as_posix()
        if rel.startswith("slides/"):
            continue  # the decks are checked by their own tests (self-contained, inlined)
        parser = _Refs()
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        for line, tag, attr, url in parser.refs:
            where = f"{rel}:{line}"
            loads = (tag, attr) in LOADS or attr == "style"
            if _is_remote(url):
                if loads:
                    found.append(f"{where}: <{tag} {attr}> loads {url} from another host")
                continue
            if url.startswith(_LOCAL_SCHEMES):
                continue
            target = _target(page, url)
            if target is not None and not target.exists():
                found.append(f"{where}: broken link to {url} (no {_shown(target, site)})")
    for sheet in sorted(site.rglob("*.css")):
        text = sheet.read_text(encoding="utf-8", errors="replace")
        for url in _CSS_URL.findall(text):
            if _is_remote(url):
                found.append(f"{sheet.relative_to(site).as_posix()}: loads {url}")
    return found


def _shown(path: Path, site: Path) -> str:
    try:
        return path.relative_to(site).as_posix()
    except ValueError:
        return str(path)
