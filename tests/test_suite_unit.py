"""The suite's learner dispatch (experiments/_suite.learn): equal query budgets between
BLADES and DAgger, the noise of DAgger+noise, coverage failures as results. Every
experiment's learner comparison rests on these, so they are pinned here directly."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import regretgap as rg
from regretgap.experiments._suite import LEARNERS, NOISE_RATE, RunSpec, data_rng, learn
from regretgap.games import theorem_4_5
from regretgap.games.random import random_game


@pytest.fixture(scope="module")
def case():
    c = theorem_4_5(horizon=4)
    demos = rg.sample_trajectories(c.game, c.expert, n=5, rng=np.random.default_rng(3))
    return c.game, c.expert, demos


@pytest.fixture(scope="module")
def mixed():
    """A random game and a mixed expert: where roll-in noise changes what is learned."""
    game = random_game(12, (2, 3), 5, rng=np.random.default_rng(7), branching=3)
    expert = np.random.default_rng(1).dirichlet(np.ones(6), size=12)
    demos = rg.sample_trajectories(game, expert, n=5, rng=np.random.default_rng(3))
    return game, expert, demos


@pytest.mark.parametrize("name", ["dagger", "dagger_noise", "blades"])
def test_blades_and_dagger_ask_the_same_number_of_queries(case, name) -> None:
    """Sampled answers cost one query per visited (h, s): BLADES rolls in ``rollouts`` per
    agent (m of them), DAgger ``m * rollouts`` without deviating: ``rounds * m * rollouts *
    H`` queries each, whatever the learner."""
    game, expert, demos = case
    rounds, rollouts = 3, 7
    _, extra = learn(
        name, game, expert, demos, np.random.default_rng(0), rounds=rounds, rollouts=rollouts
    )
    assert extra["queries"] == rounds * game.num_agents * rollouts * game.horizon


@pytest.mark.parametrize(("name", "rate"), [("dagger", 0.0), ("dagger_noise", NOISE_RATE)])
def test_dagger_noise_is_dagger_with_the_noise_rate(mixed, name, rate) -> None:
    game, expert, demos = mixed
    policy, _ = learn(name, game, expert, demos, np.random.default_rng(5), rounds=2, rollouts=4)
    rng = np.random.default_rng(5)
    oracle = rg.QueryableExpert(expert, answers="sampled", rng=rng)
    direct = rg.dagger(
        game, oracle, rng=rng, demos=demos, rounds=2, rollouts=4 * game.num_agents,
        deviation_rate=rate,
    )  # fmt: skip
    np.testing.assert_array_equal(policy, direct.policy)
    other, _ = learn(
        "dagger_noise" if name == "dagger" else "dagger",
        game, expert, demos, np.random.default_rng(5), rounds=2, rollouts=4,
    )  # fmt: skip
    assert np.abs(other - policy).max() > 0.1  # the noise matters here


def test_blades_is_the_registry_blades_with_the_suite_defaults(mixed) -> None:
    """Defaults: 5 rounds of 64 roll-ins per agent, sampled answers."""
    game, expert, demos = mixed
    policy, extra = learn("blades", game, expert, demos, np.random.default_rng(8))
    rng = np.random.default_rng(8)
    oracle = rg.QueryableExpert(expert, answers="sampled", rng=rng)
    direct = rg.blades(game, oracle, rng=rng, demos=demos, rounds=5, rollouts=64)
    np.testing.assert_array_equal(policy, direct.policy)
    assert extra["queries"] == direct.queries == 5 * game.num_agents * 64 * game.horizon


def test_data_rng_is_shared_across_the_excluded_keys_only() -> None:
    config = {"seed": 1, "H": 4, "learner": "jbc"}
    draw = data_rng("x", config, "learner").random(3)
    np.testing.assert_array_equal(
        draw, data_rng("x", {**config, "learner": "bc"}, "learner").random(3)
    )
    np.testing.assert_array_equal(
        draw, np.random.default_rng(RunSpec("x", {"seed": 1, "H": 4}).seed).random(3)
    )
    for other in ({**config, "seed": 2}, {**config, "H": 5}):
        assert not np.array_equal(draw, data_rng("x", other, "learner").random(3))
    assert not np.array_equal(draw, data_rng("y", config, "learner").random(3))
    assert not np.array_equal(draw, data_rng("x", config).random(3))  # learner kept


def test_a_runs_seed_is_the_first_four_bytes_of_its_keys_sha256() -> None:
    """Pinned: a results database from an earlier version resumes with the same seeds."""
    spec = RunSpec("paper_checks", {"check": "4.3", "instance": 0})
    assert spec.key == 'paper_checks:{"check": "4.3", "instance": 0}'
    digest = hashlib.sha256(spec.key.encode()).digest()
    assert spec.seed == int.from_bytes(digest[:4], "little") == 3085897139


def test_demonstration_learners_learn_from_the_demonstrations(case) -> None:
    game, expert, demos = case
    policy, extra = learn("jbc", game, expert, demos, np.random.default_rng(0))
    np.testing.assert_array_equal(policy, rg.jbc(game, demos).policy)
    assert extra == {}
    policy, _ = learn("jirl", game, expert, demos, np.random.default_rng(4))
    np.testing.assert_array_equal(policy, rg.jirl(game, demos, rng=np.random.default_rng(4)).policy)


@pytest.mark.parametrize(("name", "function"), [("malice", rg.malice), ("alice", rg.alice)])
def test_reweighting_learners_record_their_weights(case, name, function) -> None:
    game, expert, demos = case
    kw = dict(rounds=2, clip_weights=True)
    policy, extra = learn(name, game, expert, demos, np.random.default_rng(6), **kw)
    res = function(game, demos, rng=np.random.default_rng(6), **kw)
    np.testing.assert_array_equal(policy, res.policy)
    assert extra == {"max_weight": max(res.history.max_weight), "ess": min(res.history.ess)}


def test_a_coverage_failure_is_a_result_naming_the_states(case) -> None:
    game, expert, demos = case
    try:
        rg.malice(game, demos, rng=np.random.default_rng(0), rounds=2)
    except rg.CoverageError as err:
        want = sorted({int(s) for s in err.states})
    else:  # pragma: no cover - the fixture is chosen so that coverage fails
        pytest.fail("theorem 4.5's expert demonstrations were expected to miss a state")
    policy, extra = learn("malice", game, expert, demos, np.random.default_rng(0), rounds=2)
    assert policy is None
    assert sorted(extra["uncovered"]) == want
    assert str(want) in extra["not_applicable"]


def test_unknown_learners_are_named(case) -> None:
    game, expert, demos = case
    with pytest.raises(rg.ValidationError, match=r"unknown learner 'bc'.*'jbc'"):
        learn("bc", game, expert, demos, np.random.default_rng(0))
    assert set(LEARNERS) >= {"jbc", "malice", "blades", "dagger_noise"}
