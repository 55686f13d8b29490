"""Jobs run in this process, on a pool of worker processes, or on a Dask cluster, and
stopped cleanly: the one home of what every pool of the model does the same way
(the replications of a run or batch, a sweep's points, an appraisal's variants).

* **Ctrl-C** (SIGINT) cancels the queued jobs at once and ends the running ones;
  what had finished was already handed to ``on_result`` (the caller stores it), and
  :class:`Interrupted` says how much. Workers ignore SIGINT themselves: a Ctrl-C at a
  terminal reaches the whole process group, and only the parent decides what stops
  (no traceback from each worker, no pool broken half-way).
* **A job that raises** is recorded (:class:`Failure`, with its traceback) and the
  others finish; :class:`JobsFailed` then lists the failures. An exception from
  ``on_result`` itself (a full disk while storing) stops everything and propagates.
* **Workers die with their parent**, even when it is killed with SIGKILL and cannot
  clean up. On Linux each worker asks the kernel for SIGKILL when its parent dies
  (``prctl(PR_SET_PDEATHSIG)`` through ctypes): immediate, free, and it cannot miss,
  even while the worker is inside C code holding the interpreter lock. Elsewhere
  (macOS) a daemon thread in each worker checks once a second that the parent is
  alive. The kernel way is preferred where it exists because the watchdog is a poll
  that depends on the worker's interpreter being scheduled. (The kernel signals when
  the *thread* that started the worker ends; a pool here lives within one call, in
  the thread that submits to it, so that is the parent's life.)
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from model.outputs.folders import pid_alive

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@dataclass(frozen=True)
class Failure:
    """A job that raised: its label, the error in one line, and the full traceback."""

    job: str
    error: str
    traceback: str

    @classmethod
    def of(cls, job: str, exc: BaseException) -> "Failure":
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return cls(job, f"{type(exc).__name__}: {first}" if first else type(exc).__name__,
                   "".join(traceback.format_exception(exc)))


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread by the command line's handler and handled as Ctrl-C is."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM: ``terminated``) stopped the jobs: ``done`` of ``total`` had finished
    (counting those found in ``store`` before the run started); they are kept in ``store`` if
    there is one."""

    def __init__(self, done: int, total: int, store: Path | None = None, terminated: bool = False) -> None:
        super().__init__(done, total, store)
        self.done, self.total, self.store, self.terminated = done, total, store, terminated


class JobsFailed(RuntimeError):
    """Some jobs raised; every other one finished (``done`` of ``total``, kept in ``store``
    if there is one)."""

    def __init__(self, failures: list[Failure], done: int, total: int, store: Path | None = None) -> None:
        super().__init__(f"{len(failures)} of {total} job(s) failed: "
                         + "; ".join(f"{f.job}: {f.error}" for f in failures))
        self.failures, self.done, self.total, self.store = failures, done, total, store


# ------------------------------------------------------------------ workers


def _kernel_kills_me_with_parent() -> bool:
    """Linux: ask for SIGKILL when the parent process dies. False where not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    """Exit this worker as soon as ``parent`` is gone (the fallback of the kernel way)."""
    while pid_alive(parent):
        time.sleep(1.0)
    os._exit(1)


def worker_init(parent: int) -> None:
    """Initializer of every worker process of this package: ignore SIGINT (the parent
    stops the pool), end at once on SIGTERM, and die with ``parent``. Checked once more after asking, in case
    the parent died before the worker could ask."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A forked worker inherits the parent's Python handlers: the command line's SIGTERM handler
    # (raise Terminated, handled as Ctrl-C) would turn the parent's terminate() into an exception
    # inside the worker, which then tries to send it back as a result (and waits for ever on the
    # result pipe's lock, held by a worker killed mid-send) or prints a traceback. SIGTERM ends a
    # worker at once.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if not _kernel_kills_me_with_parent():
        threading.Thread(target=_watch_parent, args=(parent,), name="parent-watchdog", daemon=True).start()
    if not pid_alive(parent):
        os._exit(1)


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A local pool whose workers ignore SIGINT and die with this process."""
    return ProcessPoolExecutor(max_workers=workers, initializer=worker_init, initargs=(os.getpid(),))


def _children() -> dict[int, Any]:
    """This process's live child processes by pid (multiprocessing's, which reaps the ended)."""
    return {p.pid: p for p in multiprocessing.active_children() if p.pid is not None}


def _stop(pool: Executor, futures: Sequence[Future], children_before: frozenset[int] = frozenset()) -> None:
    """End the running jobs now and start no queued one. ``children_before``: the child
    processes this process had before the pool started (they are not the pool's)."""
    if isinstance(pool, ProcessPoolExecutor):
        # The running jobs' workers are terminated: a replication is the unit of work and a
        # half-run one is worth nothing. (Python 3.14 has this as terminate_workers(); the
        # executor forgets its processes on shutdown, so they are read first.) The pool's own
        # list misses a worker forked but not yet registered when Ctrl-C landed inside submit,
        # and the interpreter's exit would wait for ever on it: every child started since the
        # pool was made is the pool's.
        procs = {**{pid: p for pid, p in _children().items() if pid not in children_before},
                 **dict(getattr(pool, "_processes", None) or {})}.values()
        results = getattr(pool, "_result_queue", None)
        manager = getattr(pool, "_executor_manager_thread", None)
        # No future is cancelled here: the manager thread, finding its workers gone, marks every
        # pending one broken, and one already cancelled would make it raise (InvalidStateError,
        # printed from its thread); a queued job is never started, as its worker is gone.
        pool.shutdown(wait=False)
        for p in procs:
            p.terminate()
        for p in procs:
            p.join(timeout=5)
        # A worker terminated while sending its result leaves half a message in the result
        # pipe, and the executor's manager thread waits for the rest for ever (and with it
        # the interpreter's exit: a hang after the "interrupted" line, more often with fast
        # jobs). With the workers gone, this process holds the pipe's only write end:
        # closing it ends that wait (EOF) instead. (Read before shutdown, which forgets it.)
        writer = getattr(results, "_writer", None)
        if writer is not None:
            writer.close()
        # The executor's manager thread then sees its workers gone and ends: waited for here, so that
        # it does not close its wake-up pipe while the interpreter's exit writes to it (a rare
        # "Exception ignored ... Bad file descriptor" traceback at exit, 1 run in about 90)
        if manager is not None:
            manager.join(timeout=5)
    else:
        for fut in futures:
            fut.cancel()
        pool.shutdown(wait=False)  # Dask's ClientExecutor cancels its futures on the cluster


# ------------------------------------------------------------------ running


def run_jobs(fn: Callable[..., Any], calls: Sequence[tuple], labels: Sequence[str],
             on_result: Callable[[int, Any], None], *, workers: int = 1, executor: Executor | None = None,
             store: Path | None = None, done_before: int = 0, isolate: bool = False) -> None:
    """Run ``fn(*calls[i])`` for every i and hand each result to ``on_result(i, value)``
    in this process, as it finishes: inline when ``workers <= 1`` and no ``executor`` is
    given (unless ``isolate``: jobs that fork run in a worker process, which has one
    thread), else on ``executor`` (Dask's) or a local pool of ``workers`` processes.

    Raises :class:`Interrupted` on Ctrl-C and, after all the others finished,
    :class:`JobsFailed` if any job raised (``labels[i]`` names job i). ``store`` and
    ``done_before`` (jobs already stored there) only feed those reports' counts."""
    failures: list[Failure] = []
    done = done_before
    total = done_before + len(calls)

    def finished(i: int, get: Callable[[], Any]) -> None:
        nonlocal done
        try:
            value = get()
        except Exception as exc:  # a job's own failure: recorded, the others go on
            failures.append(Failure.of(labels[i], exc))
            return
        on_result(i, value)
        done += 1

    try:
        if executor is None and workers <= 1 and not isolate:
            for i, args in enumerate(calls):
                finished(i, lambda: fn(*args))
        else:
            children_before = frozenset(_children()) if executor is None else frozenset()
            pool = executor or process_pool(workers)
            futures: dict[Future, int] = {}
            try:
                for i, args in enumerate(calls):
                    futures[pool.submit(fn, *args)] = i
                for fut in as_completed(futures):
                    finished(futures[fut], fut.result)
                if executor is None:
                    # inside the try: a Ctrl-C while the workers wind down stops them too
                    pool.shutdown(wait=True)
            except BaseException:
                _stop(pool, list(futures), children_before)
                raise
    except KeyboardInterrupt as e:
        raise Interrupted(done, total, store, isinstance(e, Terminated) or getattr(e, "terminated", False)) from None
    if failures:
        raise JobsFailed(failures, done, total, store)
