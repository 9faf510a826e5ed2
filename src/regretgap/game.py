"""Finite-horizon Markov games (paper section 3): ``MG(H, S, A, T, {r_i}, rho_0)``.

A :class:`MarkovGame` holds stationary transitions ``T(s' | s, a)`` stored as a stacked CSR
matrix ``[S*A, S]`` (row ``s*A + a``), per-agent rewards ``r[i, s, a]``, the initial
distribution ``rho0[s]`` and the horizon ``H``. Joint actions are flat indices
``a = ravel_multi_index((a_0, ..., a_{m-1}), num_actions)`` (agent 0 slowest, docs/MATH.md).
Time-dependent games are expressed with *layered* states (each state reachable at a single
step), which is how every construction of the paper is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from math import prod
from typing import Any

import numpy as np
import scipy.sparse as sp

from regretgap.errors import ValidationError
from regretgap.memory import build_bytes, check_fits
from regretgap.simulator import TableSimulator, table_simulator

#: Absolute tolerance for "sums to one" checks of distributions.
PROB_ATOL = 1e-8


def _readonly(x: np.ndarray) -> np.ndarray:
    x.flags.writeable = False
    return x


def _as_num_actions(num_actions: Any) -> tuple[int, ...]:
    try:
        sizes = tuple(int(n) for n in num_actions)
    except TypeError as exc:
        raise ValidationError(
            f"num_actions must be a tuple of per-agent action counts, got {num_actions!r}"
        ) from exc
    if len(sizes) == 0:
        raise ValidationError("num_actions must name at least one agent, got ()")
    for i, (n, raw) in enumerate(zip(sizes, num_actions, strict=True)):
        if n < 1 or n != raw:
            raise ValidationError(f"num_actions[{i}] must be a positive integer, got {raw!r}")
    return sizes


def _describe(a: int, num_actions: tuple[int, ...]) -> str:
    parts = np.unravel_index(int(a), num_actions)
    return f"{int(a)} {tuple(int(p) for p in parts)}"


def _stored_transitions(transitions: Any) -> int:
    """Non-zeros the CSR copy of ``transitions`` will store (at most ``nnz`` of the input)."""
    if sp.issparse(transitions):
        return int(transitions.nnz)
    return int(np.count_nonzero(transitions))


def _validate_transitions(
    transitions: Any, num_states: int, num_actions: tuple[int, ...]
) -> sp.csr_matrix:
    """Return T as a canonical CSR ``[S*A, S]`` after checking shape, entries and row sums."""
    num_joint = prod(num_actions)
    expected = (num_states * num_joint, num_states)
    if sp.issparse(transitions):
        if transitions.shape != expected:
            raise ValidationError(
                f"sparse transitions have shape {transitions.shape}, expected [S*A, S] = "
                f"{expected} for S = {num_states}, A = {num_joint}"
            )
        t = sp.csr_matrix(transitions, dtype=np.float64, copy=True)
    else:
        arr = np.asarray(transitions, dtype=np.float64)
        if arr.shape != (num_states, num_joint, num_states):
            raise ValidationError(
                f"dense transitions have shape {arr.shape}, expected [S, A, S] = "
                f"{(num_states, num_joint, num_states)}"
            )
        t = sp.csr_matrix(arr.reshape(expected))
    t.sum_duplicates()
    t.eliminate_zeros()
    t.sort_indices()

    def where(k: int) -> str:
        row = int(np.searchsorted(t.indptr, k, side="right") - 1)
        s, a = divmod(row, num_joint)
        return f"T({int(t.indices[k])} | s={s}, a={_describe(a, num_actions)})"

    bad = np.flatnonzero(~np.isfinite(t.data) | (t.data < 0))
    if bad.size:
        k = int(bad[0])
        raise ValidationError(
            f"transition {where(k)} is {t.data[k]}: probabilities must be finite and >= 0"
        )
    row_sums = np.asarray(t.sum(axis=1)).ravel()
    bad = np.flatnonzero(np.abs(row_sums - 1.0) > PROB_ATOL)
    if bad.size:
        s, a = divmod(int(bad[0]), num_joint)
        raise ValidationError(
            f"transition row of state {s}, joint action {_describe(a, num_actions)} "
            f"sums to {float(row_sums[bad[0]]):.12g}, not 1 ({bad.size} such rows)"
        )
    return t


@dataclass(frozen=True, eq=False)
class MarkovGame:
    """A finite-horizon, general-sum Markov game between ``m`` agents (paper section 3).

    Args:
        transitions: ``T[s, a, s']`` as a dense array ``[S, A, S]``, or a scipy sparse
            matrix ``[S*A, S]`` whose row ``s*A + a`` is ``T(. | s, a)``. Stored as CSR.
        rewards: ``r[i, s, a]``, array ``[m, S, A]``, finite. The paper assumes ``[-1, 1]``;
            wider rewards are accepted.
        initial: ``rho0[s]``, array ``[S]``, a probability distribution.
        horizon: ``H >= 1``, the number of decision steps ``h = 0..H-1``.
        num_actions: per-agent action counts ``(n_0, ..., n_{m-1})`` with
            ``A = prod(n_i)``.

    Raises:
        ValidationError: on any malformed input, naming the state, joint action, row sum
            or shapes involved.
    """

    transitions: sp.csr_matrix
    rewards: np.ndarray
    initial: np.ndarray
    horizon: int
    num_actions: tuple[int, ...]

    def __post_init__(self) -> None:
        num_actions = _as_num_actions(self.num_actions)
        if isinstance(self.horizon, bool) or not isinstance(self.horizon, (int, np.integer)):
            raise ValidationError(f"horizon must be an integer, got {self.horizon!r}")
        horizon = int(self.horizon)
        if horizon < 1:
            raise ValidationError(f"horizon must be >= 1, got {horizon}")
        shape = np.shape(self.rewards)
        if len(shape) == 3:
            # before copying rewards and transitions: refuse a game that will not fit
            nnz = _stored_transitions(self.transitions)
            check_fits(
                build_bytes(shape[1], shape[2], shape[0], nnz),
                f"building a game with m = {shape[0]}, S = {shape[1]}, A = {shape[2]}, nnz = {nnz}",
            )
        rewards = np.array(self.rewards, dtype=np.float64)
        if rewards.ndim != 3:
            raise ValidationError(f"rewards must have shape [m, S, A], got {rewards.shape}")
        m, num_states, num_joint = rewards.shape
        if m != len(num_actions):
            raise ValidationError(
                f"rewards have {m} agents (shape {rewards.shape}) but num_actions "
                f"{num_actions} names {len(num_actions)}"
            )
        if num_joint != prod(num_actions):
            raise ValidationError(
                f"rewards have {num_joint} joint actions (shape {rewards.shape}) but "
                f"num_actions {num_actions} gives A = {prod(num_actions)}"
            )
        if not np.all(np.isfinite(rewards)):
            i, s, a = np.argwhere(~np.isfinite(rewards))[0]
            raise ValidationError(
                f"rewards[{i}, {s}, {a}] is {rewards[i, s, a]}: rewards must be finite "
                f"(agent {i}, state {s}, joint action {_describe(a, num_actions)})"
            )
        t = _validate_transitions(self.transitions, num_states, num_actions)
        initial = np.array(self.initial, dtype=np.float64)
        if initial.shape != (num_states,):
            raise ValidationError(
                f"initial must have shape [S] = ({num_states},), got {initial.shape}"
            )
        if not np.all(np.isfinite(initial)) or initial.min() < 0:
            s = int(np.flatnonzero(~(np.isfinite(initial) & (initial >= 0)))[0])
            raise ValidationError(f"initial[{s}] is {initial[s]}: must be finite and >= 0")
        if abs(initial.sum() - 1.0) > PROB_ATOL:
            raise ValidationError(f"initial sums to {float(initial.sum()):.12g}, not 1")
        t.indices.flags.writeable = False
        t.indptr.flags.writeable = False
        t.data.flags.writeable = False
        object.__setattr__(self, "transitions", t)
        object.__setattr__(self, "rewards", _readonly(rewards))
        object.__setattr__(self, "initial", _readonly(initial))
        object.__setattr__(self, "horizon", horizon)
        object.__setattr__(self, "num_actions", num_actions)

    # -- sizes ---------------------------------------------------------------------------
    @property
    def num_agents(self) -> int:
        """``m``, the number of agents."""
        return len(self.num_actions)

    @property
    def num_states(self) -> int:
        """``S``."""
        return self.rewards.shape[1]

    @property
    def num_joint_actions(self) -> int:
        """``A = prod(n_i)``."""
        return self.rewards.shape[2]

    def __repr__(self) -> str:
        return (
            f"MarkovGame(S={self.num_states}, A={self.num_joint_actions}, "
            f"num_actions={self.num_actions}, H={self.horizon}, nnz={self.transitions.nnz})"
        )

    # -- joint <-> per-agent actions -----------------------------------------------------
    def joint_action(self, actions: Any) -> np.ndarray | int:
        """Flat joint index of per-agent actions ``(a_0, ..., a_{m-1})`` (agent 0 slowest).

        ``actions`` is a sequence of ``m`` ints or of ``m`` equally shaped integer arrays.
        """
        parts = tuple(np.asarray(x) for x in actions)
        if len(parts) != self.num_agents:
            raise ValidationError(f"expected {self.num_agents} per-agent actions, got {len(parts)}")
        for i, (x, n) in enumerate(zip(parts, self.num_actions, strict=True)):
            if np.any((x < 0) | (x >= n)):
                raise ValidationError(f"agent {i}'s action {x} is outside 0..{n - 1}")
        out = np.ravel_multi_index(parts, self.num_actions)
        return int(out) if np.ndim(out) == 0 else out

    def agent_actions(self, a: Any) -> tuple:
        """Per-agent actions ``(a_0, ..., a_{m-1})`` of flat joint index (or array) ``a``."""
        a = np.asarray(a)
        if np.any((a < 0) | (a >= self.num_joint_actions)):
            raise ValidationError(f"joint action {a} is outside 0..{self.num_joint_actions - 1}")
        parts = np.unravel_index(a, self.num_actions)
        if a.ndim == 0:
            return tuple(int(p) for p in parts)
        return parts

    @cached_property
    def action_table(self) -> np.ndarray:
        """``[A, m]`` table: row ``a`` holds the per-agent actions of joint action ``a``."""
        grid = np.indices(self.num_actions).reshape(self.num_agents, -1).T
        return _readonly(np.ascontiguousarray(grid))

    # -- structure -----------------------------------------------------------------------
    def transition_tensor(self) -> np.ndarray:
        """Dense ``T[s, a, s']``, ``[S, A, S]`` (for small games and tests)."""
        s, a = self.num_states, self.num_joint_actions
        return self.transitions.toarray().reshape(s, a, s)

    @cached_property
    def reachable(self) -> np.ndarray:
        """``[H, S]`` bool: states reachable at step ``h`` under *some* joint action sequence."""
        s_count, a_count = self.num_states, self.num_joint_actions
        # [S, S'] nonzero where some joint action moves s to s'
        collapse = sp.csr_matrix(
            (
                np.ones(s_count * a_count),
                np.arange(s_count * a_count),
                np.arange(0, s_count * a_count + 1, a_count),
            ),
            shape=(s_count, s_count * a_count),
        )
        step = (collapse @ self.transitions).T.tocsr()
        out = np.zeros((self.horizon, s_count), dtype=bool)
        out[0] = self.initial > 0
        for h in range(1, self.horizon):
            out[h] = (step @ out[h - 1].astype(np.float64)) > 0
        out.flags.writeable = False
        return out

    @cached_property
    def is_layered(self) -> bool:
        """True when every state is reachable at most at one step (paper's constructions).

        On layered games the paper's stationary complete deviation class coincides with the
        per-step class this library optimises over exactly; otherwise the per-step class is
        larger (a deviation may depend on ``h``) and its regret can exceed the stationary one.
        """
        return bool(np.all(self.reachable.sum(axis=0) <= 1))

    def simulator(self, features: Any = None) -> TableSimulator:
        """The reward-free, vectorised :class:`regretgap.Simulator` of this game's dynamics.

        Args:
            features: ``None`` (one-hot of ``(h, s)``, ``d = H*S``), ``[S, d]`` or
                ``[H, S, d]``, finite.

        Returns:
            A :class:`regretgap.simulator.TableSimulator` sampling with the CSR transitions;
            it holds no reference to this game or its rewards (those are read through
            :func:`regretgap.utilities.game_utilities`, by evaluation only).
        """
        return table_simulator(self, features)

    def with_rewards(self, rewards: Any) -> MarkovGame:
        """The same dynamics with other rewards ``[m, S, A]`` (e.g. to test reward-blindness)."""
        return MarkovGame(
            transitions=self.transitions,
            rewards=rewards,
            initial=self.initial,
            horizon=self.horizon,
            num_actions=self.num_actions,
        )

    def with_horizon(self, horizon: int) -> MarkovGame:
        """The same game with another horizon ``H``."""
        return MarkovGame(
            transitions=self.transitions,
            rewards=self.rewards,
            initial=self.initial,
            horizon=horizon,
            num_actions=self.num_actions,
        )
