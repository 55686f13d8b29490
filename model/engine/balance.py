"""The mass balance every replication checks at its end, from two independent sets of counters:
tonnes generated and delivered per stream, and tonnes that entered and left each node."""

from __future__ import annotations

from model.engine.records import RunRecords





class MassBalanceError(Exception):  # (not RuntimeError: mypyc compiles classes derived from Exception only)
    """Tonnes were created or lost inside the model: a bug, never a user error."""



def check_mass_balance(r: RunRecords, rel_tol: float = 1e-6) -> None:
    """generated = delivered + in system (by node) + diverted, reneged or turned away, from independent counters."""
    # (sums of floats start at 0.0, the same sums as from 0: compiled, an int start would be enforced)
    generated = sum((sum(s.generated_t, 0.0) for s in r.streams.values()), 0.0)
    delivered = sum((sum(s.delivered_t, 0.0) for s in r.streams.values()), 0.0)
    in_nodes = sum((n.in_system_t() for n in r.nodes.values()), 0.0)
    lost = sum((sum(s.diverted_t, 0.0) + sum(s.reneged_t, 0.0) + sum(s.turned_away_t, 0.0)
                for s in r.streams.values()), 0.0)
    gap = generated - delivered - in_nodes - lost
    if abs(gap) > rel_tol * max(generated, 1.0):
        raise MassBalanceError(
            f"mass balance violated: generated {generated:.3f} t, delivered {delivered:.3f} t, "
            f"in system {in_nodes:.3f} t, diverted, reneged or turned away {lost:.3f} t, gap {gap:.3f} t"
        )
