"""The reward-free vectorised Simulator of a MarkovGame.

Monte Carlo state distributions are compared with the exact ``state_distribution`` cell by
cell: with ``n`` rollouts the frequency of ``(h, s)`` has standard deviation
``sqrt(p (1 - p) / n)``, and we allow ``Z = 5`` of them plus ``1 / n`` (a false alarm has
probability below ``H S * 6e-7`` per test; the seeds are fixed anyway).
"""

from __future__ import annotations

import gc

import numpy as np
import pytest
import scipy.sparse as sp

import regretgap as rg
from regretgap.games.random import random_game
from regretgap.simulator import TableSimulator, check_simulator
from regretgap.utilities import game_utilities

Z = 5.0


def mc_state_distribution(sim, sigma, n, rng):
    """Frequencies of ``s_h`` over ``n`` rollouts of ``sim`` under ``sigma`` ``[H, S, A]``."""
    horizon, num_states = sigma.shape[:2]
    freq = np.zeros((horizon, num_states))
    s = sim.reset(rng, n)
    for h in range(horizon):
        freq[h] = np.bincount(s, minlength=num_states) / n
        if h < horizon - 1:
            cdf = np.cumsum(sigma[h, s], axis=1)
            a = (cdf < rng.random(n)[:, None] * cdf[:, -1:]).sum(axis=1)
            s = sim.step(s, a, rng)
    return freq


def within_bound(freq, d, n):
    return np.abs(freq - d) <= Z * np.sqrt(d * (1 - d) / n) + 1.0 / n


@pytest.fixture(scope="module")
def game():
    return random_game(12, (2, 3), 5, rng=np.random.default_rng(7), branching=3)


def test_simulator_is_a_simulator(game):
    sim = game.simulator()
    assert isinstance(sim, rg.Simulator)
    assert sim.num_actions == (2, 3) and sim.horizon == 5
    assert check_simulator(sim, rng=np.random.default_rng(0), n=3) == 5 * 12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_monte_carlo_state_distribution_matches_exact(game, seed):
    rng = np.random.default_rng(seed)
    sigma = rng.dirichlet(np.ones(game.num_joint_actions), size=(game.horizon, game.num_states))
    d = rg.state_distribution(game, sigma)
    n = 40_000
    freq = mc_state_distribution(game.simulator(), sigma, n, rng)
    assert np.all(within_bound(freq, d, n)), np.abs(freq - d).max()
    # the check has power: another mediator's distribution is rejected by the same bound
    other = rg.state_distribution(game, rg.uniform_policy(game))
    assert not np.all(within_bound(freq, other, n))


def test_layered_paper_game_and_user_features():
    from regretgap.games.random import random_game as rgame

    g = rgame(30, (2, 2), 3, rng=np.random.default_rng(3), layered=True)
    rng = np.random.default_rng(4)
    sigma = rg.uniform_policy(g)
    feats = rng.normal(size=(g.num_states, 4))
    sim = g.simulator(feats)
    assert sim.num_features == 4
    s = sim.reset(rng, 6)
    np.testing.assert_array_equal(sim.observe(s, 2), feats[s])
    feats_before = feats.copy()
    feats[:] = np.nan  # the simulator keeps its own copy
    np.testing.assert_array_equal(sim.observe(s, 2), feats_before[s])
    by_step = rng.normal(size=(g.horizon, g.num_states, 2))
    sim2 = g.simulator(by_step)
    np.testing.assert_array_equal(sim2.observe(s, 1), by_step[1, s])
    n = 20_000
    freq = mc_state_distribution(sim, np.broadcast_to(sigma, (3, 30, 4)), n, rng)
    assert np.all(within_bound(freq, rg.state_distribution(g, sigma), n))


def test_default_features_are_one_hot_of_step_and_state(game):
    sim = game.simulator()
    s = np.array([0, 5, 11, 5])
    x = sim.observe(s, 3)
    assert x.shape == (4, game.horizon * game.num_states)
    assert np.all(x.sum(axis=1) == 1)
    np.testing.assert_array_equal(np.argmax(x, axis=1), 3 * game.num_states + s)


def test_seeded_generator_reproduces_rollouts(game):
    sim = game.simulator()

    def run(seed):
        rng = np.random.default_rng(seed)
        s = sim.reset(rng, 50)
        out = [s]
        for _ in range(game.horizon - 1):
            s = sim.step(s, rng.integers(0, game.num_joint_actions, 50), rng)
            out.append(s)
        return np.stack(out)

    np.testing.assert_array_equal(run(11), run(11))
    assert not np.array_equal(run(11), run(12))


def test_step_agrees_with_rollout_sampler(game):
    """Same uniforms, same successors as data.rollout's use of the CSR sampler."""
    sim = game.simulator()
    s = np.repeat(np.arange(game.num_states), 3)
    a = np.tile(np.arange(3), game.num_states)
    nxt = sim.step(s, a, np.random.default_rng(5))
    u = np.random.default_rng(5).random(s.size)
    t = game.transition_tensor()[s, a]  # [n, S]
    expect = np.minimum((np.cumsum(t, axis=1) <= u[:, None]).sum(axis=1), game.num_states - 1)
    np.testing.assert_array_equal(nxt, expect)
    assert np.all(t[np.arange(s.size), nxt] > 0)


def test_zero_probability_successors_never_drawn():
    t = np.zeros((3, 2, 3))
    t[:, 0, 2] = 1.0
    t[:, 1, 0] = 0.5
    t[:, 1, 2] = 0.5
    g = rg.MarkovGame(t, np.zeros((2, 3, 2)), np.array([0.0, 0.0, 1.0]), 2, (2, 1))
    sim = g.simulator()
    rng = np.random.default_rng(0)
    assert np.all(sim.reset(rng, 1000) == 2)
    nxt = sim.step(np.full(1000, 2), np.ones(1000, dtype=int), rng)
    assert set(np.unique(nxt)) == {0, 2}


# ---------------------------------------------------------------------------------------
# utilities are structurally out of the simulator's reach


def _reachable(obj, depth=4):
    """Every object reachable from ``obj`` through references, up to ``depth`` hops."""
    seen, frontier = {id(obj): obj}, [obj]
    for _ in range(depth):
        nxt = []
        for o in frontier:
            for r in gc.get_referents(o):
                if id(r) not in seen and not isinstance(r, type):
                    seen[id(r)] = r
                    nxt.append(r)
        frontier = nxt
    return list(seen.values())


def test_simulator_has_no_path_to_rewards(game):
    sim = game.simulator(np.ones((game.num_states, 2)))
    for name in ("rewards", "reward", "utilities", "game", "r"):
        assert not hasattr(sim, name)
    for v in vars(sim).values():
        assert not isinstance(v, rg.MarkovGame)
    for o in _reachable(sim):
        assert not isinstance(o, rg.MarkovGame)
        if isinstance(o, np.ndarray):
            assert not np.shares_memory(o, game.rewards)
    # the search itself can fail: the utilities object does reach the reward array
    assert any(
        isinstance(o, np.ndarray) and np.shares_memory(o, game.rewards)
        for o in _reachable(game_utilities(game))
    )


def test_simulator_is_reward_blind(game):
    """Two games differing only in rewards give identical simulations."""
    other = game.with_rewards(-game.rewards)
    runs = []
    for g in (game, other):
        rng = np.random.default_rng(9)
        sim = g.simulator()
        s = sim.reset(rng, 30)
        runs.append(sim.step(s, rng.integers(0, g.num_joint_actions, 30), rng))
    np.testing.assert_array_equal(*runs)


def test_utilities_give_rewards(game):
    u = game_utilities(game)
    assert isinstance(u, rg.Utilities) and u.num_agents == 2
    s, a = np.array([1, 4, 4]), np.array([0, 5, 2])
    np.testing.assert_array_equal(u.reward(s, a), game.rewards[:, s, a].T)
    with pytest.raises(rg.ValidationError, match="outside"):
        u.reward(s, np.array([0, 6, 2]))


# ---------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    ("states", "actions", "match"),
    [
        (np.array([0, 1]), np.array([0, 1, 2]), r"shape \[n\] = \(2,\)"),
        (np.array([0, 1]), np.array([0, 6]), r"joint_actions\[1\] = 6 is outside 0..5"),
        (np.array([0, 1]), np.array([-1, 0]), r"joint_actions\[0\] = -1"),
        (np.array([0, 1]), np.array([0.0, 1.0]), "must be integers"),
        (np.array([0, 12]), np.array([0, 1]), r"states\[1\] = 12 is outside 0..11"),
        (np.array([[0, 1]]), np.array([0, 1]), r"non-empty \[n\] batch"),
        (np.array([0.5]), np.array([0]), "integer state indices"),
    ],
)
def test_step_rejects_bad_batches(game, states, actions, match):
    with pytest.raises(rg.ValidationError, match=match):
        game.simulator().step(states, actions, np.random.default_rng(0))


def test_bad_arguments(game):
    sim = game.simulator()
    with pytest.raises(rg.ValidationError, match=r"numpy\.random\.Generator"):
        sim.reset(0, 3)
    with pytest.raises(rg.ValidationError, match="positive integer"):
        sim.reset(np.random.default_rng(0), 0)
    with pytest.raises(rg.ValidationError, match=r"0..4"):
        sim.observe(np.array([0]), 5)
    with pytest.raises(rg.ValidationError, match=r"\[S, d\] or \[H, S, d\]"):
        game.simulator(np.ones((game.num_states + 1, 3)))
    bad = np.ones((game.num_states, 3))
    bad[4, 1] = np.nan
    with pytest.raises(rg.ValidationError, match=r"state 4, column 1"):
        game.simulator(bad)


def test_check_simulator_catches_broken_simulators(game):
    base = game.simulator()

    class NaNFeatures:
        num_actions = base.num_actions
        horizon = base.horizon
        reset = base.reset
        step = base.step

        def observe(self, states, h):
            x = base.observe(states, h)
            if h == 2:
                x[0, 0] = np.nan
            return x

    class Shrinks(NaNFeatures):
        def observe(self, states, h):
            return base.observe(states, h)

        def step(self, states, joint_actions, rng):
            return base.step(states, joint_actions, rng)[:-1]

    rng = np.random.default_rng(0)
    with pytest.raises(rg.ValidationError, match="observe at h = 2"):
        check_simulator(NaNFeatures(), rng=rng)
    with pytest.raises(rg.ValidationError, match=r"step \(to h = 1\) returned 1 states"):
        check_simulator(Shrinks(), rng=rng)
    with pytest.raises(rg.ValidationError, match=r"lacks \['observe'\]"):

        class NoObserve:
            num_actions, horizon = (2,), 1

            def reset(self, rng, n): ...

            def step(self, s, a, rng): ...

        check_simulator(NoObserve(), rng=rng)


def test_table_simulator_direct_construction_is_frozen(game):
    sim = game.simulator()
    assert isinstance(sim, TableSimulator)
    assert sp.issparse(sim.transitions)
    with pytest.raises(AttributeError):
        sim.horizon = 3


def test_per_agent_actions_get_a_hint_and_other_shapes_do_not(game):
    sim, rng = game.simulator(), np.random.default_rng(0)
    states = np.array([0, 1])
    with pytest.raises(rg.ValidationError, match=r"per-agent actions \[n, m\]\?") as err:
        sim.step(states, np.array([[0, 1], [1, 2]]), rng)  # [n, m] with n = 2
    assert "np.ravel_multi_index" in str(err.value)
    for shape in [(3, 2), (3,), (2, 2, 1), (1, 2)]:  # not [n, m]: no hint
        actions = np.zeros(shape, dtype=int)
        with pytest.raises(rg.ValidationError) as err:
            sim.step(states, actions, rng)
        assert "per-agent" not in str(err.value), shape


def test_user_features_widths_and_shapes(game):
    H, S = game.horizon, game.num_states
    one = game.simulator(np.arange(S, dtype=float)[:, None])  # one column is enough
    assert one.num_features == 1
    np.testing.assert_array_equal(one.observe(np.array([3, 5]), 2), [[3.0], [5.0]])
    with pytest.raises(rg.ValidationError, match="at least one column"):
        game.simulator(np.ones((S, 0)))
    with pytest.raises(rg.ValidationError, match="at least one column"):
        game.simulator(np.ones((H, S, 0)))
    for shape in [(H, S + 1, 2), (H + 1, S, 2), (H, S, 2, 1), (S,)]:
        with pytest.raises(rg.ValidationError, match=r"\[S, d\] or \[H, S, d\]"):
            game.simulator(np.ones(shape))


@pytest.mark.parametrize("per_step", [False, True])
def test_user_features_are_a_read_only_copy(game, per_step):
    H, S = game.horizon, game.num_states
    table = np.ones((H, S, 2) if per_step else (S, 2))
    sim = game.simulator(table)
    table[...] = 7.0  # the caller's later edits do not leak in
    assert not sim.features.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        sim.features[0, 0, 0] = 5.0
    assert np.all(sim.features == 1.0)


def test_simulators_compare_and_hash_by_identity(game):
    a, b = game.simulator(), game.simulator()
    assert a == a and a != b  # eq=False: array fields are not compared element-wise
    assert len({a, b, a}) == 2


def test_check_simulator_rejects_every_wrong_observe_shape(game):
    base = game.simulator()

    def broken(observe):
        return type(
            "Broken",
            (),
            {
                "num_actions": base.num_actions,
                "horizon": base.horizon,
                "reset": staticmethod(base.reset),
                "step": staticmethod(base.step),
                "observe": staticmethod(observe),
            },
        )()

    rng = np.random.default_rng(0)
    cases = {
        "a vector": lambda s, h: base.observe(s, h)[:, 0],
        "a row short": lambda s, h: base.observe(s, h)[:-1],
        "wider at h = 3": lambda s, h: np.hstack([base.observe(s, h)] * (2 if h == 3 else 1)),
    }
    for why, observe in cases.items():
        with pytest.raises(rg.ValidationError, match=r"observe at h = \d returned") as err:
            check_simulator(broken(observe), rng=rng, n=2)
        if why == "wider at h = 3":
            assert "observe at h = 3" in str(err.value)


def test_check_simulator_steps_exactly_h_minus_1_times(game):
    base = game.simulator()
    calls = []

    class Counting:
        num_actions, horizon = base.num_actions, base.horizon
        reset, observe = base.reset, base.observe

        def step(self, states, joint_actions, rng):
            calls.append(len(states))
            return base.step(states, joint_actions, rng)

    assert check_simulator(Counting(), rng=np.random.default_rng(0), n=3) == base.num_features
    assert calls == [3] * (base.horizon - 1)


def test_the_first_non_finite_feature_is_named(game):
    table = np.ones((game.horizon, game.num_states, 3))
    table[3, 0, 0] = np.inf
    table[2, 4, 1] = np.nan  # first in (step, state, column) order
    with pytest.raises(rg.ValidationError, match=r"features\[2, 4, 1\] is nan.*step 2, state 4"):
        game.simulator(table)
