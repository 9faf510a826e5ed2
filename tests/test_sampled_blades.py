"""Sampled J-BC, BLADES and DAgger: scored with the exact core in tests only.

The learners see a reward-free simulator, features and sampled expert answers; the tests
tabulate their policies (``policy.table(game)``) and score them with ``regretgap.regret_gap``
against the exact learners on the same game.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import regretgap as rg
from regretgap.errors import ValidationError
from regretgap.games import random_game, theorem_4_5
from regretgap.sampled import (
    BladesResult,
    JBCResult,
    LogLinearMediator,
    ObservationTable,
    blades,
    blades_episodes_per_round,
    dagger,
    demonstrations,
    from_demonstrations,
    jbc,
    policy_recommender,
)

SAMPLED = Path(rg.__file__).parent / "sampled"


class _Recording:
    """An expert that remembers the ``(h, state)`` of every query it answered."""

    def __init__(self, sigma: np.ndarray) -> None:
        self.answer = policy_recommender(sigma)
        self.asked: list[tuple[int, np.ndarray]] = []

    def __call__(self, states, h, rng):
        self.asked.append((h, np.asarray(states).copy()))
        return self.answer(states, h, rng)

    def visits(self, h: int, s: int) -> int:
        return sum(int((st == s).sum()) for hh, st in self.asked if hh == h)


def _t45(horizon: int, n_demos: int = 200):
    c = theorem_4_5(horizon)
    traj = rg.sample_trajectories(c.game, c.expert, n=n_demos, rng=np.random.default_rng(0))
    demos = rg.as_demonstrations(traj)
    return c, demos, from_demonstrations(c.game.simulator(), demos)


@pytest.mark.parametrize("horizon", [4, 6])
def test_theorem_4_5_blades_queries_the_deviation_state_and_dagger_cannot(horizon: int) -> None:
    """Theorem 4.5: s_1 is reached only by agent 0 deviating a1 -> a2 at s_0 (the expert and
    every demonstration stay on the lower path). BLADES queries it and learns (a3, a3)
    there: regret gap 0. DAgger at equal queries never leaves the lower path and keeps the
    uniform default at s_1: regret gap (H - 2) / 3 (``expected["regret_uniform_at_s1"]``).
    The exact learners give the same two numbers."""
    c, demos_exact, demos = _t45(horizon)
    g, sim = c.game, c.game.simulator()
    kw = {"rollouts": 64, "adversary_episodes": 64, "adversary_batch": 16}
    expert = _Recording(c.expert)
    res = blades(
        sim, expert, rng=np.random.default_rng(1), policy_class=ObservationTable((3, 3)),
        demos=demos, rounds=2, **kw,
    )  # fmt: skip
    assert isinstance(res, BladesResult)
    per_round = blades_episodes_per_round(2, **kw) * horizon
    assert res.queries == 2 * per_round == res.history.queries[-1]
    # agent 0's greedy deviation sends every one of its round-1 evaluation episodes to s_1
    assert expert.visits(1, 1) >= kw["rollouts"]
    sigma = res.policy.table(g)
    np.testing.assert_array_equal(sigma[1, 1], c.expert[1])
    assert res.best_round >= 1
    assert rg.regret_gap(g, c.expert, sigma) == pytest.approx(0.0, abs=1e-12)
    assert rg.value_gap(g, c.expert, sigma) == pytest.approx(0.0, abs=1e-12)
    # round 1's loss, eq. 7 per step: sigma_1 is uniform at s_1 and on the upper path, the
    # expert deterministic, so 1 - sigma_1(a_E|x) = 8/9 there and 0 on the lower path.
    # Agent 0 deviates at s_0 (-> s_1) and at s_1 (-> upper path iff agent 1 is told a1,
    # w.p. 1/3): J = 8/9 (1 + (H - 2)/3); its Monte Carlo stderr is res' own, <= 4 se.
    want = 8 / 9 * (1 + (horizon - 2) / 3) / horizon
    se = 8 / 9 * (horizon - 2) * np.sqrt(2) / 3 / np.sqrt(kw["rollouts"]) / horizon
    assert res.history.agent[0] == 0
    assert abs(res.history.loss[0] - want) <= 4 * se
    assert res.history.loss[1] == pytest.approx(0.0, abs=1e-12)  # nothing left to find

    watched = _Recording(c.expert)
    dag = dagger(
        sim, watched, rng=np.random.default_rng(1), policy_class=ObservationTable((3, 3)),
        demos=demos, rounds=2, rollouts=blades_episodes_per_round(2, **kw),
        query_budget=res.queries,
    )  # fmt: skip
    assert dag.queries == res.queries and dag.history.agent == (-1, -1)
    assert watched.visits(1, 1) == 0
    gap = (horizon - 2) / 3
    assert c.expected["regret_uniform_at_s1"] == gap
    assert rg.regret_gap(g, c.expert, dag.policy.table(g)) == pytest.approx(gap, abs=1e-12)

    exact_b = rg.blades(g, rg.QueryableExpert(c.expert), rng=np.random.default_rng(0),
                        demos=demos_exact, rounds=2)  # fmt: skip
    exact_d = rg.dagger(g, rg.QueryableExpert(c.expert), rng=np.random.default_rng(0),
                        demos=demos_exact, rounds=2)  # fmt: skip
    assert rg.regret_gap(g, c.expert, exact_b.policy) == pytest.approx(0.0, abs=1e-12)
    assert rg.regret_gap(g, c.expert, exact_d.policy) == pytest.approx(gap, abs=1e-12)


def _random_case(seed: int, deterministic: bool):
    rng = np.random.default_rng(seed)
    game = random_game(6, (2, 2), 3, rng=rng, branching=3)
    ce = rg.markov_ce(game, objective="random", rng=rng)
    expert = np.eye(4)[ce.argmax(-1)] if deterministic else 0.7 * ce + 0.3 / 4
    traj = rg.sample_trajectories(game, expert, n=20, rng=np.random.default_rng(0))
    return game, expert, rg.as_demonstrations(traj)


@pytest.mark.parametrize("seed", [0, 3])
def test_random_game_deterministic_expert_matches_exact_blades(seed: int) -> None:
    """A deterministic expert: every answer is sigma_E's action, so the table equals sigma_E
    at every answered state and stays uniform elsewhere; with the same rounds the regret
    gap is the exact BLADES's up to the states only the exact one reached (measured
    0.0000 and 0.0001 on both, seeds 0 and 3). The budget is not a multiple of a round's
    cost: the learner stops cleanly before exceeding it."""
    game, expert, demos = _random_case(seed, deterministic=True)
    sim = game.simulator()
    kw = {"rollouts": 32, "adversary_episodes": 64, "adversary_batch": 16}
    per_round = blades_episodes_per_round(2, **kw) * game.horizon
    budget = 3 * per_round + per_round // 2
    watched = _Recording(expert)
    res = blades(
        sim, watched, rng=np.random.default_rng(1), policy_class=ObservationTable((2, 2)),
        demos=from_demonstrations(sim, demos), rounds=8, query_budget=budget, **kw,
    )  # fmt: skip
    assert res.queries == 3 * per_round <= budget
    assert len(res.history.loss) == 3 and len(res.history.validation) == 4
    assert res.history.validation[res.best_round] == min(res.history.validation)
    sigma = res.policy.table(game)
    # each row is sigma_E's (some answer there was fitted) or the unseen row's uniform
    fitted = (sigma == expert).all(axis=-1)
    assert (fitted | (sigma == 0.25).all(axis=-1)).all()
    answered = {(h, int(s)) for h, st in watched.asked for s in st}
    assert {(int(h), int(s)) for h, s in np.argwhere(fitted)} <= answered | set(
        zip(*np.nonzero(demos.counts(game).sum(-1)), strict=True)
    )
    exact = rg.blades(game, rg.QueryableExpert(expert), rng=np.random.default_rng(0),
                      demos=demos, rounds=3)  # fmt: skip
    gap = rg.regret_gap(game, expert, sigma)
    assert gap == pytest.approx(rg.regret_gap(game, expert, exact.policy), abs=0.01)


@pytest.mark.parametrize("seed", [0, 2])
def test_random_game_stochastic_expert_is_close_to_exact_blades(seed: int) -> None:
    """A stochastic expert answers with samples, so the table holds empirical distributions:
    about 2304 * 0.8 / 18 ~ 100 answers per (h, s), a per-state TV error ~0.1, which moves
    the regret gap by at most the occupancy-weighted sum of 2 (H - h) TV over the states
    deviations reach (simulation lemma, |r| <= 1): a few hundredths here, so 0.06. Measured
    over seeds 0..9: |sampled - exact| <= 0.04, exact BLADES with sampled answers within
    0.04 of it too; J-BC on the 20 demonstrations alone is 0.2 (seeds 0, 2) and far off."""
    game, expert, demos = _random_case(seed, deterministic=False)
    sim = game.simulator()
    res = blades(
        sim, policy_recommender(expert), rng=np.random.default_rng(1),
        policy_class=ObservationTable((2, 2)), demos=from_demonstrations(sim, demos), rounds=4,
        rollouts=32, adversary_episodes=64, adversary_batch=16,
    )  # fmt: skip
    gap = rg.regret_gap(game, expert, res.policy.table(game))
    exact = rg.blades(game, rg.QueryableExpert(expert), rng=np.random.default_rng(0),
                      demos=demos, rounds=4)  # fmt: skip
    assert gap == pytest.approx(rg.regret_gap(game, expert, exact.policy), abs=0.06)
    assert gap < rg.regret_gap(game, expert, rg.jbc(game, demos).policy) - 0.1


def test_jbc_on_exact_demonstrations_is_exact_jbc() -> None:
    """ObservationTable on the one-hot of (h, s) is the exact core's Tabular class."""
    rng = np.random.default_rng(5)
    game = random_game(5, (2, 3), 4, rng=rng)
    sigma_e = rng.dirichlet(np.ones(6), size=(4, 5))
    demos = rg.as_demonstrations(rg.sample_trajectories(game, sigma_e, n=30, rng=rng))
    sim = game.simulator()
    res = jbc(sim, from_demonstrations(sim, demos), rng=rng, policy_class=ObservationTable((2, 3)))
    assert isinstance(res, JBCResult)
    np.testing.assert_allclose(res.policy.table(game), rg.jbc(game, demos).policy, atol=1e-12)
    assert 0 < res.history.disagreement < 1 and np.isfinite(res.history.log_loss)


class _Chain:
    """A simulator written as plain Python, not a TableSimulator: no num_states, no rewards.

    Two agents with two actions; state 0 moves to the absorbing state 1 only on the joint
    action (1, 0) (flat 2), otherwise stays. Features: one-hot of the state, then of h.
    The expert recommends (0, 0) at state 0 and (1, 1) at state 1, so it never leaves
    state 0; agent 0 deviating 0 -> 1 does.
    """

    num_actions = (2, 2)
    horizon = 4

    def reset(self, rng, n):
        return np.zeros(n, dtype=np.int64)

    def step(self, states, joint_actions, rng):
        return np.where(np.asarray(joint_actions) == 2, 1, np.asarray(states))

    def observe(self, states, h):
        x = np.zeros((len(states), 2 + self.horizon))
        x[np.arange(len(states)), np.asarray(states)] = 1.0
        x[:, 2 + h] = 1.0
        return x


def _chain_expert(states, h, rng):
    return np.where(np.asarray(states) == 1, 3, 0)


def test_learners_run_on_a_plain_python_simulator() -> None:
    """No num_states, so BLADES's adversary is fitted Q on features; the learners can only
    read what a reward-free simulator gives. BLADES learns (1, 1) at the state only the
    deviation reaches; DAgger and J-BC never see it (uniform there)."""
    sim = _Chain()
    rng = np.random.default_rng(0)
    demos = demonstrations(sim, _chain_expert, 8, rng=rng)
    cls = ObservationTable((2, 2))
    off_path = sim.observe(np.ones(1, dtype=np.int64), 2)
    bc = jbc(sim, demos, rng=rng, policy_class=cls)
    np.testing.assert_allclose(bc.policy.probs(off_path), 0.25)
    kw = {"rollouts": 16, "adversary_episodes": 32, "adversary_batch": 16}
    res = blades(sim, _chain_expert, rng=rng, policy_class=cls, demos=demos, rounds=2, **kw)
    np.testing.assert_allclose(res.policy.probs(off_path), [[0, 0, 0, 1]])
    assert res.history.loss[0] > 0 and res.history.agent[0] == 0
    dag = dagger(sim, _chain_expert, rng=rng, policy_class=cls, demos=demos, rounds=2,
                 rollouts=blades_episodes_per_round(2, **kw))  # fmt: skip
    assert dag.queries == res.queries
    np.testing.assert_allclose(dag.policy.probs(off_path), 0.25)
    # a class that generalises runs the same loop
    lin = blades(sim, _chain_expert, rng=rng, policy_class=LogLinearMediator((2, 2), l2=1e-4),
                 demos=demos, rounds=1, **kw)  # fmt: skip
    assert lin.policy.probs(off_path)[0, 3] > 0.9


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def test_sampled_learners_import_no_evaluator_and_no_rewards() -> None:
    """Direct imports only (importing any submodule runs the package's __init__, which is
    not a read of utilities). policies.py imports regretgap.game for the MarkovGame type of
    ``table(game)``, the tabulation the exact core scores: allowed there and nowhere else."""
    forbidden = ("regretgap.evaluation", "regretgap.utilities", "regretgap.losses")
    for name in ("cloning", "querying", "data", "policies", "adversary"):
        found = _imports(SAMPLED / f"{name}.py")
        ours = {m for m in found if m == "regretgap" or m.startswith("regretgap.")}
        assert not {m for m in ours if m.startswith(forbidden)}, name
        assert "regretgap" not in ours, f"{name} imports the package's top level"
        game = {m for m in ours if m.startswith("regretgap.game")}
        assert game <= (
            {"regretgap.game", "regretgap.game.MarkovGame"} if name == "policies" else set()
        ), name
    learner_ok = {
        "regretgap.errors", "regretgap.simulator", "regretgap.data", "regretgap._repr",
        "regretgap._checks", "regretgap._ftl",
        "regretgap.sampled.data", "regretgap.sampled.policies", "regretgap.sampled.adversary",
        "regretgap.sampled.cloning",
    }  # fmt: skip
    for name in ("cloning", "querying"):
        modules = {m for m in _imports(SAMPLED / f"{name}.py") if m.startswith("regretgap.")}
        assert {m.rsplit(".", 1)[0] if m not in learner_ok else m for m in modules} <= learner_ok


class _NaNSim(_Chain):
    def observe(self, states, h):
        x = super().observe(states, h)
        if h == 2:
            x[:, 1] = np.nan
        return x


class _ShortSim(_Chain):
    def step(self, states, joint_actions, rng):
        return super().step(states, joint_actions, rng)[:-1]


def _never(states, h, rng):
    raise AssertionError("the expert was asked before the arguments were checked")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s, p: blades(s, _never, rng=np.random.default_rng(0), policy_class=p,
                             query_budget=0),
         "budget must be a positive"),
        (lambda s, p: dagger(s, _never, rng=np.random.default_rng(0), policy_class=p, rounds=0),
         "rounds"),
        (lambda s, p: blades(s, _never, rng=np.random.default_rng(0), policy_class=p, rollouts=0),
         "rollouts"),
        (lambda s, p: blades(s, _never, rng=np.random.default_rng(0), policy_class=p,
                             query_budget=100), "below one round"),
        (lambda s, p: blades(s, _never, rng=np.random.default_rng(0), policy_class=p,
                             validation_fraction=1.0), "validation_fraction"),
        (lambda s, p: blades(s, _never, rng=np.random.default_rng(0), policy_class=p,
                             adversary="greedy"), "adversary"),
        (lambda s, p: blades(s, _never, rng=np.random.default_rng(0), policy_class=p,
                             adversary="tabular"), "no num_states"),
        (lambda s, p: dagger(s, _never, rng=np.random.default_rng(0),
                             policy_class=ObservationTable((3, 3))), "num_actions"),
        (lambda s, p: dagger(s, _never, rng=0, policy_class=p), "Generator"),
        (lambda s, p: dagger(_NaNSim(), _never, rng=np.random.default_rng(0), policy_class=p),
         "h = 2 gave feature 1"),
        (lambda s, p: blades(_ShortSim(), _never, rng=np.random.default_rng(0), policy_class=p),
         "returned 1 states, expected 2"),
        (lambda s, p: blades(s, _never, rng=np.random.default_rng(0), policy_class=p,
                             demos=(np.zeros((2, 3)), [0, 0], [0, 0], [0, 1])), "3 columns"),
        (lambda s, p: jbc(s, (np.zeros((2, 6)), [0, 4], [0, 0], [0, 1]),
                          rng=np.random.default_rng(0), policy_class=p), r"actions\[1\] = 4"),
        (lambda s, p: dagger(s, _never, rng=np.random.default_rng(0), policy_class=p,
                             demos=(np.zeros((2, 6)), [0, 0], [0, 7], [0, 1])), "step 7"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_before_any_query(call, message) -> None:
    sim, cls = _Chain(), ObservationTable((2, 2))
    with pytest.raises(ValidationError, match=message):
        call(sim, cls)


def test_expert_answers_outside_the_joint_actions_name_the_step() -> None:
    sim = _Chain()

    def liar(states, h, rng):
        return np.where(np.full(len(states), h == 1), 4, 0)

    with pytest.raises(ValidationError, match=r"expert's answer at h = 1.*outside 0\.\.3"):
        dagger(sim, liar, rng=np.random.default_rng(0), policy_class=ObservationTable((2, 2)))
    with pytest.raises(ValidationError, match=r"expert's answer at h = 1"):
        blades(sim, liar, rng=np.random.default_rng(0), policy_class=ObservationTable((2, 2)))


class _Forgetful(ObservationTable):
    """A class whose fit on more than ``limit`` samples forgets everything (uniform)."""

    limit = 1300

    def fit(self, features, actions, weights=None, *, rng):
        if len(actions) > self.limit:
            return super().fit(np.zeros((0, 1)), np.zeros(0, dtype=np.int64), rng=rng)
        return super().fit(features, actions, weights, rng=rng)


def test_best_iterate_is_the_least_held_out_disagreement() -> None:
    """Theorem 4.5, H = 4: 800 demonstrated samples, 77 of a round's 96 episodes (x 4 steps)
    kept for fitting, so the iterates fit 800, 1108 and 1416 samples. Iterate 1 has learned
    s_1; iterate 2 forgets everything; iterate 0 is uniform at s_1, which every round's
    held-out answers visit. The best is iterate 1, not the last."""
    c, _, demos = _t45(4)
    res = blades(
        c.game.simulator(), policy_recommender(c.expert), rng=np.random.default_rng(2),
        policy_class=_Forgetful((3, 3)), demos=demos, rounds=2, rollouts=16,
        adversary_episodes=32, adversary_batch=16,
    )  # fmt: skip
    v = res.history.validation
    assert res.best_round == 1 and v[1] < v[0] < v[2]
    np.testing.assert_array_equal(res.policy.table(c.game)[1, 1], c.expert[1])


def test_auto_is_tabular_on_a_table_simulator_after_one_drawn_start() -> None:
    """``adversary="auto"`` on a simulator with ``num_states`` draws one start from ``rng``
    to see the state type (kept: the stream the report's numbers came from), then runs the
    tabular adversary: the same run as ``"tabular"`` with ``rng`` advanced by that draw."""
    c, _, demos = _t45(4, n_demos=20)
    sim = c.game.simulator()
    kw = {"rollouts": 8, "adversary_episodes": 16, "adversary_batch": 8, "rounds": 2}

    def run(adversary: str, rng: np.random.Generator):
        return blades(
            sim, policy_recommender(c.expert), rng=rng, demos=demos,
            policy_class=ObservationTable((3, 3)), adversary=adversary, **kw,
        )  # fmt: skip

    auto = run("auto", np.random.default_rng(5))
    rng = np.random.default_rng(5)
    sim.reset(rng, 1)
    tabular = run("tabular", rng)
    assert auto.history == tabular.history
    np.testing.assert_array_equal(auto.policy.table(c.game), tabular.policy.table(c.game))
    plain = run("tabular", np.random.default_rng(5))  # without the draw: another stream
    assert plain.history != auto.history


def test_noisy_play_draws_every_action_of_every_agent_uniformly() -> None:
    """DAgger's noise at rate 1: each agent's played action is uniform over all of its own
    (action 0 included), whatever was recommended. Counts within 5 binomial sigmas."""
    from regretgap.sampled.querying import NoisyPlay

    class Recording:
        num_actions = (2, 3)

        def step(self, states, joint_actions, rng):
            self.played = np.asarray(joint_actions)
            return states

    sim = Recording()
    n = 60_000
    NoisyPlay(sim, 1.0).step(np.zeros(n, dtype=int), np.full(n, 5), np.random.default_rng(0))
    for i, k in enumerate((2, 3)):
        counts = np.bincount(np.unravel_index(sim.played, (2, 3))[i], minlength=k)
        p = 1 / k
        assert np.all(np.abs(counts - n * p) <= 5 * np.sqrt(n * p * (1 - p))), (i, counts)
    NoisyPlay(sim, 0.0).step(np.zeros(4, dtype=int), np.full(4, 5), np.random.default_rng(0))
    np.testing.assert_array_equal(sim.played, 5)  # rate 0: the recommendation is played


def test_a_budget_of_exactly_one_round_is_enough() -> None:
    c, _, demos = _t45(4, n_demos=20)
    kw = {"rollouts": 4, "adversary_episodes": 8, "adversary_batch": 4}
    cost = blades_episodes_per_round(2, **kw) * 4
    run = dict(demos=demos, rounds=3, policy_class=ObservationTable((3, 3)), **kw)
    sim, expert = c.game.simulator(), policy_recommender(c.expert)
    res = blades(sim, expert, rng=np.random.default_rng(0), query_budget=cost, **run)
    assert res.queries == cost and len(res.history.loss) == 1  # one round, then stop
    with pytest.raises(ValidationError, match="below one round"):
        blades(sim, expert, rng=np.random.default_rng(0), query_budget=cost - 1, **run)


def test_optimism_is_off_unless_asked() -> None:
    """``optimism=True`` values untried deviation steps at 1 (tabular adversary): it changes
    what BLADES explores, and the default is off."""
    c, _, demos = _t45(4, n_demos=20)
    kw = {"rollouts": 4, "adversary_episodes": 8, "adversary_batch": 4, "rounds": 2}

    def run(**extra):
        return blades(
            c.game.simulator(), policy_recommender(c.expert), rng=np.random.default_rng(0),
            demos=demos, adversary="tabular", policy_class=ObservationTable((3, 3)), **kw,
            **extra,
        ).history  # fmt: skip

    default = run()
    assert default == run(optimism=False)
    assert default != run(optimism=True)
