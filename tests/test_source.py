"""coursekit.course.source.show: a function's real source, highlighted, for notebooks and slides."""

from __future__ import annotations

import pytest

from coursekit.course.source import show, source_of


def test_show_gives_the_algorithm_as_written():
    from coursekit.torch import RBM

    name, source = source_of(RBM.gradient)
    assert name == "coursekit.torch.rbm.RBM.gradient"
    assert source.startswith("def gradient(")  # dedented: it reads as written
    page = show(RBM.gradient).data
    assert "coursekit.torch.rbm.RBM.gradient" in page and "gradient" in page
    assert "<span" in page and "style=" in page  # highlighted with inline styles (offline)
    bound = RBM(4, 3, seed=0).gradient
    assert source_of(bound)[1] == source  # a bound method shows its function


@pytest.mark.parametrize("obj", [len, 3, "text"])
def test_show_refuses_what_has_no_python_source(obj):
    with pytest.raises(TypeError, match="show\\(\\) needs a function, method, class or module"):
        show(obj)
