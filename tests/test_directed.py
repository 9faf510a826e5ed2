"""The corridor game (a state behind k defections in a row), sampled DAgger's noisy
roll-ins, and the directed-deviations verdict on hand-made and measured results."""

from __future__ import annotations

import numpy as np
import pytest

import regretgap as rg
from regretgap import sampled
from regretgap.experiments import directed
from regretgap.experiments._verdict import CONSISTENT, INCONSISTENT
from regretgap.games import corridor_game
from regretgap.sampled.querying import NoisyPlay


@pytest.mark.parametrize("k", [1, 2, 4, 8])
def test_corridor_expert_is_a_ce_and_the_deep_state_decides_the_gap(k):
    c = corridor_game(k)
    game = c.game
    assert game.num_states == 1 + 2 * k and game.horizon == k + 1
    assert rg.regret(game, c.expert).value == pytest.approx(0.0, abs=1e-12)
    # punishing with probability q at both deep states: gain (2k+5)(1-q) - q - (k+1)
    for q in (0.0, 0.25, 0.5, 0.6, 1.0):
        sigma = c.expert.copy()
        for i, s in enumerate(c.deep):
            punish, spare = (1, 0) if i == 0 else (2, 0)
            sigma[:, s] = 0.0
            sigma[:, s, punish], sigma[:, s, spare] = q, 1 - q
        want = max(0.0, (2 * k + 5) * (1 - q) - q - (k + 1))
        assert rg.regret_gap(game, c.expert, sigma) == pytest.approx(want, abs=1e-9)
        assert rg.value_gap(game, c.expert, sigma) == pytest.approx(0.0, abs=1e-12)
    # uniform at the deep states: exactly 1; the corridor's recommendations do not matter
    uniform = c.expert.copy()
    uniform[:, list(c.deep)] = 0.25
    assert rg.regret_gap(game, c.expert, uniform) == pytest.approx(1.0)
    corridor = [s for s in range(1, game.num_states) if s not in c.deep]
    scrambled = c.expert.copy()
    scrambled[:, corridor] = 0.25
    assert rg.regret_gap(game, c.expert, scrambled) == pytest.approx(0.0, abs=1e-12)
    # the expert's own play never leaves N; only k defections in a row reach P_i
    d = rg.state_distribution(game, c.expert)
    assert np.allclose(d[:, 0], 1.0)
    assert rg.coverage(game, c.expert).uncovered.tolist() == sorted(range(1, game.num_states))


def test_corridor_rejects_bad_depth():
    for bad in (0, -1, 2.5, True):
        with pytest.raises(rg.ValidationError, match="depth must be a positive integer"):
            corridor_game(bad)


def test_noisy_play_deviates_at_the_stated_rate():
    """Each agent's played action departs from the joint action with probability
    p (n_i - 1) / n_i = 0.15; 20,000 draws give a standard error below 0.003."""
    c = corridor_game(2)
    sim = NoisyPlay(c.game.simulator(), 0.3)
    seen = []
    inner = sim._sim

    class Spy:
        num_actions, horizon = inner.num_actions, inner.horizon

        def step(self, states, joint, rng):
            seen.append(np.asarray(joint))
            return inner.step(states, joint, rng)

    sim._sim = Spy()
    rng = np.random.default_rng(0)
    s = inner.reset(rng, 20_000)
    sim.step(s, np.zeros(20_000, dtype=np.int64), rng)
    a0, a1 = np.unravel_index(seen[0], (2, 2))
    assert abs(a0.mean() - 0.15) < 0.012 and abs(a1.mean() - 0.15) < 0.012
    assert abs(np.mean((a0 == 1) & (a1 == 1)) - 0.0225) < 0.006  # independent per agent


def test_sampled_dagger_rate_zero_is_plain_dagger_and_bad_rates_are_refused():
    c = corridor_game(2)
    sim = c.game.simulator(c.features)
    expert = sampled.policy_recommender(c.expert)
    runs = [
        sampled.dagger(
            sim,
            expert,
            rng=np.random.default_rng(3),
            policy_class=sampled.ObservationTable((2, 2)),
            rounds=2,
            rollouts=16,
            **extra,
        )
        for extra in ({}, {"deviation_rate": 0.0})
    ]
    assert runs[0].history == runs[1].history and runs[0].queries == runs[1].queries
    for bad in (-0.1, 1.5, float("nan"), True, "0.3"):
        with pytest.raises(rg.ValidationError, match="deviation_rate must be a probability"):
            sampled.dagger(
                sim, expert, rng=np.random.default_rng(0),
                policy_class=sampled.ObservationTable((2, 2)), deviation_rate=bad,
            )  # fmt: skip


class _Spy:
    """A simulator that records the joint actions it is stepped with (what was played)."""

    def __init__(self, sim):
        self._sim, self.played = sim, []

    def __getattr__(self, name):
        return getattr(self._sim, name)

    def step(self, states, joint, rng):
        self.played.append(np.asarray(joint).copy())
        return self._sim.step(states, joint, rng)


@pytest.mark.parametrize("rate", [0.0, 0.3, 1.0])
def test_sampled_dagger_plays_noise_at_the_stated_rate(rate):
    """Through ``sampled.dagger`` itself: a table whose every row (seen or not) recommends
    (0, 0), one round of 4,000 episodes (H = 3, 8,000 played steps). Each agent departs
    from its recommendation w.p. p (n_i - 1) / n_i = p / 2, independently of the other
    (joint (1, 1) w.p. (p / 2)^2); at p = 1 play is uniform over the 4 joint actions. The
    bounds are 5 binomial standard errors (sqrt(q (1 - q) / 8000) <= 0.0056). The expert is
    still asked at every visited state (episodes * H queries)."""
    c = corridor_game(2)
    spy = _Spy(c.game.simulator(c.features))
    expert = sampled.policy_recommender(c.expert)
    demos = sampled.demonstrations(spy._sim, expert, 10, rng=np.random.default_rng(0))
    res = sampled.dagger(
        spy, expert, rng=np.random.default_rng(1), demos=demos, rounds=1, rollouts=4000,
        policy_class=sampled.ObservationTable((2, 2), default=[1.0, 0.0, 0.0, 0.0]),
        deviation_rate=rate,
    )  # fmt: skip
    assert res.queries == 4000 * c.game.horizon
    # the roll-in's batches (the simulator check before it steps a batch of 2)
    played = np.concatenate([a for a in spy.played if a.size == 4000])
    assert played.size == 4000 * (c.game.horizon - 1)
    freq = np.bincount(played, minlength=4) / played.size  # joint index 2 a_0 + a_1
    q = rate / 2
    want = np.array([(1 - q) ** 2, (1 - q) * q, q * (1 - q), q * q])
    bound = 5 * np.sqrt(want * (1 - want) / played.size)
    assert np.all(np.abs(freq - want) <= bound), (freq, want)
    a0, a1 = np.unravel_index(played, (2, 2))
    for a in (a0, a1):
        assert abs(a.mean() - q) <= 5 * np.sqrt(q * (1 - q) / played.size) + 1e-15
    if rate == 0.0:
        assert not played.any()  # obedient: exactly the recommendations


def test_sampled_dagger_rate_zero_reproduces_the_code_before_noise():
    """Pinned from ``sampled.dagger`` as it was before ``deviation_rate`` existed (commit
    8e5312e^, same seeds): rate 0 must not draw from the generator, or every later sample,
    fit and number moves."""
    c = corridor_game(2)
    sim = c.game.simulator(c.features)
    res = sampled.dagger(
        sim, sampled.policy_recommender(c.expert), rng=np.random.default_rng(11),
        policy_class=sampled.LogLinearMediator((2, 2), l2=1e-2), rounds=2, rollouts=16,
        deviation_rate=0.0,
    )  # fmt: skip
    assert res.queries == 96 and res.best_round == 2
    np.testing.assert_allclose(res.history.loss, [0.75, 0.000543166034386644], rtol=1e-6)
    np.testing.assert_allclose(
        res.history.validation, [0.75, 0.0010231602949427598, 0.0007296810301176127], rtol=1e-6
    )
    table = res.policy.table(sim)
    want = [
        [0.9997415161364165, 0.00012863629643941203, 0.0001286362980385694, 1.21126911e-06],
        [0.99721087404333, 0.0013914475671215243, 0.0013914475926343167, 6.23079691e-06],
        [0.011808853335946884, 0.9816244731237067, 0.006544829132867515, 2.18444075e-05],
        [0.9955007416376092, 0.0022453425823220886, 0.0022453426231791047, 8.57315689e-06],
        [0.011808852941519546, 0.006544828763294549, 0.9816244738883564, 2.18444068e-05],
    ]
    for h in range(c.game.horizon):
        np.testing.assert_allclose(table[h], want, rtol=1e-6)


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), True, "0.3", None])
def test_sampled_dagger_refuses_a_bad_rate_before_any_work(bad):
    """No reset, no step, no expert query before the refusal."""

    class Untouchable:
        num_actions, horizon = (2, 2), 3

        def __getattr__(self, name):
            raise AssertionError(f"touched the simulator ({name}) before refusing")

    def expert(states, h, rng):
        raise AssertionError("asked the expert before refusing")

    with pytest.raises(rg.ValidationError, match="deviation_rate must be a probability"):
        sampled.dagger(
            Untouchable(), expert, rng=np.random.default_rng(0),
            policy_class=sampled.ObservationTable((2, 2)), deviation_rate=bad,
        )  # fmt: skip


def test_sampled_noise_dagger_reaches_a_state_one_defection_away():
    """k = 1: the deep state is one defection from N. Obedient DAgger (starting from the
    expert's demonstrations) never asks there; noisy roll-ins do and close the gap."""
    c = corridor_game(1)
    sim = c.game.simulator(c.features)
    expert = sampled.policy_recommender(c.expert)
    demos = sampled.demonstrations(sim, expert, 20, rng=np.random.default_rng(1))
    gaps = {}
    for rate in (0.0, 0.3):
        res = sampled.dagger(
            sim, expert, rng=np.random.default_rng(2),
            policy_class=sampled.ObservationTable((2, 2)),
            demos=demos, rounds=2, rollouts=200, deviation_rate=rate,
        )  # fmt: skip
        gaps[rate] = rg.regret_gap(c.game, c.expert, res.policy.table(sim))
    assert gaps[0.0] == pytest.approx(1.0)
    assert gaps[0.3] == pytest.approx(0.0, abs=1e-9)


def _results(blades_gaps, baseline_gaps, k=8, cls="table"):
    out = []
    for j, (a, b) in enumerate(zip(blades_gaps, baseline_gaps, strict=True)):
        for name in ("blades", "blades_optimistic"):
            out.append(({"k": k, "learner": name, "class": cls, "seed": j}, {"regret_gap": a}))
        for name in ("dagger", "dagger_0.1", "dagger_0.3"):
            out.append(({"k": k, "learner": name, "class": cls, "seed": j}, {"regret_gap": b}))
    return out


def test_directed_verdict_both_ways():
    ok = directed.verdict(_results([0.0] * 10, [1.0, 0.0, 1.0, 1.0, 1.0] * 2))
    assert [v.word for v in ok] == [CONSISTENT] * 2
    tie = directed.verdict(_results([0.0, 1.0] * 5, [1.0, 0.0] * 5))
    assert [v.word for v in tie] == [INCONSISTENT] * 2
    # separated intervals but not "far below" (more than 10% of the baseline's mean)
    close = directed.verdict(_results([0.5] * 10, [1.0] * 10))
    assert [v.word for v in close] == [INCONSISTENT] * 2
    # shallow depths are not judged
    assert directed.verdict(_results([1.0] * 5, [0.0] * 5, k=4)) == []


def test_directed_verdict_takes_the_strongest_baseline():
    res = _results([0.0] * 10, [1.0] * 10)
    for config, metrics in res:
        if config["learner"] == "dagger_0.3":
            metrics["regret_gap"] = 0.0  # noise at 0.3 matches BLADES
    for row in directed.verdict(res):
        assert row.word == INCONSISTENT and "DAgger+noise 0.3" in row.measured


def test_optimistic_adversary_finds_the_deep_state_the_default_one_misses():
    """Log-linear mediator, k = 8: every corridor step already looks learned (the intercept
    carries the demonstrations' (0, 0)), so only the deep state disagrees with the expert.
    The default adversary finds it only by chance; the optimistic one walks there."""
    c = corridor_game(8)
    sim = c.game.simulator(c.features)
    expert = sampled.policy_recommender(c.expert)
    settings = dict(directed.BLADES_ROUND)
    per = sampled.blades_episodes_per_round(2, **settings)
    gaps = {}
    for optimism in (False, True):
        demos = sampled.demonstrations(sim, expert, 20, rng=np.random.default_rng(101))
        res = sampled.blades(
            sim, expert, rng=np.random.default_rng(1),
            policy_class=sampled.LogLinearMediator((2, 2), l2=1e-2), demos=demos, rounds=3,
            query_budget=3 * per * c.game.horizon, optimism=optimism, **settings,
        )  # fmt: skip
        gaps[optimism] = rg.regret_gap(c.game, c.expert, res.policy.table(sim))
    assert gaps[True] < 1e-3 and gaps[False] > 1.0, gaps
    with pytest.raises(rg.ValidationError, match="optimism must be True or False"):
        sampled.blades(sim, expert, rng=np.random.default_rng(0),
                       policy_class=sampled.ObservationTable((2, 2)), optimism=1)  # fmt: skip


# -- tables_fail: BLADES against the strongest of DAgger and DAgger+noise ---------------


def _tables_fail_results(gaps: dict[str, list[float]]) -> list[tuple[dict, dict]]:
    return [
        ({"learner": name, "class": "loglinear", "seed": j}, {"regret_gap": g})
        for name, values in gaps.items()
        for j, g in enumerate(values)
    ]


def _strongest_row(gaps):
    from regretgap.experiments import tables_fail

    rows = [
        v for v in tables_fail.verdict(_tables_fail_results(gaps))
        if v.claim == "Theorem 5.9 vs Theorem 4.5"
    ]  # fmt: skip
    assert len(rows) <= 1
    return rows[0] if rows else None


def test_tables_fail_blades_row_both_ways():
    from regretgap.experiments._verdict import CLAIM

    blades = [0.0030, 0.0032, 0.0028, 0.0031, 0.0029]
    # both baselines clearly worse: consistent, judged against the better one (noise)
    ok = _strongest_row(
        {"blades": blades, "dagger": [0.5, 0.6, 0.55, 0.52, 0.58],
         "dagger_noise": [0.05, 0.06, 0.04, 0.05, 0.055]}
    )  # fmt: skip
    assert ok.word == CONSISTENT and ok.kind == CLAIM
    assert ok.measured.endswith("strongest: DAgger+noise")
    assert ok.numbers["other_mean"] == pytest.approx(0.051)
    # the case: DAgger is far worse, but DAgger+noise matches BLADES (0.0034 vs
    # 0.003): no separation from the strongest baseline, so inconsistent
    tie = _strongest_row(
        {"blades": blades, "dagger": [0.5, 0.6, 0.55, 0.52, 0.58],
         "dagger_noise": [0.0034, 0.0036, 0.0031, 0.0035, 0.0034]}
    )  # fmt: skip
    assert tie.word == INCONSISTENT and "strongest: DAgger+noise" in tie.measured
    assert tie.numbers["dagger_mean"] == pytest.approx(0.55)
    # narrow intervals apart, but BLADES only 12% lower: separated is not "beats"
    narrow = _strongest_row(
        {"blades": [0.0030, 0.00301, 0.00299] * 2, "dagger": [0.5] * 6,
         "dagger_noise": [0.0034, 0.00341, 0.00339] * 2}
    )  # fmt: skip
    assert narrow.numbers["high"] < narrow.numbers["other_low"]
    assert narrow.word == INCONSISTENT
    # at exactly half the baseline's mean it still beats it
    # a third of the baseline's mean, but one bad seed leaves the intervals overlapping
    wide = _strongest_row(
        {"blades": [0.0, 0.0, 0.0, 0.0, 0.5], "dagger": [0.9] * 5, "dagger_noise": [0.3] * 5}
    )
    assert wide.numbers["mean"] <= 0.5 * wide.numbers["other_mean"]
    assert wide.numbers["high"] > 0.3 and wide.word == INCONSISTENT
    e = 2.0**-10  # binary fractions: the means are exactly 0.25 and 0.5
    half = _strongest_row(
        {"blades": [0.25, 0.25 + e, 0.25 - e] * 2, "dagger": [0.9] * 6,
         "dagger_noise": [0.5, 0.5 + e, 0.5 - e] * 2}
    )  # fmt: skip
    assert half.numbers["mean"] == 0.25 and half.numbers["other_mean"] == 0.5
    assert half.word == CONSISTENT


def test_tables_fail_blades_row_takes_the_lowest_mean_baseline():
    blades = [0.0030, 0.0032, 0.0028, 0.0031, 0.0029]
    # here plain DAgger is the stronger one: BLADES below DAgger+noise is not enough
    row = _strongest_row(
        {"blades": blades, "dagger": [0.003] * 5, "dagger_noise": [0.5, 0.6, 0.55, 0.52, 0.58]}
    )  # fmt: skip
    assert row.word == INCONSISTENT and row.measured.endswith("strongest: DAgger")
    # without DAgger+noise runs the row compares with DAgger alone; without BLADES, no row
    alone = _strongest_row({"blades": blades, "dagger": [0.5, 0.6, 0.55, 0.52, 0.58]})
    assert alone.word == CONSISTENT and alone.measured.endswith("strongest: DAgger")
    assert _strongest_row({"dagger": [0.5] * 5, "dagger_noise": [0.4] * 5}) is None


def test_directed_quick_runs_are_default_runs_at_the_deepest_k():
    """--quick: k = 8 only and the first QUICK_SEEDS seeds, every run one the default makes
    (same keys, so a default run after a quick one resumes from them)."""
    quick = directed.runs(directed.Args(quick=True))
    full = {spec.key for spec in directed.runs(directed.Args())}
    assert {spec.key for spec in quick} <= full
    assert {spec.config["k"] for spec in quick} == {8}
    assert {spec.config["seed"] for spec in quick} == set(range(directed.QUICK_SEEDS))
    assert len(quick) == len(directed.LEARNERS) * len(directed.CLASSES) * directed.QUICK_SEEDS
