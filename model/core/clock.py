"""The simulation clock: simpy's ``Environment`` with its kernel (clock, event queue, loop) our own.

The engine runs on simpy's events and processes (``Event``, ``Timeout``, ``Process``), but
reads the time about two million times a replication and schedules most of its events
itself (:class:`model.nodes.base.Call`). Through simpy's public interface each read is a
property call (``env.now``: 7 % of a run) and each schedule a method call; reaching into
simpy's private ``_now``, ``_queue`` and ``_eid`` from everywhere made the engine depend on
simpy's internals in a hundred places. This class is the one place that knows them:

* ``now_h`` is the clock, a plain attribute (``env.now`` returns it too);
* :meth:`push` puts an event on the queue ``delay`` hours from now (what ``schedule`` does,
  without its priority argument);
* :meth:`run` and :meth:`step` are simpy's, over the same heap of (time, priority, id,
  event), so events are processed in exactly simpy's order; ``run(until=hours)``
  processes them in one loop (compiled with the engine, see docs/design.md §7).

simpy's own ``_now`` is then never read: ``schedule``, ``peek``, ``step``, ``run`` and ``now``
are all overridden here, and nothing else in simpy touches the kernel's state (simpy's
events only call ``env.schedule`` and set ``env._active_proc``).
``tests/test_clock.py`` checks both against the installed simpy, and runs a model of
timeouts, processes, resources, conditions and interrupts on simpy's Environment and on
this one, event for event: a simpy release that changes its internals fails it loudly
(hence ``simpy>=4.1,<5``).
"""

from __future__ import annotations

from heapq import heappop, heappush
from itertools import count
from typing import Any, Final

import simpy
from simpy.core import EmptySchedule, StopSimulation
from simpy.events import NORMAL, URGENT, Event

PRIORITY_NORMAL: Final = 1
"""simpy's ``NORMAL`` priority as a literal, for the engine's own scheduling (compiled, it is inlined)."""
if NORMAL != PRIORITY_NORMAL:  # pragma: no cover - simpy is pinned below 5
    raise ImportError(f"simpy's NORMAL priority is {NORMAL!r}, not {PRIORITY_NORMAL}: this engine needs simpy>=4.1,<5")


class Environment(simpy.Environment):
    """simpy's Environment with the clock in ``now_h`` and a loop of its own (same order)."""

    def __init__(self, initial_time: float = 0.0) -> None:
        super().__init__(initial_time)
        self.now_h: float = initial_time
        self.queue: list[tuple[float, int, int, Any]] = []  # a heap of (time, priority, id, event)
        self.ids = count()  # event ids: the tie-break among events at one time and priority

    @property
    def now(self) -> float:
        return self.now_h

    def push(self, delay: float, event: Any) -> None:
        """Schedule ``event`` (anything with ``callbacks`` and ``_ok``) ``delay`` hours from now,
        at normal priority: ``schedule(event, NORMAL, delay)``."""
        heappush(self.queue, (self.now_h + delay, NORMAL, next(self.ids), event))

    def push_first(self, delay: float, event: Any) -> None:
        """Schedule ``event`` ``delay`` hours from now before every normal event at that time
        (``schedule(event, URGENT, delay)``): a reading at the edge of a period, which must come
        before whatever happens at the edge itself."""
        heappush(self.queue, (self.now_h + delay, URGENT, next(self.ids), event))

    def schedule(self, event: Event, priority: Any = NORMAL, delay: float = 0) -> None:
        heappush(self.queue, (self.now_h + delay, priority, next(self.ids), event))

    def peek(self) -> float:
        return self.queue[0][0] if self.queue else simpy.core.Infinity

    def processed_events(self) -> int:
        """Events processed so far: ids handed out less those still queued (counted after a
        run, so that timing runs on the loop alone; it takes an id, which changes no order)."""
        return next(self.ids) - len(self.queue)

    def step(self) -> None:
        """Process the next event (simpy's ``step``)."""
        try:
            self.now_h, _, _, event = heappop(self.queue)
        except IndexError:
            raise EmptySchedule from None
        callbacks, event.callbacks = event.callbacks, None
        assert callbacks is not None
        i = 0
        try:
            for i, callback in enumerate(callbacks):
                callback(event)
        except StopSimulation:
            event.callbacks = callbacks[i + 1:]
            self.schedule(event, -1)
            raise
        if not event._ok and not hasattr(event, "_defused"):
            _raise_failure(event)

    def run(self, until: Any = None) -> Any:
        """simpy's ``run``; until a time (or until no event is left), in one loop."""
        if until is not None and isinstance(until, Event):
            return super().run(until)
        stop: Event | None = None
        if until is not None:
            at = until if isinstance(until, int) else float(until)
            if at <= self.now_h:
                raise ValueError(f"until ({at}) must be greater than the current simulation time")
            stop = Event(self)  # as simpy: an event before every other at that time
            stop._ok = True
            stop._value = None
            self.schedule(stop, URGENT, at - self.now_h)
        queue = self.queue
        while queue:
            now, _, _, event = heappop(queue)
            self.now_h = now
            if event is stop:  # as simpy: the stop event stays queued, done, before anything else now
                stop.callbacks = []
                self.schedule(stop, -1)
                return None
            callbacks = event.callbacks
            event.callbacks = None
            assert callbacks is not None
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                _raise_failure(event)
        return None


def _raise_failure(event: Event) -> None:
    """A failed event nobody handled crashes the run, as in simpy: a copy of its exception."""
    value: Any = event._value
    exc = type(value)(*value.args)
    exc.__cause__ = value
    raise exc
