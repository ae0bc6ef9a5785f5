"""Planning a deck: which cells go on which slide, from Jupyter's cell metadata.

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

:func:`plan_deck` returns the plan (a :class:`DeckPlan`); nothing here renders HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

SLIDE_TYPES = ("slide", "subslide", "fragment", "skip", "notes", "-")
HIDE_INPUT_TAGS = frozenset({"hide-input", "remove-input"})
HIDE_OUTPUT_TAGS = frozenset({"hide-output", "remove-output"})
REMOVE_CELL_TAGS = frozenset({"remove-cell"})
#: Output MIME types that are figures: never hidden in a fragment.
FIGURE_MIMES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")



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


def cell_source(cell: Any) -> str:
    """The cell's source as one string (nbformat allows a list of lines)."""
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
    for line in cell_source(cell).splitlines():
        if line.strip():
            return bool(_HEADING_START_RE.match(line))
    return False


_MD_IMAGE_RE = re.compile(r"!\[[^\]]*\]\(|<img\b", re.IGNORECASE)


def shows_figure(cell: Any) -> bool:
    """True when the cell shows a figure: an image output, or an image in markdown."""
    if cell.get("cell_type") == "markdown":
        return bool(_MD_IMAGE_RE.search(cell_source(cell)))
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
        found = _find_h1(cell_source(cell))
        if found:
            title_line, title = found
            title_cell = index
            break
    title_only = False
    if title_cell is not None:
        lines = cell_source(nb.cells[title_cell]).splitlines()
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
        if not is_code and not cell_source(cell).strip():
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
