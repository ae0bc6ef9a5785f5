"""The Ising yardstick (coursekit.metrics.ising) and the week 6 figures (plotting.ising)."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from coursekit import plotting
from coursekit.metrics.ising import OBSERVABLES, ising_report, magnetisation_histogram
from coursekit.plotting import ising as ising_plots
from coursekit.reference import ising as ri

T_LOW = 1.8  # two ordered phases on 4 x 4: the magnetisation histogram has two peaks


@pytest.fixture(scope="module")
def exact_sets():
    return ri.sample_exact(4, T_LOW, 4000, seed=1), ri.sample_exact(4, T_LOW, 4000, seed=2)


def test_two_exact_sets_agree_within_their_errors(exact_sets):
    a, b = exact_sets
    rep = ising_report(a, b, T_LOW)
    assert rep.n == rep.n_reference == 4000 and rep.L == 4
    for k in OBSERVABLES:
        assert abs(rep.z[k]) < 4, (k, rep.z[k])
        assert rep.values[k] == pytest.approx(ri.observables(a, T_LOW)[k])
    assert rep.up_share == pytest.approx(0.5, abs=0.04)
    assert rep.m_distance < 0.05


def test_the_values_and_errors_match_the_reference_functions(exact_sets):
    a, b = exact_sets
    rep = ising_report(a, b, T_LOW, n_blocks=10)
    err = ri.observable_errors(a, T_LOW, n_blocks=10)
    for k in OBSERVABLES:
        assert rep.errors[k] == pytest.approx(err[k])
        assert rep.delta[k] == pytest.approx(rep.values[k] - rep.reference[k])
        assert rep.z[k] == pytest.approx(rep.delta[k] / math.hypot(rep.errors[k],
                                                                     rep.reference_errors[k]))


def test_one_phase_only_is_caught_by_the_mode_test(exact_sets):
    """A model that learned one ordered phase has the right |m| but not the two peaks."""
    a, b = exact_sets
    m = a.sum(axis=(1, 2))
    one_phase = np.where((m < 0)[:, None, None], -a, a).astype(np.int8)  # flip the down phase up
    rep = ising_report(one_phase, b, T_LOW)
    assert abs(rep.z["abs_m"]) < 4 and abs(rep.z["e"]) < 4  # the observables cannot tell
    assert rep.up_share > 0.95  # ... the share of M > 0 can
    assert rep.m_distance > 0.4


def test_independent_spins_fail_every_observable(exact_sets):
    _, b = exact_sets
    rng = np.random.default_rng(0)
    noise = np.where(rng.random((4000, 4, 4)) < 0.5, 1, -1).astype(np.int8)
    rep = ising_report(noise, b, T_LOW)
    assert rep.z["e"] > 20 and rep.z["abs_m"] < -20
    assert "z = " in rep.summary() and "share with M > 0" in rep.summary()


def test_constant_sets_give_zero_or_infinite_z():
    ground = np.ones((40, 4, 4), dtype=np.int8)
    rep = ising_report(ground, ground, 1.0)
    assert all(rep.z[k] == 0.0 for k in OBSERVABLES)
    other = ground.copy()
    other[:, 0, 0] = -1
    assert ising_report(other, ground, 1.0).z["e"] == math.inf


def test_the_histogram_is_on_the_allowed_grid():
    s = np.ones((3, 2, 2), dtype=np.int8)
    s[1, 0, 0] = -1
    s[2] = -1
    m, share = magnetisation_histogram(s)
    assert m.tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert share.tolist() == pytest.approx([1 / 3, 0, 0, 1 / 3, 1 / 3])


@pytest.mark.parametrize("bad, match", [
    (np.zeros((30, 4, 4), dtype=np.int8), "to_pm1|-1 or \\+1|0/1"),
    (np.ones((30, 3, 3), dtype=np.int8), "lattices"),
    (np.ones((5, 4, 4), dtype=np.int8), "n_blocks"),
])  # fmt: skip
def test_bad_input_is_named(bad, match):
    good = np.ones((30, 4, 4), dtype=np.int8)
    with pytest.raises(ValueError, match=match):
        ising_report(bad, good, 2.0)
    with pytest.raises(ValueError, match="T"):
        ising_report(good, good, 0.0)


def test_the_figures_draw_what_they_are_given(exact_sets):
    with matplotlib.rc_context(plotting.COURSE_STYLE):  # the course style, without leaking it
        _draw_the_figures(*exact_sets)


def _draw_the_figures(a, b):
    fig = ising_plots.magnetisation_histograms({"exact": a, "other": b}, bins=17)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["exact", "other"]
    assert ax.get_xlabel() and ax.get_ylabel()
    plt.close(fig)
    ts = np.array([1.5, 2.0, 3.0])
    exact = {k: [getattr(ri.exact(4, t), k) for t in ts] for k in OBSERVABLES}
    fig = ising_plots.observable_curves({"exact 4 x 4": {"T": ts, **exact}})
    assert len(fig.axes) == 4 and all(ax.get_ylabel() for ax in fig.axes)
    line = fig.axes[0].lines[0]  # the data's points: the exact energies
    assert np.allclose(line.get_ydata(), exact["e"])
    plt.close(fig)
    fig = ising_plots.lattices(a[:4], titles=list("abcd"))
    plt.close(fig)
    with pytest.raises(ValueError, match="'T'"):
        ising_plots.observable_curves({"x": {"e": [1.0]}})
    with pytest.raises(ValueError, match="3 temperatures"):
        ising_plots.observable_curves({"x": {"T": ts, "e": [1.0]}})
