"""Seeded random Markov games with sparse branching (for tests and benchmarks)."""

from __future__ import annotations

from math import prod

import numpy as np
import scipy.sparse as sp

from regretgap._checks import check_rng
from regretgap.errors import ValidationError
from regretgap.game import MarkovGame


def _successors(
    num_rows: int, lo: np.ndarray, width: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """``k`` distinct successors per row inside ``[lo, lo + width)`` (``k <= width``)."""
    if k == 1:
        return (lo + rng.integers(0, width))[:, None]
    # distinct by construction: a random start plus positive gaps summing to < width
    max_gap = np.maximum(width // k, 1)
    gaps = 1 + (rng.random((num_rows, k - 1)) * max_gap[:, None]).astype(np.int64)
    gaps = np.minimum(gaps, max_gap[:, None])
    offsets = np.concatenate([np.zeros((num_rows, 1), np.int64), np.cumsum(gaps, axis=1)], 1)
    start = rng.integers(0, width)
    return lo[:, None] + (start[:, None] + offsets) % width[:, None]


def random_game(
    num_states: int,
    num_actions: tuple[int, ...],
    horizon: int,
    *,
    rng: np.random.Generator,
    branching: int = 5,
    layered: bool = False,
    reward_scale: float = 1.0,
) -> MarkovGame:
    """A random Markov game with ``branching`` distinct successors per ``(s, a)``.

    Transitions ``T(. | s, a)`` put Dirichlet(1) weights on ``min(branching, width)``
    distinct successor states; rewards ``r[i, s, a]`` are uniform on
    ``[-reward_scale, reward_scale]``; ``rho0`` is Dirichlet(1) (on layer 0 if ``layered``).

    Args:
        num_states: ``S``.
        num_actions: ``(n_0, ..., n_{m-1})``.
        horizon: ``H``.
        rng: the only source of randomness.
        branching: successors per state-joint-action pair.
        layered: split the states into ``H`` consecutive layers; step ``h`` lives in layer
            ``h`` and moves to layer ``h + 1`` (every state is reachable at one step only).

    Returns:
        A validated :class:`MarkovGame` with sparse transitions.
    """
    check_rng(rng)
    if branching < 1:
        raise ValidationError(f"branching must be >= 1, got {branching}")
    if layered and num_states < horizon:
        raise ValidationError(
            f"a layered game needs at least one state per step: S={num_states} < H={horizon}"
        )
    num_joint = prod(int(n) for n in num_actions)
    rows = num_states * num_joint
    state_of_row = np.repeat(np.arange(num_states), num_joint)
    if layered:
        bounds = np.linspace(0, num_states, horizon + 1).astype(np.int64)
        layer = np.searchsorted(bounds, np.arange(num_states), side="right") - 1
        nxt = np.minimum(layer + 1, horizon - 1)  # the last layer loops on itself
        lo = bounds[nxt][state_of_row]
        width = (bounds[nxt + 1] - bounds[nxt])[state_of_row]
    else:
        lo = np.zeros(rows, dtype=np.int64)
        width = np.full(rows, num_states, dtype=np.int64)
    k = int(min(branching, width.min()))
    cols = _successors(rows, lo, width, k, rng)
    weights = rng.exponential(size=(rows, k))
    weights /= weights.sum(axis=1, keepdims=True)
    transitions = sp.csr_matrix(
        (weights.ravel(), cols.ravel(), np.arange(0, rows * k + 1, k)),
        shape=(rows, num_states),
    )
    rewards = rng.uniform(
        -reward_scale, reward_scale, size=(len(num_actions), num_states, num_joint)
    )
    if layered:
        initial = np.zeros(num_states)
        initial[: bounds[1]] = rng.dirichlet(np.ones(bounds[1]))
    else:
        initial = rng.dirichlet(np.ones(num_states))
    return MarkovGame(transitions, rewards, initial, horizon, tuple(num_actions))
