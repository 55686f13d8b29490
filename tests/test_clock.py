"""The engine's clock (``model.core.clock.Environment``) relies on simpy's internals in one
place; these tests fail loudly if a simpy release changes what it relies on.

It overrides every method of simpy's Environment that touches the kernel's state (the
clock ``_now``, the queue ``_queue``, the event ids ``_eid``), so nothing else in simpy may
touch them; and it must process events in exactly simpy's order. Both are checked against
the simpy installed, the second event for event on a model of timeouts, processes,
resources, stores, containers, conditions, interrupts and failures."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
import simpy

from model.core.clock import Environment

KERNEL = {"_now", "_queue", "_eid"}
OVERRIDDEN = {"now", "schedule", "peek", "step", "run"}


def _kernel_uses(path: Path) -> set[tuple[str, str]]:
    """(class, function) of every use of a kernel attribute in a simpy source file."""
    out: set[tuple[str, str]] = set()

    def visit(node: ast.AST, cls: str, fn: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, child.name, fn)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, cls, child.name)
            else:
                if isinstance(child, ast.Attribute) and child.attr in KERNEL:
                    out.add((cls, fn))
                visit(child, cls, fn)

    visit(ast.parse(path.read_text(encoding="utf-8")), "", "")
    return out


def test_only_the_methods_the_clock_overrides_touch_simpys_kernel():
    """In simpy, only Environment's own methods read or write ``_now``, ``_queue`` and
    ``_eid`` (the real-time environment, which the engine does not use, aside), and the
    clock overrides each of them but ``__init__`` (which only creates them)."""
    root = Path(simpy.__file__).parent
    uses = {(p.relative_to(root).as_posix(), cls, fn) for p in root.rglob("*.py") for cls, fn in _kernel_uses(p)}
    assert uses, "the scan finds nothing: it is looking in the wrong place"
    outside = {u for u in uses if u[0] != "rt.py" and not (u[0] == "core.py" and u[1] == "Environment")}
    assert not outside, f"simpy now touches its kernel's state outside Environment: {sorted(outside)}"
    methods = {fn for f, cls, fn in uses if f == "core.py"}
    assert methods - {"__init__"} <= OVERRIDDEN, f"simpy's Environment has new kernel methods: {methods - OVERRIDDEN}"
    assert {"schedule", "step", "peek", "now"} <= methods  # the scan sees what it should
    for name in OVERRIDDEN:
        assert name in vars(Environment), f"the clock does not override {name}"


def test_simpys_kernel_methods_take_what_the_clock_takes():
    """The clock's overrides take simpy's parameters as of simpy 4.1 (a compiled method has
    no signature to compare, so simpy's are compared with these; the runs below call them)."""
    taken = {"schedule": ["self", "event", "priority", "delay"], "step": ["self"], "run": ["self", "until"],
             "peek": ["self"]}
    for name, params in taken.items():
        theirs = list(inspect.signature(getattr(simpy.Environment, name)).parameters)
        assert theirs == params, f"simpy's Environment.{name} now takes {theirs}; the clock takes {params}"
    assert isinstance(inspect.getattr_static(simpy.Environment, "now"), property)
    env = Environment()
    env.schedule(event=simpy.Event(env), priority=1, delay=2.0)  # by keyword, as simpy's callers may
    assert env.peek() == 2.0


def _model(env: simpy.Environment, trace: list) -> dict:
    """A small model using most of simpy: returns handles the runs below need."""
    res = simpy.Resource(env, capacity=2)
    store = simpy.Store(env, capacity=3)
    tank = simpy.Container(env, capacity=10, init=5)
    gate = env.event()

    def customer(i: int):
        with res.request() as req:
            yield req
            trace.append((env.now, "served", i, env.active_process is not None))
            yield env.timeout(1.5 + (i % 3))
        yield store.put(i)
        yield tank.get(1 + i % 2)
        trace.append((env.now, "done", i))

    def consumer():
        while True:
            item = yield store.get()
            trace.append((env.now, "got", item))
            yield tank.put(1)
            yield env.timeout(0.25)

    def sleeper():
        try:
            yield env.timeout(100)
        except simpy.Interrupt as e:
            trace.append((env.now, "interrupted", e.cause))
        r = yield env.timeout(1, value="a") & env.timeout(2, value="b") | gate
        trace.append((env.now, "condition", sorted(r.values())))

    def failing():
        yield env.timeout(3)
        ev = env.event()
        ev.fail(ValueError("handled"))
        try:
            yield ev
        except ValueError as e:
            trace.append((env.now, "caught", str(e)))
        return "finished"

    for i in range(8):
        env.process(customer(i))
    env.process(consumer())
    s = env.process(sleeper())
    f = env.process(failing())

    def interrupter():
        yield env.timeout(4)
        s.interrupt("storm")
        yield env.timeout(2)
        gate.succeed("open")

    env.process(interrupter())
    return {"failing": f}


@pytest.mark.parametrize("until", [None, 7.0, 12, "event"])
def test_the_clock_runs_a_simpy_model_event_for_event_as_simpy_does(until):
    runs = []
    for cls in (simpy.Environment, Environment):
        env, trace = cls(), []
        handles = _model(env, trace)
        result = env.run(until=handles["failing"] if until == "event" else until)
        runs.append((trace, env.now, env.peek(), result))
    assert runs[0][0], "the model recorded nothing"
    assert runs[1] == runs[0]


def test_an_unhandled_failure_crashes_the_run_as_in_simpy():
    for cls in (simpy.Environment, Environment):
        env = cls()

        def boom():
            yield env.timeout(1)
            raise KeyError("x")

        env.process(boom())
        with pytest.raises(KeyError):
            env.run(until=5)


def test_a_time_in_the_past_is_refused_as_in_simpy():
    for cls in (simpy.Environment, Environment):
        env = cls()
        env.run(until=3)
        with pytest.raises(ValueError, match="must be greater"):
            env.run(until=2)


def _servers(env, trace: list, start, hours) -> None:
    """Servers as the engine writes them, started by ``start(generator)`` and waiting ``hours(h)`` for
    time: ties between servers and with plain callbacks, events other servers trigger (before and
    after they are waited for), an event already processed, a condition, a server that starts another."""
    from model.nodes.base import Call

    gate, late = env.event(), env.event()
    Call(env, 0.0, lambda c: trace.append((env.now_h, "call before the servers start")), None)

    def server(i: int):
        trace.append((env.now_h, "start", i))
        for k in range(4):
            yield hours(1.0 + (i + k) % 2)  # servers wake at the same hours
            trace.append((env.now_h, "tick", i, k))
            Call(env, 0.0, lambda c, i=i, k=k: trace.append((env.now_h, "callback", i, k)), None)
        if i == 0:
            gate.succeed()
        yield gate  # triggered by server 0 (for the others: already triggered, or processed)
        trace.append((env.now_h, "gate", i))
        yield env.timeout(2.0) | late
        trace.append((env.now_h, "condition", i))
        if i == 1:
            late.succeed()
            start(server(9))
        yield late
        trace.append((env.now_h, "late", i))

    for i in range(3):
        start(server(i))


def test_the_engines_servers_wait_as_simpy_processes_do_event_for_event():
    from model.nodes.base import Proc

    runs = []
    for how in ("simpy", "proc"):
        env, trace = Environment(), []
        if how == "simpy":
            _servers(env, trace, env.process, env.timeout)
        else:
            _servers(env, trace, lambda gen: Proc(env, gen), float)
        env.run(until=50.0)
        runs.append(trace)
    assert len(runs[0]) > 40 and any(e[1] == "late" and e[2] == 9 for e in runs[0]), "the model did not run through"
    assert runs[1] == runs[0]
