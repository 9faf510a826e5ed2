"""J-IRL: joint inverse reinforcement learning (Algorithm 3, Appendix B.2, Theorem 4.10).

A zero-sum game between a reward player and a policy player over joint policies:
``min_sigma max_{f in F} J(pi_E, f) - J(pi_sigma, f)`` with a common-payoff reward ``f``.

- Reward player: online projected gradient ascent on ``<rho_E - rho_{sigma_n}, f>`` with
  step ``step_size / sqrt(n + 1)`` (no-regret: average regret ``O(1/sqrt(N))``), with
  ``rho`` the step-summed occupancy: tabular ``f in [-1, 1]^{S x A}`` (clipped), or linear
  ``f = phi w`` with ``|w|_2 <= 1`` (projected).
- Policy player: MaxEnt RL over joint actions by soft value iteration with temperature
  ``tau``: ``Q_h = f + T V_{h+1}``, ``V_h = tau log sum_a exp(Q_h / tau)``,
  ``sigma_h = exp((Q_h - V_h) / tau)``.

Returned: the uniform mixture of the policy player's iterates, for which the no-regret
reduction (Swamy et al., 2021) gives the moment-matching error of Theorem 4.10, as the
Markov policy with the mixture's occupancy (:func:`mixture_policy`). The best single
iterate on held-out demonstrations (Algorithm 3, line 7) is kept as ``best_iterate``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from regretgap._checks import check_count, check_rng
from regretgap._repr import short_repr
from regretgap.errors import ValidationError
from regretgap.evaluation import occupancy
from regretgap.game import MarkovGame
from regretgap.learners._common import (
    check_demos,
    check_policy_class,
)


class JIRLHistory(NamedTuple):
    """Per-round record (length ``rounds``).

    Attributes:
        moment_error: ``sum |rho_train - rho_{sigma_n}|`` (step-summed occupancy, divided
            by ``H``: the average-occupancy form of eq. 11).
        reward_gap: ``<rho_train - rho_{sigma_n}, f_n> / H`` for the reward player's ``f_n``.
        validation: ``sum |rho_val - rho_{sigma_n}| / H`` on held-out demonstrations.
        mixture_moment_error: ``sum |rho_train - mean_{k<=n} rho_{sigma_k}| / H``, the moment
            error of the uniform mixture of the iterates so far (what the no-regret
            guarantee bounds: ``O(1/sqrt(n))`` plus the policy player's approximation error).
    """

    def __repr__(self) -> str:
        return short_repr(self)

    moment_error: tuple[float, ...]
    reward_gap: tuple[float, ...]
    validation: tuple[float, ...]
    mixture_moment_error: tuple[float, ...]


class JIRLResult(NamedTuple):
    """Attributes: policy ``[H, S, A]`` (the Markov policy of the iterates' uniform mixture,
    :func:`mixture_policy`); history; best_round (the iterate with the smallest validation
    error); reward ``[S, A]`` (the reward player's last ``f``); best_iterate ``[H, S, A]``
    (the policy player's iterate ``best_round``)."""

    def __repr__(self) -> str:
        return short_repr(self)

    policy: np.ndarray
    history: JIRLHistory
    best_round: int
    reward: np.ndarray
    best_iterate: np.ndarray


def mixture_policy(rho_mix: np.ndarray) -> np.ndarray:
    """The Markov policy ``[H, S, A]`` whose occupancy is ``rho_mix = mean_n rho_n`` ``[H, S, A]``.

    ``sigma_mix,h(a|s) = sum_n rho_{n,h}(s, a) / sum_n d_{n,h}(s)``, uniform where no iterate
    visits ``(h, s)``. Proof, by induction on ``h``: if ``d^{mix}_h = mean_n d_{n,h}`` (true at
    ``h = 0``: every iterate starts at ``rho0``) then ``rho^{mix}_h = mean_n rho_{n,h}``, so
    ``d^{mix}_{h+1} = T^T mean_n rho_{n,h} = mean_n d_{n,h+1}``. Occupancies being equal,
    every value and moment error of the (non-Markov) trajectory mixture is that of this
    policy: ``J(sigma_mix, f) = mean_n J(sigma_n, f)`` for every reward ``f``.
    """
    rho = np.asarray(rho_mix, dtype=np.float64)
    if rho.ndim != 3 or rho.min() < 0:
        raise ValidationError(
            f"rho_mix must be a non-negative occupancy [H, S, A], got shape {rho.shape}"
        )
    d = rho.sum(axis=-1, keepdims=True)  # [H, S, 1]
    uniform = np.full_like(rho, 1.0 / rho.shape[-1])
    return np.divide(rho, d, out=uniform, where=d > 0)


def soft_value_iteration(game: MarkovGame, reward: np.ndarray, temperature: float) -> np.ndarray:
    """MaxEnt policy ``[H, S, A]`` for a common reward ``f [S, A]`` (transitions only)."""
    s_count, a_count = game.num_states, game.num_joint_actions
    v = np.zeros(s_count)
    sigma = np.empty((game.horizon, s_count, a_count))
    for h in range(game.horizon - 1, -1, -1):
        z = (reward + (game.transitions @ v).reshape(s_count, a_count)) / temperature  # Q_h/tau
        # log-sum-exp by hand: scipy's logsumexp costs ~0.5 ms a call, 80% of a J-IRL run
        z_max = z.max(axis=1, keepdims=True)
        lse = z_max + np.log(np.exp(z - z_max).sum(axis=1, keepdims=True))  # [S, 1]
        v = temperature * lse[:, 0]
        sigma[h] = np.exp(z - lse)
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
    policy_class: Any = None,
) -> JIRLResult:
    """J-IRL (Algorithm 3) from expert demonstrations.

    Args:
        game: transitions are used by the policy player (soft value iteration) and for
            exact occupancies; rewards are never read.
        demos: obedient expert demonstrations.
        rng: the train/validation split.
        rounds: ``N`` reward/policy updates.
        step_size: the reward player's first gradient step; round ``n`` uses
            ``step_size / sqrt(n + 1)``.
        temperature: the policy player's entropy weight ``tau > 0``.
        reward_features: ``phi [S, A, d]`` for a linear reward class; tabular if ``None``.
        validation_fraction: share of trajectories held out.
        policy_class: ``None`` (every Markov policy: the policy player's soft value
            iteration as is), or a class (``fit(counts) -> sigma``, as the other learners
            take): the policy player's iterate is then projected onto it by weighted
            maximum likelihood on its own occupancy (``fit(occupancy(soft policy))``), and
            the returned policy is the class's fit to the iterates' mixed occupancy, so
            J-IRL competes with the same class as J-BC, ALICE and MALICE.
    """
    rng = check_rng(rng)
    rounds = check_count("rounds", rounds)
    cls = None if policy_class is None else check_policy_class(policy_class, game, rng)
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
    moment, gaps, validation, mixed = [], [], [], []
    best_iterate = sigma
    rho_total = np.zeros((horizon, *rho_train.shape))  # sum_n rho_{n,h}(s, a), [H, S, A]
    for n in range(rounds):
        rho_n = occupancy(game, sigma)  # [H, S, A]
        rho_total += rho_n
        rho = rho_n.sum(axis=0)
        moment.append(float(np.abs(rho_train - rho).sum() / horizon))
        validation.append(float(np.abs(rho_val - rho).sum() / horizon))
        if validation[-1] < min(validation[:-1], default=np.inf):
            best_iterate = sigma  # only the best is kept: N iterates [H, S, A] can be large
        rho_mix = rho_total.sum(axis=0) / (n + 1)
        mixed.append(float(np.abs(rho_train - rho_mix).sum() / horizon))
        grad = rho_train - rho
        # A constant step leaves average regret ~ step |grad|^2 / 2 for ever: with step 2 the
        # mixture's moment error stalled at 0.109 on theorem_5_4(8, 0.1, 0, 4) (0.007 with
        # the decaying step after 1000 rounds), and every iterate at 0.21.
        step = step_size / np.sqrt(n + 1)
        if phi is None:
            f = np.clip(f + step * grad, -1.0, 1.0)
        else:
            w = w + step * np.tensordot(grad, phi, axes=([0, 1], [0, 1]))
            w /= max(1.0, float(np.linalg.norm(w)))
            f = phi @ w
        gaps.append(float((grad * f).sum() / horizon))
        sigma = soft_value_iteration(game, f, temperature)
        if cls is not None:  # the policy player answers within the class
            sigma = cls.fit(occupancy(game, sigma))
    best = int(np.argmin(validation))
    mixed_policy = (
        mixture_policy(rho_total / rounds) if cls is None else cls.fit(rho_total / rounds)
    )
    return JIRLResult(
        policy=mixed_policy,
        history=JIRLHistory(tuple(moment), tuple(gaps), tuple(validation), tuple(mixed)),
        best_round=best,
        reward=f,
        best_iterate=best_iterate,
    )
