"""BLADES (Algorithm 2, eq. 7) and its single-agent analogue DAgger (Ross et al., 2011).

Per round ``n``: roll in trajectories, query the expert at the visited ``(h, s)``, aggregate
the answers, refit (follow-the-leader: one weighted log-loss fit on every answer so far).

- BLADES rolls in, for each agent ``i``, under ``pi_{sigma_n, phi_i}`` with ``phi_i`` the
  deviation maximising the learner's disagreement with the expert,
  ``max_phi E_{s ~ d^{pi_{sigma_n, phi}}} TV(sigma_E(s), sigma_n(s))``: the core's best
  response to the state reward ``ell_h(s)``. Deviations reach the states the expert's own
  play never visits, so the expert is asked there (Theorem 5.9).
- DAgger rolls in under ``pi_{sigma_n}`` only (no deviation): its loss is the on-policy
  ``E_{s ~ d^{pi_{sigma_n}}} TV``, which bounds the value gap but not the regret gap. With
  ``deviation_rate=p`` (noise injection, as DART does for single-agent imitation) every
  agent independently plays a uniformly random action of its own instead of its
  recommendation with probability ``p`` at every step of the roll-in: undirected deviations,
  the strongest simple baseline for BLADES's directed ones.

Departure from the paper, stated: ``ell`` is only known where the expert has answered, so
never-answered states get the largest loss, 1 (optimism: a deviation that reaches
unexplored states is preferred, and they get queried). With ``answers="sampled"`` the label
at ``(h, s)`` is the empirical distribution of the answers collected there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from regretgap._checks import check_count, check_probability, check_rng
from regretgap._ftl import follow_the_leader
from regretgap._repr import short_repr
from regretgap.data import QueryableExpert, rollout
from regretgap.errors import ValidationError
from regretgap.evaluation import state_distribution
from regretgap.game import MarkovGame
from regretgap.learners._common import (
    check_demos,
    check_policy_class,
    normalise,
)
from regretgap.losses import deviation_losses, tv


class BladesHistory(NamedTuple):
    """Per-round record (tuples of length ``rounds``).

    Attributes:
        loss: the learner's estimated loss when the round started (BLADES: eq. 7, DAgger:
            on-policy), with TV against the labels collected so far, unknown states
            counted as 1, averaged over steps (``max_i`` for BLADES).
        agent: the agent attaining it (``-1`` for DAgger).
        queries: cumulative expert queries after the round.
        validation: the loss of every iterate ``sigma^(1..N+1)`` (length ``rounds + 1``)
            recomputed with every label collected.
    """

    def __repr__(self) -> str:
        return short_repr(self)

    loss: tuple[float, ...]
    agent: tuple[int, ...]
    queries: tuple[int, ...]
    validation: tuple[float, ...]


class BladesResult(NamedTuple):
    """Attributes: policy ``[H, S, A]`` (best iterate); history; best_round (0: the initial
    iterate); queries (expert queries made); iterates (every fitted ``sigma^(1..N+1)``,
    ``[H, S, A]`` each, in order)."""

    def __repr__(self) -> str:
        return short_repr(self)

    policy: np.ndarray
    history: BladesHistory
    best_round: int
    queries: int
    iterates: tuple = ()


def noisy_play(game: MarkovGame, sigma: np.ndarray, rate: float) -> np.ndarray:
    """The joint policy actually played when every agent independently replaces its
    recommendation by a uniformly random action of its own with probability ``rate``.

    ``played(a' | s) = sum_a sigma(a | s) prod_i [(1 - rate) 1(a'_i = a_i) + rate / n_i]``,
    applied one agent axis at a time (no ``[A, A]`` kernel). ``sigma`` is ``[H, S, A]``;
    so is the result.
    """
    if rate == 0:
        return sigma
    lead = sigma.shape[:-1]
    x = sigma.reshape(*lead, *game.num_actions)
    for axis in range(len(lead), x.ndim):
        x = (1 - rate) * x + rate * x.mean(axis=axis, keepdims=True)
    return x.reshape(sigma.shape)


def _estimated_loss(
    game: MarkovGame,
    sigma: np.ndarray,
    label: np.ndarray,
    known: np.ndarray,
    kind: Any,
    deviate: bool,
    rate: float = 0.0,
) -> tuple[float, int, tuple[np.ndarray, ...] | None]:
    """``(loss, agent, deviations)``: eq. 7 (``deviate``) or the loss on DAgger's roll-in
    distribution (on-policy, with ``rate`` noise), from labels."""
    ell = np.where(known, tv(label, sigma), 1.0)
    if not deviate:
        d = state_distribution(game, noisy_play(game, sigma, rate))
        return float((d * ell).sum()) / game.horizon, -1, None
    values, deviations = deviation_losses(game, sigma, ell, kind)
    i = int(np.argmax(values))
    return float(values[i]) / game.horizon, i, deviations


def _query_loop(
    game: MarkovGame,
    expert: QueryableExpert,
    *,
    rng: np.random.Generator,
    demos: Any,
    rounds: int,
    rollouts: int,
    policy_class: Any,
    kind: Any,
    deviate: bool,
    rate: float = 0.0,
) -> BladesResult:
    rng = check_rng(rng)
    rounds = check_count("rounds", rounds)
    rate = check_probability("deviation_rate", rate)
    cls = check_policy_class(policy_class, game, rng)
    if not isinstance(expert, QueryableExpert):
        raise ValidationError(f"expert must be a QueryableExpert, got {type(expert).__name__}")
    rollouts = check_count("rollouts", rollouts)
    sampled = expert.answers == "sampled"
    shape = (game.horizon, game.num_states, game.num_joint_actions)
    counts = np.zeros(shape)  # the aggregated dataset: demonstrations + every answer
    if demos is not None:
        counts += check_demos(game, demos).counts(game)
    label, known = normalise(counts)
    asked = np.zeros(shape[:2], dtype=bool)  # (h, s) the expert has answered
    exact = np.zeros(shape)  # distribution answers, kept as given
    start = expert.queries
    losses, agents, queries = [], [], []

    def play(sigma: np.ndarray) -> bool:
        nonlocal label, known
        loss, worst, deviations = _estimated_loss(game, sigma, label, known, kind, deviate, rate)
        losses.append(loss)
        agents.append(worst)
        plans = list(enumerate(deviations)) if deviations is not None else [(None, None)]
        played = noisy_play(game, sigma, rate)  # sigma itself when rate = 0
        for i, phi in plans:
            states, _, _ = rollout(game, played, rollouts, rng=rng, agent=i, deviation=phi)
            h = np.broadcast_to(np.arange(game.horizon), states.shape).ravel()
            s = states.ravel()
            if sampled:
                # a fresh answer at every visit: one joint recommendation each
                np.add.at(counts, (h, s), expert.query(h, s))
            else:
                # a distribution answer does not change when asked again: ask new pairs once
                pairs = np.unique(np.stack([h, s], axis=1), axis=0)
                new = pairs[~asked[pairs[:, 0], pairs[:, 1]]]
                if len(new):
                    exact[new[:, 0], new[:, 1]] = expert.query(new[:, 0], new[:, 1])
                    asked[new[:, 0], new[:, 1]] = True
                np.add.at(counts, (h, s), exact[h, s])
        if sampled:
            label, known = normalise(counts)
        else:
            label = np.where(asked[..., None], exact, label)
            known = known | asked
        queries.append(expert.queries - start)
        return True

    def validate(iterates: Sequence[np.ndarray]) -> list[float]:
        # every iterate scored again with every label collected
        return [
            _estimated_loss(game, sig, label, known, kind, deviate, rate)[0] for sig in iterates
        ]

    leader = follow_the_leader(cls.fit(counts), rounds, play, lambda: cls.fit(counts), validate)
    return BladesResult(
        policy=leader.policy,
        history=BladesHistory(tuple(losses), tuple(agents), tuple(queries), leader.validation),
        best_round=leader.best,
        queries=expert.queries - start,
        iterates=leader.iterates,
    )


def blades(
    game: MarkovGame,
    expert: QueryableExpert,
    *,
    rng: np.random.Generator,
    demos: Any = None,
    rounds: int = 8,
    rollouts: int = 64,
    policy_class: Any = None,
    kind: Any = "ce",
) -> BladesResult:
    """BLADES with a queryable expert (Algorithm 2).

    Args:
        game: the game's transitions are simulated; its rewards are never read.
        expert: a :class:`~regretgap.QueryableExpert` (distribution or sampled answers);
            it counts the queries.
        rng: sampling of roll-ins.
        demos: optional demonstrations to initialise from (Algorithm 2, line 2); without
            them the first iterate is the policy class fitted on no data.
        rounds: ``N``.
        rollouts: trajectories rolled in per agent per round.
        policy_class: default tabular (uniform where there is no data).
        kind: the deviation class the adversary optimises over.

    Returns:
        :class:`BladesResult` with the best iterate on validation (the BLADES loss with all
        labels collected) and the number of expert queries made.
    """
    return _query_loop(
        game,
        expert,
        rng=rng,
        demos=demos,
        rounds=rounds,
        rollouts=rollouts,
        policy_class=policy_class,
        kind=kind,
        deviate=True,
    )


def dagger(
    game: MarkovGame,
    expert: QueryableExpert,
    *,
    rng: np.random.Generator,
    demos: Any = None,
    rounds: int = 8,
    rollouts: int = 64,
    policy_class: Any = None,
    deviation_rate: float = 0.0,
) -> BladesResult:
    """DAgger over joint recommendations: BLADES without deviations (Ross et al., 2011).

    Each round rolls in ``rollouts`` trajectories under ``pi_{sigma_n}`` (everyone obeys),
    queries the expert at the visited states and refits on the aggregate. It is the
    single-agent analogue the paper's BLADES improves on: it never visits the states that
    only a deviation reaches, so it cannot learn the expert's recommendations there.

    With ``deviation_rate = p > 0`` (noise injection, as DART does for single-agent
    imitation) the roll-ins are noisy: at every step each agent independently plays a
    uniformly random action of its own instead of its recommendation with probability
    ``p`` (so it departs from the recommendation with probability ``p (n_i - 1) / n_i``).
    The expert is still asked at every visited state, so random deviations reach the states
    behind one deviation, but a state behind ``k`` consecutive deviations only with
    probability about ``(p (n_i - 1) / n_i)^k``, where BLADES's worst-case deviation goes
    every time. ``history.loss`` and ``history.validation`` are then the loss on the noisy
    roll-in distribution.

    Arguments and result as in :func:`blades` (``history.agent`` is ``-1``).

    Raises:
        ValidationError: ``deviation_rate`` outside ``[0, 1]`` (before any work), and as
            :func:`blades`.
    """
    return _query_loop(
        game,
        expert,
        rng=rng,
        demos=demos,
        rounds=rounds,
        rollouts=rollouts,
        policy_class=policy_class,
        kind="ce",
        deviate=False,
        rate=deviation_rate,
    )
