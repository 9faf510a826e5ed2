"""A zero-sum game with two pure Nash paths; mixing the expert between them sets the
single-policy deviation concentrability coefficient (Freihaut et al., NeurIPS 2025).

Two agents, two actions each, layered states: ``s_0`` at step 0, then a left path
``L_1 .. L_{H-1}`` and a right path ``R_1 .. R_{H-1}``. At ``s_0`` agent 0 picks the path
(action 0 left, 1 right; agent 1's action does nothing) and the path continues on itself.
On every path state agent 0 is paid 1 (and agent 1 ``-1``) when agent 1 plays 1 ("leaves
the way open"), else 0; agent 1 blocks by playing 0. Both paths are worth 0 under
blocking, so agent 0 is indifferent at ``s_0``: going left and going right are two pure
Nash paths, and so is any mix ``p`` of them.

The expert: agent 0 goes right with probability ``p`` (and plays 0 on the paths), agent 1
plays 0 everywhere. Only agent 0 moves the state, and its deviation reaches every state
of a path with probability 1 where the expert's probability is ``p`` (right) or ``1 - p``
(left), so

    C(p) = max(1 / p, 1 / (1 - p))     (infinite at p = 0 and p = 1; 2 at p = 1/2).

Here ``C`` equals ``1 / per_step_beta`` of :func:`regretgap.coverage`. Per-agent BC with
unlimited demonstrations at ``p = 0`` never sees agent 1 on the right path and leaves it
uniform there; agent 0 then gains ``1/2`` per step by going right: Nash gap
``(H - 1) / 2``, however many demonstrations. For ``0 < p < 1`` it falls to 0 as data grow.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from regretgap._repr import short_repr
from regretgap.errors import ValidationError
from regretgap.game import MarkovGame
from regretgap.policies import product_policy

NUM_ACTIONS = (2, 2)
LEFT, RIGHT = 0, 1
BLOCK, OPEN = 0, 1


class TwoPathGame(NamedTuple):
    """The two-path game at mix ``p`` with its expert and closed forms.

    Attributes:
        game: the :class:`~regretgap.MarkovGame` (``S = 2H - 1``, ``A = 4``, layered).
        expert: agent 0's and agent 1's Nash policies ``([H, S, 2], [H, S, 2])``.
        sigma_expert: their product ``[H, S, 4]``.
        concentrability: ``max(1/p, 1/(1-p))`` (``inf`` at ``p`` in ``{0, 1}``).
        bc_gap_uncovered: the Nash gap of the expert with agent 1 uniform on the path the
            expert never takes: ``(H - 1) / 2`` at ``p`` in ``{0, 1}``, else 0 (what
            per-agent BC converges to).
        left: the left path's states ``L_1 .. L_{H-1}``; right: ``R_1 .. R_{H-1}``.
        features: ``[S, 3]``: one-hot of ``s_0``, left path, right path.
    """

    def __repr__(self) -> str:
        return short_repr(self)

    game: MarkovGame
    expert: tuple[np.ndarray, np.ndarray]
    sigma_expert: np.ndarray
    concentrability: float
    bc_gap_uncovered: float
    left: tuple[int, ...]
    right: tuple[int, ...]
    features: np.ndarray


def two_path_game(p: float, *, horizon: int = 2) -> TwoPathGame:
    """The two-path game with the expert going right with probability ``p``.

    Args:
        p: in ``[0, 1]``.
        horizon: ``H >= 2``.

    Raises:
        ValidationError: ``p`` outside ``[0, 1]`` or ``H < 2``.
    """
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 <= p <= 1:
        raise ValidationError(f"p must be a number in [0, 1], got {p!r}")
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 2:
        raise ValidationError(f"horizon must be an integer >= 2, got {horizon!r}")
    horizon, p = int(horizon), float(p)
    left = tuple(range(1, horizon))
    right = tuple(range(horizon, 2 * horizon - 1))
    num_states = 2 * horizon - 1
    t = np.zeros((num_states, 4, num_states))
    r = np.zeros((2, num_states, 4))
    for a0 in range(2):
        for a1 in range(2):
            t[0, 2 * a0 + a1, (left if a0 == LEFT else right)[0]] = 1.0
    for path in (left, right):
        for k, s in enumerate(path):
            t[s, :, path[min(k + 1, len(path) - 1)]] = 1.0  # the last state absorbs
            for a0 in range(2):
                r[0, s, 2 * a0 + OPEN] = 1.0
                r[1, s, 2 * a0 + OPEN] = -1.0
    game = MarkovGame(t, r, np.eye(num_states)[0], horizon=horizon, num_actions=NUM_ACTIONS)
    pi0 = np.zeros((horizon, num_states, 2))
    pi0[..., LEFT] = 1.0
    pi0[:, 0] = (1.0 - p, p)
    pi1 = np.zeros((horizon, num_states, 2))
    pi1[..., BLOCK] = 1.0
    rare = min(p, 1.0 - p)
    features = np.zeros((num_states, 3))
    features[0, 0] = 1.0
    features[list(left), 1] = 1.0
    features[list(right), 2] = 1.0
    return TwoPathGame(
        game=game,
        expert=(pi0, pi1),
        sigma_expert=product_policy(game, (pi0, pi1)),
        concentrability=np.inf if rare == 0 else 1.0 / rare,
        bc_gap_uncovered=(horizon - 1) / 2 if rare == 0 else 0.0,
        left=left,
        right=right,
        features=features,
    )
