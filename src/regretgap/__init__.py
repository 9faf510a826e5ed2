"""regretgap: the regret gap of multi-agent imitation learning, computed exactly.

Reference: "Multi-Agent Imitation Learning: Value is Easy, Regret is Hard". See README.md
for the API and MATH.md conventions (agent 0 slowest in the flat joint action, steps
``h = 0..H-1``).
"""

from regretgap.data import MonteCarloEstimate, Trajectories, monte_carlo_values, sample_trajectories
from regretgap.deviations import (
    DEVIATION_KINDS,
    apply_deviation,
    as_deviation,
    constant_deviation,
    identity_deviation,
    swap_deviations,
)
from regretgap.equilibria import SolverError, correlated_equilibrium, markov_ce
from regretgap.errors import ValidationError
from regretgap.evaluation import (
    BestResponse,
    Coverage,
    Recoverability,
    Regret,
    ValueFunctions,
    best_response,
    coverage,
    deviation_reachable,
    occupancy,
    recoverability,
    regret,
    regret_gap,
    state_distribution,
    value_functions,
    value_gap,
    values,
)
from regretgap.game import MarkovGame
from regretgap.policies import (
    as_policy,
    deterministic_policy,
    marginal,
    product_policy,
    uniform_policy,
)

__version__ = "0.1.0"

__all__ = [
    "DEVIATION_KINDS",
    "BestResponse",
    "Coverage",
    "MarkovGame",
    "MonteCarloEstimate",
    "Recoverability",
    "Regret",
    "SolverError",
    "Trajectories",
    "ValidationError",
    "ValueFunctions",
    "apply_deviation",
    "as_deviation",
    "as_policy",
    "best_response",
    "constant_deviation",
    "correlated_equilibrium",
    "coverage",
    "deterministic_policy",
    "deviation_reachable",
    "identity_deviation",
    "marginal",
    "markov_ce",
    "monte_carlo_values",
    "occupancy",
    "product_policy",
    "recoverability",
    "regret",
    "regret_gap",
    "sample_trajectories",
    "state_distribution",
    "swap_deviations",
    "uniform_policy",
    "value_functions",
    "value_gap",
    "values",
]
