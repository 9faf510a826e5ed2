"""Fleets that can separate: the shared class makes ALICE's and MALICE's iterates differ
from J-BC's, and the non-inferiority rows can say every word."""

from __future__ import annotations

import copy

import pytest

from regretgap.experiments import fleets_shared
from regretgap.experiments._verdict import CONSISTENT, INCONSISTENT

pytest.importorskip("networkx")


@pytest.fixture(scope="module")
def quick():
    args = fleets_shared.Args(quick=True)
    return [(s.config, fleets_shared.execute(s.config, s.seed)) for s in fleets_shared.runs(args)]


def test_quick_run_separates_the_iterates_and_shares_the_demonstrations(quick):
    assert quick and all(m["num_states"] == 256 for _, m in quick)
    # with a shared class the weights matter: iterates are not J-BC's fit
    differ = fleets_shared._differ(quick)
    assert differ["malice"] > 0.5 and differ["alice"] > 0.5
    words = {v.claim: v.word for v in fleets_shared.verdict(quick)}
    assert set(words.values()) == {CONSISTENT}, words


def test_verdict_fails_when_malice_is_worse(quick):
    bad = copy.deepcopy(quick)
    for _, m in bad:
        m["malice"]["regret_gap"] = m["alice"]["regret_gap"] + 0.05 + 0.001 * m["jbc"]["regret_gap"]
    words = {v.claim: v.word for v in fleets_shared.verdict(bad)}
    assert words["MALICE vs ALICE (fleets, shared class)"] == INCONSISTENT
