"""Shared prefixes: the jobs of one replication that differ from its first job only from a date on
run as one chain: the first job's scenario is run once, to each such date in turn, and copied there
(``os.fork``) for each job that starts to differ then; the copy switches to its job's inputs
(:func:`model.engine.fork.switch`) and runs to the end. The tables are byte-identical to running
each job in full (``tests/test_prefixes.py``); the common past is simulated once.

:func:`chains` plans the tasks from an experiment's jobs: per replication, a :class:`Chain` whose
root is the replication's first job (an appraisal's scenario as given, a programme's current step,
a sweep's first point) with the jobs it can fork, sorted by date; every other job is a chain of
its own with no fork (run in full: a change from the start, as a marginal step's; another
replication; a change no date separates). :func:`run_chain` runs one in a worker process.

Where it applies: a local pool (a Dask worker may be a thread of a multi-threaded process, where a
fork is unsafe), a platform with ``os.fork``, and unless turned off (``appraise
--no-shared-prefixes``, ``CORRIDOR_SHARED_PREFIXES=0``). A copy is only made from a process with one
thread (a pool's worker): otherwise, and when a switch cannot be exact, the job runs in full, in
the worker. Each copy dies with its worker (as workers die with the parent), reports its job's
result (or its traceback) through a pipe, and the worker waits for it before going on, so a pool
of N workers never runs more than N simulations at once. A chain's results reach the parent
together, when the chain ends: an interrupted appraisal keeps the chains that finished.
"""

from __future__ import annotations

import os
import pickle
import threading
import traceback
from dataclasses import dataclass
from typing import Callable, Sequence

from model.analysis.tables import tables
from model.engine.fork import divergence_h, switch
from model.engine.simulate import Corridor
from model.experiments.pool import worker_init
from model.scenario.schema import Scenario

ENV = "CORRIDOR_SHARED_PREFIXES"
"""Set to 0 to run every job in full (the default where ``os.fork`` exists: shared)."""


def available() -> bool:
    """Shared prefixes can be used here: the platform forks, and they are not turned off."""
    return hasattr(os, "fork") and os.environ.get(ENV, "1").strip().lower() not in ("0", "no", "false", "off")


@dataclass(frozen=True)
class Fork:
    """A job copied from its chain's run at ``at_h``: its index among the jobs to run, its scenario."""

    at_h: float
    index: int
    scenario: Scenario


@dataclass(frozen=True)
class Chain:
    """Replication ``replication`` of ``root`` run once, copied for each fork on the way;
    ``root_index``: the root job's index among the jobs to run (None: only its prefix is
    needed, its own result being stored already)."""

    root: Scenario
    replication: int
    root_index: int | None
    forks: tuple[Fork, ...] = ()

    @property
    def indices(self) -> list[int]:
        return ([] if self.root_index is None else [self.root_index]) + [f.index for f in self.forks]


def chains(firsts: dict[int, Scenario], todo: Sequence[tuple[Scenario, int]], keys: Sequence[str],
           first_keys: dict[int, str]) -> list[Chain]:
    """The tasks that run ``todo`` (scenario, replication; ``keys[i]`` its job key): per replication
    k, a chain from ``firsts[k]`` (key ``first_keys[k]``) through every job that differs from it
    only from a date on; each other job alone. Longest chains first, so the pool ends evenly."""
    by_rep: dict[int, list[Fork]] = {}
    root_at: dict[int, int] = {}
    alone: list[Chain] = []
    for i, (s, k) in enumerate(todo):
        first = firsts.get(k)
        if first is not None and keys[i] == first_keys[k]:
            root_at[k] = i
            continue
        at = divergence_h(first, s) if first is not None else 0.0
        if at > 0:
            by_rep.setdefault(k, []).append(Fork(at, i, s))
        else:
            alone.append(Chain(s, k, i))
    out = [Chain(firsts[k], k, root_at.get(k), tuple(sorted(forks, key=lambda f: (f.at_h, f.index))))
           for k, forks in by_rep.items()]
    out += [Chain(todo[i][0], k, i) for k, i in root_at.items() if k not in by_rep]
    return sorted(out, key=lambda c: -len(c.indices)) + alone


Outcome = tuple[int, bool, object, str]
"""(job index, ok, the extract's value or a traceback, how it ran: "full", "forked" or "full: WHY")."""


def _in_copy(fn: Callable[[], tuple[object, str]]) -> tuple[bool, object, str]:
    """``fn()`` in a forked copy of this process: (ok, value or traceback, how)."""
    parent = os.getpid()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the copy: never returns
        code = 0
        try:
            os.close(r)
            worker_init(parent)  # ignore Ctrl-C as a worker does, and die with the worker
            try:
                value, how = fn()
                payload = pickle.dumps((True, value, how))
            except BaseException:
                payload = pickle.dumps((False, traceback.format_exc(), "forked"))
            with os.fdopen(w, "wb") as out:
                out.write(payload)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    try:
        ok, value, how = pickle.loads(data)
    except Exception:  # nothing, or half a result: the copy was killed while it wrote
        return False, f"the forked copy of the run ended without a whole result (wait status {status})", "forked"
    return ok, value, how


def run_chain(chain: Chain, seed: int | None, extract: Callable, only: frozenset[str] | None,
              log_shipments: bool = False) -> list[Outcome]:
    """Run a chain (in a worker): the root to each fork's hour, a copy per fork switched to its
    scenario and run to the end (in full if it cannot be switched exactly, or if this process has
    other threads), then the root to the end if its result is wanted."""
    out: list[Outcome] = []

    def full(s: Scenario, why: str = "") -> tuple[object, str]:
        rec = Corridor(s, chain.replication, seed, log_shipments).run()
        return extract(tables(rec, only)), f"full: {why}" if why else "full"

    if chain.forks:
        c = Corridor(chain.root, chain.replication, seed, log_shipments)
        for f in chain.forks:
            c.run_to(f.at_h)
            if threading.active_count() > 1:
                value, how = full(f.scenario, "this process has threads, and is not forked")
                out.append((f.index, True, value, how))
                continue

            def branch(f: Fork = f) -> tuple[object, str]:
                why = switch(c, f.scenario)
                if why is not None:
                    return full(f.scenario, why)
                c.run_to(c.grid.horizon_h)
                return extract(tables(c.results(), only)), "forked"

            ok, value, how = _in_copy(branch)
            out.append((f.index, ok, value, how))
        if chain.root_index is not None:
            c.run_to(c.grid.horizon_h)
            out.append((chain.root_index, True, extract(tables(c.results(), only)), "full"))
    elif chain.root_index is not None:
        value, how = full(chain.root)
        out.append((chain.root_index, True, value, how))
    return out
