"""Sampled (simulator-based) counterparts of the exact core.

What lives here learns from a reward-free :class:`~regretgap.Simulator` and a mediator that
samples recommendations; :mod:`regretgap.sampled.evaluation` (or the exact core in
:mod:`regretgap.evaluation`) scores the results from the agents' utilities. The evaluation
names are exported lazily: importing this package, or a learner in it, never loads
:mod:`regretgap.utilities`.
"""

from __future__ import annotations

from typing import Any

from regretgap.sampled.adversary import (
    AdversaryResult,
    Deviation,
    Recommender,
    as_recommender,
    fitted_q_adversary,
    policy_recommender,
    tabular_q_adversary,
)
from regretgap.sampled.cloning import JBCHistory, JBCResult, jbc
from regretgap.sampled.data import (
    BudgetExhausted,
    CountingExpert,
    Samples,
    collect,
    demonstrations,
    from_demonstrations,
)
from regretgap.sampled.nash_imitation import (
    MurmailPolicy,
    SampledMurmailHistory,
    SampledMurmailResult,
    murmail,
)
from regretgap.sampled.policies import (
    JointPolicy,
    LogLinearMediator,
    MediatorClass,
    MediatorPolicy,
    ObservationTable,
    ProductMediator,
)
from regretgap.sampled.querying import (
    BladesHistory,
    BladesResult,
    blades,
    blades_episodes_per_round,
    dagger,
)
from regretgap.sampled.reweighting import MaliceHistory, MaliceResult, alice, malice

# evaluation-only (they read Utilities): loaded on first access, see __getattr__
_EVALUATION = ("GapEstimate", "RegretEstimate", "estimate_gaps", "estimate_regret")

__all__ = [
    "AdversaryResult",
    "BladesHistory",
    "BladesResult",
    "BudgetExhausted",
    "CountingExpert",
    "Deviation",
    "GapEstimate",
    "JBCHistory",
    "JBCResult",
    "JointPolicy",
    "LogLinearMediator",
    "MaliceHistory",
    "MaliceResult",
    "MediatorClass",
    "MediatorPolicy",
    "MurmailPolicy",
    "ObservationTable",
    "ProductMediator",
    "Recommender",
    "RegretEstimate",
    "SampledMurmailHistory",
    "SampledMurmailResult",
    "Samples",
    "alice",
    "as_recommender",
    "blades",
    "blades_episodes_per_round",
    "collect",
    "dagger",
    "demonstrations",
    "estimate_gaps",
    "estimate_regret",
    "fitted_q_adversary",
    "from_demonstrations",
    "jbc",
    "malice",
    "murmail",
    "policy_recommender",
    "tabular_q_adversary",
]


def __getattr__(name: str) -> Any:
    if name in _EVALUATION:
        from regretgap.sampled import evaluation

        return getattr(evaluation, name)
    # NeuralMediator needs the [torch] extra: import it on first use, so that the rest of
    # regretgap.sampled imports without torch (it is not in __all__ for the same reason)
    if name == "NeuralMediator":
        from regretgap.sampled.neural import NeuralMediator

        return NeuralMediator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EVALUATION) | {"NeuralMediator"})
