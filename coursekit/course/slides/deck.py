"""Assembling a deck: the slides' HTML around the plan, reveal.js and MathJax, one file.

:func:`render_deck` turns a notebook and its :class:`~coursekit.course.slides.plan.DeckPlan`
into one reveal.js page: a title slide, the slides with their fragments and speaker notes, a
footer, the theme and ``deck.js`` (``coursekit/course/slides_assets``). Offline, reveal.js, its
speaker-notes plugin, MathJax 3 (SVG output, so no font files) and every image are inlined, so
the file works from a USB stick with no network at all; with ``offline=False`` it loads
reveal.js and MathJax from a public CDN instead (:mod:`coursekit.course.assets`).
:func:`build_deck` reads one notebook and writes its deck.

Figures are shown as wide as the slide allows (up to their full pixel resolution): ``deck.js``
shrinks a figure (to no less than :data:`FIGURE_MIN_SCALE` of its size in the notebook) before it
shrinks a whole slide that does not fit.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coursekit.course import assets
from coursekit.course.slides.plan import (
    HIDE_INPUT_TAGS,
    HIDE_OUTPUT_TAGS,
    DeckPlan,
    Part,
    SlidePlan,
    cell_source,
    cell_tags,
    plan_deck,
)
from coursekit.course.slides.render import (
    highlight_code,
    merge_streams,
    notebook_lexer,
    pygments_css,
    render_markdown,
    render_output,
)
from coursekit.io import atomic_write_text

COURSE_TITLE = "Deep generative models for the physical sciences"
SLIDE_WIDTH, SLIDE_HEIGHT = 1280, 720
#: ``deck.js`` shrinks a figure that does not fit to no less than this fraction of its size in
#: the notebook before it scales the whole slide down. Course figures (``coursekit.plotting``,
#: 15 pt text at 100 dpi) keep text of at least 18 px on a 1280x720 screen at this scale.
FIGURE_MIN_SCALE = 0.9


@dataclass
class _Context:
    """What rendering the slides of one deck needs, passed from slide to cell."""

    nb: Any
    plan: DeckPlan
    offline: bool
    resource_dir: Path | None
    lexer: Any
    mark: str | None = None


def _cell_source(ctx: _Context, index: int) -> str:
    source = cell_source(ctx.nb.cells[index])
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
            for o in merge_streams(list(cell.get("outputs", [])))
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

    ``mark`` (e.g. :data:`~coursekit.course.slides.build.SMOKE_MARK`) is shown on every slide,
    in the footer and the page title.
    """
    plan = plan or plan_deck(nb, fallback_title=title or "Lecture")
    title = plan.title if title is None else title
    week_title = week_title or title
    ctx = _Context(nb, plan, offline, resource_dir, notebook_lexer(nb), mark)

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
            raise assets.SlidesError(
                "an offline deck needs the npm assets; call ensure_assets() first."
            )
        files = {key: assets.read_text(node_modules / rel)
                 for key, rel in assets.ASSET_FILES.items()}
        head_css = f"<style>{assets.inline_style(files['reveal_css'])}</style>"
        scripts = "".join(
            f"<script>{assets.inline_script(files[key])}</script>"
            for key in ("reveal_js", "notes_js")
        )
        mathjax = f"<script>{assets.inline_script(files['mathjax_js'])}</script>"
    else:
        urls = assets.CDN_URLS
        head_css = f'<link rel="stylesheet" href="{urls["reveal_css"]}">'
        scripts = "".join(
            f'<script src="{urls[key]}"></script>' for key in ("reveal_js", "notes_js")
        )
        mathjax = f'<script src="{urls["mathjax_js"]}"></script>'

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
            f"<style>{assets.inline_style(pygments_css())}</style>",
            f"<style>{assets.inline_style(assets.package_asset('theme.css'))}</style>",
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
            f"<script>{assets.inline_script(assets.package_asset('deck.js'))}</script>",
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
    ``mark`` is shown on every slide (:func:`~coursekit.course.slides.build.build_all` passes
    :data:`~coursekit.course.slides.build.SMOKE_MARK` for a deck made from smoke-mode
    outputs). This function builds from the notebook it is given;
    :func:`~coursekit.course.slides.build.build_all` is the one that picks full-mode outputs.
    """
    import nbformat

    notebook, out = Path(notebook), Path(out)
    if not notebook.is_file():
        raise assets.SlidesError(f"notebook {notebook} does not exist.")
    target = out if out.suffix.lower() in {".html", ".htm"} else out / f"{notebook.stem}.html"
    node_modules = None if cdn else assets.ensure_assets(slides_dir)
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
