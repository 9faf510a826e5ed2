"""J-IRL: joint inverse reinforcement learning (Algorithm 3, Appendix B.2, Theorem 4.10).

A zero-sum game between a reward player and a policy player over joint policies:
``min_sigma max_{f in F} J(pi_E, f) - J(pi_sigma, f)`` with a common-payoff reward ``f``.

- Reward player: online projected gradient ascent on ``<rho_E - rho_{sigma_n}, f>``, with
  ``rho`` the step-summed occupancy: tabular ``f in [-1, 1]^{S x A}`` (clipped), or linear
  ``f = phi w`` with ``|w|_2 <= 1`` (projected).
- Policy player: MaxEnt RL over joint actions by soft value iteration with temperature
  ``tau``: ``Q_h = f + T V_{h+1}``, ``V_h = tau log sum_a exp(Q_h / tau)``,
  ``sigma_h = exp((Q_h - V_h) / tau)``.

The best iterate on held-out demonstrations (smallest ``sum |rho_val - rho_sigma|``, the
moment-matching error over the complete reward class, eq. 11) is returned.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy.special import logsumexp

from regretgap.errors import ValidationError
from regretgap.evaluation import occupancy
from regretgap.game import MarkovGame
from regretgap.learners._common import check_demos, check_rng, check_rounds


class JIRLHistory(NamedTuple):
    """Per-round record (length ``rounds``).

    Attributes:
        moment_error: ``sum |rho_train - rho_{sigma_n}|`` (step-summed occupancy, divided
            by ``H``: the average-occupancy form of eq. 11).
        reward_gap: ``<rho_train - rho_{sigma_n}, f_n> / H`` for the reward player's ``f_n``.
        validation: ``sum |rho_val - rho_{sigma_n}| / H`` on held-out demonstrations.
    """

    moment_error: tuple[float, ...]
    reward_gap: tuple[float, ...]
    validation: tuple[float, ...]


class JIRLResult(NamedTuple):
    """Attributes: policy ``[H, S, A]`` (best iterate); history; best_round; reward ``[S, A]``
    (the reward player's last ``f``)."""

    policy: np.ndarray
    history: JIRLHistory
    best_round: int
    reward: np.ndarray


def soft_value_iteration(game: MarkovGame, reward: np.ndarray, temperature: float) -> np.ndarray:
    """MaxEnt policy ``[H, S, A]`` for a common reward ``f [S, A]`` (transitions only)."""
    s_count, a_count = game.num_states, game.num_joint_actions
    v = np.zeros(s_count)
    sigma = np.empty((game.horizon, s_count, a_count))
    for h in range(game.horizon - 1, -1, -1):
        q = reward + (game.transitions @ v).reshape(s_count, a_count)
        v = temperature * logsumexp(q / temperature, axis=1)
        sigma[h] = np.exp((q - v[:, None]) / temperature)
    return sigma


def jirl(
    game: MarkovGame,
    demos: Any,
    *,
    rng: np.random.Generator,
    rounds: int = 60,
    step_size: float = 2.0,
    temperature: float = 0.1,
    reward_features: Any = None,
    validation_fraction: float = 0.2,
) -> JIRLResult:
    """J-IRL (Algorithm 3) from expert demonstrations.

    Args:
        game: transitions are used by the policy player (soft value iteration) and for
            exact occupancies; rewards are never read.
        demos: obedient expert demonstrations.
        rng: the train/validation split.
        rounds: ``N`` reward/policy updates.
        step_size: the reward player's gradient step.
        temperature: the policy player's entropy weight ``tau > 0``.
        reward_features: ``phi [S, A, d]`` for a linear reward class; tabular if ``None``.
        validation_fraction: share of trajectories held out.
    """
    rng = check_rng(rng)
    rounds = check_rounds(rounds)
    if temperature <= 0 or step_size <= 0:
        raise ValidationError(
            f"temperature and step_size must be > 0, got {temperature}, {step_size}"
        )
    train, held = check_demos(game, demos).split(validation_fraction, rng)
    horizon = game.horizon
    rho_train = train.counts(game).sum(axis=0) / len(train)  # [S, A], step-summed
    rho_val = held.counts(game).sum(axis=0) / len(held)
    phi = None
    if reward_features is not None:
        phi = np.asarray(reward_features, dtype=np.float64)
        if phi.ndim != 3 or phi.shape[:2] != rho_train.shape:
            raise ValidationError(
                f"reward_features must be [S, A, d] = {(*rho_train.shape, 'd')}, got {phi.shape}"
            )
        w = np.zeros(phi.shape[2])
    f = np.zeros_like(rho_train)
    sigma = np.full((horizon, *rho_train.shape), 1.0 / game.num_joint_actions)
    iterates, moment, gaps, validation = [], [], [], []
    for _ in range(rounds):
        rho = occupancy(game, sigma).sum(axis=0)
        iterates.append(sigma)
        moment.append(float(np.abs(rho_train - rho).sum() / horizon))
        validation.append(float(np.abs(rho_val - rho).sum() / horizon))
        grad = rho_train - rho
        if phi is None:
            f = np.clip(f + step_size * grad, -1.0, 1.0)
        else:
            w = w + step_size * np.tensordot(grad, phi, axes=([0, 1], [0, 1]))
            w /= max(1.0, float(np.linalg.norm(w)))
            f = phi @ w
        gaps.append(float((grad * f).sum() / horizon))
        sigma = soft_value_iteration(game, f, temperature)
    best = int(np.argmin(validation))
    return JIRLResult(
        policy=iterates[best],
        history=JIRLHistory(tuple(moment), tuple(gaps), tuple(validation)),
        best_round=best,
        reward=f,
    )
