"""Exact evaluation against references computed inside the tests: brute-force trajectory
enumeration (value gap), path enumeration (reachability), hand-derived games (the CCE
class's obey member, recoverability's worst response) and a CLT bound for Monte Carlo.

Each case is built so that a plausible wrong implementation gives a different answer; the
tests assert that the wrong answer differs, so they can fail."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import reference as ref
from strategies import dense_random_game, random_policy

import regretgap as rg
from regretgap.games import matrix_game

ATOL = 1e-10

# ---------------------------------------------------------------------------------------
# value gap (Definition 4.1, eq. 4) against brute-force enumeration of trajectories


def _values_by_enumeration(game, sigma):
    """``J_i`` as ``sum_paths P(path) sum_h r_i(s_h, a_h)`` over every (s_0, a_0, ..., a_{H-1})."""
    t = game.transition_tensor()
    r = np.asarray(game.rewards)
    rho = np.asarray(game.initial)
    pol = ref.full_policy(game, sigma)
    s_count, a_count = game.num_states, game.num_joint_actions
    total = np.zeros(game.num_agents)
    for path in itertools.product(range(s_count), range(a_count), repeat=game.horizon):
        states, actions = path[0::2], path[1::2]
        p = rho[states[0]]
        for h in range(game.horizon):
            p *= pol[h, states[h], actions[h]]
            if h + 1 < game.horizon:
                p *= t[states[h], actions[h], states[h + 1]]
            if p == 0.0:
                break
        if p:
            total += p * sum(r[:, states[h], actions[h]] for h in range(game.horizon))
    return total


def test_value_gap_of_an_asymmetric_matrix_game_is_the_max_over_agents():
    """Expert: agent 0 gets 1, agent 1 gets 0; learner: the reverse. Eq. 4 takes the max
    over agents of ``J_i(E) - J_i(L)``: ``max(1, -1) = 1`` (a min would give -1)."""
    payoffs = np.array([[[1.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 1.0]]])
    game = matrix_game(payoffs)
    expert = np.array([[1.0, 0.0, 0.0, 0.0]])  # (a_0, a_1) = (0, 0)
    learner = np.array([[0.0, 0.0, 0.0, 1.0]])  # (1, 1)
    assert rg.value_gap(game, expert, learner) == 1.0
    assert rg.value_gap(game, learner, expert) == 1.0


@pytest.mark.parametrize("seed", range(6))
def test_two_agent_value_gap_equals_trajectory_enumeration(seed):
    rng = np.random.default_rng(seed)
    game = dense_random_game(rng, (2, 2), 3, 3)
    expert, learner = random_policy(rng, game), random_policy(rng, game)
    diff = _values_by_enumeration(game, expert) - _values_by_enumeration(game, learner)
    assert abs(diff[0] - diff[1]) > 1e-3  # asymmetric: max and min over agents differ
    assert rg.value_gap(game, expert, learner) == pytest.approx(diff.max(), abs=ATOL)
    assert rg.value_gap(game, learner, expert) == pytest.approx((-diff).max(), abs=ATOL)


# ---------------------------------------------------------------------------------------
# the CCE class contains the identity ("obey")


def test_cce_obeying_beats_every_constant_deviation():
    """Battle of the sexes with the public coin ``(0,0)``/``(1,1)`` w.p. 1/2: obeying pays
    1.5 to each agent; playing a constant pays 1 or 0.5. Every recommendation-ignoring
    deviation is strictly worse, so the CCE best response is obeying: value 1.5, gain 0,
    the identity table, and regret exactly 0."""
    payoffs = np.array([[[2.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 2.0]]])
    for horizon in (1, 3):
        game = matrix_game(payoffs, horizon=horizon)
        sigma = np.array([[0.5, 0.0, 0.0, 0.5]])
        for i in range(2):
            constants = [
                ref.values(game, ref.played_policy(game, sigma, i, np.full(2, b)))[i]
                for b in range(2)
            ]
            np.testing.assert_allclose(sorted(constants), [0.5 * horizon, 1.0 * horizon])
            br = rg.best_response(game, sigma, i, kind="cce")
            assert br.baseline == pytest.approx(1.5 * horizon, abs=ATOL)
            assert br.value == br.baseline and br.gain == 0.0
            np.testing.assert_array_equal(br.deviation, rg.identity_deviation(game, i))
        rep = rg.regret(game, sigma, kind="cce")
        assert rep.value == 0.0
        np.testing.assert_array_equal(rep.per_agent, [0.0, 0.0])
        for i in range(2):
            np.testing.assert_array_equal(rep.deviations[i], rg.identity_deviation(game, i))


# ---------------------------------------------------------------------------------------
# deviation reachability against path enumeration


def _state_distributions(game, sigma):
    """``d_h(s)`` by the dense forward recursion, ``[H, S]``."""
    t, pol = game.transition_tensor(), ref.full_policy(game, sigma)
    d = [np.asarray(game.initial, dtype=float)]
    for h in range(game.horizon - 1):
        d.append(np.einsum("s,sa,sat->t", d[-1], pol[h], t))
    return np.array(d)


def _reachable_by_paths(game, sigma, respect_support=True):
    """``[H, S]``: ``(h, s)`` lies on a path with positive probability under some agent's
    deviation. Agent ``i`` may play any ``b_i``; the others play ``a_-i`` only if the
    mediator recommends it with some ``a_i`` (``respect_support=False`` drops that
    condition: the wrong answer the library must not give)."""
    t = game.transition_tensor()
    pol = ref.full_policy(game, sigma)
    s_count, a_count, horizon = game.num_states, game.num_joint_actions, game.horizon
    out = np.zeros((horizon, s_count), dtype=bool)
    for i in range(game.num_agents):

        def playable(h, s, b, i=i):
            if not respect_support:
                return True
            parts = list(np.unravel_index(b, game.num_actions))
            for a_i in range(game.num_actions[i]):
                parts[i] = a_i
                if pol[h, s, np.ravel_multi_index(parts, game.num_actions)] > 0:
                    return True
            return False

        # every prefix of a feasible path extends to a full one (each state has a successor
        # and each row of sigma a positive entry), so full paths suffice
        steps = [range(s_count)] + [range(a_count), range(s_count)] * (horizon - 1)
        for path in itertools.product(*steps):
            states, actions = path[0::2], path[1::2]
            if game.initial[states[0]] <= 0:
                continue
            if all(
                playable(h, states[h], actions[h]) and t[states[h], actions[h], states[h + 1]] > 0
                for h in range(horizon - 1)
            ):
                out[np.arange(horizon), list(states)] = True
    return out


def test_reachability_matches_path_enumeration_on_sparse_policies():
    """Seeded sparse instances, S = 4..6: one start state, about one successor per
    (s, a), and mostly deterministic recommendations."""
    differs = 0
    for seed in range(16):
        rng = np.random.default_rng(seed)
        num_actions = ((2, 2), (3, 2))[seed % 2]
        num_states, horizon = 4 + seed % 3, 4 if seed % 4 == 0 else 3
        base = dense_random_game(rng, num_actions, num_states, horizon, sparsity=0.9)
        start = np.eye(num_states)[0]
        game = rg.MarkovGame(base.transition_tensor(), base.rewards, start, horizon, num_actions)
        sigma = random_policy(rng, game, zeros=0.9)
        expected = _reachable_by_paths(game, sigma)
        np.testing.assert_array_equal(rg.deviation_reachable(game, sigma), expected)
        cov = rg.coverage(game, sigma)
        np.testing.assert_array_equal(cov.reachable, expected)
        # beta and the state attaining it, over the states some deviation reaches
        avg = _state_distributions(game, sigma).mean(axis=0)
        states = np.flatnonzero(expected.any(axis=0))
        assert cov.state in states and avg[cov.state] == pytest.approx(avg[states].min())
        assert cov.beta == pytest.approx(avg[states].min(), abs=ATOL)
        differs += not np.array_equal(expected, _reachable_by_paths(game, sigma, False))
    # the policy's support matters on these instances: ignoring it gives another answer
    assert differs >= 4


# ---------------------------------------------------------------------------------------
# recoverability: the worst response attains the lower bound


def test_recoverability_lower_bound_attained_only_by_the_worst_response():
    """One agent, two actions, H = 2. From s_0, action 0 leads to s_1 (rewards (0, -1)),
    action 1 to s_2 (rewards (1, 1)); the expert mixes 1/2-1/2 everywhere.

    At (h, s) = (0, s_0) the advantage of action 1 is ``1 - V_0``: the worst response plays
    action 0 then action 1 (``V_0 = -1``: advantage 2); the best response has ``V_0 = 1``,
    ``Q = (0, 1)``: largest advantage 1; obeying has ``Q = (-1/2, 1)``, ``V_0 = 1/4``:
    largest advantage 3/4 at step 0 and 1/2 at step 1. So ``u = 2``, attained only by the
    worst response, and the upper bound ``max Qmax - min Qmin = 1 - (-1)`` is also 2."""
    t = np.zeros((3, 2, 3))
    t[0, 0, 1] = t[0, 1, 2] = 1.0
    t[1, :, 1] = t[2, :, 2] = 1.0
    r = np.zeros((1, 3, 2))
    r[0, 1] = [0.0, -1.0]
    r[0, 2] = [1.0, 1.0]
    game = rg.MarkovGame(t, r, np.array([1.0, 0.0, 0.0]), 2, (2,))
    sigma = np.full((3, 2), 0.5)
    rec = rg.recoverability(game, sigma)
    assert rec.lower == 2.0 and rec.upper == 2.0
    assert rec.witness == (0, 0, 0, 1)
    mask = game.reachable[..., None]
    best = rg.best_response(game, sigma, 0).deviation
    for phi, largest in [(np.arange(2), 0.75), (best, 1.0)]:
        adv = ref.advantages(game, ref.played_policy(game, sigma, 0, phi), 0)
        assert np.where(mask, adv, 0.0).max() == pytest.approx(largest, abs=ATOL)
    # u itself, by enumerating every deterministic per-step deviation table
    u = max(
        np.where(mask, ref.advantages(game, ref.played_policy(game, sigma, 0, phi), 0), 0).max()
        for phi in ref.all_per_step_deviations(game, 0)
    )
    assert u == pytest.approx(2.0, abs=ATOL)


# ---------------------------------------------------------------------------------------
# Monte Carlo within a CLT bound


Z = 4.0  # P(|N(0, 1)| > 4) = 6.3e-5


@pytest.mark.parametrize("seed", range(3))
def test_monte_carlo_mean_within_four_standard_errors(seed):
    """|MC mean - J_i| <= 4 standard errors for each agent. For a fresh random seed the
    false-failure probability is about 2 * 6.3e-5 = 1.3e-4 per case (normal approximation,
    union over the 2 agents; the fixed seeds make the run deterministic). The bound is
    several times tighter than Hoeffding's at delta = 1e-4, so it catches smaller biases."""
    rng = np.random.default_rng(100 + seed)
    game = dense_random_game(rng, (2, 3), 4, 5)
    sigma = random_policy(rng, game)
    exact = rg.values(game, sigma)
    est = rg.monte_carlo_values(game, sigma, 20_000, rng=rng)
    assert np.all(np.abs(est.mean - exact) <= Z * est.stderr)
    assert np.all(Z * est.stderr < est.hoeffding_halfwidth(1e-4) / 3)
    # and it can fail: a bias of 0.1 (1% of the return range) is detected
    assert np.all(np.abs(est.mean - (exact + 0.1)) > Z * est.stderr)


def test_recoverability_of_the_second_agent_with_time_dependent_and_scaled_rewards():
    """The game above with the start state relabelled 2 and the choice given to agent 1
    (agent 0 has one action): only agent 1's worst response attains u = 2, at
    ``(agent, h, s, a) = (1, 0, 2, 1)``. Rewards scaled by 1/4 scale u to 1/2; the same
    reward as ``[H, m, S, A]`` gives the same bracket; zero rewards give u = 0."""
    t = np.zeros((3, 2, 3))
    t[2, 0, 0] = t[2, 1, 1] = 1.0
    t[0, :, 0] = t[1, :, 1] = 1.0
    r = np.zeros((2, 3, 2))
    r[1, 0] = [0.0, -1.0]
    r[1, 1] = [1.0, 1.0]
    game = rg.MarkovGame(t, r, np.array([0.0, 0.0, 1.0]), 2, (1, 2))
    sigma = np.full((3, 2), 0.5)
    rec = rg.recoverability(game, sigma)
    assert (rec.lower, rec.upper, rec.witness) == (2.0, 2.0, (1, 0, 2, 1))
    small = rg.recoverability(game, sigma, reward=r / 4)
    assert (small.lower, small.upper, small.witness) == (0.5, 0.5, (1, 0, 2, 1))
    timed = rg.recoverability(game, sigma, reward=np.stack([r, r]))
    assert (timed.lower, timed.upper, timed.witness) == (2.0, 2.0, (1, 0, 2, 1))
    zero = rg.recoverability(game, sigma, reward=np.zeros_like(r))
    assert (zero.lower, zero.upper, zero.witness) == (0.0, 0.0, (0, 0, 2, 0))


# ---------------------------------------------------------------------------------------
# the deviation classes apart: CCE < swap on a game where flipping pays


def _flip_game():
    """Agent 0 is paid 1 for not matching agent 1; the mediator says (0, 0) or (1, 1) with
    probability 1/2. Obeying pays 0, either constant pays 1/2, the flip a -> 1 - a pays 1."""
    payoffs = np.zeros((2, 2, 2))
    payoffs[0] = [[0.0, 1.0], [1.0, 0.0]]
    return matrix_game(payoffs), np.array([[0.5, 0.0, 0.0, 0.5]])


def test_cce_swap_and_finite_classes_differ_where_they_should():
    game, sigma = _flip_game()
    np.testing.assert_array_equal(rg.regret(game, sigma, kind="cce").per_agent, [0.5, 0.0])
    np.testing.assert_array_equal(rg.regret(game, sigma, kind="swap").per_agent, [1.0, 0.0])
    np.testing.assert_array_equal(rg.regret(game, sigma).per_agent, [1.0, 0.0])
    anti = np.array([[0, 0.5, 0.5, 0]])  # agent 0 always paid: no one regrets anything
    assert rg.regret_gap(game, anti, sigma, kind="cce") == 0.5
    assert rg.regret_gap(game, anti, sigma, kind="swap") == 1.0
    assert rg.regret_gap(game, sigma, anti, kind="cce") == -0.5
    assert rg.regret_gap(game, sigma, anti, kind="swap") == -1.0
    flip, const = np.array([1, 0]), np.array([0, 0])
    for tables, best, value in [
        ([const, flip], flip, 1.0),
        ([flip, const], flip, 1.0),
        ([const, np.array([1, 1])], const, 0.5),
        ([np.array([0, 1])], np.array([0, 1]), 0.0),  # only obeying: the identity
    ]:
        br = rg.best_response(game, sigma, 0, kind=tables)
        assert br.value == value and br.agent == 0
        np.testing.assert_array_equal(br.deviation, rg.as_deviation(game, 0, best))
    br = rg.best_response(game, sigma, 0, kind="swap")
    np.testing.assert_array_equal(br.deviation, rg.as_deviation(game, 0, flip))
    assert rg.best_response(game, sigma, 1, kind="cce").agent == 1


def test_reward_and_kind_arguments_reach_every_quantity():
    rng = np.random.default_rng(7)
    game = dense_random_game(rng, (2, 2), 3, 3)
    expert, learner = random_policy(rng, game), random_policy(rng, game)
    f = rng.uniform(-1, 1, size=game.rewards.shape)
    diff = ref.values(game, expert, f) - ref.values(game, learner, f)
    assert rg.value_gap(game, expert, learner, reward=f) == pytest.approx(diff.max(), abs=ATOL)
    stacked = np.stack([f] * game.horizon)
    vf, vf_stacked = (
        rg.value_functions(game, learner, reward=f),
        rg.value_functions(game, learner, reward=stacked),
    )
    np.testing.assert_allclose(vf_stacked.q, vf.q, atol=ATOL)
    np.testing.assert_allclose(game.initial @ vf.v[0].T, ref.values(game, learner, f), atol=ATOL)
    # Q_{i,H-1}(s, a) = f_i(s, a): the last step's Q is the reward itself
    np.testing.assert_allclose(vf.q[-1], f, atol=ATOL)


@pytest.mark.parametrize(
    "call",
    [
        lambda g, bad, ok: rg.value_gap(g, bad, ok),
        lambda g, bad, ok: rg.regret_gap(g, bad, ok),
        lambda g, bad, ok: rg.coverage(g, bad),
        lambda g, bad, ok: rg.recoverability(g, bad),
    ],
)
def test_a_bad_expert_policy_is_named_sigma_expert(call):
    game, ok = _flip_game()
    bad = np.array([[0.5, 0.5, 0.5, 0.5]])
    with pytest.raises(ValueError, match="sigma_expert"):
        call(game, bad, ok)


def test_a_non_finite_reward_is_located():
    game, sigma = _flip_game()
    f = np.zeros((2, 1, 4))
    f[1, 0, 2] = np.nan
    with pytest.raises(ValueError, match=r"reward\[1, 0, 2\] is not finite"):
        rg.values(game, sigma, reward=f)


def test_cce_best_response_table_is_the_best_constant():
    """Flip game with the coin biased to (0, 0) w.p. 0.7: playing 1 always pays 0.7,
    playing 0 always pays 0.3, obeying pays 0; the table must say "play 1" everywhere."""
    game, _ = _flip_game()
    sigma = np.array([[0.7, 0.0, 0.0, 0.3]])
    br = rg.best_response(game, sigma, 0, kind="cce")
    assert br.value == pytest.approx(0.7, abs=ATOL)
    np.testing.assert_array_equal(br.deviation, rg.constant_deviation(game, 0, 1))
    played = rg.apply_deviation(game, sigma, 0, br.deviation)
    assert rg.values(game, played)[0] == pytest.approx(br.value, abs=ATOL)
