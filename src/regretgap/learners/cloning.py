"""J-BC: joint behaviour cloning (paper section 4.4, Appendix B.1, Theorem 4.9).

``min_sigma E_{s ~ d_E} ell(sigma_E(s), sigma(s))`` with the log-loss on demonstrated joint
recommendations: one weighted maximum-likelihood fit of the policy class on visit counts.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from regretgap._repr import short_repr
from regretgap.game import MarkovGame
from regretgap.learners._common import check_demos, check_policy_class, normalise
from regretgap.losses import tv


class JBCHistory(NamedTuple):
    """Training record of J-BC (one fit).

    Attributes:
        log_loss: mean negative log-likelihood of the demonstrations.
        bc_error: ``E_{(h,s) ~ data} TV(empirical sigma_E(h, s), sigma(h, s))``.
    """

    def __repr__(self) -> str:
        return short_repr(self)

    log_loss: float
    bc_error: float


class JBCResult(NamedTuple):
    """Attributes: policy ``[H, S, A]``; history :class:`JBCHistory`."""

    def __repr__(self) -> str:
        return short_repr(self)

    policy: np.ndarray
    history: JBCHistory


def jbc(game: MarkovGame, demos: Any, *, policy_class: Any = None, rng: Any = None) -> JBCResult:
    """Joint behaviour cloning from expert demonstrations.

    Args:
        game: used for its sizes only.
        demos: :class:`~regretgap.Trajectories` or :class:`~regretgap.data.Demonstrations`
            of obedient expert play (rewards are dropped unread).
        policy_class: a :class:`~regretgap.policy_classes.PolicyClass` (default
            :class:`~regretgap.policy_classes.Tabular`, uniform where there is no data), or
            a sampled :class:`~regretgap.sampled.MediatorPolicy` (fitted on one-hot
            features of ``(h, s)``; then ``rng`` is required).
        rng: the mediator class's fits draw from it (J-BC itself draws nothing).

    Returns:
        :class:`JBCResult`.
    """
    d = check_demos(game, demos)
    cls = check_policy_class(policy_class, game, rng)
    counts = d.counts(game)
    sigma = cls.fit(counts)
    return JBCResult(sigma, bc_history(counts, sigma))


def bc_history(counts: np.ndarray, sigma: np.ndarray) -> JBCHistory:
    """Log-loss and TV error of ``sigma`` on demonstration counts ``[H, S, A]``."""
    total = counts.sum()
    with np.errstate(divide="ignore"):
        logp = np.where(counts > 0, np.log(np.maximum(sigma, 1e-300)), 0.0)
    emp, covered = normalise(counts)
    weight = counts.sum(axis=-1) / total
    return JBCHistory(
        log_loss=float(-(counts * logp).sum() / total),
        bc_error=float((weight * np.where(covered, tv(emp, sigma), 0.0)).sum()),
    )
