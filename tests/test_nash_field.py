"""The field comparison: its games, its answer counting, every verdict
word on hand-made results, and the quick run's measured findings."""

from __future__ import annotations

import numpy as np
import pytest

import regretgap as rg
from regretgap.experiments import nash_field as nf
from regretgap.experiments._verdict import (
    CONSISTENT,
    INCONSISTENT,
    NOT_APPLICABLE,
    mean_ci,
    select,
)

INF = float("inf")


def _results(curves, coefficients, answers=None, seeds=5, levels=(0, 1, 2)):
    """``curves[(game, learner)](level, seed) -> Nash gap``; ``answers[learner](level)``."""
    answers = answers or {}
    out = []
    for (g, name), f in curves.items():
        for lv in levels:
            for k in range(seeds):
                gap = f(lv, k)
                metrics = {
                    "nash_gap": gap,
                    "regret_gap": gap,
                    "answers": answers.get(name, lambda lv: 10 * 4**lv)(lv),
                    "concentrability": coefficients[g],
                }
                out.append(({"game": g, "learner": name, "level": lv, "seed": k}, metrics))
    return out


def _words(results):
    return {v.claim: v.word for v in nf.verdict(results)}


def jitter(k):
    return 1 + 0.02 * (k % 3)


FLAT = lambda lv, k: 1.0 * jitter(k)  # noqa: E731
FALLING = lambda lv, k: 1.0 / 4**lv * jitter(k)  # noqa: E731
BC_INF = "Freihaut et al.: BC's Nash gap stays away from 0 (infinite concentrability)"
BC_FIN = "Freihaut et al.: BC's Nash gap falls with data (finite concentrability)"
MUR = "Freihaut et al.: MURMAIL's Nash gap falls with queries"
BRO = "Freihaut et al.: MAIL-BRO needs fewer expert queries than MURMAIL"


def test_bc_claims_both_ways_follow_the_measured_coefficient():
    coeff = {"grid": INF, "random": 3.0}
    good = _results({("grid", "jbc_product"): FLAT, ("random", "jbc_product"): FALLING}, coeff)
    assert _words(good)[BC_INF] == CONSISTENT
    assert _words(good)[BC_FIN] == CONSISTENT
    # swapped: BC learns where it should not and stalls where it should learn
    bad = _results({("grid", "jbc_product"): FALLING, ("random", "jbc_product"): FLAT}, coeff)
    assert _words(bad)[BC_INF] == INCONSISTENT
    assert _words(bad)[BC_FIN] == INCONSISTENT
    # a flat gap of exactly 0 is not "bounded away from 0"
    zero = _results({("grid", "jbc_product"): lambda lv, k: 0.0}, coeff)
    assert _words(zero)[BC_INF] == INCONSISTENT
    # the same curves with the coefficients swapped: the claims swap rows
    swapped = _results(
        {("grid", "jbc_product"): FLAT, ("random", "jbc_product"): FALLING},
        {"grid": 3.0, "random": INF},
    )
    assert _words(swapped)[BC_INF] == INCONSISTENT
    assert _words(swapped)[BC_FIN] == INCONSISTENT


def test_murmail_falls_both_ways():
    coeff = {"grid": INF, "random": 3.0}
    ok = _results({("grid", "murmail"): FALLING, ("random", "murmail"): FALLING}, coeff)
    assert _words(ok)[MUR] == CONSISTENT
    one_flat = _results({("grid", "murmail"): FALLING, ("random", "murmail"): FLAT}, coeff)
    assert _words(one_flat)[MUR] == INCONSISTENT
    (row,) = [v for v in nf.verdict(one_flat) if v.claim == MUR]
    assert "random zero-sum" in row.measured and "grid world" in row.measured


def test_mail_bro_needs_fewer_answers_both_ways():
    coeff = {"grid": INF}
    curves = {("grid", "murmail"): FALLING, ("grid", "mail_bro"): FALLING}
    cheaper = _results(curves, coeff, {"murmail": lambda lv: 100 * 4**lv})
    assert _words(cheaper)[BRO] == CONSISTENT
    # the same gaps at the same answers: not fewer
    same = _results(curves, coeff)
    assert _words(same)[BRO] == INCONSISTENT
    # cheaper per level but never as good
    worse = _results(
        {("grid", "murmail"): FALLING, ("grid", "mail_bro"): FLAT},
        coeff,
        {"murmail": lambda lv: 100 * 4**lv},
    )
    assert _words(worse)[BRO] == INCONSISTENT
    (row,) = [v for v in nf.verdict(worse) if v.claim == BRO]
    assert "never reaches it" in row.measured


def test_answers_to_reach_takes_the_smallest_level():
    ci = mean_ci
    curve = [(0, ci([0.9]), 10.0), (1, ci([0.2]), 40.0), (2, ci([0.1]), 160.0)]
    assert nf.answers_to_reach(curve, 0.25) == 40.0
    assert nf.answers_to_reach(curve, 0.05) is None


@pytest.mark.parametrize("name", nf.GAMES)
def test_every_expert_is_an_exact_nash_equilibrium(name):
    c = nf.case(name)
    assert rg.nash_gap(c.game, c.expert).value < 1e-9
    np.testing.assert_allclose(rg.product_policy(c.game, c.expert), c.sigma_expert)
    assert rg.regret(c.game, c.sigma_expert).value < 1e-9  # a Nash expert is a CE


def test_coefficients_decide_which_bc_claim_applies():
    values = {g: rg.concentrability(nf.case(g).game, nf.case(g).sigma_expert).value
              for g in nf.GAMES}  # fmt: skip
    assert values["two_path_mixed"] == pytest.approx(1 / nf.MIXED_P)
    assert values["two_path_0"] == INF and values["grid"] == INF
    assert values["theorem_4_5"] == INF  # agent 1's a1 -> a2 reaches s_1, never visited


def test_answers_count_every_agent_label():
    """A demonstration of H steps is m H answers, a joint query m, a per-agent query 1."""
    base = {"game": "two_path_0", "level": 0, "demos": 3, "seed_demos": 2, "rollouts": 1,
            "iterations": 2, "rounds": 1, "batch": 4, "step_size": 2.0, "seed": 0}  # fmt: skip
    game = nf.case("two_path_0").game
    m, h = game.num_agents, game.horizon
    assert nf.execute({**base, "learner": "jbc"}, 1)["answers"] == 3 * m * h
    dag = nf.execute({**base, "learner": "dagger"}, 1)
    ref = rg.dagger(
        game, rg.QueryableExpert(nf.case("two_path_0").sigma_expert, answers="sampled",
                                 rng=np.random.default_rng(1)),
        rng=np.random.default_rng(1), rounds=1, rollouts=m,
        demos=rg.sample_trajectories(game, nf.case("two_path_0").sigma_expert, n=2,
                                     rng=np.random.default_rng(0)),
    )  # fmt: skip
    assert dag["answers"] == 2 * m * h + m * ref.queries
    mur = nf.execute({**base, "learner": "murmail"}, 1)
    # per iteration and agent: the batch, plus 2 answers per reachable (h, s)
    pairs = int(np.asarray(game.reachable).sum())
    assert mur["answers"] == 2 * m * (4 + 2 * pairs)
    bro = nf.execute({**base, "learner": "mail_bro"}, 1)
    assert bro["answers"] == 2 * m * 4 and bro["oracle_calls"] == 2 * m


@pytest.mark.slow
def test_quick_run_findings():
    args = nf.Args(quick=True)
    res = [(s.config, nf.execute(s.config, s.seed)) for s in nf.runs(args)]
    got = _words(res)
    assert got[BC_INF] == CONSISTENT
    assert got[BC_FIN] == CONSISTENT
    assert got[MUR] == CONSISTENT
    assert got[BRO] == CONSISTENT
    assert got[BLADES_ROW] == CONSISTENT
    # per-agent and joint BC agree on a product expert's two-path game at p = 0
    for learner in ("jbc", "jbc_product"):
        runs = select(res, game="two_path_0", learner=learner)
        gaps = [m["nash_gap"] for m in runs]
        assert np.allclose(gaps, nf.two_path_game(0.0, horizon=4).bc_gap_uncovered)


BLADES_ROW = "Theorem 5.9 vs Freihaut et al.: BLADES's mediator no more exploitable than MAIL-BRO's"


def test_blades_against_mail_bro_every_word():
    coeff = {"grid": INF, "random": 3.0}
    low = lambda lv, k: 0.1 * jitter(k)  # noqa: E731
    high = lambda lv, k: 0.5 * jitter(k)  # noqa: E731
    better = _results({("grid", "blades"): low, ("grid", "mail_bro"): high}, coeff)
    assert _words(better)[BLADES_ROW] == CONSISTENT
    worse = _results(
        {("grid", "blades"): low, ("grid", "mail_bro"): high,
         ("random", "blades"): high, ("random", "mail_bro"): low},
        coeff,
    )  # fmt: skip
    assert _words(worse)[BLADES_ROW] == INCONSISTENT
    # a wide interval straddling the margin cannot tell: not applicable, said so
    noisy = _results(
        {("grid", "blades"): lambda lv, k: 0.5 + (0.6 if k % 2 else -0.5),
         ("grid", "mail_bro"): lambda lv, k: 0.5},
        coeff,
    )  # fmt: skip
    (row,) = [v for v in nf.verdict(noisy) if v.claim == BLADES_ROW]
    assert row.word == NOT_APPLICABLE and "underpowered" in row.measured
