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
from regretgap.sampled.policies import MediatorClass, MediatorPolicy


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


#: The widest one-hot ``(h, s)`` feature map an exact learner builds for a sampled mediator
#: class on its own (``H * S`` columns); beyond it, pass features with ``MediatorClass``.
ONE_HOT_LIMIT = 4096


def check_policy_class(
    policy_class: Any, game: MarkovGame | None = None, rng: Any = None
) -> PolicyClass:
    """The exact learners' class: ``Tabular()`` by default, a
    :class:`~regretgap.policy_classes.PolicyClass` as it is, or a sampled
    :class:`~regretgap.sampled.MediatorPolicy` over one-hot features of ``(h, s)`` (a
    :class:`~regretgap.sampled.MediatorClass`; its fits draw from ``rng``): one class
    object serves both back ends."""
    cls = Tabular() if policy_class is None else policy_class
    if isinstance(cls, MediatorPolicy):  # checked first: it has a fit() too
        if game is None or not isinstance(rng, np.random.Generator):
            raise ValidationError(
                f"a {type(cls).__name__} class needs rng=numpy.random.Generator (its fits "
                "draw from it)"
            )
        cells = game.horizon * game.num_states
        if cells > ONE_HOT_LIMIT:
            raise ValidationError(
                f"a {type(cls).__name__} class on one-hot (h, s) features would be {cells} "
                f"wide (limit {ONE_HOT_LIMIT}): pass regretgap.sampled.MediatorClass("
                "mediator, features, rng=) with your features"
            )
        features = np.eye(cells).reshape(game.horizon, game.num_states, cells)
        return MediatorClass(cls, features, rng=rng)
    if not isinstance(cls, PolicyClass):
        raise ValidationError(
            f"policy_class must implement fit(counts) -> sigma, got {type(cls).__name__}"
        )
    return cls
