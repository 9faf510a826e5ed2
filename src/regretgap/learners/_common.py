"""Pieces shared by the learners: soft-count normalisation and input checks.

Learners see the game's transitions (a simulator) and demonstrations or expert answers;
they never read ``game.rewards``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from regretgap.data import Demonstrations, as_demonstrations
from regretgap.errors import ValidationError
from regretgap.game import MarkovGame
from regretgap.policy_classes import PolicyClass, Tabular


def normalise(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(distribution [H, S, A], covered [H, S])`` of soft counts."""
    total = counts.sum(axis=-1)
    covered = total > 0
    dist = np.divide(counts, total[..., None], out=np.zeros_like(counts), where=covered[..., None])
    return dist, covered


def check_demos(game: MarkovGame, demos: Any) -> Demonstrations:
    d = as_demonstrations(demos)
    if len(d) == 0:
        raise ValidationError("demonstrations are empty")
    d.counts(game)  # validates horizon and index ranges
    return d


def check_policy_class(policy_class: Any) -> PolicyClass:
    cls = Tabular() if policy_class is None else policy_class
    if not isinstance(cls, PolicyClass):
        raise ValidationError(
            f"policy_class must implement fit(counts) -> sigma, got {type(cls).__name__}"
        )
    return cls
