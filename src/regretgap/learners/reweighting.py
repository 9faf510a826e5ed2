"""MALICE (Algorithm 1, eq. 6) and its single-agent analogue ALICE (Spencer et al., 2021).

Per round ``n``: the deviation maximising the importance-weighted loss
``max_i max_phi E_{s ~ d_E}[d^{pi_{sigma_n, phi}}(s) / d_E(s) * TV(sigma_E(s), sigma_n(s))]``
is the core's best response to the state reward ``ell_h(s)`` (the disagreement on data);
its state distribution divided by the expert's gives per-``(h, s)`` weights; the round's
loss is the weighted log-loss on the demonstrations; follow-the-leader refits on the summed
weighted counts; the best iterate on held-out demonstrations is returned.

ALICE is the same loop without deviations: its weights are ``d^{pi_{sigma_n}} / d_E`` (the
learner's own state distribution over the expert's), so it corrects the covariate shift of
obedient play only, not the one a strategic agent causes.

With an unrestricted tabular class the weights cancel (the weighted per-state fit is the
empirical expert distribution wherever there is data), so MALICE and ALICE return J-BC's
policy; they differ from J-BC only with a class that shares parameters across states.

Coverage (Assumption 5.2): if a deviation from the current iterate reaches an ``(h, s)``
that no demonstration visits, the weights are undefined and :class:`CoverageError` names
those states, unless ``clip_weights=True`` (such states are then ignored and weights are
capped at ``max_weight``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from regretgap._checks import check_count, check_rng
from regretgap._ftl import follow_the_leader
from regretgap._repr import short_repr
from regretgap.deviations import apply_deviation
from regretgap.diagnostics import deviation_reachable
from regretgap.errors import CoverageError, ValidationError
from regretgap.evaluation import state_distribution
from regretgap.game import MarkovGame
from regretgap.learners._common import (
    check_demos,
    check_policy_class,
    normalise,
)
from regretgap.losses import deviation_losses, tv


class MaliceHistory(NamedTuple):
    """Per-round record.

    Attributes:
        loss: ``l_MALICE(sigma_n)`` with TV on the training demonstrations (``rounds``).
        agent: the agent whose deviation attains it.
        max_weight: the largest importance weight of the round.
        ess: the effective sample size of the round's weighted demonstrations,
            ``(sum_j w_j)^2 / sum_j w_j^2`` over the training visits ``j``.
        validation: the same loss of every iterate on held-out demonstrations
            (``rounds + 1``, the initial J-BC iterate first).
    """

    def __repr__(self) -> str:
        return short_repr(self)

    loss: tuple[float, ...]
    agent: tuple[int, ...]
    max_weight: tuple[float, ...]
    ess: tuple[float, ...]
    validation: tuple[float, ...]


class MaliceResult(NamedTuple):
    """Attributes: policy ``[H, S, A]`` (best iterate); history; best_round (0: J-BC);
    iterates (every fitted ``sigma^(1..N+1)``, ``[H, S, A]`` each, in order)."""

    def __repr__(self) -> str:
        return short_repr(self)

    policy: np.ndarray
    history: MaliceHistory
    best_round: int
    iterates: tuple = ()


def malice_loss(
    game: MarkovGame, sigma: np.ndarray, counts: np.ndarray, kind: Any = "ce"
) -> tuple[float, int, np.ndarray]:
    """Eq. (6) with TV on demonstration counts ``[H, S, A]``: ``(loss, agent, deviation)``.

    ``E_{s ~ d_E}[d^{dev}/d_E * ell] = E_{s ~ d^{dev}}[ell]`` on covered states, so the inner
    max is a best response to ``ell_h(s) = TV(emp_h(s), sigma_h(s))`` (0 where uncovered).
    """
    emp, covered = normalise(counts)
    ell = np.where(covered, tv(emp, sigma), 0.0)
    values, deviations = deviation_losses(game, sigma, ell, kind)
    i = int(np.argmax(values))
    return float(values[i]) / game.horizon, i, deviations[i]


def alice_loss(game: MarkovGame, sigma: np.ndarray, counts: np.ndarray) -> float:
    """ALICE's loss with TV: ``E_{s ~ d^{pi_sigma}}[TV(emp(s), sigma(s))]`` on covered states."""
    emp, covered = normalise(counts)
    ell = np.where(covered, tv(emp, sigma), 0.0)
    return float((state_distribution(game, sigma) * ell).sum()) / game.horizon


def _uncovered(
    game: MarkovGame, sigma: np.ndarray, covered: np.ndarray, deviate: bool
) -> np.ndarray:
    """``(h, s)`` pairs ``sigma`` reaches (under some deviation if ``deviate``) without data."""
    reach = deviation_reachable(game, sigma) if deviate else state_distribution(game, sigma) > 0
    return np.argwhere(reach & ~covered)


def _reweighting_loop(
    game: MarkovGame,
    demos: Any,
    *,
    rng: np.random.Generator,
    rounds: int,
    policy_class: Any,
    validation_fraction: float,
    clip_weights: bool,
    max_weight: float,
    kind: Any,
    deviate: bool,
) -> MaliceResult:
    rng = check_rng(rng)
    rounds = check_count("rounds", rounds)
    cls = check_policy_class(policy_class, game, rng)
    if not max_weight > 0:
        raise ValidationError(f"max_weight must be > 0, got {max_weight}")
    train, held = check_demos(game, demos).split(validation_fraction, rng)
    counts = train.counts(game)
    val_counts = held.counts(game)
    _, covered = normalise(counts)
    visits = counts.sum(axis=-1)  # [H, S] training visits
    d_expert = visits / len(train)  # empirical d_{E,h}(s)
    total = np.zeros_like(counts)
    losses, agents, weights_max, ess = [], [], [], []
    who = "deviations from the current mediator reach" if deviate else "the mediator reaches"

    def play(sigma: np.ndarray) -> bool:
        missing = _uncovered(game, sigma, covered, deviate)
        if missing.size and not clip_weights:
            states = np.unique(missing[:, 1])
            raise CoverageError(
                f"coverage fails: {who} states {states.tolist()} (at (h, s) = "
                f"{[tuple(p) for p in missing.tolist()][:10]}) that the expert's "
                f"demonstrations never visit; the importance weights are undefined there. "
                f"Pass clip_weights=True to ignore them, or use BLADES with a queryable expert.",
                missing,
            )
        if deviate:
            loss, worst, phi = malice_loss(game, sigma, counts, kind)
            played = apply_deviation(game, sigma, worst, phi)
        else:
            loss, worst, played = alice_loss(game, sigma, counts), -1, sigma
        losses.append(loss)
        agents.append(worst)
        d_learner = state_distribution(game, played)
        w = np.divide(d_learner, d_expert, out=np.zeros_like(d_learner), where=covered)
        w = np.minimum(w, max_weight) if clip_weights else w
        weights_max.append(float(w.max()))
        ess.append(float((visits * w).sum() ** 2 / max((visits * w**2).sum(), 1e-300)))
        total[...] += w[..., None] * counts  # every round's loss, summed
        return True

    def validate(iterates: Sequence[np.ndarray]) -> list[float]:
        if deviate:
            return [malice_loss(game, sig, val_counts, kind)[0] for sig in iterates]
        return [alice_loss(game, sig, val_counts) for sig in iterates]

    leader = follow_the_leader(cls.fit(counts), rounds, play, lambda: cls.fit(total), validate)
    return MaliceResult(
        policy=leader.policy,
        history=MaliceHistory(
            tuple(losses), tuple(agents), tuple(weights_max), tuple(ess), leader.validation
        ),
        best_round=leader.best,
        iterates=leader.iterates,
    )


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
    """MALICE from expert demonstrations under coverage (Algorithm 1).

    Args:
        game: transitions are simulated to compute deviation state distributions; rewards
            are never read.
        demos: obedient expert demonstrations.
        rng: the train/validation split.
        rounds: ``N``.
        policy_class: default tabular (then MALICE returns J-BC's policy: see the module
            docstring); use a class with shared parameters such as
            :class:`~regretgap.LogLinear`.
        validation_fraction: share of trajectories held out to pick the best iterate.
        clip_weights: proceed when coverage fails, ignoring uncovered states and capping
            weights at ``max_weight``.
        max_weight: the cap of clipped weights.
        kind: the deviation class the adversary optimises over.

    Returns:
        :class:`MaliceResult`; ``history`` records each round's loss, the largest
        importance weight and the effective sample size.

    Raises:
        CoverageError: a deviation reaches states the demonstrations never cover (its
            ``states`` attribute lists them), unless ``clip_weights``.
    """
    return _reweighting_loop(
        game,
        demos,
        rng=rng,
        rounds=rounds,
        policy_class=policy_class,
        validation_fraction=validation_fraction,
        clip_weights=clip_weights,
        max_weight=max_weight,
        kind=kind,
        deviate=True,
    )


def alice(
    game: MarkovGame,
    demos: Any,
    *,
    rng: np.random.Generator,
    rounds: int = 8,
    policy_class: Any = None,
    validation_fraction: float = 0.2,
    clip_weights: bool = False,
    max_weight: float = 1e3,
) -> MaliceResult:
    """ALICE over joint recommendations: MALICE without deviations (Spencer et al., 2021).

    Weights ``d^{pi_{sigma_n}} / d_E`` correct for the learner's own covariate shift; no
    agent deviates, so the states a strategic deviation reaches are weighted by how often
    obedient play visits them. The single-agent analogue the paper's MALICE improves on.
    Arguments and result as in :func:`malice` (``history.agent`` is ``-1``); coverage
    fails when the learner itself reaches states the demonstrations never visit.
    """
    return _reweighting_loop(
        game,
        demos,
        rng=rng,
        rounds=rounds,
        policy_class=policy_class,
        validation_fraction=validation_fraction,
        clip_weights=clip_weights,
        max_weight=max_weight,
        kind="ce",
        deviate=False,
    )
