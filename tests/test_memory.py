"""Memory estimates: formulas against measured peaks, and the guard.

Measured with ``tracemalloc`` (numpy registers its buffers with it), so the peaks count
exactly the arrays the library allocates; HiGHS's own allocations are not traced, which is
why ``markov_ce``'s estimate may exceed the traced peak by up to 2.5x.
"""

from __future__ import annotations

import re
import tracemalloc

import numpy as np
import pytest

import regretgap as rg
from regretgap import memory
from regretgap.games import random_game


def traced_peak(fn):
    """``(result, peak new bytes traced while fn runs)``."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        out = fn()
        return out, tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


CASES = [(2000, (3, 3), 5, 3), (20000, (5, 5), 6, 5), (6000, (4, 3, 2), 4, 4)]


@pytest.mark.parametrize(("num_states", "num_actions", "horizon", "k"), CASES)
def test_estimate_is_within_stated_factors_of_the_measured_peaks(
    monkeypatch, num_states, num_actions, horizon, k
):
    monkeypatch.setenv(memory.MEMORY_LIMIT_ENV, "off")
    rng = np.random.default_rng(0)
    g0 = random_game(num_states, num_actions, horizon, rng=rng, branching=k)
    t, r = g0.transitions.copy(), np.array(g0.rewards)
    est = rg.memory_estimate(num_states, num_actions, horizon, g0.transitions.nnz)
    game, built = traced_peak(lambda: rg.MarkovGame(t, r, g0.initial, horizon, num_actions))
    # storage: exactly the arrays the game holds
    stored = sum(x.nbytes for x in (game.transitions.data, game.transitions.indices))
    stored += game.transitions.indptr.nbytes + game.rewards.nbytes + game.initial.nbytes
    assert est.game == stored
    a_count, m = game.num_joint_actions, game.num_agents
    assert 0.9 <= memory.build_bytes(num_states, a_count, m, game.transitions.nnz) / built <= 1.5
    sigma = rng.dirichlet(np.ones(a_count), size=(horizon, num_states))
    assert est.policy == sigma.nbytes
    rg.regret(game, sigma)  # compile outside the measurement
    _, evaluated = traced_peak(lambda: rg.regret(game, sigma))
    assert 0.9 <= est.evaluator / evaluated <= 1.5
    if num_states <= 2000:  # stage LPs are slow: the smallest case only
        _, solved = traced_peak(lambda: rg.markov_ce(game))
        assert 0.9 <= (est.policy + est.markov_ce) / solved <= 2.5
    assert est.total == est.game + est.policy + max(est.evaluator, est.markov_ce)


def test_the_large_benchmark_game_fits_the_stated_budget():
    # benchmarks/large_game.py: 10^6 states, 25 joint actions, 5 successors, H = 20
    est = rg.memory_estimate(10**6, (5, 5), 20, 125 * 10**6)
    assert est.game == 125 * 10**6 * 12 + (25 * 10**6 + 1) * 4 + 8 * 2 * 25 * 10**6 + 8 * 10**6
    assert est.policy == 8 * 20 * 25 * 10**6
    assert est.total < 24 * 2**30


def test_a_game_too_large_for_the_limit_is_refused_before_building(monkeypatch):
    g = random_game(500, (3, 3), 4, rng=np.random.default_rng(1))
    needed = memory.build_bytes(500, 9, 2, g.transitions.nnz)
    monkeypatch.setenv(memory.MEMORY_LIMIT_ENV, str(needed - 1))
    with pytest.raises(rg.ValidationError) as info:
        rg.MarkovGame(g.transitions, g.rewards, g.initial, 4, (3, 3))
    msg = str(info.value)
    assert f"({needed} bytes)" in msg and f"({needed - 1} bytes) is available" in msg
    assert memory.MEMORY_LIMIT_ENV in msg
    monkeypatch.setenv(memory.MEMORY_LIMIT_ENV, str(needed))
    rg.MarkovGame(g.transitions, g.rewards, g.initial, 4, (3, 3))  # exactly fits


def test_evaluation_and_markov_ce_are_refused_when_their_working_set_does_not_fit(monkeypatch):
    g = random_game(500, (3, 3), 4, rng=np.random.default_rng(2))
    sigma = rg.uniform_policy(g)
    monkeypatch.setenv(memory.MEMORY_LIMIT_ENV, "1K")
    with pytest.raises(
        rg.ValidationError, match=r"exact evaluator's working set needs an estimated"
    ):
        rg.regret(g, sigma)
    with pytest.raises(
        rg.ValidationError, match=r"markov_ce .* needs an estimated .*\(1024 bytes\) is available"
    ):
        rg.markov_ce(g)
    monkeypatch.setenv(memory.MEMORY_LIMIT_ENV, "off")
    assert rg.regret(g, sigma).value >= 0


def test_limit_parsing_and_available_memory(monkeypatch):
    assert memory._parse_limit("8G") == 8 * 2**30
    assert memory._parse_limit("512MiB") == 512 * 2**20
    assert memory._parse_limit("1e9") == 10**9
    assert memory._parse_limit("off") is None
    with pytest.raises(rg.ValidationError, match="REGRETGAP_MEMORY_LIMIT='lots'"):
        memory._parse_limit("lots")
    monkeypatch.delenv(memory.MEMORY_LIMIT_ENV, raising=False)
    avail, source = memory.memory_limit()
    assert source == "MemAvailable" and avail is not None and avail > 0
    memory.check_fits(memory.SMALL_BYTES - 1, "small")  # never refused without the variable
    with pytest.raises(rg.ValidationError, match=re.escape("something huge needs")):
        memory.check_fits(2**62, "something huge")


def test_memory_estimate_validates_its_sizes():
    with pytest.raises(rg.ValidationError, match="num_states must be a positive integer"):
        rg.memory_estimate(0, (2, 2), 3, 10)
    with pytest.raises(rg.ValidationError, match="below S \\* A"):
        rg.memory_estimate(10, (2, 2), 3, 39)
    with pytest.raises(rg.ValidationError, match="num_actions"):
        rg.memory_estimate(10, 4, 3, 40)
