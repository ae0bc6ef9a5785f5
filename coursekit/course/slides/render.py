"""Rendering a cell's content as slide HTML: markdown with maths, code, and outputs.

Markdown is rendered by nbconvert's mistune renderer with the TeX taken out first
(:func:`protect_math`) and put back verbatim afterwards, for MathJax to typeset in the browser.
Code is highlighted by Pygments. Outputs become HTML one by one (:func:`render_output`): images
inline as data URIs at a size that fits the slide, long text cut short, and what belongs in the
notebook rather than on a slide (errors, ``stderr``, bare object reprs) left out. An offline
deck must load nothing from the network, so rendered HTML is cleaned of scripts and remote
references (:func:`clean_html`).
"""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path
from typing import Any

MAX_OUTPUT_LINES = 24
MAX_OUTPUT_CHARS = 3000
#: Largest size an output image is written with into the HTML, in slide pixels (its size in the
#: notebook, scaled down to fit; ``deck.js`` then widens it to the slide, up to its pixel size).
IMAGE_MAX_WIDTH, IMAGE_MAX_HEIGHT = 1160, 470
PYGMENTS_STYLE = "default"

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


def clean_html(fragment: str, *, offline: bool) -> str:
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
    return restore_math(clean_html(rendered, offline=offline), saved)


# --------------------------------------------------------------------------------------------
# Code and outputs
# --------------------------------------------------------------------------------------------


def notebook_lexer(nb: Any) -> Any:
    """The Pygments lexer of the notebook's language (its ``language_info``), else Python."""
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
        body = clean_html(_text(data["text/html"]), offline=offline)
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


def merge_streams(outputs: list[Any]) -> list[Any]:
    """The outputs with each run of consecutive same-named stream outputs joined into one."""
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
