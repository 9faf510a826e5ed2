"""Sampled BLADES (Algorithm 2, eq. 7) and DAgger on a reward-free simulator.

Per round ``n`` with the learner ``sigma_n``: roll in, query the expert for one sampled joint
recommendation at every visited state, aggregate the answers ``(x, a_E)`` with the
demonstrations, refit the policy class on all of them (follow-the-leader), and finally
return the best iterate on held-out answers.

- :func:`blades` rolls in, for each agent ``i``, under the deviation ``phi_i`` that a learned
  adversary (:func:`~regretgap.sampled.tabular_q_adversary` or
  :func:`~regretgap.sampled.fitted_q_adversary`) finds to maximise the learner's
  disagreement with the expert along ``pi_{sigma_n, phi_i}`` (eq. 7), the disagreement being
  estimated by the very queries that are aggregated;
- :func:`dagger` rolls in under ``pi_{sigma_n}`` only (everyone obeys; Ross et al., 2011).

Learners read features, recommendations and expert answers only: no state indices beyond
what the adversary's table needs, and never a reward (this module imports no evaluator).
The exact counterparts are :func:`regretgap.blades` and :func:`regretgap.dagger`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import ceil
from typing import Any, NamedTuple

import numpy as np

from regretgap._checks import check_count, check_fraction, check_probability, check_rng
from regretgap._ftl import follow_the_leader
from regretgap._repr import short_repr
from regretgap.errors import ValidationError
from regretgap.sampled.adversary import (
    fitted_q_adversary,
    resolve_adversary,
    tabular_q_adversary,
)
from regretgap.sampled.cloning import check_demos_for, check_policy
from regretgap.sampled.data import CountingExpert, Samples, collect, concat, observe
from regretgap.sampled.policies import MediatorPolicy
from regretgap.simulator import check_simulator

#: The adversaries :func:`blades` can learn deviations with.


class BladesHistory(NamedTuple):
    """Per-round record (tuples over the rounds actually run).

    Attributes:
        loss: the learner's estimated loss when the round started, per step: BLADES
            ``max_i`` of the adversary's Monte Carlo value of ``sum_h (1 - sigma_n(a_E|x_h))``
            under its learned deviation, divided by ``H`` (eq. 7 with the query loss below);
            DAgger the same on-policy (no deviation).
        agent: the agent attaining it (``-1`` for DAgger).
        queries: cumulative expert queries after the round.
        validation: mean held-out disagreement ``1 - sigma_k(a_E | x)`` of every iterate
            ``sigma^(1..N+1)`` (one more entry than the rounds), on every answer held out.
    """

    def __repr__(self) -> str:
        return short_repr(self)

    loss: tuple[float, ...]
    agent: tuple[int, ...]
    queries: tuple[int, ...]
    validation: tuple[float, ...]


class BladesResult(NamedTuple):
    """Attributes: policy, the best iterate as a fitted
    :class:`~regretgap.sampled.MediatorPolicy` (``policy.table(game)`` gives the exact
    core's ``[H, S, A]``); history; best_round (0: the initial iterate); queries (expert
    queries made); iterates (every round's fitted policy, ``iterates[best_round] is
    policy``, as in the exact result)."""

    def __repr__(self) -> str:
        return short_repr(self)

    policy: MediatorPolicy
    history: BladesHistory
    best_round: int
    queries: int
    iterates: tuple[MediatorPolicy, ...]


def blades_episodes_per_round(
    num_agents: int, *, rollouts: int, adversary_episodes: int, adversary_batch: int
) -> int:
    """Episodes :func:`blades` rolls in (and answers at all ``H`` steps) per round.

    ``m * (ceil(E / B) * B + rollouts)``: each agent's adversary trains on ``E`` episodes in
    whole batches of ``B`` and evaluates its greedy deviation on ``rollouts`` more, every
    visited state answered by the expert. A round therefore costs ``H`` times this many
    queries; pass it as :func:`dagger`'s ``rollouts`` to give DAgger the same per-round
    query count (and the same ``query_budget`` for the same total).
    """
    m = check_count("num_agents", num_agents)
    per_agent = ceil(
        check_count("adversary_episodes", adversary_episodes)
        / check_count("adversary_batch", adversary_batch)
    )
    return m * (per_agent * int(adversary_batch) + check_count("rollouts", rollouts))


# ---------------------------------------------------------------------------------------
# the query loss and the record of answers


class _QueryLoss:
    """``loss(states, h) = 1 - sigma_n(a_E | x)`` with ``a_E`` a fresh expert answer.

    Why this loss: with ``p = sigma_E(.|s)`` and ``q = sigma_n(.|s)``,
    ``E_{a_E ~ p}[1 - q(a_E)] = 1 - sum_a p_a q_a``. For ``p_a, q_a`` in ``[0, 1]``,
    ``p_a q_a <= min(p_a, q_a)`` (multiplying the smaller by a number ``<= 1``), so
    ``1 - sum_a p_a q_a >= 1 - sum_a min(p_a, q_a) = TV(p, q)``: an unbiased estimate of an
    upper bound of eq. 7's per-state TV. For a deterministic expert (``p = e_{a*}``) both
    sums are ``q_{a*}``, so it *is* the TV. For a stochastic expert it is positive even at
    ``q = p`` (``1 - |p|^2``): the adversary is also drawn to states where the expert
    randomises (a departure from eq. 7, stated).

    Every query is recorded as a sample ``(x, a_E, h, episode)``: the adversary calls the
    loss once per step of each batch of episodes, in the order ``h = 0..H-1``, so a call
    at ``h = 0`` starts a new batch of episode ids.
    """

    def __init__(
        self, sim: Any, expert: CountingExpert, sigma: MediatorPolicy, rng: np.random.Generator
    ) -> None:
        self.sim, self.expert, self.sigma, self.rng = sim, expert, sigma, rng
        self.parts: list[tuple[np.ndarray, np.ndarray, int, np.ndarray]] = []
        self.next_episode = 0
        self.batch = np.zeros(0, dtype=np.int64)
        self.last_h = -1

    def __call__(self, states: Any, h: int) -> np.ndarray:
        x = observe(self.sim, states, h)
        if h <= self.last_h or self.batch.size != x.shape[0]:
            self.batch = self.next_episode + np.arange(x.shape[0])
            self.next_episode += x.shape[0]
        self.last_h = h
        a_e = self.expert(states, h, self.rng)
        self.parts.append((x, a_e, h, self.batch))
        return 1.0 - np.exp(self.sigma.log_prob(x, a_e))

    def samples(self) -> Samples:
        """The answered queries, ``E * H`` samples."""
        return Samples(
            features=np.concatenate([p[0] for p in self.parts]),
            actions=np.concatenate([p[1] for p in self.parts]),
            steps=np.concatenate([np.full(p[1].size, p[2], dtype=np.int64) for p in self.parts]),
            episodes=np.concatenate([p[3] for p in self.parts]),
        )


def disagreement(sigma: MediatorPolicy, answers: Samples) -> float:
    """Mean ``1 - sigma(a_E | x)`` over answered samples (an estimate of ``1 - sum p q``)."""
    return float(1.0 - np.exp(sigma.log_prob(answers.features, answers.actions)).mean())


# ---------------------------------------------------------------------------------------
# the shared loop


class _Setup(NamedTuple):
    policy: MediatorPolicy
    expert: CountingExpert
    demos: Samples | None
    rounds: int
    fraction: float
    cost: int


def _setup(
    sim: Any,
    expert: Any,
    rng: Any,
    policy: Any,
    demos: Any,
    rounds: Any,
    query_budget: Any,
    validation_fraction: Any,
    episodes_per_round: int,
) -> _Setup:
    """Every argument check that must pass before any training or query."""
    check_rng(rng)
    policy = check_policy(policy, sim)
    rounds = check_count("rounds", rounds)
    fraction = check_fraction("validation_fraction", validation_fraction)
    counting = CountingExpert(expert, sim.num_actions, query_budget)
    cost = episodes_per_round * int(sim.horizon)
    if counting.budget is not None and counting.budget < cost:
        raise ValidationError(
            f"query_budget {counting.budget} is below one round's {cost} queries "
            f"({episodes_per_round} episodes x H = {int(sim.horizon)} states)"
        )
    d = check_simulator(sim, rng=rng)
    checked = None
    if demos is not None:
        checked = check_demos_for(sim, demos)
        if checked.features.shape[1] != d:
            raise ValidationError(
                f"demos.features have {checked.features.shape[1]} columns, the simulator {d}"
            )
    return _Setup(policy, counting, checked, rounds, fraction, cost)


def _query_loop(
    setup: _Setup,
    rng: np.random.Generator,
    answer_round: Callable[[MediatorPolicy, CountingExpert], tuple[Samples, float, int]],
) -> BladesResult:
    """Rounds of ``answer_round`` (roll in, query), split, aggregate, refit; best iterate."""
    policy, expert = setup.policy, setup.expert
    train: list[Samples] = [] if setup.demos is None else [setup.demos]
    held: list[Samples] = []

    def fit() -> MediatorPolicy:
        if not train:
            return policy.fit(np.zeros((0, 1)), np.zeros(0, dtype=np.int64), rng=rng)
        data = concat(train)
        return policy.fit(data.features, data.actions, rng=rng)

    losses: list[float] = []
    agents: list[int] = []
    queries: list[int] = []

    def play(sigma: MediatorPolicy) -> bool:
        if expert.remaining is not None and expert.remaining < setup.cost:
            return False  # the next round would exceed the budget: keep what was learned
        answers, loss, agent = answer_round(sigma, expert)
        fit_part, held_part = answers.split(setup.fraction, rng)
        train.append(fit_part)
        held.append(held_part)
        losses.append(loss)
        agents.append(agent)
        queries.append(expert.queries)
        return True

    def validate(iterates: Sequence[MediatorPolicy]) -> list[float]:
        # mean held-out disagreement on every round's held-out answers: a proxy for eq. 7
        # on the aggregate (the held-out states mix the rounds' deviated roll-ins instead
        # of taking the max over agents and deviations)
        val = concat(held)
        return [disagreement(sigma, val) for sigma in iterates]

    leader = follow_the_leader(fit(), setup.rounds, play, fit, validate)
    return BladesResult(
        policy=leader.policy,
        history=BladesHistory(tuple(losses), tuple(agents), tuple(queries), leader.validation),
        best_round=leader.best,
        queries=expert.queries,
        iterates=leader.iterates,
    )


# ---------------------------------------------------------------------------------------
# the learners


def blades(
    sim: Any,
    expert: Callable[..., np.ndarray],
    *,
    rng: np.random.Generator,
    policy_class: MediatorPolicy,
    demos: Any = None,
    rounds: int = 8,
    rollouts: int = 64,
    adversary_episodes: int = 256,
    adversary_batch: int = 64,
    epsilon: float = 0.3,
    query_budget: int | None = None,
    adversary: str = "auto",
    validation_fraction: float = 0.2,
    optimism: bool = False,
) -> BladesResult:
    """BLADES with a queryable expert on a simulator (Algorithm 2, eq. 7).

    Round ``n``, for each agent ``i``: learn ``phi_i = argmax_phi E_{pi_{sigma_n, phi}}
    [sum_h 1 - sigma_n(a_E | x_h)]`` with the adversary (``adversary_episodes`` training
    episodes, then ``rollouts`` evaluation episodes under the greedy ``phi_i``: the round's
    roll-in), the expert answering once at every state the adversary visits; aggregate all
    answers, refit ``sigma_{n+1}`` on them and the demonstrations, and return the iterate
    with the least held-out disagreement.

    Args:
        sim: a reward-free :class:`~regretgap.Simulator`.
        expert: ``(states, h, rng) -> [n]``: one sampled joint recommendation of
            ``sigma_E`` per state (e.g. :func:`~regretgap.sampled.policy_recommender`);
            every state in a batch is one query.
        rng: the only source of randomness.
        policy_class: the policy class (a :class:`~regretgap.sampled.MediatorPolicy`).
        demos: optional :class:`~regretgap.sampled.Samples` of expert play to initialise
            from (Algorithm 2, line 2); without them ``sigma_1`` is the unfitted class.
        rounds: ``N``, the most rounds.
        rollouts: evaluation episodes per agent per round.
        adversary_episodes: the adversary's training episodes per agent per round.
        adversary_batch: episodes per adversary batch (training rounds up to whole batches).
        epsilon: the adversary's exploration probability.
        query_budget: the most expert queries (``None``: no limit); rounds stop cleanly
            before one would exceed it. A round costs
            ``H * blades_episodes_per_round(m, ...)`` queries.
        adversary: ``"tabular"`` (int states ``0..S-1``, needs ``sim.num_states``),
            ``"fitted"`` (features) or ``"auto"``: tabular when the simulator has
            ``num_states`` and int states.
        validation_fraction: share of each round's answered episodes held out to pick the
            best iterate.
        optimism: with the tabular adversary, value every deviation step it has never
            tried at the largest loss (1 per remaining step), as exact BLADES does for
            never-answered states; it then walks to states behind many deviations even
            when every step on the way already looks learned (see the
            ``directed_deviations`` experiment). Off by default (the adversary of earlier
            versions).

    Returns:
        :class:`BladesResult`.

    Raises:
        ValidationError: non-positive rounds/rollouts/episodes/budget, a budget below one
            round, a bad policy, simulator, demonstrations or fraction (all before any
            training); an expert answer outside the joint action space (naming the step).
    """
    if not isinstance(optimism, bool):
        raise ValidationError(f"optimism must be True or False, got {optimism!r}")
    check_probability("epsilon", epsilon)
    m = len(tuple(sim.num_actions)) if hasattr(sim, "num_actions") else 1
    per_round = blades_episodes_per_round(
        m, rollouts=rollouts, adversary_episodes=adversary_episodes, adversary_batch=adversary_batch
    )
    setup = _setup(
        sim, expert, rng, policy_class, demos, rounds, query_budget, validation_fraction, per_round
    )
    # a drawn state decides "auto" (drawn from rng: the stream earlier versions used)
    counted = getattr(sim, "num_states", None) is not None
    first = sim.reset(rng, 1) if adversary == "auto" and counted else None
    tabular = resolve_adversary(adversary, sim, first) == "tabular"
    learn = tabular_q_adversary if tabular else fitted_q_adversary
    # the query loss 1 - sigma(a_E | x) is at most 1: untried deviations are valued at it
    optimistic = {"optimism": 1.0} if tabular and optimism else {}
    horizon = int(sim.horizon)

    def answer_round(sigma: MediatorPolicy, counting: CountingExpert) -> tuple[Samples, float, int]:
        parts, values = [], []
        for i in range(m):
            loss = _QueryLoss(sim, counting, sigma, rng)
            res = learn(
                sim,
                sigma.recommender(sim),
                loss,
                i,
                rng=rng,
                episodes=int(adversary_episodes),
                batch_size=int(adversary_batch),
                epsilon=float(epsilon),
                eval_episodes=int(rollouts),
                **optimistic,
            )
            parts.append(loss.samples())
            values.append(res.value)
        worst = int(np.argmax(values))
        return concat(parts), float(values[worst]) / horizon, worst

    return _query_loop(setup, rng, answer_round)


class NoisyPlay:
    """``sim`` whose step replaces, independently for every agent and sample, the agent's
    action by a uniformly random one of its own with probability ``rate`` (DAgger's noise
    injection). Everything else (reset, observe, sizes) is ``sim``'s; the recommendations a
    learner records are unchanged, only the played actions are noisy."""

    def __init__(self, sim: Any, rate: float) -> None:
        self._sim, self.rate = sim, rate
        self._sizes = tuple(int(k) for k in sim.num_actions)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sim, name)

    def step(self, states: Any, joint_actions: np.ndarray, rng: np.random.Generator) -> Any:
        a = np.asarray(joint_actions)
        parts = list(np.unravel_index(a, self._sizes))
        for i, n_i in enumerate(self._sizes):
            noisy = rng.random(a.shape[0]) < self.rate
            parts[i] = np.where(noisy, rng.integers(0, n_i, size=a.shape[0]), parts[i])
        played = np.ravel_multi_index(tuple(parts), self._sizes).astype(np.int64)
        return self._sim.step(states, played, rng)


def dagger(
    sim: Any,
    expert: Callable[..., np.ndarray],
    *,
    rng: np.random.Generator,
    policy_class: MediatorPolicy,
    demos: Any = None,
    rounds: int = 8,
    rollouts: int = 64,
    query_budget: int | None = None,
    validation_fraction: float = 0.2,
    deviation_rate: float = 0.0,
) -> BladesResult:
    """DAgger over joint recommendations: :func:`blades` without deviations.

    Round ``n`` rolls in ``rollouts`` episodes under ``pi_{sigma_n}`` (everyone obeys),
    queries the expert once at every visited state (``rollouts * H`` queries), aggregates
    and refits. It never visits the states that only a deviation reaches. For a comparison
    at equal queries give it ``rollouts = blades_episodes_per_round(m, ...)`` (BLADES's
    ``m * (adversary episodes + rollouts)``) and the same ``query_budget``.

    With ``deviation_rate = p > 0`` the roll-ins are noisy (noise injection, as DART does
    for single-agent imitation): at every step each agent independently plays a uniformly
    random action of its own instead of its recommendation with probability ``p``. The
    expert is asked at every visited state as before, so states one random deviation
    reaches get labels; a state behind ``k`` deviations in a row only with probability
    about ``(p (n_i - 1) / n_i)^k``.

    Arguments and result as in :func:`blades`; ``history.agent`` is ``-1`` and
    ``history.loss`` the mean disagreement ``1 - sigma_n(a_E | x)`` on the roll-in.
    """
    rate = check_probability("deviation_rate", deviation_rate)
    rollouts = check_count("rollouts", rollouts)
    setup = _setup(
        sim, expert, rng, policy_class, demos, rounds, query_budget, validation_fraction, rollouts
    )

    def answer_round(sigma: MediatorPolicy, counting: CountingExpert) -> tuple[Samples, float, int]:
        answers: list[np.ndarray] = []
        learner = sigma.recommender(sim)

        def recommend(states: Any, h: int, rng: np.random.Generator) -> np.ndarray:
            answers.append(counting(states, h, rng))  # the expert's label at this state
            return learner(states, h, rng)

        roll = NoisyPlay(sim, rate) if rate > 0 else sim
        visited = collect(roll, recommend, rollouts, rng=rng)  # samples are h-major
        # not _replace: Samples' len() counts samples, which namedtuple._make trips on
        answered = Samples(
            visited.features, np.concatenate(answers), visited.steps, visited.episodes
        )
        return answered, disagreement(sigma, answered), -1

    return _query_loop(setup, rng, answer_round)
