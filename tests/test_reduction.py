"""The reduction experiment: exact own losses, the class optimum, and verdicts that can fail.

References: Theorems 5.8/5.10's construction (``malice_loss = blades_loss = eps``), a
brute-force likelihood and loss grid for the mixture class, and real runs of learners that
are broken on purpose (frozen at their first iterate; MALICE with weights of about 1).
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import regretgap as rg
from regretgap.evaluation import state_distribution as exact_state_distribution
from regretgap.experiments import reduction, reproduce
from regretgap.experiments._verdict import CLAIM, CONSISTENT, INCONSISTENT
from regretgap.games import theorem_5_8
from regretgap.losses import deviation_losses, tv

ARGS = reduction.Args(quick=True)


def _run(specs):
    return [(s.config, reduction.execute(s.config, s.seed)) for s in specs]


@pytest.fixture(scope="module")
def quick():
    return _run(reduction.runs(ARGS))


def _words(results):
    return {v.learner: v.word for v in reduction.verdict(results)}


def _specs(learner, cls=None):
    return [
        s
        for s in reduction.runs(ARGS)
        if s.config["learner"] == learner and (cls is None or s.config["class"] == cls)
    ]


# -- exact losses ---------------------------------------------------------------------------


@pytest.mark.parametrize("horizon, eps", [(4, 0.05), (6, 0.1)])
def test_own_loss_matches_theorem_5_8s_construction(horizon, eps):
    """Proofs E.12/E.14: the learner's eq. 6/7 loss is eps (TV at s_0 times d(s_0) = 1/H);
    one agent, so the on-policy loss is the same."""
    c = theorem_5_8(horizon, 0.2, eps, 3)
    expert = np.broadcast_to(c.expert, (horizon, *c.expert.shape))
    learner = np.broadcast_to(c.learner, expert.shape)
    assert reduction.own_loss(c.game, expert, learner, True) == pytest.approx(eps, abs=1e-12)
    assert reduction.own_loss(c.game, expert, learner, False) == pytest.approx(eps, abs=1e-12)
    assert reduction.own_loss(c.game, expert, expert, True) == 0.0


def test_own_loss_of_a_deviation_exceeds_the_on_policy_loss_on_theorem_5_4():
    """Agent 1's deviation at s_0 sends every trajectory to s_1, where the J-BC-like end of
    the mixture errs; obedient play goes there with probability 2 beta only."""
    s = reduction.setting(6, 0.05, 4.0)
    sigma = s.mixture.policy(0.0)
    dev = reduction.own_loss(s.game, s.expert, sigma, True)
    onp = reduction.own_loss(s.game, s.expert, sigma, False)
    tv_s1 = 0.5 * np.abs(s.expert[1, 1] - sigma[1, 1]).sum()
    # obedient play reaches s_1 (at step 1) with probability 2 beta: exactly 2 beta tv / H
    assert onp == pytest.approx(2 * 0.05 * tv_s1 / 6, abs=1e-12)
    assert dev > 5 * onp


# -- the mixture class ----------------------------------------------------------------------


def test_mixture_fit_is_the_maximum_likelihood_theta_on_a_grid():
    s = reduction.setting(6, 0.05, 4.0)
    rng = np.random.default_rng(3)
    mix = s.mixture
    for _ in range(5):
        counts = rng.random(mix.sigma_a.shape) * (mix.sigma_a + mix.sigma_b > 0)
        grid = np.linspace(1e-6, 1 - 1e-6, 20001)
        ll = [(counts * np.log(np.maximum(mix.policy(t), 1e-300))).sum() for t in grid]
        assert mix.theta(counts) == pytest.approx(grid[int(np.argmax(ll))], abs=2e-4)
    assert mix.theta(np.zeros_like(mix.sigma_a)) == 0.0
    # data only at s_0, as the expert plays there: the s_0 end; only at s_1: the other end
    only_s0 = np.zeros_like(mix.sigma_a)
    only_s0[0, 0] = s.expert[0, 0]
    assert mix.theta(only_s0) == 0.0
    only_s1 = np.zeros_like(mix.sigma_a)
    only_s1[1, 1] = s.expert[1, 1]
    assert mix.theta(only_s1) == 1.0


@pytest.mark.parametrize("deviate", [True, False])
def test_mixture_optimum_is_below_every_member_and_matches_a_fine_grid(deviate):
    s = reduction.setting(6, 0.05, 4.0)
    best, theta = reduction.mixture_optimum(s, deviate)
    fine = [
        reduction.own_loss(s.game, s.expert, s.mixture.policy(t), deviate)
        for t in np.linspace(0, 1, 1001)
    ]
    assert best <= min(fine) + 1e-12
    assert best >= min(fine) - 1e-4  # the loss is Lipschitz in theta: a grid is near
    assert best == pytest.approx(
        reduction.own_loss(s.game, s.expert, s.mixture.policy(theta), deviate), abs=1e-12
    )
    assert best > 0.01  # the expert is not in the class


# -- verdicts on hand-made results ----------------------------------------------------------


def _fake(last_minus_opt):
    out = []
    for cls in reduction.CLASSES:
        opt = 0.0 if cls == "tabular" else 0.13
        for name in reduction.LEARNERS:
            for seed in range(3):
                last = opt + last_minus_opt
                m = {"loss": [0.5, last], "optimum": opt, "first": 0.5, "last": last}
                m["round_optimum"] = m["round_fit"] = opt  # ALICE's and DAgger's target
                out.append(({"class": cls, "learner": name, "seed": seed}, m))
    return out


def test_verdict_says_consistent_within_the_tolerance_and_inconsistent_beyond():
    good = reduction.verdict(_fake(0.8 * reduction.TOLERANCE))
    bad = reduction.verdict(_fake(1.5 * reduction.TOLERANCE))
    assert [v.word for v in good] == [CONSISTENT] * 4
    assert [v.word for v in bad] == [INCONSISTENT] * 4
    assert {v.kind for v in good + bad} == {CLAIM}
    assert [v.learner for v in good] == ["ALICE", "MALICE", "DAgger", "BLADES"]


def test_verdict_fails_when_one_class_misses():
    res = _fake(0.0)
    for c, m in res:
        if c["class"] == "mixture" and c["learner"] == "malice":
            m["last"] = m["optimum"] + 0.012  # J-BC's excess on the real game
    words = _words(res)
    assert words["MALICE"] == INCONSISTENT
    assert words["BLADES"] == CONSISTENT


# -- real runs ------------------------------------------------------------------------------


def test_quick_runs_malice_and_blades_reach_the_class_optimum(quick):
    words = _words(quick)
    assert words["MALICE"] == CONSISTENT and words["BLADES"] == CONSISTENT
    for c, m in quick:
        assert len(m["loss"]) == c["rounds"] + 1
        assert m["last"] >= m["optimum"] - 1e-9  # nothing in the class beats the optimum
    # BLADES's first iterate (no data) is far off in the tabular class and ends at 0
    for m in (m for c, m in quick if c["learner"] == "blades" and c["class"] == "tabular"):
        assert m["first"] > 0.5 and m["last"] < 1e-9


def test_alice_and_dagger_stop_at_the_likelihood_fixed_point(quick):
    """Measured: on the mixture their weighted log-likelihood fit settles where TV is about
    2.5x the class's self-consistent on-policy optimum (theta ~ 0.13, analytic for ALICE's
    weights 1 and 2 beta (1 - theta) + theta / 2), at the likelihood fit to their own
    round, which is what their verdict checks."""
    words = _words(quick)
    assert words["ALICE"] == CONSISTENT and words["DAgger"] == CONSISTENT
    s = reduction.setting(6, 0.05, 4.0)
    theta = (-0.7 + np.sqrt(0.49 + 0.16)) / 0.8  # 0.4 t^2 + 0.7 t - 0.1 = 0
    fixed = reduction.own_loss(s.game, s.expert, s.mixture.policy(theta), False)
    for c, m in quick:
        if c["class"] == "mixture" and c["learner"] in ("alice", "dagger"):
            assert m["last"] > m["optimum"] + 0.01
            assert m["round_optimum"] <= m["last"] <= m["round_fit"] + reduction.TOLERANCE
            if c["learner"] == "alice":
                assert m["last"] == pytest.approx(fixed, abs=0.003)
                assert m["round_fit"] == pytest.approx(fixed, abs=0.003)


def test_round_fit_matches_the_closed_form():
    """At fixed weights w_0 = d_0(s_0) = 1, w_1 = d_1(s_1) the likelihood fit is theta =
    w_1 / (w_0 + w_1), whose TV loss is 2 D w_0 w_1 / (w_0 + w_1) / H; the tabular fit is
    the expert wherever the distribution is positive (loss 0)."""
    s = reduction.setting(6, 0.05, 4.0)
    gap = 0.5 * np.abs(s.expert[0, 0] - s.expert[1, 1]).sum()
    for theta in (0.0, 0.3, 0.9):
        hat = s.mixture.policy(theta)
        w1 = exact_state_distribution(s.game, hat)[1, 1]
        got = reduction.round_fit(s.game, s.expert, hat, s.mixture)
        assert got == pytest.approx(2 * gap * w1 / (1 + w1) / 6, abs=1e-9)
        assert reduction.round_fit(s.game, s.expert, hat, rg.Tabular()) == 0.0


def test_round_optimum_matches_the_closed_form_and_a_grid():
    """On-policy at sigma_hat = sigma_theta the mixture's loss is linear in theta':
    D (w_0 theta' + w_1 (1 - theta')) / H with w_0 = d_0(s_0) = 1, w_1 = d_1(s_1), so the
    best is D min(w_0, w_1) / H at theta' = 0; with a deviation, a grid over theta'."""
    s = reduction.setting(6, 0.05, 4.0)
    e0, e1 = s.expert[0, 0], s.expert[1, 1]
    gap = 0.5 * np.abs(e0 - e1).sum()
    rng = np.random.default_rng(5)
    for theta in (0.0, 0.3, 0.9):
        hat = s.mixture.policy(theta)
        w1 = exact_state_distribution(s.game, hat)[1, 1]
        best, arg = reduction.round_optimum(s.game, s.expert, hat, s.mixture, False)
        assert best == pytest.approx(gap * min(1.0, w1) / 6, abs=1e-9) and arg == 0.0
    for hat in (s.mixture.policy(0.4), rng.dirichlet(np.ones(9), size=s.expert.shape[:2])):
        best, arg = reduction.round_optimum(s.game, s.expert, hat, s.mixture, True)

        def loss(t, hat=hat):
            ell = tv(s.expert, s.mixture.policy(t))
            return deviation_losses(s.game, hat, ell)[0].max() / 6

        grid = [loss(t) for t in np.linspace(0, 1, 401)]
        assert best == pytest.approx(loss(arg), abs=1e-9)
        assert best <= min(grid) + 1e-9 and best >= min(grid) - 1e-3


class Frozen:
    """A broken learner's class: every fit returns the first one (the first iterate)."""

    def __init__(self, cls):
        self.cls, self.first = cls, None

    def fit(self, counts):
        if self.first is None:
            self.first = self.cls.fit(counts)
        return self.first


@pytest.mark.parametrize("learner", ["malice", "blades", "dagger"])
def test_a_learner_frozen_at_its_first_iterate_fails_on_a_real_run(monkeypatch, learner):
    original = reduction.policy_class
    monkeypatch.setattr(reduction, "policy_class", lambda s, cls: Frozen(original(s, cls)))
    assert _words(_run(_specs(learner)))[reduction.NAMES[learner]] == INCONSISTENT


class Stuck:
    """A broken learner's class that ignores the data: always the theta = 1 end."""

    def __init__(self, mixture):
        self.mixture = mixture

    def fit(self, counts):
        return self.mixture.policy(1.0)


@pytest.mark.parametrize("learner", ["alice", "dagger"])
def test_a_learner_that_ignores_its_data_fails_on_a_real_run(monkeypatch, learner):
    monkeypatch.setattr(reduction, "policy_class", lambda s, cls: Stuck(s.mixture))
    assert _words(_run(_specs(learner, "mixture")))[reduction.NAMES[learner]] == INCONSISTENT


def test_malice_with_weights_of_one_fails_on_a_real_run(monkeypatch):
    """The learner's own state distribution replaced by the expert's: weights d_E / d_E-hat,
    about 1 everywhere (J-BC refitted), and the verdict fails."""
    s = reduction.setting(6, 0.05, 4.0)
    module = importlib.import_module("regretgap.learners.reweighting")  # the package re-exports
    monkeypatch.setattr(  # the function under the module's name
        module, "state_distribution", lambda game, sigma: exact_state_distribution(game, s.expert)
    )
    res = _run(_specs("malice"))
    assert _words(res)["MALICE"] == INCONSISTENT
    assert _words(_run(_specs("malice", "tabular")))["MALICE"] == CONSISTENT


def test_registered_and_rendered(quick, tmp_path):
    assert reproduce.MODULES[reduction.NAME] is reduction
    text = reduction.render(quick, tmp_path)
    for name in reduction.LEARNERS:
        assert (tmp_path / f"reduction_{name}.png").stat().st_size > 0
        assert f"reduction_{name}.png" in text
    assert text.count("| class |") == 4 and "round optimum" in text


def test_learners_return_every_iterate_in_order():
    s = reduction.setting(6, 0.05, 4.0)
    oracle = rg.QueryableExpert(s.expert, answers="distribution")
    res = rg.blades(s.game, oracle, rng=np.random.default_rng(0), rounds=3, rollouts=8)
    assert len(res.iterates) == 4
    assert np.array_equal(res.iterates[res.best_round], res.policy)
    demos = rg.sample_trajectories(s.game, s.expert, n=500, rng=np.random.default_rng(1))
    mal = rg.malice(s.game, demos, rng=np.random.default_rng(2), rounds=2)
    assert len(mal.iterates) == 3
    assert np.array_equal(mal.iterates[mal.best_round], mal.policy)
