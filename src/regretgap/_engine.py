"""Kernel-calling plumbing of the exact evaluator (private; docs/MATH.md, "Exact evaluation").

:func:`backward` runs the fused backward recursion ``W_h = reduce_c(f_c + T W_{h+1})`` for a
list of value columns (follow the mediator, play a fixed deviation, best-respond over the
complete or recommendation-ignoring class) with :func:`regretgap._kernels.backward_step`:
one pass over the stacked CSR transitions per step for every column. This module owns
the kernel's calling convention (column modes, deviation slots, padding to column groups,
stride checks); :mod:`regretgap.evaluation` composes the paper's quantities from it.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple, overload

import numpy as np

from regretgap import _kernels
from regretgap.deviations import agent_axes
from regretgap.errors import ValidationError
from regretgap.game import MarkovGame
from regretgap.memory import check_fits, evaluator_bytes

FOLLOW, FIXED, BEST_CE, BEST_CCE = (
    _kernels.FOLLOW,
    _kernels.FIXED,
    _kernels.BEST_CE,
    _kernels.BEST_CCE,
)


class Column(NamedTuple):
    """One value column of the backward pass.

    Attributes:
        mode: ``FOLLOW``, ``FIXED``, ``BEST_CE`` or ``BEST_CCE`` (see :mod:`._kernels`).
        reward_row: row of the reward array ``[nr, S, A]`` this column collects (``< 0``:
            none).
        agent: the deviating agent ``i`` (``FIXED`` and ``BEST_*`` modes).
        table: for ``FIXED``, the deviation ``phi[h, s, a_i]``, ``[H, S, n_i]``.
    """

    mode: int
    reward_row: int
    agent: int = 0
    table: np.ndarray | None = None


def rewards_array(game: MarkovGame, reward: Any) -> np.ndarray:
    """Validate a per-agent reward ``[m, S, A]`` or ``[H, m, S, A]`` (default: the game's)."""
    if reward is None:
        return game.rewards
    arr = np.asarray(reward, dtype=np.float64)
    m, s, a, horizon = game.num_agents, game.num_states, game.num_joint_actions, game.horizon
    if arr.shape not in ((m, s, a), (horizon, m, s, a)):
        raise ValidationError(
            f"reward must have shape [m, S, A] = {(m, s, a)} or [H, m, S, A] = "
            f"{(horizon, m, s, a)}, got {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        idx = tuple(int(x) for x in np.argwhere(~np.isfinite(arr))[0])
        raise ValidationError(f"reward{list(idx)} is not finite")
    return arr


def index_tables(game: MarkovGame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Joint-action index tables of the kernel.

    Returns ``(perm [m, A], own [m, A], rest [m, A], num_actions [m])``:
    ``perm[i, a_i * (A / n_i) + r]`` is the joint action ``(a_i, a_-i = r)`` (``uint32``:
    the kernel indexes with it without wraparound checks); ``own[i, a]`` and ``rest[i, a]``
    invert it.
    """
    m, a_count = game.num_agents, game.num_joint_actions
    perm = np.empty((m, a_count), dtype=np.uint32)
    own = np.empty((m, a_count), dtype=np.int64)
    rest = np.empty((m, a_count), dtype=np.int64)
    for i in range(m):
        idx = agent_axes(game, i)
        perm[i] = idx.ravel()
        ai, r = np.unravel_index(np.arange(idx.size), idx.shape)
        own[i, idx.ravel()] = ai
        rest[i, idx.ravel()] = r
    return perm, own, rest, np.asarray(game.num_actions, dtype=np.int64)


def unsigned(index: np.ndarray) -> np.ndarray:
    """The same index array viewed as unsigned (non-negative CSR indices, no copy)."""
    return index.view(np.dtype(index.dtype.str.replace("i", "u")))


@overload
def backward(
    game: MarkovGame,
    sigma: np.ndarray,
    rewards: np.ndarray,
    columns: list[Column],
    *,
    keep: Literal[True],
) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]: ...


@overload
def backward(
    game: MarkovGame,
    sigma: np.ndarray,
    rewards: np.ndarray,
    columns: list[Column],
    *,
    keep: bool = False,
) -> tuple[np.ndarray, list[np.ndarray], np.ndarray | None]: ...


def backward(
    game: MarkovGame,
    sigma: np.ndarray,
    rewards: np.ndarray,
    columns: list[Column],
    *,
    keep: bool = False,
) -> tuple[np.ndarray, list[np.ndarray], np.ndarray | None]:
    """Run the fused backward recursion for ``columns``.

    Args:
        sigma: validated mediator policy ``[H, S, A]``.
        rewards: ``[nr, S, A]`` or ``[H, nr, S, A]``; column ``c`` collects row
            ``columns[c].reward_row``.
        keep: also return every step's column values.

    Returns:
        ``(root, tables, w)``: ``root[c] = rho0 . W_{c,0}``, ``[C]``; one deviation table
        ``[H, S, n_i]`` per best-response column (in column order); ``w [H+1, S, C]`` if
        ``keep`` (else ``None``).

    Raises:
        ValidationError: if the working set (:func:`regretgap.memory.evaluator_bytes`) does
            not fit in the available memory.
    """
    t = game.transitions
    horizon, s_count = game.horizon, game.num_states
    nmax = max(game.num_actions)
    num_used = len(columns)
    best = [c for c in columns if c.mode in (BEST_CE, BEST_CCE)]
    check_fits(
        evaluator_bytes(
            s_count, game.num_joint_actions, horizon, nmax, num_used, len(best), keep=keep
        ),
        "the exact evaluator's working set",
    )
    perm, own, rest, num_actions = index_tables(game)
    indptr, indices = unsigned(t.indptr), unsigned(t.indices)
    # the kernel works on groups of GROUP columns: pad with reward-free value columns
    columns = columns + [Column(FOLLOW, -1)] * (-num_used % _kernels.GROUP)
    num_cols = len(columns)
    modes = np.array([c.mode for c in columns], dtype=np.int64)
    rows = np.array([c.reward_row for c in columns], dtype=np.int64)
    agents = np.array([c.agent for c in columns], dtype=np.int64)
    slots = np.full(num_cols, -1, dtype=np.int64)
    fixed = [c for c in columns if c.mode == FIXED]
    fi = bi = 0
    for k, c in enumerate(columns):
        if c.mode == FIXED:
            slots[k], fi = fi, fi + 1
        elif c.mode in (BEST_CE, BEST_CCE):
            slots[k], bi = bi, bi + 1
    # deviations that do not depend on (h, s) are passed once as [K, 1, nmax]
    independent = all(c.table.strides[0] == 0 and c.table.strides[1] == 0 for c in fixed)
    phi_fixed = np.zeros((len(fixed), 1 if independent else s_count, nmax), dtype=np.int64)
    phi_all = np.zeros((horizon, len(best), s_count, nmax), dtype=np.int32)
    time_rewards = rewards.ndim == 4
    groups = num_cols // _kernels.GROUP
    x_next = np.zeros((groups, s_count, _kernels.GROUP))
    w = np.zeros((horizon + 1, s_count, num_cols)) if keep else None
    x_out = np.empty_like(x_next)
    for h in range(horizon - 1, -1, -1):
        for k, c in enumerate(fixed):
            n = game.num_actions[c.agent]
            phi_fixed[k, :, :n] = c.table[h, :1] if independent else c.table[h]
        _kernels.backward_step(
            indptr,
            indices,
            t.data,
            np.ascontiguousarray(sigma[h]),
            rewards[h] if time_rewards else rewards,
            x_next,
            x_out,
            modes,
            rows,
            agents,
            slots,
            phi_fixed,
            phi_all[h],
            perm,
            own,
            rest,
            num_actions,
        )
        if keep:
            w[h] = x_out.transpose(1, 0, 2).reshape(s_count, num_cols)
        # the kernel writes group-major values, the next step's gather input
        x_next, x_out = x_out, x_next
    root = game.initial @ x_next.transpose(1, 0, 2).reshape(s_count, num_cols)[:, :num_used]
    if keep:
        w = w[:, :, :num_used]
    tables = [phi_all[:, j, :, : game.num_actions[c.agent]] for j, c in enumerate(best)]
    return root, tables, w


def q_from_w(game: MarkovGame, rew: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``q[h, c, s, a] = rew_c(s, a) + T w[h+1, :, c]`` for reward rows aligned with columns.

    ``w`` is ``[H+1, S, C]`` (from :func:`backward` with ``keep=True``); returns
    ``[H, C, S, A]``.
    """
    s, a = game.num_states, game.num_joint_actions
    check_fits(8 * game.horizon * w.shape[2] * s * a, "Q_{i,h}(s, a) [H, C, S, A]")
    q = np.empty((game.horizon, w.shape[2], s, a))
    for h in range(game.horizon):
        cont = (game.transitions @ w[h + 1]).reshape(s, a, -1)
        r_h = rew[h] if rew.ndim == 4 else rew
        q[h] = np.moveaxis(cont, 2, 0) + r_h
    return q
