"""The cliff: a chain on which J-BC's value gap compounds like ``H^2`` (Theorem 4.9, E.5)
while J-IRL's stays ``O(eps H)`` (Theorem 4.10, E.6).

Two agents with two actions each walk a layered path ``p_0, ..., p_{H-1}``; the coordinated
joint action ``(a_1, a_1)`` moves ``p_h -> p_{h+1}``, any other one falls into the sink
``k_{h+1}``, which continues to ``k_{h+2}`` with no way back. Both agents earn 1 at every
path state (whatever the action), 0 in the sink. The expert always coordinates.
:func:`label_noise` gives the finite, noisy demonstrations of the compounding experiment.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from regretgap._checks import check_rng
from regretgap.data import Demonstrations, as_demonstrations
from regretgap.errors import ValidationError
from regretgap.game import MarkovGame
from regretgap.games.paper import Construction

#: The coordinated joint action ``(a_1, a_1)``, flat index 0.
COORDINATED = 0


def path_state(h: int) -> int:
    """Index of the path state ``p_h`` (``h = 0..H-1``)."""
    return h


def sink_state(h: int, horizon: int) -> int:
    """Index of the sink state ``k_h`` (``h = 1..H-1``)."""
    return horizon + h - 1


def jbc_value_gap(eps: Any, horizon: int) -> float:
    """Exact value gap of a policy that leaves the path w.p. ``eps_h`` at ``p_h``.

    ``gap = sum_{h<H} (1 - prod_{k<h} (1 - eps_k))``; for a constant ``eps`` this is
    ``H - (1 - (1 - eps)^H) / eps ~ eps H (H - 1) / 2`` while ``eps H << 1``, the ``H^2``
    compounding of Theorem 4.9 (and at most ``eps H^2 / 2``, within the bound ``eps H^2``
    of Ross & Bagnell's proof for rewards in ``[0, 1]``). With the expert deterministic,
    ``eps_h = TV(sigma_E(p_h), sigma(p_h))``, the per-step behaviour-cloning error.

    Args:
        eps: a scalar or a per-step array ``[H]`` in ``[0, 1]``.
        horizon: ``H >= 1``.
    """
    e = np.broadcast_to(np.asarray(eps, dtype=np.float64), (horizon,))
    if np.any((e < 0) | (e > 1)):
        raise ValidationError(f"eps must lie in [0, 1], got {eps}")
    on_path = np.concatenate(([1.0], np.cumprod(1.0 - e)[:-1]))  # d_h(p_h), [H]
    return float((1.0 - on_path).sum())


def cliff(horizon: int, *, eta: float = 0.05) -> Construction:
    """The cliff game with the expert and J-BC's population limit under label noise ``eta``.

    States ``[S] = 2H - 1``: ``p_h`` at ``h`` (:func:`path_state`), ``k_h`` at ``h`` for
    ``h >= 1`` (:func:`sink_state`). Rewards ``r[i, p_h, :] = 1``, 0 elsewhere.

    ``expert`` ``[S, A]``: ``(a_1, a_1)`` everywhere. ``learner``: the recommendation with
    label noise ``eta`` (replaced by a uniform joint action w.p. ``eta``), which J-BC learns
    from infinitely many noisy demonstrations; it leaves the path w.p. ``eps = 3 eta / 4``
    per step.

    ``expected``: ``value_expert = H``, ``eps = 3 eta / 4`` (the learner's per-step BC
    error), ``value_gap = jbc_value_gap(eps, H)``, ``value_gap_small_eps = eps H (H-1) / 2``.
    """
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ValidationError(f"cliff needs an integer horizon >= 1, got {horizon!r}")
    if not 0 <= eta <= 1:
        raise ValidationError(f"eta must lie in [0, 1], got {eta}")
    horizon = int(horizon)
    num_states, num_joint = 2 * horizon - 1, 4
    t = np.zeros((num_states, num_joint, num_states))
    for h in range(horizon - 1):
        t[path_state(h), :, sink_state(h + 1, horizon)] = 1.0
        t[path_state(h), COORDINATED] = 0.0
        t[path_state(h), COORDINATED, path_state(h + 1)] = 1.0
        if h >= 1:
            t[sink_state(h, horizon), :, sink_state(h + 1, horizon)] = 1.0
    last = [path_state(horizon - 1)] + ([sink_state(horizon - 1, horizon)] if horizon > 1 else [])
    for s in last:
        t[s, :, s] = 1.0  # last layer: absorbing (never used within the horizon)
    rewards = np.zeros((2, num_states, num_joint))
    rewards[:, [path_state(h) for h in range(horizon)], :] = 1.0
    initial = np.zeros(num_states)
    initial[path_state(0)] = 1.0
    game = MarkovGame(t, rewards, initial, horizon, (2, 2))
    expert = np.zeros((num_states, num_joint))
    expert[:, COORDINATED] = 1.0
    learner = (1 - eta) * expert + eta / num_joint
    eps = 0.75 * eta
    return Construction(
        game=game,
        expert=expert,
        learner=learner,
        expected={
            "value_expert": float(horizon),
            "eps": eps,
            "value_gap": jbc_value_gap(eps, horizon),
            "value_gap_small_eps": eps * horizon * (horizon - 1) / 2,
        },
        policies={},
        source="Theorems 4.9 and 4.10, proofs E.5 and E.6 (cliff construction, this library)",
    )


def label_noise(
    demos: Any, eta: float, num_joint_actions: int, *, rng: np.random.Generator
) -> Demonstrations:
    """Demonstrations whose recorded joint recommendations are each replaced, w.p. ``eta``,
    by a uniformly random joint action; the states stay those the expert visited.

    Args:
        demos: obedient expert play (:class:`~regretgap.Trajectories` or
            :class:`~regretgap.data.Demonstrations`), ``states, actions [n, H]``.
        eta: noise rate in ``[0, 1]``.
        num_joint_actions: ``A``.
        rng: the noise draws.
    """
    if not 0 <= eta <= 1:
        raise ValidationError(f"eta must lie in [0, 1], got {eta}")
    check_rng(rng)
    d = as_demonstrations(demos)
    flip = rng.random(d.actions.shape) < eta
    random_actions = rng.integers(0, num_joint_actions, size=d.actions.shape)
    return Demonstrations(d.states.copy(), np.where(flip, random_actions, d.actions))
