"""Result types print on one short line: shapes for arrays, headlines for nested results."""

from __future__ import annotations

import dataclasses

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


def test_data_containers_are_one_short_line():
    """Dataclasses carrying arrays (Trajectories printed 86 lines for 10 episodes)."""
    c = theorem_4_5(5)
    tr = rg.sample_trajectories(c.game, c.expert, 10, rng=np.random.default_rng(0))
    assert repr(tr) == (
        "Trajectories(states=array[10, 5], recommended=array[10, 5], played=array[10, 5], "
        "rewards=array[10, 5, 2], deviator=array[10])"
    )
    assert (
        repr(rg.as_demonstrations(tr))
        == "Demonstrations(states=array[10, 5], actions=array[10, 5])"
    )
    assert repr(rg.game_utilities(c.game)) == "TableUtilities(rewards=array[2, 9, 9])"
    mc = rg.monte_carlo_values(c.game, c.expert, 20, rng=np.random.default_rng(0))
    assert (
        repr(mc) == "MonteCarloEstimate(mean=[0, 0], stderr=[0, 0], n=20, low=[0, 0], high=[5, 5])"
    )
    pg = punishment_game(rng=np.random.default_rng(0), normal=20, punish=5)
    sim = pg.game.simulator(pg.features)
    s = sampled.demonstrations(
        sim, sampled.policy_recommender(pg.expert), rng=np.random.default_rng(0), episodes=5
    )
    assert repr(s) == (
        "Samples(features=array[25, 7], actions=array[25], steps=array[25], episodes=array[25])"
    )
    # the repr only: equality and fields are the dataclass's and the tuple's as before
    assert tr == tr and len(s) == 25 and s.features.shape == (25, 7)


def test_a_dataclass_shows_its_repr_fields_and_nested_headlines():
    from regretgap._repr import short_repr

    @dataclasses.dataclass
    class Inner:
        score: float
        table: np.ndarray

        __repr__ = short_repr

    @dataclasses.dataclass
    class Outer:
        inner: Inner
        weights: np.ndarray
        hidden: object = dataclasses.field(default=None, repr=False)

        __repr__ = short_repr

    outer = Outer(Inner(1 / 3, np.zeros((2, 3, 4))), np.ones(7), hidden="secret")
    assert repr(outer.inner) == "Inner(score=0.333333, table=array[2, 3, 4])"
    assert repr(outer) == "Outer(inner=Inner(score=0.333333, ...), weights=array[7])"
