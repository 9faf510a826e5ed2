"""MURMAIL and MAIL-BRO (Freihaut, Viano, Cevher, Geist, Ramponi, "Learning Equilibria from
Data: Provably Efficient Multi-Agent Imitation Learning", NeurIPS 2025), on the exact model.

Both learn each agent's own policy ``pi_i [H, S, n_i]`` from a queryable Nash (product)
expert by online mirror descent on ``E_{s ~ d_k} ||pi_i(.|s) - pi_E,i(.|s)||^2``, where the
state distribution ``d_k`` is where another agent's deviation would exploit ``pi_i``'s errors:

- MURMAIL (maximum uncertainty response), per iteration ``k`` and agent ``i``: query the
  expert twice at every reachable ``(h, s)`` and build the uncertainty reward
  ``u_k(h, s) = ||pi_i||^2 - 2 pi_i(a) + 1[a = b]`` (``a, b ~ pi_E,i(.|h, s)`` independent;
  unbiased for ``||pi_i(.|h,s) - pi_E,i(.|h,s)||^2``); let each other agent ``j`` maximise
  ``E[sum_h u_k(h, s_h)]`` against the current policies (exact dynamic programme:
  :func:`regretgap.best_responses` with ``reward=``) and keep the ``j`` of largest value;
  roll in under that response, sample states from its occupancy, query the expert there;
- MAIL-BRO replaces the maximum-uncertainty response by each agent's best response to the
  current policies, from an ``oracle`` the caller builds from the game
  (:class:`regretgap.oracles.BestResponseOracle`): oracle calls are counted apart from
  expert queries, and this module never reads a reward.

The update is the exponentiated-gradient (mirror-descent) step on the whole row,
``pi_i(.|h,s) <- pi_i(.|h,s) exp(-eta g) / Z`` with ``g = (1/B) sum_{b: (h_b,s_b)=(h,s)}
(pi_i(.|h,s) - e_{a_b})``, the stochastic gradient of half the squared distance: every
action's probability moves, not only the sampled one's. Both return the uniform average of
the iterates.

Choices the papers leave open (discounted, two-player zero-sum there; finite horizon,
undiscounted, ``m >= 2`` agents here), stated:

- a sample of the occupancy is one roll-in and a step ``h`` drawn uniformly, i.e. ``(h, s)``
  from the average occupancy ``(1/H) sum_h d_h`` (the finite-horizon form of the discounted
  ``d^gamma``); its state is asked once;
- the reward is built at the ``(h, s)`` some joint action sequence reaches
  (``game.reachable``) only: elsewhere it cannot change the response. With
  ``answers="distribution"`` one answer gives ``u`` exactly (``||pi_i - q||^2``), so one
  query per pair; with ``"sampled"`` two per pair, ``reward_samples`` times, averaged;
- ``m > 2``: MURMAIL's adversary for agent ``i`` is the single other agent whose
  maximum-uncertainty response scores highest (for two agents, the opponent, as in the
  paper); MAIL-BRO draws each sample's deviator uniformly among the others and calls the
  oracle once per agent per iteration;
- the iterates are updated simultaneously (every agent's step from ``pi_k``), start
  uniform, and the output averages ``pi_1..pi_K`` (the updated iterates) per ``(h, s)``:
  a Markov policy, not a mixture of trajectories.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from regretgap._checks import check_count, check_rng
from regretgap._repr import short_repr
from regretgap.data import QueryableExpert, rollout
from regretgap.deviations import as_deviation
from regretgap.errors import ValidationError
from regretgap.evaluation import best_responses
from regretgap.game import MarkovGame
from regretgap.policies import product_policy

#: MAIL-BRO's oracle: ``oracle(policies, j) -> [H, S, n_j]`` deviation table of agent ``j``'s
#: best response to ``policies`` (``m`` tables ``[H, S, n_i]``).
Oracle = Callable[[tuple[np.ndarray, ...], int], Any]

#: Where agent ``i``'s samples come from: each roll-in's deviator ``[B]`` and their tables.
Plan = tuple[np.ndarray, dict[int, np.ndarray]]


class MurmailHistory(NamedTuple):
    """Per-iteration record (tuples of length ``iterations``).

    Attributes:
        queries: expert answers so far (reward building and updates) after the iteration.
        oracle_calls: best-response oracle calls so far (MAIL-BRO; zeros for MURMAIL).
        uncertainty: MURMAIL's estimated maximum uncertainty per step at the iteration's
            start, ``max_i max_{j, pi_j'} E[sum_h u_k(h, s_h)] / H`` (NaN for MAIL-BRO, which
            builds no uncertainty reward).
        loss: mean over agents of the batch mean ``||pi_i,k(.|h_b,s_b) - answer_b||^2`` on
            the iteration's samples (an unbiased estimate of the on-distribution distance
            plus the expert's own randomness ``1 - ||pi_E,i||^2`` under sampled answers).
        responders: per agent ``i``, the agent ``j`` whose response its roll-ins followed
            (``-1``: drawn per roll-in among the others, MAIL-BRO with ``m > 2``).
    """

    def __repr__(self) -> str:
        return short_repr(self)

    queries: tuple[int, ...]
    oracle_calls: tuple[int, ...]
    uncertainty: tuple[float, ...]
    loss: tuple[float, ...]
    responders: tuple[tuple[int, ...], ...]


class MurmailResult(NamedTuple):
    """Attributes: policies (per agent, the average iterate ``[H, S, n_i]``); policy (their
    product, the joint ``[H, S, A]`` the evaluators score); history; queries (expert answers
    made); oracle_calls (MAIL-BRO's; 0 for MURMAIL)."""

    def __repr__(self) -> str:
        return short_repr(self)

    policies: tuple[np.ndarray, ...]
    policy: np.ndarray
    history: MurmailHistory
    queries: int
    oracle_calls: int


def uncertainty(pi: Any, first: Any, second: Any) -> np.ndarray:
    """``||pi||^2 - 2 <pi, first> + <first, second>`` per row, ``[k]``.

    With ``first, second`` independent one-hot draws ``e_a, e_b`` of ``q`` this is unbiased
    for ``||pi - q||^2`` (``E 1[a = b] = ||q||^2``); with distribution answers ``q`` it equals
    ``||pi - q||^2``. Reusing one draw (``second = first``) adds ``1 - ||q||^2``: biased.
    Rows ``pi, first, second``: ``[k, n]``.
    """
    pi, first, second = (np.asarray(x, dtype=np.float64) for x in (pi, first, second))
    return (pi * pi).sum(-1) - 2.0 * (pi * first).sum(-1) + (first * second).sum(-1)


def uncertainty_reward(
    game: MarkovGame,
    expert: QueryableExpert,
    pi_i: np.ndarray,
    agent: int,
    *,
    samples: int = 1,
) -> np.ndarray:
    """MURMAIL's uncertainty reward ``u(h, s)``, ``[H, S]``, from expert queries.

    At every reachable ``(h, s)`` (``game.reachable``; 0 elsewhere): with sampled answers the
    mean over ``samples`` pairs of independent answers of :func:`uncertainty`, an unbiased
    estimate of ``||pi_i(.|h,s) - pi_E,i(.|h,s)||^2`` (``2 * samples`` queries per pair); with
    distribution answers that distance exactly (one query per pair). ``pi_i``: ``[H, S, n_i]``.
    """
    h, s = np.nonzero(game.reachable)
    u = np.zeros((game.horizon, game.num_states))
    rows = pi_i[h, s]
    if expert.answers == "distribution":
        q = expert.query_agent(h, s, agent)
        u[h, s] = uncertainty(rows, q, q)
        return u
    hh, ss = np.tile(h, samples), np.tile(s, samples)  # every pair, ``samples`` times
    first = expert.query_agent(hh, ss, agent)
    second = expert.query_agent(hh, ss, agent)  # a second, independent answer
    u[h, s] = uncertainty(np.tile(rows, (samples, 1)), first, second).reshape(samples, -1).mean(0)
    return u


def mirror_descent_step(
    pi_i: np.ndarray, h: Any, s: Any, answers: Any, step_size: float
) -> np.ndarray:
    """One exponentiated-gradient step of ``pi_i [H, S, n_i]`` on a batch of ``B`` answers.

    ``g(h, s) = (1/B) sum_{b: (h_b, s_b) = (h, s)} (pi_i(.|h,s) - answer_b)`` (the gradient of
    ``(1/2) E ||pi_i - pi_E,i||^2`` estimated from the answers ``[B, n_i]``), then
    ``pi_i(.|h,s) <- pi_i(.|h,s) exp(-step_size g(h, s)) / Z``: the whole row moves.
    Rows no sample visited are unchanged. Returns a new array.
    """
    h = np.asarray(h, dtype=np.int64)
    s = np.asarray(s, dtype=np.int64)
    answers = np.asarray(answers, dtype=np.float64)
    g = np.zeros_like(pi_i)
    np.add.at(g, (h, s), pi_i[h, s] - answers)
    g /= h.size
    # subtracting the row's min of -step * g keeps exp() <= 1: no overflow, same ratios
    logits = np.log(np.maximum(pi_i, 1e-300)) - step_size * g
    logits -= logits.max(axis=-1, keepdims=True)
    out = np.where(pi_i > 0, np.exp(logits), 0.0)
    return out / out.sum(axis=-1, keepdims=True)


# ---------------------------------------------------------------------------------------
# the shared loop


def _check_inputs(
    game: Any, expert: Any, rng: Any, iterations: Any, batch: Any, step_size: Any, samples: Any
) -> tuple[int, int, float, int]:
    if not isinstance(game, MarkovGame):
        raise ValidationError(f"game must be a MarkovGame, got {type(game).__name__}")
    if game.num_agents < 2:
        raise ValidationError(
            f"MURMAIL and MAIL-BRO need at least 2 agents (a deviator and a learner), the game "
            f"has {game.num_agents} (for one agent use regretgap.dagger)"
        )
    if not isinstance(expert, QueryableExpert):
        raise ValidationError(f"expert must be a QueryableExpert, got {type(expert).__name__}")
    if expert.num_actions is None:
        raise ValidationError(
            "the expert must answer per agent: build it with QueryableExpert(sigma, game) or "
            "QueryableExpert.product(per_agent)"
        )
    if tuple(expert.num_actions) != tuple(game.num_actions):
        raise ValidationError(
            f"the expert's per-agent action counts {expert.num_actions} differ from the "
            f"game's {game.num_actions}"
        )
    if expert.num_states != game.num_states:
        raise ValidationError(
            f"the expert answers on {expert.num_states} states, the game has {game.num_states}"
        )
    check_rng(rng)
    iterations = check_count("iterations", iterations)
    batch = check_count("batch", batch)
    samples = check_count("reward_samples", samples)
    if (
        isinstance(step_size, bool)
        or not isinstance(step_size, (int, float, np.integer, np.floating))
        or not np.isfinite(step_size)
        or step_size <= 0
    ):
        raise ValidationError(f"step_size must be a positive finite number, got {step_size!r}")
    return iterations, batch, float(step_size), samples


def _roll_in(
    game: MarkovGame,
    sigma: np.ndarray,
    deviations: dict[int, np.ndarray],
    deviators: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """``(h, s)`` of one sample per roll-in: roll-in ``b`` under agent ``deviators[b]``'s
    table, its step drawn uniformly (a draw of the average occupancy)."""
    hs, ss = [], []
    for j in np.unique(deviators):
        n = int(np.sum(deviators == j))
        states, _, _ = rollout(game, sigma, n, rng=rng, agent=int(j), deviation=deviations[int(j)])
        h = rng.integers(0, game.horizon, size=n)
        hs.append(h)
        ss.append(states[np.arange(n), h])
    return np.concatenate(hs), np.concatenate(ss)


def _loop(
    game: MarkovGame,
    expert: QueryableExpert,
    rng: np.random.Generator,
    iterations: int,
    batch: int,
    step_size: float,
    respond: Callable[[tuple[np.ndarray, ...], np.ndarray], tuple[list[Plan], float]],
    count_oracle: Callable[[], int],
) -> MurmailResult:
    """``respond(policies, sigma) -> (per agent i: its samples' deviators [B] and the tables
    they use, uncertainty)``; everything else is shared by the two learners."""
    m, horizon = game.num_agents, game.horizon
    policies = tuple(np.full((horizon, game.num_states, n), 1.0 / n) for n in game.num_actions)
    total = tuple(np.zeros_like(p) for p in policies)
    start = expert.queries
    queries, calls, unc, losses, responders = [], [], [], [], []
    for _ in range(iterations):
        sigma = product_policy(game, policies)
        plans, value = respond(policies, sigma)
        responders.append(tuple(int(d[0]) if np.all(d == d[0]) else -1 for d, _ in plans))
        updated, loss = [], 0.0
        for i in range(m):
            deviators, tables = plans[i]
            h, s = _roll_in(game, sigma, tables, deviators, rng)
            answers = expert.query_agent(h, s, i)
            loss += float(((policies[i][h, s] - answers) ** 2).sum(-1).mean()) / m
            updated.append(mirror_descent_step(policies[i], h, s, answers, step_size))
        policies = tuple(updated)
        total = tuple(t + p for t, p in zip(total, policies, strict=True))
        queries.append(expert.queries - start)
        calls.append(count_oracle())
        unc.append(value)
        losses.append(loss)
    average = tuple(t / iterations for t in total)
    return MurmailResult(
        policies=average,
        policy=product_policy(game, average),
        history=MurmailHistory(
            tuple(queries), tuple(calls), tuple(unc), tuple(losses), tuple(responders)
        ),
        queries=expert.queries - start,
        oracle_calls=count_oracle(),
    )


# ---------------------------------------------------------------------------------------
# the learners


def murmail(
    game: MarkovGame,
    expert: QueryableExpert,
    *,
    rng: np.random.Generator,
    iterations: int = 200,
    batch: int = 16,
    step_size: float = 2.0,
    reward_samples: int = 1,
) -> MurmailResult:
    """MURMAIL: maximum-uncertainty-response multi-agent imitation learning.

    Iteration ``k``, agent ``i``: ``u_k = uncertainty_reward(pi_i,k)`` (expert queries);
    ``(j, pi_j') = argmax_{j != i, pi_j'} E_{pi_j', pi_-j,k}[sum_h u_k(h, s_h)]`` (exact DP);
    ``batch`` roll-ins under ``(pi_j', pi_-j,k)``, one uniformly drawn ``(h, s)`` of each,
    answered by the expert; ``pi_i,k+1 = mirror_descent_step(pi_i,k, ...)``. Returns the
    average of ``pi_1..pi_K`` (module docstring for the choices made).

    Args:
        game: its transitions are simulated (and ``game.reachable`` read); never its rewards.
        expert: a :class:`~regretgap.QueryableExpert` answering per agent
            (:meth:`~regretgap.QueryableExpert.product` or built with the game); it counts
            every answer, those building the reward included.
        rng: roll-ins and the steps drawn from them.
        iterations: ``K``.
        batch: states sampled (and queried) per agent per iteration.
        step_size: ``eta`` of the exponentiated-gradient step.
        reward_samples: answer pairs per ``(h, s)`` averaged into ``u_k`` (sampled answers).

    Returns:
        :class:`MurmailResult`. Per iteration it makes ``m * (batch + c * R * P)`` queries
        with ``P`` the reachable ``(h, s)`` pairs, ``R = reward_samples`` and ``c = 2``
        (sampled answers) or ``c = 1, R = 1`` (distribution answers).

    Raises:
        ValidationError: before any query: fewer than 2 agents, an expert that cannot answer
            per agent or does not fit the game, non-positive counts or step size, a bad rng.
    """
    iterations, batch, step_size, samples = _check_inputs(
        game, expert, rng, iterations, batch, step_size, reward_samples
    )
    m = game.num_agents

    def respond(policies: tuple[np.ndarray, ...], sigma: np.ndarray) -> tuple[list[Plan], float]:
        u = [uncertainty_reward(game, expert, policies[i], i, samples=samples) for i in range(m)]
        # value[i, j], table[i][j]: agent j maximising sum_h u_i(h, s_h). Pass c gives each
        # agent j the reward u_{(j + c) mod m}: m - 1 passes of one DP cover every pair
        value = np.full((m, m), -np.inf)
        table: list[dict[int, np.ndarray]] = [{} for _ in range(m)]
        for c in range(1, m):
            f = np.stack([u[(j + c) % m] for j in range(m)], axis=1)  # [H, m, S]
            f = np.broadcast_to(f[..., None], (*f.shape, game.num_joint_actions))
            brs = best_responses(game, sigma, reward=f, kind="cce")
            for j in range(m):
                i = (j + c) % m
                value[i, j], table[i][j] = brs.value[j], brs.deviations[j]
        plans = []
        for i in range(m):
            j = int(np.argmax(value[i]))  # the first of equal values; value[i, i] = -inf
            plans.append((np.full(batch, j), {j: table[i][j]}))
        return plans, float(np.max(value)) / game.horizon

    return _loop(game, expert, rng, iterations, batch, step_size, respond, lambda: 0)


def mail_bro(
    game: MarkovGame,
    expert: QueryableExpert,
    *,
    rng: np.random.Generator,
    oracle: Oracle,
    iterations: int = 200,
    batch: int = 16,
    step_size: float = 2.0,
) -> MurmailResult:
    """MAIL-BRO: multi-agent imitation learning with a best-response oracle.

    Iteration ``k``: ``phi_j = oracle(pi_k, j)`` for every agent ``j`` (``m`` oracle calls);
    for each agent ``i``, ``batch`` roll-ins under ``(phi_j, pi_-j,k)`` with ``j != i`` drawn
    uniformly per roll-in (the opponent, for two agents), one uniformly drawn ``(h, s)`` of
    each answered by the expert; ``pi_i,k+1 = mirror_descent_step(pi_i,k, ...)``. Returns the
    average of ``pi_1..pi_K``.

    Args:
        game: its transitions are simulated; never its rewards (only the oracle reads them).
        expert: as in :func:`murmail`.
        rng: roll-ins, deviators and steps.
        oracle: ``oracle(policies, j) -> phi [H, S, n_j]``, agent ``j``'s best response to
            the current per-agent policies as a deviation table (constant in ``a_j``), e.g.
            :func:`regretgap.oracles.best_response_oracle` ``(game)``: built by the caller
            from the agents' utilities, which this learner never reads.
        iterations: as in :func:`murmail`.
        batch: as in :func:`murmail`.
        step_size: as in :func:`murmail`.

    Returns:
        :class:`MurmailResult` (``m * batch`` expert queries and ``m`` oracle calls per
        iteration; ``history.uncertainty`` is NaN).

    Raises:
        ValidationError: as :func:`murmail`, a non-callable oracle (before any query), and
            an oracle answer that is not a deviation table of the game.
    """
    iterations, batch, step_size, _ = _check_inputs(
        game, expert, rng, iterations, batch, step_size, 1
    )
    if not callable(oracle):
        raise ValidationError(
            f"oracle must be callable oracle(policies, agent) -> [H, S, n_j], got "
            f"{type(oracle).__name__}"
        )
    m = game.num_agents
    calls = [0]

    def respond(policies: tuple[np.ndarray, ...], sigma: np.ndarray) -> tuple[list[Plan], float]:
        tables = {}
        for j in range(m):
            answer = oracle(tuple(p.copy() for p in policies), j)
            calls[0] += 1
            tables[j] = as_deviation(game, j, answer)
        plans = []
        for i in range(m):
            others = np.array([j for j in range(m) if j != i])
            # two agents: the opponent, no draw (the rng stream matches the paper's loop)
            pick = rng.integers(0, others.size, size=batch) if m > 2 else np.zeros(batch, int)
            deviators = others[pick]
            plans.append((deviators, tables))
        return plans, float("nan")

    return _loop(game, expert, rng, iterations, batch, step_size, respond, lambda: calls[0])
