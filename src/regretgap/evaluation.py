"""Exact evaluation of mediator policies in tabular Markov games (paper sections 3-5).

State distributions ``d_h``, occupancy ``rho_h(s, a)``, per-agent values ``J_i``, best
responses over a deviation class, regret ``R_Phi(sigma)`` (eq. 2), the value gap (eq. 4),
the regret gap (eq. 5), and the paper's diagnostics: coverage ``beta`` (Assumption 5.2) and
recoverability ``u`` (Assumption 5.1). Recursions as in ``docs/MATH.md``; every backward quantity
for all agents is computed in one pass over the transitions per step.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from regretgap import _kernels
from regretgap.deviations import (
    DEVIATION_KINDS,
    agent_axes,
    apply_deviation,
    as_deviation,
    swap_deviations,
)
from regretgap.errors import ValidationError
from regretgap.game import MarkovGame
from regretgap.policies import _check_agent, as_policy

# ---------------------------------------------------------------------------------------
# result types


class BestResponse(NamedTuple):
    """Best response of one agent to a mediator policy.

    Attributes:
        value: ``max_phi J_i(pi_{sigma, phi})`` over the deviation class.
        gain: ``value - J_i(pi_sigma)`` (>= 0: the identity is in every class).
        deviation: the maximising table ``phi[h, s, a_i]``, ``[H, S, n_i]`` ints.
        agent: the deviating agent ``i``.
        baseline: ``J_i(pi_sigma)`` under the same reward.
    """

    value: float
    gain: float
    deviation: np.ndarray
    agent: int
    baseline: float


class Regret(NamedTuple):
    """Regret ``R_Phi(sigma) = max_i max_phi J_i(pi_{sigma,phi}) - J_i(pi_sigma)`` (eq. 2).

    Attributes:
        value: the regret (eq. 2), a max over agents.
        per_agent: each agent's best deviation gain, ``[m]``.
        deviations: each agent's maximising deviation table, ``m`` arrays ``[H, S, n_i]``.
        agent: an agent attaining the max.
        values: ``J_i(pi_sigma)``, ``[m]``.
    """

    value: float
    per_agent: np.ndarray
    deviations: tuple[np.ndarray, ...]
    agent: int
    values: np.ndarray


class ValueFunctions(NamedTuple):
    """Per-agent value functions of the followed policy.

    Attributes:
        v: ``V_{i,h}(s)``, ``[H+1, m, S]`` (``v[H] = 0``).
        q: ``Q_{i,h}(s, a)``, ``[H, m, S, A]``.
    """

    v: np.ndarray
    q: np.ndarray


class Coverage(NamedTuple):
    """Coverage of the expert's state distribution (Assumption 5.2).

    Attributes:
        beta: ``min_s d^{pi_E}(s)`` with ``d = (1/H) sum_h d_h`` (the assumption's form), over
            states some single-agent deviation can reach.
        per_step_beta: ``min_{h,s} d_h^{pi_E}(s)`` over ``(h, s)`` some deviation can reach.
            The paper's constructions (Theorem 5.4) state their ``beta`` in this form; on a
            layered game ``beta = per_step_beta / H`` when the minima sit at the same state.
        state: a state attaining ``beta``.
        uncovered: states some deviation reaches but the expert never visits (sorted).
        reachable: ``[H, S]`` bool, ``(h, s)`` reachable when one agent deviates arbitrarily.
    """

    beta: float
    per_step_beta: float
    state: int
    uncovered: np.ndarray
    reachable: np.ndarray


class Recoverability(NamedTuple):
    """Bounds on ``u = max |A^{pi_{sigma_E, phi_i}}_{i,h}(s, a)|`` (Assumption 5.1).

    The max over every deviation is not a dynamic programme (the advantage is a difference
    of two functionals of the continuation), so it is bracketed:

    Attributes:
        lower: the max over the identity, each agent's best response and each agent's worst
            response (attained advantages, so ``u >= lower``).
        upper: ``max_{i,h,s} [max_a Qmax_{i,h}(s,a) - min_a Qmin_{i,h}(s,a)]`` with ``Qmax``,
            ``Qmin`` built from the best and worst continuation values (``u <= upper``).
        witness: ``(agent, h, s, a)`` where ``lower`` is attained.
    """

    lower: float
    upper: float
    witness: tuple[int, int, int, int]


# ---------------------------------------------------------------------------------------
# the backward engine


def _rewards_array(game: MarkovGame, reward: Any) -> np.ndarray:
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


class _Column(NamedTuple):
    mode: int
    reward_row: int
    agent: int = 0
    table: np.ndarray | None = None  # FIXED: [H, S, n_i]


def _index_tables(game: MarkovGame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    m, a_count = game.num_agents, game.num_joint_actions
    nmax = max(game.num_actions)
    rmax = max(a_count // n for n in game.num_actions)
    joint_index = np.zeros((m, nmax, rmax), dtype=np.int64)
    own = np.empty((m, a_count), dtype=np.int64)
    rest = np.empty((m, a_count), dtype=np.int64)
    for i, n in enumerate(game.num_actions):
        idx = agent_axes(game, i)
        joint_index[i, :n, : idx.shape[1]] = idx
        ai, r = np.unravel_index(np.arange(idx.size), idx.shape)
        own[i, idx.ravel()] = ai
        rest[i, idx.ravel()] = r
    return joint_index, own, rest, np.asarray(game.num_actions, dtype=np.int64)


def _backward(
    game: MarkovGame,
    sigma: np.ndarray,
    rewards: np.ndarray,
    columns: list[_Column],
    *,
    keep: bool = False,
) -> tuple[np.ndarray, list[np.ndarray], np.ndarray | None]:
    """Run the fused backward recursion for ``columns``.

    Returns ``(root, tables, w)``: ``root[c] = rho0 . W_{c,0}``; one deviation table
    ``[H, S, n_i]`` per best-response column (in column order); ``w [H+1, S, C]`` if ``keep``.
    """
    t = game.transitions
    horizon, s_count = game.horizon, game.num_states
    nmax = max(game.num_actions)
    joint_index, own, rest, num_actions = _index_tables(game)
    num_used = len(columns)
    # the kernel works on groups of GROUP columns: pad with reward-free value columns
    columns = columns + [_Column(_kernels.FOLLOW, -1)] * (-num_used % _kernels.GROUP)
    num_cols = len(columns)
    modes = np.array([c.mode for c in columns], dtype=np.int64)
    rows = np.array([c.reward_row for c in columns], dtype=np.int64)
    agents = np.array([c.agent for c in columns], dtype=np.int64)
    slots = np.full(num_cols, -1, dtype=np.int64)
    fixed = [c for c in columns if c.mode == _kernels.FIXED]
    best = [c for c in columns if c.mode in (_kernels.BEST_CE, _kernels.BEST_CCE)]
    fi = bi = 0
    for k, c in enumerate(columns):
        if c.mode == _kernels.FIXED:
            slots[k], fi = fi, fi + 1
        elif c.mode in (_kernels.BEST_CE, _kernels.BEST_CCE):
            slots[k], bi = bi, bi + 1
    # deviations that do not depend on (h, s) are passed once as [K, 1, nmax]
    independent = all(c.table.strides[0] == 0 and c.table.strides[1] == 0 for c in fixed)
    phi_fixed = np.zeros((len(fixed), 1 if independent else s_count, nmax), dtype=np.int64)
    phi_all = np.zeros((horizon, len(best), s_count, nmax), dtype=np.int32)
    time_rewards = rewards.ndim == 4
    groups = num_cols // _kernels.GROUP
    x_next = np.zeros((groups, s_count, _kernels.GROUP))
    w = np.zeros((horizon + 1, s_count, num_cols)) if keep else None
    x_out = np.empty((s_count, num_cols))
    for h in range(horizon - 1, -1, -1):
        for k, c in enumerate(fixed):
            n = game.num_actions[c.agent]
            phi_fixed[k, :, :n] = c.table[h, :1] if independent else c.table[h]
        _kernels.backward_step(
            t.indptr,
            t.indices,
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
            joint_index,
            own,
            rest,
            num_actions,
        )
        # group-major copy for the next gather: x_next[g, s, j] = x_out[s, g*GROUP + j]
        x_next[...] = x_out.reshape(s_count, groups, _kernels.GROUP).transpose(1, 0, 2)
        if keep:
            w[h] = x_out
    root = game.initial @ x_out[:, :num_used]
    if keep:
        w = w[:, :, :num_used]
    tables = [phi_all[:, j, :, : game.num_actions[c.agent]] for j, c in enumerate(best)]
    return root, tables, w


# ---------------------------------------------------------------------------------------
# forward quantities


def state_distribution(game: MarkovGame, sigma: Any) -> np.ndarray:
    """State distributions ``d_h(s)`` under the followed mediator, ``[H, S]``.

    ``d_0 = rho0``; ``d_{h+1}(s') = sum_{s,a} d_h(s) sigma_h(a|s) T(s'|s,a)``.
    """
    pol = as_policy(game, sigma)
    return _forward(game, pol)


def _forward(game: MarkovGame, pol: np.ndarray) -> np.ndarray:
    tt = game.transitions.T
    d = np.empty((game.horizon, game.num_states))
    d[0] = game.initial
    for h in range(game.horizon - 1):
        d[h + 1] = tt @ (d[h][:, None] * pol[h]).ravel()
    return d


def occupancy(game: MarkovGame, sigma: Any) -> np.ndarray:
    """Occupancy measures ``rho_h(s, a) = d_h(s) sigma_h(a|s)``, ``[H, S, A]``.

    The paper's average occupancy is ``occupancy(...).mean(axis=0)``.
    """
    pol = as_policy(game, sigma)
    return _forward(game, pol)[:, :, None] * pol


def values(game: MarkovGame, sigma: Any, *, reward: Any = None) -> np.ndarray:
    """Per-agent values ``J_i(pi_sigma) = E[sum_{h<H} r_i(s_h, a_h)]``, ``[m]``.

    Args:
        sigma: mediator policy ``[H, S, A]`` or ``[S, A]``.
        reward: optional per-agent reward ``[m, S, A]`` or ``[H, m, S, A]`` (default: the
            game's rewards).
    """
    pol = as_policy(game, sigma)
    rew = _rewards_array(game, reward)
    cols = [_Column(_kernels.FOLLOW, i) for i in range(game.num_agents)]
    root, _, _ = _backward(game, pol, rew, cols)
    return root


def value_functions(game: MarkovGame, sigma: Any, *, reward: Any = None) -> ValueFunctions:
    """Per-agent ``V_{i,h}(s)`` ``[H+1, m, S]`` and ``Q_{i,h}(s, a)`` ``[H, m, S, A]``.

    ``Q_{i,h}(s,a) = r_i(s,a) + sum_s' T(s'|s,a) V_{i,h+1}(s')``;
    ``V_{i,h}(s) = sum_a sigma_h(a|s) Q_{i,h}(s,a)``. Memory ``O(H m S A)``.
    """
    pol = as_policy(game, sigma)
    rew = _rewards_array(game, reward)
    cols = [_Column(_kernels.FOLLOW, i) for i in range(game.num_agents)]
    _, _, w = _backward(game, pol, rew, cols, keep=True)
    return ValueFunctions(v=np.moveaxis(w, 2, 1), q=_q_from_w(game, rew, w))


def _q_from_w(game: MarkovGame, rew: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``q[h, c, s, a] = rew_c(s, a) + T w[h+1, :, c]`` for reward rows aligned with columns."""
    s, a = game.num_states, game.num_joint_actions
    q = np.empty((game.horizon, w.shape[2], s, a))
    for h in range(game.horizon):
        cont = (game.transitions @ w[h + 1]).reshape(s, a, -1)
        r_h = rew[h] if rew.ndim == 4 else rew
        q[h] = np.moveaxis(cont, 2, 0) + r_h
    return q


# ---------------------------------------------------------------------------------------
# best responses and regret


def _finite_class(game: MarkovGame, agent: int, kind: Any) -> list[np.ndarray]:
    """The class's validated tables (the identity is implicit: it is the baseline)."""
    if isinstance(kind, str):
        raw = swap_deviations(game, agent)
    elif isinstance(kind, np.ndarray):
        # an array is one table, not a class: list() would split it into rows
        raise ValidationError(
            f"kind must be one of {DEVIATION_KINDS} or a list of deviation tables, got an "
            f"array of shape {kind.shape} (wrap a single table in a list: kind=[phi])"
        )
    else:
        try:
            raw = list(kind)
        except TypeError as exc:
            raise ValidationError(
                f"kind must be one of {DEVIATION_KINDS} or a list of deviation tables, got {kind!r}"
            ) from exc
    return [as_deviation(game, agent, phi) for phi in raw]


def _is_exact(kind: Any) -> bool:
    """Whether ``kind`` names a class solved by backward induction (``"ce"``, ``"cce"``)."""
    return isinstance(kind, str) and kind in ("ce", "cce")


def _check_kind(kind: Any) -> None:
    if isinstance(kind, str) and kind not in DEVIATION_KINDS:
        raise ValidationError(
            f"unknown deviation kind {kind!r}: expected one of {DEVIATION_KINDS} or a "
            f"list of deviation tables"
        )


def _best_responses(
    game: MarkovGame, pol: np.ndarray, rew: np.ndarray, kinds: dict[int, Any]
) -> dict[int, BestResponse]:
    """Best responses of each agent ``i`` in ``kinds`` over class ``kinds[i]``, one pass."""
    agents = sorted(kinds)
    cols = [_Column(_kernels.FOLLOW, i) for i in agents]
    finite = {i: _finite_class(game, i, kinds[i]) for i in agents if not _is_exact(kinds[i])}
    ident = {i: np.arange(game.num_actions[i]) for i in agents}
    for i in agents:
        if i in finite:
            # an identity table is scored as the followed policy: the same arithmetic as
            # the baseline, so its gain is exactly 0
            cols += [
                _Column(_kernels.FOLLOW, i)
                if np.array_equal(t, np.broadcast_to(ident[i], t.shape))
                else _Column(_kernels.FIXED, i, i, t)
                for t in finite[i]
            ]
        else:
            mode = _kernels.BEST_CE if kinds[i] == "ce" else _kernels.BEST_CCE
            cols.append(_Column(mode, i, i))
    root, tables, _ = _backward(game, pol, rew, cols)
    out = {}
    pos, dp = len(agents), 0
    for j, i in enumerate(agents):
        baseline = float(root[j])
        if i in finite:
            vals = np.concatenate([[baseline], root[pos : pos + len(finite[i])]])
            k = int(np.argmax(vals))  # first max: obeying (k = 0) wins ties
            value = float(vals[k])
            table = finite[i][k - 1] if k else as_deviation(game, i, ident[i])
            pos += len(finite[i])
        else:
            value, table = float(root[pos]), tables[dp]
            pos, dp = pos + 1, dp + 1
            if kinds[i] == "cce" and value <= baseline:
                # the identity belongs to the class: obeying is the best response
                value = baseline
                table = as_deviation(game, i, ident[i])
        out[i] = BestResponse(value, max(value - baseline, 0.0), table, i, baseline)
    return out


def best_response(
    game: MarkovGame, sigma: Any, agent: int, *, kind: Any = "ce", reward: Any = None
) -> BestResponse:
    """Best response ``max_{phi_i in Phi_i} J_i(pi_{sigma, phi_i})`` of one agent.

    Complete per-step class (``kind="ce"``), by backward induction (docs/MATH.md):
    ``W_h(s) = sum_{a_i} max_b sum_{a_-i} sigma_h(a_i, a_-i|s) [f_i(s,(b,a_-i)) + T W_{h+1}]``.

    Args:
        sigma: mediator policy ``[H, S, A]`` or ``[S, A]``.
        agent: the deviating agent ``i``.
        kind: ``"ce"``, ``"cce"``, ``"swap"`` or a list of deviation tables (see
            :mod:`regretgap.deviations`).
        reward: per-agent reward ``f[i, s, a]`` (``[m, S, A]`` or ``[H, m, S, A]``) to maximise
            instead of the game's (e.g. an imitation loss).

    Returns:
        :class:`BestResponse` with the maximising deviation ``[H, S, n_i]``.
    """
    pol = as_policy(game, sigma)
    agent = _check_agent(game, agent)
    _check_kind(kind)
    rew = _rewards_array(game, reward)
    return _best_responses(game, pol, rew, {agent: kind})[agent]


def regret(game: MarkovGame, sigma: Any, *, kind: Any = "ce", reward: Any = None) -> Regret:
    """Regret ``R_Phi(sigma) = max_i max_{phi_i} J_i(pi_{sigma,phi_i}) - J_i(pi_sigma)`` (eq. 2).

    All agents' values and best responses in one backward pass over the transitions.

    Args:
        sigma: mediator policy ``[H, S, A]`` or ``[S, A]``.
        kind: ``"ce"`` (default), ``"cce"``, ``"swap"``, or one list of deviation tables
            per agent.
        reward: optional per-agent reward ``[m, S, A]`` or ``[H, m, S, A]``.
    """
    pol = as_policy(game, sigma)
    _check_kind(kind)
    rew = _rewards_array(game, reward)
    if isinstance(kind, str):
        kinds = dict.fromkeys(range(game.num_agents), kind)
    else:
        try:
            per_agent = list(kind)
        except TypeError as exc:
            raise ValidationError(
                f"kind must be one of {DEVIATION_KINDS} or one list of deviation tables per "
                f"agent, got {kind!r}"
            ) from exc
        for i, k in enumerate(per_agent):
            # a table (array, or a list of numbers) where a list of tables belongs
            is_table = isinstance(k, np.ndarray) or (
                isinstance(k, (list, tuple)) and len(k) > 0 and all(np.ndim(x) == 0 for x in k)
            )
            if is_table:
                raise ValidationError(
                    f"kind[{i}] is an array: a finite deviation class is one list of tables "
                    f"per agent, kind=[[phi_0, ...], [psi_0, ...]] (a flat list of tables?)"
                )
        if len(per_agent) != game.num_agents:
            raise ValidationError(
                f"a finite deviation class needs one list per agent ({game.num_agents}), "
                f"got {len(per_agent)}"
            )
        kinds = dict(enumerate(per_agent))
    found = _best_responses(game, pol, rew, kinds)
    brs = [found[i] for i in range(game.num_agents)]
    gains = np.array([b.gain for b in brs])
    worst = int(np.argmax(gains))
    return Regret(
        value=float(gains[worst]),
        per_agent=gains,
        deviations=tuple(b.deviation for b in brs),
        agent=worst,
        values=np.array([b.baseline for b in brs]),
    )


def value_gap(game: MarkovGame, sigma_expert: Any, sigma: Any, *, reward: Any = None) -> float:
    """Value gap ``max_i J_i(pi_{sigma_E}) - J_i(pi_sigma)`` (Definition 4.1, eq. 4)."""
    e = values(game, as_policy(game, sigma_expert, name="sigma_expert"), reward=reward)
    return float(np.max(e - values(game, sigma, reward=reward)))


def regret_gap(
    game: MarkovGame, sigma_expert: Any, sigma: Any, *, kind: Any = "ce", reward: Any = None
) -> float:
    """Regret gap ``R_Phi(sigma) - R_Phi(sigma_E)`` (Definition 4.2, eq. 5)."""
    expert = as_policy(game, sigma_expert, name="sigma_expert")
    return float(
        regret(game, sigma, kind=kind, reward=reward).value
        - regret(game, expert, kind=kind, reward=reward).value
    )


# ---------------------------------------------------------------------------------------
# diagnostics


def deviation_reachable(game: MarkovGame, sigma: Any) -> np.ndarray:
    """``[H, S]`` bool: ``(h, s)`` has positive probability under ``pi_{sigma, phi_i}`` for some
    agent ``i`` and deviation ``phi_i`` of the complete class (the identity included)."""
    pol = as_policy(game, sigma)
    tt = game.transitions.T.tocsr()
    out = np.zeros((game.horizon, game.num_states), dtype=bool)
    for i in range(game.num_agents):
        idx = agent_axes(game, i)  # [n_i, R]
        # (b, a_-i) can be played iff a_-i has positive marginal probability
        others = pol[:, :, idx].sum(axis=2) > 0  # [H, S, R]
        allowed = np.empty((game.horizon, game.num_states, game.num_joint_actions), bool)
        allowed[:, :, idx] = others[:, :, None, :]
        reach = game.initial > 0
        out[0] |= reach
        for h in range(game.horizon - 1):
            mass = (reach[:, None] & allowed[h]).ravel().astype(np.float64)
            reach = (tt @ mass) > 0
            out[h + 1] |= reach
    return out


def coverage(game: MarkovGame, sigma_expert: Any) -> Coverage:
    """Coverage ``beta`` of the expert's state distribution (Assumption 5.2).

    ``beta = min_s d^{pi_E}(s)``, ``d = (1/H) sum_h d_h``, over states reachable when one agent
    deviates (states no deviation reaches never matter for regret).
    """
    pol = as_policy(game, sigma_expert, name="sigma_expert")
    d = _forward(game, pol)
    reach = deviation_reachable(game, pol)
    avg = d.mean(axis=0)
    states = np.flatnonzero(reach.any(axis=0))
    k = states[int(np.argmin(avg[states]))]
    return Coverage(
        beta=float(avg[k]),
        per_step_beta=float(d[reach].min()),
        state=int(k),
        uncovered=states[avg[states] <= 0],
        reachable=reach,
    )


def recoverability(game: MarkovGame, sigma_expert: Any, *, reward: Any = None) -> Recoverability:
    """Bracket the recoverability constant ``u`` of the expert (Assumption 5.1).

    ``u = max_{i,h,s,a,phi_i} |Q_{i,h}^{pi_{E,phi}}(s,a) - V_{i,h}^{pi_{E,phi}}(s)|`` over states
    reachable at step ``h`` (``game.reachable``); see :class:`Recoverability`.
    """
    pol = as_policy(game, sigma_expert, name="sigma_expert")
    rew = _rewards_array(game, reward)
    m = game.num_agents
    both = np.concatenate([rew, -rew], axis=-3)  # rows 0..m-1: r_i, rows m..2m-1: -r_i
    cols = [_Column(_kernels.BEST_CE, i, i) for i in range(m)]
    cols += [_Column(_kernels.BEST_CE, m + i, i) for i in range(m)]
    _, tables, w_best = _backward(game, pol, both, cols, keep=True)
    q_ext = _q_from_w(game, both, w_best)  # [H, 2m, S, A]
    mask = game.reachable
    spread = q_ext[:, :m].max(axis=3) + q_ext[:, m:].max(axis=3)  # max Qmax - min Qmin
    upper = float(np.max(np.where(mask[:, None, :], spread, -np.inf)))
    lower, witness = 0.0, (0, 0, int(np.flatnonzero(mask[0])[0]), 0)
    for i in range(m):
        n = game.num_actions[i]
        for phi in (np.arange(n), tables[i], tables[m + i]):
            played = apply_deviation(game, pol, i, phi)
            vf = value_functions(game, played, reward=rew)
            adv = vf.q[:, i] - vf.v[:-1, i][..., None]  # [H, S, A]
            adv = np.where(mask[..., None], np.abs(adv), -np.inf)
            k = np.unravel_index(int(np.argmax(adv)), adv.shape)
            if adv[k] > lower:
                lower, witness = float(adv[k]), (i, int(k[0]), int(k[1]), int(k[2]))
    return Recoverability(lower=lower, upper=upper, witness=witness)
