"""Execute the course notebooks end to end (what ``make run`` calls).

Each notebook is executed in a fresh kernel, in its own folder, with ``COURSEKIT_MODE`` set.
The executed copy and an HTML render go to ``build/notebooks/<week>/``; the sources are never
touched unless ``in_place=True`` (the maintainer's way to refresh the committed outputs).
A summary table (notebook, status, seconds) is printed and written to ``build/summary.md``.

The HTML renders work offline: MathJax is inlined from the same pinned npm copy the lecture
decks use (:func:`coursekit.course.assets.ensure_assets`), and nothing is loaded from a CDN (no
require.js: the course has no widget outputs). Without npm they load MathJax from a CDN, and
the run says so.

Every executed notebook records how it was run in its metadata
(:func:`coursekit.course.notebooks.record_run`), so that ``coursekit slides`` can tell
full-mode results from smoke-mode ones.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from coursekit import config
from coursekit.course import assets, results
from coursekit.course.notebooks import NOTEBOOK_ROOT, find_notebooks, record_run
from coursekit.data import offline_reason
from coursekit.io import atomic_write_text

BUILD_ROOT = Path("build")


@dataclass
class RunResult:
    """The outcome of executing one notebook."""

    notebook: str
    status: str  # "ok" or "error"
    seconds: float
    output: str  # the executed .ipynb ("" when in place)
    html: str
    error: str = ""


#: What the kernel process itself logs at start that is no news: ipykernel >= 7 warns on every
#: start that its local TCP sockets are not encrypted (nbclient's usual set-up, on 127.0.0.1).
_KERNEL_NOISE = re.compile(r"Kernel is running over TCP without encryption")

# npm settings for the one install the runner may start: fail fast without network.
_NPM_QUICK = {"npm_config_fetch_retries": "0", "npm_config_fetch_timeout": "30000"}

# MathJax 3 set up for notebook markdown (the lab template's own set-up is for MathJax 2).
_MATHJAX_CONFIG = """window.MathJax = {
  tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']],
        displayMath: [['$$', '$$'], ['\\\\[', '\\\\]']],
        processEscapes: true, processEnvironments: true, tags: 'ams'},
  svg: {fontCache: 'global'},
  options: {enableMenu: false},
  loader: {load: []}
};"""

# The lab template with its CDN scripts replaced: MathJax from ``resources["ck_mathjax"]``,
# no require.js, no Mermaid loader.
_OFFLINE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{{ resources.ck_mathjax }}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


def html_assets() -> Path | None:
    """The ``node_modules`` folder with the pinned MathJax, or None (the renders then use a CDN).

    Uses ``slides/node_modules`` when it is complete. Otherwise, unless ``COURSEKIT_OFFLINE`` is
    set, installs it with npm as ``coursekit slides`` does (without npm's retries, so a machine
    without network does not wait for minutes). Says in one line when it falls back to a CDN.
    """
    node_modules = assets.SLIDES_DIR / "node_modules"
    if assets.assets_complete(node_modules) and offline_reason(include_failures=False):
        return node_modules  # perhaps older than the lockfile, but no npm offline
    why = offline_reason(include_failures=False)
    if why is None:
        saved = {k: os.environ.get(k) for k in _NPM_QUICK}
        os.environ.update({k: v for k, v in _NPM_QUICK.items() if saved[k] is None})
        try:
            return assets.ensure_assets()
        except assets.SlidesError as err:
            why = str(err).split(". ")[0]
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
    print(
        "note: MathJax is not installed for offline HTML, so the renders load it from a CDN "
        f"(needs network to show the maths): {why}. `make slides` installs it with npm.",
        flush=True,
    )
    return None


def render_html(nb: Any, node_modules: Path | None) -> str:
    """The notebook as one HTML page (JupyterLab style), maths by MathJax 3.

    With ``node_modules`` (see :func:`html_assets`) MathJax is inlined and the page loads
    nothing from the network; with None it loads MathJax from a CDN.
    """
    import jinja2
    from nbconvert import HTMLExporter

    if node_modules is not None:
        js = assets.read_text(node_modules / assets.ASSET_FILES["mathjax_js"])
        mathjax = f"<script>{assets.inline_script(js)}</script>"
    else:
        mathjax = f'<script src="{assets.CDN_URLS["mathjax_js"]}"></script>'
    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[jinja2.DictLoader({"ck_offline.html.j2": _OFFLINE_TEMPLATE})],
        template_file="ck_offline.html.j2",
    )
    resources = {"ck_mathjax": f"<script>{_MATHJAX_CONFIG}</script>\n{mathjax}"}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


def _replay_kernel_log(log: Any) -> None:
    """Pass what the kernel process wrote to its stderr on, less :data:`_KERNEL_NOISE`."""
    log.seek(0)
    text = log.read().decode("utf-8", errors="replace")
    kept = [ln for ln in text.splitlines() if ln.strip() and not _KERNEL_NOISE.search(ln)]
    if kept:
        sys.stderr.write("\n".join(kept) + "\n")
        sys.stderr.flush()


def execute_notebook(
    source: Path,
    *,
    mode: str,
    out_dir: Path,
    timeout: int = 3600,
    in_place: bool = False,
    node_modules: Path | None = None,
) -> RunResult:
    """Execute ``source`` in a fresh kernel with ``COURSEKIT_MODE=mode``; write the results.

    The executed notebook goes to ``out_dir/<week>/<name>.ipynb`` (or back over ``source`` when
    ``in_place``), its HTML render to ``out_dir/<week>/<name>.html`` (MathJax inlined from
    ``node_modules``, see :func:`render_html`). What the kernel process logs outside the cells
    is passed on after the run, without the kernel's unencrypted-TCP notice.
    """
    import nbclient
    import nbformat

    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}.")
    nb = nbformat.read(source, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(source.parent)}},
        # One output per stream and cell, with what "\r" overwrote removed: a progress bar
        # leaves its final line, not one fragment per refresh.
        coalesce_streams=True,
    )
    saved = os.environ.get(config.MODE_ENV)
    os.environ[config.MODE_ENV] = mode  # the kernel inherits this process's environment
    # Labs record their row of the course-wide results table here (coursekit.course.results).
    os.environ.setdefault(results.RESULTS_ENV, str((out_dir.parent / "results").resolve()))
    executed = datetime.now(timezone.utc).isoformat(timespec="seconds")
    # Progress bars in a saved notebook are noise: at most one refresh per 30 s.
    os.environ.setdefault("TQDM_MININTERVAL", "30")
    start = time.perf_counter()
    status, error = "ok", ""
    kernel_log = tempfile.TemporaryFile()
    try:
        client.execute(stderr=kernel_log)
    except nbclient.exceptions.CellExecutionError as exc:
        status, error = "error", str(exc).strip().splitlines()[-1] if str(exc).strip() else "error"
    except Exception as exc:  # kernel died, timeout: report it in the table, go on
        status, error = "error", f"{type(exc).__name__}: {exc}"
    finally:
        seconds = time.perf_counter() - start
        _replay_kernel_log(kernel_log)
        kernel_log.close()
        if saved is None:
            os.environ.pop(config.MODE_ENV, None)
        else:
            os.environ[config.MODE_ENV] = saved

    record_run(nb, mode=mode, executed=executed)
    week_dir = out_dir / source.parent.name
    target = source if in_place else week_dir / source.name
    atomic_write_text(target, nbformat.writes(nb))
    html_path = week_dir / (source.stem + ".html")
    atomic_write_text(html_path, render_html(nb, node_modules))
    return RunResult(
        notebook=str(source),
        status=status,
        seconds=round(seconds, 1),
        output="" if in_place else str(target),
        html=str(html_path),
        error=error,
    )


def summary_table(results: Iterable[RunResult], mode: str) -> str:
    """A markdown table of the results."""
    rows = [f"Mode: {mode}", "", "| notebook | status | seconds |", "|---|---|---:|"]
    total = 0.0
    for r in results:
        status = r.status if not r.error else f"{r.status}: {r.error[:80]}"
        rows.append(f"| {r.notebook} | {status} | {r.seconds:.1f} |")
        total += r.seconds
    rows.append(f"| **total** |  | {total:.1f} |")
    return "\n".join(rows)


def run_course(
    *,
    mode: str | None = None,
    week: str | None = None,
    root: Path = NOTEBOOK_ROOT,
    build: Path = BUILD_ROOT,
    in_place: bool = False,
    timeout: int = 3600,
) -> list[RunResult]:
    """Execute the course's notebooks and write the summary; returns one result per notebook.

    ``timeout`` is the number of seconds each cell may take (a positive integer).
    """
    mode = mode or config.mode()
    if mode not in config.MODES:
        raise ValueError(f"mode must be one of {config.MODES}, got {mode!r}.")
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}.")
    if in_place and mode != "full":
        raise ValueError("in_place=True refreshes the committed outputs, which are full-mode runs.")
    notebooks = find_notebooks(root, week)
    if not notebooks:
        raise ValueError(f"no notebooks found under {root}.")
    out_dir = build / "notebooks"
    node_modules = html_assets()
    outcomes: list[RunResult] = []
    for nb in notebooks:
        print(f"[{mode}] executing {nb} ...", flush=True)
        result = execute_notebook(
            nb,
            mode=mode,
            out_dir=out_dir,
            timeout=timeout,
            in_place=in_place,
            node_modules=node_modules,
        )
        print(f"    {result.status} in {result.seconds:.1f} s", flush=True)
        outcomes.append(result)
    table = summary_table(outcomes, mode)
    atomic_write_text(build / "summary.md", table + "\n")
    atomic_write_text(
        build / "summary.json",
        json.dumps({"mode": mode, "results": [asdict(r) for r in outcomes]}, indent=2) + "\n",
    )
    table_path = results.write_table(build / "results.md", build / "results")
    print()
    print(table)
    print(f"\nwritten: {build / 'summary.md'}, {table_path} (the course-wide results table)")
    return outcomes
