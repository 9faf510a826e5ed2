"""Evaluation-only utilities: the agents' rewards ``r_i(s, a)`` of a simulator's states.

A :class:`Utilities` object (``reward(states, joint_actions) -> [n, m]``) is what evaluation
reads to score a mediator (``J_i``, regret, the gaps; paper eqs. 2, 4, 5); learners never
receive one. The separation is structural: :mod:`regretgap.simulator` (what learners may
import) does not import this module, and :mod:`regretgap.sampled` loads it only on demand.
Every :class:`~regretgap.MarkovGame` gives one through :func:`game_utilities`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from regretgap._repr import short_repr
from regretgap.errors import ValidationError
from regretgap.game import MarkovGame
from regretgap.simulator import check_joint_actions

__all__ = ["TableUtilities", "Utilities", "game_utilities"]


@runtime_checkable
class Utilities(Protocol):
    """Evaluation-only per-agent rewards of a simulator's states (never given to learners).

    Methods:
        reward(states, joint_actions): ``r_i(s, a)`` for a states batch ``[n]`` and flat
            joint actions ``[n]``, returned as ``[n, m]`` float64.
    """

    @property
    def num_agents(self) -> int: ...

    def reward(self, states: Any, joint_actions: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True, eq=False)
class TableUtilities:
    """The rewards ``r[i, s, a]`` of a game, read by evaluation only (a :class:`Utilities`).

    Attributes:
        rewards: ``[m, S, A]``, read-only.
    """

    rewards: np.ndarray

    def __repr__(self) -> str:
        return short_repr(self)

    @property
    def num_agents(self) -> int:
        """``m``."""
        return int(self.rewards.shape[0])

    def reward(self, states: np.ndarray, joint_actions: np.ndarray) -> np.ndarray:
        """``r_i(s_k, a_k)`` for states ``[n]`` and flat joint actions ``[n]``, ``[n, m]``."""
        s = np.asarray(states)
        num_states, num_joint = self.rewards.shape[1:]
        if s.ndim != 1 or s.dtype == bool or not np.issubdtype(s.dtype, np.integer):
            raise ValidationError(f"states must be an [n] integer batch, got {s.shape} {s.dtype}")
        if np.any((s < 0) | (s >= num_states)):
            raise ValidationError(
                f"states outside 0..{num_states - 1}: {s[(s < 0) | (s >= num_states)]}"
            )
        a = check_joint_actions(joint_actions, s.shape[0], num_joint)
        return self.rewards[:, s, a].T.copy()


def game_utilities(game: MarkovGame) -> TableUtilities:
    """The evaluation-only :class:`TableUtilities` of ``game`` (keep it away from learners)."""
    if not isinstance(game, MarkovGame):
        raise ValidationError(f"game must be a MarkovGame, got {type(game).__name__}")
    return TableUtilities(rewards=game.rewards)
