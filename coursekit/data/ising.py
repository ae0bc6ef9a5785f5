"""Configurations of the 2-D Ising model from a checked Monte Carlo sampler, cached on disk.

The model (the conventions of :mod:`coursekit.reference.ising`, which holds its exact answers):
an ``L x L`` periodic square lattice, coupling ``J = 1``, no field, ``k_B = 1``, spins
``s_i in {-1, +1}`` and energy ``E = -sum_i s_i (s_right(i) + s_down(i))``. Below
``T_c = 2 / log(1 + sqrt(2)) = 2.269...`` the magnetisation is two-peaked (the up and the down
phase are equally likely on a finite lattice); above it, it is one peak around zero::

    from coursekit.data import ising
    data = ising.sample(16, 2.0, 4000)      # cached in <cache>/ising/
    data.spins                              # int8 [4000, 16, 16] in {-1, +1}
    print(data.summary())                   # algorithm, tau, thinning, burn-in, speed
    x = ising.to_visible(data.spins)        # uint8 [4000, 256] in {0, 1}, for an RBM
    images = ising.to_images(data.spins)    # float32 [4000, 1, 16, 16] in {-1, +1}
    spins = ising.to_spins(model_samples)   # back from 0/1 or -1/+1, any of those layouts

One mapping between spins and units throughout: ``x = (s + 1) / 2``, ``s = 2 x - 1`` (up is 1).

**Samplers** (:mod:`coursekit.data.ising_mc`, whose functions this module re-exports):
checkerboard Metropolis (Metropolis et al. 1953), Wolff's cluster flips (Wolff 1989) and the
integrated autocorrelation time with Sokal's window (Sokal 1997), all vectorised over many
independent chains at once.

``algorithm="auto"`` (:func:`choose_algorithm`) takes whichever gives an independent
configuration in less time, as measured by ``benchmarks/ising.py`` (the seconds per step
times 2 tau, ``benchmarks/results/ising.md``): Wolff for ``L >= 32`` within 0.06 of ``T_c``
(:data:`AUTO_WOLFF_MIN_L`, :data:`AUTO_WOLFF_WINDOW`), Metropolis elsewhere. Vectorised
Metropolis makes about 100 million spin updates a second here and Wolff, whose layers are
small NumPy calls, about 7 million spin flips, so Wolff's far shorter tau pays only where
Metropolis slows down critically: at L = 16 Metropolis is cheaper at every temperature (at
T_c its tau is about 20 sweeps), at L = 32 near T_c the two are about even (Wolff up to 1.6
times cheaper), at L = 64 Wolff is about 3 times cheaper. Either can be asked for by name.

**Burn-in, autocorrelation and thinning.** Every chain starts from random spins (a hot start),
except Metropolis below ``T_c``, whose chains start all up (a cold start): from random spins
Metropolis leaves domain walls across the lattice (stripes) that take it of order ``L^2``
sweeps or more to remove. A pilot run follows the start and doubles in length until its
second half is at least ``PILOT_TAUS = 20`` integrated autocorrelation times ``tau`` of both
``|m|`` and ``E`` long (measured with :func:`integrated_autocorrelation_time`, over all
chains); the whole pilot is the burn-in. Samples are then taken every ``thin = ceil(2 tau)``
steps of each chain, ``tau`` the larger of the two, so consecutive samples of a chain are
nearly independent (correlation ``~exp(-2 tau / tau_exp)``) and samples of different chains
are independent. A step is one sweep (Metropolis) or one cluster flip per chain (Wolff);
``tau`` and ``thin`` are in steps.

**The sign of m.** Thinning by the ``tau`` of ``|m|`` does not decorrelate the sign of ``m``:
below ``T_c`` a Metropolis chain on a lattice this size almost never crosses between the up
and the down phase, and Wolff's near-whole-lattice clusters at low ``T`` make the sign
alternate from step to step (so every even thinning keeps it). So each configuration is
flipped as a whole, ``s -> -s``, with probability 1/2 as it is stored: a symmetry of the model
(``E(-s) = E(s)``, a move that is always accepted), which leaves the distribution exact and
makes the sign of every sample's ``m`` a fair coin, independent of the rest. The two peaks
of the magnetisation below ``T_c`` come out in equal shares, as on the finite lattice they are.

**Speed** (``benchmarks/results/ising.md``; the course's 2-core AMD EPYC machine, one core
used): checkerboard Metropolis makes 80 to 160 million spin updates a second at L = 16 and
32 with 64 chains; Wolff flips 2 to 10 million spins a second. The course's data set
(:data:`COURSE_L` = 16, the ten :data:`COURSE_TEMPERATURES` from 1.5 to 3.5 with T_c among
them, :data:`COURSE_N` = 4,000 configurations each) takes 2.2 to 2.5 seconds in all when
nothing is cached (0.4 to 0.6 s at each temperature near T_c, where tau is about 20 sweeps
and the thinning about 40, 0.03 to 0.3 s elsewhere), far inside the minute the course allows.

**Cache** (:mod:`coursekit.data.ising_cache`): one ``.npz`` per sample in
``<cache>/ising/`` (``$COURSEKIT_DATA`` or ``~/.cache/coursekit``), named by its parameters
(:func:`cache_path`) and holding them, what the sampler measured and the SHA-256 of the
spins; written atomically. A damaged file, or one of other parameters, is refused with a
:class:`~coursekit.data.DataError` naming it (delete it, or pass ``cache=False``); a cache
folder that cannot be written to gives a warning, and the sample is returned uncached.

References: N. Metropolis, A. W. Rosenbluth, M. N. Rosenbluth, A. H. Teller and E. Teller,
J. Chem. Phys. 21, 1087 (1953); U. Wolff, Phys. Rev. Lett. 62, 361 (1989); N. Madras and
A. D. Sokal, J. Stat. Phys. 50, 109 (1988); A. D. Sokal, "Monte Carlo methods in statistical
mechanics: foundations and new algorithms", in Functional Integration (Springer, 1997);
M. E. J. Newman and G. T. Barkema, Monte Carlo Methods in Statistical Physics (Oxford, 1999),
chapters 3 and 4.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from coursekit.checks import (
    CoursekitWarning,
    check_bool,
    check_choice,
    check_int,
    check_seed,
    to_numpy,
)
from coursekit.data import ising_cache
from coursekit.data.ising_cache import FORMAT_VERSION
from coursekit.data.ising_mc import (
    _abs_magnetisation,
    _acceptance_table,
    _check_L,
    _check_T,
    _energies,
    _lattice,
    _metropolis,
    _tau_and_window,
    _wolff,
    integrated_autocorrelation_time,
    metropolis_sweep,
    random_spins,
    wolff_step,
)
from coursekit.io import display_path
from coursekit.reference.ising import T_C, check_spins, to_01, to_pm1

__all__ = [
    "ALGORITHMS",
    "AUTO_WOLFF_MIN_L",
    "AUTO_WOLFF_WINDOW",
    "COURSE_L",
    "COURSE_N",
    "COURSE_TEMPERATURES",
    "FORMAT_VERSION",
    "IsingSample",
    "SamplerWarning",
    "T_C",
    "cache_path",
    "choose_algorithm",
    "integrated_autocorrelation_time",
    "metropolis_sweep",
    "random_spins",
    "sample",
    "to_images",
    "to_spins",
    "to_visible",
    "wolff_step",
]

#: The samplers :func:`sample` knows; ``"auto"`` resolves to one of the other two.
ALGORITHMS = ("auto", "metropolis", "wolff")

#: ``algorithm="auto"`` takes Wolff for ``L >= AUTO_WOLFF_MIN_L`` and
#: ``|T - T_c| < AUTO_WOLFF_WINDOW``, Metropolis elsewhere: where each gives an independent
#: configuration in less time (per chain: seconds per step x 2 tau, 64 chains; measured with
#: benchmarks/ising.py on the course's 2-core machine, benchmarks/results/ising.md; the
#: ratios below span two runs, whose timings differed by up to 20%). L = 16: Metropolis is
#: cheaper at every T from 1.5 to 3.5 (2.0x at T_c). L = 32: Wolff 1.3-1.6x cheaper at
#: T = 2.22, 1.0-1.2x at T_c, 1.1x at 2.32; Metropolis 1.2-1.6x cheaper at 2.2, 1.3x at 2.4.
#: L = 64: Wolff 2.9-3.5x cheaper at 2.22, 2.9-3.0x at T_c, 1.8-2.8x at 2.32; Metropolis
#: 3.4-3.7x cheaper at 2.1, 2.5-2.8x at 2.45 (the window grows with L; 0.06 is what L = 32
#: allows). Metropolis' tau at T_c grows as L^2.2 (22, 79, 366 sweeps at L = 16, 32, 64),
#: Wolff's hardly (3 to 5 sweeps), but a vectorised Metropolis sweep is 10 to 20 times faster
#: per spin.
AUTO_WOLFF_MIN_L = 32
AUTO_WOLFF_WINDOW = 0.06

#: The course's data set: L = 16 at ten temperatures from 1.5 to 3.5 (T_c among them),
#: 4,000 configurations each. ``benchmarks/ising.py`` times making it.
COURSE_L = 16
COURSE_N = 4000
COURSE_TEMPERATURES = (1.5, 1.8, 2.0, 2.2, T_C, 2.4, 2.6, 2.8, 3.0, 3.5)

PILOT_TAUS = 20  # the pilot's second half must be this many tau long
PILOT_START = 64  # first pilot length, in steps; it doubles from here
PILOT_MAX = 1 << 14  # longest pilot, in steps (then a SamplerWarning)
MAX_CHAINS = 64  # chains run side by side at most (see _default_chains)
SAMPLES_PER_CHAIN = 32  # each chain gives this many samples, when n allows


class SamplerWarning(CoursekitWarning):
    """The sampler could not measure its autocorrelation time reliably (the pilot run hit its
    length limit): the thinning may be too small. Metropolis near T_c at large L does this;
    use ``algorithm="wolff"``."""


# --------------------------------------------------------------------------------------------
# The sample
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class IsingSample:
    """Ising configurations and how they were made (from :func:`sample`).

    Attributes:
        spins: int8 [n, L, L] in {-1, +1}; row ``k`` is from chain ``k % chains``, its
            ``k // chains``-th sample.
        L, T, n, seed: what was asked for.
        algorithm: what was asked for (``"auto"``, ``"metropolis"``, ``"wolff"``).
        sampler: the algorithm that ran (``"metropolis"`` or ``"wolff"``).
        chains: independent chains run side by side.
        tau_abs_m, tau_energy: integrated autocorrelation times of |m| and E measured in the
            pilot run, in steps (sweeps for Metropolis, cluster flips for Wolff).
        tau_sweeps: the larger of the two in sweeps (for Wolff: steps times the mean cluster
            size over L*L), to compare the algorithms.
        thin: steps between the samples of a chain, ``ceil(2 max(tau))``.
        burn_in: steps of each chain before its first sample (the pilot run).
        steps: steps of each chain in all.
        spin_updates: sites visited (Metropolis) or spins flipped (Wolff), all chains.
        cluster_flips: Wolff clusters flipped, all chains (0 for Metropolis).
        seconds: the time the sampling took when it was made (also when read from the cache).
        start: ``"hot"`` (random spins) or ``"cold"`` (all up; Metropolis below T_c).
        path: the cache file, or None when not cached.
        from_cache: True when the spins were read from ``path``.
    """

    spins: np.ndarray
    L: int
    T: float
    n: int
    seed: int
    algorithm: str
    sampler: str
    chains: int
    tau_abs_m: float
    tau_energy: float
    tau_sweeps: float
    thin: int
    burn_in: int
    steps: int
    spin_updates: int
    cluster_flips: int
    seconds: float
    start: str
    path: Path | None = field(default=None, compare=False)
    from_cache: bool = field(default=False, compare=False)

    @property
    def updates_per_second(self) -> float:
        """Spin updates (Metropolis) or spin flips (Wolff) per second of sampling."""
        return self.spin_updates / self.seconds if self.seconds > 0 else float("inf")

    def summary(self) -> str:
        """One line: what was sampled, how, and how fast (for a notebook to print)."""
        unit = "sweeps" if self.sampler == "metropolis" else "cluster flips"
        if self.path is None:
            where = "not cached"
        else:
            where = f"{'read from' if self.from_cache else 'cached in'} {display_path(self.path)}"
        return (
            f"Ising L={self.L} T={self.T:.4g}: {self.n:,} configurations from {self.chains} "
            f"{self.sampler} chains ({self.start} start), burn-in {self.burn_in} and thinning "
            f"{self.thin} {unit} (tau |m| {self.tau_abs_m:.2f}, E {self.tau_energy:.2f}; "
            f"{self.tau_sweeps:.2f} sweeps); {self.spin_updates:.3g} spin "
            f"{'updates' if self.sampler == 'metropolis' else 'flips'} in {self.seconds:.2f} s "
            f"({self.updates_per_second:.3g}/s); {where}"
        )


def choose_algorithm(L: int, T: float) -> str:
    """The sampler ``algorithm="auto"`` runs for ``L`` at ``T``: ``"wolff"`` for
    ``L >= AUTO_WOLFF_MIN_L`` (32) and ``|T - T_c| < AUTO_WOLFF_WINDOW`` (0.06), else
    ``"metropolis"`` (the measurements behind it: :data:`AUTO_WOLFF_MIN_L`)."""
    L = _check_L(L)
    T = _check_T(T)
    near = abs(T - T_C) < AUTO_WOLFF_WINDOW
    return "wolff" if L >= AUTO_WOLFF_MIN_L and near else "metropolis"


def _default_chains(n: int) -> int:
    """Chains for ``n`` samples: enough that each gives about ``SAMPLES_PER_CHAIN``, at most
    ``MAX_CHAINS``. More chains vectorise better but each pays the burn-in; with the pilot
    about 40 to 80 tau and the thinning 2 tau, 32 samples per chain keeps the burn-in at or
    below the sampling's cost."""
    return max(1, min(MAX_CHAINS, -(-n // SAMPLES_PER_CHAIN)))


def _stream(seed: int, L: int, T: float, n: int, sampler: str, chains: int) -> np.random.Generator:
    """The random numbers of one sample: a stream of its own for every (seed, L, T, n, sampler,
    chains), so that samples at different temperatures with one seed are independent."""
    t_bits = int(np.float64(T).view(np.uint64))
    key = [seed, L, n, t_bits >> 32, t_bits & 0xFFFFFFFF, ALGORITHMS.index(sampler), chains]
    return np.random.default_rng(np.random.SeedSequence(key))


def _generate(L: int, T: float, n: int, seed: int, algorithm: str, chains: int) -> dict:
    """Run the sampler; return the arrays and numbers of an :class:`IsingSample`."""
    sampler = choose_algorithm(L, T) if algorithm == "auto" else algorithm
    rng = _stream(seed, L, T, n, sampler, chains)
    lattice = _lattice(L)
    n_sites = L * L
    started = time.perf_counter()
    if sampler == "metropolis" and T < T_C:
        start = "cold"
        state = np.ones((n_sites, chains), dtype=np.int8)
    else:
        start = "hot"
        state = lattice.to_state(random_spins(chains, L, rng))
    if sampler == "metropolis":
        table = _acceptance_table(T)

        def step(count: int) -> tuple[int, np.ndarray | None]:
            return count * state.size, _metropolis(state, lattice, table, rng, count)
    else:
        p_bond = -math.expm1(-2.0 / T)

        def step(count: int) -> tuple[int, np.ndarray | None]:
            return _wolff(state, lattice, p_bond, rng, count), None

    # Burn-in and pilot: run until the second half of the record is PILOT_TAUS tau long.
    updates = 0
    energy: list[np.ndarray] = []
    abs_m: list[np.ndarray] = []
    length = PILOT_START
    while True:
        while len(energy) < length:
            count, e = step(1)
            updates += count
            energy.append(_energies(state, lattice) if e is None else e)
            abs_m.append(_abs_magnetisation(state))
        half = length // 2
        tau_e, _, ok_e = _tau_and_window(np.array(energy[half:]).T, 5.0)
        tau_m, _, ok_m = _tau_and_window(np.array(abs_m[half:]).T, 5.0)
        tau = max(tau_e, tau_m, 1.0)
        if (ok_e and ok_m and length - half >= PILOT_TAUS * tau) or length >= PILOT_MAX:
            break
        length *= 2
    if length >= PILOT_MAX and not (ok_e and ok_m and length - half >= PILOT_TAUS * tau):
        warnings.warn(
            f"the {sampler} pilot run at L={L}, T={T:g} reached {PILOT_MAX} steps without "
            f"measuring its autocorrelation time (tau ~ {tau:.0f} steps or more); the thinning "
            f"may be too small. Use algorithm='wolff' near T_c.",
            SamplerWarning,
            stacklevel=3,
        )
    burn_in = length
    flips_per_step = updates / (length * chains)  # Wolff: mean cluster size
    thin = math.ceil(2.0 * tau)
    rounds = -(-n // chains)
    out = np.empty((rounds, chains, L, L), dtype=np.int8)
    for r in range(rounds):
        updates += step(thin)[0]
        out[r] = lattice.to_spins(state)
    seconds = time.perf_counter() - started
    steps = burn_in + rounds * thin
    spins = out.reshape(rounds * chains, L, L)[:n].copy()
    # A global flip s -> -s with probability 1/2 (dE = 0, a symmetry of the model): the sign
    # of each configuration's m becomes a fair coin, independent of everything else.
    spins *= (2 * rng.integers(0, 2, size=n, dtype=np.int8) - 1)[:, None, None]
    tau_sweeps = tau if sampler == "metropolis" else tau * flips_per_step / n_sites
    return {
        "spins": spins, "sampler": sampler, "chains": chains, "tau_abs_m": tau_m,
        "tau_energy": tau_e, "tau_sweeps": tau_sweeps, "thin": thin, "burn_in": burn_in,
        "steps": steps, "spin_updates": updates,
        "cluster_flips": steps * chains if sampler == "wolff" else 0,
        "seconds": seconds, "start": start,
    }  # fmt: skip


# --------------------------------------------------------------------------------------------
# Cache and sample
# --------------------------------------------------------------------------------------------


def cache_path(L: int, T: float, n: int, *, seed: int = 0, algorithm: str = "auto",
               chains: int | None = None) -> Path:  # fmt: skip
    """Where :func:`sample` caches these configurations (:mod:`coursekit.data.ising_cache`):
    ``<cache>/ising/L{L}_T{T!r}_n{n}_s{seed}_{algorithm}[_c{chains}]_v{FORMAT_VERSION}.npz``,
    ``_c{chains}`` only when ``chains`` is given."""
    L, T, n, seed, algorithm, chains = _check_arguments(L, T, n, seed, algorithm, chains)
    return ising_cache.path(L, T, n, seed, algorithm, chains)


def _check_arguments(L: Any, T: Any, n: Any, seed: Any, algorithm: Any,
                     chains: Any) -> tuple[int, float, int, int, str, int | None]:  # fmt: skip
    L = _check_L(L)
    T = _check_T(T)
    n = check_int(n, "n", 1, "number of configurations")
    seed = check_seed(seed)
    if seed is None:
        raise ValueError("seed (random seed) must be an int >= 0, got None: the cache needs it")
    algorithm = check_choice(algorithm, "algorithm", ALGORITHMS)
    if chains is not None:
        chains = check_int(chains, "chains", 1, "number of chains")
    return L, T, n, seed, algorithm, chains


def sample(L: int, T: float, n: int, *, seed: int = 0, algorithm: str = "auto",
           cache: bool = True, chains: int | None = None) -> IsingSample:  # fmt: skip
    """``n`` configurations of the ``L x L`` Ising model at temperature ``T``, nearly
    independent, made by a Markov chain sampler (or read from the cache).

    Args:
        L: lattice side, >= 2 (periodic; ``N = L*L`` spins).
        T: temperature, > 0 (``T_c = 2.269...``; J = k_B = 1).
        n: configurations, >= 1.
        seed: random seed, >= 0. Each (seed, L, T, n, sampler, chains) has a random stream of
            its own, so one seed at several temperatures gives independent samples.
        algorithm: ``"metropolis"``, ``"wolff"``, or ``"auto"`` (:func:`choose_algorithm`).
        cache: read the sample from :func:`cache_path` if it is there, else make it and write
            it there. False: make it, write nothing.
        chains: independent chains side by side (default: ``ceil(n / 32)``, at most 64).

    Returns:
        An :class:`IsingSample`: ``spins`` int8 [n, L, L] in {-1, +1} (module docstring:
        burn-in, thinning, the measured tau), and how they were made.

    Raises:
        ValueError: an argument is out of range (the message names it and its value).
        DataError: the cache file is damaged or holds another sample (module docstring).

    Warns:
        SamplerWarning: the pilot run could not measure tau (Metropolis near T_c, large L).
        DataSourceWarning: the cache folder cannot be written to (the sample is still given).
    """
    L, T, n, seed, algorithm, chains = _check_arguments(L, T, n, seed, algorithm, chains)
    cache = check_bool(cache, "cache")
    used_chains = _default_chains(n) if chains is None else chains
    wanted = {"L": L, "T": T, "n": n, "seed": seed, "algorithm": algorithm,
              "chains": used_chains}  # fmt: skip
    path = ising_cache.path(L, T, n, seed, algorithm, chains)
    if cache and path.exists():
        record = ising_cache.read(path, wanted)
        return IsingSample(**record, path=path, from_cache=True)
    record = {**wanted, **_generate(L, T, n, seed, algorithm, used_chains)}
    written = ising_cache.write(path, record) if cache else None
    return IsingSample(**record, path=written, from_cache=False)


# --------------------------------------------------------------------------------------------
# Conversions for the models
# --------------------------------------------------------------------------------------------


def to_visible(spins: Any) -> np.ndarray:
    """Spins [n, L, L] in {-1, +1} as an RBM's visible units: uint8 [n, L*L] in {0, 1},
    ``x = (s + 1) / 2`` (up = 1), flattened row-major (:func:`coursekit.reference.ising.to_01`)."""
    s = check_spins(spins)
    return to_01(s).reshape(len(s), -1)


def to_images(spins: Any) -> np.ndarray:
    """Spins [n, L, L] in {-1, +1} as one-channel images: float32 [n, 1, L, L] in {-1, +1}
    (the ``NCHW`` layout of the VAE, the GAN and the EBM)."""
    return check_spins(spins)[:, None].astype(np.float32)


def to_spins(x: Any, L: int | None = None) -> np.ndarray:
    """A model's samples back to spins: int8 [n, L, L] in {-1, +1}.

    Args:
        x: ``[n, L*L]``, ``[n, L, L]`` or ``[n, 1, L, L]`` (arrays or tensors), holding either
            only 0 and 1 (units: ``s = 2x - 1``, :func:`coursekit.reference.ising.to_pm1`) or
            only -1 and +1. Continuous outputs (a VAE's means, a GAN's tanh) must be made
            binary first, by a rule the notebook states; other values are refused.
        L: the lattice side; needed only for the flat ``[n, L*L]`` layout (default: the square
            root of its width).
    """
    arr = to_numpy(x)
    if arr.ndim == 2 and arr.shape[0] >= 1:
        side = math.isqrt(arr.shape[1]) if L is None else _check_L(L)
        if side < 2 or side * side != arr.shape[1]:
            raise ValueError(f"x of shape {arr.shape} is not [n, L*L] with L = {side} >= 2: "
                             "give L, or an array [n, L, L]")  # fmt: skip
        arr = arr.reshape(len(arr), side, side)
    elif arr.ndim == 4 and arr.shape[1] == 1:
        arr = arr[:, 0]
    elif arr.ndim != 3:
        raise ValueError(f"x must be [n, L*L], [n, L, L] or [n, 1, L, L], got shape {arr.shape}")
    if (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_) and not np.any(arr == -1):
        if np.all((arr == 0) | (arr == 1)):
            arr = to_pm1(arr)
    return check_spins(arr, "x")
