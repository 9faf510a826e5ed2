"""Strategy deviations ``phi_i`` (paper section 3, Definition 3.1).

A deviation of agent ``i`` is a table ``phi[h, s, a_i] -> b`` (``[H, S, n_i]`` ints): when the
mediator privately recommends ``a_i`` at step ``h`` in state ``s``, the agent plays ``b``;
everyone else plays the recommendation of the same joint draw. The played joint policy is
``pi_{sigma,phi}(b, a_-i | s) = sum_{a_i : phi(h,s,a_i) = b} sigma_h(a_i, a_-i | s)``.

Deviation classes (``kind``):

- ``"ce"``: the complete per-step class, every map ``(h, s, a_i) -> b``; exact dynamic
  programme. On layered games it equals the paper's stationary complete class.
- ``"cce"``: recommendation-ignoring deviations, a Markov policy ``b(h, s)`` played whatever
  the recommendation, together with the identity (so regret is never negative).
- ``"swap"``: the ``n_i ** n_i`` state-independent maps ``A_i -> A_i`` applied at every step
  and state (enumerated; includes the identity).
- a finite user list of tables, see :func:`as_deviation`; the identity is always added.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from regretgap.errors import ValidationError
from regretgap.game import MarkovGame
from regretgap.policies import _check_agent, as_policy

#: Names of the deviation classes with exact best responses.
DEVIATION_KINDS = ("ce", "cce", "swap")

#: Largest number of maps the ``"swap"`` class enumerates before refusing.
MAX_SWAP_MAPS = 50_000


def as_deviation(game: MarkovGame, agent: int, phi: Any) -> np.ndarray:
    """Validate a deviation table of ``agent`` and return it as ``[H, S, n_i]`` int64.

    ``phi`` may be ``[H, S, n_i]``, stationary ``[S, n_i]`` or state-independent ``[n_i]``;
    the smaller forms are broadcast (read-only views).

    Raises:
        ValidationError: wrong shape, non-integer entries, or an entry outside ``0..n_i-1``.
    """
    agent = _check_agent(game, agent)
    n = game.num_actions[agent]
    h_count, s_count = game.horizon, game.num_states
    arr = np.asarray(phi)
    if arr.shape not in ((h_count, s_count, n), (s_count, n), (n,)):
        raise ValidationError(
            f"deviation of agent {agent} must have shape [H, S, n_i] = {(h_count, s_count, n)}, "
            f"[S, n_i] or [n_i], got {arr.shape}"
        )
    if arr.dtype == bool or not (
        np.issubdtype(arr.dtype, np.integer)
        or (np.issubdtype(arr.dtype, np.floating) and np.all(np.mod(arr, 1) == 0))
    ):
        raise ValidationError(
            f"deviation of agent {agent} must hold integer actions, got dtype {arr.dtype}"
        )
    bad = (arr < 0) | (arr >= n)
    if bad.any():
        idx = tuple(int(x) for x in np.argwhere(bad)[0])
        raise ValidationError(
            f"deviation of agent {agent} maps to action {arr[idx]} at index {idx}: "
            f"actions must lie in 0..{n - 1}"
        )
    arr = arr.astype(np.int64)
    return np.broadcast_to(arr, (h_count, s_count, n))


def identity_deviation(game: MarkovGame, agent: int) -> np.ndarray:
    """The obedient deviation ``phi(h, s, a_i) = a_i``, ``[H, S, n_i]`` (read-only view)."""
    agent = _check_agent(game, agent)
    return as_deviation(game, agent, np.arange(game.num_actions[agent]))


def constant_deviation(game: MarkovGame, agent: int, b: Any) -> np.ndarray:
    """Play ``b`` whatever the recommendation; ``b`` is an int, ``[S]`` or ``[H, S]``."""
    agent = _check_agent(game, agent)
    b = np.asarray(b)
    full = np.broadcast_to(b, (game.horizon, game.num_states)) if b.ndim < 3 else b
    return as_deviation(game, agent, np.repeat(full[..., None], game.num_actions[agent], axis=-1))


def swap_deviations(game: MarkovGame, agent: int) -> list[np.ndarray]:
    """All state-independent maps ``A_i -> A_i`` of ``agent`` (``n_i ** n_i`` of them).

    Each map is an ``[n_i]`` int array (accepted wherever a deviation table is).

    Raises:
        ValidationError: if there are more than ``MAX_SWAP_MAPS`` maps.
    """
    agent = _check_agent(game, agent)
    n = game.num_actions[agent]
    if n**n > MAX_SWAP_MAPS:
        raise ValidationError(
            f"agent {agent} has {n} actions: {n}**{n} swap maps exceed the limit of "
            f"{MAX_SWAP_MAPS}; pass a finite list of deviations instead"
        )
    return [np.array(m, dtype=np.int64) for m in itertools.product(range(n), repeat=n)]


def agent_axes(game: MarkovGame, agent: int) -> np.ndarray:
    """``[n_i, A / n_i]`` table: entry ``(a_i, r)`` is the joint action of ``(a_i, a_-i=r)``.

    ``r`` enumerates the other agents' actions in the joint ordering with agent ``i``
    removed. Used to reshape ``[.., A]`` arrays into ``[.., n_i, A_-i]``.
    """
    agent = _check_agent(game, agent)
    grid = np.arange(game.num_joint_actions).reshape(game.num_actions)
    return np.moveaxis(grid, agent, 0).reshape(game.num_actions[agent], -1)


def apply_deviation(game: MarkovGame, sigma: Any, agent: int, deviation: Any) -> np.ndarray:
    """The joint policy ``pi_{sigma, phi_i}`` played when ``agent`` deviates by ``phi``.

    ``pi(b, a_-i | h, s) = sum_{a_i : phi(h, s, a_i) = b} sigma_h(a_i, a_-i | s)``.

    Args:
        sigma: mediator policy ``[H, S, A]`` or ``[S, A]``.
        deviation: table ``[H, S, n_i]`` (or ``[S, n_i]``, ``[n_i]``).

    Returns:
        The played joint policy ``[H, S, A]`` (a new array).
    """
    pol = as_policy(game, sigma)
    phi = as_deviation(game, agent, deviation)
    n = game.num_actions[agent]
    idx = agent_axes(game, agent)  # [n, R]
    rec = pol[:, :, idx]  # [H, S, n, R]: sigma(a_i, r)
    onehot = phi[..., None] == np.arange(n)  # [H, S, a_i, b]
    played_nr = np.einsum("hsab,hsar->hsbr", onehot.astype(np.float64), rec)
    out = np.empty((game.horizon, game.num_states, game.num_joint_actions))
    out[:, :, idx] = played_nr
    return out
