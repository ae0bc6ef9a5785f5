"""Which notebook's outputs each deck shows, and building every lecture's deck.

``coursekit slides`` builds each lecture's deck from **full-mode results** only (see
:func:`choose_outputs`): the committed ``notebooks/<week>/<name>.ipynb``, or the copy that
``coursekit run`` executed into ``build/notebooks/<week>/`` when that one is full-mode and newer.
Smoke-mode outputs are used only when asked for (``--allow-smoke``), and every slide of such a
deck then carries a "smoke mode" mark (:data:`SMOKE_MARK`). :func:`build_all` prints which
notebook each deck came from, and which it passed over and why.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from coursekit.course import assets
from coursekit.course.notebooks import (
    FULL_MODE,
    NOTEBOOK_ROOT,
    Outputs,
    find_notebooks,
    notebook_outputs,
    week_folders,
)
from coursekit.course.slides.deck import build_deck

EXECUTED_ROOT = Path("build/notebooks")
OUT_ROOT = Path("build/slides")
SMOKE_MARK = "SMOKE MODE: quick-test results, not the lecture's"


def lecture_notebooks(
    week: str | None = None,
    *,
    executed_root: Path = EXECUTED_ROOT,
    notebooks_root: Path = NOTEBOOK_ROOT,
) -> list[tuple[Path | None, Path | None]]:
    """(executed copy or None, committed source or None) per lecture, sorted by week and name."""

    def collect(root: Path) -> dict[tuple[str, str], Path]:
        if not week_folders(root):
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
                              for p in week_folders(root)})
            raise assets.SlidesError(
                f"week {week!r} has no lecture notebooks (.ipynb) under {notebooks_root} or "
                f"{executed_root}; weeks there: {', '.join(folders) or 'none'}."
            )
        raise assets.SlidesError(
            f"no lecture notebooks (.ipynb) under {notebooks_root} or {executed_root}; "
            "run `coursekit run` first."
        )
    keys = sorted(set(sources) | set(executed))
    return [(executed.get(k), sources.get(k)) for k in keys]


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
    notebooks_root: Path = NOTEBOOK_ROOT,
    cdn: bool = False,
    slides_dir: Path | None = None,
    allow_smoke: bool = False,
) -> list[Path]:
    """Build one deck per lecture notebook into ``out_root/<week folder>/<name>.html``.

    Each deck comes from the outputs :func:`choose_outputs` picks, and the build prints which
    (and what it passed over). A lecture without allowed outputs is left out and, after the
    other decks are built, reported with a :class:`~coursekit.course.assets.SlidesError`.
    """
    executed_root, out_root = Path(executed_root), Path(out_root)
    lectures = lecture_notebooks(week, executed_root=executed_root,
                                 notebooks_root=Path(notebooks_root))
    if not cdn:
        assets.ensure_assets(slides_dir)
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
        raise assets.SlidesError(
            f"no deck for {', '.join(missing)}: no full-mode outputs (run `make run` in full "
            "mode, or build from smoke outputs with `make slides SMOKE=1` / "
            f"`coursekit slides --allow-smoke`); {len(decks)} other deck(s) written."
        )
    return decks
