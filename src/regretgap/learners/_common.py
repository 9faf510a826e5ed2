"""Pieces shared by the learners: losses, the disagreement reward, data checks.

Learners see the game's transitions (a simulator) and demonstrations or expert answers;
they never read ``game.rewards``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from regretgap.data import Demonstrations, as_demonstrations
from regretgap.errors import ValidationError
from regretgap.evaluation import regret
from regretgap.game import MarkovGame
from regretgap.policy_classes import PolicyClass, Tabular


def tv(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Total variation ``(1/2) sum_a |p(a) - q(a)|`` along the last axis."""
    return 0.5 * np.abs(p - q).sum(axis=-1)


def normalise(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(distribution [H, S, A], covered [H, S])`` of soft counts."""
    total = counts.sum(axis=-1)
    covered = total > 0
    dist = np.divide(counts, total[..., None], out=np.zeros_like(counts), where=covered[..., None])
    return dist, covered


def disagreement_reward(game: MarkovGame, ell: np.ndarray) -> np.ndarray:
    """The state-only reward ``f_i(h, s, a) = ell_h(s)`` for every agent, ``[H, m, S, A]``.

    The best response to it is the deviation that maximises the learner's imitation loss
    (MATH.md, "Learning objectives").
    """
    return np.broadcast_to(
        ell[:, None, :, None],
        (game.horizon, game.num_agents, game.num_states, game.num_joint_actions),
    )


def loss_best_responses(
    game: MarkovGame, sigma: np.ndarray, ell: np.ndarray, kind: Any
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Every agent's loss-maximising deviation in one backward pass.

    Returns ``(values [m], deviations)`` with ``values[i] = max_phi sum_h E_{d_h^{pi_{sigma,
    phi}}} ell_h`` (the disagreement summed over steps) and the maximising tables.
    """
    rep = regret(game, sigma, kind=kind, reward=disagreement_reward(game, ell))
    return rep.values + rep.per_agent, rep.deviations


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


def check_rounds(rounds: Any) -> int:
    if isinstance(rounds, bool) or not isinstance(rounds, (int, np.integer)) or rounds < 1:
        raise ValidationError(f"rounds must be a positive integer, got {rounds!r}")
    return int(rounds)


def check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValidationError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng
