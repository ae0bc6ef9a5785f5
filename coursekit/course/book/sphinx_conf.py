"""The Sphinx settings of the course website (the generated ``conf.py`` imports them).

Why Sphinx with MyST-NB: it builds from the committed ``.ipynb`` files as they are
(``nb_execution_mode = "off"``: nothing is re-executed), and everything it needs ships in its
Python wheels, so the build runs offline. Jupyter Book 2 (MyST-MD) downloads its theme when
it builds, and Jupyter Book 1 is Sphinx with these same extensions underneath. The theme, Furo,
uses the system's fonts and its own local scripts. Maths is typeset by the MathJax the decks
already pin (``slides/package-lock.json``), copied to ``_static/mathjax/``: the full TeX build,
which loads no extension from the network. Sphinx's search loads its index with a ``<script>``
tag, so it works from ``file://``; the search summaries are off because they fetch pages.
"""

from __future__ import annotations

import importlib.metadata as _metadata  # underscored: conf.py takes every public name

project = "coursekit"
author = "The coursekit authors"
copyright = "the coursekit authors; code MIT, text CC BY 4.0"  # noqa: A001 - Sphinx's name
try:
    release = _metadata.version("coursekit")
except _metadata.PackageNotFoundError:  # pragma: no cover - a source tree without pip install
    release = ""

extensions = ["myst_nb"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "_extra", "**.ipynb_checkpoints"]
html_extra_path = ["_extra"]  # the decks and student versions, copied as they are
html_static_path = ["_static"]
html_css_files = ["coursekit-book.css"]
templates_path: list[str] = []

# MyST: $...$, $$...$$ and \begin{align} in Markdown, as in the notebooks
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
nb_execution_mode = "off"  # the committed outputs, never re-executed
nb_merge_streams = True
nb_output_stderr = "remove"  # warnings of the run, not course content

# Maths: the pinned MathJax, local (a relative mathjax_path is under _static/)
mathjax_path = "mathjax/tex-svg-full.js"
mathjax3_config = {"svg": {"fontCache": "global"}}

html_theme = "furo"
html_title = "coursekit: deep generative models for the physical sciences"
html_show_sourcelink = False
html_copy_source = False
html_show_search_summary = False  # a summary fetches the page, which file:// refuses
html_last_updated_fmt = None

# Tables of results start at any heading level; a section that skips one is not an error.
suppress_warnings = ["myst.header"]
