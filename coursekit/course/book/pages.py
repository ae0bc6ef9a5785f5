"""The website's pages, written as a Sphinx source tree that keeps the repository's layout.

::

    index.md                                  the landing page: the README's opening, its
                                              "Two commands" and "The weeks", the licence
    <slug>.md                                 every other README section (data, modes, ...)
    notebooks/<week>/index.md                 one chapter per week: the lecture, then the labs
    notebooks/<week>/<name>.ipynb             the committed notebooks, outputs as committed
    benchmarks/results/<table>.md             the benchmark and course results tables
    _extra/slides/<week>/<name>.html          the decks (copied to the site as they are)
    _extra/exercises/<week>/<name>.ipynb      the student versions

Only notebooks with full-mode outputs go on the site by default (:func:`choose_pages`), the
same rule as the decks; the others are left out with a line that names them, or, when asked,
shown under a SMOKE MODE banner. Links are rewritten by :mod:`coursekit.course.book.links`.
"""

from __future__ import annotations

import copy
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coursekit.config import REPO_URL
from coursekit.course.book import links
from coursekit.course.notebooks import FULL_MODE, find_notebooks, notebook_outputs, week_folders

NO_OUTPUTS = "no outputs"
SMOKE_BANNER = "these outputs come from a quick test run, not the course's full-mode results"
#: README sections that make the landing page; every other ``##`` section gets its own page.
LANDING_SECTIONS = ("Two commands", "The weeks", "License")
COLAB = "https://colab.research.google.com/github/" + REPO_URL.split("github.com/", 1)[1]
_KIND_ORDER = {"lecture": 0, "pytorch": 1, "keras": 2}


@dataclass(frozen=True)
class Page:
    """One notebook of the site: where it comes from, how it was run, what it links to."""

    source: Path  # the committed notebook
    path: str  # its repository path, which is its place on the site
    mode: str  # full, smoke, unknown or NO_OUTPUTS
    describe: str  # where the outputs come from, for the build's listing
    title: str
    kind: str  # lecture, pytorch, keras or notebook
    student: str | None = None  # site path of the student version
    deck: str | None = None  # site path of the deck

    @property
    def week(self) -> str:
        return posixpath.basename(posixpath.dirname(self.path))


@dataclass
class Selection:
    """The pages on the site, and the notebooks left out with the reason."""

    pages: list[Page] = field(default_factory=list)
    left_out: list[tuple[Path, str]] = field(default_factory=list)


def _title(nb: Any, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+?)\s*#*\s*$", cell.source, re.MULTILINE)
            if match:
                return match.group(1)
    return fallback


def _kind(stem: str) -> str:
    for kind in ("lecture", "pytorch", "keras"):
        if stem.endswith("_" + kind):
            return kind
    return "notebook"


def has_outputs(nb: Any) -> bool:
    """True when at least one code cell of ``nb`` has an output."""
    return any(cell.cell_type == "code" and cell.get("outputs") for cell in nb.cells)


def choose_pages(root: Path, *, allow_smoke: bool = False) -> Selection:
    """Every committed notebook under ``root`` that goes on the site (see the module doc)."""
    import nbformat

    selection = Selection()
    for source in find_notebooks(root):
        nb = nbformat.read(source, as_version=4)
        rel = source.relative_to(root).as_posix()
        outputs = notebook_outputs(source, committed=True)
        mode, describe = outputs.mode, outputs.describe()
        if not has_outputs(nb):
            mode, describe = NO_OUTPUTS, f"{source} (committed, no outputs)"
        if mode != FULL_MODE and not allow_smoke:
            selection.left_out.append(
                (source, f"{mode if mode == NO_OUTPUTS else mode + ' mode'}; "
                         "`coursekit book --allow-smoke` would show it under a banner"))
            continue
        selection.pages.append(Page(
            source=source, path=f"notebooks/{rel}", mode=mode, describe=describe,
            title=_title(nb, source.stem.replace("_", " ")), kind=_kind(source.stem)))
    selection.pages.sort(key=lambda p: (p.week, _KIND_ORDER.get(p.kind, 9), p.path))
    return selection


def readme_sections(text: str) -> tuple[str, str, list[tuple[str, str]]]:
    """(title, opening, [(heading, body), ...]) of a README split at its ``##`` headings
    (headings inside fenced code are text)."""
    title, opening, sections = "", [], []
    current: list[str] = opening
    fence = None
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            fence = None if fence and stripped.startswith(fence) else (fence or stripped[:3])
        if fence is None and line.startswith("# ") and not title:
            title = line[2:].strip()
            continue
        if fence is None and line.startswith("## "):
            sections.append((line[3:].strip(), []))
            current = sections[-1][1]
            continue
        current.append(line)
    return (title, "\n".join(opening).strip(),
            [(head, "\n".join(body).strip()) for head, body in sections])


def slug(heading: str) -> str:
    """``Data: where it comes from`` -> ``data``; ``For the lecturer`` -> ``for-the-lecturer``."""
    words = re.sub(r"[^a-z0-9 ]", "", heading.split(":")[0].lower()).split()
    return "-".join(words) or "section"


def _week_number(week: str) -> str:
    match = re.match(r"week(\d+)", week)
    return match.group(1) if match else week


def landing_page(title: str, opening: str, sections: list[tuple[str, str]],
                 chapters: list[tuple[str, str]], guide: list[str], tables: list[str]) -> str:
    """The landing page: the README's opening and its landing sections, with each week's row
    of "The weeks" linked to that week's chapter, and the site's (hidden) tables of contents.
    ``chapters``: (week folder, chapter title); ``guide`` and ``tables``: page names."""
    chapter_of = {_week_number(week): week for week, _ in chapters}
    parts = [f"# {title}", "", opening, ""]
    for head, body in sections:
        if head == "The weeks":
            body = re.sub(
                r"^\| (\d+) \|",
                lambda m: (f"| [{m.group(1)}](notebooks/{chapter_of[m.group(1)]}/index.md) |"
                           if m.group(1) in chapter_of else m.group(0)),
                body, flags=re.MULTILINE)
        parts += [f"## {head}", "", body, ""]
    parts += _toctree("Weeks", [f"notebooks/{week}/index" for week, _ in chapters])
    parts += _toctree("Guide", guide)
    parts += _toctree("Results", tables)
    return "\n".join(parts)


def _toctree(caption: str, entries: list[str]) -> list[str]:
    if not entries:
        return []
    return ["```{toctree}", ":hidden:", f":caption: {caption}", "", *entries, "```", ""]


def _raw_link(href: str, text: str, *, download: bool = False) -> str:
    """An HTML link: the decks and student versions are files Sphinx does not know about."""
    return f'<a href="{href}"{" download" if download else ""}>{text}</a>'


def chapter_page(week: str, pages: list[Page], topic: str) -> str:
    """``notebooks/<week>/index.md``: the week's topic, a table of its notebooks (Colab,
    student version, deck) and their table of contents, the lecture first."""
    title = next((p.title for p in pages if p.kind == "lecture"), pages[0].title)
    rows = ["| notebook | | Colab | student version | slides |", "|---|---|---|---|---|"]
    for page in pages:
        name = posixpath.basename(page.path)
        colab = f"[open in Colab]({COLAB}/blob/main/{page.path})"
        student = _raw_link(f"../../{page.student}", "download", download=True) \
            if page.student else ""
        deck = _raw_link(f"../../{page.deck}", "deck") if page.deck else ""
        rows.append(f"| [{page.title}]({name}) | {page.kind} | {colab} | {student} | {deck} |")
    entries = [posixpath.splitext(posixpath.basename(p.path))[0] for p in pages]
    return "\n".join([f"# {title}", "", topic, "", *rows, "", *_toctree(title, entries)])


def week_topics(weeks_section: str) -> dict[str, str]:
    """Week number -> topic, from the README's "The weeks" table."""
    topics = {}
    for line in weeks_section.split("\n"):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].isdigit():
            topics[cells[0]] = cells[1][:1].upper() + cells[1][1:] + "."
    return topics


#: matplotlib's animation player loads Font Awesome from a CDN for its button icons; on the
#: site the link goes and each icon becomes a character every system font has.
_ICONS = {"fa fa-minus": "\u2212", "fa fa-fast-backward": "|\u25c0\u25c0",
          "fa fa-step-backward": "|\u25c0", "fa fa-play fa-flip-horizontal": "\u25c0",
          "fa fa-pause": "||", "fa fa-play": "\u25b6", "fa fa-step-forward": "\u25b6|",
          "fa fa-fast-forward": "\u25b6\u25b6|", "fa fa-plus": "+"}
_FONT_AWESOME = re.compile(r"<link[^>]*font-awesome[^>]*>\s*", re.IGNORECASE)
_ICON = re.compile(r'<i class="(fa [^"]+)"></i>')
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def offline_outputs(nb: Any) -> None:
    """Make ``nb``'s outputs load nothing from elsewhere: widget views (whose scripts come
    from a CDN) fall back to their text, and animation players lose their remote icon font."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data and len(data) > 1:
                del data[WIDGET_VIEW]
            html_out = data.get("text/html")
            if html_out is not None:
                text = "".join(html_out) if isinstance(html_out, list) else html_out
                text = _FONT_AWESOME.sub("", text)
                data["text/html"] = _ICON.sub(lambda m: _ICONS.get(m.group(1), ""), text)


def site_notebook(page: Page, *, on_site: set[str], in_repo: Callable[[str], bool]) -> Any:
    """The notebook node as the site shows it: links rewritten, badges local, a line linking
    the deck and the student version after the first cell, and a SMOKE MODE banner first when
    its outputs are not full mode."""
    import nbformat

    nb = nbformat.read(page.source, as_version=4)
    nb = copy.deepcopy(nb)
    offline_outputs(nb)
    static = posixpath.relpath("_static", posixpath.dirname(page.path))
    for index, cell in enumerate(nb.cells):
        where = f"{page.source}, cell {index}"
        if cell.cell_type == "markdown":
            cell.source = links.rewrite(cell.source, here=page.path, on_site=on_site,
                                        in_repo=in_repo, static=static, where=where)
        for output in cell.get("outputs", []):  # Markdown a cell displayed (week 5's tables)
            text = output.get("data", {}).get("text/markdown")
            if text is not None:
                output["data"]["text/markdown"] = links.rewrite(
                    "".join(text) if isinstance(text, list) else text, here=page.path,
                    on_site=on_site, in_repo=in_repo, static=static, where=f"{where} output",
                    as_html=True)
    extras = [f"[week {_week_number(page.week)}](index.md)"]
    if page.deck:
        extras.append(_raw_link(f"../../{page.deck}", "the slides"))
    if page.student:
        extras.append(_raw_link(f"../../{page.student}", "the student version", download=True)
                      + " (the exercises without their solutions)")
    line = nbformat.v4.new_markdown_cell("*On this site:* " + " · ".join(extras))
    nb.cells.insert(1 if nb.cells else 0, line)
    if page.mode != FULL_MODE:
        banner = nbformat.v4.new_markdown_cell(
            f"```{{admonition}} SMOKE MODE\n:class: danger\n{SMOKE_BANNER}: "
            f"{page.describe}\n```")
        banner.metadata["tags"] = ["coursekit-smoke-banner"]
        nb.cells.insert(0, banner)
    return nb


def week_folder_names(root: Path) -> list[str]:
    """The week folders under ``root``, in course order."""
    return [folder.name for folder in week_folders(root)]
