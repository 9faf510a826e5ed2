"""Mediator policies over features: fits, derived quantities, tables."""

from __future__ import annotations

import numpy as np
import pytest

import regretgap as rg
from regretgap.errors import ValidationError
from regretgap.games.random import random_game
from regretgap.policy_classes import Tabular
from regretgap.sampled import LogLinearMediator, MediatorPolicy, ObservationTable

SIZES = (2, 3)


def _joint(rng: np.random.Generator, n: int, num_joint: int) -> np.ndarray:
    return rng.dirichlet(np.ones(num_joint), size=n)


@pytest.mark.parametrize("cls", [ObservationTable, LogLinearMediator])
def test_protocol_and_unfitted_policy_is_uniform(cls) -> None:
    pol = cls(SIZES)
    assert isinstance(pol, MediatorPolicy)
    x = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_allclose(pol.probs(x), np.full((4, 6), 1 / 6))
    empty = pol.fit(np.zeros((0, 3)), np.zeros(0, dtype=int), rng=np.random.default_rng(0))
    np.testing.assert_allclose(empty.probs(x), np.full((4, 6), 1 / 6))


def test_observation_table_is_the_exact_tabular_class_on_one_hot_features() -> None:
    """Demonstrations fitted per observed (h, s) row equal Tabular.fit on their counts."""
    rng = np.random.default_rng(1)
    game = random_game(6, SIZES, 3, rng=rng)
    sigma_e = _joint(rng, game.num_states, game.num_joint_actions)
    demos = rg.as_demonstrations(rg.sample_trajectories(game, sigma_e, 15, rng=rng))
    sim = game.simulator()
    x = np.concatenate([sim.observe(demos.states[:, k], k) for k in range(game.horizon)])
    a = np.concatenate([demos.actions[:, k] for k in range(game.horizon)])
    pol = ObservationTable(SIZES).fit(x, a, rng=rng)
    np.testing.assert_allclose(pol.table(game), Tabular().fit(demos.counts(game)), atol=1e-12)


def test_weights_are_frequency_weights() -> None:
    """Weight 2 on a sample is the same fit as the sample twice (both classes)."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(30, 3))
    a = rng.integers(0, 6, 30)
    w = rng.integers(0, 3, 30).astype(float)
    rep = np.repeat(np.arange(30), w.astype(int))
    for cls in (ObservationTable(SIZES), LogLinearMediator(SIZES, l2=0.1)):
        fw = cls.fit(x, a, w, rng=rng).probs(x)
        fr = cls.fit(x[rep], a[rep], rng=rng).probs(x)
        np.testing.assert_allclose(fw, fr, atol=1e-5)


def test_log_linear_recovers_a_log_linear_expert_and_generalises() -> None:
    """Samples from sigma ∝ exp(W x): the fit is close to the truth on unseen features."""
    rng = np.random.default_rng(3)
    w_true = rng.normal(size=(6, 4))
    x = rng.normal(size=(4000, 4))
    logits = x @ w_true.T
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    a = np.array([rng.choice(6, p=row) for row in p])
    pol = LogLinearMediator(SIZES, l2=1e-3).fit(x, a, rng=rng)
    x_new = rng.normal(size=(500, 4))
    lt = x_new @ w_true.T
    truth = np.exp(lt - lt.max(1, keepdims=True))
    truth /= truth.sum(1, keepdims=True)
    tv = 0.5 * np.abs(pol.probs(x_new) - truth).sum(1)
    assert tv.mean() < 0.06
    # the table cannot say anything about unseen rows: it is uniform there
    table = ObservationTable(SIZES).fit(x, a, rng=rng)
    np.testing.assert_allclose(table.probs(x_new), 1 / 6)


def test_log_linear_fit_decreases_the_weighted_log_loss_to_the_optimum() -> None:
    """The gradient vanishes at the fit (finite differences of the objective)."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(50, 2))
    a = rng.integers(0, 6, 50)
    w = rng.random(50)
    pol = LogLinearMediator(SIZES, l2=0.5).fit(x, a, w, rng=rng)

    def objective(coef: np.ndarray, b: np.ndarray) -> float:
        pol2 = LogLinearMediator(SIZES)
        pol2.coef, pol2.intercept = coef, b
        return -(w * pol2.log_prob(x, a)).sum() + 0.25 * (coef**2).sum()

    base = objective(pol.coef, pol.intercept)
    for k in range(6):
        for j in range(2):
            for step in (1e-3, -1e-3):
                c = pol.coef.copy()
                c[k, j] += step
                assert objective(c, pol.intercept) >= base - 1e-6


def test_marginal_conditional_and_sampling_agree_with_the_joint() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(200, 3))
    a = rng.integers(0, 6, 200)
    pol = LogLinearMediator(SIZES).fit(x, a, rng=rng)
    p = pol.probs(x[:3]).reshape(3, 2, 3)
    np.testing.assert_allclose(pol.marginal(x[:3], 0), p.sum(2))
    np.testing.assert_allclose(pol.marginal(x[:3], 1), p.sum(1))
    cond = pol.conditional(x[:3], 1, np.array([0, 2, 1])).reshape(3, 2, 3)
    for k, ai in enumerate([0, 2, 1]):
        np.testing.assert_allclose(cond[k, :, ai], p[k, :, ai] / p[k, :, ai].sum())
        assert cond[k].sum() == pytest.approx(1.0)
    # sampling: frequencies within 5 standard errors of the joint
    draws = pol.sample(np.repeat(x[:1], 20000, axis=0), np.random.default_rng(6))
    freq = np.bincount(draws, minlength=6) / 20000
    q = p[0].ravel()
    assert np.all(np.abs(freq - q) <= 5 * np.sqrt(q * (1 - q) / 20000))


def test_table_on_a_game_with_features_and_on_its_simulator() -> None:
    rng = np.random.default_rng(7)
    game = random_game(5, SIZES, 3, rng=rng)
    feats = rng.normal(size=(5, 2))
    pol = LogLinearMediator(SIZES).fit(rng.normal(size=(40, 2)), rng.integers(0, 6, 40), rng=rng)
    tab = pol.table(game, feats)
    assert tab.shape == (3, 5, 6)
    np.testing.assert_allclose(tab[1], pol.probs(feats))
    np.testing.assert_allclose(pol.table(game.simulator(feats)), tab)
    rg.regret(game, tab)  # the exact core accepts it


def test_bad_input_names_what_and_where() -> None:
    rng = np.random.default_rng(8)
    pol = LogLinearMediator(SIZES)
    x = rng.normal(size=(3, 2))
    with pytest.raises(ValidationError, match=r"actions\[1\] = 6 is outside"):
        pol.fit(x, [0, 6, 1], rng=rng)
    bad = x.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValidationError, match=r"features\[2, 1\] is nan"):
        pol.fit(bad, [0, 1, 1], rng=rng)
    with pytest.raises(ValidationError, match=r"weights\[0\] = -1"):
        pol.fit(x, [0, 1, 1], [-1, 1, 1], rng=rng)
    with pytest.raises(ValidationError, match="num_actions"):
        LogLinearMediator((2, 0))
    with pytest.raises(ValidationError, match="l2"):
        LogLinearMediator(SIZES, l2=-1)
    fitted = pol.fit(x, [0, 1, 1], rng=rng)
    with pytest.raises(ValidationError, match=r"shape \[n, 2\]"):
        fitted.probs(rng.normal(size=(3, 5)))
    with pytest.raises(ValidationError, match="agent 2"):
        fitted.marginal(x, 2)
    game = random_game(4, (2, 2), 2, rng=rng)
    with pytest.raises(ValidationError, match="num_actions"):
        fitted.table(game, rng.normal(size=(4, 2)))
    with pytest.raises(ValidationError, match="default"):
        ObservationTable(SIZES, default=[1.0])
