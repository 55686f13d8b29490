"""Mass balance on random small scenarios (hypothesis).

Every run checks generated = delivered + in system itself (and raises
MassBalanceError); here the same balance is recomputed from the records, and
the flow is also checked edge by edge: what a node passed on is what the next
node on the route received.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simkit import in_system_t, make_scenario
from model.engine.simulate import run_replication

STARTS = [date(2024, 1, 1), date(2024, 11, 20), date(2025, 2, 28)]
KINDS = ["port", "sea_link", "rail_line", "pipeline", "border"]


def durations(lo: float, hi: float):
    fixed = st.floats(lo, hi)
    expo = st.floats(max(lo, 0.1), hi).map(lambda m: {"dist": "exponential", "mean": m})
    unif = st.tuples(st.floats(lo, hi), st.floats(0, hi)).map(
        lambda t: {"dist": "uniform", "low": t[0], "high": t[0] + t[1]})
    return st.one_of(fixed, expo, unif)


@st.composite
def steps(draw, values, start: date, horizon_days: int):
    """A constant, or dated steps {date: value} inside the horizon."""
    if draw(st.booleans()):
        return draw(values)
    days = sorted(set(draw(st.lists(st.integers(1, horizon_days - 1), min_size=1, max_size=2))))
    out = {start.isoformat(): draw(values)}
    for d in days:
        out[(start + timedelta(days=d)).isoformat()] = draw(values)
    return out


@st.composite
def node_spec(draw, kind: str, ship_t: float, start: date, horizon_days: int) -> dict:
    def steps_of(values):
        return steps(values, start, horizon_days)

    if kind == "port":
        spec = {"kind": "port", "berths": draw(steps_of(st.integers(0, 3))),
                "service": draw(st.sampled_from(["fixed", "exponential", "lognormal"]))}
        if draw(st.booleans()):
            spec["capacity_mt_per_year"] = draw(steps_of(st.floats(0.05, 5.0)))
        else:
            spec["handling_rate_t_per_h"] = draw(steps_of(st.floats(10.0, 2000.0)))
        if draw(st.booleans()):
            spec["yard_limit_t"] = ship_t * draw(st.integers(1, 4))
            spec["when_full"] = draw(st.sampled_from(["wait", "divert"]))
        if draw(st.booleans()):
            spec["call_h"] = draw(durations(0, 24))
        if draw(st.booleans()):
            spec["storms"], spec["storm_share"] = "area", draw(st.floats(0, 1))
        return spec
    if kind == "sea_link":
        spec = {"kind": "sea_link", "fleet": draw(steps_of(st.integers(0, 3))),
                "vessel_payload_t": ship_t * draw(st.sampled_from([1, 1.5, 2, 3])),
                "load_h": draw(durations(0, 12)), "crossing_h": draw(durations(1, 30)),
                "unload_h": draw(durations(0, 12)), "max_wait_h": draw(st.floats(0, 72))}
        if draw(st.booleans()):
            spec["return_h"] = draw(durations(1, 30))
        if draw(st.booleans()):
            spec["storms"] = {"events_per_month": draw(st.floats(0, 4)), "duration_days": draw(durations(0.5, 5))}
        elif draw(st.booleans()):
            spec["storms"], spec["storm_share"] = "area", draw(st.floats(0, 1))
        if draw(st.booleans()):
            spec["charter"] = {"vessels": draw(st.integers(1, 2)), "queue_t": ship_t * draw(st.integers(1, 10)),
                               "lead_days": draw(st.floats(0, 20)), "min_days": draw(st.floats(0, 60))}
        return spec
    if kind == "rail_line":
        spec = {"kind": "rail_line", "train_payload_t": ship_t * draw(st.sampled_from([1, 2, 2.5, 4])),
                "transit_h": draw(durations(1, 48)), "max_wait_h": draw(st.floats(0, 48))}
        if draw(st.booleans()):
            spec["paths_per_day"] = draw(steps_of(st.floats(0, 12)))
        else:
            spec["capacity_mt_per_year"] = draw(steps_of(st.floats(0.05, 5.0)))
        if draw(st.booleans()):
            spec["opening_date"] = (start + timedelta(days=draw(st.integers(0, horizon_days + 30)))).isoformat()
        if draw(st.booleans()):
            spec["sidings_t"] = ship_t * draw(st.integers(1, 4))
            spec["when_full"] = draw(st.sampled_from(["wait", "divert"]))
        return spec
    if kind == "pipeline":
        return {"kind": "pipeline", "flow_mt_per_year": draw(steps_of(st.floats(0, 5.0))),
                "tank_t": ship_t * draw(st.sampled_from([1, 2, 5])), "transit_h": draw(durations(0, 24)),
                "when_full": draw(st.sampled_from(["wait", "divert"]))}
    return {"kind": "border", "dwell_h": draw(durations(0, 60))}


# one investable field per kind: (field, change, values)
INVESTABLE = {"port": [("berths", "add", st.integers(-1, 2))],
              "sea_link": [("fleet", "add", st.integers(-1, 2))],
              "rail_line": [("opening", "set", st.just(0.0))],
              "pipeline": [("flow_mt_per_year", "mul", st.floats(0, 3))],
              "border": []}


@st.composite
def scenarios(draw):
    start = draw(st.sampled_from(STARTS))
    horizon_days = draw(st.integers(20, 420))  # long ones cross one or two new years
    end = start + timedelta(days=horizon_days)
    ship_t = draw(st.sampled_from([250.0, 1000.0, 3000.0]))
    n_nodes = draw(st.integers(1, 5))
    ids = [f"n{i}" for i in range(n_nodes)]
    nodes = {nid: draw(node_spec(draw(st.sampled_from(KINDS)), ship_t, start, horizon_days)) for nid in ids}

    streams = {}
    for k in range(draw(st.integers(1, 2))):
        order = draw(st.permutations(ids))
        length = draw(st.integers(1, n_nodes))
        route: list = list(order[:length])
        rest = list(order[length:])
        if len(rest) >= 2 and draw(st.booleans()):
            cut = draw(st.integers(1, len(rest) - 1))
            choice = {"choice": {"a": rest[:cut], "b": rest[cut:]},
                      "policy": draw(st.sampled_from(["least_delay", "fixed_shares"]))}
            if draw(st.booleans()):
                choice["policy"] = "logit"
                choice["tariffs_usd_per_t"] = {"b": draw(st.floats(0, 50))}
            if choice["policy"] == "fixed_shares" or draw(st.booleans()):
                choice["shares"] = {"a": draw(st.floats(0, 1)), "b": draw(st.floats(0.01, 1))}
            route.append(choice)
        # up to ~1,000 shipments over the horizon (a run takes well under a second)
        shipments_per_year = draw(st.floats(1, 1000)) * 365 / horizon_days
        streams[f"s{k}"] = {"commodity": "c", "volume_mt_per_year": shipments_per_year * ship_t / 1e6,
                            "shipment_t": ship_t, "route": route,
                            "seasonality": draw(st.none() | st.lists(st.floats(0, 2), min_size=12, max_size=12)
                                                .filter(lambda v: sum(v) > 0))}
        if draw(st.booleans()):  # shippers that may book another route, or leave a queue
            streams[f"s{k}"].update(
                value_of_time_usd_per_t_day=draw(st.floats(0, 10)), tariff_usd_per_t=draw(st.floats(0, 100)),
                logit_scale_per_usd=draw(st.floats(0.01, 1)),
                outside={"other": {"tariff_usd_per_t": draw(st.floats(0, 100)), "transit_days": draw(st.floats(0, 30))}})
        if draw(st.booleans()):
            streams[f"s{k}"]["patience_days"] = draw(durations(0, 20))
        if draw(st.booleans()):  # offered volume that responds to the corridor's expected transit
            streams[f"s{k}"]["transit_response"] = {"elasticity": draw(st.floats(-2, 0)),
                                                    "reference_days": draw(st.floats(0.5, 30)),
                                                    "max_factor": draw(st.floats(1, 3))}

    def day(lo: int, hi: int) -> str:
        return (start + timedelta(days=draw(st.integers(lo, hi)))).isoformat()

    disruptions = []
    for nid in draw(st.lists(st.sampled_from(ids), max_size=2)):
        a = draw(st.integers(0, horizon_days - 1))
        disruptions.append({"node": nid, "start": (start + timedelta(days=a)).isoformat(),
                            "end": day(a + 1, horizon_days + 20),
                            "capacity_factor": draw(st.sampled_from([0.0, 0.5, 1.5]))})
    investments, delays = [], []
    for i, nid in enumerate(draw(st.lists(st.sampled_from(ids), max_size=2, unique=True))):
        if not INVESTABLE[nodes[nid]["kind"]]:
            continue
        field, change, values = INVESTABLE[nodes[nid]["kind"]][0]
        if change == "add" and isinstance(nodes[nid][field], dict):
            continue  # keep a dated count from going negative
        value = draw(values)
        if change == "add" and (nodes[nid][field] + value) < 0:
            value = 0
        investments.append({"id": f"i{i}", "node": nid, "field": field, "change": change, "value": value,
                            "date": day(0, horizon_days - 1), "tags": ["t"]})
    if investments and draw(st.booleans()):
        delays.append({"match": draw(st.sampled_from(["t"] + [inv["id"] for inv in investments])),
                       "months": draw(st.floats(-3, 18))})
    _call_at_terminals(draw, nodes, streams)
    weather = {"area": {"events_per_month": draw(st.floats(0, 4)), "duration_days": draw(durations(0.5, 5))}}
    return make_scenario(nodes, streams, start=start.isoformat(), end=end.isoformat(), disruptions=disruptions,
                         investments=investments, delays={"projects": delays}, weather=weather)


def _call_at_terminals(draw, nodes: dict, streams: dict) -> None:
    """Some sea links load at the port just before them, or unload at the one just
    after, in every route (vessels then call at those terminals' berths)."""
    from model.scenario.route import Route

    before: dict[str, set] = {}
    after: dict[str, set] = {}
    for st_ in streams.values():
        for p in Route.of(st_["route"]).positions():
            before.setdefault(p.node, set()).update(p.before)
            for b in p.before:
                if b is not None:
                    after.setdefault(b, set()).add(p.node)
    for nid, spec in nodes.items():
        if spec["kind"] != "sea_link":
            continue
        for field, near in (("load_at", before.get(nid, set())), ("unload_at", after.get(nid, set()))):
            if len(near) == 1 and None not in near:
                (other,) = near
                if nodes[other]["kind"] == "port" and draw(st.booleans()):
                    spec[field] = other


def routes(s) -> dict[str, list]:
    """Each stream's route as a list of steps, a choice being a list of options."""
    return {sid: [step if isinstance(step, str) else list(step.choice.values()) for step in st.route]
            for sid, st in s.streams.items()}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_mass_balance_on_random_scenarios(scenario, seed):
    r = run_replication(scenario, 0, seed)  # raises MassBalanceError if its own check fails

    generated = sum(sum(s.generated_t) for s in r.streams.values())
    delivered = sum(sum(s.delivered_t) for s in r.streams.values())
    lost = sum(sum(s.diverted_t) + sum(s.reneged_t) + sum(s.turned_away_t) for s in r.streams.values())
    assert sum(sum(n.turned_away_t) for n in r.nodes.values()) == pytest.approx(
        sum(sum(s.turned_away_t) for s in r.streams.values()), abs=1e-6)  # counted where and by whom
    assert generated == pytest.approx(delivered + in_system_t(r) + lost, rel=1e-9, abs=1e-6)

    loaded_by = {nid: [lid for lid, sp in scenario.nodes.items() if getattr(sp, "load_at", None) == nid]
                 for nid in scenario.nodes}
    for nid, rec in r.nodes.items():
        assert rec.exited_t <= rec.entered_t + 1e-6
        assert len(rec.throughput_t) == len(r.grid)
        served = rec.exited_t - rec.left_t  # what left served, not reneged from a queue
        if not loaded_by[nid]:
            assert sum(rec.throughput_t) == pytest.approx(served, abs=1e-6)
            continue
        # a terminal where vessels load counts tonnes as they are loaded: at most what passed through
        # to the links, at least what the links have since unloaded or delivered
        shipped = sum(r.nodes[lid].exited_t - r.nodes[lid].left_t for lid in loaded_by[nid])
        assert shipped - 1e-6 <= sum(rec.throughput_t) <= served + 1e-6

    for sid, st_rec in r.streams.items():
        # a stream's delivered tonnes never exceed what it generated, year by year cumulatively
        cum_gen = cum_del = 0.0
        for g, d, v, rn, ta in zip(st_rec.generated_t, st_rec.delivered_t, st_rec.diverted_t, st_rec.reneged_t,
                                   st_rec.turned_away_t):
            cum_gen += g
            cum_del += d + v + rn + ta
            assert cum_del <= cum_gen + 1e-6
        assert sum(st_rec.transit.n) == round(sum(st_rec.delivered_t) / scenario.streams[sid].shipment_t)
        assert not st_rec.transit.min() < 0  # NaN when none was delivered

    # edge by edge, for nodes that only one stream uses: received = passed on by the step before
    users: dict[str, int] = {}
    for route in routes(scenario).values():
        for step in route:
            for nid in ([step] if isinstance(step, str) else [n for opt in step for n in opt]):
                users[nid] = users.get(nid, 0) + 1
    for sid, route in routes(scenario).items():
        rec = r.streams[sid]
        upstream = sum(rec.generated_t) - sum(rec.diverted_t)  # tonnes handed to the first step
        for step in route:
            options = [[step]] if isinstance(step, str) else step
            if any(users[n] > 1 for opt in options for n in opt):
                break
            # what a node received, or turned away at a full waiting room, the step before passed on
            def arrived(n: str) -> float:
                return r.nodes[n].entered_t + sum(r.nodes[n].turned_away_t)
            assert sum(arrived(opt[0]) for opt in options) == pytest.approx(upstream, abs=1e-6)
            for opt in options:
                for a, b in zip(opt, opt[1:]):
                    assert arrived(b) == pytest.approx(r.nodes[a].exited_t - r.nodes[a].left_t, abs=1e-6)
            upstream = sum(r.nodes[opt[-1]].exited_t - r.nodes[opt[-1]].left_t for opt in options)
        else:
            assert sum(rec.delivered_t) == pytest.approx(upstream, abs=1e-6)
