"""Lecture decks: one self-contained reveal.js HTML file per lecture notebook.

The lecturer presents from the same notebooks the students run. ``coursekit slides`` turns each
lecture notebook into ``build/slides/<week>/<name>.html``, from full-mode results only. A deck
inlines reveal.js, MathJax and every image, so the file works with no network at all; ``--cdn``
builds decks that load reveal.js and MathJax from a public CDN instead. One concept a module:

* :mod:`~coursekit.course.slides.plan`: which cells go on which slide (cell metadata, tags);
* :mod:`~coursekit.course.slides.render`: a cell's markdown with maths, code and outputs as HTML;
* :mod:`~coursekit.course.slides.deck`: one deck assembled and written (:func:`build_deck`);
* :mod:`~coursekit.course.slides.build`: which notebook's outputs each deck shows, and every
  lecture's deck (:func:`build_all`);
* :mod:`~coursekit.course.slides.cli`: the ``coursekit slides`` command.

Below them, :mod:`coursekit.course.assets` installs and inlines the pinned front-end files and
:mod:`coursekit.course.notebooks` finds the notebooks and reads how each was run. The names a
deck's user needs, from all of these modules, are re-exported here (``slides.build_all``,
``slides.plan_deck``, ``slides.ensure_assets``, ...). A test that replaces one must patch it
where it is used, never here: a patch on this package reaches no module. The assets are always
used as ``assets.<name>``, so a patch of ``coursekit.course.assets.ensure_assets`` or
``coursekit.course.assets.SLIDES_DIR`` reaches the decks and the runner's HTML renders alike.
"""

from __future__ import annotations

from coursekit.course.assets import (
    ASSET_FILES,
    CDN_URLS,
    MATHJAX_VERSION,
    REVEAL_VERSION,
    NpmMissingError,
    SlidesError,
    ensure_assets,
)
from coursekit.course.notebooks import Outputs, notebook_outputs
from coursekit.course.slides.build import (
    EXECUTED_ROOT,
    OUT_ROOT,
    SMOKE_MARK,
    Choice,
    build_all,
    choose_outputs,
    lecture_notebooks,
)
from coursekit.course.slides.cli import add_slides_parser, cli_slides, main
from coursekit.course.slides.deck import (
    COURSE_TITLE,
    FIGURE_MIN_SCALE,
    SLIDE_HEIGHT,
    SLIDE_WIDTH,
    build_deck,
    default_week_title,
    render_deck,
    week_label,
)
from coursekit.course.slides.plan import (
    DeckPlan,
    Part,
    SlidePlan,
    cell_tags,
    has_slide_metadata,
    plan_deck,
    shows_figure,
    slide_type,
    starts_with_heading,
)
from coursekit.course.slides.render import (
    MAX_OUTPUT_CHARS,
    MAX_OUTPUT_LINES,
    display_size,
    highlight_code,
    png_dpi,
    protect_math,
    pygments_css,
    render_markdown,
    render_output,
    restore_math,
    truncate_text,
)

__all__ = [
    "ASSET_FILES",
    "CDN_URLS",
    "COURSE_TITLE",
    "EXECUTED_ROOT",
    "FIGURE_MIN_SCALE",
    "MATHJAX_VERSION",
    "MAX_OUTPUT_CHARS",
    "MAX_OUTPUT_LINES",
    "OUT_ROOT",
    "REVEAL_VERSION",
    "SLIDE_HEIGHT",
    "SLIDE_WIDTH",
    "SMOKE_MARK",
    "Choice",
    "DeckPlan",
    "NpmMissingError",
    "Outputs",
    "Part",
    "SlidePlan",
    "SlidesError",
    "add_slides_parser",
    "build_all",
    "build_deck",
    "cell_tags",
    "choose_outputs",
    "cli_slides",
    "default_week_title",
    "display_size",
    "ensure_assets",
    "has_slide_metadata",
    "highlight_code",
    "lecture_notebooks",
    "main",
    "notebook_outputs",
    "plan_deck",
    "png_dpi",
    "protect_math",
    "pygments_css",
    "render_deck",
    "render_markdown",
    "render_output",
    "restore_math",
    "shows_figure",
    "slide_type",
    "starts_with_heading",
    "truncate_text",
    "week_label",
]
