"""Diagnostics of an expert for the paper's bounds (section 5).

Which ``(h, s)`` a single-agent deviation can reach, the expert's coverage ``beta``
(Assumption 5.2) and a bracket on its recoverability ``u`` (Assumption 5.1), the constants
Theorems 5.3-5.9 are stated in. Built on the evaluation chain of
:mod:`regretgap.evaluation` (state distributions, value functions, best responses).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from regretgap import _engine
from regretgap._engine import BEST_CE, Column
from regretgap._repr import short_repr
from regretgap.deviations import agent_axes, apply_deviation
from regretgap.evaluation import state_distribution, value_functions
from regretgap.game import MarkovGame
from regretgap.policies import as_policy


class Coverage(NamedTuple):
    """Coverage of the expert's state distribution (Assumption 5.2).

    Attributes:
        beta: ``min_s d^{pi_E}(s)`` with ``d = (1/H) sum_h d_h`` (the assumption's form), over
            states some single-agent deviation can reach.
        per_step_beta: ``min_{h,s} d_h^{pi_E}(s)`` over ``(h, s)`` some deviation can reach.
            The paper's constructions (Theorem 5.4) state their ``beta`` in this form; on a
            layered game ``beta = per_step_beta / H`` when the minima sit at the same state.
        state: a state attaining ``beta``.
        uncovered: states some deviation reaches but the expert never visits (sorted).
        reachable: ``[H, S]`` bool, ``(h, s)`` reachable when one agent deviates arbitrarily.
    """

    def __repr__(self) -> str:
        return short_repr(self)

    beta: float
    per_step_beta: float
    state: int
    uncovered: np.ndarray
    reachable: np.ndarray


class Recoverability(NamedTuple):
    """Bounds on ``u = max |A^{pi_{sigma_E, phi_i}}_{i,h}(s, a)|`` (Assumption 5.1).

    The max over every deviation is not a dynamic programme (the advantage is a difference
    of two functionals of the continuation), so it is bracketed:

    Attributes:
        lower: the max over the identity, each agent's best response and each agent's worst
            response (attained advantages, so ``u >= lower``).
        upper: ``max_{i,h,s} [max_a Qmax_{i,h}(s,a) - min_a Qmin_{i,h}(s,a)]`` with ``Qmax``,
            ``Qmin`` built from the best and worst continuation values (``u <= upper``).
        witness: ``(agent, h, s, a)`` where ``lower`` is attained.
    """

    def __repr__(self) -> str:
        return short_repr(self)

    lower: float
    upper: float
    witness: tuple[int, int, int, int]


def deviation_reachable(game: MarkovGame, sigma: Any) -> np.ndarray:
    """``[H, S]`` bool: ``(h, s)`` has positive probability under ``pi_{sigma, phi_i}`` for some
    agent ``i`` and deviation ``phi_i`` of the complete class (the identity included)."""
    pol = as_policy(game, sigma)
    tt = game.transitions.T.tocsr()
    out = np.zeros((game.horizon, game.num_states), dtype=bool)
    for i in range(game.num_agents):
        idx = agent_axes(game, i)  # [n_i, R]
        # (b, a_-i) can be played iff a_-i has positive marginal probability
        others = pol[:, :, idx].sum(axis=2) > 0  # [H, S, R]
        allowed = np.empty((game.horizon, game.num_states, game.num_joint_actions), bool)
        allowed[:, :, idx] = others[:, :, None, :]
        reach = game.initial > 0
        out[0] |= reach
        for h in range(game.horizon - 1):
            mass = (reach[:, None] & allowed[h]).ravel().astype(np.float64)
            reach = (tt @ mass) > 0
            out[h + 1] |= reach
    return out


def coverage(game: MarkovGame, sigma_expert: Any) -> Coverage:
    """Coverage ``beta`` of the expert's state distribution (Assumption 5.2).

    ``beta = min_s d^{pi_E}(s)``, ``d = (1/H) sum_h d_h``, over states reachable when one agent
    deviates (states no deviation reaches never matter for regret).
    """
    pol = as_policy(game, sigma_expert, name="sigma_expert")
    d = state_distribution(game, pol)
    reach = deviation_reachable(game, pol)
    avg = d.mean(axis=0)
    states = np.flatnonzero(reach.any(axis=0))
    k = states[int(np.argmin(avg[states]))]
    return Coverage(
        beta=float(avg[k]),
        per_step_beta=float(d[reach].min()),
        state=int(k),
        uncovered=states[avg[states] <= 0],
        reachable=reach,
    )


def recoverability(game: MarkovGame, sigma_expert: Any, *, reward: Any = None) -> Recoverability:
    """Bracket the recoverability constant ``u`` of the expert (Assumption 5.1).

    ``u = max_{i,h,s,a,phi_i} |Q_{i,h}^{pi_{E,phi}}(s,a) - V_{i,h}^{pi_{E,phi}}(s)|`` over states
    reachable at step ``h`` (``game.reachable``); see :class:`Recoverability`.
    """
    pol = as_policy(game, sigma_expert, name="sigma_expert")
    rew = _engine.rewards_array(game, reward)
    m = game.num_agents
    both = np.concatenate([rew, -rew], axis=-3)  # rows 0..m-1: r_i, rows m..2m-1: -r_i
    cols = [Column(BEST_CE, i, i) for i in range(m)]
    cols += [Column(BEST_CE, m + i, i) for i in range(m)]
    _, tables, w_best = _engine.backward(game, pol, both, cols, keep=True)
    q_ext = _engine.q_from_w(game, both, w_best)  # [H, 2m, S, A]
    mask = game.reachable
    spread = q_ext[:, :m].max(axis=3) + q_ext[:, m:].max(axis=3)  # max Qmax - min Qmin
    upper = float(np.max(np.where(mask[:, None, :], spread, -np.inf)))
    lower, witness = 0.0, (0, 0, int(np.flatnonzero(mask[0])[0]), 0)
    for i in range(m):
        n = game.num_actions[i]
        for phi in (np.arange(n), tables[i], tables[m + i]):
            played = apply_deviation(game, pol, i, phi)
            vf = value_functions(game, played, reward=rew)
            adv = vf.q[:, i] - vf.v[:-1, i][..., None]  # [H, S, A]
            adv = np.where(mask[..., None], np.abs(adv), -np.inf)
            k = np.unravel_index(int(np.argmax(adv)), adv.shape)
            if adv[k] > lower:
                lower, witness = float(adv[k]), (i, int(k[0]), int(k[1]), int(k[2]))
    return Recoverability(lower=lower, upper=upper, witness=witness)
