"""The pinned front-end assets of the decks and the HTML renders, and how they are inlined.

reveal.js (with its speaker-notes plugin) and MathJax 3 come from npm, pinned in
``slides/package-lock.json`` and installed into ``slides/node_modules`` by
:func:`ensure_assets` (``npm ci``) on first use. A lecture deck (:mod:`coursekit.course.slides`)
inlines all of them; an HTML render of a notebook (:mod:`coursekit.course.runner`) inlines
MathJax. Without npm, both can load the same versions from a public CDN instead
(:data:`CDN_URLS`). The course's own theme and start-up script ship in the package
(``coursekit/course/slides_assets``, read by :func:`package_asset`).

Everything inlined into an HTML page passes through :func:`inline_script` or
:func:`inline_style`, which keep the page's parser from ending the element early.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import lru_cache
from importlib import resources
from pathlib import Path

#: Pinned in slides/package.json (a test checks they agree); also used for the --cdn URLs.
REVEAL_VERSION = "5.2.1"
MATHJAX_VERSION = "3.2.2"
CDN = "https://cdn.jsdelivr.net/npm"

#: The folder with package.json, package-lock.json and (after ``npm ci``) node_modules.
SLIDES_DIR = Path(__file__).resolve().parents[2] / "slides"

#: The files inlined into every offline deck, relative to node_modules.
ASSET_FILES: dict[str, str] = {
    "reveal_css": "reveal.js/dist/reveal.css",
    "reveal_js": "reveal.js/dist/reveal.js",
    "notes_js": "reveal.js/plugin/notes/notes.js",
    "mathjax_js": "mathjax/es5/tex-svg-full.js",  # every TeX extension built in: nothing to fetch
}
CDN_URLS: dict[str, str] = {
    "reveal_css": f"{CDN}/reveal.js@{REVEAL_VERSION}/dist/reveal.css",
    "reveal_js": f"{CDN}/reveal.js@{REVEAL_VERSION}/dist/reveal.js",
    "notes_js": f"{CDN}/reveal.js@{REVEAL_VERSION}/plugin/notes/notes.js",
    "mathjax_js": f"{CDN}/mathjax@{MATHJAX_VERSION}/es5/tex-svg-full.js",
}

RISE_FALLBACK = "or present live from JupyterLab with RISE (pip install jupyterlab-rise)"


class SlidesError(RuntimeError):
    """A deck cannot be built; the message is one line that says what to do."""


class NpmMissingError(SlidesError):
    """``npm``/``node`` are not installed, so reveal.js and MathJax cannot be installed."""


def assets_complete(node_modules: Path) -> bool:
    """True when ``node_modules`` holds every file of :data:`ASSET_FILES`."""
    return all((node_modules / rel).is_file() for rel in ASSET_FILES.values())


def _assets_current(slides_dir: Path) -> bool:
    """True when node_modules holds every asset and is not older than the lockfile."""
    node_modules = slides_dir / "node_modules"
    lock = slides_dir / "package-lock.json"
    if not assets_complete(node_modules):
        return False
    stamps = [node_modules.stat().st_mtime]
    hidden_lock = node_modules / ".package-lock.json"  # npm rewrites it on every install
    if hidden_lock.exists():
        stamps.append(hidden_lock.stat().st_mtime)
    return not lock.exists() or max(stamps) >= lock.stat().st_mtime


def ensure_assets(slides_dir: Path | None = None) -> Path:
    """Make sure reveal.js and MathJax are installed; return the ``node_modules`` folder.

    Runs ``npm ci --prefix slides --no-audit --no-fund`` when ``slides/node_modules`` is
    missing, incomplete or older than ``slides/package-lock.json``. Raises
    :class:`NpmMissingError` (one line, with the fallbacks) when npm or node is not installed
    and :class:`SlidesError` when ``npm ci`` fails.
    """
    slides_dir = Path(slides_dir) if slides_dir is not None else SLIDES_DIR
    node_modules = slides_dir / "node_modules"
    if _assets_current(slides_dir):
        return node_modules
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        missing = "npm" if npm is None else "node"
        raise NpmMissingError(
            f"{missing} (Node.js) is needed to build offline decks: it installs the pinned "
            f"reveal.js and MathJax into {node_modules}. Install Node.js and npm "
            "(e.g. `apt install npm`), or build with `coursekit slides --cdn` (the deck then "
            f"needs network while presenting), {RISE_FALLBACK}."
        )
    if not (slides_dir / "package-lock.json").is_file():
        raise SlidesError(f"{slides_dir / 'package-lock.json'} is missing; cannot run `npm ci`.")
    print(f"installing reveal.js and MathJax into {node_modules} (npm ci) ...", flush=True)
    proc = subprocess.run(
        [npm, "ci", "--prefix", str(slides_dir), "--no-audit", "--no-fund"],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        last = lines[-1].strip() if lines else f"exit status {proc.returncode}"
        raise SlidesError(
            f"`npm ci --prefix {slides_dir}` failed ({last}); with no registry access, "
            f"build with `coursekit slides --cdn` {RISE_FALLBACK}."
        )
    if not assets_complete(node_modules):
        raise SlidesError(f"`npm ci` ran but {node_modules} lacks reveal.js or MathJax files.")
    node_modules.touch()
    return node_modules


@lru_cache(maxsize=16)
def _read_text_cached(path: str, mtime: float) -> str:
    return Path(path).read_text(encoding="utf-8")


def read_text(path: Path) -> str:
    """The text of an asset file, read once per modification time (a course build inlines the
    same few megabytes of JavaScript into every deck)."""
    return _read_text_cached(str(path), path.stat().st_mtime)


def package_asset(name: str) -> str:
    """A file shipped in ``coursekit/course/slides_assets`` (our theme CSS and start-up script)."""
    folder = resources.files("coursekit.course") / "slides_assets"
    return (folder / name).read_text(encoding="utf-8")


def inline_script(js: str) -> str:
    """JavaScript made safe to sit inside an inline ``<script>`` element."""
    # `</script` would end the element and `<!--` can switch the HTML parser's script state;
    # inside JS strings, regexes and comments `<\/` and `<\!` mean the same as before.
    js = re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)
    return js.replace("<!--", "<\\!--")


def inline_style(css: str) -> str:
    """CSS made safe to sit inside an inline ``<style>`` element."""
    return re.sub(r"</(style)", r"<\\/\1", css, flags=re.IGNORECASE)
