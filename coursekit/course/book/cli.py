"""The ``coursekit book`` command: ``coursekit book [--out DIR] [--allow-smoke] [--no-decks]``.

Errors a user can fix print one line ``coursekit: error: ...`` (or the list of problems the
build found, each with its page and line) and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from coursekit.course import assets
from coursekit.course.book.build import BOOK_ROOT, BookError, build_book
from coursekit.course.book.links import LinkError


def add_book_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``book`` sub-command to ``coursekit``'s sub-parsers."""
    parser = subparsers.add_parser(
        "book",
        help="build the course website into build/book/ from the committed notebooks",
        description=(
            "Build a static website of the course (landing page, one chapter per week, the "
            "README's guides, the results tables, decks, student versions, search) from the "
            "committed notebooks and their full-mode outputs, without executing them. It "
            "opens from disk (file://) and loads nothing from another host."
        ),
    )
    parser.add_argument("--out", type=Path, default=BOOK_ROOT,
                        help=f"output folder (default: {BOOK_ROOT})")
    parser.add_argument("--allow-smoke", action="store_true",
                        help="also show notebooks without full-mode outputs, each under a "
                             "SMOKE MODE banner (default: leave them out, naming them)")
    parser.add_argument("--no-decks", action="store_true",
                        help="leave the lecture decks out (a quicker build)")
    parser.set_defaults(func=cli_book)
    return parser


def cli_book(args: argparse.Namespace) -> int:
    """Run ``coursekit book``; errors a user can fix print and return 2."""
    try:
        build_book(args.out, allow_smoke=args.allow_smoke, decks=not args.no_decks)
    except (BookError, LinkError, assets.SlidesError) as exc:
        print(f"coursekit: error: {exc}", file=sys.stderr)
        return 2
    return 0
