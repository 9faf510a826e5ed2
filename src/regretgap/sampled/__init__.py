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
from regretgap.sampled.blades import (
    BladesHistory,
    BladesResult,
    blades,
    blades_episodes_per_round,
    dagger,
)
from regretgap.sampled.data import (
    BudgetExhausted,
    CountingExpert,
    Samples,
    collect,
    demonstrations,
    from_demonstrations,
)
from regretgap.sampled.jbc import JBCHistory, JBCResult, jbc
from regretgap.sampled.policies import (
    JointPolicy,
    LogLinearMediator,
    MediatorPolicy,
    ObservationTable,
)

__all__ = [
    "AdversaryResult",
    "BladesHistory",
    "BladesResult",
    "BudgetExhausted",
    "CountingExpert",
    "Deviation",
    "JBCHistory",
    "JBCResult",
    "JointPolicy",
    "LogLinearMediator",
    "MediatorPolicy",
    "ObservationTable",
    "Recommender",
    "Samples",
    "blades",
    "blades_episodes_per_round",
    "collect",
    "dagger",
    "demonstrations",
    "fitted_q_adversary",
    "from_demonstrations",
    "jbc",
    "policy_recommender",
    "tabular_q_adversary",
]
