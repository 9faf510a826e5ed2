"""Correlated equilibria: the experts whose regret the learners must match.

Normal-form games: :func:`correlated_equilibrium` solves the CE (or CCE) linear programme
``sum_{a_-i} x(a_i, a_-i) [u_i(b, a_-i) - u_i(a_i, a_-i)] <= 0`` for all ``i, a_i, b`` over
``x`` in the simplex, with a chosen objective. Markov games: :func:`markov_ce` runs backward
induction with a stage LP at every ``(h, s)`` on the continuation payoffs
``Q_i(s, a) = r_i(s, a) + T V_{i,h+1}``, at every state, visited or not (docs/MATH.md,
"Correlated equilibrium of a Markov game"). One-shot optimality at every stage gives zero
regret for the per-step complete class (``kind="ce"``) and for recommendation-ignoring
deviations (``kind="cce"``).

Stage LPs are independent across states, so they are stacked into one block-diagonal LP
per batch and solved by scipy's HiGHS dual simplex. The per-call overhead (about 1.5 ms)
would otherwise dominate the solve. HiGHS is called through scipy's own bindings with the
model and options ``linprog(method="highs-ds")`` would pass (the same solution), skipping
the wrapper's per-column Python work; ``linprog`` remains the path where the bindings are
missing. Constraint building (:func:`stage_constraints`) is
kept apart from solving (:func:`solve_stage_games`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from regretgap.errors import ValidationError
from regretgap.game import MarkovGame
from regretgap.memory import check_fits, markov_ce_bytes

#: Objectives of :func:`correlated_equilibrium` and :func:`markov_ce`.
OBJECTIVES = ("welfare", "egalitarian", "random")

#: HiGHS feasibility tolerances: tight enough that the CE constraints hold to ~1e-10.
_HIGHS_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


class SolverError(RuntimeError):
    """HiGHS did not return an optimal stage solution (numerical trouble, not bad input)."""


try:  # scipy's own HiGHS bindings (scipy >= 1.15), called without linprog's wrapper
    from scipy.optimize._highspy import _core as _highs
except ImportError:  # pragma: no cover - older scipy: linprog only
    _highs = None


def _highs_direct(
    c: np.ndarray, a: Any, lhs: np.ndarray, rhs: np.ndarray, lb: np.ndarray
) -> tuple[int, str, np.ndarray | None]:
    """``min c x`` s.t. ``lhs <= a x <= rhs``, ``lb <= x`` with scipy's HiGHS bindings.

    The same model and options that ``linprog(method="highs-ds")`` hands to HiGHS (so the
    same solution), without the wrapper's per-call work: a Python loop over every column
    for the bound multipliers and list-to-array copies, about 20% of ``markov_ce``'s time.
    Returns ``(status, message, x)`` with linprog's status 0 for optimal.
    """
    highs = _highs._Highs()
    options = _highs.HighsOptions()
    options.presolve = "on"
    options.solver = "simplex"
    options.simplex_strategy = _highs.simplex_constants.SimplexStrategy.kSimplexStrategyDual
    options.log_to_console = False
    options.output_flag = False
    options.highs_debug_level = _highs.HighsDebugLevel.kHighsDebugLevelNone
    for key, val in _HIGHS_OPTIONS.items():
        setattr(options, key, val)
    if highs.passOptions(options) == _highs.HighsStatus.kError:  # pragma: no cover
        return 4, "HiGHS rejected the options", None
    # the array overload of passModel reads numpy buffers (HighsLp's setters copied them
    # element by element: 8 ms per 512-stage batch); integrality all continuous
    model = highs.passModel(
        c.size,
        rhs.size,
        a.data.size,
        int(_highs.MatrixFormat.kColwise),
        int(_highs.ObjSense.kMinimize),
        0.0,
        c,
        lb,
        np.full(c.size, np.inf),
        lhs,
        rhs,
        a.indptr.astype(np.int32),
        a.indices.astype(np.int32),
        a.data,
        np.zeros(c.size, dtype=np.int32),
    )
    if model == _highs.HighsStatus.kError:  # pragma: no cover
        return 4, "HiGHS rejected the model", None
    run = highs.run()
    status = highs.getModelStatus()
    if run == _highs.HighsStatus.kError or status != _highs.HighsModelStatus.kOptimal:
        return 4, highs.modelStatusToString(status), None
    return 0, "optimal", np.asarray(highs.getSolution().col_value)


def _joint_tables(num_actions: tuple[int, ...]) -> list[np.ndarray]:
    """Per agent ``[n_i, A / n_i]``: joint action of ``(a_i, a_-i = r)``."""
    grid = np.arange(int(np.prod(num_actions))).reshape(num_actions)
    return [np.moveaxis(grid, i, 0).reshape(n, -1) for i, n in enumerate(num_actions)]


def stage_constraints(
    q: np.ndarray, num_actions: tuple[int, ...], kind: str = "ce"
) -> sp.csr_matrix:
    """Block-diagonal incentive constraints ``G x <= 0`` for ``K`` stage games.

    Args:
        q: stage payoffs ``q[k, i, a]``, ``[K, m, A]``.
        num_actions: ``(n_0, ..., n_{m-1})``.
        kind: ``"ce"``: one row per ``(i, a_i, b != a_i)``,
            ``sum_{a_-i} x(a_i, a_-i) [q_i(b, a_-i) - q_i(a_i, a_-i)]``;
            ``"cce"``: one row per ``(i, b)``, ``sum_a x(a) [q_i(b, a_-i) - q_i(a)]``.

    Returns:
        CSR matrix ``[K * rows_per_stage, K * A]``; block ``k`` acts on ``x[k*A:(k+1)*A]``.
    """
    k_count, _, a_count = q.shape
    rows, cols, vals = [], [], []
    offset = 0
    for i, idx in enumerate(_joint_tables(num_actions)):
        n, r_count = idx.shape
        qi = q[:, i, :][:, idx]  # [K, n, R]: q_i((a_i, r))
        if kind == "ce":
            ai, b = np.nonzero(~np.eye(n, dtype=bool))  # all pairs a_i != b
            coef = qi[:, b, :] - qi[:, ai, :]  # [K, P, R]
            col = idx[ai]  # [P, R]
            p_count = ai.size
            row = offset + np.arange(p_count)[:, None].repeat(r_count, axis=1)
        else:
            # deviation to b: the joint action (b, r) replaces (a_i, r) for every a_i
            coef = (qi[:, :, None, :] - qi[:, None, :, :]).reshape(k_count, n, n * r_count)
            col = np.broadcast_to(idx.reshape(1, -1), (n, n * r_count))
            p_count = n
            row = offset + np.arange(n)[:, None].repeat(n * r_count, axis=1)
        rows_per_stage_i = p_count
        block = np.arange(k_count)[:, None, None]
        rows.append((row[None] + 0 * block).reshape(k_count, -1))
        cols.append((col[None] + block * a_count).reshape(k_count, -1))
        vals.append(coef.reshape(k_count, -1))
        offset += rows_per_stage_i
    per_stage = offset
    row_all = np.concatenate(rows, axis=1) + np.arange(k_count)[:, None] * per_stage
    col_all = np.concatenate(cols, axis=1)
    val_all = np.concatenate(vals, axis=1)
    return sp.csr_matrix(
        (val_all.ravel(), (row_all.ravel(), col_all.ravel())),
        shape=(k_count * per_stage, k_count * a_count),
    )


def _objective_weights(
    q: np.ndarray, objective: Any, rng: np.random.Generator | None
) -> np.ndarray:
    """Per-stage linear objective to *maximise*, ``[K, A]`` (welfare, weighted or random)."""
    k_count, m, a_count = q.shape
    if isinstance(objective, str):
        if objective == "welfare":
            return q.sum(axis=1)
        if objective == "random":
            if not isinstance(rng, np.random.Generator):
                raise ValidationError('objective="random" needs rng=np.random.Generator')
            return rng.standard_normal((k_count, a_count))
        raise ValidationError(f"unknown objective {objective!r}: expected one of {OBJECTIVES}")
    w = np.asarray(objective, dtype=np.float64)
    if w.shape != (m,) or not np.all(np.isfinite(w)):
        raise ValidationError(
            f"objective weights must be a finite array [m] = ({m},), got shape {w.shape}"
        )
    return np.einsum("i,kia->ka", w, q)


def solve_stage_games(
    q: np.ndarray,
    num_actions: tuple[int, ...],
    *,
    objective: Any = "welfare",
    kind: str = "ce",
    rng: np.random.Generator | None = None,
    batch_size: int = 512,
) -> np.ndarray:
    """Correlated equilibria of ``K`` stage games, batched into block-diagonal LPs.

    Args:
        q: stage payoffs ``[K, m, A]``.
        objective: ``"welfare"`` (max ``sum_i E_x q_i``), ``"egalitarian"`` (max ``min_i E_x
            q_i``), ``"random"`` (max a Gaussian direction drawn from ``rng`` per stage), or
            per-agent weights ``[m]`` (max ``sum_i w_i E_x q_i``).
        kind: ``"ce"`` or ``"cce"``.
        batch_size: stage games per LP.

    Returns:
        ``x [K, A]``, each row a distribution over joint actions.

    Raises:
        SolverError: if HiGHS reports anything but an optimal solution.
    """
    if kind not in ("ce", "cce"):
        raise ValidationError(f"kind must be 'ce' or 'cce', got {kind!r}")
    if batch_size < 1:
        raise ValidationError(f"batch_size must be >= 1, got {batch_size}")
    q = np.asarray(q, dtype=np.float64)
    k_count, m, a_count = q.shape
    egalitarian = isinstance(objective, str) and objective == "egalitarian"
    weights = None if egalitarian else _objective_weights(q, objective, rng)
    out = np.empty((k_count, a_count))
    for lo in range(0, k_count, batch_size):
        hi = min(k_count, lo + batch_size)
        b = hi - lo
        g = stage_constraints(q[lo:hi], num_actions, kind)
        a_eq = sp.kron(sp.identity(b, format="csr"), np.ones((1, a_count)), format="csr")
        bounds: Any  # linprog's: one (low, high) pair per variable, or one pair for all
        if egalitarian:
            # variables [x (b*A), t (b)]: max sum_k t_k with t_k <= E_x q_i for every i
            rows = np.repeat(np.arange(b * m), a_count)
            cols = np.broadcast_to(
                np.arange(b)[:, None, None] * a_count + np.arange(a_count)[None, None, :],
                (b, m, a_count),
            ).ravel()
            util = sp.csr_matrix((-q[lo:hi].ravel(), (rows, cols)), shape=(b * m, b * a_count))
            t_part = sp.kron(sp.identity(b), np.ones((m, 1)), format="csr")
            a_ub = sp.vstack(
                [sp.hstack([g, sp.csr_matrix((g.shape[0], b))]), sp.hstack([util, t_part])],
                format="csr",
            )
            c = np.concatenate([np.zeros(b * a_count), -np.ones(b)])
            a_eq = sp.hstack([a_eq, sp.csr_matrix((b, b))], format="csr")
            bounds = [(0, None)] * (b * a_count) + [(None, None)] * b
        else:
            assert weights is not None  # every objective but the egalitarian one has weights
            a_ub, c, bounds = g, -weights[lo:hi].ravel(), (0, None)
        direct = None
        if _highs is not None:
            # the model linprog would build: rows [A_ub; A_eq] in CSC, -inf <= A_ub x <= 0,
            # A_eq x = 1, bounds 0 <= x (the egalitarian t_k free)
            num_ub = a_ub.shape[0]
            lhs = np.concatenate([np.full(num_ub, -np.inf), np.ones(b)])
            rhs = np.concatenate([np.zeros(num_ub), np.ones(b)])
            lb = np.zeros(c.size)
            if egalitarian:
                lb[b * a_count :] = -np.inf
            a = sp.csc_array(sp.vstack((a_ub, a_eq)))
            try:
                direct = _highs_direct(c, a, lhs, rhs, lb)
            except (AttributeError, TypeError):  # pragma: no cover - a changed private API
                direct = None  # the bindings are private to scipy: fall back to linprog
        if direct is not None:
            status, message, sol = direct
        else:  # linprog: scipy without (usable) HiGHS bindings
            res = linprog(
                c,
                A_ub=a_ub,
                b_ub=np.zeros(a_ub.shape[0]),
                A_eq=a_eq,
                b_eq=np.ones(b),
                bounds=bounds,
                method="highs-ds",
                options=_HIGHS_OPTIONS,
            )
            status, message, sol = res.status, res.message, res.x
        if status != 0:
            raise SolverError(
                f"HiGHS failed on stage games {lo}..{hi - 1}: status {status}, {message}"
            )
        assert sol is not None  # status 0: HiGHS found the optimum
        x = np.clip(sol[: b * a_count].reshape(b, a_count), 0.0, None)
        out[lo:hi] = x / x.sum(axis=1, keepdims=True)
    return out


def correlated_equilibrium(
    payoffs: Any,
    *,
    objective: Any = "welfare",
    kind: str = "ce",
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """A correlated (or coarse correlated) equilibrium of a normal-form game.

    Args:
        payoffs: ``[m, n_0, ..., n_{m-1}]``, agent ``i``'s utility of every joint profile.
        objective: see :func:`solve_stage_games` (default: utilitarian welfare).
        kind: ``"ce"`` or ``"cce"``.
        rng: required for ``objective="random"``.

    Returns:
        The joint distribution ``x [n_0, ..., n_{m-1}]``.
    """
    u = np.asarray(payoffs, dtype=np.float64)
    if u.ndim < 2 or u.shape[0] != u.ndim - 1:
        raise ValidationError(
            f"payoffs must have shape [m, n_0, ..., n_(m-1)] with m = ndim - 1, got {u.shape}"
        )
    if not np.all(np.isfinite(u)):
        raise ValidationError("payoffs must be finite")
    num_actions = tuple(int(n) for n in u.shape[1:])
    x = solve_stage_games(
        u.reshape(1, u.shape[0], -1), num_actions, objective=objective, kind=kind, rng=rng
    )
    return x.reshape(num_actions)


def markov_ce(
    game: MarkovGame,
    *,
    objective: Any = "welfare",
    kind: str = "ce",
    rng: np.random.Generator | None = None,
    batch_size: int = 512,
) -> np.ndarray:
    """Subgame-perfect correlated equilibrium of a Markov game by backward induction.

    ``Q_{i,h}(s, a) = r_i(s, a) + sum_s' T(s'|s, a) V_{i,h+1}(s')``; ``sigma_h(.|s)`` solves
    the stage LP on ``Q_{.,h}(s, .)`` at every state (visited or not: deviations reach
    states the equilibrium never visits); ``V_{i,h}(s) = sum_a sigma_h(a|s) Q_{i,h}(s, a)``.

    Args:
        game: the Markov game (the expert knows the utilities; learners never call this).
        objective: ``"welfare"``, ``"egalitarian"``, ``"random"`` or weights ``[m]``, applied
            to each stage game's continuation payoffs.
        kind: ``"ce"`` (zero regret for the complete per-step class) or ``"cce"`` (zero
            regret for recommendation-ignoring deviations).
        rng: required for ``objective="random"``.
        batch_size: stage LPs per HiGHS call.

    Returns:
        The expert mediator ``sigma [H, S, A]``.

    Raises:
        ValidationError: if ``sigma`` and the working set (:func:`regretgap.memory_estimate`)
            do not fit in the available memory.
    """
    s_count, a_count, m = game.num_states, game.num_joint_actions, game.num_agents
    needed = 8 * game.horizon * s_count * a_count  # the returned sigma [H, S, A]
    needed += markov_ce_bytes(s_count, game.num_actions, batch_size=batch_size)
    check_fits(needed, "markov_ce (its sigma [H, S, A] and working set)")
    v = np.zeros((s_count, m))
    sigma = np.empty((game.horizon, s_count, a_count))
    for h in range(game.horizon - 1, -1, -1):
        cont = (game.transitions @ v).reshape(s_count, a_count, m)
        q = game.rewards + np.moveaxis(cont, 2, 0)  # [m, S, A]
        stage_q = np.ascontiguousarray(np.moveaxis(q, 0, 1))  # [S, m, A]
        sigma[h] = solve_stage_games(
            stage_q,
            game.num_actions,
            objective=objective,
            kind=kind,
            rng=rng,
            batch_size=batch_size,
        )
        v = np.einsum("sa,isa->si", sigma[h], q)
    return sigma
