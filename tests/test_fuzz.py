"""Fuzzing scenario files (``tests/fuzz.py``), bounded for CI: what ``validate``
accepts, ``run`` can do; what it refuses, it refuses with file and field.

The fast lane validates ``FUZZ_N`` (default 200) seeded mutants of the library
scenarios in-process, through the command line's own entry point, and a few of
them through ``run.py`` in a child process (so that no traceback reaches a user);
the slow lane runs one replication of accepted mutants. ``python -m tests.fuzz
--n 2000`` is the full campaign of issue 15.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fuzz import Report, campaign, corpus, mutant

ROOT = Path(__file__).resolve().parent.parent
N = int(os.environ.get("FUZZ_N", "200"))


def _failures(report: Report) -> str:
    return "\n".join(f"mutant {o.index} {o.verdict} {o.ran}: {o.detail} <- {'; '.join(o.done)}"
                     for o in report.failures()[:10])


@pytest.fixture(scope="module")
def validated(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return campaign(N, seed=0, runs=0, work=tmp_path_factory.mktemp("fuzz"))


def test_mutants_give_no_traceback_hang_or_unlocated_refusal(validated):
    assert not validated.failures(), validated.summary() + "\n" + _failures(validated)
    counts = validated.counts()
    # the mutator both breaks files and leaves some valid: both paths are exercised
    assert counts["rejected"] >= N // 4 and counts["accepted"] >= N // 20, validated.summary()


def test_mutants_are_reproducible():
    sources = corpus()
    assert mutant(sources, 7, 3) == mutant(sources, 7, 3)
    assert mutant(sources, 7, 3) != mutant(sources, 7, 4)


def test_no_traceback_reaches_the_user(validated):
    """A sample through the real entry point in a child process: exit 0 or 2, stderr
    only ``error:`` lines (alias bombs and deep nesting included when drawn)."""
    texty = [o for o in validated.outcomes if any(d.startswith(("alias", "nesting")) for d in o.done)]
    sample = (texty[:2] + [o for o in validated.outcomes if o.verdict == "rejected"][:2]
              + [o for o in validated.outcomes if o.verdict == "accepted"][:1])
    assert len(sample) >= 3
    for o in sample:
        r = subprocess.run([sys.executable, str(ROOT / "run.py"), "validate", str(o.path)], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == (0 if o.verdict == "accepted" else 2), r.stderr[-500:]
        assert "Traceback" not in r.stderr
        assert all(line.startswith("error: ") for line in r.stderr.splitlines())


@pytest.mark.slow
def test_accepted_mutants_run_one_replication(tmp_path):
    """Up to 20 accepted mutants (of a second seed) each run one replication of their
    one-year horizon as ``run`` does, without error."""
    report = campaign(150, seed=1, runs=20, work=tmp_path)
    assert not report.failures(), report.summary() + "\n" + _failures(report)
    assert report.run_counts()["ok"] >= 10, report.summary()
