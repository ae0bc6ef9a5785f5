"""Round trips of replicas through a parallel-tempering ladder: the measure of mixing that the
swap rates are not.

A swap rate says how often neighbouring temperatures exchange states; it can be high all along
the ladder while no state ever travels from the hottest replica (which crosses between modes
easily) down to ``beta = 1`` (whose states are the samples). What carries a new mode down is a
*replica*, followed through its exchanges: a **round trip** is a replica's journey from the
coldest slot to the hottest and back (Katzgraber et al. 2006, "Feedback-optimized parallel
tempering Monte Carlo", J. Stat. Mech. P03018, use the round-trip rate to tune ladders;
exchange Monte Carlo itself is Hukushima and Nemoto 1996). The samplers of
:mod:`coursekit.reference.tempering`, :mod:`coursekit.torch.tempering` and
:mod:`coursekit.keras.tempering` feed every step's accepted swaps to one :class:`RoundTrips`::

    walk = RoundTrips(n_replicas, n_chains)
    for step in ...:
        walk.update(accepted)       # bool [R-1, n]: pair (k, k+1) of chain i exchanged
    walk.total, walk.per_chain      # completed round trips, in all and per chain [n]

NumPy only.
"""

from __future__ import annotations

import numpy as np

__all__ = ["RoundTrips"]

_NONE, _COLD, _HOT = 0, 1, 2  # where a replica last was: nowhere yet, beta = 1, the hottest


class RoundTrips:
    """Follow every replica of ``n_chains`` independent ladders of ``n_replicas`` slots.

    ``slot_of[r, i]`` is the slot (0 = ``beta = 1``, ``R - 1`` = hottest) of replica ``r`` of
    chain ``i``; replica ``r`` starts in slot ``r``. A replica starts its first trip when it is
    in slot 0, turns at slot ``R - 1`` and completes the trip back in slot 0.
    """

    def __init__(self, n_replicas: int, n_chains: int) -> None:
        self.n_replicas, self.n_chains = int(n_replicas), int(n_chains)
        self.replica_in = np.tile(np.arange(self.n_replicas)[:, None], (1, self.n_chains))
        self.state = np.full((self.n_replicas, self.n_chains), _NONE, dtype=np.int8)
        self.trips = np.zeros((self.n_replicas, self.n_chains), dtype=np.int64)
        self.steps = 0
        self._visit()

    def _visit(self) -> None:
        chains = np.arange(self.n_chains)
        cold = self.replica_in[0]
        done = self.state[cold, chains] == _HOT
        self.trips[cold[done], chains[done]] += 1
        self.state[cold, chains] = _COLD
        hot = self.replica_in[-1]
        turned = self.state[hot, chains] == _COLD
        self.state[hot[turned], chains[turned]] = _HOT

    def update(self, accepted: np.ndarray) -> None:
        """One step's exchanges: ``accepted`` bool [R-1, n] (pairs of a step are disjoint)."""
        accepted = np.asarray(accepted, dtype=bool)
        if accepted.shape != (self.n_replicas - 1, self.n_chains):
            raise ValueError(
                f"accepted must be [R-1, n] = [{self.n_replicas - 1}, {self.n_chains}], "
                f"got {accepted.shape}"
            )
        for k in np.flatnonzero(accepted.any(axis=1)):
            m = accepted[k]
            low, high = self.replica_in[k, m].copy(), self.replica_in[k + 1, m].copy()
            self.replica_in[k, m], self.replica_in[k + 1, m] = high, low
        self.steps += 1
        if self.n_replicas > 1:
            self._visit()

    @property
    def per_chain(self) -> np.ndarray:
        """Completed round trips of each chain's replicas, summed: int [n]."""
        return self.trips.sum(axis=0)

    @property
    def total(self) -> int:
        """Completed round trips of all replicas of all chains."""
        return int(self.trips.sum())
