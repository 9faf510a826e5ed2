"""Nash equilibrium of a two-player zero-sum Markov game by Shapley's value iteration.

Shapley (1953), finite horizon and undiscounted: backward over steps, at each ``(h, s)``
the stage game ``Q_h(s, a_0, a_1) = r_0(s, a) + sum_{s'} T(s' | s, a) V_{h+1}(s')`` is a
zero-sum matrix game; one linear programme gives agent 0's maximin strategy and the game's
value, and its dual solution agent 1's minimax strategy. The per-agent policies form a
Markov perfect Nash equilibrium: the Nash papers' expert (their grid world's). Reads the
rewards: an expert's solver, never a learner.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.optimize import linprog

from regretgap._repr import short_repr
from regretgap.equilibria import SolverError
from regretgap.errors import ValidationError
from regretgap.game import MarkovGame

__all__ = ["ZeroSumNash", "matrix_game_nash", "zero_sum_nash"]

#: ``|r_0 + r_1|`` accepted as zero (the game must be zero-sum to this tolerance).
ZERO_SUM_ATOL = 1e-9


class ZeroSumNash(NamedTuple):
    """A Nash equilibrium of a two-player zero-sum Markov game and its values.

    Attributes:
        policies: ``(mu, nu)``: agent 0's ``[H, S, n_0]`` and agent 1's ``[H, S, n_1]``
            stage-optimal strategies at every ``(h, s)``, reached or not.
        values: ``V[h, s]``, ``[H + 1, S]``: agent 0's equilibrium value from ``(h, s)``
            (``V[H] = 0``); agent 1's is ``-V``.
        value: ``rho0 . V[0]``, agent 0's value of the game.
    """

    def __repr__(self) -> str:
        return short_repr(self)

    policies: tuple[np.ndarray, np.ndarray]
    values: np.ndarray
    value: float


def matrix_game_nash(payoff: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Maximin ``x``, minimax ``y`` and value of the zero-sum matrix game ``x^T M y``.

    One LP, ``max v`` s.t. ``(M^T x)_b >= v`` for every column ``b``, ``x`` in the simplex
    (scipy's HiGHS); ``y`` is the dual solution of the column constraints (LP duality:
    ``y >= 0``, ``sum_b y_b = 1`` and ``max_a (M y)_a = v``).

    Args:
        payoff: ``M [n_0, n_1]``, the row player's payoff (the column player gets ``-M``).

    Returns:
        ``(x [n_0], y [n_1], v)``.

    Raises:
        SolverError: HiGHS does not report an optimum.
    """
    m = np.asarray(payoff, dtype=np.float64)
    n0, n1 = m.shape
    # variables (x, v): minimise -v subject to v - (M^T x)_b <= 0 and sum x = 1
    res = linprog(
        np.r_[np.zeros(n0), -1.0],
        A_ub=np.c_[-m.T, np.ones(n1)],
        b_ub=np.zeros(n1),
        A_eq=np.r_[np.ones(n0), 0.0][None],
        b_eq=[1.0],
        bounds=[(0, None)] * n0 + [(None, None)],
        method="highs",
    )
    if res.status != 0:
        raise SolverError(f"matrix game LP failed: {res.message}")
    x = np.maximum(res.x[:n0], 0.0)
    # marginals are d(objective)/d(b_ub) <= 0 for the minimisation: y = -marginals
    y = np.maximum(-np.asarray(res.ineqlin.marginals), 0.0)
    return x / x.sum(), y / y.sum(), float(-res.fun)


def zero_sum_nash(game: MarkovGame) -> ZeroSumNash:
    """Shapley's value iteration: ``V_h(s) = val[r_0(s, .) + T(. | s, .) V_{h+1}]``.

    One matrix-game LP per step and state (``H S`` in all); agent 0 maximises its reward,
    agent 1 (whose reward is ``-r_0``) minimises it.

    Args:
        game: a two-player game with ``r_1 = -r_0`` (to ``1e-9``).

    Returns:
        :class:`ZeroSumNash`.

    Raises:
        ValidationError: not two agents, or not zero-sum (naming a state and joint action
            where ``r_0 + r_1 != 0``).
    """
    if not isinstance(game, MarkovGame):
        raise ValidationError(f"game must be a MarkovGame, got {type(game).__name__}")
    if game.num_agents != 2:
        raise ValidationError(f"a zero-sum game has two agents, this one {game.num_agents}")
    r = np.asarray(game.rewards, dtype=np.float64)
    off = np.abs(r[0] + r[1]) > ZERO_SUM_ATOL
    if off.any():
        s, a = (int(k) for k in np.argwhere(off)[0])
        raise ValidationError(
            f"the game is not zero-sum: r_0 + r_1 = {r[0, s, a] + r[1, s, a]:.6g} at state "
            f"{s}, joint action {a} ({int(off.sum())} such entries)"
        )
    horizon, num_states = game.horizon, game.num_states
    n0, n1 = game.num_actions
    t = game.transition_tensor()
    v = np.zeros((horizon + 1, num_states))
    mu, nu = np.zeros((horizon, num_states, n0)), np.zeros((horizon, num_states, n1))
    for h in reversed(range(horizon)):
        q = (r[0] + t @ v[h + 1]).reshape(num_states, n0, n1)
        for s in range(num_states):
            mu[h, s], nu[h, s], v[h, s] = matrix_game_nash(q[s])
    value = float(np.asarray(game.initial) @ v[0])
    return ZeroSumNash((mu, nu), v, value)
