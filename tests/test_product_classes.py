"""Product policy classes (independent per-agent policies, the Nash papers' class): the
exact :class:`~regretgap.ProductTabular` and the sampled
:class:`~regretgap.sampled.ProductMediator`.

The fit is checked against per-agent frequencies counted straight from the demonstrations
(not from the joint counts the class reads), every learner that takes a class is run with
it, and per-agent BC is J-BC with it."""

from __future__ import annotations

import numpy as np
import pytest

import regretgap as rg
from regretgap import sampled
from regretgap.games import random_game
from regretgap.policy_classes import joint_of


def _game():
    return random_game(7, (2, 3), 3, rng=np.random.default_rng(3), branching=2)


def _correlated_expert(game, seed=0):
    """A random mediator, correlated (not a product) at every row."""
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(game.num_joint_actions), size=(game.horizon, game.num_states))


def _marginals_by_hand(game, demos):
    """Per-agent action frequencies per (h, s), counted from the trajectories one by one."""
    horizon, num_states = game.horizon, game.num_states
    counts = [np.zeros((horizon, num_states, n)) for n in game.num_actions]
    for states, actions in zip(demos.states, demos.actions, strict=True):
        for h, (s, a) in enumerate(zip(states, actions, strict=True)):
            for i, a_i in enumerate(game.agent_actions(int(a))):
                counts[i][h, s, a_i] += 1
    out = []
    for c, n in zip(counts, game.num_actions, strict=True):
        total = c.sum(-1, keepdims=True)
        out.append(np.where(total > 0, c / np.maximum(total, 1), 1.0 / n))
    return out


def _is_product(game, sigma, atol=1e-10):
    sigma = np.asarray(rg.as_policy(game, sigma))
    parts = [rg.marginal(game, sigma, i) for i in range(game.num_agents)]
    return np.allclose(rg.product_policy(game, parts), sigma, atol=atol)


# ---------------------------------------------------------------------------------------
# the exact class


def test_the_fit_is_the_product_of_the_empirical_marginals():
    game = _game()
    sigma_e = _correlated_expert(game)
    demos = rg.as_demonstrations(
        rg.sample_trajectories(game, sigma_e, 6, rng=np.random.default_rng(1))
    )
    cls = rg.ProductTabular(game.num_actions)
    per_agent = cls.fit_agents(demos.counts(game))
    by_hand = _marginals_by_hand(game, demos)
    for i in range(game.num_agents):
        np.testing.assert_allclose(per_agent[i], by_hand[i], atol=1e-12)
    np.testing.assert_allclose(cls.fit(demos.counts(game)), rg.product_policy(game, by_hand))
    # unvisited rows are uniform per agent (hence jointly), and some exist here
    assert (demos.counts(game).sum(-1) == 0).any()


def test_the_product_fit_differs_from_the_joint_table_on_a_correlated_expert():
    # the expert says (0, 0) or (1, 1), never mixed: the joint table copies it, the product
    # class can only say (1/2, 1/2) x (1/2, 1/2), which puts 1/2 on the mismatches
    game, _ = rg.games.coordination()
    counts = np.zeros((1, 1, 4))
    counts[0, 0, [0, 3]] = 5.0
    joint = rg.Tabular().fit(counts)
    product = rg.ProductTabular((2, 2)).fit(counts)
    np.testing.assert_allclose(joint[0, 0], [0.5, 0, 0, 0.5])
    np.testing.assert_allclose(product[0, 0], [0.25, 0.25, 0.25, 0.25])
    # and J-BC with each class on that game's demonstrations says the same
    demos = rg.Demonstrations(np.zeros((10, 1), dtype=int), np.array([[0], [3]] * 5))
    np.testing.assert_allclose(rg.jbc(game, demos).policy[0, 0], [0.5, 0, 0, 0.5])
    bc = rg.jbc(game, demos, policy_class=rg.ProductTabular((2, 2))).policy
    np.testing.assert_allclose(bc[0, 0], [0.25] * 4)


def test_weighted_counts_and_the_default():
    counts = np.zeros((1, 2, 6))
    counts[0, 0] = [0.5, 0.0, 1.5, 0.0, 0.0, 2.0]  # (0,0) 0.5, (0,2) 1.5, (1,2) 2.0
    cls = rg.ProductTabular((2, 3), default=([1.0, 0.0], [0.2, 0.3, 0.5]))
    pi0, pi1 = cls.fit_agents(counts)
    np.testing.assert_allclose(pi0[0, 0], [0.5, 0.5])
    np.testing.assert_allclose(pi1[0, 0], [0.125, 0.0, 0.875])
    np.testing.assert_allclose(pi0[0, 1], [1.0, 0.0])  # no data: the defaults
    np.testing.assert_allclose(pi1[0, 1], [0.2, 0.3, 0.5])
    np.testing.assert_allclose(cls.fit(counts)[0, 1], [0.2, 0.3, 0.5, 0, 0, 0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_actions": (2, 0)}, "positive"),
        ({"num_actions": 3}, "tuple"),
        ({"num_actions": (2, 2), "default": "argmax"}, "unknown default"),
        ({"num_actions": (2, 2), "default": ([0.5, 0.5],)}, "2 per-agent"),
        ({"num_actions": (2, 2), "default": ([0.5, 0.5], [0.9, 0.2])}, "agent 1"),
    ],
)
def test_bad_classes_are_refused(kwargs, message):
    with pytest.raises(rg.ValidationError, match=message):
        rg.ProductTabular(**kwargs)


def test_bad_counts_are_refused():
    cls = rg.ProductTabular((2, 2))
    with pytest.raises(rg.ValidationError, match="5 joint actions"):
        cls.fit(np.ones((1, 1, 5)))
    with pytest.raises(rg.ValidationError, match=r"\[H, S, A\]"):
        cls.fit(np.ones((1, 4)))


def _exact_learners(game, sigma_e, demos):
    expert = rg.QueryableExpert(sigma_e, game)
    rng = np.random.default_rng(0)
    return {
        "jbc": lambda c: rg.jbc(game, demos, policy_class=c),
        "jirl": lambda c: rg.jirl(game, demos, rng=rng, rounds=3, policy_class=c),
        "malice": lambda c: rg.malice(
            game, demos, rng=rng, rounds=2, policy_class=c, clip_weights=True
        ),
        "alice": lambda c: rg.alice(
            game, demos, rng=rng, rounds=2, policy_class=c, clip_weights=True
        ),
        "blades": lambda c: rg.blades(game, expert, rng=rng, rounds=2, rollouts=8, policy_class=c),
        "dagger": lambda c: rg.dagger(game, expert, rng=rng, rounds=2, rollouts=8, policy_class=c),
    }


@pytest.mark.parametrize("name", ["jbc", "jirl", "malice", "alice", "blades", "dagger"])
def test_every_exact_learner_accepts_the_product_class(name):
    game = _game()
    sigma_e = _correlated_expert(game)
    demos = rg.sample_trajectories(game, sigma_e, 30, rng=np.random.default_rng(2))
    run = _exact_learners(game, sigma_e, demos)[name]
    product = run(rg.ProductTabular(game.num_actions)).policy
    assert _is_product(game, product)
    # the joint class on the same run is not a product: the check above can fail
    assert not _is_product(game, run(rg.Tabular()).policy)


def test_per_agent_bc_is_jbc_with_the_product_class():
    # the Nash papers' BC: each agent's policy is its own empirical frequency, fitted alone
    game = _game()
    per_agent_expert = [
        np.random.default_rng(5 + i).dirichlet(np.ones(n), size=(game.horizon, game.num_states))
        for i, n in enumerate(game.num_actions)
    ]
    sigma_e = rg.product_policy(game, per_agent_expert)
    demos = rg.as_demonstrations(
        rg.sample_trajectories(game, sigma_e, 25, rng=np.random.default_rng(6))
    )
    bc = rg.jbc(game, demos, policy_class=rg.ProductTabular(game.num_actions)).policy
    per_agent_bc = _marginals_by_hand(game, demos)
    np.testing.assert_allclose(bc, rg.product_policy(game, per_agent_bc), atol=1e-12)
    # its Nash gap, scored on the marginals the learner's joint carries
    gap = rg.nash_gap(game, [rg.marginal(game, bc, i) for i in range(2)])
    assert gap.value == pytest.approx(rg.nash_gap(game, per_agent_bc).value, abs=1e-12)


def test_joint_of_keeps_agent_0_slowest():
    p0, p1 = np.array([0.25, 0.75]), np.array([0.1, 0.2, 0.7])
    np.testing.assert_allclose(joint_of([p0, p1]), np.outer(p0, p1).ravel())


# ---------------------------------------------------------------------------------------
# the sampled class


def _sampled_setup(num=60):
    """A game, its one-hot simulator, a correlated expert, and the same demonstrations as
    samples and as exact ``Demonstrations``."""
    game = _game()
    sim = game.simulator()  # one-hot features of (h, s)
    sigma_e = _correlated_expert(game)
    exact = rg.as_demonstrations(
        rg.sample_trajectories(game, sigma_e, num, rng=np.random.default_rng(4))
    )
    return game, sim, sigma_e, sampled.from_demonstrations(sim, exact), exact


def test_table_heads_on_one_hot_features_are_the_exact_product_class():
    game, sim, _, demos, exact = _sampled_setup()
    heads = [sampled.ObservationTable((n,)) for n in game.num_actions]
    cls = sampled.ProductMediator(game.num_actions, heads)
    fitted = sampled.jbc(sim, demos, rng=np.random.default_rng(0), policy_class=cls).policy
    want = rg.ProductTabular(game.num_actions).fit(exact.counts(game))
    np.testing.assert_allclose(fitted.table(sim), want, atol=1e-12)
    np.testing.assert_allclose(rg.product_policy(game, fitted.agent_tables(sim)), want, atol=1e-12)
    by_hand = _marginals_by_hand(game, exact)
    for i, table in enumerate(fitted.agent_tables(sim)):
        np.testing.assert_allclose(table, by_hand[i], atol=1e-12)


def test_log_linear_heads_fit_each_agent_on_its_own_component():
    game, _, _, demos, _ = _sampled_setup()
    x, a = demos.features, demos.actions
    w = np.random.default_rng(9).uniform(0.5, 2.0, size=a.shape)
    rng = np.random.default_rng(0)
    fitted = sampled.ProductMediator(game.num_actions, l2=1e-2).fit(x, a, w, rng=rng)
    a0, a1 = (np.asarray(c) for c in zip(*[game.agent_actions(int(b)) for b in a], strict=True))
    alone = [
        sampled.LogLinearMediator((n,), l2=1e-2).fit(x, c, w, rng=rng)
        for n, c in zip(game.num_actions, (a0, a1), strict=True)
    ]
    for i in range(2):
        np.testing.assert_allclose(fitted.marginal(x, i), alone[i].probs(x), atol=1e-10)
    p = fitted.probs(x)
    np.testing.assert_allclose(p, joint_of([alone[0].probs(x), alone[1].probs(x)]), atol=1e-10)
    np.testing.assert_allclose(fitted.log_prob(x, a), np.log(p[np.arange(a.size), a]), atol=1e-10)
    # the inherited marginal of the joint agrees with the head's
    np.testing.assert_allclose(sampled.JointPolicy.marginal(fitted, x, 1), alone[1].probs(x))


def test_sampling_draws_each_agent_from_its_head():
    game, _, _, demos, _ = _sampled_setup()
    x, a = demos.features, demos.actions
    fitted = sampled.ProductMediator(game.num_actions).fit(x, a, rng=np.random.default_rng(0))
    row = np.repeat(x[:1], 20000, axis=0)
    draws = fitted.sample(row, np.random.default_rng(1))
    freq = np.bincount(draws, minlength=game.num_joint_actions) / draws.size
    p = fitted.probs(x[:1])[0]
    # each frequency within 4 standard errors of the joint probability (6 cells)
    assert np.all(np.abs(freq - p) <= 4 * np.sqrt(p * (1 - p) / draws.size) + 1e-12)


SAMPLED_LEARNERS = {
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


@pytest.mark.parametrize("name", sorted(SAMPLED_LEARNERS))
def test_every_sampled_learner_accepts_the_product_mediator(name):
    game, sim, sigma_e, demos, _ = _sampled_setup(num=20)
    expert = sampled.policy_recommender(sigma_e)
    cls = sampled.ProductMediator(game.num_actions, l2=1e-2)
    res = SAMPLED_LEARNERS[name](sim, expert, demos, np.random.default_rng(1), cls)
    assert isinstance(res.policy, sampled.ProductMediator)
    table = res.policy.table(sim)
    assert _is_product(game, table)
    assert np.isfinite(rg.nash_gap(game, res.policy.agent_tables(sim)).value)


def test_a_per_agent_neural_product():
    pytest.importorskip("torch")
    from regretgap.sampled.neural import NeuralMediator

    game, sim, _, demos, _ = _sampled_setup(num=20)
    heads = [NeuralMediator((n,), hidden=(8,), epochs=2) for n in game.num_actions]
    cls = sampled.ProductMediator(game.num_actions, heads)
    res = sampled.jbc(sim, demos, rng=np.random.default_rng(0), policy_class=cls)
    assert _is_product(game, res.policy.table(sim), atol=1e-6)
    assert all(isinstance(h, NeuralMediator) for h in res.policy.heads)
    assert cls.heads[0].num_features is None  # fitting returned new heads


@pytest.mark.parametrize(
    ("heads", "message"),
    [
        ([sampled.ObservationTable((2,))], "expected 2 heads"),
        ([sampled.ObservationTable((2,)), object()], "head of agent 1 must be"),
        ([sampled.ObservationTable((2,)), sampled.ObservationTable((2,))], r"agent 1 has"),
    ],
)
def test_bad_heads_are_refused(heads, message):
    with pytest.raises(rg.ValidationError, match=message):
        sampled.ProductMediator((2, 3), heads)
