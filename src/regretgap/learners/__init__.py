"""The learners (paper sections 4.4 and 5): J-BC, J-IRL, MALICE, BLADES, and the
single-agent analogues MALICE and BLADES improve on: ALICE and DAgger; and the Nash
papers' MURMAIL and MAIL-BRO (Freihaut et al., NeurIPS 2025), per-agent policies.

Plain functions returning result NamedTuples with ``.policy [H, S, A]`` and ``.history``.
They may simulate the game (its transitions) but never read its rewards.
"""

from regretgap.learners.cloning import JBCHistory, JBCResult, jbc
from regretgap.learners.inverse import JIRLHistory, JIRLResult, jirl, soft_value_iteration
from regretgap.learners.nash_imitation import (
    MurmailHistory,
    MurmailResult,
    mail_bro,
    mirror_descent_step,
    murmail,
    uncertainty,
    uncertainty_reward,
)
from regretgap.learners.querying import BladesHistory, BladesResult, blades, dagger
from regretgap.learners.reweighting import (
    MaliceHistory,
    MaliceResult,
    alice,
    alice_loss,
    malice,
    malice_loss,
)

__all__ = [
    "BladesHistory",
    "BladesResult",
    "JBCHistory",
    "JBCResult",
    "JIRLHistory",
    "JIRLResult",
    "MaliceHistory",
    "MaliceResult",
    "MurmailHistory",
    "MurmailResult",
    "alice",
    "alice_loss",
    "blades",
    "dagger",
    "jbc",
    "jirl",
    "mail_bro",
    "malice",
    "malice_loss",
    "mirror_descent_step",
    "murmail",
    "soft_value_iteration",
    "uncertainty",
    "uncertainty_reward",
]
