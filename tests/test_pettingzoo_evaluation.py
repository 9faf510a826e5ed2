"""Scoring a mediator on an environment the library does not ship: the environment's own
rewards as Utilities (Monte Carlo), exact tabulation of its reachable states, and the hint
for per-agent actions. Differential tests against a Markov game written as an environment,
and the worked example on PettingZoo's rock-paper-scissors."""

from __future__ import annotations

import functools
from typing import ClassVar

import numpy as np
import pytest

pytest.importorskip("pettingzoo")

import gymnasium
from pettingzoo import ParallelEnv

import regretgap as rg
from regretgap import sampled
from regretgap.pettingzoo import as_simulator, env_utilities, tabulate


class GameEnv(ParallelEnv):
    """A deterministic Markov game as a PettingZoo environment, fully observed (each agent
    sees the state index) or blind (``hide=True``: every observation is 0)."""

    metadata: ClassVar[dict] = {"name": "game_env_v0"}

    def __init__(self, nxt, rewards, horizon, hide=False):
        self.nxt, self.rewards, self.horizon, self.hide = nxt, rewards, horizon, hide
        self.possible_agents = ["p0", "p1"]
        self._obs = gymnasium.spaces.Discrete(nxt.shape[0])
        self._act = gymnasium.spaces.Discrete(2)

    def observation_space(self, agent):
        return self._obs

    def action_space(self, agent):
        return self._act

    def reset(self, seed=None, options=None):
        self.agents, self.s, self.t = list(self.possible_agents), 0, 0
        return self._o(), {a: {} for a in self.agents}

    def _o(self):
        return {a: np.int64(0 if self.hide else self.s) for a in self.agents}

    def step(self, actions):
        joint = 2 * actions["p0"] + actions["p1"]
        rew = {a: float(self.rewards[i, self.s, joint]) for i, a in enumerate(self.agents)}
        self.s, self.t = int(self.nxt[self.s, joint]), self.t + 1
        done = self.t >= self.horizon
        flags = dict.fromkeys(self.agents, done)
        obs = self._o()
        if done:
            self.agents = []
        return obs, rew, flags, dict.fromkeys(flags, False), {}


def _deterministic_game(seed=0, states=5, horizon=4):
    rng = np.random.default_rng(seed)
    nxt = rng.integers(0, states, size=(states, 4))
    rewards = rng.uniform(-1, 1, size=(2, states, 4))
    t = np.zeros((states, 4, states))
    t[np.arange(states)[:, None], np.arange(4)[None, :], nxt] = 1.0
    rho0 = np.eye(states)[0]
    return rg.MarkovGame(t, rewards, rho0, horizon=horizon, num_actions=(2, 2)), nxt, rewards


def test_tabulation_values_equal_the_games_exact_values():
    game, nxt, rewards = _deterministic_game()
    sim = as_simulator(functools.partial(GameEnv, nxt, rewards, game.horizon), horizon=4)
    tab = tabulate(sim)
    underlying = np.array([int(st.observations["p0"]) for st in tab.states])
    sigma = np.random.default_rng(1).dirichlet(np.ones(4), size=(4, game.num_states))
    lifted = sigma[:, underlying]  # [H, S_tab, A]: the same policy on the tabulated states
    np.testing.assert_allclose(rg.values(tab.game, lifted), rg.values(game, sigma), atol=1e-12)
    np.testing.assert_allclose(
        rg.regret(tab.game, lifted).per_agent, rg.regret(game, sigma).per_agent, atol=1e-12
    )
    assert set(tab.steps.tolist()) == {0, 1, 2, 3} and tab.game.is_layered


def test_env_utilities_read_the_environments_rewards():
    game, nxt, rewards = _deterministic_game(seed=3)
    sim = as_simulator(functools.partial(GameEnv, nxt, rewards, game.horizon), horizon=4)
    rng = np.random.default_rng(0)
    s0 = sim.reset(rng, 4)
    s1 = sim.step(s0, np.array([0, 1, 2, 3]), rng)
    got = env_utilities(sim).reward(s1, np.array([3, 2, 1, 0]))
    here = nxt[0, [0, 1, 2, 3]]
    np.testing.assert_allclose(got, rewards[:, here, [3, 2, 1, 0]].T)
    assert env_utilities(sim).num_agents == 2


def test_tabulate_refuses_a_key_that_hides_the_state():
    _, nxt, rewards = _deterministic_game(seed=2)
    sim = as_simulator(functools.partial(GameEnv, nxt, rewards, 4, hide=True), horizon=4)
    with pytest.raises(rg.ValidationError, match="does not identify the state"):
        tabulate(sim)
    # a finer key (the action history) identifies every state: a tree of 1 + 4 + 16 + 64
    tab = tabulate(sim, key=lambda st: st.actions)
    assert tab.game.num_states == 85


def test_tabulate_and_env_utilities_bad_input():
    with pytest.raises(rg.ValidationError, match="EnvSimulator"):
        tabulate(object())
    with pytest.raises(rg.ValidationError, match="EnvSimulator"):
        env_utilities(object())
    _, nxt, rewards = _deterministic_game()
    sim = as_simulator(functools.partial(GameEnv, nxt, rewards, 4), horizon=4)
    with pytest.raises(rg.ValidationError, match="max_states"):
        tabulate(sim, max_states=3)
    size = tabulate(sim).game.num_states  # max_states is inclusive
    assert tabulate(sim, max_states=size).game.num_states == size
    with pytest.raises(rg.ValidationError, match=f"more than max_states = {size - 1}"):
        tabulate(sim, max_states=size - 1)
    for bad in (0, True, 2.5):
        with pytest.raises(rg.ValidationError, match="max_states must be a positive integer"):
            tabulate(sim, max_states=bad)
    with pytest.raises(rg.ValidationError, match="at least one reset seed"):
        tabulate(sim, seeds=[])


def test_tabulate_over_several_seeds_averages_their_starts():
    """The initial distribution is uniform over the seeds' starts: here every seed starts
    in state 0, so the tabulation has one start of probability 1 and the same values."""
    game, nxt, rewards = _deterministic_game(seed=4)
    sim = as_simulator(functools.partial(GameEnv, nxt, rewards, game.horizon), horizon=4)
    one, three = tabulate(sim), tabulate(sim, seeds=(0, 1, 2))
    np.testing.assert_array_equal(three.game.initial, one.game.initial)
    assert three.game.initial.sum() == 1.0 and three.game.num_states == one.game.num_states


def test_per_agent_actions_get_a_hint():
    from regretgap.simulator import check_joint_actions

    with pytest.raises(rg.ValidationError, match="ravel_multi_index"):
        check_joint_actions(np.zeros((5, 2), dtype=int), 5, 4)


def test_worked_example_rock_paper_scissors():
    """README's bring-your-own-environment example: PettingZoo's rock-paper-scissors (not
    shipped here), learned with sampled J-BC from a correlated-equilibrium expert, scored
    exactly on the tabulation and by Monte Carlo on the environment's own rewards. The
    value gap's interval contains the exact value gap (the estimate is unbiased); the
    regret side is a lower bound (a learned deviation), so its interval's low end lies
    below the exact regret gap."""
    pytest.importorskip("pygame")  # PettingZoo's classic games import it
    from pettingzoo.classic import rps_v2

    sim = as_simulator(lambda: rps_v2.parallel_env(max_cycles=3), horizon=3)
    tab = tabulate(sim)  # 19 states: the start, then both players' last moves
    assert tab.game.num_states == 19
    # a correlated-equilibrium expert of the environment: "never tie, never lose twice"
    rng = np.random.default_rng(0)
    expert_table = rg.markov_ce(tab.game, objective="random", rng=rng)
    assert rg.regret(tab.game, expert_table).value <= 1e-9

    def expert(states, h, rng):
        p = expert_table[h, tab.index(states, h)]
        return (p.cumsum(axis=1) > rng.random((len(p), 1))).argmax(axis=1)

    demos = sampled.demonstrations(sim, expert, 30, rng=rng)
    res = sampled.jbc(sim, demos, rng=rng, policy_class=sampled.ObservationTable(sim.num_actions))
    learned = res.policy.table(tab.game, tab.features)
    exact = rg.regret_gap(tab.game, expert_table, learned)
    est = sampled.estimate_gaps(
        sim, env_utilities(sim), expert, res.policy, rng=rng, episodes=400, confidence=0.99
    )
    exact_value = rg.value_gap(tab.game, expert_table, learned)
    assert est.value_gap_ci[0] <= exact_value <= est.value_gap_ci[1], est.value_gap_ci
    assert est.regret_gap_ci[0] <= exact, (exact, est.regret_gap_ci)
    assert exact > 0.5  # 30 demonstrations leave deviations that pay


def test_per_agent_expert_answers_get_the_hint_in_the_sampled_stack():
    from regretgap.sampled.policies import check_actions

    with pytest.raises(rg.ValidationError, match="ravel_multi_index"):
        check_actions(np.zeros((5, 2), dtype=int), 5, 4, name="expert answers")
