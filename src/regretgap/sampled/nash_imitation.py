"""Sampled MURMAIL (Freihaut et al., NeurIPS 2025) on a reward-free simulator.

The exact :func:`regretgap.murmail` with the model replaced by samples. Per iteration ``k``
and agent ``i``: a learned adversary (:func:`~regretgap.sampled.tabular_q_adversary`, or
:func:`~regretgap.sampled.fitted_q_adversary` on features) finds, for each other agent
``j``, the deviation maximising the uncertainty ``||pi_i||^2 - 2 pi_i(a|x) + 1[a = b]``
summed along the roll-in, with ``a, b`` two fresh expert answers at every state it visits
(unbiased for ``||pi_i(.|x) - pi_E,i(.|x)||^2``; every answer counted); the ``j`` of largest
estimated value is kept; ``batch`` fresh roll-ins under it, one uniformly drawn step of each,
are answered once and drive the exponentiated-gradient step on agent ``i``'s row of that
observation. Returns the uniform average of the iterates ``pi_1..pi_K``.

Departures from the exact learner, stated: the uncertainty is estimated only where the
adversary goes (no model to enumerate the reachable states), and the policy is a table per
agent over distinct feature rows (:class:`MurmailPolicy`): the update is per row, so a
parametric class would need a projection step this module does not take. It imports no
evaluator and never reads a reward.
"""

from __future__ import annotations

from collections.abc import Callable
from math import prod
from typing import Any, NamedTuple

import numpy as np

from regretgap._checks import check_count, check_probability, check_rng, check_simulator_members
from regretgap._repr import short_repr
from regretgap.errors import ValidationError
from regretgap.sampled.adversary import (
    fitted_q_adversary,
    resolve_adversary,
    tabular_q_adversary,
)
from regretgap.sampled.data import CountingExpert, observe
from regretgap.sampled.policies import JointPolicy, check_features, check_num_actions
from regretgap.simulator import check_joint_actions, check_simulator

#: The adversaries :func:`murmail` can learn deviations with.


def _keys(x: np.ndarray) -> list[bytes]:
    """One key per feature row (``-0.0`` and ``0.0`` share one)."""
    x = np.ascontiguousarray(x + 0.0)
    return [row.tobytes() for row in x]


class MurmailPolicy(JointPolicy):
    """Independent per-agent tables over distinct feature rows: ``sigma(a|x) = prod_i
    pi_i(a_i|x)``; a row never updated is uniform. MURMAIL's iterate and output.

    ``table(game)`` (inherited) gives the joint ``[H, S, A]`` the exact core scores;
    :meth:`agent_tables` the per-agent ``[H, S, n_i]``.
    """

    def __init__(self, num_actions: Any) -> None:
        self.num_actions = check_num_actions(num_actions)
        self._rows: list[dict[bytes, np.ndarray]] = [{} for _ in self.num_actions]
        self._d: int | None = None

    def __repr__(self) -> str:
        return f"MurmailPolicy(num_actions={self.num_actions}, rows={len(self._rows[0])})"

    def marginal(self, features: Any, agent: int) -> np.ndarray:
        """``pi_i(. | x)``, ``[n, n_i]``."""
        i = self._check_agent(agent)
        x = check_features(features, self._d)
        n_i = self.num_actions[i]
        uniform = np.full(n_i, 1.0 / n_i)
        rows = self._rows[i]
        return np.array([rows.get(k, uniform) for k in _keys(x)]).reshape(-1, n_i)

    def probs(self, features: Any) -> np.ndarray:
        """``[n, A]``: the product of the agents' rows (agent 0 slowest)."""
        x = check_features(features, self._d)
        out = np.ones((x.shape[0], 1))
        for i in range(self.num_agents):
            p = self.marginal(x, i)
            out = (out[:, :, None] * p[:, None, :]).reshape(x.shape[0], -1)
        return out

    def agent_tables(self, sim: Any) -> tuple[np.ndarray, ...]:
        """Per-agent ``pi_i(. | observe(s, h))``, ``m`` arrays ``[H, S, n_i]``, on a simulator
        with ``num_states`` (e.g. ``game.simulator()``)."""
        num_states = getattr(sim, "num_states", None)
        if num_states is None:
            raise ValidationError("agent_tables needs a simulator with num_states")
        horizon = int(sim.horizon)
        states = np.arange(int(num_states))
        return tuple(
            np.stack([self.marginal(sim.observe(states, h), i) for h in range(horizon)])
            for i in range(self.num_agents)
        )


class SampledMurmailHistory(NamedTuple):
    """Per-iteration record.

    Attributes:
        queries: expert answers so far (the adversaries' uncertainty and the updates').
        uncertainty: ``max_i`` of the adversary's Monte Carlo value of the summed uncertainty
            under its learned deviation, divided by ``H``, at the iteration's start.
        loss: mean over agents of the batch mean ``||pi_i,k(.|x_b) - e_{a_b}||^2``.
    """

    def __repr__(self) -> str:
        return short_repr(self)

    queries: tuple[int, ...]
    uncertainty: tuple[float, ...]
    loss: tuple[float, ...]


class SampledMurmailResult(NamedTuple):
    """Attributes: policy (the average iterate, a :class:`MurmailPolicy`); history; queries
    (expert answers made)."""

    def __repr__(self) -> str:
        return short_repr(self)

    policy: MurmailPolicy
    history: SampledMurmailHistory
    queries: int


class _Agent:
    """Agent ``i``'s part of joint expert answers, counted by the :class:`CountingExpert`."""

    def __init__(self, expert: CountingExpert, sizes: tuple[int, ...]) -> None:
        self.expert, self.sizes = expert, sizes

    def __call__(self, states: Any, h: int, agent: int, rng: np.random.Generator) -> np.ndarray:
        joint = self.expert(states, h, rng)
        return np.unravel_index(joint, self.sizes)[agent].astype(np.int64)


def _roll_in(
    sim: Any,
    sigma: MurmailPolicy,
    deviation: Callable[[int, Any, np.ndarray], np.ndarray],
    j: int,
    n: int,
    rng: np.random.Generator,
    *,
    on_features: bool,
) -> tuple[list[Any], list[np.ndarray]]:
    """``n`` episodes with agent ``j`` playing ``deviation(h, obs, a_j)``: the states and
    features per step."""
    sizes = sigma.num_actions
    states_h, xs = [], []
    s = sim.reset(rng, n)
    for h in range(int(sim.horizon)):
        x = observe(sim, s, h)
        states_h.append(s)
        xs.append(x)
        a = check_joint_actions(sigma.sample(x, rng), n, prod(sizes))
        idx = list(np.unravel_index(a, sizes))
        idx[j] = np.asarray(deviation(h, x if on_features else s, idx[j]), dtype=np.int64)
        if h < int(sim.horizon) - 1:
            s = sim.step(s, np.ravel_multi_index(tuple(idx), sizes), rng)
    return states_h, xs


def murmail(
    sim: Any,
    expert: Callable[..., np.ndarray],
    *,
    rng: np.random.Generator,
    policy: MurmailPolicy | None = None,
    iterations: int = 20,
    batch: int = 64,
    step_size: float = 2.0,
    adversary_episodes: int = 128,
    adversary_batch: int = 64,
    eval_episodes: int = 64,
    epsilon: float = 0.3,
    adversary: str = "auto",
    query_budget: int | None = None,
) -> SampledMurmailResult:
    """MURMAIL on a simulator: maximum-uncertainty roll-ins by a learned adversary.

    Args:
        sim: a reward-free :class:`~regretgap.Simulator` with ``m >= 2`` agents.
        expert: ``(states, h, rng) -> [n]`` joint recommendations of a Nash (product)
            expert (e.g. :func:`~regretgap.sampled.policy_recommender`); agent ``i``'s
            answer is its part; every state in a batch is one query.
        rng: the only source of randomness.
        policy: the starting iterate (default: uniform :class:`MurmailPolicy` tables).
        iterations: ``K``.
        batch: roll-ins (one answered state each) per agent per iteration.
        step_size: ``eta`` of the exponentiated-gradient step.
        adversary_episodes: the adversary's training episodes per deviating agent (each
            visited state costs two answers).
        adversary_batch: the adversary's episodes per Q update.
        eval_episodes: the adversary's Monte Carlo evaluation episodes.
        epsilon: the adversary's exploration probability.
        adversary: ``"tabular"`` (int states, ``sim.num_states``), ``"fitted"`` or ``"auto"``.
        query_budget: the most expert answers (``None``: no limit); a query beyond it raises
            :class:`~regretgap.sampled.BudgetExhausted`.

    Returns:
        :class:`SampledMurmailResult`.

    Raises:
        ValidationError: before any query: fewer than 2 agents, a non-callable expert,
            non-positive counts, a bad step size, epsilon, adversary, policy or simulator.
    """
    check_rng(rng)
    resolve_adversary(adversary, sim, np.zeros(1, np.int64))  # checked before any query
    check_simulator_members(sim)
    sizes = check_num_actions(sim.num_actions)
    m, horizon = len(sizes), int(sim.horizon)
    if m < 2:
        raise ValidationError(f"MURMAIL needs at least 2 agents, the simulator has {m}")
    iterations, batch = check_count("iterations", iterations), check_count("batch", batch)
    counts = {k: check_count(k, v) for k, v in (("adversary_episodes", adversary_episodes),
              ("adversary_batch", adversary_batch), ("eval_episodes", eval_episodes))}  # fmt: skip
    if (
        isinstance(step_size, bool)
        or not isinstance(step_size, (int, float))
        or not np.isfinite(step_size)
        or step_size <= 0
    ):
        raise ValidationError(f"step_size must be a positive finite number, got {step_size!r}")
    check_probability("epsilon", epsilon)
    current = MurmailPolicy(sizes) if policy is None else policy
    if not isinstance(current, MurmailPolicy) or current.num_actions != sizes:
        raise ValidationError(f"policy must be a MurmailPolicy with num_actions {sizes}")
    counting = CountingExpert(expert, sizes, query_budget)
    answer = _Agent(counting, sizes)
    check_simulator(sim, rng=rng)
    # a drawn state decides "auto" (drawn from rng: the stream earlier versions used)
    counted = getattr(sim, "num_states", None) is not None
    first = sim.reset(rng, 1) if adversary == "auto" and counted else None
    tabular = resolve_adversary(adversary, sim, first) == "tabular"
    learn = tabular_q_adversary if tabular else fitted_q_adversary

    # the running sum of the iterates, per agent and row; a row first met after t
    # iterations was uniform in the t before it
    total: list[dict[bytes, np.ndarray]] = [{} for _ in sizes]
    queries, unc, losses = [], [], []
    for k in range(iterations):
        plans, best = [], -np.inf
        for i in range(m):

            def loss(states: Any, h: int, i: int = i, sigma: MurmailPolicy = current) -> np.ndarray:
                p = sigma.marginal(observe(sim, states, h), i)
                a = answer(states, h, i, rng)
                b = answer(states, h, i, rng)  # a second, independent answer
                rows = np.arange(p.shape[0])
                return (p * p).sum(-1) - 2.0 * p[rows, a] + (a == b)

            results = {
                j: learn(sim, current.recommender(sim), loss, j, rng=rng,
                         episodes=counts["adversary_episodes"],
                         batch_size=counts["adversary_batch"], epsilon=float(epsilon),
                         eval_episodes=counts["eval_episodes"])
                for j in range(m) if j != i
            }  # fmt: skip
            j = max(results, key=lambda d: results[d].value)
            best = max(best, results[j].value / horizon)
            plans.append((j, results[j].deviation))
        new_rows: list[dict[bytes, np.ndarray]] = []
        loss_k = 0.0
        for i, (j, phi) in enumerate(plans):
            states_h, xs = _roll_in(sim, current, phi, j, batch, rng, on_features=not tabular)
            steps = rng.integers(0, horizon, size=batch)
            g: dict[bytes, np.ndarray] = {}
            rows = dict(current._rows[i])
            for h in np.unique(steps):
                pick = np.flatnonzero(steps == h)
                s = states_h[h]
                st = s[pick] if isinstance(s, np.ndarray) else [s[p] for p in pick]
                a = answer(st, int(h), i, rng)
                x = xs[h][pick]
                p = current.marginal(x, i)
                e = np.eye(sizes[i])[a]
                loss_k += float(((p - e) ** 2).sum(-1).sum()) / (batch * m)
                for key, pk, ek in zip(_keys(x), p, e, strict=True):
                    g[key] = g.get(key, 0.0) + (pk - ek) / batch
                    rows.setdefault(key, pk)
            for key, gk in g.items():
                w = rows[key] * np.exp(-step_size * gk)
                rows[key] = w / w.sum()
            new_rows.append(rows)
        nxt = MurmailPolicy(sizes)
        nxt._rows, nxt._d = new_rows, xs[0].shape[1]
        current = nxt
        for i in range(m):
            uniform = np.full(sizes[i], 1.0 / sizes[i])
            for key, row in current._rows[i].items():
                total[i][key] = total[i].get(key, k * uniform) + row
        queries.append(counting.queries)
        unc.append(float(best))
        losses.append(loss_k)
    average = MurmailPolicy(sizes)
    average._rows = [{key: row / iterations for key, row in t.items()} for t in total]
    average._d = current._d
    return SampledMurmailResult(
        policy=average,
        history=SampledMurmailHistory(tuple(queries), tuple(unc), tuple(losses)),
        queries=counting.queries,
    )
