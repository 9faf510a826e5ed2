"""regretgap: the regret gap of multi-agent imitation learning, computed exactly.

Reference: "Multi-Agent Imitation Learning: Value is Easy, Regret is Hard". See README.md
for the API and docs/MATH.md conventions (agent 0 slowest in the flat joint action, steps
``h = 0..H-1``).
"""

from typing import TYPE_CHECKING, Any

from regretgap.data import (
    Demonstrations,
    MonteCarloEstimate,
    QueryableExpert,
    Trajectories,
    as_demonstrations,
    monte_carlo_values,
    rollout,
    sample_trajectories,
)
from regretgap.deviations import (
    DEVIATION_KINDS,
    apply_deviation,
    as_deviation,
    constant_deviation,
    identity_deviation,
    swap_deviations,
)
from regretgap.diagnostics import (
    Coverage,
    Recoverability,
    coverage,
    deviation_reachable,
    recoverability,
)
from regretgap.equilibria import SolverError, correlated_equilibrium, markov_ce
from regretgap.errors import CoverageError, ValidationError
from regretgap.evaluation import (
    BestResponse,
    BestResponses,
    Regret,
    ValueFunctions,
    best_response,
    best_responses,
    occupancy,
    regret,
    regret_gap,
    state_distribution,
    value_functions,
    value_gap,
    values,
)
from regretgap.game import MarkovGame
from regretgap.learners import alice, blades, dagger, jbc, jirl, mail_bro, malice, murmail
from regretgap.losses import ImitationLosses, imitation_losses
from regretgap.memory import MemoryEstimate, memory_estimate
from regretgap.nash import Concentrability, NashGap, concentrability, nash_gap
from regretgap.oracles import BestResponseOracle, best_response_oracle
from regretgap.policies import (
    as_policy,
    deterministic_policy,
    marginal,
    normalize,
    product_policy,
    uniform_policy,
)
from regretgap.policy_classes import LogLinear, PolicyClass, ProductTabular, Tabular
from regretgap.simulator import Simulator
from regretgap.zero_sum import ZeroSumNash, zero_sum_nash

__version__ = "0.1.0"

# The evaluation-only utilities (regretgap.utilities) are exported lazily: importing the
# package, as every submodule import does (e.g. a sampled learner's ``import
# regretgap.sampled.adversary``), must not load what only evaluation may read.
_UTILITIES = ("Utilities", "game_utilities")
if TYPE_CHECKING:  # a type checker sees them (the runtime import stays lazy)
    from regretgap.utilities import Utilities, game_utilities


def __getattr__(name: str) -> Any:
    if name in _UTILITIES:
        from regretgap import utilities

        return getattr(utilities, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_UTILITIES))


__all__ = [
    "DEVIATION_KINDS",
    "BestResponse",
    "BestResponseOracle",
    "BestResponses",
    "Concentrability",
    "Coverage",
    "CoverageError",
    "Demonstrations",
    "ImitationLosses",
    "LogLinear",
    "MarkovGame",
    "MemoryEstimate",
    "MonteCarloEstimate",
    "NashGap",
    "PolicyClass",
    "ProductTabular",
    "QueryableExpert",
    "Recoverability",
    "Regret",
    "Simulator",
    "SolverError",
    "Tabular",
    "Trajectories",
    "Utilities",
    "ValidationError",
    "ValueFunctions",
    "ZeroSumNash",
    "alice",
    "apply_deviation",
    "as_demonstrations",
    "as_deviation",
    "as_policy",
    "best_response",
    "best_response_oracle",
    "best_responses",
    "blades",
    "concentrability",
    "constant_deviation",
    "correlated_equilibrium",
    "coverage",
    "dagger",
    "deterministic_policy",
    "deviation_reachable",
    "game_utilities",
    "identity_deviation",
    "imitation_losses",
    "jbc",
    "jirl",
    "mail_bro",
    "malice",
    "marginal",
    "markov_ce",
    "memory_estimate",
    "monte_carlo_values",
    "murmail",
    "nash_gap",
    "normalize",
    "occupancy",
    "product_policy",
    "recoverability",
    "regret",
    "regret_gap",
    "rollout",
    "sample_trajectories",
    "state_distribution",
    "swap_deviations",
    "uniform_policy",
    "value_functions",
    "value_gap",
    "values",
    "zero_sum_nash",
]
