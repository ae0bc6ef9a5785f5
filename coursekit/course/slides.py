"""Lecture decks: one self-contained reveal.js HTML file per lecture notebook.

The lecturer presents from the same notebooks the students run. ``coursekit slides`` turns each
lecture notebook into ``build/slides/<week>/<name>.html``, from **full-mode results** only (see
:func:`choose_outputs`): the committed ``notebooks/<week>/<name>.ipynb``, or the copy that
``coursekit run`` executed into ``build/notebooks/<week>/`` when that one is full-mode and newer.
Smoke-mode outputs are used only when asked for (``--allow-smoke``), and every slide of such a
deck then carries a "smoke mode" mark. The build prints which notebook each deck came from.

A deck is built with reveal.js, its speaker-notes plugin, MathJax 3 (SVG output,
so no font files) and every image are inlined, so the file works from a USB stick with no
network at all. reveal.js and MathJax come from npm (``slides/package-lock.json``, pinned) and are
installed into ``slides/node_modules`` on first use; ``--cdn`` builds decks that load them from
a public CDN instead (no npm needed, but the deck then needs network while presenting).

Slide structure follows Jupyter's cell metadata ``slideshow.slide_type`` (as RISE and nbconvert
do):

* ``slide`` starts a new slide, ``subslide`` a new vertical slide under the current one;
* ``fragment`` appears on the next key press (cells of type ``-`` after it join that fragment),
  except a cell that shows a figure: a figure always appears with its slide;
* ``notes`` become speaker notes (press ``S`` while presenting); ``skip`` is left out;
* ``-`` or no type continues the current slide.

Cell tags: ``hide-input``/``remove-input`` show only a code cell's outputs,
``hide-output``/``remove-output`` only its code, ``remove-cell`` leaves the cell out.

A title slide comes first: the course name, the notebook's first ``# `` heading and the week.
That heading line is taken out of its cell (a cell that held nothing else is dropped), and cells
before the first ``slide`` cell appear on the title slide. A notebook with no slide metadata at
all still builds: every markdown cell that starts with a ``#`` or ``##`` heading starts a slide.

Figures are shown as wide as the slide allows (up to their full pixel resolution): ``deck.js``
shrinks a figure (to no less than :data:`FIGURE_MIN_SCALE` of its size in the notebook) before it
shrinks a whole slide that does not fit.
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from coursekit.io import atomic_write_text

COURSE_TITLE = "Deep generative models for the physical sciences"
SLIDE_WIDTH, SLIDE_HEIGHT = 1280, 720
#: Pinned in slides/package.json (a test checks they agree); also used for the --cdn URLs.
REVEAL_VERSION = "5.2.1"
MATHJAX_VERSION = "3.2.2"
CDN = "https://cdn.jsdelivr.net/npm"

#: The folder with package.json, package-lock.json and (after ``npm ci``) node_modules.
SLIDES_DIR = Path(__file__).resolve().parents[2] / "slides"
EXECUTED_ROOT = Path("build/notebooks")
NOTEBOOKS_ROOT = Path("notebooks")
OUT_ROOT = Path("build/slides")

#: The files inlined into every offline deck, relative to node_modules.
ASSET_FILES: dict[str, str] = {
    "reveal_css": "reveal.js/dist/reveal.css",
    "reveal_js": "reveal.js/dist/reveal.js",
    "notes_js": "reveal.js/plugin/notes/notes.js",
    "mathjax_js": "mathjax/es5/tex-svg-full.js",  # every TeX extension built in: nothing to fetch
}
CDN_URLS: dict[str, str] = {
    "reveal_css": f"{CDN}/reveal.js@{REVEAL_VERSION}/dist/reveal.css",
    "reveal_js": f"{CDN}/reveal.js@{REVEAL_VERSION}/dist/reveal.js",
    "notes_js": f"{CDN}/reveal.js@{REVEAL_VERSION}/plugin/notes/notes.js",
    "mathjax_js": f"{CDN}/mathjax@{MATHJAX_VERSION}/es5/tex-svg-full.js",
}

SLIDE_TYPES = ("slide", "subslide", "fragment", "skip", "notes", "-")
HIDE_INPUT_TAGS = frozenset({"hide-input", "remove-input"})
HIDE_OUTPUT_TAGS = frozenset({"hide-output", "remove-output"})
REMOVE_CELL_TAGS = frozenset({"remove-cell"})

MAX_OUTPUT_LINES = 24
MAX_OUTPUT_CHARS = 3000
#: Largest size an output image is written with into the HTML, in slide pixels (its size in the
#: notebook, scaled down to fit; ``deck.js`` then widens it to the slide, up to its pixel size).
IMAGE_MAX_WIDTH, IMAGE_MAX_HEIGHT = 1160, 470
#: ``deck.js`` shrinks a figure that does not fit to no less than this fraction of its size in
#: the notebook before it scales the whole slide down. Course figures (``coursekit.plotting``,
#: 15 pt text at 100 dpi) keep text of at least 18 px on a 1280x720 screen at this scale.
FIGURE_MIN_SCALE = 0.9
#: Output MIME types that are figures: never hidden in a fragment.
FIGURE_MIMES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")
#: The run modes of ``coursekit run`` (``coursekit.config.MODES``) and what a deck may come from.
FULL_MODE, SMOKE_MODE, UNKNOWN_MODE = "full", "smoke", "unknown"
RUN_METADATA_KEY = "coursekit"  # the key coursekit.course.runner writes; kept equal by a test
SMOKE_MARK = "SMOKE MODE: quick-test results, not the lecture's"
PYGMENTS_STYLE = "default"

RISE_FALLBACK = "or present live from JupyterLab with RISE (pip install jupyterlab-rise)"


class SlidesError(RuntimeError):
    """A deck cannot be built; the message is one line that says what to do."""


class NpmMissingError(SlidesError):
    """``npm``/``node`` are not installed, so reveal.js and MathJax cannot be installed."""


# --------------------------------------------------------------------------------------------
# Front-end assets (npm)
# --------------------------------------------------------------------------------------------


def _assets_complete(node_modules: Path) -> bool:
    return all((node_modules / rel).is_file() for rel in ASSET_FILES.values())


def _assets_current(slides_dir: Path) -> bool:
    """True when node_modules holds every asset and is not older than the lockfile."""
    node_modules = slides_dir / "node_modules"
    lock = slides_dir / "package-lock.json"
    if not _assets_complete(node_modules):
        return False
    stamps = [node_modules.stat().st_mtime]
    hidden_lock = node_modules / ".package-lock.json"  # npm rewrites it on every install
    if hidden_lock.exists():
        stamps.append(hidden_lock.stat().st_mtime)
    return not lock.exists() or max(stamps) >= lock.stat().st_mtime


def ensure_assets(slides_dir: Path | None = None) -> Path:
    """Make sure reveal.js and MathJax are installed; return the ``node_modules`` folder.

    Runs ``npm ci --prefix slides --no-audit --no-fund`` when ``slides/node_modules`` is
    missing, incomplete or older than ``slides/package-lock.json``. Raises
    :class:`NpmMissingError` (one line, with the fallbacks) when npm or node is not installed
    and :class:`SlidesError` when ``npm ci`` fails.
    """
    slides_dir = Path(slides_dir) if slides_dir is not None else SLIDES_DIR
    node_modules = slides_dir / "node_modules"
    if _assets_current(slides_dir):
        return node_modules
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        missing = "npm" if npm is None else "node"
        raise NpmMissingError(
            f"{missing} (Node.js) is needed to build offline decks: it installs the pinned "
            f"reveal.js and MathJax into {node_modules}. Install Node.js and npm "
            "(e.g. `apt install npm`), or build with `coursekit slides --cdn` (the deck then "
            f"needs network while presenting), {RISE_FALLBACK}."
        )
    if not (slides_dir / "package-lock.json").is_file():
        raise SlidesError(f"{slides_dir / 'package-lock.json'} is missing; cannot run `npm ci`.")
    print(f"installing reveal.js and MathJax into {node_modules} (npm ci) ...", flush=True)
    proc = subprocess.run(
        [npm, "ci", "--prefix", str(slides_dir), "--no-audit", "--no-fund"],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        last = lines[-1].strip() if lines else f"exit status {proc.returncode}"
        raise SlidesError(
            f"`npm ci --prefix {slides_dir}` failed ({last}); with no registry access, "
            f"build with `coursekit slides --cdn` {RISE_FALLBACK}."
        )
    if not _assets_complete(node_modules):
        raise SlidesError(f"`npm ci` ran but {node_modules} lacks reveal.js or MathJax files.")
    node_modules.touch()
    return node_modules


@lru_cache(maxsize=16)
def _read_text_cached(path: str, mtime: float) -> str:
    return Path(path).read_text(encoding="utf-8")


def _read_text(path: Path) -> str:
    return _read_text_cached(str(path), path.stat().st_mtime)


def _package_asset(name: str) -> str:
    """A file shipped in ``coursekit/course/slides_assets`` (our theme CSS and start-up script)."""
    folder = resources.files("coursekit.course") / "slides_assets"
    return (folder / name).read_text(encoding="utf-8")


def _inline_script(js: str) -> str:
    """JavaScript made safe to sit inside an inline ``<script>`` element."""
    # `</script` would end the element and `<!--` can switch the HTML parser's script state;
    # inside JS strings, regexes and comments `<\/` and `<\!` mean the same as before.
    js = re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)
    return js.replace("<!--", "<\\!--")


def _inline_style(css: str) -> str:
    return re.sub(r"</(style)", r"<\\/\1", css, flags=re.IGNORECASE)


# --------------------------------------------------------------------------------------------
# Cell metadata and the slide plan
# --------------------------------------------------------------------------------------------


def slide_type(cell: Any) -> str:
    """The cell's ``slideshow.slide_type`` (``"-"`` when absent or unknown)."""
    meta = cell.get("metadata", {}) or {}
    value = (meta.get("slideshow", {}) or {}).get("slide_type", "-")
    return value if value in SLIDE_TYPES else "-"


def cell_tags(cell: Any) -> frozenset[str]:
    """The cell's tags (``metadata.tags``)."""
    return frozenset((cell.get("metadata", {}) or {}).get("tags", []) or [])


def has_slide_metadata(nb: Any) -> bool:
    """True when at least one cell has a ``slideshow.slide_type`` other than ``"-"``."""
    return any(slide_type(c) != "-" for c in nb.cells)


_FENCE_RE = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})")
_H1_RE = re.compile(r"^[ ]{0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_HEADING_START_RE = re.compile(r"^[ ]{0,3}#{1,2}(?:[ \t]|$)")


def _source(cell: Any) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _find_h1(source: str) -> tuple[int, str] | None:
    """(line number, text) of the first ATX ``# `` heading outside fenced code, or None."""
    fence: str | None = None
    for number, line in enumerate(source.splitlines()):
        opener = _FENCE_RE.match(line)
        if fence is not None:
            if opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence):
                fence = None
            continue
        if opener:
            fence = opener.group(1)
            continue
        match = _H1_RE.match(line)
        if match:
            return number, match.group(1).strip()
    return None


def starts_with_heading(cell: Any) -> bool:
    """True for a markdown cell whose first non-blank line is a ``#`` or ``##`` heading."""
    if cell.get("cell_type") != "markdown":
        return False
    for line in _source(cell).splitlines():
        if line.strip():
            return bool(_HEADING_START_RE.match(line))
    return False


_MD_IMAGE_RE = re.compile(r"!\[[^\]]*\]\(|<img\b", re.IGNORECASE)


def shows_figure(cell: Any) -> bool:
    """True when the cell shows a figure: an image output, or an image in markdown."""
    if cell.get("cell_type") == "markdown":
        return bool(_MD_IMAGE_RE.search(_source(cell)))
    if cell.get("cell_type") != "code" or cell_tags(cell) & HIDE_OUTPUT_TAGS:
        return False
    return any(
        mime in (out.get("data") or {})
        for out in cell.get("outputs", [])
        for mime in FIGURE_MIMES
    )


@dataclass
class Part:
    """One cell on a slide: which cell, in which fragment (None: always shown), what to show."""

    cell: int
    fragment: int | None = None
    show_input: bool = True
    show_output: bool = True


@dataclass
class SlidePlan:
    """One leaf slide: its cells in order, and the cells that are its speaker notes."""

    parts: list[Part] = field(default_factory=list)
    notes: list[int] = field(default_factory=list)
    fragments: int = 0

    @property
    def cells(self) -> list[int]:
        return [p.cell for p in self.parts]


@dataclass
class DeckPlan:
    """The deck's structure: ``stacks[h][v]`` is slide (h, v); ``stacks[0][0]`` is the title."""

    title: str
    title_cell: int | None
    title_line: int | None
    title_only_cell: bool
    stacks: list[list[SlidePlan]]
    by_headings: bool

    @property
    def total_slides(self) -> int:
        return sum(len(stack) for stack in self.stacks)

    def shape(self) -> list[list[list[int]]]:
        """The cell indices per slide, e.g. ``[[[0]], [[1, 2], [3]]]`` (for tests and logs)."""
        return [[slide.cells for slide in stack] for stack in self.stacks]


def plan_deck(nb: Any, *, fallback_title: str = "Lecture") -> DeckPlan:
    """Group the notebook's cells into slides (see the module docstring for the rules)."""
    title, title_cell, title_line = fallback_title, None, None
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "markdown":
            continue
        found = _find_h1(_source(cell))
        if found:
            title_line, title = found
            title_cell = index
            break
    title_only = False
    if title_cell is not None:
        lines = _source(nb.cells[title_cell]).splitlines()
        rest = lines[:title_line] + lines[title_line + 1 :]
        title_only = not "".join(rest).strip()

    by_headings = not has_slide_metadata(nb)
    stacks: list[list[SlidePlan]] = [[SlidePlan()]]
    current = stacks[0][0]
    fragment: int | None = None
    for index, cell in enumerate(nb.cells):
        kind = slide_type(cell)
        tags = cell_tags(cell)
        if kind == "skip" or tags & REMOVE_CELL_TAGS:
            continue
        if index == title_cell and title_only:
            continue
        if by_headings:
            kind = "slide" if starts_with_heading(cell) else "-"
        if kind == "notes":
            current.notes.append(index)
            continue
        if kind == "slide":
            stacks.append([SlidePlan()])
            current, fragment = stacks[-1][-1], None
        elif kind == "subslide":
            stacks[-1].append(SlidePlan())
            current, fragment = stacks[-1][-1], None
        elif kind == "fragment":
            fragment = current.fragments
            current.fragments += 1
        is_code = cell.get("cell_type") == "code"
        show_input = not (is_code and tags & HIDE_INPUT_TAGS)
        show_output = is_code and not tags & HIDE_OUTPUT_TAGS
        if not is_code and not _source(cell).strip():
            continue
        # a figure appears with its slide: one hidden behind a key press is easily missed
        shown_in = None if shows_figure(cell) else fragment
        current.parts.append(Part(index, shown_in, show_input, show_output))
    return DeckPlan(
        title=title,
        title_cell=title_cell,
        title_line=title_line,
        title_only_cell=title_only,
        stacks=stacks,
        by_headings=by_headings,
    )


# --------------------------------------------------------------------------------------------
# Markdown with maths
# --------------------------------------------------------------------------------------------

_MATH_RE = re.compile(
    r"""
    (?P<fence>^[ ]{0,3}(?P<ticks>`{3,}|~{3,})[^\n]*\n.*?(?:^[ ]{0,3}(?P=ticks)[ \t]*$|\Z))
  | (?P<code>(?P<bt>`+)(?!`).*?(?<!`)(?P=bt)(?!`))
  | (?P<escaped>\\\$)
  | (?P<display>\$\$(?:[^$\\]|\\.|\$(?!\$))+?\$\$)
  | (?P<bracket>\\\[.+?\\\])
  | (?P<env>\\begin\{(?P<env_name>[A-Za-z]+\*?)\}.+?\\end\{(?P=env_name)\})
  | (?P<paren>\\\(.+?\\\))
  | (?P<inline>\$(?:[^$\\\n]|\\.|\n(?![ \t]*\n))+?\$)
    """,
    re.MULTILINE | re.DOTALL | re.VERBOSE,
)
_PLACEHOLDER = "CKMATHPLACEHOLDER{}X"
_PLACEHOLDER_RE = re.compile(r"CKMATHPLACEHOLDER(\d+)X")


def protect_math(source: str) -> tuple[str, list[str]]:
    """Replace TeX (``$..$``, ``$$..$$``, ``\\(..\\)``, ``\\[..\\]``, environments, ``\\$``)
    outside code with placeholders, so that markdown cannot touch it; return text and TeX."""
    saved: list[str] = []

    def swap(match: re.Match[str]) -> str:
        if match.group("fence") is not None or match.group("code") is not None:
            return match.group(0)
        saved.append(match.group(0))
        return _PLACEHOLDER.format(len(saved) - 1)

    return _MATH_RE.sub(swap, source), saved


def restore_math(rendered: str, saved: list[str]) -> str:
    """Put the TeX back (HTML-escaped, which MathJax reads as the original text)."""
    return _PLACEHOLDER_RE.sub(lambda m: html.escape(saved[int(m.group(1))], quote=True), rendered)


def _is_local_src(src: str) -> bool:
    return src.startswith(("data:", "#")) or src == ""


def _clean_html(fragment: str, *, offline: bool) -> str:
    """Make rendered HTML safe for a self-contained deck.

    Scripts are removed (a slide is not a live notebook). Offline, anything that would make the
    browser fetch from elsewhere goes: badge links (a remote image inside a link) are dropped,
    other remote or unresolved images become their alt text, stylesheets and iframes go.
    """
    if "<" not in fragment:
        return fragment
    import bs4

    soup = bs4.BeautifulSoup(fragment, "html.parser")
    for tag in soup.find_all("script"):
        if tag.get("type") in {"application/json", "text/template"}:
            continue
        tag.decompose()
    if offline:
        for tag in soup.find_all(["link", "iframe", "embed", "object", "audio", "video", "source"]):
            tag.decompose()
        for tag in soup.find_all(style=True):
            if "url(" in tag["style"] and "url(data:" not in tag["style"]:
                del tag["style"]
        for img in soup.find_all("img"):
            src = str(img.get("src", ""))
            if _is_local_src(src):
                continue
            link = img.find_parent("a")
            if link is not None and not link.get_text(strip=True):
                link.decompose()  # a badge: [![alt](https://...svg)](https://...)
                continue
            alt = img.get("alt") or "image"
            note = soup.new_tag("span", attrs={"class": "ck-img-missing"})
            note.string = f"[{alt}]"
            img.replace_with(note)
        for para in soup.find_all("p"):
            if not para.get_text(strip=True) and not para.find(["img", "svg", "span"]):
                para.decompose()
    return str(soup)


def render_markdown(
    source: str,
    *,
    attachments: dict[str, Any] | None = None,
    resource_dir: Path | None = None,
    offline: bool = True,
) -> str:
    """Markdown to HTML with TeX left verbatim for MathJax; local images become data URIs."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    text, saved = protect_math(source)

    def render(text: str, attachments: dict[str, Any] | None) -> str:
        renderer = IPythonRenderer(
            escape=False,
            embed_images=True,
            exclude_anchor_links=True,
            path=str(resource_dir or "."),
            attachments=dict(attachments or {}),
        )
        return MarkdownWithMath(renderer=renderer).render(text)

    try:
        rendered = render(text, attachments)
    except Exception:  # a missing attachment: show the rest of the cell
        rendered = render(text.replace("](attachment:", "](missing-attachment:"), None)
    return restore_math(_clean_html(rendered, offline=offline), saved)


# --------------------------------------------------------------------------------------------
# Code and outputs
# --------------------------------------------------------------------------------------------


def _lexer(nb: Any) -> Any:
    from pygments.lexers import PythonLexer, get_lexer_by_name
    from pygments.util import ClassNotFound

    info = nb.get("metadata", {}).get("language_info", {}) or {}
    name = info.get("pygments_lexer") or info.get("name") or "ipython3"
    try:
        return get_lexer_by_name(name)
    except ClassNotFound:
        return PythonLexer()


def highlight_code(code: str, lexer: Any) -> str:
    """Pygments HTML (class ``highlight``) for a code cell."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter

    return highlight(code, lexer, HtmlFormatter(cssclass="highlight"))


def pygments_css() -> str:
    """Pygments' CSS for ``.highlight`` blocks inside the deck."""
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(style=PYGMENTS_STYLE).get_style_defs(".reveal .highlight")


_ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_REPR_RE = re.compile(r"^[\s\[\](),]*(?:<[^<>\n]* at 0x[0-9a-fA-F]+>[\s\[\](),]*)+$")


def _clean_stream(text: str) -> str:
    """Strip ANSI colours and keep what a terminal would show after carriage returns."""
    text = _ANSI_RE.sub("", text)
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def truncate_text(
    text: str, max_lines: int = MAX_OUTPUT_LINES, max_chars: int = MAX_OUTPUT_CHARS
) -> tuple[str, str]:
    """(shown text, note) where the note says what was cut, ``""`` when nothing was."""
    lines = text.rstrip("\n").split("\n")
    total_lines = len(lines)
    shown = lines[:max_lines]
    while len(shown) > 1 and sum(len(s) + 1 for s in shown) > max_chars:
        shown.pop()
    body = "\n".join(shown)
    if len(body) > max_chars:
        body = body[:max_chars]
    hidden = total_lines - len(shown)
    if hidden > 0:
        return body, f"… {hidden} more line{'s' if hidden != 1 else ''} not shown"
    if len(body) < len("\n".join(lines)):
        return body, "… output shortened"
    return body, ""


def _pre(text: str, css: str) -> str:
    shown, note = truncate_text(text)
    out = f'<pre class="ck-text {css}">{html.escape(shown)}</pre>'
    if note:
        out += f'<div class="ck-truncated">{html.escape(note)}</div>'
    return out


def _image_size(raw: bytes) -> tuple[int, int] | None:
    """(width, height) in pixels of PNG or JPEG bytes, None when unknown."""
    if raw[:8] == b"\x89PNG\r\n\x1a\n" and len(raw) >= 24:
        return int.from_bytes(raw[16:20], "big"), int.from_bytes(raw[20:24], "big")
    try:
        from PIL import Image

        with Image.open(io.BytesIO(raw)) as image:
            return image.size
    except Exception:
        return None


def png_dpi(raw: bytes) -> float | None:
    """The resolution a PNG was saved at, in dots per inch, from its ``pHYs`` chunk (None
    when it has none or does not state metres). Matplotlib writes it: ``savefig(dpi=...)``."""
    if raw[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    pos = 8
    while pos + 8 <= len(raw):
        length = int.from_bytes(raw[pos : pos + 4], "big")
        kind = raw[pos + 4 : pos + 8]
        if kind == b"pHYs" and pos + 17 <= len(raw):
            per_metre = int.from_bytes(raw[pos + 8 : pos + 12], "big")
            unit = raw[pos + 16]
            return round(per_metre * 0.0254, 1) if unit == 1 and per_metre > 0 else None
        if kind in (b"IDAT", b"IEND"):
            return None
        pos += 12 + length
    return None


def display_size(
    natural: tuple[int, int] | None,
    logical_width: Any = None,
    logical_height: Any = None,
) -> tuple[int, int] | None:
    """The size an image is shown at on a 1280x720 slide (never enlarged beyond its own size).

    ``logical_*`` come from the output metadata (``set_matplotlib_formats('retina')`` stores
    half the pixel size there, so such images are shown at double pixel density: sharp).
    """
    if natural is None:
        return None
    width, height = natural
    try:
        if logical_width:
            ratio = float(logical_width) / width
            width, height = float(logical_width), float(logical_height or height * ratio)
    except (TypeError, ValueError, ZeroDivisionError):
        width, height = natural
    scale = min(1.0, IMAGE_MAX_WIDTH / max(width, 1), IMAGE_MAX_HEIGHT / max(height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _img_tag(mime: str, b64: str, meta: dict[str, Any]) -> str:
    b64 = re.sub(r"\s+", "", b64)
    try:  # a PNG's header chunks (size, resolution) come first: no need to decode it all
        raw = base64.b64decode(b64[:2048] if mime == "image/png" else b64)
    except ValueError:
        raw = b""
    own = meta.get(mime, {}) if isinstance(meta.get(mime), dict) else {}
    size = display_size(
        _image_size(raw),
        own.get("width", meta.get("width")),
        own.get("height", meta.get("height")),
    )
    dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
    dpi = png_dpi(raw) if mime == "image/png" else None
    if dpi:
        dims += f' data-ck-dpi="{dpi:g}"'
    return f'<img class="ck-img" alt="cell output" src="data:{mime};base64,{b64}"{dims}>'


def _clean_svg(svg: str) -> str:
    svg = re.sub(r"<\?xml[^>]*\?>", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>", "", svg, flags=re.IGNORECASE)
    return svg.strip()


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def render_output(output: Any, *, offline: bool, resource_dir: Path | None) -> str:
    """One output as HTML.

    Errors, ``stderr`` (warnings, progress bars) and bare object reprs such as
    ``[<matplotlib.lines.Line2D at 0x...>]`` give ``""``: they stay in the notebook.
    """
    kind = output.get("output_type")
    if kind == "stream":
        name = output.get("name", "stdout")
        if name == "stderr":
            return ""  # warnings, log noise and progress bars: in the notebook, not on a slide
        text = _clean_stream(_text(output.get("text", "")))
        if not text.strip():
            return ""
        return f'<div class="ck-output ck-stream">{_pre(text, "ck-" + name)}</div>'
    if kind not in {"display_data", "execute_result"}:
        return ""  # errors are not shown on slides
    data = output.get("data", {}) or {}
    meta = output.get("metadata", {}) or {}
    if "image/svg+xml" in data:
        return f'<div class="ck-output ck-svg">{_clean_svg(_text(data["image/svg+xml"]))}</div>'
    for mime in ("image/png", "image/jpeg", "image/gif"):
        if mime in data:
            img = _img_tag(mime, _text(data[mime]), meta)
            return f'<div class="ck-output ck-image">{img}</div>'
    if "text/html" in data:
        body = _clean_html(_text(data["text/html"]), offline=offline)
        return f'<div class="ck-output ck-html">{body}</div>'
    if "text/markdown" in data:
        body = render_markdown(_text(data["text/markdown"]), resource_dir=resource_dir,
                               offline=offline)
        return f'<div class="ck-output ck-markdown">{body}</div>'
    if "text/latex" in data:
        return f'<div class="ck-output ck-latex">{html.escape(_text(data["text/latex"]))}</div>'
    if "text/plain" in data:
        text = _clean_stream(_text(data["text/plain"]))
        if _REPR_RE.match(text) or not text.strip():
            return ""
        return f'<div class="ck-output ck-plain">{_pre(text, "ck-result")}</div>'
    return ""


def _merge_streams(outputs: list[Any]) -> list[Any]:
    merged: list[Any] = []
    for out in outputs:
        if (
            out.get("output_type") == "stream"
            and merged
            and merged[-1].get("output_type") == "stream"
            and merged[-1].get("name") == out.get("name")
        ):
            merged[-1] = {**merged[-1], "text": _text(merged[-1]["text"]) + _text(out["text"])}
        else:
            merged.append(out)
    return merged


# --------------------------------------------------------------------------------------------
# The deck
# --------------------------------------------------------------------------------------------


@dataclass
class _Context:
    nb: Any
    plan: DeckPlan
    offline: bool
    resource_dir: Path | None
    lexer: Any
    mark: str | None = None


def _cell_source(ctx: _Context, index: int) -> str:
    source = _source(ctx.nb.cells[index])
    if index == ctx.plan.title_cell and ctx.plan.title_line is not None:
        lines = source.splitlines()
        source = "\n".join(lines[: ctx.plan.title_line] + lines[ctx.plan.title_line + 1 :])
    return source


def _render_cell(ctx: _Context, part: Part) -> str:
    cell = ctx.nb.cells[part.cell]
    source = _cell_source(ctx, part.cell)
    if cell.get("cell_type") == "markdown":
        body = render_markdown(
            source,
            attachments=cell.get("attachments"),
            resource_dir=ctx.resource_dir,
            offline=ctx.offline,
        )
        return f'<div class="ck-cell ck-md">{body}</div>' if body.strip() else ""
    if cell.get("cell_type") != "code":
        return ""  # raw cells
    pieces = []
    if part.show_input and source.strip():
        pieces.append(f'<div class="ck-input">{highlight_code(source, ctx.lexer)}</div>')
    if part.show_output:
        outs = [
            render_output(o, offline=ctx.offline, resource_dir=ctx.resource_dir)
            for o in _merge_streams(list(cell.get("outputs", [])))
        ]
        # drop empties, and an output repeated right after itself (a figure shown twice)
        outs = [o for i, o in enumerate(outs) if o and (i == 0 or o != outs[i - 1])]
        if outs:
            pieces.append(f'<div class="ck-outputs">{"".join(outs)}</div>')
    return f'<div class="ck-cell ck-code">{"".join(pieces)}</div>' if pieces else ""


def _note_part(cell: Any, index: int) -> Part:
    tags = cell_tags(cell)
    return Part(index, None, not tags & HIDE_INPUT_TAGS, not tags & HIDE_OUTPUT_TAGS)


def _render_slide(ctx: _Context, slide: SlidePlan, *, title_html: str = "") -> str:
    chunks: list[str] = []
    open_fragment: int | None = None
    for part in slide.parts:
        if part.fragment != open_fragment:
            if open_fragment is not None:
                chunks.append("</div>")
            if part.fragment is not None:
                chunks.append(f'<div class="fragment" data-fragment-index="{part.fragment}">')
            open_fragment = part.fragment
        chunks.append(_render_cell(ctx, part))
    if open_fragment is not None:
        chunks.append("</div>")
    notes = "".join(_render_cell(ctx, _note_part(ctx.nb.cells[i], i)) for i in slide.notes)
    classes = "ck-slide ck-title-slide" if title_html else "ck-slide"
    if ctx.mark:
        classes += " ck-marked"
    cells = ",".join(str(i) for i in slide.cells)
    aside = f'<aside class="notes">{notes}</aside>' if notes else ""
    mark = f'<div class="ck-mode-mark">{html.escape(ctx.mark)}</div>' if ctx.mark else ""
    return (
        f'<section class="{classes}" data-ck-cells="{cells}">'
        f'<div class="ck-body">{title_html}{"".join(chunks)}</div>{mark}{aside}</section>'
    )


def _inline_markdown(text: str, offline: bool) -> str:
    """A one-line markdown snippet (a title) as inline HTML."""
    rendered = render_markdown(text, offline=offline).strip()
    match = re.fullmatch(r"<p>(.*)</p>", rendered, flags=re.DOTALL)
    return match.group(1) if match else rendered


def week_label(notebook: Path) -> str | None:
    """"Week N" from the notebook's folder (``week3_vae``) or file name, None when neither."""
    for name in (notebook.parent.name, notebook.stem):
        match = re.match(r"(?i)week(\d+)", name)
        if match:
            return f"Week {int(match.group(1))}"
    return None


def default_week_title(notebook: Path, title: str) -> str:
    """The footer's week label: the title when it starts with "Week", else "Week N: title"."""
    if re.match(r"(?i)week\s*\d+", title):
        return title
    label = week_label(notebook)
    return f"{label}: {title}" if label else title


def render_deck(
    nb: Any,
    *,
    title: str | None = None,
    week_title: str | None = None,
    offline: bool = True,
    node_modules: Path | None = None,
    resource_dir: Path | None = None,
    plan: DeckPlan | None = None,
    mark: str | None = None,
) -> str:
    """The complete deck HTML for a notebook (``offline``: every asset inlined).

    ``mark`` (e.g. :data:`SMOKE_MARK`) is shown on every slide, in the footer and the page title.
    """
    plan = plan or plan_deck(nb, fallback_title=title or "Lecture")
    title = plan.title if title is None else title
    week_title = week_title or title
    ctx = _Context(nb, plan, offline, resource_dir, _lexer(nb), mark)

    subtitle = week_title.split(":", 1)[0].strip() if ":" in week_title else week_title
    title_html = (
        f'<p class="ck-course">{html.escape(COURSE_TITLE)}</p>'
        f'<h1 class="ck-title">{_inline_markdown(title, offline)}</h1>'
        + (
            f'<p class="ck-week">{_inline_markdown(subtitle, offline)}</p>'
            if subtitle.lower() not in title.lower()
            else ""
        )
    )
    sections = []
    for h, stack in enumerate(plan.stacks):
        rendered = [
            _render_slide(ctx, slide, title_html=title_html if (h, v) == (0, 0) else "")
            for v, slide in enumerate(stack)
        ]
        stack_html = "".join(rendered)
        sections.append(rendered[0] if len(rendered) == 1 else f"<section>{stack_html}</section>")

    footer = (
        '<div class="ck-footer">'
        f'<span class="ck-footer-course">{html.escape(COURSE_TITLE)}</span>'
        '<span class="ck-footer-sep">|</span>'
        f'<span class="ck-footer-week">{_inline_markdown(week_title, offline)}</span>'
        + (f'<span class="ck-footer-sep">|</span><span class="ck-footer-mark">'
           f"{html.escape(mark.split(':', 1)[0])}</span>" if mark else "")
        + "</div>"
    )
    deck_config = json.dumps(
        {"width": SLIDE_WIDTH, "height": SLIDE_HEIGHT, "cdn": not offline,
         "minContentScale": 0.55, "figureMinScale": FIGURE_MIN_SCALE}
    )
    if offline:
        if node_modules is None:
            raise SlidesError("an offline deck needs the npm assets; call ensure_assets() first.")
        assets = {key: _read_text(node_modules / rel) for key, rel in ASSET_FILES.items()}
        head_css = f"<style>{_inline_style(assets['reveal_css'])}</style>"
        scripts = "".join(
            f"<script>{_inline_script(assets[key])}</script>"
            for key in ("reveal_js", "notes_js")
        )
        mathjax = f"<script>{_inline_script(assets['mathjax_js'])}</script>"
    else:
        head_css = f'<link rel="stylesheet" href="{CDN_URLS["reveal_css"]}">'
        scripts = "".join(
            f'<script src="{CDN_URLS[key]}"></script>' for key in ("reveal_js", "notes_js")
        )
        mathjax = f'<script src="{CDN_URLS["mathjax_js"]}"></script>'

    mathjax_config = """window.MathJax = {
  tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']],
        displayMath: [['$$', '$$'], ['\\\\[', '\\\\]']],
        processEscapes: true, processEnvironments: true},
  svg: {fontCache: 'local'},
  options: {enableMenu: false, enableAssistiveMml: false, ignoreHtmlClass: 'ck-no-math',
            menuOptions: {settings: {assistiveMml: false}}},
  loader: {load: []},
  startup: {typeset: true}
};"""
    page_title = html.escape(f"{re.sub(r'[$*_`]', '', title)} · {COURSE_TITLE}")
    if mark:
        page_title = f"[{html.escape(mark.split(':', 1)[0].lower())}] {page_title}"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="generator" content="coursekit slides">',
            *([f'<meta name="coursekit-mark" content="{html.escape(mark)}">'] if mark else []),
            f"<title>{page_title}</title>",
            head_css,
            f"<style>{_inline_style(pygments_css())}</style>",
            f"<style>{_inline_style(_package_asset('theme.css'))}</style>",
            "</head>",
            "<body>",
            '<div class="reveal"><div class="slides">',
            *sections,
            footer,
            "</div></div>",
            f'<script type="application/json" id="ck-deck-config">{deck_config}</script>',
            scripts,
            f"<script>{mathjax_config}</script>",
            mathjax,
            f"<script>{_inline_script(_package_asset('deck.js'))}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


def build_deck(
    notebook: Path,
    out: Path,
    *,
    week_title: str | None = None,
    cdn: bool = False,
    slides_dir: Path | None = None,
    resource_dir: Path | None = None,
    quiet: bool = False,
    mark: str | None = None,
) -> Path:
    """Build the deck of one notebook; return the HTML file written.

    ``out`` is the ``.html`` file, or a folder that receives ``<notebook name>.html``.
    ``resource_dir`` is where relative image links in markdown are looked up (default: the
    notebook's folder). With ``cdn=True`` reveal.js and MathJax are loaded from a CDN when the
    deck is opened (no npm needed); otherwise they are installed with npm and inlined.
    ``mark`` is shown on every slide (:func:`build_all` passes :data:`SMOKE_MARK` for a deck
    made from smoke-mode outputs). This function builds from the notebook it is given;
    :func:`build_all` is the one that picks full-mode outputs.
    """
    import nbformat

    notebook, out = Path(notebook), Path(out)
    if not notebook.is_file():
        raise SlidesError(f"notebook {notebook} does not exist.")
    target = out if out.suffix.lower() in {".html", ".htm"} else out / f"{notebook.stem}.html"
    node_modules = None if cdn else ensure_assets(slides_dir)
    nb = nbformat.read(notebook, as_version=4)
    plan = plan_deck(nb, fallback_title=notebook.stem.replace("_", " "))
    if plan.by_headings and not quiet:
        print(f"{notebook}: no slide metadata; one slide per # or ## heading.")
    html_text = render_deck(
        nb,
        week_title=week_title or default_week_title(notebook, plan.title),
        offline=not cdn,
        node_modules=node_modules,
        resource_dir=Path(resource_dir) if resource_dir else notebook.parent,
        plan=plan,
        mark=mark,
    )
    atomic_write_text(target, html_text)
    return target


def _week_folders(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("week"))


def lecture_notebooks(
    week: str | None = None,
    *,
    executed_root: Path = EXECUTED_ROOT,
    notebooks_root: Path = NOTEBOOKS_ROOT,
) -> list[tuple[Path | None, Path | None]]:
    """(executed copy or None, committed source or None) per lecture, sorted by week and name."""
    from coursekit.course.runner import find_notebooks

    def collect(root: Path) -> dict[tuple[str, str], Path]:
        if not _week_folders(root):
            return {}
        try:
            found = find_notebooks(root, week)
        except ValueError:
            return {}  # no such week there (yet)
        return {(nb.relative_to(root).parts[0], nb.stem): nb for nb in found}

    sources = collect(Path(notebooks_root))
    executed = collect(Path(executed_root))
    if not sources and not executed:
        if week:
            folders = sorted({p.name for root in (Path(notebooks_root), Path(executed_root))
                              for p in _week_folders(root)})
            raise SlidesError(
                f"week {week!r} has no lecture notebooks (.ipynb) under {notebooks_root} or "
                f"{executed_root}; weeks there: {', '.join(folders) or 'none'}."
            )
        raise SlidesError(
            f"no lecture notebooks (.ipynb) under {notebooks_root} or {executed_root}; "
            "run `coursekit run` first."
        )
    keys = sorted(set(sources) | set(executed))
    return [(executed.get(k), sources.get(k)) for k in keys]


# --------------------------------------------------------------------------------------------
# Which outputs a deck is made from: full mode, unless smoke is asked for
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outputs:
    """One notebook whose outputs a deck could show, and the run that made them.

    ``mode`` is what the runner recorded in ``metadata["coursekit"]`` (``"full"`` or
    ``"smoke"``). Notebooks without that record predate it: a *committed* one is taken as
    full mode (``assumed``), because committed outputs are refreshed only by ``make outputs``,
    which runs full mode (``coursekit run --in-place`` refuses any other); an executed copy
    under ``build/`` is ``"unknown"`` (``make run MODE=smoke`` may have written it).
    ``executed`` is the recorded time of the run, else the file's modification time.
    """

    path: Path
    committed: bool
    mode: str
    executed: datetime
    assumed: bool = False

    @property
    def where(self) -> str:
        return "committed" if self.committed else "executed"

    def describe(self) -> str:
        """E.g. ``notebooks/week1_rbm/x.ipynb (committed, full mode, run 2026-11-30 19:40 UTC)``."""
        when = self.executed.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        if self.assumed:
            mode = "full mode assumed: committed outputs come from `make outputs`"
            when = f"file dated {when}"
        elif self.mode == UNKNOWN_MODE:
            mode, when = "mode not recorded", f"file dated {when}"
        else:
            mode, when = f"{self.mode} mode", f"run {when}"
        return f"{self.path} ({self.where}, {mode}, {when})"


def notebook_outputs(path: Path, *, committed: bool) -> Outputs:
    """Read how ``path`` was executed (see :class:`Outputs`)."""
    import nbformat

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    record = nb.metadata.get(RUN_METADATA_KEY) or {}
    mode = record.get("mode") if isinstance(record, dict) else None
    executed = None
    try:
        executed = datetime.fromisoformat(str(record.get("executed")))
        if executed.tzinfo is None:
            executed = executed.replace(tzinfo=timezone.utc)
    except (AttributeError, TypeError, ValueError):
        executed = None
    if executed is None:
        executed = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
    if mode in (FULL_MODE, SMOKE_MODE):
        return Outputs(path, committed, mode, executed)
    if committed:
        return Outputs(path, committed, FULL_MODE, executed, assumed=True)
    return Outputs(path, committed, UNKNOWN_MODE, executed)


@dataclass(frozen=True)
class Choice:
    """The outputs a deck is built from (None: none allowed) and the ones passed over, why."""

    chosen: Outputs | None
    passed_over: tuple[tuple[Outputs, str], ...] = ()

    @property
    def smoke(self) -> bool:
        """True when the chosen outputs are not known to be full mode (the deck is marked)."""
        return self.chosen is not None and self.chosen.mode != FULL_MODE


def choose_outputs(
    executed: Path | None, committed: Path | None, *, allow_smoke: bool = False
) -> Choice:
    """Pick the notebook a lecture's deck is built from.

    By default only full-mode outputs qualify, and of two the newer run wins; so the executed
    copy in ``build/`` is used only when it is full mode and newer than the committed
    notebook. With ``allow_smoke`` every notebook qualifies (smoke and unrecorded modes too)
    and the newest wins; the deck is then marked when the chosen one is not full mode.
    """
    found = [notebook_outputs(executed, committed=False)] if executed is not None else []
    if committed is not None:
        found.append(notebook_outputs(committed, committed=True))
    allowed, passed = [], []
    for out in found:
        if allow_smoke or out.mode == FULL_MODE:
            allowed.append(out)
        else:
            passed.append((out, f"{out.mode} mode; `coursekit slides --allow-smoke` would use it"))
    if not allowed:
        return Choice(None, tuple(passed))
    # the newer run wins; on a tie the committed notebook (the one the course ships)
    chosen = max(allowed, key=lambda o: (o.executed, o.committed))
    for out in allowed:
        if out is not chosen:
            passed.append((out, f"older than the {chosen.where} one"))
    return Choice(chosen, tuple(passed))


def build_all(
    week: str | None = None,
    executed_root: Path = EXECUTED_ROOT,
    out_root: Path = OUT_ROOT,
    *,
    notebooks_root: Path = NOTEBOOKS_ROOT,
    cdn: bool = False,
    slides_dir: Path | None = None,
    allow_smoke: bool = False,
) -> list[Path]:
    """Build one deck per lecture notebook into ``out_root/<week folder>/<name>.html``.

    Each deck comes from the outputs :func:`choose_outputs` picks, and the build prints which
    (and what it passed over). A lecture without allowed outputs is left out and, after the
    other decks are built, reported with a :class:`SlidesError`.
    """
    executed_root, out_root = Path(executed_root), Path(out_root)
    lectures = lecture_notebooks(week, executed_root=executed_root,
                                 notebooks_root=Path(notebooks_root))
    if not cdn:
        ensure_assets(slides_dir)
    decks, missing = [], []
    for executed, source in lectures:
        start = time.perf_counter()
        choice = choose_outputs(executed, source, allow_smoke=allow_smoke)
        name = (source or executed).stem  # type: ignore[union-attr]
        if choice.chosen is None:
            print(f"{name}: NO DECK: no full-mode outputs")
        else:
            flag = "  [marked SMOKE MODE on every slide]" if choice.smoke else ""
            print(f"{name}: from {choice.chosen.describe()}{flag}")
        for out, why in choice.passed_over:
            print(f"  not from {out.describe()}: {why}")
        if choice.chosen is None:
            missing.append(name)
            continue
        notebook = choice.chosen.path
        deck = build_deck(
            notebook,
            out_root / notebook.parent.name / f"{notebook.stem}.html",
            cdn=cdn,
            slides_dir=slides_dir,
            resource_dir=source.parent if source is not None else notebook.parent,
            mark=SMOKE_MARK if choice.smoke else None,
        )
        seconds = time.perf_counter() - start
        size = deck.stat().st_size / 1e6
        network = ", loads reveal.js and MathJax from a CDN" if cdn else ""
        print(f"  -> {deck}  ({size:.1f} MB, {seconds:.1f} s{network})")
        decks.append(deck)
    if missing:
        raise SlidesError(
            f"no deck for {', '.join(missing)}: no full-mode outputs (run `make run` in full "
            "mode, or build from smoke outputs with `make slides SMOKE=1` / "
            f"`coursekit slides --allow-smoke`); {len(decks)} other deck(s) written."
        )
    return decks


# --------------------------------------------------------------------------------------------
# Command line: `coursekit slides [WEEK] [--cdn] [--out build/slides]`
# --------------------------------------------------------------------------------------------


def add_slides_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``slides`` sub-command to ``coursekit``'s sub-parsers."""
    parser = subparsers.add_parser(
        "slides",
        help="build one self-contained reveal.js deck per lecture notebook",
        description=(
            "Build build/slides/<week>/<name>.html from full-mode results: the committed "
            "notebooks, or the executed copies in build/notebooks when those are full-mode and "
            "newer; smoke-mode outputs only with --allow-smoke (every slide is then marked). "
            "It prints which notebook each deck came from. Offline decks inline reveal.js and "
            "MathJax (installed with npm on first use): copy the file anywhere, open it in a "
            "browser, press F for full screen and S for the speaker notes."
        ),
    )
    parser.add_argument("week", nargs="?", default=None,
                        help="only this week, e.g. 1, week1 or week1_rbm (default: all)")
    parser.add_argument("--cdn", action="store_true",
                        help="load reveal.js and MathJax from a CDN: no npm needed, but the deck "
                             "needs network while presenting")
    parser.add_argument("--allow-smoke", action="store_true",
                        help="also use smoke-mode (or unrecorded) outputs when they are the "
                             "newest; such decks say SMOKE MODE on every slide")
    parser.add_argument("--out", default=str(OUT_ROOT),
                        help="output folder (default: build/slides)")
    parser.add_argument("--executed", default=str(EXECUTED_ROOT),
                        help="executed notebooks, used when full mode and newer "
                             "(default: build/notebooks)")
    parser.add_argument("--notebooks", default=str(NOTEBOOKS_ROOT),
                        help="committed notebooks (default: notebooks)")
    parser.set_defaults(func=cli_slides)
    return parser


def cli_slides(args: argparse.Namespace) -> int:
    """Run ``coursekit slides``; errors a user can fix print one line and return 2."""
    try:
        decks = build_all(
            args.week,
            executed_root=Path(args.executed),
            out_root=Path(args.out),
            notebooks_root=Path(args.notebooks),
            cdn=args.cdn,
            allow_smoke=args.allow_smoke,
        )
    except (SlidesError, ValueError) as exc:
        print(f"coursekit: error: {exc}", file=sys.stderr)
        return 2
    print(f"{len(decks)} deck{'s' if len(decks) != 1 else ''} written; open one in a browser "
          "(F: full screen, S: speaker notes).")
    return 0


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - python -m ...slides
    """Stand-alone entry point, the same as ``coursekit slides``."""
    parser = argparse.ArgumentParser(prog="coursekit")
    add_slides_parser(parser.add_subparsers(dest="command", required=True))
    return cli_slides(parser.parse_args(["slides", *(sys.argv[1:] if argv is None else argv)]))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
