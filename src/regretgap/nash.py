"""Nash exploitability of independent per-agent policies (the Nash papers' metric).

Freihaut, Viano, Cevher, Geist and Ramponi ("Learning Equilibria from Data", NeurIPS 2025)
measure an imitation learner by the Nash gap of the per-agent policies it returns:
``max_i max_{pi_i'} J_i(pi_i', pi_-i) - J_i(pi)``, finite horizon and undiscounted as in the
rest of this library. Against a product policy a recommendation-ignoring deviation of agent
``i`` *is* a replacement of ``pi_i``, so agent ``i``'s term is the CCE-class best-response
gain of the product mediator (``regret(..., kind="cce")``), computed by the same exact
backward induction (Markov responses suffice in a finite-horizon game).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from regretgap.errors import ValidationError
from regretgap.evaluation import BestResponse, best_response, best_responses, state_distribution
from regretgap.game import MarkovGame
from regretgap.policies import as_policy, product_policy

__all__ = ["Concentrability", "NashGap", "concentrability", "nash_gap"]


class NashGap(NamedTuple):
    """Nash exploitability of per-agent policies.

    Attributes:
        value: ``max_i`` of ``per_agent`` (0 exactly at a Nash equilibrium).
        per_agent: ``[m]``: ``max_{pi_i'} J_i(pi_i', pi_-i) - J_i(pi)`` (>= 0).
        best_responses: per agent its :class:`~regretgap.BestResponse` (a
            recommendation-ignoring table ``[H, S, n_i]``: the best pure Markov response;
            the identity where keeping ``pi_i`` is already best).
    """

    value: float
    per_agent: np.ndarray
    best_responses: tuple[BestResponse, ...]

    def __repr__(self) -> str:
        return f"NashGap(value={self.value:.6g}, per_agent={np.round(self.per_agent, 6).tolist()})"


def _check(game: MarkovGame, policies: Any, atol: float) -> list[np.ndarray]:
    if not isinstance(game, MarkovGame):
        raise ValidationError(f"game must be a MarkovGame, got {type(game).__name__}")
    if isinstance(policies, np.ndarray) or not isinstance(policies, Sequence):
        raise ValidationError(
            "policies must be a sequence of per-agent policies ([H, S, n_i] or [S, n_i]); "
            "a joint [H, S, A] mediator is not a product policy"
        )
    parts = [np.asarray(p, dtype=np.float64) for p in policies]
    if len(parts) != game.num_agents:
        raise ValidationError(f"expected {game.num_agents} per-agent policies, got {len(parts)}")
    for i, p in enumerate(parts):
        if not np.all(np.isfinite(p)) or (p.size and p.min() < 0):
            raise ValidationError(f"policy of agent {i} has negative or non-finite entries")
        sums = p.sum(axis=-1)
        bad = np.argwhere(np.abs(sums - 1.0) > atol)
        if bad.size:
            where = tuple(int(x) for x in bad[0])
            raise ValidationError(
                f"policy of agent {i}: row {where} sums to {sums[where]:.6g}, not 1"
            )
    return parts


def nash_gap(game: MarkovGame, policies: Sequence[Any], *, atol: float = 1e-8) -> NashGap:
    """Nash gap ``max_i max_{pi_i'} J_i(pi_i', pi_-i) - J_i(pi)`` of per-agent policies.

    Args:
        game: the Markov game (its rewards are read: evaluation only).
        policies: ``m`` per-agent policies, each ``[H, S, n_i]`` or ``[S, n_i]`` (all of one
            form; a stationary ``[S, n_i]`` is broadcast over steps).
        atol: tolerance on each row's sum.

    Returns:
        :class:`NashGap`.

    Raises:
        ValidationError: not a sequence of ``m`` per-agent policies, a shape that does not
            fit the game, or a row off the simplex (naming the agent and row).
    """
    parts = _check(game, policies, atol)
    joint = product_policy(game, parts)
    brs = best_responses(game, joint, kind="cce")
    per_agent = np.maximum(np.asarray(brs.gain, dtype=np.float64), 0.0)
    return NashGap(
        value=float(per_agent.max()),
        per_agent=per_agent,
        best_responses=tuple(brs.of(i) for i in range(game.num_agents)),
    )


class Concentrability(NamedTuple):
    """The single-policy deviation concentrability coefficient of an expert.

    Attributes:
        value: ``max_i max_phi max_{h,s} d_h^{sigma_E, phi_i}(s) / d_h^{sigma_E}(s)``
            (``inf`` where a deviation reaches a state the expert never visits).
        agent: the deviating agent attaining it.
        step: the step ``h`` attaining it.
        state: the state ``s`` attaining it.
        ratios: ``[m, H, S]``: per agent the largest reach probability over deviations
            divided by the expert's (``nan`` where neither reaches the state).
    """

    value: float
    agent: int
    step: int
    state: int
    ratios: np.ndarray

    def __repr__(self) -> str:
        return (
            f"Concentrability(value={self.value:.6g}, agent={self.agent}, step={self.step}, "
            f"state={self.state})"
        )


def concentrability(game: MarkovGame, sigma_expert: Any) -> Concentrability:
    """Single-policy deviation concentrability (Freihaut et al., NeurIPS 2025):
    ``max_i max_{phi_i} max_{h,s} d_h^{sigma_E, phi_i}(s) / d_h^{sigma_E}(s)``.

    For each agent, step and state the largest probability of being in ``s`` at step ``h``
    over the agent's deviations is a best response to the indicator reward of ``(h, s)``
    (one exact dynamic programme each, ``m H S`` in all: fine at tabular sizes). States no
    deviation reaches are left out; one that a deviation reaches and the expert never visits
    makes the coefficient infinite (MALICE's coverage failure).

    Relation to :func:`regretgap.coverage`: reach probabilities are at most 1, so the
    coefficient is at most ``1 / per_step_beta`` (``beta`` of Assumption 5.2 read per step),
    and it is infinite exactly when ``coverage(...).uncovered`` is not empty. It is the
    sharper quantity: it weighs each state by how much more a deviation visits it than the
    expert does, where ``beta`` only asks how rarely the expert visits the rarest one.

    Args:
        game: the Markov game (transitions only; rewards are not read).
        sigma_expert: the expert's mediator ``[H, S, A]`` or ``[S, A]``.

    Returns:
        :class:`Concentrability`.
    """
    expert = as_policy(game, sigma_expert, name="sigma_expert")
    horizon, num_states = game.horizon, game.num_states
    d_e = state_distribution(game, expert)  # [H, S]
    m = game.num_agents
    ratios = np.full((m, horizon, num_states), np.nan)
    reward = np.zeros((horizon, m, num_states, game.num_joint_actions))
    for i in range(m):
        for h in range(horizon):
            for s in range(num_states):
                reward[h, i, s] = 1.0
                reach = best_response(game, expert, i, reward=reward).value
                reward[h, i, s] = 0.0
                if reach <= 1e-12:
                    continue
                ratios[i, h, s] = reach / d_e[h, s] if d_e[h, s] > 0 else np.inf
    if np.all(np.isnan(ratios)):
        return Concentrability(1.0, 0, 0, 0, ratios)
    flat = int(np.nanargmax(ratios))
    i, h, s = (int(x) for x in np.unravel_index(flat, ratios.shape))
    return Concentrability(float(ratios[i, h, s]), i, h, s, ratios)
