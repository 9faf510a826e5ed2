"""Result types print on one short line: shapes for arrays, headlines for nested results."""

from __future__ import annotations

import numpy as np

import regretgap as rg
from regretgap import sampled
from regretgap.games import theorem_4_5
from regretgap.games.punishment import punishment_game


def test_exact_results_are_one_short_line():
    c = theorem_4_5(5)
    text = repr(rg.regret(c.game, c.learner))
    assert text.startswith("Regret(value=3, per_agent=[") and "deviations=tuple[2]" in text
    br = repr(rg.best_response(c.game, c.learner, 0))
    assert "deviation=array[5, 9, 3]" in br and "\n" not in br
    assert "uncovered=[1]" in repr(rg.coverage(c.game, c.expert))
    res = rg.blades(c.game, rg.QueryableExpert(c.expert), rng=np.random.default_rng(0), rounds=2)
    text = repr(res)
    assert text.startswith("BladesResult(policy=array[5, 9, 9], history=BladesHistory(loss=")
    assert "\n" not in text and len(text) < 200


def test_gap_estimate_is_short():
    pg = punishment_game(rng=np.random.default_rng(0), normal=20, punish=5)
    sim = pg.game.simulator(pg.features)
    expert = sampled.policy_recommender(pg.expert)
    est = sampled.estimate_gaps(
        sim, rg.game_utilities(pg.game), expert, expert, rng=np.random.default_rng(0), episodes=50
    )
    text = repr(est)
    assert "\n" not in text and len(text) < 300, text
    assert "regret=RegretEstimate(value=" in text
