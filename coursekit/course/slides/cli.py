"""The ``coursekit slides`` command: ``coursekit slides [WEEK] [--cdn] [--allow-smoke] ...``.

The sub-command is added to ``coursekit``'s parser by :func:`add_slides_parser`
(:mod:`coursekit.course.cli`); ``python -m coursekit.course.slides`` runs it alone
(:func:`main`). Errors a user can fix print one line ``coursekit: error: ...`` and exit with
status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from coursekit.course import assets
from coursekit.course.notebooks import NOTEBOOK_ROOT
from coursekit.course.slides.build import EXECUTED_ROOT, OUT_ROOT, build_all


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
    parser.add_argument("--notebooks", default=str(NOTEBOOK_ROOT),
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
    except (assets.SlidesError, ValueError) as exc:
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
