"""Exact evaluation of mediator policies in tabular Markov games (paper sections 3-5).

The paper's chain, each step built on the previous: state distributions ``d_h`` and
occupancy ``rho_h(s, a)``, per-agent values ``J_i`` and value functions, every agent's best
response over a deviation class, regret ``R_Phi(sigma)`` (eq. 2), the value gap (eq. 4) and
the regret gap (eq. 5). Recursions as in ``docs/MATH.md``; the backward quantities of all
agents share one pass over the transitions per step (:mod:`regretgap._engine`). The
diagnostics (coverage, recoverability) live in :mod:`regretgap.diagnostics`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from regretgap import _engine
from regretgap._engine import BEST_CCE, BEST_CE, FIXED, FOLLOW, Column
from regretgap._repr import short_repr
from regretgap.deviations import DEVIATION_KINDS, as_deviation, swap_deviations
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

    def __repr__(self) -> str:
        return short_repr(self)

    value: float
    gain: float
    deviation: np.ndarray
    agent: int
    baseline: float


class BestResponses(NamedTuple):
    """Every agent's best response to one mediator policy (:func:`best_responses`).

    Per-agent arrays, agent ``i`` at index ``i``; ``.of(i)`` gives agent ``i``'s
    :class:`BestResponse`.

    Attributes:
        value: ``max_{phi_i} J_i(pi_{sigma, phi_i})``, ``[m]``.
        gain: ``value - baseline`` (>= 0), ``[m]``.
        deviations: each agent's maximising table ``phi_i[h, s, a_i]``, ``m`` arrays
            ``[H, S, n_i]``.
        baseline: ``J_i(pi_sigma)`` under the same reward, ``[m]``.
    """

    def __repr__(self) -> str:
        return short_repr(self)

    value: np.ndarray
    gain: np.ndarray
    deviations: tuple[np.ndarray, ...]
    baseline: np.ndarray

    def of(self, agent: int) -> BestResponse:
        """Agent ``agent``'s :class:`BestResponse`."""
        i = int(agent)
        if not 0 <= i < len(self.value):
            raise ValidationError(f"agent {agent} is outside 0..{len(self.value) - 1}")
        return BestResponse(
            float(self.value[i]), float(self.gain[i]), self.deviations[i], i,
            float(self.baseline[i]),
        )  # fmt: skip


class _RegretFields(NamedTuple):
    value: float
    per_agent: np.ndarray
    deviations: tuple[np.ndarray, ...]
    agent: int
    agent_values: np.ndarray

    def __repr__(self) -> str:
        return short_repr(self)


class Regret(_RegretFields):
    """Regret ``R_Phi(sigma) = max_i max_phi J_i(pi_{sigma,phi}) - J_i(pi_sigma)`` (eq. 2).

    A NamedTuple (unpacks as ``value, per_agent, deviations, agent, agent_values``).

    Attributes:
        value: the regret (eq. 2), a max over agents.
        per_agent: each agent's best deviation gain, ``[m]``.
        deviations: each agent's maximising deviation table, ``m`` arrays ``[H, S, n_i]``.
        agent: an agent attaining the max.
        agent_values: ``J_i(pi_sigma)``, ``[m]``.
    """

    __slots__ = ()


class ValueFunctions(NamedTuple):
    """Per-agent value functions of the followed policy.

    Attributes:
        v: ``V_{i,h}(s)``, ``[H+1, m, S]`` (``v[H] = 0``).
        q: ``Q_{i,h}(s, a)``, ``[H, m, S, A]``.
    """

    def __repr__(self) -> str:
        return short_repr(self)

    v: np.ndarray
    q: np.ndarray


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


# ---------------------------------------------------------------------------------------
# values


def values(game: MarkovGame, sigma: Any, *, reward: Any = None) -> np.ndarray:
    """Per-agent values ``J_i(pi_sigma) = E[sum_{h<H} r_i(s_h, a_h)]``, ``[m]``.

    Args:
        sigma: mediator policy ``[H, S, A]`` or ``[S, A]``.
        reward: optional per-agent reward ``[m, S, A]`` or ``[H, m, S, A]`` (default: the
            game's rewards).
    """
    pol = as_policy(game, sigma)
    rew = _engine.rewards_array(game, reward)
    cols = [Column(FOLLOW, i) for i in range(game.num_agents)]
    root, _, _ = _engine.backward(game, pol, rew, cols)
    return root


def value_functions(game: MarkovGame, sigma: Any, *, reward: Any = None) -> ValueFunctions:
    """Per-agent ``V_{i,h}(s)`` ``[H+1, m, S]`` and ``Q_{i,h}(s, a)`` ``[H, m, S, A]``.

    ``Q_{i,h}(s,a) = r_i(s,a) + sum_s' T(s'|s,a) V_{i,h+1}(s')``;
    ``V_{i,h}(s) = sum_a sigma_h(a|s) Q_{i,h}(s,a)``. Memory ``O(H m S A)``.
    """
    pol = as_policy(game, sigma)
    rew = _engine.rewards_array(game, reward)
    cols = [Column(FOLLOW, i) for i in range(game.num_agents)]
    _, _, w = _engine.backward(game, pol, rew, cols, keep=True)
    return ValueFunctions(v=np.moveaxis(w, 2, 1), q=_engine.q_from_w(game, rew, w))


# ---------------------------------------------------------------------------------------
# deviation classes: ``kind`` is parsed here and nowhere else

_NOT_A_CLASS = "one of {kinds} or a list of deviation tables"


def _one_class(game: MarkovGame, agent: int, kind: Any) -> str | list[np.ndarray]:
    """Agent ``agent``'s class: ``"ce"``/``"cce"`` (exact DP) or validated finite tables.

    ``"swap"`` is enumerated into its tables; the identity is implicit (the baseline).
    """
    if isinstance(kind, str):
        if kind not in DEVIATION_KINDS:
            raise ValidationError(
                f"unknown deviation kind {kind!r}: expected one of {DEVIATION_KINDS} or a "
                f"list of deviation tables"
            )
        if kind in ("ce", "cce"):
            return kind
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


def _deviation_classes(game: MarkovGame, kind: Any) -> list[str | list[np.ndarray]]:
    """Every agent's class from ``kind``: one name for all, or one list of tables per agent."""
    if isinstance(kind, str):
        return [_one_class(game, i, kind) for i in range(game.num_agents)]
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
    return [_one_class(game, i, k) for i, k in enumerate(per_agent)]


# ---------------------------------------------------------------------------------------
# best responses


def _solve_best_responses(
    game: MarkovGame, pol: np.ndarray, rew: np.ndarray, classes: dict[int, Any]
) -> dict[int, BestResponse]:
    """Best responses of each agent ``i`` in ``classes`` over ``classes[i]``, one pass.

    Columns: each agent's followed value (the baseline), then per agent either one
    best-response column (``"ce"``/``"cce"``) or one column per finite table.
    """
    agents = sorted(classes)
    cols = [Column(FOLLOW, i) for i in agents]
    ident = {i: np.arange(game.num_actions[i]) for i in agents}
    for i in agents:
        if isinstance(classes[i], str):
            cols.append(Column(BEST_CE if classes[i] == "ce" else BEST_CCE, i, i))
        else:
            # an identity table is scored as the followed policy: the same arithmetic as
            # the baseline, so its gain is exactly 0
            cols += [
                Column(FOLLOW, i)
                if np.array_equal(t, np.broadcast_to(ident[i], t.shape))
                else Column(FIXED, i, i, t)
                for t in classes[i]
            ]
    root, tables, _ = _engine.backward(game, pol, rew, cols)
    out = {}
    pos, dp = len(agents), 0
    for j, i in enumerate(agents):
        baseline, cls = float(root[j]), classes[i]
        if not isinstance(cls, str):
            vals = np.concatenate([[baseline], root[pos : pos + len(cls)]])
            k = int(np.argmax(vals))  # first max: obeying (k = 0) wins ties
            value = float(vals[k])
            table = cls[k - 1] if k else as_deviation(game, i, ident[i])
            pos += len(cls)
        else:
            value, table = float(root[pos]), tables[dp]
            pos, dp = pos + 1, dp + 1
            if cls == "cce" and value <= baseline:
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
    cls = _one_class(game, agent, kind)
    rew = _engine.rewards_array(game, reward)
    return _solve_best_responses(game, pol, rew, {agent: cls})[agent]


def best_responses(
    game: MarkovGame, sigma: Any, *, reward: Any = None, kind: Any = "ce"
) -> BestResponses:
    """Every agent's best response ``max_{phi_i in Phi_i} J_i(pi_{sigma, phi_i})``, one pass.

    The primitive behind :func:`regret` and the learners' deviation losses
    (:func:`regretgap.losses.deviation_losses`): all agents' followed values and best
    responses share one backward pass over the transitions (docs/MATH.md).

    Args:
        sigma: mediator policy ``[H, S, A]`` or ``[S, A]``.
        reward: per-agent reward ``f[i, s, a]`` (``[m, S, A]`` or ``[H, m, S, A]``) to
            maximise instead of the game's (e.g. an imitation loss).
        kind: ``"ce"`` (default), ``"cce"``, ``"swap"``, or one list of deviation tables
            per agent.

    Returns:
        :class:`BestResponses`: per-agent ``value``, ``gain``, ``baseline`` ``[m]`` and
        ``deviations`` (``m`` tables ``[H, S, n_i]``); ``.of(i)`` is agent ``i``'s
        :class:`BestResponse`.
    """
    pol = as_policy(game, sigma)
    classes = _deviation_classes(game, kind)
    rew = _engine.rewards_array(game, reward)
    found = _solve_best_responses(game, pol, rew, dict(enumerate(classes)))
    brs = [found[i] for i in range(game.num_agents)]
    return BestResponses(
        value=np.array([b.value for b in brs]),
        gain=np.array([b.gain for b in brs]),
        deviations=tuple(b.deviation for b in brs),
        baseline=np.array([b.baseline for b in brs]),
    )


# ---------------------------------------------------------------------------------------
# regret and gaps


def regret(game: MarkovGame, sigma: Any, *, kind: Any = "ce", reward: Any = None) -> Regret:
    """Regret ``R_Phi(sigma) = max_i max_{phi_i} J_i(pi_{sigma,phi_i}) - J_i(pi_sigma)`` (eq. 2).

    The max over agents of :func:`best_responses`' gains.

    Args:
        sigma: mediator policy ``[H, S, A]`` or ``[S, A]``.
        kind: ``"ce"`` (default), ``"cce"``, ``"swap"``, or one list of deviation tables
            per agent.
        reward: optional per-agent reward ``[m, S, A]`` or ``[H, m, S, A]``.
    """
    brs = best_responses(game, sigma, reward=reward, kind=kind)
    worst = int(np.argmax(brs.gain))
    return Regret(
        value=float(brs.gain[worst]),
        per_agent=brs.gain,
        deviations=brs.deviations,
        agent=worst,
        agent_values=brs.baseline,
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
