"""Sampled regret and gaps against the exact evaluator on small games.

Two kinds of check, kept apart:

* Statistical (exact within Monte Carlo error). Every interval is asserted to bracket the
  exact quantity it estimates: ``J_i(pi_sigma)`` (``regretgap.regret(...).agent_values``),
  and ``J_i(pi_{sigma, phi_i})`` / its gain for the LEARNED deviation ``phi_i``, scored
  exactly with ``apply_deviation``. Intervals are asked at ``CONFIDENCE = 1 - 1e-4``
  (z = 3.9): with about 40 such checks in the file, a fresh seed would fail one with
  probability below 0.5%; the seeds are fixed, so the run is deterministic.
* Adversary quality (a tolerance). The learned deviation must come within ``TOL = 0.03`` of
  the exact best response, so the gain interval brackets the exact best gain
  ``Regret.per_agent`` up to ``TOL`` at its upper end (its lower end brackets it exactly,
  since ``J_i(phi_i) <= max_phi J_i(phi)``). Why 0.03: on these games (S = 4, n = (2, 3),
  H = 3, rewards in [-1, 1]) 4000 training episodes give measured deficits <= 0.015 over 50
  game/seed/adversary runs (and no statistical miss), so TOL is twice the measured worst.
  The bound of tests/test_adversary.py (expected cost <= 1.2 sigma sqrt(d n_i / (epsilon N))
  per cell) gives only ~0.6 sigma here against ADVERSARIAL action gaps (sigma <= 1 the return
  std); random games' gaps are not adversarial, and the seeds are fixed.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import regretgap as rg
from regretgap.errors import ValidationError
from regretgap.games.random import random_game
from regretgap.sampled import (
    GapEstimate,
    RegretEstimate,
    as_recommender,
    estimate_gaps,
    estimate_regret,
    policy_recommender,
)

H = 3
EPISODES = 20_000  # per Monte Carlo value: gain half-widths ~0.03-0.045 at z = 3.9
TRAIN = 4_000  # adversary training episodes per agent
CONFIDENCE = 1 - 1e-4
TOL = 0.03  # the adversary's allowed deficit to the exact best response (module docstring)


def _instance(seed: int):
    """A random game ``S = 4``, ``n = (2, 3)``, ``H = 3`` and a dense random ``sigma``."""
    rng = np.random.default_rng(seed)
    game = random_game(4, (2, 3), H, rng=rng)
    sigma = rng.dirichlet(np.ones(game.num_joint_actions), size=(H, game.num_states))
    return game, sigma


def _inside(ci: np.ndarray, x: np.ndarray, slack: float = 0.0) -> bool:
    ci = np.asarray(ci)
    return bool(np.all((ci[..., 0] - slack <= x) & (x <= ci[..., 1] + slack)))


def _achieved(game, sigma, est: RegretEstimate) -> np.ndarray:
    """Exact ``J_i(pi_{sigma, phi_i})`` of each agent's learned deviation table, ``[m]``."""
    return np.array(
        [
            rg.values(game, rg.apply_deviation(game, sigma, i, res.table))[i]
            for i, res in enumerate(est.adversaries)
        ]
    )


def _estimate(game, sigma, seed, **kwargs) -> RegretEstimate:
    kwargs = {"episodes": EPISODES, "adversary_episodes": TRAIN, **kwargs}
    return estimate_regret(
        game.simulator(),
        rg.game_utilities(game),
        sigma,
        rng=np.random.default_rng(seed),
        confidence=CONFIDENCE,
        **kwargs,
    )


# ---------------------------------------------------------------------------------------
# against the exact evaluator


@pytest.mark.parametrize(
    ("seed", "adversary"), [(0, "tabular"), (1, "tabular"), (2, "auto"), (3, "fitted")]
)
def test_estimate_regret_brackets_exact_values_gains_and_regret(seed, adversary):
    game, sigma = _instance(seed)
    est = _estimate(game, sigma, 100 + seed, adversary=adversary)
    exact = rg.regret(game, sigma)
    assert isinstance(est, RegretEstimate)
    m = game.num_agents
    for arr in (est.gains, est.agent_values, est.deviated_values, est.gains_stderr):
        assert arr.shape == (m,)
    assert est.gains_ci.shape == est.agent_values_ci.shape == (m, 2)
    # statistical: each interval brackets the exact value of what it estimates
    assert _inside(est.agent_values_ci, exact.agent_values)
    achieved = _achieved(game, sigma, est)
    assert _inside(est.deviated_values_ci, achieved)
    assert _inside(est.gains_ci, achieved - exact.agent_values)
    # adversary quality: within TOL of the exact best response, so the intervals bracket
    # the exact best gains (lower end exactly, upper end up to TOL)
    best = exact.per_agent + exact.agent_values
    assert np.all(achieved <= best + 1e-9)
    assert np.all(best - achieved <= TOL)
    assert np.all(est.gains_ci[:, 0] <= exact.per_agent)
    assert _inside(est.gains_ci, exact.per_agent, slack=TOL)
    assert est.ci[0] <= exact.value <= est.ci[1] + TOL
    assert est.value == pytest.approx(max(0.0, est.gains.max()))
    assert est.agent == int(np.argmax(est.gains))
    # budget: obedient + per agent (training rounded up to batches + fresh evaluation)
    assert est.episodes == EPISODES + sum(r.episodes for r in est.adversaries)
    assert all(r.episodes >= TRAIN + EPISODES for r in est.adversaries)


def test_intervals_are_tight_and_the_regret_interval_is_a_union_bound():
    """Half-widths shrink like 1/sqrt(episodes); the regret interval is wider than one
    agent's (Bonferroni over m = 2) and clipped at 0 (the identity deviation)."""
    game, sigma = _instance(0)
    est = _estimate(game, sigma, 7)
    half = (est.gains_ci[:, 1] - est.gains_ci[:, 0]) / 2
    assert np.all(half < 0.05)  # z = 3.9, returns' std <= 1.1 here: ~0.035
    z1 = (est.gains_ci[:, 1] - est.gains) / est.gains_stderr
    np.testing.assert_allclose(z1, 3.8906, atol=1e-3)  # ndtri(1 - 1e-4 / 2)
    i = est.agent
    assert est.ci[1] - est.value > est.gains_ci[i, 1] - est.gains[i]  # z(m=2) > z(m=1)
    small = _estimate(game, sigma, 7, episodes=EPISODES // 16)
    ratio = np.mean(small.gains_stderr) / np.mean(est.gains_stderr)
    assert 3 < ratio < 5  # sqrt(16) = 4


def test_positive_regret_is_detected_and_an_equilibrium_is_not_flagged():
    """A broken estimator (e.g. the deviation never applied, or gains of the obedient
    episodes against themselves) would report ~0 for a policy whose exact regret is large:
    the interval must exclude 0. A correlated equilibrium (exact regret 0) must not be
    flagged: its interval starts at 0."""
    game, sigma = _instance(1)
    assert rg.regret(game, sigma).value > 0.5
    est = _estimate(game, sigma, 3)
    assert est.ci[0] > 0.5 - TOL
    ce = rg.markov_ce(game)
    assert rg.regret(game, ce).value < 1e-7
    eq = _estimate(game, ce, 4)
    assert eq.ci[0] == 0.0
    assert eq.ci[1] < 0.1


@pytest.mark.parametrize("seed", [0, 2])
def test_estimate_gaps_bracket_exact_value_gap_and_regret_gap(seed):
    game, sigma = _instance(seed)
    expert = rg.markov_ce(game)  # zero regret: the regret gap is R(sigma)
    gaps = estimate_gaps(
        game.simulator(),
        rg.game_utilities(game),
        expert,
        sigma,
        rng=np.random.default_rng(200 + seed),
        episodes=EPISODES,
        adversary_episodes=TRAIN,
        confidence=CONFIDENCE,
    )
    assert isinstance(gaps, GapEstimate)
    exact_vg = rg.value_gap(game, expert, sigma)
    exact_rg = rg.regret_gap(game, expert, sigma)
    assert gaps.value_gap_ci[0] <= exact_vg <= gaps.value_gap_ci[1]
    assert gaps.value_gap_ci[0] <= gaps.value_gap <= gaps.value_gap_ci[1]
    # the expert's learned regret is <= its exact 0; the learner's within TOL of exact
    assert gaps.regret_gap_ci[0] - TOL <= exact_rg <= gaps.regret_gap_ci[1] + TOL
    assert gaps.regret_gap == pytest.approx(gaps.regret.value - gaps.expert_regret.value)
    assert gaps.regret_gap_ci[0] > 0  # R(sigma) >= 0.9 on these seeds: the gap is seen
    assert gaps.episodes == gaps.regret.episodes + gaps.expert_regret.episodes
    # the same signs as the exact functions: sigma_E's values minus sigma's
    diff = gaps.expert_regret.agent_values - gaps.regret.agent_values
    assert gaps.value_gap == pytest.approx(diff.max())


# ---------------------------------------------------------------------------------------
# policies, adversary choice, reproducibility


class _OneHotMediator:
    """A mediator over features: ``sample(x [n, H*S], rng)`` decodes ``(h, s)`` from the
    default one-hot and samples ``sigma_h(. | s)`` exactly as ``policy_recommender``."""

    def __init__(self, sigma: np.ndarray) -> None:
        self.num_states = sigma.shape[1]
        self._rec = policy_recommender(sigma)

    def sample(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        col = x.argmax(axis=1)
        h = int(col[0] // self.num_states)
        return self._rec(col % self.num_states, h, rng)


def test_feature_mediator_array_and_recommender_give_identical_estimates():
    game, sigma = _instance(0)
    kw = {"episodes": 2000, "adversary_episodes": 500}
    a = _estimate(game, sigma, 9, **kw)
    b = _estimate(game, _OneHotMediator(sigma), 9, **kw)
    c = _estimate(game, policy_recommender(sigma), 9, **kw)
    for other in (b, c):
        np.testing.assert_array_equal(a.gains, other.gains)
        np.testing.assert_array_equal(a.agent_values, other.agent_values)
        assert a.ci == other.ci
    sim = game.simulator()
    rec = as_recommender(_OneHotMediator(sigma), sim)
    s = sim.reset(np.random.default_rng(0), 5)
    assert rec(s, 0, np.random.default_rng(1)).shape == (5,)
    with pytest.raises(ValidationError, match="policy must be"):
        as_recommender(3, sim)


class _HiddenStates:
    """The game's simulator without ``num_states``: ``"auto"`` must pick the fitted
    adversary (features), not the tabular one."""

    def __init__(self, game):
        self._sim = game.simulator()
        self.num_actions, self.horizon = self._sim.num_actions, self._sim.horizon

    def reset(self, rng, n):
        return self._sim.reset(rng, n)

    def step(self, states, joint_actions, rng):
        return self._sim.step(states, joint_actions, rng)

    def observe(self, states, h):
        return self._sim.observe(states, h)


def test_auto_picks_tabular_for_int_states_and_fitted_otherwise():
    game, sigma = _instance(2)
    u = rg.game_utilities(game)
    kw = {"episodes": 500, "adversary_episodes": 500}

    def run(sim, adversary):
        return estimate_regret(
            sim, u, sigma, rng=np.random.default_rng(1), adversary=adversary, **kw
        )

    auto, tab = run(game.simulator(), "auto"), run(game.simulator(), "tabular")
    np.testing.assert_array_equal(auto.gains, tab.gains)
    hidden, fit = run(_HiddenStates(game), "auto"), run(_HiddenStates(game), "fitted")
    np.testing.assert_array_equal(hidden.gains, fit.gains)
    assert hidden.adversaries[0].table is None  # fitted, and no num_states to tabulate
    assert not np.array_equal(auto.gains, hidden.gains)


def test_seeded_rng_reproduces():
    game, sigma = _instance(0)
    kw = {"episodes": 500, "adversary_episodes": 500}
    a, b = _estimate(game, sigma, 5, **kw), _estimate(game, sigma, 5, **kw)
    np.testing.assert_array_equal(a.gains_ci, b.gains_ci)
    assert a.ci == b.ci


# ---------------------------------------------------------------------------------------
# bad input


class _Utilities:
    """A Utilities answering ``fn(states, joint_actions)``."""

    def __init__(self, fn, num_agents=2):
        self.fn, self.num_agents = fn, num_agents

    def reward(self, states, joint_actions):
        return self.fn(states, joint_actions)


def _call(game, sigma, **overrides):
    kw = {
        "sim": game.simulator(),
        "utilities": rg.game_utilities(game),
        "policy": sigma,
        "rng": np.random.default_rng(0),
        "episodes": 20,
        "adversary_episodes": 20,
    }
    kw.update(overrides)
    sim, u, pol = kw.pop("sim"), kw.pop("utilities"), kw.pop("policy")
    return estimate_regret(sim, u, pol, **kw)


def _out_of_range(states, h, rng):
    a = np.zeros(len(states), dtype=np.int64)
    a[-1] = 6 if h == 1 else 0
    return a


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"episodes": 0}, "episodes must be an integer >= 2"),
        ({"episodes": 1}, "episodes must be an integer >= 2"),
        ({"episodes": 2.5}, "episodes must be an integer >= 2"),
        ({"episodes": True}, "episodes must be an integer >= 2"),
        ({"adversary_episodes": 0}, "adversary_episodes must be an integer >= 2"),
        ({"confidence": 0.0}, r"confidence must be a number in \(0, 1\)"),
        ({"confidence": 1.0}, r"confidence must be a number in \(0, 1\)"),
        ({"confidence": 1.5}, r"confidence must be a number in \(0, 1\)"),
        ({"confidence": "high"}, r"confidence must be a number in \(0, 1\)"),
        ({"rng": np.random.RandomState(0)}, "numpy.random.Generator"),
        ({"rng": 0}, "numpy.random.Generator"),
        ({"adversary": "oracle"}, "adversary must be one of"),
        ({"adversary_options": {"rng": None}}, r"may not set \['rng'\]"),
        ({"utilities": object()}, "is not a Utilities"),
        (
            {"utilities": _Utilities(lambda s, a: np.zeros((len(s), 3)), num_agents=3)},
            "utilities has 3 agents, the simulator 2",
        ),
        (
            {"utilities": _Utilities(lambda s, a: np.zeros((len(s), 3)))},
            r"returned shape \(\d+, 3\), expected \[n, m\] = \(\d+, 2\)",
        ),
        (
            {"utilities": _Utilities(lambda s, a: np.zeros(len(s)))},
            r"returned shape \(\d+,\)",
        ),
        (
            {"utilities": _Utilities(lambda s, a: np.full((len(s), 2), np.nan))},
            r"at step h = 0 is nan for agent 0 \(batch entry 0\)",
        ),
        (
            {"policy": _out_of_range},
            r"policy recommended joint action 6 at step h = 1 \(batch entry 19\), outside 0..5",
        ),
        (
            {"policy": lambda s, h, rng: np.zeros(3, dtype=np.int64)},
            r"policy answered shape \(3,\) at step h = 0",
        ),
        (
            {"policy": lambda s, h, rng: np.zeros(len(s))},
            "policy answered dtype float64 at step h = 0",
        ),
        ({"policy": "uniform"}, "policy must be"),
    ],
)
def test_bad_input_raises_validation_error(overrides, match):
    game, sigma = _instance(0)
    with pytest.raises(ValidationError, match=match):
        _call(game, sigma, **overrides)
    assert issubclass(ValidationError, ValueError)


def test_bad_expert_is_named_and_gap_inputs_are_checked():
    game, sigma = _instance(0)
    sim, u = game.simulator(), rg.game_utilities(game)
    kw = {"rng": np.random.default_rng(0), "episodes": 20}
    with pytest.raises(ValidationError, match="expert recommended joint action 6"):
        estimate_gaps(sim, u, _out_of_range, sigma, **kw)
    with pytest.raises(ValidationError, match="episodes must be"):
        estimate_gaps(sim, u, sigma, sigma, rng=np.random.default_rng(0), episodes=0)


def test_evaluation_calls_the_utilities():
    """Evaluation is where the utilities are read: a reward that raises reaches the caller
    (a Utilities object is fine for estimate_regret; it is learners that never get one)."""

    class Called(Exception):
        pass

    def boom(states, joint_actions):
        raise Called

    game, sigma = _instance(0)
    with pytest.raises(Called):
        _call(game, sigma, utilities=_Utilities(boom))


# ---------------------------------------------------------------------------------------
# structure: what a learner imports never loads the utilities


def test_learner_imports_do_not_load_the_utilities():
    code = textwrap.dedent(
        """
        import sys
        import regretgap.sampled.adversary
        import regretgap.sampled
        import regretgap
        import regretgap.simulator as simulator
        assert "regretgap.utilities" not in sys.modules, "utilities loaded"
        assert "regretgap.sampled.evaluation" not in sys.modules, "evaluation loaded"
        assert not any(hasattr(simulator, k) for k in
                       ("Utilities", "TableUtilities", "game_utilities"))
        # the exports still work, on demand
        from regretgap.sampled import estimate_regret
        assert "regretgap.utilities" in sys.modules
        assert regretgap.game_utilities is sys.modules["regretgap.utilities"].game_utilities
        assert regretgap.Utilities is sys.modules["regretgap.utilities"].Utilities
        print("ok")
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
    for name in ("estimate_regret", "estimate_gaps", "RegretEstimate", "GapEstimate"):
        assert name in dir(sys.modules["regretgap.sampled"])
    with pytest.raises(AttributeError):
        _ = rg.sampled.no_such_name
