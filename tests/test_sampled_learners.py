"""The sampled learners never touch utilities: with the game's rewards and every Utilities
reader made to raise, all five learners still run to the end."""

from __future__ import annotations

import numpy as np
import pytest

import regretgap as rg
from regretgap import sampled
from regretgap.games.punishment import punishment_game
from regretgap.utilities import TableUtilities


class Poison:
    """Stands in for the rewards: any use of it raises."""

    def _refuse(self, *args, **kwargs):
        raise AssertionError("a learner read the agents' utilities")

    __array__ = __getitem__ = __call__ = __len__ = __iter__ = __getattr__ = _refuse


LEARNERS = {
    "jbc": lambda sim, ex, demos, rng, cls: sampled.jbc(sim, demos, rng=rng, policy_class=cls),
    "alice": lambda sim, ex, demos, rng, cls: sampled.alice(
        sim, demos, rng=rng, policy_class=cls, rounds=1, rollouts=16
    ),
    "malice": lambda sim, ex, demos, rng, cls: sampled.malice(
        sim, demos, rng=rng, policy_class=cls, rounds=1, rollouts=16, adversary_episodes=64
    ),
    "dagger": lambda sim, ex, demos, rng, cls: sampled.dagger(
        sim, ex, rng=rng, policy_class=cls, demos=demos, rounds=1, rollouts=16
    ),
    "blades": lambda sim, ex, demos, rng, cls: sampled.blades(
        sim,
        ex,
        rng=rng,
        policy_class=cls,
        demos=demos,
        rounds=1,
        rollouts=16,
        adversary_episodes=32,
        adversary_batch=16,
    ),
}


@pytest.mark.parametrize("name", sorted(LEARNERS))
def test_learners_run_with_every_utility_raising(name, monkeypatch) -> None:
    pg = punishment_game(rng=np.random.default_rng(0), normal=30, punish=10, horizon=3)
    game = pg.game
    sim = game.simulator(pg.features)
    rewards = game.rewards
    object.__setattr__(game, "rewards", Poison())  # the game itself can no longer pay
    monkeypatch.setattr(TableUtilities, "reward", Poison._refuse)
    with pytest.raises(AssertionError, match="utilities"):
        rg.game_utilities(game).reward(np.zeros(1, dtype=int), np.zeros(1, dtype=int))
    with pytest.raises(AssertionError, match="utilities"):
        np.asarray(game.rewards)
    rng = np.random.default_rng(1)
    expert = sampled.policy_recommender(pg.expert)
    demos = sampled.demonstrations(sim, expert, 10, rng=rng)
    res = LEARNERS[name](sim, expert, demos, rng, sampled.LogLinearMediator((3, 3), l2=1e-2))
    object.__setattr__(game, "rewards", rewards)  # evaluation may read them again
    assert np.isfinite(rg.regret_gap(game, pg.expert, res.policy.table(sim)))
