"""Normal-form games as one-state Markov games (``H = 1``, ``S = 1``), with known equilibria.

Payoff tensors are ``[m, n_0, ..., n_{m-1}]``: ``payoffs[i, a_0, ..., a_{m-1}]`` is agent
``i``'s utility, flattened to ``r[i, 0, a]`` in the joint order of MATH.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from regretgap.errors import ValidationError
from regretgap.game import MarkovGame


def matrix_game(payoffs: Any, *, horizon: int = 1) -> MarkovGame:
    """A normal-form game ``[m, n_0, ..., n_{m-1}]`` as a one-state Markov game.

    With ``horizon > 1`` the stage game is repeated ``H`` times (one state, so a stationary
    mediator plays the same distribution every round).
    """
    u = np.asarray(payoffs, dtype=np.float64)
    if u.ndim < 2 or u.shape[0] != u.ndim - 1:
        raise ValidationError(
            f"payoffs must have shape [m, n_0, ..., n_(m-1)] with m = ndim - 1, got {u.shape}"
        )
    num_actions = tuple(int(n) for n in u.shape[1:])
    num_joint = int(np.prod(num_actions))
    rewards = u.reshape(u.shape[0], 1, num_joint)
    transitions = sp.csr_matrix(np.ones((num_joint, 1)))
    return MarkovGame(transitions, rewards, np.ones(1), horizon, num_actions)


def _sym(row: list[list[float]]) -> np.ndarray:
    r = np.asarray(row, dtype=np.float64)
    return np.stack([r, r.T])


#: Chicken (actions Dare, Chicken): row payoffs [[0, 7], [2, 6]], symmetric.
CHICKEN = _sym([[0.0, 7.0], [2.0, 6.0]])

#: Pure coordination with a better equilibrium (Figure 5's ``r``).
COORDINATION = _sym([[1.0, 0.0], [0.0, 2.0]])

#: Shapley's game: a 3x3 cyclic game whose only Nash equilibrium is uniform.
SHAPLEY = np.stack(
    [
        np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]),
        np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]),
    ]
)


def chicken() -> tuple[MarkovGame, np.ndarray]:
    """Chicken and its welfare-maximising CE: ``(D,C), (C,D)`` w.p. 1/4, ``(C,C)`` w.p. 1/2.

    Each player gets ``0.25 * 7 + 0.25 * 2 + 0.5 * 6 = 5.25`` (Aumann's example).
    Returns ``(game, ce)`` with ``ce`` an ``[1, 4]`` policy.
    """
    return matrix_game(CHICKEN), np.array([[0.0, 0.25, 0.25, 0.5]])


def coordination() -> tuple[MarkovGame, np.ndarray]:
    """Coordination game and its best pure equilibrium ``(a2, a2)`` (value 2 each)."""
    return matrix_game(COORDINATION), np.array([[0.0, 0.0, 0.0, 1.0]])


def shapley() -> tuple[MarkovGame, np.ndarray]:
    """Shapley's game and a CE: uniform over the six off-diagonal profiles (value 1/2 each).

    Each recommendation ``a_i`` leaves the opponent uniform on the two other actions; the
    recommended action then wins with probability 1/2, as does either alternative, so no
    swap gains.
    """
    ce = np.full((1, 9), 1.0 / 6)
    ce[0, [0, 4, 8]] = 0.0
    return matrix_game(SHAPLEY), ce
