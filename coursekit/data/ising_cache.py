"""The cache files of :func:`coursekit.data.ising.sample`: one ``.npz`` per sample.

``<cache>/ising/L{L}_T{T!r}_n{n}_s{seed}_{algorithm}[_c{chains}]_v{FORMAT_VERSION}.npz`` (the
cache folder of :func:`coursekit.data.cache_dir`: ``$COURSEKIT_DATA`` or ``~/.cache/coursekit``),
written atomically with :func:`coursekit.io.write_npz` and read without pickles with
:func:`coursekit.io.read_npz`. A file holds the spins, the parameters and what the sampler
measured (:data:`SCALARS`), its format tag, and the SHA-256 of the spins. ``T`` is written
exactly (``repr``), so two temperatures never share a file.

A cached file that is damaged or truncated, or holds another sample (its parameters differ
from the ones asked for), is **refused** with a :class:`~coursekit.data.DataError` that names
the file and says to delete it: it was written atomically by this module, so such a file was
changed by something else, which a person should look at rather than have it overwritten in
silence. A cache folder that cannot be written to gives a warning, and the sample is
returned uncached.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from coursekit.data.cache import DataError, DataSourceWarning, cache_dir
from coursekit.io import read_npz, write_npz

__all__ = ["FILE_FORMAT", "FORMAT_VERSION", "KEY", "SCALARS", "path", "read", "write"]

#: The version of the cache files' layout (in their name and inside them).
FORMAT_VERSION = 3  # 3: Metropolis accepts dE = 0 with 0.95 (1: the stripe cycle; 2: 1/2, slow)
FILE_FORMAT = f"coursekit.data.ising/{FORMAT_VERSION}"

#: What a file holds beside the spins: name -> type.
SCALARS = {
    "L": int, "T": float, "n": int, "seed": int, "algorithm": str, "sampler": str, "chains": int,
    "tau_abs_m": float, "tau_energy": float, "tau_sweeps": float, "thin": int, "burn_in": int,
    "steps": int, "spin_updates": int, "cluster_flips": int, "seconds": float, "start": str,
}  # fmt: skip
#: The parameters a file must match.
KEY = ("L", "T", "n", "seed", "algorithm", "chains")


def path(L: int, T: float, n: int, seed: int, algorithm: str, chains: int | None) -> Path:
    """The file of a sample (arguments checked by the caller)."""
    c = "" if chains is None else f"_c{chains}"
    name = f"L{L}_T{T!r}_n{n}_s{seed}_{algorithm}{c}_v{FORMAT_VERSION}.npz"
    return cache_dir() / "ising" / name


def _digest(spins: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(spins).tobytes()).hexdigest()


def write(target: Path, record: dict) -> Path | None:
    """Write ``record`` (the spins and :data:`SCALARS`) to ``target``, atomically; return it.

    If the folder cannot be written to, warn (``DataSourceWarning``, pointing at the caller of
    ``sample``) and return None: the sample is good, only not cached."""
    arrays = {"format": np.array(FILE_FORMAT), "spins": record["spins"],
              "sha256": np.array(_digest(record["spins"]))}  # fmt: skip
    arrays.update({k: np.array(record[k]) for k in SCALARS})
    try:
        write_npz(target, arrays, what="Ising sample")
    except OSError as err:
        warnings.warn(
            f"cannot cache the Ising sample ({err}); it is returned without being cached.",
            DataSourceWarning,
            stacklevel=3,
        )
        return None
    return target


def _refuse(file: Path, why: str) -> DataError:
    return DataError(
        f"the cached Ising sample {file} {why}. It was written atomically by "
        f"coursekit.data.ising, so something else changed it: delete it to sample again, or "
        f"pass cache=False."
    )


def read(file: Path, wanted: dict) -> dict:
    """The record in ``file``, checked against the parameters ``wanted`` and its checksum."""
    try:
        arrays = read_npz(file, "Ising sample", file_format=FILE_FORMAT,
                          writer="coursekit.data.ising.sample")  # fmt: skip
    except ValueError as err:
        raise _refuse(file, f"cannot be used: {err}") from err
    except OSError as err:
        raise _refuse(file, f"cannot be read ({err})") from err
    record: dict[str, Any] = {}
    for name, kind in SCALARS.items():
        value = arrays.get(name)
        if value is None or value.shape != ():
            raise _refuse(file, f"lacks its {name!r} (damaged, or not written by this module)")
        record[name] = kind(value.item()) if kind is not str else str(value)
    differ = [f"{k}={record[k]!r} (asked for {wanted[k]!r})" for k in KEY
              if record[k] != wanted[k]]  # fmt: skip
    if differ:
        raise _refuse(file, "holds another sample: " + ", ".join(differ))
    spins = arrays.get("spins")
    shape = (record["n"], record["L"], record["L"])
    if spins is None or spins.dtype != np.int8 or spins.shape != shape:
        shown = "no spins" if spins is None else f"{spins.dtype} {list(spins.shape)}"
        raise _refuse(file, f"holds {shown}, not int8 {list(shape)}")
    digest = arrays.get("sha256")
    if digest is None or str(digest) != _digest(spins):
        raise _refuse(file, "does not match the checksum stored in it (damaged)")
    record["spins"] = spins
    return record
