"""Learners against what their algorithms prescribe, on cases where a plausible wrong
version gives another answer: BLADES started from demonstrations on the Theorem 4.5 game
(it must query the state only a deviation reaches), and MALICE's follow-the-leader refit
on the weighted counts summed over rounds, re-implemented here with a shared-parameter
class (with a tabular class the weights cancel and every aggregation looks alike)."""

from __future__ import annotations

import numpy as np
import pytest
from strategies import dense_random_game

import regretgap as rg
from regretgap.games import random_game, theorem_4_5


class RecordingExpert(rg.QueryableExpert):
    """A queryable expert that also records which ``(h, s)`` it was asked about."""

    def __init__(self, sigma):
        super().__init__(sigma)
        self.asked = set()

    def query(self, h, s):
        pairs = np.broadcast_arrays(np.asarray(h), np.asarray(s))
        self.asked |= set(zip(pairs[0].ravel().tolist(), pairs[1].ravel().tolist(), strict=True))
        return super().query(h, s)


@pytest.mark.parametrize("seed", range(3))
def test_blades_from_demonstrations_queries_s1_and_closes_the_regret_gap(seed):
    """Theorem 4.5 game, H = 9, BLADES initialised from expert demonstrations. The data
    never visits s_1 (state 1, step 1): only agent 1's deviation a1 -> a2 at s_0 reaches it.
    BLADES's adversary must steer its roll-ins there (a never-queried state counts as loss
    1) and query the expert, whose answer a3a3 removes the deviation's payoff: regret gap 0.
    J-BC on the same data keeps the uniform row at s_1 and the gap (H - 2) / 3 = 7/3."""
    horizon = 9
    c = theorem_4_5(horizon)
    rng = np.random.default_rng(seed)
    demos = rg.sample_trajectories(c.game, c.expert, 200, rng=rng)
    assert not np.any(demos.states[:, 1] == 1)  # s_1 is uncovered
    assert rg.regret_gap(c.game, c.expert, rg.jbc(c.game, demos).policy) == pytest.approx(7 / 3)
    expert = RecordingExpert(c.expert)
    res = rg.blades(c.game, expert, rng=rng, demos=demos, rounds=2, rollouts=16)
    assert (1, 1) in expert.asked
    assert res.history.agent[0] == 0  # only agent 0's a1 -> a2 reaches s_1
    assert res.queries == expert.queries > 0
    assert rg.regret_gap(c.game, c.expert, res.policy) == 0.0
    np.testing.assert_array_equal(res.policy[1, 1], c.expert[1])  # a3a3


# ---------------------------------------------------------------------------------------
# MALICE: follow-the-leader on the summed importance-weighted counts


def _tv(p, q):
    return 0.5 * np.abs(p - q).sum(axis=-1)


def _malice_iterates(game, counts, cls, rounds, aggregate):
    """MALICE's iterates, per-round losses, largest weights and worst agents (Algorithm 1
    with eq. 6).

    ``aggregate="sum"`` refits on ``sum_{k<=n} w_k * counts`` (follow-the-leader);
    ``"last"`` on ``w_n * counts`` only (the wrong version the library must not be).
    """
    horizon, m = game.horizon, game.num_agents
    n_train = counts.sum() / horizon
    visits = counts.sum(axis=-1)
    covered = visits > 0
    d_expert = visits / n_train
    emp = counts / np.where(covered, visits, 1.0)[..., None]
    iterates, losses, weights, agents = [cls.fit(counts)], [], [], []
    total = np.zeros_like(counts)
    for _ in range(rounds):
        sigma = iterates[-1]
        ell = np.where(covered, _tv(emp, sigma), 0.0)  # [H, S]
        # the deviation maximising E_{d^{pi_{sigma,phi}}} sum_h ell_h: a best response to
        # the state reward ell for each agent
        f = np.broadcast_to(ell[:, None, :, None], (horizon, m, *counts.shape[1:]))
        brs = [rg.best_response(game, sigma, i, reward=f) for i in range(m)]
        worst = int(np.argmax([br.value for br in brs]))
        agents.append(worst)
        losses.append(brs[worst].value / horizon)
        played = rg.apply_deviation(game, sigma, worst, brs[worst].deviation)
        d_dev = rg.state_distribution(game, played)
        w = np.where(covered, d_dev / np.where(covered, d_expert, 1.0), 0.0)
        weights.append(w.max())
        total = total + w[..., None] * counts if aggregate == "sum" else w[..., None] * counts
        iterates.append(cls.fit(total))
    return iterates, losses, weights, agents


def test_malice_refits_on_weighted_counts_summed_over_rounds():
    rng = np.random.default_rng(0)
    game = random_game(8, (2, 2), 3, rng=rng, branching=8)  # dense: coverage holds
    expert = rg.markov_ce(game, objective="random", rng=rng)
    expert = 0.6 * expert + 0.4 / game.num_joint_actions
    features = rng.normal(size=(game.num_states, game.num_joint_actions, 3))
    cls = rg.LogLinear(features, l2=1e-2)
    demos = rg.as_demonstrations(rg.sample_trajectories(game, expert, 400, rng=rng))
    rounds = 4
    res = rg.malice(game, demos, rng=np.random.default_rng(1), rounds=rounds, policy_class=cls)
    train, _ = demos.split(0.2, np.random.default_rng(1))  # the split malice made
    counts = train.counts(game)
    iterates, losses, weights, agents = _malice_iterates(game, counts, cls, rounds, "sum")
    np.testing.assert_allclose(res.history.loss, losses, rtol=1e-9, atol=1e-12)
    assert res.history.agent == tuple(agents)
    np.testing.assert_allclose(res.history.max_weight, weights, rtol=1e-9)
    np.testing.assert_allclose(res.policy, iterates[res.best_round], atol=1e-9)
    # the comparison can fail: refitting on the last round's weights only (not
    # follow-the-leader) gives other iterates from the second refit on
    _, last_losses, _, _ = _malice_iterates(game, counts, cls, rounds, "last")
    assert np.max(np.abs(np.subtract(last_losses, losses))) > 1e-4


# ---------------------------------------------------------------------------------------
# J-BC's reported error and J-IRL's reward player


class FixedPolicy:
    """A policy class whose fit ignores the data (to test what J-BC reports)."""

    def __init__(self, sigma):
        self.sigma = sigma

    def fit(self, counts):
        return self.sigma


def test_jbc_reports_the_visit_weighted_tv_error():
    """Visited (h, s): (0, 0) four times (3 x a0, 1 x a1), (1, 1) twice (a1, a1) and (1, 0)
    twice (a0, a0). Against the uniform policy the TV errors are 1/4, 1/2 and 1/2, weighted
    4/8, 2/8, 2/8: bc_error = 3/8; the log-loss is log 2 per recommendation."""
    game = dense_random_game(np.random.default_rng(0), (2,), 2, 2)
    states = np.array([[0, 1]] * 2 + [[0, 0]] * 2)
    actions = np.array([[0, 1], [0, 1], [0, 0], [1, 0]])
    demos = rg.data.Demonstrations(states, actions)
    res = rg.jbc(game, demos, policy_class=FixedPolicy(rg.uniform_policy(game)))
    assert res.history.bc_error == pytest.approx(3 / 8, abs=1e-12)
    assert res.history.log_loss == pytest.approx(np.log(2), abs=1e-12)


def test_jirl_reward_player_stays_in_its_class():
    """Tabular rewards are clipped to [-1, 1] (a large step makes the clip bind); linear
    rewards are f = phi w with |w|_2 <= 1 (projected)."""
    rng = np.random.default_rng(0)
    game = random_game(6, (2, 2), 3, rng=rng, branching=3)
    demos = rg.sample_trajectories(game, rg.uniform_policy(game), 200, rng=rng)
    tab = rg.jirl(game, demos, rng=np.random.default_rng(1), rounds=5, step_size=50.0)
    assert tab.reward.min() >= -1.0 and tab.reward.max() == 1.0
    assert len(tab.history.moment_error) == len(tab.history.validation) == 5
    assert tab.history.validation[tab.best_round] == min(tab.history.validation)
    phi = rng.normal(size=(game.num_states, game.num_joint_actions, 3))
    lin = rg.jirl(
        game, demos, rng=np.random.default_rng(1), rounds=5, step_size=50.0, reward_features=phi
    )
    w, *_ = np.linalg.lstsq(phi.reshape(-1, 3), lin.reward.ravel(), rcond=None)
    np.testing.assert_allclose(phi @ w, lin.reward, atol=1e-9)
    assert np.linalg.norm(w) == pytest.approx(1.0, abs=1e-9)  # the projection binds


def test_jirl_matches_the_expert_occupancy():
    """Algorithm 3 drives the learner's step-summed occupancy towards the expert's: from
    the uniform start (error about 1.35 here) to well under a tenth of it, measured against
    the exact expert occupancy, and its history reports the same."""
    rng = np.random.default_rng(0)
    game = random_game(6, (2, 2), 3, rng=rng, branching=3)
    expert = rg.markov_ce(game, objective="random", rng=rng)
    demos = rg.sample_trajectories(game, expert, 2000, rng=rng)
    res = rg.jirl(game, demos, rng=np.random.default_rng(1), rounds=30)

    def error(sigma):
        diff = rg.occupancy(game, expert).sum(0) - rg.occupancy(game, sigma).sum(0)
        return np.abs(diff).sum() / game.horizon

    start = error(rg.uniform_policy(game))
    assert start > 1.0
    assert error(res.policy) < 0.1 * start
    assert res.history.moment_error[res.best_round] < 0.1 * res.history.moment_error[0]
    assert res.history.validation[res.best_round] < 0.1 * res.history.validation[0]
    assert len(res.history.reward_gap) == 30
    # the reward player's first step from f = 0 against the uniform start, re-derived:
    # f_1 = clip(eta (rho_train - rho_uniform), -1, 1), gain <rho_train - rho_0, f_1> / H
    one = rg.jirl(game, demos, rng=np.random.default_rng(1), rounds=1, step_size=2.0)
    train, _ = rg.as_demonstrations(demos).split(0.2, np.random.default_rng(1))
    rho_train = train.counts(game).sum(axis=0) / len(train)
    grad = rho_train - rg.occupancy(game, rg.uniform_policy(game)).sum(axis=0)
    f = np.clip(2.0 * grad, -1.0, 1.0)
    np.testing.assert_allclose(one.reward, f, atol=1e-12)
    assert one.history.reward_gap[0] == pytest.approx((grad * f).sum() / game.horizon)


def test_blades_and_malice_pass_their_options_on():
    """BLADES fits the policy class it is given (stationary features: the same policy at
    every step, which the tabular fit of these data is not), and MALICE's adversary
    optimises over the class named by ``kind`` (the swap class, state-independent maps,
    finds a smaller loss than the complete per-step class)."""
    rng = np.random.default_rng(3)
    game = random_game(8, (2, 2), 3, rng=rng, branching=8)
    expert = 0.6 * rg.markov_ce(game, objective="random", rng=rng) + 0.1
    demos = rg.sample_trajectories(game, expert, 300, rng=rng)
    features = rng.normal(size=(game.num_states, game.num_joint_actions, 2))
    cls = rg.LogLinear(features, l2=1e-2)
    for policy_class, stationary in [(cls, True), (None, False)]:
        res = rg.blades(
            game,
            rg.QueryableExpert(expert),
            rng=np.random.default_rng(0),
            demos=demos,
            rounds=1,
            policy_class=policy_class,
        )
        assert np.allclose(res.policy[0], res.policy[1], atol=1e-12) == stationary
    losses = {
        kind: rg.malice(
            game, demos, rng=np.random.default_rng(1), rounds=2, policy_class=cls, kind=kind
        ).history.loss
        for kind in ("ce", "swap")
    }
    assert all(w < c - 1e-3 for w, c in zip(losses["swap"], losses["ce"], strict=True))


# ---------------------------------------------------------------------------------------
# MALICE's and ALICE's losses, weights and options, against brute force


def _brute_force_malice_loss(game, sigma, counts):
    """``max_phi E_{d^{pi_{sigma, phi}}}[ell] / H`` per agent by enumerating every
    deterministic per-step deviation table (``n_i^(H S n_i)`` of them), with
    ``ell = TV(emp, sigma)`` on covered ``(h, s)`` and 0 elsewhere; and ``ell``."""
    import itertools

    visits = counts.sum(axis=-1)
    covered = visits > 0
    emp = counts / np.where(covered, visits, 1.0)[..., None]
    ell = np.where(covered, _tv(emp, sigma), 0.0)
    horizon, num_states = game.horizon, game.num_states
    values = []
    for i, n in enumerate(game.num_actions):
        best = -np.inf
        for flat in itertools.product(range(n), repeat=horizon * num_states * n):
            phi = np.array(flat).reshape(horizon, num_states, n)
            d = rg.state_distribution(game, rg.apply_deviation(game, sigma, i, phi))
            best = max(best, float((d * ell).sum()))
        values.append(best / horizon)
    return np.array(values), ell


def _two_agent_case():
    """2 agents x 2 actions, 2 states, H = 2; state 1 at step 1 has no data, and the
    mediator reaches it with probability 0.76 (seed 28 of dense_random_game)."""
    rng = np.random.default_rng(28)
    game = dense_random_game(rng, (2, 2), 2, 2)
    sigma = rng.dirichlet(np.ones(4), size=(2, 2))
    counts = rng.integers(0, 4, size=(2, 2, 4)).astype(np.float64)
    counts[1, 1] = 0.0
    return game, sigma, counts


def test_malice_loss_is_the_worst_agents_and_ignores_uncovered_states():
    """Eq. (6) by enumeration of the 256 deviation tables of each agent: agent 1's loss is
    the larger, and the uncovered (h, s) = (1, 1) contributes 0 (TV against no data would be
    1/2 there). ALICE's loss is the mediator's own ``E_{d^{sigma}}[ell] / H``."""
    from regretgap.learners.reweighting import alice_loss, malice_loss

    game, sigma, counts = _two_agent_case()
    brute, ell = _brute_force_malice_loss(game, sigma, counts)
    assert brute[1] > brute[0] + 0.1  # agent 1 is the worst, by a margin
    loss, agent, phi = malice_loss(game, sigma, counts)
    assert agent == 1
    assert loss == pytest.approx(brute[1], abs=1e-12)
    # the returned deviation attains the loss
    d_dev = rg.state_distribution(game, rg.apply_deviation(game, sigma, 1, phi))
    assert float((d_dev * ell).sum()) / game.horizon == pytest.approx(loss, abs=1e-12)
    d = rg.state_distribution(game, sigma)
    assert d[1, 1] > 0.7  # the uncovered state matters to both losses
    assert alice_loss(game, sigma, counts) == pytest.approx((d * ell).sum() / 2, abs=1e-12)


def test_malice_and_alice_check_max_weight_and_record_agents():
    """``max_weight`` must be positive (the message names it); ALICE has no deviating
    agent (``history.agent`` is -1 each round)."""
    game = dense_random_game(np.random.default_rng(0), (2, 2), 3, 3, sparsity=0.0)
    demos = rg.sample_trajectories(game, rg.uniform_policy(game), 300, rng=np.random.default_rng(1))
    for learner in (rg.malice, rg.alice):
        for bad in (0.0, -1.0):
            with pytest.raises(ValueError, match=f"max_weight must be > 0, got {bad}"):
                learner(game, demos, rng=np.random.default_rng(0), max_weight=bad)
    res = rg.alice(game, demos, rng=np.random.default_rng(0), rounds=2)
    assert res.history.agent == (-1, -1)


def test_malice_caps_weights_only_with_clip_weights():
    """Under coverage the deviation's state distribution puts all its mass on covered
    states, so at each step ``sum_s d_dev(s) = sum_s d_E(s) = 1`` and the largest weight is
    >= 1. ``max_weight = 0.5`` then caps every round's largest weight at exactly 0.5 with
    ``clip_weights=True`` and changes nothing without it."""
    game = dense_random_game(np.random.default_rng(0), (2, 2), 3, 3, sparsity=0.0)
    expert = 0.5 * rg.uniform_policy(game) + 0.5 * np.eye(4)[[0, 3, 1]]  # [S, A]
    demos = rg.sample_trajectories(game, expert, 400, rng=np.random.default_rng(1))

    def run(**options):
        return rg.malice(game, demos, rng=np.random.default_rng(0), rounds=2, **options)

    free, capped_off, capped = run(), run(max_weight=0.5), run(max_weight=0.5, clip_weights=True)
    assert min(free.history.max_weight) >= 1.0
    assert capped_off.history == free.history
    assert capped.history.max_weight == (0.5, 0.5)


def test_jirl_step_size_must_be_positive():
    """``step_size = 0`` is rejected (a reward player that never moves); any positive step
    runs, and the first reward is ``clip(step_size * (rho_train - rho_uniform), -1, 1)``."""
    game = dense_random_game(np.random.default_rng(0), (2, 2), 3, 3)
    demos = rg.sample_trajectories(game, rg.uniform_policy(game), 50, rng=np.random.default_rng(1))
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="step_size must be > 0"):
            rg.jirl(game, demos, rng=np.random.default_rng(1), step_size=bad)
    res = rg.jirl(game, demos, rng=np.random.default_rng(1), rounds=1, step_size=0.5)
    train, _ = rg.as_demonstrations(demos).split(0.2, np.random.default_rng(1))
    grad = train.counts(game).sum(axis=0) / len(train)
    grad = grad - rg.occupancy(game, rg.uniform_policy(game)).sum(axis=0)
    np.testing.assert_allclose(res.reward, np.clip(0.5 * grad, -1.0, 1.0), atol=1e-12)
