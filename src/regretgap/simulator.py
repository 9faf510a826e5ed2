"""Games given as code: a vectorised, reward-free simulator interface.

A :class:`Simulator` is what a sampled learner may touch: it resets and steps batches of
states and reports feature vectors, and it has no path to the agents' utilities. Every
:class:`~regretgap.MarkovGame` gives one, ``game.simulator(features)`` (a
:class:`TableSimulator` over its CSR transitions ``T``, holding no reference to the game).
The utilities live apart, in the evaluation-only :mod:`regretgap.utilities`, which nothing
here imports: what a learner may import never loads what evaluation reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Any, Protocol, runtime_checkable

import numpy as np
import scipy.sparse as sp

from regretgap import _kernels
from regretgap._checks import check_count, check_rng, check_simulator_members
from regretgap.errors import ValidationError


@runtime_checkable
class Simulator(Protocol):
    """A reward-free, vectorised simulator of a finite-horizon Markov game.

    Batches have a leading axis ``n``; a "states" batch is any array-like of length ``n``
    the simulator itself produced (ints for :class:`TableSimulator`, an object array of
    opaque records for :func:`regretgap.pettingzoo.as_simulator`). Callers must treat
    states as opaque and never mutate them. Joint actions are flat indices
    ``a = ravel_multi_index((a_0, ..., a_{m-1}), num_actions)`` (agent 0 slowest, MATH.md).

    Attributes:
        num_actions: per-agent action counts ``(n_0, ..., n_{m-1})``; ``A = prod(n_i)``.
        horizon: ``H``; an episode is ``reset`` then ``H - 1`` calls of ``step`` (the
            actions of step ``H - 1`` are the last ones scored and need no successor).

    Methods:
        reset(rng, n): ``n`` initial states ``s_0 ~ rho0``, a batch ``[n]``.
        step(states, joint_actions, rng): successors ``s' ~ T(. | s, a)``, a batch ``[n]``,
            for states ``[n]`` and flat joint actions ``[n]`` ints in ``0..A-1``; the input
            batch is left unchanged.
        observe(states, h): features of the states at step ``h`` (``0 <= h < H``),
            ``[n, d]`` float64, finite, ``d`` fixed by the simulator.

    Every random choice is drawn from the ``rng`` argument (a ``numpy.random.Generator``).
    """

    @property
    def num_actions(self) -> tuple[int, ...]: ...

    @property
    def horizon(self) -> int: ...

    def reset(self, rng: np.random.Generator, n: int) -> Any: ...

    def step(self, states: Any, joint_actions: np.ndarray, rng: np.random.Generator) -> Any: ...

    def observe(self, states: Any, h: int) -> np.ndarray: ...


# ---------------------------------------------------------------------------------------
# argument checks shared by simulators


def check_step(h: Any, horizon: int) -> int:
    """Return step ``h`` as an int if ``0 <= h < horizon``, else raise ValidationError."""
    if isinstance(h, bool) or not isinstance(h, (int, np.integer)) or not 0 <= h < horizon:
        raise ValidationError(f"step h must be an integer in 0..{horizon - 1}, got {h!r}")
    return int(h)


def per_agent_hint(shape: tuple[int, ...], n: int) -> str:
    """A hint for a joint-action batch of shape ``[n, m]``: per-agent actions, not flat ones."""
    if len(shape) == 2 and shape[0] == n:
        return (
            " (per-agent actions [n, m]? flatten them into joint actions with "
            "np.ravel_multi_index(actions.T, num_actions), agent 0 slowest)"
        )
    return ""


def check_joint_actions(joint_actions: Any, n: int, num_joint: int) -> np.ndarray:
    """Validate flat joint actions ``[n]`` ints in ``0..num_joint-1``; return them as int64."""
    a = np.asarray(joint_actions)
    if a.shape != (n,):
        hint = per_agent_hint(a.shape, n)
        raise ValidationError(
            f"joint_actions must have shape [n] = ({n},) to match the states, got {a.shape}" + hint
        )
    if a.dtype == bool or not np.issubdtype(a.dtype, np.integer):
        raise ValidationError(f"joint_actions must be integers, got dtype {a.dtype}")
    bad = (a < 0) | (a >= num_joint)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"joint_actions[{k}] = {int(a[k])} is outside 0..{num_joint - 1} "
            f"({int(bad.sum())} such entries)"
        )
    return a.astype(np.int64, copy=False)


# ---------------------------------------------------------------------------------------
# the table-backed simulator of a MarkovGame


def _as_features(features: Any, horizon: int, num_states: int) -> np.ndarray | None:
    """Validate user features ``[S, d]`` or ``[H, S, d]``; return ``[H, S, d]`` (read-only)."""
    if features is None:
        return None
    arr = np.array(features, dtype=np.float64)  # own copy: later edits cannot leak in
    if arr.ndim == 2 and arr.shape[0] == num_states:
        arr.flags.writeable = False
        arr = np.broadcast_to(arr, (horizon, *arr.shape))  # a view: no H-fold copy
    elif not (arr.ndim == 3 and arr.shape[:2] == (horizon, num_states)):
        raise ValidationError(
            f"features must have shape [S, d] or [H, S, d] with S = {num_states}, "
            f"H = {horizon}, got {arr.shape}"
        )
    if arr.shape[-1] < 1:
        raise ValidationError(f"features need at least one column, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        idx = tuple(int(x) for x in np.argwhere(~np.isfinite(arr))[0])
        raise ValidationError(
            f"features{list(idx)} is {arr[idx]}: features must be finite "
            f"(step {idx[0]}, state {idx[1]}, column {idx[2]})"
        )
    if arr.flags.writeable:
        arr.flags.writeable = False
    return arr


@dataclass(frozen=True, eq=False)
class TableSimulator:
    """The :class:`Simulator` of a :class:`~regretgap.MarkovGame`'s dynamics (no rewards).

    States are ints ``s`` in ``0..S-1``, batches are ``[n]`` int64 arrays. Successors are
    drawn from the game's stacked CSR transitions ``[S*A, S]`` by the same compiled
    inverse-CDF sampler as :func:`regretgap.rollout`. Build it with
    ``game.simulator(features)``; it keeps the transitions, ``rho0`` and the features,
    never the game object or its rewards.

    Attributes:
        transitions: ``T`` as CSR ``[S*A, S]`` (row ``s*A + a``), read-only.
        initial: ``rho0``, ``[S]``.
        num_actions: ``(n_0, ..., n_{m-1})``.
        horizon: ``H``.
        features: ``[H, S, d]`` feature table, or ``None`` for the one-hot of ``(h, s)``
            (``d = H*S``; meant for small games: ``observe`` returns a dense ``[n, H*S]``).
    """

    transitions: sp.csr_matrix
    initial: np.ndarray
    num_actions: tuple[int, ...]
    horizon: int
    features: np.ndarray | None = None

    @property
    def num_states(self) -> int:
        """``S``."""
        return int(self.initial.shape[0])

    @property
    def num_joint_actions(self) -> int:
        """``A = prod(n_i)``."""
        return prod(self.num_actions)

    @property
    def num_features(self) -> int:
        """``d``, the width of :meth:`observe`'s rows."""
        if self.features is None:
            return self.horizon * self.num_states
        return int(self.features.shape[-1])

    def __repr__(self) -> str:
        return (
            f"TableSimulator(S={self.num_states}, num_actions={self.num_actions}, "
            f"H={self.horizon}, d={self.num_features})"
        )

    def _check_states(self, states: Any) -> np.ndarray:
        s = np.asarray(states)
        if s.ndim != 1 or s.shape[0] < 1:
            raise ValidationError(f"states must be a non-empty [n] batch, got shape {s.shape}")
        if s.dtype == bool or not np.issubdtype(s.dtype, np.integer):
            raise ValidationError(f"states must be integer state indices, got dtype {s.dtype}")
        bad = (s < 0) | (s >= self.num_states)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise ValidationError(f"states[{k}] = {int(s[k])} is outside 0..{self.num_states - 1}")
        return s.astype(np.int64, copy=False)

    def reset(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` initial states ``s_0 ~ rho0``, ``[n]`` int64 (one uniform per state)."""
        check_rng(rng)
        n = check_count("n", n)
        cdf = np.cumsum(self.initial)
        # (1 - u) in (0, 1]: a state of probability 0 is never drawn (as in data.rollout)
        x = (1.0 - rng.random(n)) * cdf[-1]
        return np.minimum(np.searchsorted(cdf, x, side="left"), self.num_states - 1)

    def step(
        self, states: np.ndarray, joint_actions: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Successors ``s'_k ~ T(. | s_k, a_k)``, ``[n]`` int64 (one uniform per state).

        Args:
            states: ``[n]`` ints in ``0..S-1``.
            joint_actions: ``[n]`` flat joint actions in ``0..A-1``.
            rng: the only source of randomness.

        Raises:
            ValidationError: wrong shapes, non-integers, or values out of range.
        """
        check_rng(rng)
        s = self._check_states(states)
        a = check_joint_actions(joint_actions, s.shape[0], self.num_joint_actions)
        t = self.transitions
        rows = s * self.num_joint_actions + a
        return _kernels.sample_successors(t.indptr, t.indices, t.data, rows, rng.random(s.size))

    def observe(self, states: np.ndarray, h: int) -> np.ndarray:
        """Features ``x(h, s_k)``, ``[n, d]`` float64 (a new array).

        Default: the one-hot of ``(h, s)`` at column ``h*S + s`` (``d = H*S``); otherwise
        rows of the user's feature table ``[H, S, d]``.
        """
        s = self._check_states(states)
        h = check_step(h, self.horizon)
        if self.features is not None:
            return self.features[h, s]
        out = np.zeros((s.size, self.num_features))
        out[np.arange(s.size), h * self.num_states + s] = 1.0
        return out


#: What :func:`table_simulator` reads from a :class:`~regretgap.MarkovGame`.
GAME_MEMBERS = ("transitions", "initial", "num_actions", "horizon", "num_states")


def table_simulator(game: Any, features: Any = None) -> TableSimulator:
    """The reward-free :class:`TableSimulator` of ``game`` (what ``game.simulator`` returns).

    Args:
        game: the Markov game whose transitions, ``rho0`` and horizon are simulated.
        features: ``None`` (one-hot of ``(h, s)``, ``d = H*S``), ``[S, d]`` (the same for
            every step) or ``[H, S, d]``; finite.

    Raises:
        ValidationError: features of the wrong shape or with NaN/inf (naming the entry).
    """
    # a MarkovGame by what it has: this module sits below regretgap.game, which imports it
    missing = [k for k in GAME_MEMBERS if not hasattr(game, k)]
    if missing:
        raise ValidationError(
            f"game must be a MarkovGame, got {type(game).__name__} (it lacks {missing})"
        )
    return TableSimulator(
        transitions=game.transitions,
        initial=game.initial,
        num_actions=game.num_actions,
        horizon=game.horizon,
        features=_as_features(features, game.horizon, game.num_states),
    )


def check_simulator(sim: Any, *, rng: np.random.Generator, n: int = 2) -> int:
    """Run one reset/observe/step round on a batch of ``n`` and check every shape.

    Meant to run before any training starts, so that a malformed simulator fails with a
    message naming what and where instead of deep inside a learner.

    Returns:
        ``d``, the number of features per state.

    Raises:
        ValidationError: missing members, bad ``num_actions``/``horizon``, a batch of the
            wrong length, features of the wrong shape or with NaN/inf.
    """
    check_rng(rng)
    n = check_count("n", n)
    sizes, horizon = check_simulator_members(sim)
    states = sim.reset(rng, n)
    d = None
    for h in range(horizon):
        if len(states) != n:
            where = "reset" if h == 0 else f"step (to h = {h})"
            raise ValidationError(f"simulator {where} returned {len(states)} states, expected {n}")
        x = np.asarray(sim.observe(states, h), dtype=np.float64)
        if x.ndim != 2 or x.shape[0] != n or (d is not None and x.shape[1] != d):
            want = f"[n, d] = ({n}, {d if d is not None else 'd'})"
            raise ValidationError(
                f"simulator observe at h = {h} returned {x.shape}, expected {want}"
            )
        if not np.all(np.isfinite(x)):
            k, j = (int(v) for v in np.argwhere(~np.isfinite(x))[0])
            raise ValidationError(
                f"simulator observe at h = {h} gave feature {j} of batch entry {k} = {x[k, j]}"
            )
        d = x.shape[1]
        if h < horizon - 1:
            states = sim.step(states, rng.integers(0, prod(sizes), size=n), rng)
    assert d is not None
    return int(d)
