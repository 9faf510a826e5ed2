"""Sampled MALICE and ALICE (paper Algorithm 1, eq. 6, Assumption 5.2).

The exact core scores what the sampled learners return: their density ratios against
``state_distribution`` of the expert and of ``apply_deviation``, their regret gaps against
the exact :func:`regretgap.malice` / :func:`regretgap.alice` on Theorem 5.4's game.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import regretgap as rg
from regretgap.errors import ValidationError
from regretgap.games import Construction, theorem_5_4
from regretgap.sampled import (
    LogLinearMediator,
    MaliceResult,
    ObservationTable,
    Samples,
    alice,
    collect,
    from_demonstrations,
    malice,
    policy_recommender,
)
from regretgap.sampled.reweighting import _fit_ratio


@pytest.fixture(scope="module", autouse=True)
def _one_blas_thread():
    """The fits are many small matrix products: on a shared 2-core machine OpenBLAS's
    threads made them ~400x slower (17 s against 0.05 s for the same products)."""
    with threadpool_limits(1):
        yield


#: Theorem 5.4's game: H = 6 keeps the runs short; u' = 4 pays on the upper path.
HORIZON, U = 6, 4


def _game(beta: float) -> Construction:
    return theorem_5_4(HORIZON, beta, 0.0, U)


def _blocks(game: rg.MarkovGame) -> np.ndarray:
    """Features ``[S, 2]``: ``s_0, s_1`` share one block, every other state the other (the
    sampled form of the coverage family's shared-parameter class)."""
    x = np.zeros((game.num_states, 2))
    x[:2, 0] = 1.0
    x[2:, 1] = 1.0
    return x


def _shared_class(game: rg.MarkovGame) -> rg.LogLinear:
    """The exact log-linear class over the same blocks, ``phi [S, A, 2A]``."""
    a_count = game.num_joint_actions
    phi = np.zeros((game.num_states, a_count, 2 * a_count))
    for s in range(game.num_states):
        block = 0 if s < 2 else 1
        phi[s, :, block * a_count : (block + 1) * a_count] = np.eye(a_count)
    return rg.LogLinear(phi, l2=1e-4)


# ---------------------------------------------------------------------------------------
# the classifier's density ratio


def test_classifier_weights_match_the_exact_state_distribution_ratio() -> None:
    """``w_h(s)`` against ``d_h^{dev}(s) / d_{E,h}(s)`` on one-hot ``(h, s)`` features.

    Agent 0 plays a2 whenever recommended a1, which sends every trajectory to ``s_1``: the
    exact ratios are 1 (``s_0``), 5 (``s_1`` and the upper path), 5/9 (the lower path from
    ``h = 2``) and 0 (the lower state at ``h = 1``). Tolerance: 4 standard errors of a ratio
    of two frequencies, ``r sqrt(1/(N_dev d_dev) + 1/(N_E d_E))``, on the states with
    ``d_E >= 0.05``. Mutations caught: weights inverted, the prior ``N_E / N_dev`` dropped.
    """
    c = _game(0.1)
    game, sim = c.game, c.game.simulator()
    phi = np.broadcast_to(np.array([1, 1, 2]), (HORIZON, game.num_states, 3)).copy()
    d_e = rg.state_distribution(game, c.expert)
    d_dev = rg.state_distribution(game, rg.apply_deviation(game, c.expert, 0, phi))
    rng = np.random.default_rng(0)
    n_e, n_dev = 4000, 2500  # unequal, so the prior correction N_demo / N_roll matters
    recommend = policy_recommender(c.expert)
    demos = collect(sim, recommend, n_e, rng=rng)
    rollin = collect(
        sim, recommend, n_dev, rng=rng, agent=0, deviation=lambda h, s, a: phi[h, s, a]
    )
    ratio = _fit_ratio(LogLinearMediator((2,)), demos, rollin, HORIZON, rng)
    states = np.arange(game.num_states)
    probe = Samples(
        np.concatenate([sim.observe(states, h) for h in range(HORIZON)]),
        np.zeros(HORIZON * game.num_states, dtype=np.int64),
        np.repeat(np.arange(HORIZON), game.num_states),
        np.zeros(HORIZON * game.num_states, dtype=np.int64),
    )
    w = ratio.weights(probe, 1e3).reshape(HORIZON, game.num_states)
    covered = d_e >= 0.05
    exact = np.divide(d_dev, d_e, out=np.zeros_like(d_e), where=d_e > 0)
    assert {round(float(r), 3) for r in exact[covered]} == {0.0, 0.556, 1.0, 5.0}
    with np.errstate(divide="ignore", invalid="ignore"):
        se = exact * np.sqrt(np.where(d_dev > 0, 1 / (n_dev * d_dev), 0) + 1 / (n_e * d_e))
    reached = covered & (d_dev > 0)
    np.testing.assert_array_less(np.abs(w - exact)[reached], 4 * se[reached] + 1e-3)
    np.testing.assert_array_less(w[covered & (d_dev == 0)], 0.01)
    # clipping caps the ratio of 5 and leaves the others
    capped = ratio.weights(probe, 2.0).reshape(HORIZON, game.num_states)
    np.testing.assert_allclose(capped, np.minimum(w, 2.0))


# ---------------------------------------------------------------------------------------
# against the exact learners


@pytest.fixture(scope="module")
def coverage_runs() -> dict:
    """Theorem 5.4's game at beta = 0.05 (the expert reaches s_1 w.p. 0.1), 1000
    demonstrations shared by the exact and the sampled learners."""
    c = _game(0.05)
    game = c.game
    sim = game.simulator(_blocks(game))
    exact_demos = rg.as_demonstrations(
        rg.sample_trajectories(game, c.expert, n=1000, rng=np.random.default_rng(0))
    )
    demos = from_demonstrations(sim, exact_demos)
    cls = _shared_class(game)
    out = {"game": game, "expert": c.expert, "sim": sim}
    for name, fit in (("malice", rg.malice), ("alice", rg.alice)):
        res = fit(game, exact_demos, rng=np.random.default_rng(1), rounds=3, policy_class=cls)
        out[f"exact_{name}"] = rg.regret_gap(game, c.expert, res.policy)
    policy = LogLinearMediator(game.num_actions)
    out["malice"] = malice(
        sim,
        demos,
        rng=np.random.default_rng(2),
        policy_class=policy,
        rounds=3,
        adversary_episodes=500,
    )
    out["alice"] = alice(sim, demos, rng=np.random.default_rng(2), policy_class=policy, rounds=3)
    for name in ("malice", "alice"):
        out[f"sampled_{name}"] = rg.regret_gap(game, c.expert, out[name].policy.table(sim))
    return out


def test_sampled_malice_matches_exact_malice_and_beats_alice(coverage_runs) -> None:
    """Theorem 5.4's game with a shared-parameter class: the exact MALICE's regret gap is
    about 0.03, ALICE's about 0.8 (ALICE weighs s_1 by obedient play's 2 beta, MALICE by
    the deviation's ~1). The sampled learners must land within 0.15 (MALICE) and 0.2
    (ALICE) of the exact ones: over 2 data sets x 5 learner seeds the largest distances were
    0.10 and 0.13 (sampling noise in the weights moves the fitted s_0/s_1 mixture by a few
    percent, and the gap multiplies that by u' - 2 over 1/(2 beta)); sampled MALICE must
    stay well below sampled ALICE (the smallest margin seen was 0.6)."""
    r = coverage_runs
    assert r["exact_alice"] - r["exact_malice"] > 0.5  # the exact learners do differ
    assert abs(r["sampled_malice"] - r["exact_malice"]) < 0.15
    assert abs(r["sampled_alice"] - r["exact_alice"]) < 0.2
    assert r["sampled_malice"] < r["sampled_alice"] - 0.4
    # the adversary is agent 0 (a2 at s_0 reaches s_1); ALICE has none
    assert set(r["malice"].history.agent) == {0}
    assert r["alice"].history.agent == (-1, -1, -1)


@pytest.mark.parametrize("seed", [2, 5])
def test_first_round_loss_is_the_exact_eq_6_loss_of_the_jbc_iterate(seed) -> None:
    """Round 1 scores the J-BC iterate: its loss is the exact ``malice_loss`` (eq. 6 with TV
    against the training demonstrations' empirical expert, 0 where uncovered) and
    ``alice_loss`` of that iterate, up to the adversary's Monte Carlo error (256 episodes,
    per-step losses in [0, 1]: 0.015 is several standard errors). The block features give
    each step's states sharing a block the same expert, so the TV estimate is exact."""
    from regretgap.learners.reweighting import alice_loss, malice_loss

    c = _game(0.05)
    game = c.game
    sim = game.simulator(_blocks(game))
    exact_demos = rg.as_demonstrations(
        rg.sample_trajectories(game, c.expert, n=1000, rng=np.random.default_rng(0))
    )
    demos = from_demonstrations(sim, exact_demos)
    policy = LogLinearMediator(game.num_actions)
    m = malice(
        sim,
        demos,
        rng=np.random.default_rng(seed),
        policy_class=policy,
        rounds=1,
        adversary_episodes=500,
    )
    a = alice(sim, demos, rng=np.random.default_rng(seed), policy_class=policy, rounds=1)
    train, _ = demos.split(0.2, np.random.default_rng(seed))
    kept = np.unique(train.episodes)
    counts = rg.Demonstrations(exact_demos.states[kept], exact_demos.actions[kept]).counts(game)
    jbc = policy.fit(train.features, train.actions, rng=np.random.default_rng(0)).table(sim)
    assert m.history.loss[0] == pytest.approx(malice_loss(game, jbc, counts)[0], abs=0.015)
    assert a.history.loss[0] == pytest.approx(alice_loss(game, jbc, counts), abs=0.015)


def test_history_records_weights_and_effective_sample_size(coverage_runs) -> None:
    """``rounds`` entries of loss, agent, max weight and ESS, ``rounds + 1`` validation
    scores, the best round their argmin; the deviation's weights concentrate on the few
    demonstrations at s_1 (ratio 1/(2 beta) = 10) so MALICE's ESS is below ALICE's."""
    for name in ("malice", "alice"):
        res = coverage_runs[name]
        assert isinstance(res, MaliceResult)
        hist = res.history
        assert len(hist.loss) == len(hist.agent) == len(hist.max_weight) == len(hist.ess) == 3
        assert len(hist.validation) == 4
        assert res.best_round == int(np.argmin(hist.validation))
        assert all(0 <= v <= 1 for v in hist.loss)
        assert all(v >= 0 for v in hist.validation)
        assert all(0 < e <= 800 * HORIZON for e in hist.ess)  # at most the training samples
    m, a = coverage_runs["malice"].history, coverage_runs["alice"].history
    assert min(m.max_weight) > 5 and max(a.max_weight) < 5
    assert max(m.ess) < min(a.ess)


class _NoStateCount:
    """The same simulator without ``num_states``: ``adversary="auto"`` must go fitted."""

    def __init__(self, sim: rg.TableSimulator) -> None:
        self._sim = sim
        self.num_actions, self.horizon = sim.num_actions, sim.horizon

    def reset(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self._sim.reset(rng, n)

    def step(self, states: np.ndarray, a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self._sim.step(states, a, rng)

    def observe(self, states: np.ndarray, h: int) -> np.ndarray:
        return self._sim.observe(states, h)


def test_fitted_adversary_on_features_only(coverage_runs) -> None:
    """Without ``num_states`` the deviation is learned by fitted Q on the features and
    applied to them; sampled MALICE still lands near the exact one, far below ALICE."""
    r = coverage_runs
    c = _game(0.05)
    exact_demos = rg.as_demonstrations(
        rg.sample_trajectories(c.game, c.expert, n=1000, rng=np.random.default_rng(0))
    )
    res = malice(
        _NoStateCount(r["sim"]),
        from_demonstrations(r["sim"], exact_demos),
        rng=np.random.default_rng(3),
        policy_class=LogLinearMediator(c.game.num_actions),
        rounds=3,
        adversary_episodes=500,
    )
    gap = rg.regret_gap(c.game, c.expert, res.policy.table(r["sim"]))
    assert abs(gap - r["exact_malice"]) < 0.15
    assert gap < r["sampled_alice"] - 0.4


def test_effective_sample_size_collapses_as_coverage_fails() -> None:
    """Assumption 5.2 from samples: as beta shrinks the deviation's ratio at s_1, about
    1 / (2 beta), grows and the weights' ESS falls (the exact learner would raise
    CoverageError at beta = 0; here the weights are clipped and the ESS reports it)."""
    ess, top = {}, {}
    for beta in (0.2, 0.01):
        c = _game(beta)
        sim = c.game.simulator(_blocks(c.game))
        demos = collect(sim, policy_recommender(c.expert), 1000, rng=np.random.default_rng(0))
        res = malice(
            sim,
            demos,
            rng=np.random.default_rng(1),
            policy_class=LogLinearMediator(c.game.num_actions),
            rounds=1,
            adversary_episodes=500,
        )
        ess[beta], top[beta] = res.history.ess[0], res.history.max_weight[0]
    assert top[0.2] < 3 < 20 < top[0.01]
    assert ess[0.01] < ess[0.2] / 3


def test_weights_respect_max_weight() -> None:
    c = _game(0.05)
    sim = c.game.simulator(_blocks(c.game))
    demos = collect(sim, policy_recommender(c.expert), 200, rng=np.random.default_rng(0))
    res = malice(
        sim,
        demos,
        rng=np.random.default_rng(1),
        policy_class=LogLinearMediator(c.game.num_actions),
        rounds=2,
        rollouts=64,
        adversary_episodes=250,
        max_weight=1.5,
    )
    assert max(res.history.max_weight) <= 1.5
    assert max(res.history.max_weight) == pytest.approx(1.5)  # the 1/(2 beta) ratio is cut


# ---------------------------------------------------------------------------------------
# a table: the weights cancel


@pytest.mark.parametrize("learner", [malice, alice])
def test_observation_table_returns_the_jbc_fit(learner) -> None:
    """On one-hot ``(h, s)`` features each row's weights are one number, so the weighted
    per-row frequencies are J-BC's (the exact learners' documented tabular behaviour)."""
    c = _game(0.1)
    sim = c.game.simulator()
    demos = collect(sim, policy_recommender(c.expert), 300, rng=np.random.default_rng(0))
    table = ObservationTable(c.game.num_actions)
    kw = {"adversary_episodes": 250} if learner is malice else {}
    res = learner(
        sim, demos, rng=np.random.default_rng(3), policy_class=table, rounds=2, rollouts=64, **kw
    )
    train, _ = demos.split(0.2, np.random.default_rng(3))  # the split is rng's first draw
    jbc = table.fit(train.features, train.actions, rng=np.random.default_rng(0))
    np.testing.assert_allclose(res.policy.table(sim), jbc.table(sim), atol=1e-12)
    assert max(res.history.max_weight) > 1  # the weights were not all equal


# ---------------------------------------------------------------------------------------
# bad input, all refused before any training


def _setup() -> tuple:
    c = _game(0.1)
    sim = c.game.simulator()
    demos = collect(sim, policy_recommender(c.expert), 20, rng=np.random.default_rng(0))
    return c.game, sim, demos, LogLinearMediator(c.game.num_actions)


def _with(demos: Samples, **fields: np.ndarray) -> Samples:
    """``demos`` with some fields replaced."""
    return dataclasses.replace(demos, **fields)


def _nan(demos: Samples) -> Samples:
    x = demos.features.copy()
    x[3, 1] = np.nan
    return _with(demos, features=x)


BAD = [
    (lambda g, s, d, p: dict(sim=g), "reward"),
    (lambda g, s, d, p: dict(rng=0), "Generator"),
    (lambda g, s, d, p: dict(rounds=0), "rounds"),
    (lambda g, s, d, p: dict(rollouts=0), "rollouts"),
    (lambda g, s, d, p: dict(adversary_episodes=0), "adversary_episodes"),
    (lambda g, s, d, p: dict(adversary="greedy"), "adversary"),
    (lambda g, s, d, p: dict(policy_class=object()), "MediatorPolicy"),
    (lambda g, s, d, p: dict(policy_class=LogLinearMediator((2, 2))), "num_actions"),
    (lambda g, s, d, p: dict(classifier=LogLinearMediator((3,))), "classifier"),
    (lambda g, s, d, p: dict(classifier=object()), "classifier"),
    (lambda g, s, d, p: dict(max_weight=0.0), "max_weight"),
    (lambda g, s, d, p: dict(max_weight=float("inf")), "max_weight"),
    (lambda g, s, d, p: dict(validation_fraction=1.0), "validation_fraction"),
    (lambda g, s, d, p: dict(demos=_nan(d)), "features"),
    (lambda g, s, d, p: dict(demos=d.take(d.episodes == 0)), "2 episodes"),
    (lambda g, s, d, p: dict(demos=_with(d, steps=d.steps + 1)), "steps"),
    (lambda g, s, d, p: dict(demos=_with(d, actions=d.actions + 9)), "actions"),
    (lambda g, s, d, p: dict(demos=_with(d, features=d.features[:, :3])), "columns"),
    (lambda g, s, d, p: dict(demos=(1, 2)), "demos"),
]


@pytest.mark.parametrize("change, message", BAD)
def test_bad_input_is_refused_before_training(change, message) -> None:
    game, sim, demos, policy = _setup()
    kwargs = dict(sim=sim, demos=demos, rng=np.random.default_rng(0), policy_class=policy)
    kwargs.update(change(game, sim, demos, policy))
    with pytest.raises(ValidationError, match=message):
        malice(kwargs.pop("sim"), kwargs.pop("demos"), **kwargs)


def test_alice_refuses_bad_input_too() -> None:
    _, sim, demos, policy = _setup()
    with pytest.raises(ValidationError, match="rollouts"):
        alice(sim, demos, rng=np.random.default_rng(0), policy_class=policy, rollouts=0)
    with pytest.raises(ValidationError, match="Generator"):
        alice(sim, demos, rng=np.random.RandomState(0), policy_class=policy)


def test_the_learners_import_nothing_that_holds_rewards() -> None:
    """Learners never read utilities: ``sampled.malice`` imports only the errors, the
    simulator, the data and the sampled data, policies and adversary (no evaluation, no
    utilities, no games)."""
    import ast
    import importlib
    from pathlib import Path

    # importlib: the package's ``malice`` attribute is the function, not the module
    module = importlib.import_module("regretgap.sampled.reweighting")
    tree = ast.parse(Path(module.__file__).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    allowed = {
        "__future__",
        "collections.abc",
        "math",
        "typing",
        "numpy",
        "regretgap._repr",  # one-line reprs of results: no rewards
        "regretgap._checks",  # argument checks: no rewards
        "regretgap._ftl",  # the follow-the-leader loop: imports numpy only
        "regretgap.errors",
        "regretgap.simulator",
        "regretgap.data",
        "regretgap.sampled.data",
        "regretgap.sampled.policies",
        "regretgap.sampled.adversary",
    }
    assert imported <= allowed, imported - allowed


def test_two_episodes_are_enough_one_is_not() -> None:
    """One episode is held out, so two is the least MALICE can split (the boundary)."""
    _, sim, demos, policy = _setup()
    two = demos.take(demos.episodes <= 1)
    res = malice(
        sim, two, rng=np.random.default_rng(0), policy_class=policy, rounds=1, rollouts=4,
        adversary_episodes=8,
    )  # fmt: skip
    assert len(res.iterates) == 2
    for bad in (True, "0.2", np.nan):
        with pytest.raises(ValidationError, match=r"validation_fraction must lie in \(0, 1\)"):
            malice(sim, demos, rng=np.random.default_rng(0), policy_class=policy,
                   validation_fraction=bad)  # fmt: skip


@pytest.mark.parametrize("learner", [malice, alice])
def test_each_iterate_is_scored_once_in_order(learner, monkeypatch) -> None:
    """``history.validation[k]`` is iterate ``k``'s held-out loss: the loop scores
    ``iterates[0], iterates[1], ...`` in turn, the last one in the extra pass after the
    last round (not an earlier iterate twice)."""
    from regretgap.sampled import reweighting

    scored: list = []
    original = reweighting._weighted_log_loss

    def spy(sigma, *args, **kwargs):
        scored.append(sigma)
        return original(sigma, *args, **kwargs)

    monkeypatch.setattr(reweighting, "_weighted_log_loss", spy)
    _, sim, demos, policy = _setup()
    extra = {"adversary_episodes": 8} if learner is malice else {}
    res = learner(
        sim, demos, rng=np.random.default_rng(0), policy_class=policy, rounds=3, rollouts=4,
        **extra,
    )  # fmt: skip
    assert len(scored) == len(res.iterates) == len(res.history.validation) == 4
    assert all(a is b for a, b in zip(scored, res.iterates, strict=True))
