"""Markov chains of the 2-D Ising model, many at once: checkerboard Metropolis, Wolff's cluster
flips, and the integrated autocorrelation time that decides how to thin them.

The model and its conventions are those of :mod:`coursekit.reference.ising` (``L x L``,
periodic, ``J = 1``, no field, ``E = -sum_i s_i (s_right(i) + s_down(i))``).
:func:`coursekit.data.ising.sample` runs these chains; the public functions here take and
update a batch of lattices, int8 ``[chains, L, L]``:

* :func:`metropolis_sweep`: Metropolis et al. (1953), one sweep updates every site once, one
  sublattice of a checkerboard at a time (no two neighbours in the same update, so each site
  sees fixed neighbours; four colours for odd ``L``; on the 2 x 2 lattice, where a fixed
  order is not ergodic, random sites), accepting a flip with ``min(1, exp(-dE / T))`` (0.95 at
  ``dE = 0``: see :func:`_acceptance_table`) from a table of the five possible ``dE``.
  Cheap per step, but near ``T_c`` it decorrelates slowly (critical slowing down,
  ``tau ~ L^2.17``).
* :func:`wolff_step`: the cluster algorithm of Wolff (1989): from a random seed site, grow a
  cluster of equal spins through bonds that open with probability ``p = 1 - exp(-2 / T)``, and
  flip it whole (always accepted: the move obeys detailed balance by construction). Near
  ``T_c`` its clusters are the physical domains, so it decorrelates in a few cluster flips
  at any L. All chains grow their clusters together, breadth first, one NumPy pass per
  layer of the cluster.
* :func:`integrated_autocorrelation_time`: with Sokal's automatic window.

Random numbers are float32 (probabilities resolved to 2^-24). References: N. Metropolis et al.,
J. Chem. Phys. 21, 1087 (1953); U. Wolff, Phys. Rev. Lett. 62, 361 (1989); N. Madras and
A. D. Sokal, J. Stat. Phys. 50, 109 (1988); A. D. Sokal, "Monte Carlo methods in statistical
mechanics: foundations and new algorithms", in Functional Integration (Springer, 1997);
M. E. J. Newman and G. T. Barkema, Monte Carlo Methods in Statistical Physics (Oxford, 1999),
chapters 3 and 4.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from coursekit.checks import check_float, check_int

__all__ = [
    "integrated_autocorrelation_time",
    "metropolis_sweep",
    "random_spins",
    "wolff_step",
]


# --------------------------------------------------------------------------------------------
# Lattice tables and the chains' layout
# --------------------------------------------------------------------------------------------
#
# The samplers keep all chains in one int8 array ``state [N, chains]``: site-major, so that the
# spins of one site in every chain are one contiguous row (a 64-byte cache line for 64 chains),
# and with the sites reordered colour by colour, so that a sublattice is a contiguous block of
# rows. A Metropolis half-sweep is then a handful of whole-array operations on [N/2, chains],
# about twice as fast as on [chains, N] in site order.


@dataclass(frozen=True)
class _Lattice:
    """Index tables of an ``L x L`` periodic lattice, site ``i = row * L + col``.

    Sites are stored in ``order``: row ``p`` of a state holds site ``order[p]``, and site ``i``
    is in row ``position[i]``. ``neighbours`` int64 [N, 4] gives, for row ``p``, the rows of
    its right, down, left and up neighbours (for L = 2 right and left are the same site: the
    periodic 2 x 2 lattice has two bonds between such sites, and the energy counts both).
    ``blocks``: the ``(start, stop)`` rows of each colour, sets of sites no two of which are
    neighbours (the checkerboard's two sublattices for even L, four colours for odd L);
    ``block_neighbours``: for each block, the four neighbour columns of its rows.
    """

    L: int
    order: np.ndarray
    position: np.ndarray
    neighbours: np.ndarray
    blocks: tuple[tuple[int, int], ...]
    block_neighbours: tuple[tuple[np.ndarray, ...], ...]

    @property
    def n_sites(self) -> int:
        return self.L * self.L

    @property
    def bipartite(self) -> bool:
        """Two colours (even L): every bond joins the two blocks."""
        return len(self.blocks) == 2

    def to_state(self, spins: np.ndarray) -> np.ndarray:
        """int8 [chains, L, L] -> the samplers' layout int8 [N, chains] (a new array)."""
        return np.ascontiguousarray(spins.reshape(len(spins), -1)[:, self.order].T)

    def to_spins(self, state: np.ndarray) -> np.ndarray:
        """The samplers' layout int8 [N, chains] -> int8 [chains, L, L] (a new array)."""
        return np.ascontiguousarray(state[self.position].T).reshape(-1, self.L, self.L)


@lru_cache(maxsize=16)
def _lattice(L: int) -> _Lattice:
    r, c = np.divmod(np.arange(L * L), L)
    site_neighbours = np.stack(
        [r * L + (c + 1) % L, ((r + 1) % L) * L + c, r * L + (c - 1) % L, ((r - 1) % L) * L + c],
        axis=1,
    )
    # Greedy colouring in row-major order: the checkerboard for even L, four colours for odd L.
    colour = np.full(L * L, -1)
    for site in range(L * L):
        used = {int(colour[j]) for j in site_neighbours[site]}
        colour[site] = next(k for k in range(5) if k not in used)
    order = np.argsort(colour, kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(L * L)
    neighbours = position[site_neighbours[order]]
    bounds = np.searchsorted(colour[order], np.arange(int(colour.max()) + 2))
    blocks = tuple((int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True))
    for a, b in blocks:  # no two sites of a colour are neighbours
        assert not ((neighbours[a:b] >= a) & (neighbours[a:b] < b)).any(), (L, a, b)
    block_neighbours = tuple(tuple(neighbours[a:b, j].copy() for j in range(4))
                             for a, b in blocks)  # fmt: skip
    return _Lattice(L, order, position, neighbours, blocks, block_neighbours)


def _check_L(L: Any) -> int:
    return check_int(L, "L", 2, "lattice side")


def _check_T(T: Any) -> float:
    return check_float(T, "T", "> 0", "temperature")


def _check_batch(spins: Any, name: str = "spins") -> np.ndarray:
    """``spins`` as given: an int8 array [chains, L, L] of -1 and +1 (L >= 2)."""
    if not isinstance(spins, np.ndarray) or spins.dtype != np.int8 or spins.ndim != 3:
        shown = (f"{spins.dtype} array of shape {spins.shape}" if isinstance(spins, np.ndarray)
                 else type(spins).__name__)  # fmt: skip
        raise ValueError(f"{name} must be an int8 array [chains, L, L] of -1 and +1, got {shown}")
    if spins.shape[1] != spins.shape[2] or spins.shape[1] < 2 or spins.shape[0] < 1:
        raise ValueError(
            f"{name} must be an int8 array [chains, L, L] with L >= 2, got shape {spins.shape}"
        )
    bad = np.count_nonzero(np.abs(spins) != 1)
    if bad:
        raise ValueError(f"{name} holds {bad} values other than -1 and +1")
    return spins


def random_spins(chains: int, L: int, rng: np.random.Generator) -> np.ndarray:
    """Independent uniformly random spins (infinite temperature): int8 [chains, L, L]."""
    chains = check_int(chains, "chains", 1, "number of chains")
    L = _check_L(L)
    bits = rng.integers(0, 2, size=(chains, L, L), dtype=np.int8)
    return (2 * bits - 1).astype(np.int8)


def _energies(state: np.ndarray, lattice: _Lattice) -> np.ndarray:
    """E of each chain of ``state`` [N, chains], int64 [chains]:
    ``-sum_i s_i (s_right(i) + s_down(i))``."""
    nb = lattice.neighbours
    bonds = np.take(state, nb[:, 0], axis=0) + np.take(state, nb[:, 1], axis=0)  # in -2..2
    bonds *= state
    return -bonds.sum(axis=0, dtype=np.int64)


def _abs_magnetisation(state: np.ndarray) -> np.ndarray:
    """|m| = |sum_i s_i| / N of each chain of ``state`` [N, chains], float64 [chains]."""
    return np.abs(state.sum(axis=0, dtype=np.int64)) / state.shape[0]


# --------------------------------------------------------------------------------------------
# Metropolis
# --------------------------------------------------------------------------------------------


#: The acceptance of a flip that leaves the energy unchanged (see :func:`_acceptance_table`).
ACCEPT_FLAT = 0.95


def _acceptance_table(T: float) -> np.ndarray:
    """float32 [9]: entry ``s h + 4`` is the acceptance of flipping a spin ``s`` whose four
    neighbours sum to ``h`` (dE = 2 s h; s h is one of -4, -2, 0, 2, 4, the odd entries are
    never used): ``min(1, exp(-dE / T))``, except **0.95 for dE = 0** (:data:`ACCEPT_FLAT`).

    Why not 1 at dE = 0: with a checkerboard, every site of a sublattice is updated at once, and
    on an even lattice the row (or column) stripes have ``h = 0`` at every site, so every flip
    is accepted: one sweep turns the stripes into their negative and back, with ``E = 0`` at
    any T, a closed cycle the chain never leaves (found from ``sample(4, T_C, 4000, seed=139)``).
    Any acceptance ``a(dE)`` with ``a(dE) / a(-dE) = exp(-dE / T)`` keeps detailed balance, so
    any value at dE = 0 is as correct as 1; and with every acceptance below 1 except the moves
    that lower the energy, no deterministic cycle can exist (its energy would fall forever).
    Why 0.95 and not 1/2: measured (L = 8 and 16, at T_c and T = 3, three seeds each), 1/2
    slows the wandering of domain walls, whose sites have dE = 0, and doubles the
    autocorrelation time; 0.95 leaves it within the seeds' spread of the value at 1, and 256
    chains started in the stripes at T = 1 all leave them within 10 sweeps on 4 x 4 and 8 x 8.
    """
    sh = np.arange(-4, 5)
    table = np.minimum(1.0, np.exp(-2.0 * sh / T))
    table[4] = ACCEPT_FLAT  # dE = 0
    return table.astype(np.float32)


def _metropolis(state: np.ndarray, lattice: _Lattice, table: np.ndarray,
                rng: np.random.Generator, sweeps: int) -> np.ndarray | None:  # fmt: skip
    """``sweeps`` sweeps of every chain of ``state`` (int8 [N, chains]), in place.

    Returns the energies after the last sweep, int64 [chains], when they come for free (even
    L: every bond has one end in the last block, whose neighbour sums ``h`` the last
    half-sweep computed and did not change: ``E = -sum_last s h``), else None.
    """
    if lattice.L == 2:
        _metropolis_random_sites(state, lattice, table, rng, sweeps)
        return None
    h = s = None
    for _ in range(sweeps):
        for (a, b), (right, down, left, up) in zip(lattice.blocks, lattice.block_neighbours,
                                                   strict=True):  # fmt: skip
            h = np.take(state, right, axis=0)
            h += np.take(state, down, axis=0)
            h += np.take(state, left, axis=0)
            h += np.take(state, up, axis=0)
            s = state[a:b]
            sh = h * s  # in -4..4: dE = 2 s h
            sh += 4
            flip = rng.random(sh.shape, dtype=np.float32) < np.take(table, sh)
            state[a:b] = np.where(flip, -s, s)
    if h is None or not lattice.bipartite:
        return None
    h *= state[lattice.blocks[-1][0]:]
    return -h.sum(axis=0, dtype=np.int64)


def _metropolis_random_sites(state: np.ndarray, lattice: _Lattice, table: np.ndarray,
                             rng: np.random.Generator, sweeps: int) -> None:  # fmt: skip
    """Metropolis on the 2 x 2 lattice: N updates per sweep, each at a site drawn uniformly.

    A fixed order is not ergodic there, since every move with dE = 0 is accepted: the two
    sites of a sublattice have the same neighbours and flip in lockstep, and one site at a
    time in a fixed order cycles, e.g. (-1,-1,1,-1) -> (1,1,-1,1) -> (-1,-1,1,-1) forever.
    A random site each time (a symmetric proposal) has neither problem.
    """
    chains = np.arange(state.shape[1])
    for _ in range(sweeps * lattice.n_sites):
        row = rng.integers(0, lattice.n_sites, size=len(chains))
        h = state[lattice.neighbours[row], chains[:, None]].sum(axis=1)
        s = state[row, chains]
        flip = rng.random(len(chains)) < table[s * h + 4]
        state[row, chains] = np.where(flip, -s, s)


def metropolis_sweep(spins: np.ndarray, T: float, rng: np.random.Generator,
                     sweeps: int = 1) -> int:  # fmt: skip
    """Update ``spins`` (int8 [chains, L, L] in {-1, +1}) in place by ``sweeps`` Metropolis
    sweeps at temperature ``T``; return the number of spin updates (sites visited).

    Each sweep visits every site once, one checkerboard sublattice at a time, and flips a spin
    with probability ``min(1, exp(-dE / T))``, 0.95 at ``dE = 0`` (Metropolis et al. 1953;
    Newman and Barkema 1999, section 3.1). Each chain is an independent Markov chain with the
    Boltzmann distribution as its stationary distribution.
    """
    spins = _check_batch(spins)
    T = _check_T(T)
    sweeps = check_int(sweeps, "sweeps", 0, "number of sweeps")
    lattice = _lattice(spins.shape[1])
    state = lattice.to_state(spins)
    _metropolis(state, lattice, _acceptance_table(T), rng, sweeps)
    spins[...] = lattice.to_spins(state)
    return sweeps * spins.size


# --------------------------------------------------------------------------------------------
# Wolff
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _flat_neighbours(L: int, chains: int) -> np.ndarray:
    """int64 [N * chains, 4]: the neighbours of each element of a flattened state
    ``[N, chains]`` (element ``row * chains + chain``), in the same chain."""
    rows = _lattice(L).neighbours
    flat = rows[:, None, :] * chains + np.arange(chains)[None, :, None]
    flat = flat.reshape(-1, 4)
    flat.flags.writeable = False
    return flat


def _wolff(state: np.ndarray, lattice: _Lattice, p_bond: float, rng: np.random.Generator,
           steps: int) -> int:  # fmt: skip
    """``steps`` Wolff cluster flips in every chain of ``state`` (int8 [N, chains]), in place;
    returns the number of spins flipped.

    All chains grow their clusters together, breadth first, on the flattened array
    ``[N * chains]``: each layer tests, for every site added in the layer before, the bonds to
    its four neighbours. Sites are flipped as they join, so a neighbour still has the seed's
    spin exactly when it differs from the (flipped) site that reaches it; it joins when it
    does and its bond opens (probability ``p_bond``). A site already in the cluster has the
    other spin and is never tested again, so each bond between a cluster site and a site
    outside it is tested exactly once, as Wolff's algorithm requires (on the 2 x 2 lattice
    the two bonds between a pair of sites are two tests, as the energy has two). A site that
    two bonds reach in one layer joins once (``last``: the last write of each index wins).
    """
    n_sites, chains = state.shape
    spins = state.reshape(-1)
    neighbours = _flat_neighbours(lattice.L, chains)
    last = np.empty(spins.size, dtype=np.intp)
    first_row = np.arange(chains)
    flipped = 0
    for _ in range(steps):
        frontier = rng.integers(0, n_sites, size=chains) * chains + first_row
        spins[frontier] *= -1
        flipped += chains
        while frontier.size:
            cand = neighbours[frontier]  # [f, 4]
            join = spins[cand] != spins[frontier][:, None]
            join &= rng.random(cand.shape, dtype=np.float32) < p_bond
            new = cand[join]
            if new.size > 1:
                index = np.arange(new.size)
                last[new] = index
                new = new[last[new] == index]
            spins[new] *= -1
            flipped += new.size
            frontier = new
    return flipped


def wolff_step(spins: np.ndarray, T: float, rng: np.random.Generator, steps: int = 1) -> int:
    """Flip ``steps`` Wolff clusters in each chain of ``spins`` (int8 [chains, L, L] in
    {-1, +1}) in place at temperature ``T``; return the number of spins flipped.

    Wolff (1989); Newman and Barkema (1999), section 4.2: pick a seed site uniformly, add each
    neighbour of a cluster site that has the same spin with probability ``1 - exp(-2 / T)``,
    and flip the cluster. Detailed balance holds with acceptance 1 (``tests/test_data_ising.py``
    checks the exact transition matrix of one step on the 2 x 2 and 3 x 3 lattices).
    """
    spins = _check_batch(spins)
    T = _check_T(T)
    steps = check_int(steps, "steps", 0, "number of cluster flips")
    lattice = _lattice(spins.shape[1])
    state = lattice.to_state(spins)
    flipped = _wolff(state, lattice, -math.expm1(-2.0 / T), rng, steps)
    spins[...] = lattice.to_spins(state)
    return flipped


# --------------------------------------------------------------------------------------------
# Autocorrelation
# --------------------------------------------------------------------------------------------


def _autocorrelation(x: np.ndarray) -> np.ndarray:
    """Normalised autocorrelation rho(t), t = 0..T-1, of chains ``x`` [chains, T], averaged
    over chains, around the mean of all chains (they sample one distribution). The biased
    estimator (divide by T, not T - t), as Sokal recommends: its variance stays bounded."""
    chains, length = x.shape
    x = x - x.mean()
    size = 1 << (2 * length - 1).bit_length()
    f = np.fft.rfft(x, n=size, axis=1)
    acov = np.fft.irfft(f * np.conj(f), n=size, axis=1)[:, :length].sum(axis=0)
    acov /= chains * length
    if acov[0] <= 0:
        return np.zeros(length)
    return acov / acov[0]


def _tau_and_window(series: Any, c: float) -> tuple[float, int, bool]:
    x = np.asarray(series, dtype=np.float64)
    x = x[None, :] if x.ndim == 1 else x
    rho = _autocorrelation(x)
    if not rho[0]:  # nothing fluctuates: no correlation to measure
        return 1.0, 0, True
    taus = 2.0 * np.cumsum(rho) - 1.0  # tau(M) = 1 + 2 sum_{t=1}^{M} rho(t)
    ok = np.flatnonzero(np.arange(len(taus)) >= c * taus)
    if ok.size:
        return float(taus[ok[0]]), int(ok[0]), True
    return float(taus[-1]), len(taus) - 1, False


def integrated_autocorrelation_time(series: Any, *, c: float = 5.0) -> float:
    """The integrated autocorrelation time of a Markov chain's ``series``, with Sokal's
    automatic window.

    Args:
        series: float [T], one chain, or [chains, T], independent chains of one distribution
            (their autocorrelations are averaged). At least 4 steps.
        c: the window constant (Sokal suggests 4 to 10; 5 here, as in emcee).

    Returns:
        ``tau = 1 + 2 sum_{t=1}^{M} rho(t)``, so that the variance of the mean of ``T``
        steps is ``tau var(x) / T`` and the chain holds ``T / tau`` effectively independent
        samples. (Sokal's ``tau_int`` is half this.) The window ``M`` is the smallest with
        ``M >= c tau(M)``: long enough to hold the correlation, short enough that the noise of
        the far lags does not swamp it (Madras and Sokal 1988; Sokal 1997, section 3). A
        constant series gives 1. For an AR(1) process ``x_t = phi x_{t-1} + noise``,
        ``tau = (1 + phi) / (1 - phi)``. If no window up to the series' length qualifies
        (the series is shorter than about ``c tau``), the estimate at the longest window is
        returned, an underestimate.
    """
    x = np.asarray(series)
    if x.ndim not in (1, 2) or x.shape[-1] < 4 or x.size == 0:
        raise ValueError(
            f"series must be a float array [T] or [chains, T] with T >= 4 steps, got shape "
            f"{x.shape}"
        )
    if not np.issubdtype(x.dtype, np.number) or not np.all(np.isfinite(x)):
        raise ValueError("series must hold finite numbers")
    c = check_float(c, "c", "> 0", "window constant")
    return _tau_and_window(x, c)[0]
