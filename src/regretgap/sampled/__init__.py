"""Sampled (simulator-based) counterparts of the exact core (issue 9).

What lives here learns from a reward-free :class:`~regretgap.Simulator` and a mediator that
samples recommendations; the exact core in :mod:`regretgap.evaluation` scores the results.
"""

from __future__ import annotations

from regretgap.sampled.adversary import (
    AdversaryResult,
    Deviation,
    Recommender,
    fitted_q_adversary,
    policy_recommender,
    tabular_q_adversary,
)
from regretgap.sampled.data import (
    BudgetExhausted,
    CountingExpert,
    Samples,
    collect,
    demonstrations,
    from_demonstrations,
)
from regretgap.sampled.malice import MaliceHistory, MaliceResult, alice, malice
from regretgap.sampled.policies import (
    JointPolicy,
    LogLinearMediator,
    MediatorPolicy,
    ObservationTable,
)

__all__ = [
    "AdversaryResult",
    "BudgetExhausted",
    "CountingExpert",
    "Deviation",
    "JointPolicy",
    "LogLinearMediator",
    "MaliceHistory",
    "MaliceResult",
    "MediatorPolicy",
    "ObservationTable",
    "Recommender",
    "Samples",
    "alice",
    "collect",
    "demonstrations",
    "fitted_q_adversary",
    "from_demonstrations",
    "malice",
    "policy_recommender",
    "tabular_q_adversary",
]
