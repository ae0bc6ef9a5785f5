"""Links and images in the Markdown the website is built from.

The website keeps the repository's layout (``notebooks/<week>/<name>.ipynb``,
``benchmarks/results/<table>.md``, the README's sections at the top), so a relative link
between two files that are both on the site stays as it is. A link to a file that is not on
the site (``LICENSE``, a module, a notebook left out) points at the repository on GitHub
instead; a link to a path the repository does not have is left as it is, so that the build
fails on it with its location. Images must not come from another host
(the site works offline): the three badges the notebooks carry are swapped for local copies
(:data:`BADGES`), and any other remote image is an error naming where it is.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Collection

from coursekit.config import REPO_URL

#: Remote badge images the notebooks use -> the local copy shipped in ``_static/badges/``.
BADGES: dict[str, str] = {
    "https://colab.research.google.com/assets/colab-badge.svg": "colab.svg",
    "https://img.shields.io/badge/code-MIT-blue.svg": "code-mit.svg",
    "https://img.shields.io/badge/text-CC%20BY%204.0-lightgrey.svg": "text-cc-by.svg",
}

_FENCE = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})")
# [text](target) or ![alt](target), target without spaces, optionally "title"; nested badge
# links [![alt](img)](target) are found as an image inside a link's text.
_LINK = re.compile(r"(?P<bang>!?)\[(?P<text>(?:[^\[\]]|\[[^\[\]]*\](?:\([^()\s]*\))?)*)\]"
                   r"\((?P<target>[^()\s]+)(?P<title>\s+\"[^\"]*\")?\)")
_CODE_SPAN = re.compile(r"(`+).+?\1")
_REMOTE = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


class LinkError(ValueError):
    """A remote image, which the offline site cannot show; the message names where it is."""


def is_remote(target: str) -> bool:
    """True for ``https://...``, ``mailto:...`` and other targets with a scheme."""
    return bool(_REMOTE.match(target))


def repo_url(path: str) -> str:
    """The GitHub address of a repository path (a folder when it ends with ``/``)."""
    kind = "tree" if path.endswith("/") or path == "" else "blob"
    return f"{REPO_URL}/{kind}/main/{path}"


def _outside_code(text: str, pattern: re.Pattern[str],
                  fn: Callable[[re.Match[str]], str]) -> str:
    """``pattern.sub(fn, text)`` for the matches of Markdown ``text`` that start outside
    fenced blocks and code spans (a link's text may hold a code span)."""
    out, chunk, fence = [], [], None

    def flush() -> None:
        if not chunk:
            return
        part = "\n".join(chunk)
        spans = [m.span() for m in _CODE_SPAN.finditer(part)]

        def keep_code(match: re.Match[str]) -> str:
            inside = any(a <= match.start() < b for a, b in spans)
            return match.group(0) if inside else fn(match)

        out.append(pattern.sub(keep_code, part))
        chunk.clear()

    for line in text.split("\n"):
        match = _FENCE.match(line)
        if fence is None and match:
            flush()
            fence = match.group(1)
            out.append(line)
        elif fence is not None:
            out.append(line)
            if line.strip().startswith(fence):
                fence = None
        else:
            chunk.append(line)
    flush()
    return "\n".join(out)


def rewrite(
    markdown: str,
    *,
    here: str,
    on_site: Collection[str],
    in_repo: Callable[[str], bool],
    static: str,
    where: str,
    as_html: bool = False,
) -> str:
    """Rewrite the links and images of ``markdown``, which sits at repository path ``here``.

    ``on_site``: the repository paths (POSIX, e.g. ``notebooks/week3_vae/x.ipynb``) that the
    site has; a relative link to any other path becomes its GitHub address. ``static``: the
    path from ``here``'s folder to ``_static``, for the local badges. ``where`` names the text
    in errors (``notebooks/week3_vae/x.ipynb, cell 0``). ``as_html``: links to pages of the
    site point at their ``.html`` (for Markdown that Sphinx does not resolve: a cell's output).

    Raises:
        LinkError: an image from another host that is not one of :data:`BADGES`.
    """
    folder = posixpath.dirname(here)

    def target_for(target: str) -> str:
        if is_remote(target) or target.startswith("#"):
            return target
        path, sep, anchor = target.partition("#")
        if path.startswith("/"):
            return target  # site-absolute: left to the link check
        resolved = posixpath.normpath(posixpath.join(folder, path))
        if resolved.startswith("../"):
            return target  # outside the repository: left to the link check
        if resolved in on_site and as_html:
            stem, dot, _ = path.rpartition(".")
            return (stem if dot else path) + ".html" + (sep + anchor if sep else "")
        if resolved in on_site or not in_repo(resolved):
            return target
        trailing = "/" if path.endswith("/") else ""
        return repo_url(resolved + trailing) + (sep + anchor if sep else "")

    def image_for(alt: str, src: str) -> str:
        if not is_remote(src):
            return f"![{alt}]({target_for(src)})"
        if src in BADGES:
            return f"![{alt}]({static}/badges/{BADGES[src]})"
        raise LinkError(
            f"{where}: the image {src} comes from another host; the course website loads "
            "nothing from elsewhere: save it beside the notebook and link the file"
        )

    def one(match: re.Match[str]) -> str:
        text, target, title = match["text"], match["target"], match["title"] or ""
        if match["bang"]:
            return image_for(text, target)[:-1] + title + ")"
        text = _LINK.sub(one, text)  # a badge: an image inside the link's text
        return f"[{text}]({target_for(target)}{title})"

    return _outside_code(markdown, _LINK, one)
