"""The pieces of the shipments-as-data engine (issue 16) do what their simpy
counterparts did: a Room is a FIFO container that never overfills; a Call runs its
callback at its time, in scheduling order among equals; a timed generator waits what
it yields; Uniforms draws the same numbers as the generator; patience deadlines kept
in one heap renege exactly the shipments still queued when their time comes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from model.core.clock import Environment
from model.nodes.base import Call, Room, run_timed
from model.core.rng import Uniforms
from model.engine.simulate import Corridor
from tests.simkit import make_scenario, stream


@settings(max_examples=200, deadline=None)
@given(capacity=st.floats(1.0, 50.0),
       ops=st.lists(st.tuples(st.booleans(), st.floats(0.5, 20.0)), min_size=1, max_size=60))
def test_a_room_never_overfills_and_lets_puts_in_first_come_first_served(capacity, ops):
    """Random puts (each of at most the capacity) and gets of what is in: the level stays
    within [0, capacity], waiting puts enter in the order they came, and every put
    eventually enters once everything is taken out again."""
    room = Room(capacity)
    entered: list[int] = []
    inside: list[float] = []
    for k, (is_put, t) in enumerate(ops):
        t = min(t, capacity)
        if is_put:
            if room.put(t, lambda a: (entered.append(a[0]), inside.append(a[1])), (k, t)):
                entered.append(k)
                inside.append(t)
        elif inside:
            room.get(inside.pop(0))
        assert -1e-9 <= room.level <= capacity + 1e-9
    while inside:
        room.get(inside.pop(0))
    puts = [k for k, (is_put, _) in enumerate(ops) if is_put]
    assert entered == puts  # all in, in order (a waiting put is never overtaken)


def test_a_put_that_does_not_fit_waits_even_when_a_later_smaller_one_would():
    room = Room(10.0)
    assert room.put(8.0, print, None)
    got: list[str] = []
    assert not room.put(5.0, got.append, "big")
    assert not room.put(1.0, got.append, "small")  # fits, but the big one came first
    room.get(8.0)
    assert got == ["big", "small"] and room.level == 6.0


def test_calls_run_at_their_time_and_in_scheduling_order_among_equals():
    env = Environment()
    seen: list[tuple[float, str]] = []
    for delay, name in ((2.0, "b"), (1.0, "a"), (2.0, "c")):
        Call(env, delay, lambda c: seen.append((env.now, c.value)), name)
    env.run()
    assert seen == [(1.0, "a"), (2.0, "b"), (2.0, "c")]


def test_a_timed_generator_waits_what_it_yields():
    env = Environment()
    times: list[float] = []

    def steps():
        for gap in (0.5, 1.5, 3.0):
            yield gap
            times.append(env.now)

    run_timed(env, steps())
    env.run()
    assert times == [0.5, 2.0, 5.0]


def test_uniforms_are_the_generators_own_draws():
    a, b = np.random.default_rng(11), Uniforms(np.random.default_rng(11), block=7)
    assert [b() for _ in range(30)] == [a.random() for _ in range(30)]


SHIP = 1000.0


def _port_and_ferry(berths: int, fleet: int, max_wait_h: float) -> dict:
    return {"p": {"kind": "port", "berths": berths, "handling_rate_t_per_h": 5000, "service": "fixed"},
            "sea": {"kind": "sea_link", "fleet": fleet, "vessel_payload_t": 3000, "load_h": 4, "crossing_h": 20,
                    "unload_h": 4, "max_wait_h": max_wait_h}}


def test_patience_deadlines_in_one_heap_renege_every_queued_shipment_on_time():
    """A ferry that carries half the demand, a 10-day patience: shipments renege (the
    sea link's tonnes left equal the stream's tonnes reneged), and when the run ends no
    deadline before the horizon is left unprocessed in the heap."""
    s = make_scenario(_port_and_ferry(2, 1, 0.0), {"x": stream(["p", "sea"], 1.2, SHIP, patience_days=10.0)})
    c = Corridor(s, 0, 14)
    r = c.run()
    reneged = sum(r.streams["x"].reneged_t)
    assert reneged > 0.2 * sum(r.streams["x"].generated_t)
    assert abs(r.nodes["sea"].left_t - reneged) < 1e-6
    assert all(d >= r.grid.horizon_h for d, _, _ in c._deadlines)


def test_a_replication_costs_few_kernel_events_per_hop():
    """The engine schedules kernel events only where time passes for a shipment alone
    (its arrival, its own berth call) or for a server (a vessel's legs): on a port of own
    calls before a sea link, under 2.5 events per hop (a shipment process per hop alone
    cost 3)."""
    s = make_scenario(_port_and_ferry(4, 3, 12.0), {"x": stream(["p", "sea"], 0.8, SHIP)})
    c = Corridor(s, 0)
    r = c.run()
    assert r.hops > 1000
    assert c.env.processed_events() / r.hops < 2.5


def test_processed_events_counts_what_the_loop_pops():
    """The bench counts events after the run (ids scheduled less those still queued): the
    number of events a loop of ``step`` pops, and ``run(until=...)`` pops the same ones
    plus its own stop event."""

    def model(env: Environment) -> Environment:
        def proc():
            for k in range(50):
                yield env.timeout(k % 3)

        for _ in range(4):
            env.process(proc())
        Call(env, 7.5, lambda c: None, None)
        return env

    stepped, n = model(Environment()), 0
    while stepped.peek() < 40.0:
        stepped.step()
        n += 1
    assert stepped.queue  # events are left queued past the horizon: they do not count
    assert stepped.processed_events() == n > 100
    ran = model(Environment())
    ran.run(until=40.0)
    assert ran.processed_events() == n + 1 and ran.now == 40.0
