"""The four learners: the paper's separations on the Theorem 4.5 game, reward-blindness,
policy classes, and the learners' contracts."""

from __future__ import annotations

import numpy as np
import pytest
from strategies import dense_random_game

import regretgap as rg
from regretgap.games import random_game, theorem_4_5, theorem_5_4

DEMOS = 2000  # "ample": every on-path (h, s) is visited


def _demos(game, sigma, seed=0, n=DEMOS):
    return rg.sample_trajectories(game, sigma, n=n, rng=np.random.default_rng(seed))


def _agent2_a1(row):
    """Probability that agent 2 (index 1) is told a1 in a [9] joint distribution of 3x3."""
    return row.reshape(3, 3)[:, 0].sum()


@pytest.mark.parametrize("horizon", [3, 5, 9])
def test_theorem_4_5_separations(horizon):
    c = theorem_4_5(horizon)
    g = c.game
    demos = _demos(g, c.expert)
    # J-BC: exact value match, regret gap (H-2)/3 from the uniform default at s_1 (agent 1
    # deviates a1 -> a2 at s_0 and s_1; it pays H-2 iff agent 2 is told a1, w.p. 1/3)
    bc = rg.jbc(g, demos)
    assert rg.value_gap(g, c.expert, bc.policy) == 0.0
    np.testing.assert_allclose(bc.policy[1, 1], 1 / 9)
    assert rg.regret_gap(g, c.expert, bc.policy) == pytest.approx((horizon - 2) / 3)
    assert bc.history.bc_error == 0.0
    # J-IRL: value gap ~0; its s_0 and s_1 rows come from soft value iteration. The same
    # deviation reaches the reward iff agent 2 is told a1 at s_0 and at s_1; the learner's
    # own value is the probability of (a2, a1) at both.
    irl = rg.jirl(g, demos, rng=np.random.default_rng(1))
    assert abs(rg.value_gap(g, c.expert, irl.best_iterate)) <= 1e-6
    # The returned mixture's value is the mean of its N = 60 iterates' values: the uniform
    # round-0 iterate reaches the reward w.p. (1/9)^2, so it adds -(H - 2) / (81 N) to the
    # gap, and the later iterates (best responses that avoid (a2, a1)) add ~0 each.
    uniform_share = (horizon - 2) / 81 / 60
    assert rg.value_gap(g, c.expert, irl.policy) == pytest.approx(-uniform_share, abs=1e-6)
    s0, s1 = irl.policy[0, 0], irl.policy[1, 1]
    derived = (horizon - 2) * (_agent2_a1(s0) * _agent2_a1(s1) - s0[3] * s1[3])
    assert rg.regret_gap(g, c.expert, irl.policy) == pytest.approx(derived, abs=1e-9)
    assert derived > 0.2 * (horizon - 2)  # linear in H: a constant share of H - 2
    # MALICE refuses: coverage fails at the state only a deviation reaches
    with pytest.raises(rg.CoverageError) as info:
        rg.malice(g, demos, rng=np.random.default_rng(2))
    assert 1 in info.value.states and isinstance(info.value, ValueError)
    assert "[1" in str(info.value)
    # BLADES with a queryable expert: regret gap 0 after one round
    expert = rg.QueryableExpert(c.expert)
    res = rg.blades(g, expert, rng=np.random.default_rng(3), rounds=1)
    assert rg.regret_gap(g, c.expert, res.policy) == pytest.approx(0.0, abs=1e-12)
    assert abs(rg.value_gap(g, c.expert, res.policy)) <= 1e-12
    assert res.queries == expert.queries > 0
    assert res.queries <= g.num_states * horizon


def test_blades_history_and_best_iterate():
    c = theorem_4_5(6)
    res = rg.blades(
        c.game,
        rg.QueryableExpert(c.expert),
        rng=np.random.default_rng(0),
        rounds=4,
        demos=_demos(c.game, c.expert, n=200),
    )
    assert len(res.history.loss) == 4 and len(res.history.validation) == 5
    assert res.history.validation[res.best_round] == min(res.history.validation)
    assert list(res.history.queries) == sorted(res.history.queries)


def _covered_case(seed=0):
    rng = np.random.default_rng(seed)
    game = random_game(12, (2, 2), 4, rng=rng, branching=12)  # dense: every state reachable
    expert = rg.markov_ce(game, objective="random", rng=rng)
    expert = 0.7 * expert + 0.3 / game.num_joint_actions  # full support: coverage holds
    return game, expert


def test_malice_under_coverage_equals_jbc_for_tabular_policies():
    """MATH.md: with a tabular class the weights change nothing where there is data."""
    game, expert = _covered_case()
    demos = _demos(game, expert, n=4000)
    res = rg.malice(game, demos, rng=np.random.default_rng(1), rounds=3)
    train, _ = rg.as_demonstrations(demos).split(0.2, np.random.default_rng(1))
    bc = rg.jbc(game, train)
    np.testing.assert_allclose(res.policy, bc.policy, atol=1e-12)
    assert len(res.history.loss) == 3 and len(res.history.validation) == 4
    assert all(w > 0 for w in res.history.max_weight)


def test_malice_clip_weights_proceeds_without_coverage():
    c = theorem_4_5(5)
    res = rg.malice(
        c.game,
        _demos(c.game, c.expert),
        rng=np.random.default_rng(0),
        rounds=2,
        clip_weights=True,
        max_weight=50.0,
    )
    assert max(res.history.max_weight) <= 50.0
    assert rg.value_gap(c.game, c.expert, res.policy) == 0.0


class _Poison:
    """Stands in for the game's rewards: any read of the values raises."""

    def __init__(self, shape):
        self.shape = shape
        self.ndim = len(shape)

    def __array__(self, *args, **kwargs):
        raise AssertionError("a learner read the agents' rewards")

    def __getitem__(self, key):
        raise AssertionError("a learner read the agents' rewards")


LEARNERS = {
    "jbc": lambda g, demos, expert, seed: rg.jbc(g, demos),
    "jirl": lambda g, demos, expert, seed: rg.jirl(
        g, demos, rng=np.random.default_rng(seed), rounds=10
    ),
    "malice": lambda g, demos, expert, seed: rg.malice(
        g, demos, rng=np.random.default_rng(seed), rounds=3, clip_weights=True
    ),
    "blades": lambda g, demos, expert, seed: rg.blades(
        g, rg.QueryableExpert(expert), rng=np.random.default_rng(seed), rounds=3, demos=demos
    ),
}


@pytest.mark.parametrize("name", sorted(LEARNERS))
def test_learners_never_read_rewards(name):
    game, expert = _covered_case(3)
    demos = rg.as_demonstrations(_demos(game, expert, n=300))
    learn = LEARNERS[name]
    base = learn(game, demos, expert, 5)
    noise = game.with_rewards(np.random.default_rng(9).normal(size=game.rewards.shape))
    np.testing.assert_array_equal(learn(noise, demos, expert, 5).policy, base.policy)
    poisoned = game.with_rewards(np.zeros_like(game.rewards))
    object.__setattr__(poisoned, "rewards", _Poison(game.rewards.shape))
    np.testing.assert_array_equal(learn(poisoned, demos, expert, 5).policy, base.policy)


def test_learners_on_a_random_game_with_a_markov_ce_expert():
    game, expert = _covered_case(4)
    demos = _demos(game, expert, n=3000)
    bc = rg.jbc(game, demos)
    assert abs(rg.value_gap(game, expert, bc.policy)) < 0.2
    res = rg.blades(game, rg.QueryableExpert(expert), rng=np.random.default_rng(0), rounds=3)
    # BLADES' tabular policy equals the expert wherever it queried: here, everywhere reached
    assert abs(rg.regret_gap(game, expert, res.policy)) < 1e-9


def test_tabular_and_log_linear_policy_classes():
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 5, size=(3, 4, 6)).astype(float)
    counts[1, 2] = 0.0
    tab = rg.Tabular().fit(counts)
    np.testing.assert_allclose(tab[1, 2], 1 / 6)
    np.testing.assert_allclose(tab[0, 0], counts[0, 0] / counts[0, 0].sum())
    fixed = rg.Tabular(default=np.eye(6)[2]).fit(counts)
    assert fixed[1, 2, 2] == 1.0
    # one-hot (h, s, a) features and a tiny ridge reproduce the tabular fit where data is
    feats = np.eye(3 * 4 * 6).reshape(3, 4, 6, -1)
    counts = counts + 1.0  # avoid zero counts, whose MLE lies at infinity
    loglin = rg.LogLinear(feats, l2=1e-8, max_iter=5000).fit(counts)
    np.testing.assert_allclose(loglin, rg.Tabular().fit(counts), atol=1e-4)
    # stationary features share parameters across steps: finite capacity
    shared = rg.LogLinear(np.eye(4 * 6).reshape(4, 6, -1), l2=1e-8, max_iter=5000).fit(counts)
    pooled = counts.sum(axis=0)
    np.testing.assert_allclose(shared[0], pooled / pooled.sum(-1, keepdims=True), atol=1e-4)
    np.testing.assert_array_equal(shared[0], shared[2])


def test_demonstrations_and_queryable_expert():
    c = theorem_4_5(4)
    traj = _demos(c.game, c.expert, n=10)
    demos = rg.as_demonstrations(traj)
    assert not hasattr(demos, "rewards")
    np.testing.assert_array_equal(demos.actions, traj.recommended)
    assert demos.counts(c.game).sum() == 40
    a, b = demos.split(0.3, np.random.default_rng(0))
    assert len(a) + len(b) == 10 and len(b) == 3
    deviated = rg.sample_trajectories(
        c.game, c.expert, 5, rng=np.random.default_rng(0), agent=0, deviation=np.array([1, 1, 2])
    )
    with pytest.raises(ValueError, match="obedient"):
        rg.as_demonstrations(deviated)
    expert = rg.QueryableExpert(c.expert)
    np.testing.assert_array_equal(
        expert.query(np.array([0, 1]), np.array([0, 1])), c.expert[[0, 1]]
    )
    assert expert.queries == 2
    with pytest.raises(ValueError, match="query state"):
        expert.query(0, 99)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda g, d: rg.jbc(g, d, policy_class=object()), "fit"),
        (lambda g, d: rg.malice(g, d, rng=np.random.default_rng(0), rounds=0), "rounds"),
        (lambda g, d: rg.jirl(g, d, rng=0), "Generator"),
        (lambda g, d: rg.jirl(g, d, rng=np.random.default_rng(0), temperature=0), "> 0"),
        (lambda g, d: rg.blades(g, "expert", rng=np.random.default_rng(0)), "QueryableExpert"),
        (lambda g, d: rg.jbc(g.with_horizon(3), d), "horizon"),
        (
            lambda g, d: rg.jirl(
                g, d, rng=np.random.default_rng(0), reward_features=np.ones((2, 2, 2))
            ),
            "reward_features",
        ),
    ],
)
def test_bad_learner_arguments(call, message):
    game = dense_random_game(np.random.default_rng(0), (2, 2), 3, 4)
    demos = _demos(game, rg.uniform_policy(game), n=20)
    with pytest.raises(ValueError, match=message):
        call(game, demos)


def test_jirl_mixture_policy_has_the_mean_occupancy():
    """The Markov policy built from the iterates' mean occupancy has exactly that occupancy
    (the induction in :func:`regretgap.learners.inverse.mixture_policy`), so the same values."""
    from regretgap.learners.inverse import mixture_policy

    rng = np.random.default_rng(0)
    game = theorem_4_5(5).game  # layered: each state is visited at one step only
    iterates = rng.dirichlet(np.full(9, 0.3), size=(4, 5, 9))  # [N, H, S, A]
    iterates[0] = np.eye(9)[3]  # one deterministic iterate, (a2, a1) everywhere
    rho = np.stack([rg.occupancy(game, sigma) for sigma in iterates])
    sigma_mix = mixture_policy(rho.mean(axis=0))
    np.testing.assert_allclose(rg.occupancy(game, sigma_mix), rho.mean(axis=0), atol=1e-14)
    np.testing.assert_allclose(
        rg.values(game, sigma_mix), np.mean([rg.values(game, s) for s in iterates], axis=0)
    )
    unvisited = rho.mean(axis=0).sum(axis=-1) == 0  # [H, S]
    assert unvisited.any()
    np.testing.assert_array_equal(sigma_mix[unvisited], 1 / 9)
    with pytest.raises(ValueError, match="H, S, A"):
        mixture_policy(rho)


def test_jirl_returns_the_mixture_whose_moment_error_decreases():
    """The no-regret guarantee is for the mixture of iterates. On the Theorem 5.4
    game (stochastic expert at s_0 and s_1) its moment error falls at least like 1/sqrt(N)
    between 30 and 300 rounds (measured 0.187, 0.070, 0.029, 0.014 at N = 10, 30, 100, 300;
    with the former constant step 2 it stalled at 0.11 and every iterate at 0.21)."""
    c = theorem_5_4(8, 0.1, 0.0, 4.0)
    demos = rg.as_demonstrations(_demos(c.game, c.expert, n=2000))
    res = rg.jirl(c.game, demos, rng=np.random.default_rng(1), rounds=300)
    hist = res.history
    assert len(hist.mixture_moment_error) == len(hist.moment_error) == 300
    # the recorded last mixture error is the returned policy's, against the same train split
    train, _ = demos.split(0.2, np.random.default_rng(1))
    rho_train = train.counts(c.game).sum(axis=0) / len(train)
    rho_mix = rg.occupancy(c.game, res.policy).sum(axis=0)
    mixed = np.abs(rho_train - rho_mix).sum() / c.game.horizon
    assert mixed == pytest.approx(hist.mixture_moment_error[-1], rel=1e-9)
    m = hist.mixture_moment_error
    assert m[299] < m[99] < m[29] < m[9]
    assert m[299] <= m[29] / np.sqrt(10)
    assert hist.validation[res.best_round] == min(hist.validation)
    best_rho = rg.occupancy(c.game, res.best_iterate).sum(axis=0)
    assert np.abs(rho_train - best_rho).sum() / c.game.horizon == pytest.approx(
        hist.moment_error[res.best_round]
    )


def _kron_noise(game, rate):
    """Brute-force noise kernel K[a, a'] = prod_i ((1 - rate) 1(a'_i = a_i) + rate / n_i)."""
    kernel = np.ones((1, 1))
    for n in game.num_actions:
        kernel = np.kron(kernel, (1 - rate) * np.eye(n) + rate / n)
    return kernel


@pytest.mark.parametrize("rate", [0.0, 0.3, 1.0])
def test_noisy_play_is_the_per_agent_noise_kernel(rate):
    from regretgap.learners.querying import noisy_play

    game = random_game(5, (2, 3, 2), 4, rng=np.random.default_rng(0))
    sigma = np.random.default_rng(1).dirichlet(np.ones(12), size=(4, 5))
    played = noisy_play(game, sigma, rate)
    np.testing.assert_allclose(played, sigma @ _kron_noise(game, rate), atol=1e-14)
    if rate == 1.0:  # everyone plays uniformly whatever is recommended
        np.testing.assert_allclose(played, 1 / 12, atol=1e-14)


def test_dagger_deviation_rate_zero_is_plain_dagger():
    c = theorem_4_5(6)
    runs = [
        rg.dagger(
            c.game,
            rg.QueryableExpert(c.expert, answers="sampled", rng=np.random.default_rng(4)),
            rng=np.random.default_rng(5),
            rounds=3,
            rollouts=32,
            **extra,
        )
        for extra in ({}, {"deviation_rate": 0.0})
    ]
    np.testing.assert_array_equal(runs[0].policy, runs[1].policy)
    assert runs[0].history == runs[1].history and runs[0].queries == runs[1].queries


def test_noise_dagger_reaches_states_one_deviation_away():
    """Theorem 4.5's s_1 lies behind one deviation: obedient DAgger never asks there and
    keeps the regret gap (H - 2)/3; DAgger whose roll-ins deviate at random (rate 0.3, so a
    departure w.p. 0.15 per agent and step) asks there and closes it. This is why BLADES
    must be compared with noise-DAgger, not DAgger alone."""
    h = 6
    c = theorem_4_5(h)
    demos = _demos(c.game, c.expert, n=200)  # without them uniform roll-ins reach s_1 too
    gaps = {}
    for rate in (0.0, 0.3):
        res = rg.dagger(
            c.game,
            rg.QueryableExpert(c.expert),
            rng=np.random.default_rng(7),
            demos=demos,
            rounds=2,
            rollouts=128,
            deviation_rate=rate,
        )
        gaps[rate] = rg.regret_gap(c.game, c.expert, res.policy)
    assert gaps[0.0] == pytest.approx((h - 2) / 3)
    assert gaps[0.3] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("rate", [-0.1, 1.5, float("nan"), True, "0.1", None])
def test_dagger_refuses_bad_deviation_rate_before_any_query(rate):
    c = theorem_4_5(4)
    expert = rg.QueryableExpert(c.expert)
    with pytest.raises(rg.ValidationError, match="deviation_rate must be a probability"):
        rg.dagger(c.game, expert, rng=np.random.default_rng(0), deviation_rate=rate)
    assert expert.queries == 0


def test_jirl_with_a_policy_class_answers_within_it():
    """With the shared-parameter class of the coverage experiments, J-IRL's returned policy
    is a member of the class (s_0 and s_1 share one distribution), and without a class it
    is not; the class fit of an in-class policy's occupancy returns that policy."""
    from regretgap.experiments.coverage_family import shared_features

    c = theorem_5_4(8, 0.1, 0.0, 4)
    demos = _demos(c.game, c.expert, n=2000)
    cls = rg.LogLinear(shared_features(c.game), l2=1e-4)
    with_class = rg.jirl(c.game, demos, rng=np.random.default_rng(0), rounds=20, policy_class=cls)
    free = rg.jirl(c.game, demos, rng=np.random.default_rng(0), rounds=20)
    np.testing.assert_allclose(with_class.policy[:, 0], with_class.policy[:, 1], atol=1e-6)
    assert np.abs(free.policy[1, 0] - free.policy[1, 1]).max() > 1e-3
    with pytest.raises(rg.ValidationError, match="policy_class"):
        rg.jirl(c.game, demos, rng=np.random.default_rng(0), policy_class=object())


def test_noise_dagger_history_loss_is_on_the_noisy_roll_in():
    """history.loss[0]: the first iterate's loss on the *noisy* roll-in distribution
    (the brute-force Kronecker noise kernel), labels from the demonstrations, 1 where
    unlabelled. Theorem 4.5's s_1 is unlabelled and reached only by noise, so the obedient
    roll-in's loss is smaller."""
    from regretgap.losses import tv

    h, rate = 6, 0.3
    c = theorem_4_5(h)
    demos = _demos(c.game, c.expert, n=200)
    losses = {}
    for r in (0.0, rate):
        res = rg.dagger(
            c.game,
            rg.QueryableExpert(c.expert),
            rng=np.random.default_rng(3),
            demos=demos,
            rounds=1,
            rollouts=8,
            deviation_rate=r,
        )
        losses[r] = res.history.loss[0]
    counts = rg.as_demonstrations(demos).counts(c.game)
    total = counts.sum(axis=-1)
    label = counts / np.maximum(total, 1)[..., None]
    sigma = res.iterates[0]
    ell = np.where(total > 0, tv(label, sigma), 1.0)
    d = rg.state_distribution(c.game, sigma @ _kron_noise(c.game, rate))
    assert losses[rate] == pytest.approx(float((d * ell).sum()) / h, rel=1e-12)
    assert losses[rate] > losses[0.0] + 0.01


@pytest.mark.parametrize("rate", [0, 0.0, 1, 1.0, np.float32(0.5), np.int64(1)])
def test_deviation_rate_accepts_the_closed_unit_interval(rate):
    from regretgap._checks import check_probability

    assert check_probability("deviation_rate", rate) == float(rate)
    c = theorem_4_5(4)
    res = rg.dagger(
        c.game,
        rg.QueryableExpert(c.expert),
        rng=np.random.default_rng(0),
        rounds=1,
        rollouts=4,
        deviation_rate=rate,
    )
    assert res.queries > 0


def _mixed_case():
    game = random_game(12, (2, 3), 5, rng=np.random.default_rng(7), branching=3)
    expert = np.random.default_rng(1).dirichlet(np.ones(6), size=12)
    return game, expert


def test_blades_validation_is_eq_7_once_every_deviation_state_is_answered():
    """With distribution answers the labels are the expert's own rows, so once every state a
    deviation reaches has been asked, BLADES's recorded loss of each iterate is the exact
    eq. 7 loss ``max_i max_phi E TV / H`` (:func:`imitation_losses`, computed from the
    expert itself); before any answer every state counts 1, so round 1 starts at 1."""
    game, expert = _mixed_case()
    oracle = rg.QueryableExpert(expert, answers="distribution")
    res = rg.blades(game, oracle, rng=np.random.default_rng(0), rounds=4, rollouts=64)
    assert res.history.loss[0] == 1.0
    exact = [rg.imitation_losses(game, expert, sig).deviation for sig in res.iterates]
    np.testing.assert_allclose(res.history.validation, exact, rtol=1e-12, atol=1e-15)
    assert exact[0] > 0.1 > exact[-1]  # the loop learned something here


@pytest.mark.parametrize("learner", [rg.blades, rg.dagger])
def test_queries_count_this_run_only(learner):
    """An expert asked before counts from zero for the run: ``queries`` and the history's
    cumulative counts are the run's own (rounds x m x rollouts x H sampled answers)."""
    game, expert = _mixed_case()
    oracle = rg.QueryableExpert(expert, answers="sampled", rng=np.random.default_rng(2))
    oracle.query(np.zeros(7, dtype=int), np.arange(7))  # seven answers before the run
    rollouts = 5 if learner is rg.blades else 5 * game.num_agents
    res = learner(game, oracle, rng=np.random.default_rng(0), rounds=3, rollouts=rollouts)
    per_round = game.num_agents * 5 * game.horizon
    assert res.history.queries == (per_round, 2 * per_round, 3 * per_round)
    assert res.queries == 3 * per_round == oracle.queries - 7


@pytest.mark.parametrize("learner", [rg.malice, rg.alice])
def test_effective_sample_size_lies_between_one_and_the_training_visits(learner):
    """Kish's ESS ``(sum v w)^2 / sum v w^2`` of the importance weights over the training
    visits ``v``: by Cauchy-Schwarz at most ``sum v`` (equal weights), at least 1 for
    non-zero weights; the expert's own visits at its own iterate weigh about 1 each."""
    game, expert = _mixed_case()
    demos = rg.sample_trajectories(game, expert, n=400, rng=np.random.default_rng(4))
    res = learner(game, demos, rng=np.random.default_rng(0), rounds=3, clip_weights=True)
    visits = 400 * game.horizon  # every demonstration, a bound on the training part's
    assert all(1.0 <= e <= visits for e in res.history.ess), res.history.ess
    assert max(res.history.ess) > 0.5 * 0.8 * visits  # J-BC's iterate is near the expert
