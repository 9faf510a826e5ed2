"""Tests written for mutants of the sampled stack that survived the suite
(``python benchmarks/mutation.py sampled --sample N --seed K --jobs 1``): what the
documented defaults are, which sizes are legal, and what error messages name."""

from __future__ import annotations

import numpy as np
import pytest

import regretgap as rg
from regretgap.errors import ValidationError
from regretgap.games.random import random_game
from regretgap.sampled import LogLinearMediator, ObservationTable, dagger, estimate_regret
from regretgap.sampled.policies import check_num_actions


def test_one_action_agents_are_legal():
    """An agent with a single action (n_i = 1) is a legal size: the joint recommendation
    is then the other agents', and agent 0's marginal is 1 everywhere."""
    assert check_num_actions((1, 3)) == (1, 3)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 2))
    pol = LogLinearMediator((1, 3)).fit(x, [0, 1, 2, 1, 0], rng=rng)
    assert pol.num_joint_actions == 3
    np.testing.assert_allclose(pol.marginal(x, 0), np.ones((5, 1)))
    with pytest.raises(ValidationError, match="positive ints"):
        check_num_actions((0, 3))


def test_policy_messages_name_the_shape_the_agent_range_and_the_type():
    """The messages say what was expected and what came: weights ``[n] = (3,)`` got
    ``(2,)``; agents ``0..1`` for two agents; ``table`` of an int names ``int``."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 2))
    pol = LogLinearMediator((2, 3))
    with pytest.raises(
        ValidationError, match=r"weights must have shape \[n\] = \(3,\), got \(2,\)"
    ):
        pol.fit(x, [0, 1, 1], [1.0, 1.0], rng=rng)
    fitted = pol.fit(x, [0, 1, 1], rng=rng)
    with pytest.raises(ValidationError, match=r"agent 2 outside 0\.\.1$"):
        fitted.marginal(x, 2)
    with pytest.raises(ValidationError, match=r"agent -1 outside 0\.\.1$"):
        fitted.conditional(x, -1, np.zeros(3, dtype=np.int64))
    with pytest.raises(ValidationError, match=r"simulator with num_states and observe, got int$"):
        ObservationTable((2, 3)).table(42)


class _RewardOnly:
    """Has ``reward`` but no ``num_agents``: not a Utilities."""

    def reward(self, states, actions):  # pragma: no cover - never called
        raise AssertionError


def test_estimate_regret_names_what_a_non_utilities_lacks():
    game = random_game(4, (2, 3), 2, rng=np.random.default_rng(2))
    sigma = rg.uniform_policy(game)
    for utilities, missing in [
        (object(), r"\['num_agents', 'reward'\]"),
        (_RewardOnly(), r"\['num_agents'\]"),
    ]:
        name = type(utilities).__name__
        with pytest.raises(
            ValidationError, match=rf"{name} is not a Utilities: it lacks {missing}"
        ):
            estimate_regret(
                game.simulator(), utilities, sigma, rng=np.random.default_rng(0), episodes=10
            )


def test_dagger_rolls_in_64_episodes_per_round_by_default():
    """The documented default ``rollouts = 64``: one query per visited state, so a round
    without demonstrations asks ``64 * H`` questions."""
    horizon = 3
    game = random_game(4, (2, 2), horizon, rng=np.random.default_rng(3))

    def expert(states, h, rng):
        return np.zeros(len(states), dtype=np.int64)

    res = dagger(
        game.simulator(),
        expert,
        rng=np.random.default_rng(0),
        policy=ObservationTable((2, 2)),
        rounds=1,
    )
    assert res.queries == 64 * horizon
