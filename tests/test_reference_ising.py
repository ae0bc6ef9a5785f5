"""coursekit.reference.ising: the 2-D Ising model's exact references, checked against brute
force, closed forms, known counts, scipy's elliptic integral and hand-computed values."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import special, stats

from coursekit.reference import ising
from coursekit.reference.numerics import logsumexp
from coursekit.reference.rbm_exact import state_index

#: g(E) of the 4 x 4 periodic lattice, E = -32, -28, ..., 32 (E = +-28 is impossible: the
#: cheapest excitation, one flipped spin, breaks 4 bonds).
G_4X4 = [2, 0, 32, 64, 424, 1728, 6688, 13568, 20524, 13568, 6688, 1728, 424, 64, 32, 0, 2]


def _brute_energy(s: np.ndarray) -> float:
    """E of one lattice by explicit loops: each site with its right and lower neighbour."""
    L = s.shape[0]
    return -float(sum(int(s[i, j]) * (int(s[i, (j + 1) % L]) + int(s[(i + 1) % L, j]))
                      for i in range(L) for j in range(L)))  # fmt: skip


def _brute_states(L: int) -> np.ndarray:
    """All configurations via itertools (independent of enumerate_states)."""
    return np.array(list(itertools.product([-1, 1], repeat=L * L)), dtype=np.int8).reshape(-1, L, L)


# ------------------------------------------------------------------------ energy, magnetisation


@pytest.mark.parametrize("L", [2, 3, 5, 8])
def test_energy_and_magnetisation_match_explicit_loops(L):
    rng = np.random.default_rng(L)
    s = rng.choice(np.array([-1, 1], dtype=np.int8), size=(20, L, L))
    e = ising.energy(s)
    m = ising.magnetisation(s)
    assert e.dtype == np.float64 and e.shape == (20,) and m.shape == (20,)
    np.testing.assert_array_equal(e, [_brute_energy(x) for x in s])
    np.testing.assert_array_equal(m, s.reshape(20, -1).sum(axis=1))


def test_ground_states_and_a_single_lattice():
    up = np.ones((4, 4), dtype=np.int8)
    assert ising.energy(up).tolist() == [-32.0]  # one lattice [L, L] counts as n = 1
    assert ising.energy(-up).tolist() == [-32.0]
    assert ising.magnetisation(-up).tolist() == [-16.0]
    checkerboard = np.where(np.add.outer(range(4), range(4)) % 2 == 0, 1, -1)
    assert ising.energy(checkerboard.astype(np.float32)).tolist() == [32.0]  # floats of +-1 ok


def test_two_by_two_counts_each_pair_twice():
    s = np.array([[1, -1], [1, 1]], dtype=np.int8)  # one flipped spin: E = 0 with doubled bonds
    assert ising.energy(s).tolist() == [0.0]
    e, m, g = ising.density_of_states(2)
    assert e.tolist() == [-8, 0, 8]
    assert g.sum(axis=1).tolist() == [2, 12, 2]


def test_conversions_round_trip():
    x = np.array([[0, 1], [1, 0]], dtype=np.uint8)
    s = ising.to_pm1(x)
    assert s.dtype == np.int8 and s.tolist() == [[-1, 1], [1, -1]]
    back = ising.to_01(s)
    assert back.dtype == np.uint8 and np.array_equal(back, x)
    assert ising.to_pm1(np.array([True, False])).tolist() == [1, -1]
    assert ising.to_01(np.array([1.0, -1.0])).tolist() == [1, 0]


# -------------------------------------------------------------------------------- enumeration


def test_enumeration_lists_every_state_once_in_rbm_order():
    states = ising.enumerate_states(3)
    assert states.shape == (512, 3, 3) and states.dtype == np.int8
    assert len(np.unique(states.reshape(512, -1), axis=0)) == 512
    k = state_index(ising.to_01(states).reshape(512, 9))
    np.testing.assert_array_equal(k, np.arange(512))
    states[0] = 1  # a copy: the cache is not touched
    assert ising.enumerate_states(3)[0].min() == -1


@pytest.mark.parametrize("L", [2, 3])
def test_density_of_states_matches_brute_force(L):
    s = _brute_states(L)
    e = np.array([_brute_energy(x) for x in s])
    m = s.reshape(len(s), -1).sum(axis=1)
    energies, mags, g = ising.density_of_states(L)
    for i, j in itertools.product(range(len(energies)), range(len(mags))):
        assert g[i, j] == np.sum((e == energies[i]) & (m == mags[j]))


def test_four_by_four_density_of_states():
    energies, mags, g = ising.density_of_states(4)
    assert g.sum() == 65536
    g_e = dict(zip(energies.tolist(), g.sum(axis=1).tolist(), strict=True))
    assert g_e[-32] == 2 and g_e[-24] == 32  # ground states; one flipped spin: 16 x 2
    assert [g_e.get(E, 0) for E in range(-32, 33, 4)] == G_4X4
    assert g[0, mags.tolist().index(16)] == 1 and g[0, mags.tolist().index(-16)] == 1
    np.testing.assert_array_equal(mags, -mags[::-1])
    np.testing.assert_array_equal(g, g[:, ::-1])  # g(E, M) = g(E, -M)


@pytest.mark.parametrize("T", [0.05, 0.5, 1.0, ising.T_C, 3.0, 10.0, 1e4])
def test_enumerated_log_z_of_two_by_two_is_the_closed_form(T):
    assert ising.exact(2, T).log_z == pytest.approx(ising.log_z_2x2(T), rel=1e-12)
    brute = logsumexp([-_brute_energy(x) / T for x in _brute_states(2)])
    assert ising.log_z_2x2(T) == pytest.approx(brute, rel=1e-12)


def test_log_z_2x2_takes_arrays():
    T = np.array([[0.5, 1.0], [2.0, 4.0]])
    out = ising.log_z_2x2(T)
    assert out.shape == (2, 2)
    assert out[1, 0] == pytest.approx(ising.log_z_2x2(2.0), rel=1e-15)
    assert isinstance(ising.log_z_2x2(2.0), float)


@pytest.mark.parametrize("L", [3, 4])
def test_exact_limits_of_low_and_high_temperature(L):
    cold = ising.exact(L, 0.05)
    assert cold.e == pytest.approx(-2.0, abs=1e-12)
    assert cold.abs_m == pytest.approx(1.0, abs=1e-12)
    assert cold.log_z == pytest.approx(2 * L * L / 0.05 + math.log(2), rel=1e-14)
    hot = ising.exact(L, 1e4)
    assert abs(hot.e) < 1e-3
    assert hot.log_z == pytest.approx(L * L * math.log(2), rel=1e-6)


@pytest.mark.parametrize("L", [2, 4])
def test_exact_distribution_is_normalised_and_log_prob_agrees(L):
    ex = ising.exact(L, 2.3)
    assert ex.p_joint.sum() == pytest.approx(1.0, abs=1e-14)
    np.testing.assert_allclose(ex.p_joint.sum(axis=1), ex.p_energy)
    log_p = ex.log_prob(ising.enumerate_states(L))
    assert logsumexp(log_p) == pytest.approx(0.0, abs=1e-12)
    ground = ex.log_prob(np.ones((L, L), dtype=np.int8))
    assert ground[0] == pytest.approx(np.log(ex.p_energy[0] / 2), rel=1e-12)
    assert ex.n_spins == L * L and ex.beta == pytest.approx(1 / 2.3)


@pytest.mark.parametrize("L", [3, 4])
@pytest.mark.parametrize("T", [1.5, 2.3, 3.0])
def test_exact_specific_heat_is_the_derivative_of_the_energy(L, T):
    h = 1e-5
    de_dt = (ising.exact(L, T + h).e - ising.exact(L, T - h).e) / (2 * h)
    assert ising.exact(L, T).c == pytest.approx(de_dt, rel=1e-7)


@pytest.mark.parametrize("T", [1.8, ising.T_C, 3.0])
def test_observables_of_exact_samples_agree_with_exact_within_5_standard_errors(T):
    ex = ising.exact(4, T)
    s = ising.sample_exact(4, T, 200_000, seed=21)
    assert s.shape == (200_000, 4, 4) and s.dtype == np.int8
    obs = ising.observables(s, T)
    err = ising.observable_errors(s, T, n_blocks=20)
    assert obs["n"] == 200_000 and err["n_blocks"] == 20
    for key in ("e", "abs_m", "c", "chi"):
        assert abs(obs[key] - getattr(ex, key)) < 5 * err[key], key
    # and the energy histogram passes a chi-squared test at the 0.1 % level
    energies = ising.energy(s)
    seen = np.array([np.sum(energies == E) for E in ex.energies])
    expected = ex.p_energy * len(s)
    big = expected > 5
    observed = np.append(seen[big], seen[~big].sum())
    expected = np.append(expected[big], expected[~big].sum())
    keep = expected > 0
    assert stats.chisquare(observed[keep], expected[keep]).pvalue > 1e-3


def test_jackknife_error_of_the_mean_energy_is_the_standard_error():
    s = ising.sample_exact(4, 2.5, 50_000, seed=3)
    e = ising.energy(s) / 16
    err = ising.observable_errors(s, 2.5, n_blocks=50)
    assert err["e"] == pytest.approx(e.std() / np.sqrt(len(e)), rel=0.3)
    uneven = ising.observable_errors(s[:50_007], 2.5, n_blocks=7)  # blocks of unequal sizes
    assert all(v > 0 for v in uneven.values())


def test_observables_of_one_configuration_have_no_fluctuations():
    obs = ising.observables(np.ones((4, 4), dtype=np.int8), 1.0)
    assert obs == {"e": -2.0, "abs_m": 1.0, "c": 0.0, "chi": 0.0, "n": 1}


def test_sample_exact_is_reproducible():
    a = ising.sample_exact(3, 2.0, 100, seed=5)
    assert np.array_equal(a, ising.sample_exact(3, 2.0, 100, seed=5))
    assert not np.array_equal(a, ising.sample_exact(3, 2.0, 100, seed=6))


# ------------------------------------------------------------------------- Onsager and Yang


def _u_scipy(T):
    """Onsager's energy with scipy's K(m), m = k^2 (fine away from T_C and very high T)."""
    b = 1.0 / T
    k = 2 * np.sinh(2 * b) / np.cosh(2 * b) ** 2
    K = special.ellipk(k * k)
    return -1 / np.tanh(2 * b) * (1 + 2 / np.pi * (2 * np.tanh(2 * b) ** 2 - 1) * K)


def test_onsager_energy_matches_scipy_elliptic_integral():
    T = np.array([0.5, 1.0, 1.5, 2.0, 2.2, 2.25, 2.3, 2.5, 3.0, 4.0, 6.0])
    np.testing.assert_allclose(ising.onsager_energy_per_spin(T), _u_scipy(T), rtol=1e-11)
    assert isinstance(ising.onsager_energy_per_spin(2.0), float)
    assert ising.onsager_energy_per_spin(T.reshape(11, 1)).shape == (11, 1)


def test_onsager_energy_at_and_around_the_critical_point():
    assert ising.onsager_energy_per_spin(ising.T_C) == pytest.approx(-math.sqrt(2), rel=1e-15)
    for eps in (1e-6, 1e-9, 1e-12):
        for side in (-1, 1):
            u = ising.onsager_energy_per_spin(ising.T_C * (1 + side * eps))
            assert u == pytest.approx(-math.sqrt(2), abs=20 * eps * math.log(1 / eps))
    T = ising.T_C + np.linspace(-1e-3, 1e-3, 2001)
    assert np.all(np.diff(ising.onsager_energy_per_spin(T)) > 0)  # c > 0: no jump, no dip


def test_onsager_energy_limits():
    assert ising.onsager_energy_per_spin(0.05) == -2.0
    assert ising.onsager_energy_per_spin(0.5) == pytest.approx(-2.0, abs=1e-5)
    for T in (1e3, 1e6, 1e9):  # u = -2 tanh(beta) (1 + O(beta^2)) ~ -2 / T, no cancellation
        assert ising.onsager_energy_per_spin(T) == pytest.approx(-2.0 / T, rel=3e-6 * (1e3 / T))


def test_onsager_free_energy_at_the_critical_point_is_known():
    catalan = 0.915965594177219015054603514932
    minus_beta_f = math.log(2) / 2 + 2 * catalan / math.pi
    f = ising.onsager_free_energy_per_spin(ising.T_C)
    assert -f / ising.T_C == pytest.approx(minus_beta_f, rel=1e-14)


@pytest.mark.parametrize("T", [0.8, 1.5, 2.0, 2.2, 2.35, 3.0, 5.0, 50.0])
def test_onsager_energy_is_the_beta_derivative_of_beta_f(T):
    h = 1e-5
    beta = 1.0 / T

    def beta_f(b):
        return b * ising.onsager_free_energy_per_spin(1.0 / b)

    du = (beta_f(beta + h) - beta_f(beta - h)) / (2 * h)
    assert du == pytest.approx(ising.onsager_energy_per_spin(T), rel=1e-7)


def test_onsager_free_energy_limits():
    assert ising.onsager_free_energy_per_spin(0.05) == pytest.approx(-2.0, rel=1e-15)
    T = 1e6
    assert ising.onsager_free_energy_per_spin(T) / T == pytest.approx(-math.log(2), rel=1e-12)
    f = ising.onsager_free_energy_per_spin(np.array([1.0, ising.T_C, 3.0]))
    assert np.all(np.diff(f) < 0)  # df/dT = -s < 0


def test_spontaneous_magnetisation():
    # (1 - sinh(1)^-4)^(1/8), by hand with 30 digits: 0.911319377877495977519410824841
    assert ising.spontaneous_magnetisation(2.0) == pytest.approx(0.911319377877496, rel=1e-14)
    assert ising.spontaneous_magnetisation(ising.T_C) == 0.0
    assert ising.spontaneous_magnetisation(ising.T_C * (1 - 1e-15)) < 0.02
    T = np.array([0.01, 0.5, 1.0, 2.0, 2.26, ising.T_C, 2.3, 3.0, 100.0])
    m = ising.spontaneous_magnetisation(T)
    assert m[0] == 1.0 and m[1] == pytest.approx(1.0, abs=1e-6)
    assert np.all(np.diff(m) <= 0) and np.all(m[5:] == 0.0)


def test_four_by_four_abs_m_approaches_onsager_at_low_temperature():
    assert ising.exact(4, 1.0).abs_m == pytest.approx(ising.spontaneous_magnetisation(1.0),
                                                      abs=0.01)  # fmt: skip
    # and the finite lattice's energy is close to the infinite one's away from T_C
    assert ising.exact(4, 1.0).e == pytest.approx(ising.onsager_energy_per_spin(1.0), abs=0.01)


# ---------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("L", [1, 0, -3, 2.0, True, "4"])
def test_bad_lattice_sides_are_named(L):
    with pytest.raises(ValueError, match=r"L \(lattice side\) must be an int >= 2"):
        ising.exact(L, 2.0)


@pytest.mark.parametrize("fn", [ising.enumerate_states, ising.density_of_states,
                                lambda L: ising.exact(L, 2.0),
                                lambda L: ising.sample_exact(L, 2.0, 10)])  # fmt: skip
def test_lattices_too_large_to_enumerate_are_refused(fn):
    with pytest.raises(ValueError, match=r"L \(lattice side\) = 5 is too large.*2\*\*25"):
        fn(5)


@pytest.mark.parametrize("T", [0, -1.0, float("nan"), float("inf"), "2", None, True])
def test_bad_temperatures_are_named(T):
    with pytest.raises(ValueError, match=r"T \(temperature\) must be a finite number > 0"):
        ising.exact(4, T)
    with pytest.raises(ValueError, match=r"T \(temperature\)"):
        ising.onsager_energy_per_spin(T)
    with pytest.raises(ValueError, match=r"T \(temperature\)"):
        ising.observables(np.ones((2, 2)), T)


@pytest.mark.parametrize("fn", [ising.onsager_energy_per_spin, ising.onsager_free_energy_per_spin,
                                ising.spontaneous_magnetisation, ising.log_z_2x2])  # fmt: skip
def test_bad_temperature_arrays_are_named(fn):
    with pytest.raises(ValueError, match=r"T \(temperatures\) must all be > 0, got 0.0"):
        fn(np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"T holds 1 NaN"):
        fn([1.0, float("nan")])
    with pytest.raises(ValueError, match=r"T must be temperatures"):
        fn([])


@pytest.mark.parametrize(
    ("spins", "message"),
    [
        (np.zeros((3, 4, 4), dtype=np.uint8), r"0/1 values.*2 \* x - 1"),
        (np.ones((4, 4), dtype=bool), r"boolean.*2 \* x - 1"),
        (np.full((4, 4), 0.5), r"only -1 and \+1, got 16 other values such as 0.5"),
        (np.array([[1.0, -1.0], [np.nan, 1.0]]), r"1 NaN or infinite"),
        (np.array([[1, -1], [0, 1]]), r"got 1 other values such as 0"),
        (np.ones((3, 16)), r"shape \(3, 16\).*reshape\(-1, L, L\)"),
        (np.ones((3, 1, 4, 4)), r"shape \(3, 1, 4, 4\)"),
        (np.ones((3, 4, 5)), r"shape \(3, 4, 5\)"),
        (np.ones((0, 4, 4)), r"shape \(0, 4, 4\)"),
        (np.ones((1, 1)), r"L >= 2"),
        (["a", "b"], r"dtype <U1"),
    ],
)
def test_bad_spins_are_refused_with_the_conversion(spins, message):
    for fn in (ising.energy, ising.magnetisation, lambda s: ising.observables(s, 2.0)):
        with pytest.raises(ValueError, match=r"^spins ") as err:
            fn(spins)
        assert err.match(message)


def test_bad_conversions_say_which_convention_they_got():
    with pytest.raises(ValueError, match=r"x01 must hold only 0 and 1, got -1.*-1/\+1 spins"):
        ising.to_pm1(np.array([-1, 1]))
    with pytest.raises(ValueError, match=r"spins must hold only -1 and 1, got 0.*0/1 units"):
        ising.to_01(np.array([0, 1]))
    with pytest.raises(ValueError, match=r"x01 must hold only 0 and 1, got 0.5$"):
        ising.to_pm1(np.array([0.5]))
    with pytest.raises(ValueError, match=r"x01 must not be empty"):
        ising.to_pm1(np.array([]))


def test_other_bad_arguments():
    s = ising.sample_exact(2, 2.0, 10, seed=0)
    with pytest.raises(ValueError, match=r"n = 10 configurations, fewer than n_blocks = 20"):
        ising.observable_errors(s, 2.0)
    with pytest.raises(ValueError, match=r"n_blocks \(number of jackknife blocks\)"):
        ising.observable_errors(s, 2.0, n_blocks=1)
    with pytest.raises(ValueError, match=r"n \(number of samples\) must be an int >= 1"):
        ising.sample_exact(2, 2.0, 0)
    with pytest.raises(ValueError, match=r"spins are 3 x 3 lattices .* L = 4"):
        ising.exact(4, 2.0).log_prob(np.ones((3, 3)))
