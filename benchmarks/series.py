"""Timed series that take turns, each in a process of its own.

Comparing two implementations fairly on a shared machine needs two things at once:

* **one process per configuration**, so that frameworks do not meet in one interpreter (a
  tensorflow thread pool idling beside torch's, a Keras backend chosen at import, one
  framework's allocator warmed by the other);
* **turns**: round ``r`` times one sample of every configuration before round ``r + 1`` starts,
  so a slow spell of the machine (another tenant, a thermal limit) falls on every row alike
  instead of on whichever row ran then.

:func:`interleaved` starts one worker process per :class:`Series` (``spawn``, so each imports
its framework afresh with the series' environment, e.g. ``KERAS_BACKEND``; a peer's also with
glibc's own malloc thresholds, :data:`PEER_ENV`), lets each build its
model and warm up, then asks them in turn for timed samples. A worker is a factory
``"module:function"`` importable from ``benchmarks/`` that takes the series' keyword arguments
and returns ``run()``; ``run()`` does one timed piece of work and returns its seconds, or
``(seconds, extra)`` with ``extra`` a JSON-able dict kept beside the sample.

    from series import Series, interleaved
    samples = interleaved([Series("torch", "gan:torch_runner", {"batch": 256}),
                           Series("peer", "gan:peer_runner", {"batch": 256},
                                  env={"KERAS_BACKEND": "tensorflow"})], rounds=4)
    samples["torch"].seconds   # [4 floats]
"""

from __future__ import annotations

import importlib
import multiprocessing as mp
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = str(Path(__file__).resolve().parent)


@dataclass(frozen=True)
class Series:
    """One configuration: a label, the worker factory ``"module:function"`` (a module in
    ``benchmarks/``), its keyword arguments and the environment its process starts with."""

    label: str
    factory: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Samples:
    """The timed samples of one series, in the order they were taken, and their extras."""

    label: str
    seconds: list[float] = field(default_factory=list)
    extras: list[dict] = field(default_factory=list)
    info: dict = field(default_factory=dict)


class SeriesFailed(RuntimeError):
    """A worker raised; the message carries its traceback."""


def _worker(conn: Any, factory: str, kwargs: dict, env: dict) -> None:  # pragma: no cover
    """The worker's loop (in its own process): build, then answer ``"run"`` until ``"stop"``."""
    try:
        os.environ.update(env)
        sys.path.insert(0, BENCH_DIR)
        module, name = factory.split(":")
        made = getattr(importlib.import_module(module), name)(**kwargs)
        run, info = made if isinstance(made, tuple) else (made, {})
        conn.send(("ready", info))
    except BaseException:
        conn.send(("error", traceback.format_exc()))
        return
    while True:
        message = conn.recv()
        if message == "stop":
            return
        try:
            out = run()
            seconds, extra = out if isinstance(out, tuple) else (out, {})
            conn.send(("ok", (float(seconds), dict(extra))))
        except BaseException:
            conn.send(("error", traceback.format_exc()))
            return


#: What every peer's process starts with: glibc's own malloc thresholds (coursekit.memory
#: raises them at ``import coursekit``; a student running the tutorial has glibc's own).
PEER_ENV = {"COURSEKIT_MALLOC": "default"}


def process_env(s: Series) -> dict[str, str]:
    """The environment ``s``'s process starts with: its own, and for a peer (a factory in a
    ``peer_*`` module) :data:`PEER_ENV` unless the series sets those names itself."""
    return {**PEER_ENV, **s.env} if s.factory.startswith("peer_") else dict(s.env)


@contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _receive(conn: Any, label: str) -> Any:
    kind, payload = conn.recv()
    if kind == "error":
        raise SeriesFailed(f"series {label!r} failed in its worker:\n{payload}")
    return payload


def interleaved(
    series: list[Series],
    rounds: int,
    *,
    warmup: int = 1,
    between: Callable[[int], None] | None = None,
) -> dict[str, Samples]:
    """``rounds`` timed samples of every series, taken in turns after ``warmup`` untimed ones.

    The workers start one after another (each builds its model alone on the machine), then
    every series runs its warm-up; ``between(r)`` (e.g. a peak measurement) runs in this
    process after round ``r``. A worker that raises stops the run with :class:`SeriesFailed`.
    Returns the samples by label.
    """
    labels = [s.label for s in series]
    if len(set(labels)) != len(labels):
        raise ValueError(f"series labels must differ, got {labels}")
    if rounds < 1 or warmup < 0:
        raise ValueError(f"need rounds >= 1 and warmup >= 0, got {rounds}, {warmup}")
    ctx = mp.get_context("spawn")
    workers: list[tuple[Series, Any, Any]] = []
    out = {s.label: Samples(s.label) for s in series}
    try:
        for s in series:
            parent, child = ctx.Pipe()
            env = process_env(s)
            proc = ctx.Process(target=_worker, args=(child, s.factory, s.kwargs, env),
                               daemon=True)  # fmt: skip
            with _environment(env):  # the new interpreter starts with it (spawn)
                proc.start()
            workers.append((s, parent, proc))
            out[s.label].info = _receive(parent, s.label)
        for s, conn, _ in workers:
            for _ in range(warmup):
                conn.send("run")
                _receive(conn, s.label)
        for r in range(rounds):
            for s, conn, _ in workers:
                conn.send("run")
                seconds, extra = _receive(conn, s.label)
                out[s.label].seconds.append(seconds)
                out[s.label].extras.append(extra)
            if between is not None:
                between(r)
    finally:
        for _, conn, proc in workers:
            try:
                conn.send("stop")
            except (BrokenPipeError, OSError):
                pass
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
    return out
