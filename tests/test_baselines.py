"""DAgger and ALICE (the single-agent analogues), sampled expert answers, and the exact
imitation losses the Table 1 bounds are stated in."""

from __future__ import annotations

import numpy as np
import pytest

import regretgap as rg
from regretgap.experiments.coverage_family import shared_features
from regretgap.games import theorem_4_5, theorem_5_4, theorem_5_8


class Uniform:
    """A policy class that ignores its data: the learner reaches every reachable state."""

    def fit(self, counts: np.ndarray) -> np.ndarray:
        return np.full(counts.shape, 1.0 / counts.shape[-1])


# -- sampled answers ------------------------------------------------------------------


def test_sampled_answers_are_one_hot_draws_from_the_expert():
    c = theorem_5_4(6, 0.2, 0.0, 4)
    expert = rg.QueryableExpert(c.expert, answers="sampled", rng=np.random.default_rng(0))
    n = 20_000
    answers = expert.query(np.zeros(n, dtype=int), np.zeros(n, dtype=int))
    assert answers.shape == (n, 9) and expert.queries == n
    assert np.all(answers.sum(axis=1) == 1) and set(np.unique(answers)) <= {0.0, 1.0}
    freq = answers.mean(axis=0)
    p = c.expert[0]
    # CLT: each frequency within 5 standard errors (false alarm < 6e-7 per entry)
    assert np.all(np.abs(freq - p) <= 5 * np.sqrt(p * (1 - p) / n) + 1e-12)
    assert np.all(freq[p == 0] == 0)  # a zero-probability recommendation is never drawn


def test_distribution_answers_are_the_expert_rows():
    c = theorem_4_5(5)
    expert = rg.QueryableExpert(c.expert)
    np.testing.assert_array_equal(expert.query([1, 2], [1, 3]), c.expert[[1, 3]])
    assert expert.queries == 2


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"answers": "sampled"}, "needs rng"), ({"answers": "votes"}, "answers must be one of")],
)
def test_queryable_expert_rejects_bad_options(kwargs, match):
    with pytest.raises(rg.ValidationError, match=match):
        rg.QueryableExpert(theorem_4_5(4).expert, **kwargs)


# -- DAgger vs BLADES on the Theorem 4.5 game -----------------------------------------


@pytest.mark.parametrize("horizon", [5, 9])
def test_dagger_never_asks_at_s1_and_keeps_the_linear_gap(horizon):
    c = theorem_4_5(horizon)
    rng = np.random.default_rng(1)
    demos = rg.sample_trajectories(c.game, c.expert, n=50, rng=rng)
    asked = []

    class Recording(rg.QueryableExpert):
        def query(self, h, s):
            asked.extend(np.atleast_1d(s).tolist())
            return super().query(h, s)

    oracle = Recording(c.expert, answers="sampled", rng=rng)
    res = rg.dagger(c.game, oracle, rng=rng, demos=demos, rounds=3, rollouts=8)
    assert asked and 1 not in asked  # obedient roll-ins never reach s_1
    assert res.queries == oracle.queries == 3 * 8 * horizon
    assert set(res.history.agent) == {-1}
    assert rg.regret_gap(c.game, c.expert, res.policy) == pytest.approx((horizon - 2) / 3)


def test_blades_with_sampled_answers_asks_at_s1_and_closes_the_gap():
    c = theorem_4_5(9)
    rng = np.random.default_rng(2)
    demos = rg.sample_trajectories(c.game, c.expert, n=50, rng=rng)
    oracle = rg.QueryableExpert(c.expert, answers="sampled", rng=rng)
    res = rg.blades(c.game, oracle, rng=rng, demos=demos, rounds=3, rollouts=8)
    assert rg.regret_gap(c.game, c.expert, res.policy) == 0
    assert rg.imitation_losses(c.game, c.expert, res.policy).deviation == 0


def test_sampled_answers_leave_a_positive_loss_on_a_stochastic_expert():
    # theorem_5_8's expert is stochastic: finite sampled answers cannot copy it exactly
    c = theorem_5_8(6, 0.3, 0.0, 4)
    rng = np.random.default_rng(3)
    oracle = rg.QueryableExpert(c.expert, answers="sampled", rng=rng)
    res = rg.blades(c.game, oracle, rng=rng, rounds=2, rollouts=16)
    loss = rg.imitation_losses(c.game, c.expert, res.policy)
    assert 0 < loss.deviation < 0.2
    # and Theorem 5.9's bound holds with the measured loss (proof constant 4)
    u = rg.recoverability(c.game, c.expert).upper
    assert rg.regret_gap(c.game, c.expert, res.policy) <= 4 * loss.deviation * u * 6


# -- ALICE vs MALICE ------------------------------------------------------------------


def test_with_a_tabular_class_alice_and_malice_return_jbc(rng=None):
    # the documented reason experiments use shared parameters: per-state weights cancel
    c = theorem_5_4(6, 0.2, 0.0, 4)
    demos = rg.sample_trajectories(c.game, c.expert, n=400, rng=np.random.default_rng(4))
    for learner in (rg.alice, rg.malice):
        res = learner(c.game, demos, rng=np.random.default_rng(5), rounds=3)
        train, _ = rg.as_demonstrations(demos).split(0.2, np.random.default_rng(5))
        bc = rg.jbc(c.game, train).policy
        np.testing.assert_allclose(res.policy, bc, atol=1e-12)


def test_malice_beats_alice_under_coverage_with_shared_parameters():
    c = theorem_5_4(8, 0.05, 0.0, 6)
    gaps = {"alice": [], "malice": []}
    for seed in range(3):
        demos = rg.sample_trajectories(c.game, c.expert, n=2000, rng=np.random.default_rng(seed))
        cls = rg.LogLinear(shared_features(c.game), l2=1e-4)
        for name in gaps:
            res = getattr(rg, name)(
                c.game, demos, rng=np.random.default_rng(seed), policy_class=cls, rounds=4
            )
            gaps[name].append(rg.regret_gap(c.game, c.expert, res.policy))
            assert 1 <= min(res.history.ess) <= 2000 * 8
    assert max(gaps["malice"]) < min(gaps["alice"])


def test_alice_refuses_states_the_learner_reaches_without_data():
    c = theorem_4_5(5)
    demos = rg.sample_trajectories(c.game, c.expert, n=100, rng=np.random.default_rng(6))
    with pytest.raises(rg.CoverageError, match="the mediator reaches") as err:
        rg.alice(c.game, demos, rng=np.random.default_rng(0), policy_class=Uniform())
    assert 1 in err.value.states.tolist()
    res = rg.alice(
        c.game,
        demos,
        rng=np.random.default_rng(0),
        policy_class=Uniform(),
        clip_weights=True,
        rounds=2,
    )
    assert len(res.history.loss) == 2 and set(res.history.agent) == {-1}


# -- exact imitation losses -----------------------------------------------------------


def test_imitation_losses_on_the_proofs_policies():
    h = 8
    c = theorem_4_5(h)
    loss = rg.imitation_losses(c.game, c.expert, c.learner)
    # differs only at s_1, which obedient play never visits and agent 0's deviation always does
    assert (loss.bc, loss.on_policy, loss.moment) == (0.0, 0.0, 0.0)
    assert loss.deviation == pytest.approx(1 / h) and loss.agent == 0
    eps = 0.01
    c = theorem_5_4(h, 0.1, eps, 6)
    loss = rg.imitation_losses(c.game, c.expert, c.learner)
    assert loss.bc == pytest.approx(eps) and loss.moment == pytest.approx(2 * eps)
    c = theorem_5_8(h, 0.1, eps, 6)
    assert rg.imitation_losses(c.game, c.expert, c.learner).deviation == pytest.approx(eps)


def test_imitation_losses_against_a_direct_computation():
    rng = np.random.default_rng(7)
    game = rg.games.random_game(6, (2, 2), 4, rng=rng, branching=2)
    sigma_e = rng.dirichlet(np.ones(4), size=(4, 6))
    sigma = rng.dirichlet(np.ones(4), size=(4, 6))
    tv = 0.5 * np.abs(sigma_e - sigma).sum(-1)
    t = game.transitions.toarray().reshape(6, 4, 6)

    def dist(pol):
        d = [game.initial]
        for k in range(3):
            d.append(np.einsum("s,sa,sat->t", d[-1], pol[k], t))
        return np.array(d)

    loss = rg.imitation_losses(game, sigma_e, sigma)
    assert loss.bc == pytest.approx((dist(sigma_e) * tv).sum() / 4)
    assert loss.on_policy == pytest.approx((dist(sigma) * tv).sum() / 4)
    rho = lambda p: dist(p)[..., None] * p  # noqa: E731
    assert loss.moment == pytest.approx(np.abs(rho(sigma_e) - rho(sigma)).sum() / 4)
    assert loss.deviation >= loss.on_policy  # the identity is in the class


def test_deviation_loss_is_the_max_over_every_deviation_table():
    # brute force over the whole per-step class: 2^(H S n_i) = 4096 tables per agent
    import itertools

    rng = np.random.default_rng(8)
    game = rg.games.random_game(3, (2, 2), 2, rng=rng, branching=2)
    sigma_e = rng.dirichlet(np.ones(4), size=(2, 3))
    sigma = rng.dirichlet(np.ones(4), size=(2, 3))
    tv = 0.5 * np.abs(sigma_e - sigma).sum(-1)
    t = game.transitions.toarray().reshape(3, 4, 3)
    best = 0.0
    for agent in range(2):
        for bits in itertools.product(range(2), repeat=2 * 3 * 2):
            played = rg.apply_deviation(game, sigma, agent, np.reshape(bits, (2, 3, 2)))
            d1 = np.einsum("s,sa,sat->t", game.initial, played[0], t)
            best = max(best, (game.initial @ tv[0] + d1 @ tv[1]) / 2)
    assert rg.imitation_losses(game, sigma_e, sigma).deviation == pytest.approx(best, abs=1e-12)


def test_alice_matches_an_independent_implementation():
    """ALICE round by round (weights d^{pi_sigma_n} / d_E on covered states, follow-the-leader
    on the summed weighted counts, loss E_{d^{pi_sigma_n}} TV), re-implemented here."""
    rng = np.random.default_rng(0)
    game = rg.games.random_game(8, (2, 2), 3, rng=rng, branching=8)  # dense: coverage holds
    expert = 0.6 * rg.markov_ce(game, objective="random", rng=rng) + 0.1
    cls = rg.LogLinear(rng.normal(size=(8, 4, 3)), l2=1e-2)
    demos = rg.as_demonstrations(rg.sample_trajectories(game, expert, 400, rng=rng))
    res = rg.alice(game, demos, rng=np.random.default_rng(1), rounds=4, policy_class=cls)
    counts = demos.split(0.2, np.random.default_rng(1))[0].counts(game)
    visits = counts.sum(-1)
    covered = visits > 0
    d_expert = visits / (counts.sum() / game.horizon)
    emp = counts / np.where(covered, visits, 1.0)[..., None]
    iterates, losses, weights, total = [cls.fit(counts)], [], [], np.zeros_like(counts)
    for _ in range(4):
        sigma = iterates[-1]
        d = rg.state_distribution(game, sigma)
        tv = np.where(covered, 0.5 * np.abs(emp - sigma).sum(-1), 0.0)
        losses.append((d * tv).sum() / game.horizon)
        w = np.where(covered, d / np.where(covered, d_expert, 1.0), 0.0)
        weights.append(w.max())
        total = total + w[..., None] * counts
        iterates.append(cls.fit(total))
    np.testing.assert_allclose(res.history.loss, losses, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.history.max_weight, weights, rtol=1e-9)
    np.testing.assert_allclose(res.policy, iterates[res.best_round], atol=1e-9)
