"""The coordination game with punishments: its expert is a CE, and the
regret of a mediator comes from the two places the module docstring names."""

from __future__ import annotations

import numpy as np
import pytest

import regretgap as rg
from regretgap.errors import ValidationError
from regretgap.games.punishment import punishment_game


@pytest.fixture(scope="module")
def case():
    return punishment_game(rng=np.random.default_rng(0), normal=60, punish=20, horizon=4)


def test_expert_is_a_correlated_equilibrium_and_never_leaves_the_normal_states(case) -> None:
    game, expert = case.game, case.expert
    assert rg.regret(game, expert).value == pytest.approx(0.0, abs=1e-12)
    reach = rg.state_distribution(game, expert)
    assert reach[:, case.region > 0].sum() == 0.0
    assert rg.state_distribution(game, rg.uniform_policy(game))[:, case.region > 0].sum() > 0


def test_the_regret_of_mediators_that_miss_each_region(case) -> None:
    """Uniform in the punishment regions: deviating at h = 0 earns 2/3 a step for H - 1 steps
    instead of 1/2 (0.5 now in both cases), so the gain is (H - 1)(2/3 - 1/2)."""
    game, expert, region = case.game, case.expert, case.region
    lenient = expert.copy()
    lenient[:, region > 0] = 1 / 9
    assert rg.regret_gap(game, expert, lenient) == pytest.approx(3 * (2 / 3 - 1 / 2))
    # the convention carried into P_i (what a class that never saw a punishment predicts)
    carried = expert.copy()
    rec = case.convention * 4
    carried[:, region > 0] = 0.0
    carried[:, np.flatnonzero(region > 0), rec[region > 0]] = 1.0
    assert rg.regret_gap(game, expert, carried) > 0.05
    # uniform on the normal states leaves regret too (defecting pays at the last step)
    blind = expert.copy()
    blind[:, region == 0] = 1 / 9
    assert rg.regret_gap(game, expert, blind) > 0.05


def test_features_separate_the_convention_linearly(case) -> None:
    x = case.features
    assert x.shape == (100, 4 + 3)
    np.testing.assert_array_equal(x[:, 4:].argmax(axis=1), case.region)
    fit = np.linalg.lstsq(x[:, :4], 2.0 * case.convention - 1, rcond=None)[0]
    assert np.mean((x[:, :4] @ fit > 0) == case.convention) > 0.9


def test_bad_input() -> None:
    with pytest.raises(ValidationError, match="rng"):
        punishment_game(rng=0)
    with pytest.raises(ValidationError, match="branching"):
        punishment_game(rng=np.random.default_rng(0), punish=3, branching=4)
    with pytest.raises(ValidationError, match="coordinate"):
        punishment_game(rng=np.random.default_rng(0), coordinate=1.5)
