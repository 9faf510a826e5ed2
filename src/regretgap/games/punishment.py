"""A coordination game with punishments, given by features.

The game where tables fail and features help, yet small enough to evaluate exactly. Two
agents, three actions each: ``0`` and ``1`` are two conventions, ``2`` is "defect".

- **Normal states** ``s`` (the expert's play never leaves them) carry a feature vector
  ``x_s ~ N(0, I_d)`` and a convention ``k(s) = 1[theta . x_s > 0]``. Both playing ``k(s)``
  pays each ``coordinate`` (0.5); any other pair of conventions pays 0; an agent who
  defects gets ``coordinate`` now, the other 0, and if exactly one agent ``i`` defects the
  game moves to the punishment region ``P_i``.
- **Punishment states** of ``P_i`` (absorbing): the punisher ``j`` is paid nothing (any
  recommendation is incentive compatible for it); the deviator ``i`` gets 1 when it plays
  ``0`` while the punisher plays anything but ``1``, else 0.

The expert recommends ``(k(s), k(s))`` in normal states and ``(1, 1)`` (punish) in ``P_i``:
a correlated equilibrium (regret 0, checked by a test). Its demonstrations never enter a
punishment region; only a deviation does (Theorem 4.5's mechanism on many states). A
mediator that is uniform where it has no data leaves regret on the normal states it never
saw (defecting pays) and in ``P_i`` (the punisher plays 1 only a third of the time); a
mediator that generalises the convention along ``x`` fixes the first, and only one that has
seen punishments (BLADES's queries under deviations) fixes the second.

Features observed by the learners: ``[x_s, onehot(region)]`` ``[S, d + 3]`` (region 0 normal,
1 + i for ``P_i``); punishment states draw their ``x`` like normal ones.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from regretgap._checks import check_count, check_fraction, check_rng
from regretgap._repr import short_repr
from regretgap.errors import ValidationError
from regretgap.game import MarkovGame

NUM_ACTIONS = (3, 3)
DEFECT = 2


class PunishmentGame(NamedTuple):
    """The game, its learners' features and the expert.

    Attributes:
        game: the :class:`~regretgap.MarkovGame` (``S = normal + 2 * punish``, ``A = 9``).
        features: ``[S, d + 3]``: ``x_s`` then the region's one-hot.
        expert: the expert's correlated equilibrium ``[H, S, A]`` (deterministic).
        region: ``[S]`` ints, 0 normal, ``1 + i`` the punishment region of agent ``i``.
        convention: ``k(s)`` ``[S]`` (the normal states' convention; defined everywhere).
    """

    def __repr__(self) -> str:
        return short_repr(self)

    game: MarkovGame
    features: np.ndarray
    expert: np.ndarray
    region: np.ndarray
    convention: np.ndarray


def punishment_game(
    *,
    rng: np.random.Generator,
    normal: int = 300,
    punish: int = 100,
    dim: int = 4,
    horizon: int = 5,
    branching: int = 4,
    coordinate: float = 0.5,
) -> PunishmentGame:
    """Build the seeded coordination game with punishments (see the module docstring).

    Args:
        rng: the only source of randomness (features, ``theta``, successor lists).
        normal: normal states.
        punish: states of each punishment region.
        dim: ``d``, the width of ``x_s``.
        horizon: ``H``.
        branching: successors of each state (uniform over a fixed random list).
        coordinate: the payoff of coordinating (and of defecting), in ``(0, 1)``.

    Returns:
        :class:`PunishmentGame`.
    """
    check_rng(rng)
    for name, v in (("normal", normal), ("punish", punish), ("dim", dim), ("horizon", horizon)):
        check_count(name, v)
    if not 1 <= branching <= min(normal, punish):
        raise ValidationError(f"branching must be in 1..{min(normal, punish)}, got {branching}")
    check_fraction("coordinate", coordinate)
    num_states = normal + 2 * punish
    num_joint = 9
    region = np.concatenate([np.zeros(normal, int), np.ones(punish, int), np.full(punish, 2)])
    x = rng.standard_normal((num_states, dim))
    theta = rng.standard_normal(dim)
    convention = (x @ theta > 0).astype(int)
    features = np.concatenate([x, np.eye(3)[region]], axis=1)

    a0, a1 = np.unravel_index(np.arange(num_joint), NUM_ACTIONS)
    rewards = np.zeros((2, num_states, num_joint))
    norm = region == 0
    k = convention[:, None]
    both = (a0 == a1)[None, :] & (a0[None, :] == k) & (a0 != DEFECT)[None, :]
    rewards[:, norm] = np.where(both[norm], coordinate, 0.0)[None]
    for i, (mine, theirs) in enumerate(((a0, a1), (a1, a0))):
        alone = (mine == DEFECT) & (theirs != DEFECT)
        rewards[i, norm] = np.where(alone[None, :], coordinate, rewards[i, norm])
        p = region == 1 + i
        rewards[i, p] = np.where((mine == 0) & (theirs != 1), 1.0, 0.0)[None, :]

    # successors: a fixed random list per state, inside the region the play leads to
    starts = {0: 0, 1: normal, 2: normal + punish}
    sizes = {0: normal, 1: punish, 2: punish}

    def successors(r: int) -> np.ndarray:
        return starts[r] + np.stack(
            [rng.choice(sizes[r], size=branching, replace=False) for _ in range(num_states)]
        )

    succ = {r: successors(r) for r in (0, 1, 2)}
    target = np.where(region[:, None] == 0, 0, region[:, None]) * np.ones(num_joint, int)
    for i, mine, theirs in ((0, a0, a1), (1, a1, a0)):
        alone = (mine == DEFECT) & (theirs != DEFECT)
        target[norm[:, None] & alone[None, :]] = 1 + i
    rows = np.repeat(np.arange(num_states * num_joint), branching)
    cols = np.empty((num_states, num_joint, branching), dtype=np.int64)
    for r in (0, 1, 2):
        mask = target == r
        cols[mask] = np.broadcast_to(succ[r][:, None, :], cols.shape)[mask]
    transitions = sp.csr_matrix(
        (np.full(rows.size, 1.0 / branching), (rows, cols.ravel())),
        shape=(num_states * num_joint, num_states),
    )
    initial = np.where(norm, 1.0 / normal, 0.0)
    game = MarkovGame(transitions, rewards, initial, horizon, NUM_ACTIONS)

    rec = np.where(region == 0, convention * 3 + convention, 1 * 3 + 1)
    expert = np.zeros((horizon, num_states, num_joint))
    expert[:, np.arange(num_states), rec] = 1.0
    return PunishmentGame(game, features, expert, region, convention)
