"""Sampled (simulator-based) counterparts of the exact core (issue 9).

What lives here learns from a reward-free :class:`~regretgap.Simulator` and a mediator that
samples recommendations; the exact core in :mod:`regretgap.evaluation` scores the results.
"""

from __future__ import annotations

from typing import Any

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
    "MediatorPolicy",
    "ObservationTable",
    "Recommender",
    "Samples",
    "collect",
    "demonstrations",
    "fitted_q_adversary",
    "from_demonstrations",
    "policy_recommender",
    "tabular_q_adversary",
]


def __getattr__(name: str) -> Any:
    # NeuralMediator needs the [torch] extra: import it on first use, so that the rest of
    # regretgap.sampled imports without torch (it is not in __all__ for the same reason)
    if name == "NeuralMediator":
        from regretgap.sampled.neural import NeuralMediator

        return NeuralMediator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
