"""The course as a website: ``make book`` (``coursekit book``) builds ``build/book/``.

Built with Sphinx and MyST-NB from the committed notebooks and their full-mode outputs, never
re-executing them (:mod:`~coursekit.course.book.sphinx_conf` says why this tool); it works
from ``file://`` and on any static host, loading nothing from another host:

- :mod:`~coursekit.course.book.pages`: the pages, in the repository's layout;
- :mod:`~coursekit.course.book.links`: links kept, pointed at GitHub, or badges made local;
- :mod:`~coursekit.course.book.check`: the built HTML loads nothing remote, links resolve;
- :mod:`~coursekit.course.book.build`: the whole build, replaced atomically.
"""

from __future__ import annotations

from coursekit.course.book.build import BOOK_ROOT, BookError, build_book

__all__ = ["BOOK_ROOT", "BookError", "build_book"]
