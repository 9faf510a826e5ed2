"""BLADES: Bend Learner, Aggregate Datasets of Expert Suggestions (Algorithm 2, eq. 7).

Per round ``n``, for each agent ``i``: the deviation ``phi_i`` maximising the learner's
disagreement with the expert, ``max_phi E_{s ~ d^{pi_{sigma_n, phi}}} TV(sigma_E(s),
sigma_n(s))``, is the core's best response to the state reward ``ell_h(s)``; roll in
``pi_{sigma_n, phi_i}``, query the expert at the visited ``(h, s)``, aggregate, refit
(follow-the-leader on the aggregated log-losses).

Departure from the paper, stated: ``ell`` is only known where the expert has been asked,
so never-queried states get the largest loss, 1 (optimism: a deviation that reaches
unexplored states is preferred, and they get queried).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from regretgap.data import QueryableExpert, rollout
from regretgap.errors import ValidationError
from regretgap.game import MarkovGame
from regretgap.learners._common import (
    check_demos,
    check_policy_class,
    check_rng,
    check_rounds,
    loss_best_responses,
    normalise,
    tv,
)


class BladesHistory(NamedTuple):
    """Per-round record (tuples of length ``rounds``).

    Attributes:
        loss: ``l_BLADES(sigma_n)`` (eq. 7 with TV, unknown states counted as 1) when the
            round started, ``max_i`` of the per-agent values divided by ``H``.
        agent: the agent attaining it.
        queries: cumulative expert queries after the round.
        validation: the loss of every iterate ``sigma^(1..N+1)`` (length ``rounds + 1``)
            recomputed with every label collected.
    """

    loss: tuple[float, ...]
    agent: tuple[int, ...]
    queries: tuple[int, ...]
    validation: tuple[float, ...]


class BladesResult(NamedTuple):
    """Attributes: policy ``[H, S, A]`` (best iterate); history; best_round (0: the initial
    iterate); queries (expert queries made)."""

    policy: np.ndarray
    history: BladesHistory
    best_round: int
    queries: int


def _loss(
    game: MarkovGame, sigma: np.ndarray, label: np.ndarray, known: np.ndarray, kind: Any
) -> tuple[float, int, tuple[np.ndarray, ...]]:
    ell = np.where(known, tv(label, sigma), 1.0)
    values, deviations = loss_best_responses(game, sigma, ell, kind)
    i = int(np.argmax(values))
    return float(values[i]) / game.horizon, i, deviations


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
    """BLADES with a queryable expert.

    Args:
        game: the game's transitions are simulated; its rewards are never read.
        expert: answers ``sigma_E(. | h, s)`` and counts queries.
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
    rng = check_rng(rng)
    rounds = check_rounds(rounds)
    cls = check_policy_class(policy_class)
    if not isinstance(expert, QueryableExpert):
        raise ValidationError(f"expert must be a QueryableExpert, got {type(expert).__name__}")
    if rollouts < 1:
        raise ValidationError(f"rollouts must be >= 1, got {rollouts}")
    shape = (game.horizon, game.num_states, game.num_joint_actions)
    label = np.zeros(shape)
    known = np.zeros(shape[:2], dtype=bool)
    counts = np.zeros(shape)
    if demos is not None:
        counts += check_demos(game, demos).counts(game)
        label, known = normalise(counts)
    start = expert.queries
    iterates = [cls.fit(counts)]
    losses, agents, queries = [], [], []
    for _ in range(rounds):
        sigma = iterates[-1]
        loss, worst, deviations = _loss(game, sigma, label, known, kind)
        losses.append(loss)
        agents.append(worst)
        for i, phi in enumerate(deviations):
            states, _, _ = rollout(game, sigma, rollouts, rng=rng, agent=i, deviation=phi)
            h = np.broadcast_to(np.arange(game.horizon), states.shape).ravel()
            s = states.ravel()
            pairs = np.unique(np.stack([h, s], axis=1), axis=0)
            new = pairs[~known[pairs[:, 0], pairs[:, 1]]]
            if len(new):
                label[new[:, 0], new[:, 1]] = expert.query(new[:, 0], new[:, 1])
                known[new[:, 0], new[:, 1]] = True
            # aggregate: every visit adds the expert's answer at that (h, s)
            np.add.at(counts, (h, s), label[h, s])
        queries.append(expert.queries - start)
        iterates.append(cls.fit(counts))
    validation = [_loss(game, sig, label, known, kind)[0] for sig in iterates]
    best = int(np.argmin(validation))  # the earliest of equally good iterates
    return BladesResult(
        policy=iterates[best],
        history=BladesHistory(tuple(losses), tuple(agents), tuple(queries), tuple(validation)),
        best_round=best,
        queries=expert.queries - start,
    )
