"""A game where the state that matters lies behind ``k`` deviations in a row.

Built to separate BLADES's worst-case deviation (eq. 7) from random deviations (DAgger
with noisy roll-ins). Two agents, two actions each (``0`` conform, ``1`` defect), horizon
``H = k + 1``, start in the normal state ``N``:

- ``N``: both conforming pays each agent 1, anything else 0. If exactly agent ``i``
  defects, the game enters agent ``i``'s corridor; otherwise it stays in ``N``.
- Corridor ``C_i^1 .. C_i^{k-1}`` (no rewards): agent ``i`` defecting again moves one step
  deeper, conforming returns to ``N``; the other agent's action does not matter. From
  ``C_i^{k-1}`` (or from ``N`` when ``k = 1``) a defection reaches the deep state ``P_i``.
- ``P_i`` (then back to ``N``): the deviator ``i`` gets ``prize = 2k + 5`` unless the other
  agent punishes (plays 1), when it gets ``-fine = -1``; the punisher gets 0 whatever it
  plays.

Only at ``P_i`` does the mediator's recommendation change a deviator's incentive, and
reaching it takes ``k`` defections in a row from step 0. The expert recommends ``(0, 0)``
everywhere except ``P_i``, where it tells the other agent to punish: an exact correlated
equilibrium (regret 0). Its demonstrations never leave ``N``. A mediator that tells the
punisher to punish with probability ``q`` at ``P_i`` gives agent ``i`` the deviation gain
``(2k + 5)(1 - q) - q - (k + 1)``: 1 for a uniform recommendation (``q = 1/2``), so the
regret gap of a learner that is right everywhere but uniform at both ``P_i`` is exactly 1.

Noise injection at rate ``p`` (each agent plays a uniform random action with probability
``p``) defects with probability ``p / 2`` per step, so it reaches ``P_i`` with probability
about ``(p / 2)^k`` per episode; a deviation that seeks the learner's disagreement reaches
it every time.

Features for the learners: one-hot of the region (``N``, ``C_0``, ``C_1``, ``P_0``, ``P_1``)
and the corridor depth ``j / k``, ``[S, 6]``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from regretgap._checks import check_count
from regretgap._repr import short_repr
from regretgap.game import MarkovGame

NUM_ACTIONS = (2, 2)
CONFORM, DEFECT = 0, 1
FINE = 1.0


class CorridorGame(NamedTuple):
    """The corridor game of depth ``k``.

    Attributes:
        game: the :class:`~regretgap.MarkovGame` (``S = 1 + 2k``, ``A = 4``, ``H = k + 1``).
        features: ``[S, 6]``: one-hot region (N, C_0, C_1, P_0, P_1), corridor depth / k.
        expert: the expert's correlated equilibrium ``[H, S, A]`` (deterministic).
        deep: ``(P_0, P_1)``: the deep states' indices.
        prize: the deviator's reward at ``P_i`` when not punished (``2k + 5``).
    """

    def __repr__(self) -> str:
        return short_repr(self)

    game: MarkovGame
    features: np.ndarray
    expert: np.ndarray
    deep: tuple[int, int]
    prize: float


def corridor_state(depth: int, agent: int, j: int) -> int:
    """Index of ``C_agent^j`` (``1 <= j <= depth - 1``) or, for ``j = depth``, of ``P_agent``."""
    return 1 + agent * depth + (j - 1)


def corridor_game(depth: int) -> CorridorGame:
    """The corridor game with ``k = depth`` defections in a row to the deep states.

    Raises:
        ValidationError: ``depth`` not a positive integer.
    """
    k = check_count("depth", depth)
    num_states, num_joint, horizon = 1 + 2 * k, 4, k + 1
    prize = 2.0 * k + 5.0
    t = np.zeros((num_states, num_joint, num_states))
    r = np.zeros((2, num_states, num_joint))
    features = np.zeros((num_states, 6))
    expert = np.zeros((num_states, num_joint))
    joint = {(a0, a1): 2 * a0 + a1 for a0 in (0, 1) for a1 in (0, 1)}
    # N
    features[0, 0] = 1.0
    expert[0, joint[0, 0]] = 1.0
    r[:, 0, joint[0, 0]] = 1.0
    for (a0, a1), a in joint.items():
        if a0 != a1:
            t[0, a, corridor_state(k, 0 if a0 else 1, 1)] = 1.0
        else:
            t[0, a, 0] = 1.0
    for i in (0, 1):
        for j in range(1, k + 1):
            s = corridor_state(k, i, j)
            if j < k:  # corridor C_i^j
                features[s, 1 + i] = 1.0
                features[s, 5] = j / k
                expert[s, joint[0, 0]] = 1.0
                for (a0, a1), a in joint.items():
                    own = a0 if i == 0 else a1
                    t[s, a, corridor_state(k, i, j + 1) if own == DEFECT else 0] = 1.0
            else:  # the deep state P_i
                features[s, 3 + i] = 1.0
                features[s, 5] = 1.0
                punish = joint[0, 1] if i == 0 else joint[1, 0]
                expert[s, punish] = 1.0
                t[s, :, 0] = 1.0
                for (a0, a1), a in joint.items():
                    other = a1 if i == 0 else a0
                    r[i, s, a] = -FINE if other == DEFECT else prize
    initial = np.eye(num_states)[0]
    game = MarkovGame(t, r, initial, horizon=horizon, num_actions=NUM_ACTIONS)
    deep = (corridor_state(k, 0, k), corridor_state(k, 1, k))
    return CorridorGame(
        game, features, np.broadcast_to(expert, (horizon, *expert.shape)).copy(), deep, prize
    )
