"""A function's source, highlighted, for a notebook or a lecture slide: ``show(RBM.gradient)``.

The package's algorithm functions (the RBM's ``gradient``, the EBM's and the DCGAN's
``train_step``, the VAE's ``loss_terms``) are written to be read; a lecture shows the real code
rather than a copy that can drift from it::

    from coursekit.course.source import show
    from coursekit.torch import RBM
    show(RBM.gradient)          # the source of coursekit.torch.RBM.gradient, highlighted

The result is an IPython display object: HTML with Pygments' classes and an inline style,
which the decks (``make slides``) and the HTML renders show offline like any other output.
"""

from __future__ import annotations

import html
import inspect
import textwrap
from typing import Any

__all__ = ["show", "source_of"]


def source_of(obj: Any) -> tuple[str, str]:
    """``(qualified name, dedented source)`` of a function, method, class or module.

    Raises:
        TypeError: ``obj`` has no Python source (a builtin, a number, a compiled extension),
            said in one line with what was given.
    """
    target = getattr(obj, "__func__", obj)  # a bound method: its function
    try:
        source = inspect.getsource(target)
    except (TypeError, OSError):
        raise TypeError(
            f"show() needs a function, method, class or module written in Python; got "
            f"{type(obj).__name__} {obj!r:.60}"
        ) from None
    module = getattr(target, "__module__", None) or getattr(target, "__name__", "")
    name = getattr(target, "__qualname__", getattr(target, "__name__", ""))
    qualified = f"{module}.{name}" if module and name and module != name else module or name
    return qualified, textwrap.dedent(source)


def show(obj: Any) -> Any:
    """The source of ``obj`` (see :func:`source_of`) as highlighted HTML with its name on top,
    for display in a notebook (the last expression of a cell, or ``IPython.display.display``)."""
    from IPython.display import HTML
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    name, source = source_of(obj)
    formatter = HtmlFormatter(cssclass="ck-source", noclasses=True, style="default")
    body = highlight(source, PythonLexer(), formatter)
    title = f'<div style="font-family: monospace; opacity: 0.7">{html.escape(name)}</div>'
    return HTML(title + body)
