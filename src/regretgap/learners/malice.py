"""MALICE: Multi-agent Aggregation of Losses to Imitate Cached Experts (Algorithm 1, eq. 6).

Per round ``n``: the deviation maximising the importance-weighted loss
``max_i max_phi E_{s ~ d_E}[d^{pi_{sigma_n, phi}}(s) / d_E(s) * TV(sigma_E(s), sigma_n(s))]``
is the core's best response to the state reward ``ell_h(s)`` (the disagreement on data);
its state distribution divided by the expert's gives per-``(h, s)`` weights; the round's
loss is the weighted log-loss on the demonstrations; follow-the-leader refits on the summed
weighted counts; the best iterate on held-out demonstrations is returned.

Coverage (Assumption 5.2): if a deviation from the current iterate reaches an ``(h, s)``
that no demonstration visits, the weights are undefined and :class:`CoverageError` names
those states, unless ``clip_weights=True`` (such states are then ignored and weights are
capped at ``max_weight``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from regretgap.deviations import apply_deviation
from regretgap.errors import CoverageError, ValidationError
from regretgap.evaluation import deviation_reachable, state_distribution
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


class MaliceHistory(NamedTuple):
    """Per-round record.

    Attributes:
        loss: ``l_MALICE(sigma_n)`` with TV on the training demonstrations (``rounds``).
        agent: the agent whose deviation attains it.
        max_weight: the largest importance weight of the round.
        validation: the same loss of every iterate on held-out demonstrations
            (``rounds + 1``, the initial J-BC iterate first).
    """

    loss: tuple[float, ...]
    agent: tuple[int, ...]
    max_weight: tuple[float, ...]
    validation: tuple[float, ...]


class MaliceResult(NamedTuple):
    """Attributes: policy ``[H, S, A]`` (best iterate); history; best_round (0: J-BC)."""

    policy: np.ndarray
    history: MaliceHistory
    best_round: int


def malice_loss(
    game: MarkovGame, sigma: np.ndarray, counts: np.ndarray, kind: Any = "ce"
) -> tuple[float, int, np.ndarray]:
    """Eq. (6) with TV on demonstration counts ``[H, S, A]``: ``(loss, agent, deviation)``.

    ``E_{s ~ d_E}[d^{dev}/d_E * ell] = E_{s ~ d^{dev}}[ell]`` on covered states, so the inner
    max is a best response to ``ell_h(s) = TV(emp_h(s), sigma_h(s))`` (0 where uncovered).
    """
    emp, covered = normalise(counts)
    ell = np.where(covered, tv(emp, sigma), 0.0)
    values, deviations = loss_best_responses(game, sigma, ell, kind)
    i = int(np.argmax(values))
    return float(values[i]) / game.horizon, i, deviations[i]


def _uncovered(game: MarkovGame, sigma: np.ndarray, covered: np.ndarray) -> np.ndarray:
    reach = deviation_reachable(game, sigma)
    return np.argwhere(reach & ~covered)


def malice(
    game: MarkovGame,
    demos: Any,
    *,
    rng: np.random.Generator,
    rounds: int = 8,
    policy_class: Any = None,
    validation_fraction: float = 0.2,
    clip_weights: bool = False,
    max_weight: float = 1e3,
    kind: Any = "ce",
) -> MaliceResult:
    """MALICE from expert demonstrations under coverage.

    Args:
        game: transitions are simulated to compute deviation state distributions; rewards
            are never read.
        demos: obedient expert demonstrations.
        rng: the train/validation split.
        rounds: ``N``.
        policy_class: default tabular.
        validation_fraction: share of trajectories held out to pick the best iterate.
        clip_weights: proceed when coverage fails, ignoring uncovered states and capping
            weights at ``max_weight``.
        kind: the deviation class the adversary optimises over.

    Raises:
        CoverageError: a deviation reaches states the demonstrations never cover (its
            ``states`` attribute lists them), unless ``clip_weights``.
    """
    rng = check_rng(rng)
    rounds = check_rounds(rounds)
    cls = check_policy_class(policy_class)
    if max_weight <= 0:
        raise ValidationError(f"max_weight must be > 0, got {max_weight}")
    train, held = check_demos(game, demos).split(validation_fraction, rng)
    counts = train.counts(game)
    val_counts = held.counts(game)
    _, covered = normalise(counts)
    d_expert = counts.sum(axis=-1) / len(train)  # empirical d_{E,h}(s)
    iterates = [cls.fit(counts)]
    total = np.zeros_like(counts)
    losses, agents, weights_max = [], [], []
    for _ in range(rounds):
        sigma = iterates[-1]
        missing = _uncovered(game, sigma, covered)
        if missing.size and not clip_weights:
            states = np.unique(missing[:, 1])
            raise CoverageError(
                f"coverage fails: deviations from the current mediator reach states "
                f"{states.tolist()} (at (h, s) = {[tuple(p) for p in missing.tolist()][:10]}) "
                f"that the expert's demonstrations never visit; MALICE's importance weights "
                f"are undefined there. Pass clip_weights=True to ignore them, or use BLADES "
                f"with a queryable expert.",
                missing,
            )
        loss, worst, phi = malice_loss(game, sigma, counts, kind)
        losses.append(loss)
        agents.append(worst)
        d_dev = state_distribution(game, apply_deviation(game, sigma, worst, phi))
        w = np.divide(d_dev, d_expert, out=np.zeros_like(d_dev), where=covered)
        w = np.minimum(w, max_weight) if clip_weights else w
        weights_max.append(float(w.max()))
        total += w[..., None] * counts
        iterates.append(cls.fit(total))
    validation = [malice_loss(game, sig, val_counts, kind)[0] for sig in iterates]
    best = int(np.argmin(validation))
    return MaliceResult(
        policy=iterates[best],
        history=MaliceHistory(tuple(losses), tuple(agents), tuple(weights_max), tuple(validation)),
        best_round=best,
    )
