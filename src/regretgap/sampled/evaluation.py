"""Sampled evaluation of a mediator from a simulator and the utilities.

Monte Carlo counterparts of :mod:`regretgap.evaluation`: per-agent values
``J_i(pi_sigma) = E[sum_h r_i(s_h, a_h)]``; each agent's deviation learned by an adversary
(:mod:`regretgap.sampled.adversary`) on its TRUE utility and re-scored on fresh episodes;
the regret ``R(sigma) = max_i max_phi J_i(pi_{sigma,phi}) - J_i(pi_sigma)`` (eq. 2), the
value gap (Definition 4.1, eq. 4) and the regret gap (Definition 4.2, eq. 5), each with a
normal-approximation confidence interval. It reads a :class:`~regretgap.utilities.Utilities`:
evaluation only, which is why :mod:`regretgap.sampled` loads this module lazily.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from math import prod
from typing import Any, NamedTuple

import numpy as np
from scipy.special import ndtri

from regretgap._checks import check_count, check_rng
from regretgap._repr import short_repr
from regretgap.errors import ValidationError
from regretgap.sampled.adversary import (
    AdversaryResult,
    as_recommender,
    fitted_q_adversary,
    resolve_adversary,
    tabular_q_adversary,
)
from regretgap.simulator import check_simulator
from regretgap.utilities import Utilities

#: Choices of ``adversary`` in :func:`estimate_regret`.

#: Arguments :func:`estimate_regret` sets itself; ``adversary_options`` may not override them.
_RESERVED = ("loss", "reward", "agent", "rng", "episodes", "eval_episodes")


class RegretEstimate(NamedTuple):
    """Monte Carlo estimate of the regret ``R(sigma)`` (eq. 2) with a learned deviation.

    Per-agent arrays are ``[m]`` (agent ``i`` at index ``i``); intervals ``[m, 2]`` rows
    ``(low, high)``. Every per-agent interval has (asymptotic, normal-approximation) coverage
    ``confidence`` on its own; the ``ci`` of the regret has coverage ``confidence`` jointly
    over the agents (union bound, see :func:`estimate_regret`).

    Attributes:
        value: ``max(0, max_i gains_i)``: the estimate of ``max_i max(J_i(pi_{sigma,
            phi_i}) - J_i(pi_sigma), 0)`` for the LEARNED ``phi_i``, a lower bound on the
            regret ``R(sigma)`` (exact when the adversary finds each best response).
        ci: ``(low, high)`` interval for that lower bound.
        agent: an agent attaining the max of ``gains``.
        gains: ``deviated_values - agent_values``, ``[m]`` (the estimate of
            :attr:`regretgap.Regret.per_agent` for the learned deviations; may be < 0 when a
            learned deviation is worse than obeying).
        gains_ci: ``[m, 2]``.
        gains_stderr: ``[m]``, ``sqrt(se_dev^2 + se_obey^2)`` (independent samples).
        agent_values: ``J_i(pi_sigma)`` under obedience, ``[m]``.
        agent_values_ci: ``[m, 2]``.
        agent_values_stderr: ``[m]``.
        deviated_values: ``J_i(pi_{sigma, phi_i})`` of each agent's learned deviation, from
            fresh episodes, ``[m]``.
        deviated_values_ci: ``[m, 2]``.
        deviated_values_stderr: ``[m]``.
        adversaries: each agent's :class:`~regretgap.sampled.AdversaryResult` (its
            ``deviation``, and its ``table [H, S, n_i]`` where the states are enumerable).
        episodes: episodes simulated in all (obedient, adversary training and evaluation).
        confidence: the confidence level of the intervals.
    """

    def __repr__(self) -> str:
        return short_repr(self)

    value: float
    ci: tuple[float, float]
    agent: int
    gains: np.ndarray
    gains_ci: np.ndarray
    gains_stderr: np.ndarray
    agent_values: np.ndarray
    agent_values_ci: np.ndarray
    agent_values_stderr: np.ndarray
    deviated_values: np.ndarray
    deviated_values_ci: np.ndarray
    deviated_values_stderr: np.ndarray
    adversaries: tuple[AdversaryResult, ...]
    episodes: int
    confidence: float


class GapEstimate(NamedTuple):
    """Monte Carlo estimates of the value gap (eq. 4) and the regret gap (eq. 5).

    Attributes:
        value_gap: ``max_i J_i(pi_{sigma_E}) - J_i(pi_sigma)`` estimated.
        value_gap_ci: ``(low, high)``, coverage ``confidence``.
        regret_gap: ``R(sigma) - R(sigma_E)`` with each regret the learned-deviation estimate
            of :class:`RegretEstimate` (the regret gap itself when both adversaries find the
            best responses; a lower bound on neither side in general).
        regret_gap_ci: ``(low, high)``, coverage ``confidence`` for the learned-deviation
            regret gap.
        regret: the :class:`RegretEstimate` of the policy ``sigma``.
        expert_regret: the :class:`RegretEstimate` of the expert ``sigma_E``.
        episodes: episodes simulated in all.
        confidence: the confidence level of the intervals.
    """

    def __repr__(self) -> str:
        return short_repr(self)

    value_gap: float
    value_gap_ci: tuple[float, float]
    regret_gap: float
    regret_gap_ci: tuple[float, float]
    regret: RegretEstimate
    expert_regret: RegretEstimate
    episodes: int
    confidence: float


# ---------------------------------------------------------------------------------------
# input checks


def _check_confidence(confidence: Any) -> float:
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, (int, float, np.floating))
        or not 0 < confidence < 1
    ):
        raise ValidationError(f"confidence must be a number in (0, 1), got {confidence!r}")
    return float(confidence)


def _checked_recommender(
    recommend: Callable[..., Any], num_joint: int, name: str
) -> Callable[..., np.ndarray]:
    """``recommend`` with its answers checked: ``[n]`` ints in ``0..A-1``, else named."""

    def checked(states: Any, h: int, rng: np.random.Generator) -> np.ndarray:
        a = np.asarray(recommend(states, h, rng))
        n = len(states)
        if a.shape != (n,):
            raise ValidationError(
                f"{name} answered shape {a.shape} at step h = {h}, expected [n] = ({n},)"
            )
        if a.dtype == bool or not np.issubdtype(a.dtype, np.integer):
            raise ValidationError(
                f"{name} answered dtype {a.dtype} at step h = {h}: flat joint actions are ints"
            )
        bad = (a < 0) | (a >= num_joint)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise ValidationError(
                f"{name} recommended joint action {int(a[k])} at step h = {h} (batch entry "
                f"{k}), outside 0..{num_joint - 1} ({int(bad.sum())} such entries)"
            )
        return a.astype(np.int64, copy=False)

    return checked


def _checked_rewards(utilities: Any, m: int) -> Callable[[Any, np.ndarray, int], np.ndarray]:
    """``utilities.reward`` with its answers checked: ``[n, m]`` finite floats."""

    def reward(states: Any, a: np.ndarray, h: int) -> np.ndarray:
        r = np.asarray(utilities.reward(states, a), dtype=np.float64)
        n = len(a)
        if r.shape != (n, m):
            raise ValidationError(
                f"utilities.reward at step h = {h} returned shape {r.shape}, "
                f"expected [n, m] = ({n}, {m})"
            )
        if not np.all(np.isfinite(r)):
            k, i = (int(v) for v in np.argwhere(~np.isfinite(r))[0])
            raise ValidationError(
                f"utilities.reward at step h = {h} is {r[k, i]} for agent {i} (batch entry {k})"
            )
        return r

    return reward


def _check_inputs(
    sim: Any, utilities: Any, rng: Any, episodes: Any, confidence: Any, adversary: Any
) -> tuple[int, int, float]:
    """Validate the shared arguments; return ``(m, episodes, confidence)``."""
    check_rng(rng)
    # a standard error needs two episodes: below that no interval exists
    episodes = check_count("episodes", episodes, minimum=2)
    confidence = _check_confidence(confidence)
    resolve_adversary(adversary, sim, np.zeros(1, np.int64))  # checked before any episode
    if not isinstance(utilities, Utilities):
        missing = [k for k in ("num_agents", "reward") if not hasattr(utilities, k)]
        raise ValidationError(f"{type(utilities).__name__} is not a Utilities: it lacks {missing}")
    check_simulator(sim, rng=rng)
    m = len(tuple(sim.num_actions))
    if utilities.num_agents != m:
        raise ValidationError(
            f"utilities has {utilities.num_agents} agents, the simulator {m} "
            f"(num_actions = {tuple(sim.num_actions)})"
        )
    return m, episodes, confidence


# ---------------------------------------------------------------------------------------
# Monte Carlo pieces


def _z(confidence: float, tests: int = 1) -> float:
    """Two-sided normal quantile at level ``confidence`` split over ``tests`` (Bonferroni)."""
    return float(ndtri(1.0 - (1.0 - confidence) / (2.0 * tests)))


def _obedient(
    sim: Any,
    recommend: Callable[..., np.ndarray],
    reward: Callable[[Any, np.ndarray, int], np.ndarray],
    m: int,
    n: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, Any]:
    """Returns ``sum_h r_i(s_h, a_h)`` of ``n`` obedient episodes ``[n, m]``, and ``s_0``."""
    horizon = int(sim.horizon)
    s = sim.reset(rng, n)
    first = s
    total = np.zeros((n, m))
    for h in range(horizon):
        if len(s) != n:
            raise ValidationError(f"simulator returned {len(s)} states at h = {h}, expected {n}")
        a = recommend(s, h, rng)
        total += reward(s, a, h)
        if h < horizon - 1:
            s = sim.step(s, a, rng)
    return total, first


def _interval(mean: np.ndarray, stderr: np.ndarray, z: float) -> np.ndarray:
    return np.stack([mean - z * stderr, mean + z * stderr], axis=-1)


def _regret_interval(gains: np.ndarray, stderr: np.ndarray, z: float) -> tuple[float, float]:
    """``max(0, max_i g_i)`` interval from per-agent intervals at quantile ``z``.

    If every ``[g_i - z se_i, g_i + z se_i]`` covers its mean, the max over agents (and the
    identity's 0) of the means lies between the maxima of the ends: a union bound.
    """
    lo = max(0.0, float(np.max(gains - z * stderr)))
    hi = max(0.0, float(np.max(gains + z * stderr)))
    return lo, hi


# ---------------------------------------------------------------------------------------
# the estimators


def estimate_regret(
    sim: Any,
    utilities: Any,
    policy: Any,
    *,
    rng: np.random.Generator,
    episodes: int,
    adversary: str = "auto",
    adversary_episodes: int | None = None,
    confidence: float = 0.95,
    adversary_options: Mapping[str, Any] | None = None,
) -> RegretEstimate:
    """Estimate the regret ``R(sigma) = max_i max_phi J_i(pi_{sigma,phi}) - J_i(pi_sigma)``.

    For each agent ``i``: ``J_i(pi_sigma)`` from ``episodes`` obedient episodes (shared by
    the agents); a deviation ``phi_i`` learned by the adversary on ``r_i(s, a)`` of the
    played joint action from ``adversary_episodes`` training episodes; ``J_i(pi_{sigma,
    phi_i})`` from ``episodes`` FRESH episodes (independent of the training ones, so it is
    unbiased for the learned ``phi_i``); ``gain_i = J_i(pi_{sigma,phi_i}) - J_i(pi_sigma)``.

    Lower bound. ``phi_i`` is learned, so ``J_i(pi_{sigma,phi_i}) <= max_phi
    J_i(pi_{sigma,phi})``: ``value = max(0, max_i gain_i)`` estimates a LOWER BOUND on the
    regret (the identity, gain 0, is in every class, hence the 0), up to Monte Carlo error;
    it is the regret itself only when the adversary finds each best response (which it does
    on small tabular games with enough ``adversary_episodes``). The class is the per-step
    complete class ``phi_i(h, s, a_i)`` (``kind="ce"`` of :func:`regretgap.regret`).

    Intervals. Means with normal-approximation intervals ``mean +- z se`` (``se`` = sample
    std / sqrt(episodes)); valid asymptotically in ``episodes``. The obedient and deviated
    estimates use INDEPENDENT episodes (no common random numbers: a simulator's random
    stream need not stay aligned under a deviation, and misaligned pairs would break the
    paired-difference variance), so ``se(gain_i) = sqrt(se_dev^2 + se_obey^2)``. The regret
    interval takes each agent's gain interval at level ``1 - (1 - confidence) / m`` and the
    max of the ends (union bound): its coverage is at least ``confidence``.

    Args:
        sim: a reward-free :class:`~regretgap.Simulator`.
        utilities: the evaluation-only :class:`~regretgap.utilities.Utilities`,
            ``reward(states, joint_actions) -> [n, m]``.
        policy: the mediator ``sigma``: a :class:`~regretgap.sampled.Recommender`
            ``(states, h, rng) -> flat joint actions [n]``, an object with ``sample(features
            [n, d], rng) -> [n]`` (fed ``sim.observe(states, h)``), or a tabular ``[H, S,
            A]`` array (see :func:`~regretgap.sampled.as_recommender`).
        rng: the only source of randomness.
        episodes: episodes for each Monte Carlo value (obedient, and each agent's deviated).
        adversary: ``"auto"`` (tabular Q when the states are ints and ``sim`` has
            ``num_states``, fitted Q on ``sim.observe`` features otherwise), ``"tabular"``
            or ``"fitted"``.
        adversary_episodes: the adversary's training episodes per agent (default
            ``episodes``).
        confidence: the level of every interval, in (0, 1).
        adversary_options: further keyword arguments of the adversary (``batch_size``,
            ``epsilon``, ``ridge``, ``design``, ...).

    Returns:
        :class:`RegretEstimate`.

    Raises:
        ValidationError: ``episodes`` below 2, ``confidence`` outside (0, 1), an unknown
            adversary, a non-Generator rng, utilities of another number of agents than the
            simulator or answering the wrong shape or NaN, a policy recommending joint
            actions out of range (naming the step and batch entry), a malformed simulator.
    """
    return _estimate_regret(
        sim, utilities, policy, rng, episodes, adversary, adversary_episodes, confidence,
        adversary_options, "policy",
    )  # fmt: skip


def _estimate_regret(
    sim: Any,
    utilities: Any,
    policy: Any,
    rng: Any,
    episodes: Any,
    adversary: Any,
    adversary_episodes: Any,
    confidence: Any,
    adversary_options: Any,
    name: str,
) -> RegretEstimate:
    """:func:`estimate_regret`; ``name`` is the policy's name in error messages."""
    m, episodes, confidence = _check_inputs(sim, utilities, rng, episodes, confidence, adversary)
    train = episodes if adversary_episodes is None else adversary_episodes
    train = check_count("adversary_episodes", train, minimum=2)
    options = dict(adversary_options or {})
    clash = sorted(set(options) & set(_RESERVED))
    if clash:
        raise ValidationError(f"adversary_options may not set {clash}: estimate_regret does")
    num_joint = prod(tuple(sim.num_actions))
    recommend = _checked_recommender(as_recommender(policy, sim), num_joint, name)
    reward = _checked_rewards(utilities, m)

    returns, first = _obedient(sim, recommend, reward, m, episodes, rng)  # [N, m]
    v = returns.mean(axis=0)
    v_se = returns.std(axis=0, ddof=1) / np.sqrt(episodes)

    learn = tabular_q_adversary
    if resolve_adversary(adversary, sim, first) == "fitted":
        learn = fitted_q_adversary
    found = []
    for i in range(m):

        def reward_i(states: Any, h: int, a: np.ndarray, i: int = i) -> np.ndarray:
            return reward(states, a, h)[:, i]

        found.append(
            learn(
                sim,
                recommend,
                agent=i,
                reward=reward_i,
                rng=rng,
                episodes=train,
                eval_episodes=episodes,  # the fresh episodes of J_i(pi_{sigma, phi_i})
                **options,
            )
        )
    dev = np.array([res.value for res in found])
    dev_se = np.array([res.stderr for res in found])
    gains = dev - v
    g_se = np.hypot(dev_se, v_se)
    z = _z(confidence)
    worst = int(np.argmax(gains))
    return RegretEstimate(
        value=max(0.0, float(gains[worst])),
        ci=_regret_interval(gains, g_se, _z(confidence, m)),
        agent=worst,
        gains=gains,
        gains_ci=_interval(gains, g_se, z),
        gains_stderr=g_se,
        agent_values=v,
        agent_values_ci=_interval(v, v_se, z),
        agent_values_stderr=v_se,
        deviated_values=dev,
        deviated_values_ci=_interval(dev, dev_se, z),
        deviated_values_stderr=dev_se,
        adversaries=tuple(found),
        episodes=episodes + sum(res.episodes for res in found),
        confidence=confidence,
    )


def estimate_gaps(
    sim: Any,
    utilities: Any,
    expert: Any,
    policy: Any,
    *,
    rng: np.random.Generator,
    episodes: int,
    adversary: str = "auto",
    adversary_episodes: int | None = None,
    confidence: float = 0.95,
    adversary_options: Mapping[str, Any] | None = None,
) -> GapEstimate:
    """Estimate the value gap ``max_i J_i(pi_{sigma_E}) - J_i(pi_sigma)`` (eq. 4) and the
    regret gap ``R(sigma) - R(sigma_E)`` (eq. 5), as :func:`regretgap.value_gap` and
    :func:`regretgap.regret_gap` define them.

    Runs :func:`estimate_regret` on ``policy`` (``sigma``) and on ``expert`` (``sigma_E``)
    with independent episodes. Value gap: each agent's difference of means, ``se =
    sqrt(se_E^2 + se^2)``, intervals at ``1 - (1 - confidence) / m`` and the max of the ends
    (union bound). Regret gap: the difference of the two learned-deviation regret estimates
    (so with an imperfect adversary it is not a bound in either direction), the interval
    ``(low_sigma - high_E, high_sigma - low_E)`` from two regret intervals at level
    ``1 - (1 - confidence) / 2`` each. Each gap's interval has coverage ``confidence``.
    The expert comes before the learner, as in :func:`regretgap.regret_gap`.

    Args:
        sim: as :func:`estimate_regret`.
        utilities: as :func:`estimate_regret` (evaluation only).
        rng: as :func:`estimate_regret`.
        episodes: as :func:`estimate_regret`.
        adversary: as :func:`estimate_regret`.
        adversary_episodes: as :func:`estimate_regret`.
        confidence: as :func:`estimate_regret`.
        adversary_options: as :func:`estimate_regret`.
        expert: the expert's mediator ``sigma_E`` (see :func:`estimate_regret`).
        policy: the learner's mediator ``sigma``, same forms.

    Returns:
        :class:`GapEstimate` (with both :class:`RegretEstimate` s).

    Raises:
        ValidationError: as :func:`estimate_regret`; a bad recommendation names ``policy``
            or ``expert``.
    """
    rest = (rng, episodes, adversary, adversary_episodes, confidence, adversary_options)
    learner = _estimate_regret(sim, utilities, policy, *rest, "policy")
    best = _estimate_regret(sim, utilities, expert, *rest, "expert")
    m = learner.gains.shape[0]
    conf = learner.confidence

    diff = best.agent_values - learner.agent_values
    d_se = np.hypot(best.agent_values_stderr, learner.agent_values_stderr)
    z_m = _z(conf, m)
    value_gap_ci = (float(np.max(diff - z_m * d_se)), float(np.max(diff + z_m * d_se)))

    # two regret intervals at level 1 - alpha/2, each a union bound over m agents
    z_2m = _z(conf, 2 * m)
    lo_l, hi_l = _regret_interval(learner.gains, learner.gains_stderr, z_2m)
    lo_e, hi_e = _regret_interval(best.gains, best.gains_stderr, z_2m)
    return GapEstimate(
        value_gap=float(np.max(diff)),
        value_gap_ci=value_gap_ci,
        regret_gap=learner.value - best.value,
        regret_gap_ci=(lo_l - hi_e, hi_l - lo_e),
        regret=learner,
        expert_regret=best,
        episodes=learner.episodes + best.episodes,
        confidence=conf,
    )
