"""best_responses as the public primitive, Regret.agent_values, and the
names regretgap.evaluation kept after the split into _engine, evaluation and diagnostics."""

from __future__ import annotations

import numpy as np
import pytest

import regretgap as rg
import regretgap.evaluation as ev
from regretgap.games import random_game
from regretgap.losses import deviation_losses, disagreement_reward

OLD_EVALUATION_NAMES = [
    "BestResponse", "Regret", "ValueFunctions", "best_response", "occupancy", "regret",
    "regret_gap", "state_distribution", "value_functions", "value_gap", "values",
]  # fmt: skip
#: The diagnostics live in regretgap.diagnostics only (evaluation's re-export was removed:
#: diagnostics builds on evaluation, and the re-export closed an import loop).
DIAGNOSTICS_NAMES = ["Coverage", "Recoverability", "coverage", "deviation_reachable",
                     "recoverability"]  # fmt: skip


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(3)
    game = random_game(40, (3, 2), 4, rng=rng, branching=3)
    sigma = rng.dirichlet(np.ones(game.num_joint_actions), size=(4, 40))
    return game, sigma


@pytest.mark.parametrize("kind", ["ce", "cce", "swap"])
def test_best_responses_agree_with_each_agents_best_response(case, kind):
    game, sigma = case
    brs = rg.best_responses(game, sigma, kind=kind)
    for i in range(game.num_agents):
        one = rg.best_response(game, sigma, i, kind=kind)
        got = brs.of(i)
        assert got.value == pytest.approx(one.value, abs=1e-12)
        assert got.gain == pytest.approx(one.gain, abs=1e-12)
        assert got.baseline == pytest.approx(one.baseline, abs=1e-12)
        np.testing.assert_array_equal(got.deviation, one.deviation)
        # the table is a best response: applying it scores its value
        played = rg.apply_deviation(game, sigma, i, got.deviation)
        assert rg.values(game, played)[i] == pytest.approx(got.value, abs=1e-9)
    rep = rg.regret(game, sigma, kind=kind)
    assert rep.value == pytest.approx(brs.gain.max(), abs=0)
    np.testing.assert_array_equal(rep.agent_values, brs.baseline)
    np.testing.assert_allclose(rep.agent_values, rg.values(game, sigma), atol=1e-12)


def test_deviation_losses_are_the_best_response_values_to_the_loss(case):
    game, sigma = case
    ell = np.random.default_rng(0).random((game.horizon, game.num_states))
    value, tables = deviation_losses(game, sigma, ell)
    brs = rg.best_responses(game, sigma, reward=disagreement_reward(game, ell))
    np.testing.assert_array_equal(value, brs.value)
    for i in range(game.num_agents):
        np.testing.assert_array_equal(tables[i], brs.deviations[i])


def test_regret_has_agent_values_only_and_unpacks(case):
    game, sigma = case
    rep = rg.regret(game, sigma)
    assert not hasattr(rep, "values")  # the deprecated alias is gone (0.x)
    value, per_agent, deviations, agent, agent_values = rep
    assert per_agent is rep.per_agent and deviations is rep.deviations
    assert (value, agent) == (rep.value, rep.agent) and agent_values is rep.agent_values
    assert rep._fields[-1] == "agent_values" and isinstance(rep, tuple)


def test_evaluation_keeps_every_public_name_and_kind_errors(case):
    game, sigma = case
    for name in OLD_EVALUATION_NAMES:
        assert getattr(ev, name) is getattr(rg, name), name
    from regretgap import diagnostics

    for name in DIAGNOSTICS_NAMES:
        assert getattr(diagnostics, name) is getattr(rg, name), name
        assert not hasattr(ev, name), name

    with pytest.raises(AttributeError):
        ev.no_such_name  # noqa: B018
    with pytest.raises(rg.ValidationError, match="unknown deviation kind 'nash'"):
        rg.best_responses(game, sigma, kind="nash")
    with pytest.raises(rg.ValidationError, match="one list per agent"):
        rg.best_responses(game, sigma, kind=[[np.arange(3)]])
    with pytest.raises(rg.ValidationError, match=r"agent 2 is outside 0\.\.1"):
        rg.best_responses(game, sigma).of(2)
