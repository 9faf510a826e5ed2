"""PettingZoo out and in: MediatorEnv and as_simulator.

Monte Carlo bounds: an episode return ``G_i`` is compared with the exact value through
``|mean(G_i) - J_i| <= Z * stderr_i`` with ``Z = 5`` (CLT; a false alarm has probability
about 6e-7 per agent, and the seeds are fixed). Each test also checks that the bound is
tight enough to reject a wrong answer (the obedient value when a deviation was played),
so it can fail. State frequencies use the per-cell bound of tests/test_simulator.py.
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("pettingzoo")

import gymnasium
from pettingzoo import ParallelEnv
from pettingzoo.test import parallel_api_test, parallel_seed_test

import regretgap as rg
from regretgap.games.random import random_game
from regretgap.pettingzoo import EnvState, MediatorEnv, as_simulator
from regretgap.simulator import check_simulator

Z = 5.0
EPISODES = 4000


@pytest.fixture(scope="module")
def game():
    return random_game(8, (2, 3, 2), 3, rng=np.random.default_rng(5), branching=3)


@pytest.fixture(scope="module")
def sigma(game):
    return np.random.default_rng(6).dirichlet(
        np.ones(game.num_joint_actions), size=(game.horizon, game.num_states)
    )


def play(env, n, policy):
    """``n`` episodes; ``policy(agent, obs) -> action``; returns ``{agent: [n] returns}``."""
    out = {agent: np.zeros(n) for agent in env.possible_agents}
    for k in range(n):
        obs, _ = env.reset()
        while env.agents:
            obs, rew, *_ = env.step({a: policy(a, o) for a, o in obs.items() if a in env.agents})
            for a, r in rew.items():
                out[a][k] += r
    return out


def obedient(agent, obs):
    return int(obs[2])


def assert_close(returns, exact):
    mean, se = returns.mean(), returns.std(ddof=1) / np.sqrt(returns.size)
    assert abs(mean - exact) <= Z * se, (mean, exact, se)
    return Z * se


# ---------------------------------------------------------------------------------------
# MediatorEnv


@pytest.mark.parametrize("deviators", [None, {1: np.array([2, 0, 1])}, {0: [0, 0], 2: [1, 1]}])
def test_parallel_api_test_passes_without_warnings(game, sigma, deviators):
    env = MediatorEnv(game, sigma, deviators=deviators, rng=np.random.default_rng(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parallel_api_test(env, num_cycles=50)
        parallel_seed_test(lambda: MediatorEnv(game, sigma, deviators=deviators), num_cycles=50)


def test_spaces_are_cached_and_describe_private_observations(game, sigma):
    env = MediatorEnv(game, sigma, rng=np.random.default_rng(0))
    assert env.possible_agents == ["agent_0", "agent_1", "agent_2"]
    for i, agent in enumerate(env.possible_agents):
        assert env.observation_space(agent) is env.observation_space(agent)
        assert env.action_space(agent) is env.action_space(agent)
        assert env.action_space(agent) == gymnasium.spaces.Discrete(game.num_actions[i])
        np.testing.assert_array_equal(
            env.observation_space(agent).nvec,
            [game.horizon + 1, game.num_states, game.num_actions[i]],
        )
    obs, infos = env.reset(seed=3)
    assert all(o.shape == (3,) for o in obs.values()) and infos == {a: {} for a in obs}
    for agent, o in obs.items():
        assert o in env.observation_space(agent)


def test_each_agent_sees_only_its_own_part_of_one_joint_draw(game):
    """Recommendations are one correlated joint draw, split per agent."""
    rng = np.random.default_rng(1)
    # sigma puts mass 1/2 on each of two joint actions that differ in every coordinate
    a1 = game.joint_action((0, 0, 0))
    a2 = game.joint_action((1, 2, 1))
    sigma = np.zeros((game.num_states, game.num_joint_actions))
    sigma[:, [a1, a2]] = 0.5
    env = MediatorEnv(game, sigma, rng=rng)
    seen = []
    for _ in range(200):
        obs, _ = env.reset()
        seen.append(tuple(int(obs[f"agent_{i}"][2]) for i in range(3)))
        assert len({int(o[1]) for o in obs.values()}) == 1  # everyone sees the same state
    assert set(seen) == {(0, 0, 0), (1, 2, 1)}  # correlated: never a mixed profile


def test_obedient_returns_match_values(game, sigma):
    env = MediatorEnv(game, sigma, rng=np.random.default_rng(10))
    ret = play(env, EPISODES, obedient)
    exact = rg.values(game, sigma)
    bound = [assert_close(ret[f"agent_{i}"], exact[i]) for i in range(3)]
    # power: the best response of agent 1 earns far more than the bound
    br = rg.best_response(game, sigma, 1)
    assert br.gain > 3 * bound[1]


def test_agent_playing_a_deviation_table_matches_apply_deviation(game, sigma):
    phi = rg.best_response(game, sigma, 1).deviation  # [H, S, n_1]
    env = MediatorEnv(game, sigma, rng=np.random.default_rng(11))

    def policy(agent, obs):
        h, s, a_i = (int(x) for x in obs)
        return int(phi[h, s, a_i]) if agent == "agent_1" else a_i

    ret = play(env, EPISODES, policy)
    exact = rg.values(game, rg.apply_deviation(game, sigma, 1, phi))
    for i in range(3):
        assert_close(ret[f"agent_{i}"], exact[i])
    obedient_value = rg.values(game, sigma)[1]
    mean = ret["agent_1"].mean()
    se = ret["agent_1"].std(ddof=1) / np.sqrt(EPISODES)
    assert abs(mean - obedient_value) > Z * se  # the deviation is visible


def test_scripted_deviators_compose(game, sigma):
    """Agents 0 and 2 scripted by tables, agent 1 exposed and obedient."""
    rng = np.random.default_rng(12)
    phi0 = rng.integers(0, 2, size=(game.horizon, game.num_states, 2))
    # agent 2 deviates so as to hurt agent 1 most (a best response to minus r_1)
    harm = np.repeat(-game.rewards[1:2], 3, axis=0)
    phi2 = rg.best_response(game, sigma, 2, reward=harm).deviation
    env = MediatorEnv(game, sigma, deviators={0: phi0, 2: phi2}, rng=rng)
    assert env.possible_agents == ["agent_1"]
    ret = play(env, EPISODES, obedient)
    pi = rg.apply_deviation(game, rg.apply_deviation(game, sigma, 0, phi0), 2, phi2)
    bound = assert_close(ret["agent_1"], rg.values(game, pi)[1])
    assert abs(rg.values(game, pi)[1] - rg.values(game, sigma)[1]) > 2 * bound  # power


def test_played_action_moves_the_state_and_earns_the_reward():
    """Exact check on a deterministic game: agent 0's played action picks the successor
    and the reward, whatever the mediator recommended (always 0)."""
    num_states, horizon = 2, 3
    t = np.zeros((num_states, 4, num_states))
    for a in range(4):
        t[:, a, a // 2] = 1.0  # successor = agent 0's played action
    r = np.zeros((2, num_states, 4))
    r[:, :, 2:] = 1.0  # both earn 1 when agent 0 plays 1
    g = rg.MarkovGame(t, r, np.array([1.0, 0.0]), horizon, (2, 2))
    sigma = np.zeros((num_states, 4))
    sigma[:, 0] = 1.0
    for env in (
        MediatorEnv(g, sigma, deviators={0: [1, 1]}, rng=np.random.default_rng(0)),
        MediatorEnv(g, sigma, rng=np.random.default_rng(0)),
    ):
        obs, _ = env.reset()
        total = 0.0
        for _ in range(horizon):
            acts = {a: (1 if a == "agent_0" else int(o[2])) for a, o in obs.items()}
            obs, rew, *_ = env.step(acts)
            assert all(o[1] == 1 for o in obs.values())  # moved to state 1
            assert all(o[2] == 0 for o in obs.values())  # still recommended 0
            total += rew["agent_1"]
        assert total == horizon


def test_identity_deviators_are_obedient(game, sigma):
    ident = {0: rg.identity_deviation(game, 0), 2: [0, 1]}
    env = MediatorEnv(game, sigma, deviators=ident, rng=np.random.default_rng(13))
    ret = play(env, EPISODES, obedient)
    assert_close(ret["agent_1"], rg.values(game, sigma)[1])


def test_seeded_reset_reproduces_episodes(game, sigma):
    def episode(env, seed):
        obs, _ = env.reset(seed=seed)
        trace = [obs]
        while env.agents:
            obs, *_ = env.step({a: obedient(a, o) for a, o in obs.items()})
            trace.append(obs)
        return [[o.tolist() for o in t.values()] for t in trace]

    env = MediatorEnv(game, sigma)
    assert episode(env, 4) == episode(MediatorEnv(game, sigma), 4)
    assert any(episode(env, 4) != episode(env, s) for s in range(5, 10))


def test_terminal_observation_and_flags(game, sigma):
    env = MediatorEnv(game, sigma, rng=np.random.default_rng(0))
    obs, _ = env.reset()
    for h in range(game.horizon):
        obs, _rew, term, trunc, _ = env.step({a: 0 for a in env.agents})
        assert all(term[a] == (h == game.horizon - 1) for a in term)
        assert not any(trunc.values())
    assert env.agents == []
    assert all(o[0] == game.horizon and o[2] == 0 for o in obs.values())
    with pytest.raises(rg.ValidationError, match="reset"):
        env.step({"agent_0": 0})


def test_the_terminal_observation_carries_no_recommendation(game):
    """A mediator that always recommends every agent's last action: each live observation
    shows it, the one after the last step shows 0 (there is nothing left to play)."""
    last = np.zeros((game.num_states, game.num_joint_actions))
    last[:, -1] = 1.0
    env = MediatorEnv(game, last, rng=np.random.default_rng(0))
    obs, _ = env.reset()
    for _ in range(game.horizon):
        assert [int(o[2]) for o in obs.values()] == [n - 1 for n in game.num_actions]
        obs, *_ = env.step({a: 0 for a in env.agents})
    assert [int(o[2]) for o in obs.values()] == [0] * game.num_agents


def test_a_deep_copy_shares_the_tables_and_owns_its_episode(game, sigma):
    """as_simulator branches by deep copies: the read-only game and policy are shared, the
    generator and the episode's state are the copy's own (same draws, independent moves)."""
    import copy

    env = MediatorEnv(game, sigma, rng=np.random.default_rng(0))
    env.reset(seed=3)
    twin = copy.deepcopy(env)
    assert twin.game is env.game and twin.sigma is env.sigma
    before = env.state().copy()
    a = twin.step({agent: 0 for agent in twin.agents})
    np.testing.assert_array_equal(env.state(), before)  # the original did not move
    b = env.step({agent: 0 for agent in env.agents})
    for x, y in zip(a, b, strict=True):  # the same draws from the copied generator
        assert x.keys() == y.keys()
        assert all(np.array_equal(x[k], y[k]) for k in x)


def test_bad_input(game, sigma):
    with pytest.raises(rg.ValidationError, match="sum"):
        MediatorEnv(game, sigma * 2)
    with pytest.raises(rg.ValidationError, match="agent"):
        MediatorEnv(game, sigma, deviators={3: [0, 0]})
    with pytest.raises(rg.ValidationError, match=r"outside|lie in"):
        MediatorEnv(game, sigma, deviators={1: [0, 1, 3]})
    with pytest.raises(rg.ValidationError, match="at least one exposed"):
        MediatorEnv(game, sigma, deviators={0: [0, 1], 1: [0, 1, 2], 2: [0, 1]})
    with pytest.raises(rg.ValidationError, match="Generator"):
        MediatorEnv(game, sigma, rng=0)
    env = MediatorEnv(game, sigma, rng=np.random.default_rng(0))
    env.reset()
    with pytest.raises(rg.ValidationError, match=r"outside 0\.\.2"):
        env.step({"agent_0": 0, "agent_1": 3, "agent_2": 0})
    with pytest.raises(rg.ValidationError, match="keyed by"):
        env.step({"agent_0": 0, "agent_1": 1})
    with pytest.raises(rg.ValidationError, match="integer"):
        env.step({"agent_0": 0.5, "agent_1": 1, "agent_2": 0})


def test_missing_pettingzoo_names_the_extra():
    code = "import sys; sys.modules['pettingzoo'] = None; import regretgap.pettingzoo"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError") and 'pip install "regretgap[pettingzoo]"' in last
    assert "During handling" not in proc.stderr  # one error, not a chained traceback


# ---------------------------------------------------------------------------------------
# as_simulator


def decode(sim, x, game):
    """``(s, joint recommendation)`` from MediatorEnv's default features ``[n, d]``."""
    h_count, s_count = game.horizon + 1, game.num_states
    s, parts, col = None, [], 0
    for n_i in game.num_actions:
        block = x[:, col : col + h_count + s_count + n_i]
        s = np.argmax(block[:, h_count : h_count + s_count], axis=1)
        parts.append(np.argmax(block[:, h_count + s_count :], axis=1))
        col += block.shape[1]
    return s, np.ravel_multi_index(parts, game.num_actions)


def test_as_simulator_of_mediator_env_matches_state_distribution(game, sigma):
    sim = as_simulator(MediatorEnv(game, sigma))
    assert isinstance(sim, rg.Simulator)
    assert sim.num_actions == game.num_actions and sim.horizon == game.horizon
    rng = np.random.default_rng(20)
    assert check_simulator(sim, rng=rng) == 3 * (game.horizon + 1 + game.num_states) + 7
    n = 3000
    states = sim.reset(rng, n)
    freq = np.zeros((game.horizon, game.num_states))
    for h in range(game.horizon):
        s, rec = decode(sim, sim.observe(states, h), game)
        freq[h] = np.bincount(s, minlength=game.num_states) / n
        if h < game.horizon - 1:
            states = sim.step(states, rec, rng)  # obedient play of the recommendation
    d = rg.state_distribution(game, sigma)
    bound = Z * np.sqrt(d * (1 - d) / n) + 1.0 / n
    assert np.all(np.abs(freq - d) <= bound), np.abs(freq - d).max()
    assert sim.replays == 0  # a plain rollout never replays
    other = rg.state_distribution(game, rg.uniform_policy(game))
    assert not np.all(np.abs(freq - other) <= bound)


def test_as_simulator_branching_replays_consistently(game, sigma):
    sim = as_simulator(MediatorEnv(game, sigma))
    rng = np.random.default_rng(21)
    s0 = sim.reset(rng, 5)
    a = np.arange(5)
    first = sim.step(s0, a, rng)
    again = sim.step(s0, a, rng)  # replays: same seed, same actions, same successor
    assert sim.replays == 5
    for x, y in zip(first, again, strict=True):
        assert x.actions == y.actions and x.seed == y.seed
        np.testing.assert_array_equal(
            sim.observe(np.array([x], dtype=object), 1), sim.observe(np.array([y], dtype=object), 1)
        )
    # s0 itself is unchanged, and a seeded generator reproduces the whole batch
    assert all(st.actions == () for st in s0)
    r1, r2 = sim.reset(np.random.default_rng(7), 4), sim.reset(np.random.default_rng(7), 4)
    assert [st.seed for st in r1] == [st.seed for st in r2]
    np.testing.assert_array_equal(sim.observe(r1, 0), sim.observe(r2, 0))


def test_as_simulator_bad_input(game, sigma):
    sim = as_simulator(MediatorEnv(game, sigma))
    rng = np.random.default_rng(22)
    s = sim.reset(rng, 2)
    with pytest.raises(rg.ValidationError, match=r"joint_actions\[1\] = 12 is outside"):
        sim.step(s, np.array([0, 12]), rng)
    with pytest.raises(rg.ValidationError, match="shape"):
        sim.step(s, np.array([0]), rng)
    with pytest.raises(rg.ValidationError, match="not a state made by this simulator"):
        sim.step(np.array([0, 1]), np.array([0, 1]), rng)
    with pytest.raises(rg.ValidationError, match="not at h = 1"):
        sim.observe(s, 1)
    with pytest.raises(rg.ValidationError, match="horizon"):
        as_simulator(lambda: MediatorEnv(game, sigma))
    for states in (np.array([], dtype=object), np.stack([s, s])):
        with pytest.raises(rg.ValidationError, match=r"non-empty \[n\] batch"):
            sim.step(states, np.zeros(len(states), dtype=int), rng)
    cases = {
        r"must be finite \[n, d\] rows: states\[0\] gives feature 1 = nan": lambda obs: np.array(
            [0.0, np.nan]
        ),
        r"one width d >= 1, got widths \[0\]": lambda obs: np.zeros(0),
        r"one width d >= 1, got widths \[1, 2\]": lambda obs: np.zeros(
            1 + int(obs["agent_0"][1] % 2)
        ),
    }
    for match, bad in cases.items():
        broken = as_simulator(MediatorEnv(game, sigma), features=bad)
        with pytest.raises(rg.ValidationError, match=match):
            broken.observe(broken.reset(np.random.default_rng(1), 40), 0)


class CoinEnv(ParallelEnv):
    """Two agents, actions {0, 1, 2} and {0, 1}; a counter moves by the action sum plus a
    coin from the env's own generator; the episode ends after ``stop`` steps."""

    metadata = {"name": "coin_v0"}  # noqa: RUF012

    def __init__(self, stop=2):
        self.possible_agents = ["x", "y"]
        self.agents = []
        self.stop = stop
        self._obs = gymnasium.spaces.Box(-100, 100, shape=(1,))
        self._act = {"x": gymnasium.spaces.Discrete(3), "y": gymnasium.spaces.Discrete(2, start=1)}

    def observation_space(self, agent):
        return self._obs

    def action_space(self, agent):
        return self._act[agent]

    def reset(self, seed=None, options=None):
        self.np_random = np.random.default_rng(seed)
        self.agents, self.t, self.c = ["x", "y"], 0, 0.0
        return self._o(), {a: {} for a in self.agents}

    def _o(self):
        return {a: np.array([self.c], dtype=np.float32) for a in self.agents}

    def step(self, actions):
        assert set(actions) == set(self.agents) and actions["y"] in (1, 2)
        self.c += actions["x"] + actions["y"] + self.np_random.integers(0, 2)
        self.t += 1
        done = self.t >= self.stop
        out = self._o()
        flags = dict.fromkeys(self.agents, done)
        if done:
            self.agents = []
        return out, dict.fromkeys(flags, 0.0), flags, dict.fromkeys(flags, False), {}


def test_as_simulator_of_a_custom_env_with_early_end():
    sim = as_simulator(CoinEnv, horizon=4)
    assert sim.num_actions == (3, 2)
    rng = np.random.default_rng(0)
    s = sim.reset(rng, 64)
    x0 = sim.observe(s, 0)
    assert x0.shape == (64, 2) and np.all(x0 == 0)
    # joint action 5 = (x=2, y=1 -> Discrete start 1 -> 2): +4 plus a coin
    s1 = sim.step(s, np.full(64, 5), rng)
    c1 = sim.observe(s1, 1)[:, 0]
    assert set(np.unique(c1)) == {4.0, 5.0}
    s2 = sim.step(s1, np.zeros(64, dtype=int), rng)  # (0, 0) -> +1 plus a coin
    s3 = sim.step(s2, np.full(64, 5), rng)  # the env ended after 2 steps: absorbing
    c2, c3 = sim.observe(s2, 2)[:, 0], sim.observe(s3, 3)[:, 0]
    assert all(st.done for st in s2) and np.all(c3 == c2)
    assert all(st.done for st in s3)  # an ended episode stays ended
    assert all(len(st.actions) == 3 for st in s3)  # ... while the step count goes on
    assert set(np.unique(c2 - c1)) <= {1.0, 2.0}
    # replaying a state rebuilt from its seed lands on the same counter
    again = sim.step(s1, np.zeros(64, dtype=int), rng)
    np.testing.assert_array_equal(sim.observe(again, 2), sim.observe(s2, 2))


class NoisyEnv(CoinEnv):
    """Breaks PettingZoo's seeding contract: a coin from a generator reset ignores."""

    _global = np.random.default_rng(99)

    def reset(self, seed=None, options=None):
        out = super().reset(seed, options)
        self.np_random = NoisyEnv._global
        return out


def test_as_simulator_detects_an_env_that_ignores_its_seed():
    sim = as_simulator(NoisyEnv, horizon=3)
    rng = np.random.default_rng(0)
    s1 = sim.step(sim.reset(rng, 200), np.zeros(200, dtype=int), rng)
    with pytest.raises(rg.ValidationError, match="not deterministic"):
        sim.step(s1, np.zeros(200, dtype=int), rng)  # s1 live: fine
        sim.step(s1, np.zeros(200, dtype=int), rng)  # replays and diverges


def test_as_simulator_rejects_non_discrete_actions():
    class BoxActions(CoinEnv):
        def action_space(self, agent):
            return self._obs

    with pytest.raises(rg.ValidationError, match="Discrete"):
        as_simulator(BoxActions, horizon=2)
    with pytest.raises(rg.ValidationError, match="ParallelEnv"):
        as_simulator(3, horizon=2)
    assert isinstance(EnvState(0, (), {}, False), EnvState)


def test_tabulate_keeps_an_ended_episode_absorbing():
    """CoinEnv ends after 2 of H = 4 steps: the 7 counters reached at h = 2 are done and
    stay the same 7 states at h = 3, each moving to its own copy under every action."""
    from regretgap.pettingzoo import tabulate

    tab = tabulate(as_simulator(CoinEnv, horizon=4))
    assert np.bincount(tab.steps).tolist() == [1, 4, 7, 7]
    late = np.flatnonzero(tab.steps >= 2)
    assert all(tab.states[k].done for k in late)
    t = tab.game.transition_tensor()
    at2, at3 = np.flatnonzero(tab.steps == 2), np.flatnonzero(tab.steps == 3)
    counters = {k: float(tab.states[k].observations["x"][0]) for k in late}
    for s in at2:
        succ = np.flatnonzero(t[s].sum(axis=0))
        assert len(succ) == 1 and succ[0] in at3 and counters[succ[0]] == counters[s]
