"""The learners (paper sections 4.4 and 5): J-BC, J-IRL, MALICE, BLADES, and the
single-agent analogues MALICE and BLADES improve on: ALICE and DAgger.

Plain functions returning result NamedTuples with ``.policy [H, S, A]`` and ``.history``.
They may simulate the game (its transitions) but never read its rewards.
"""

from regretgap.learners.blades import BladesHistory, BladesResult, blades, dagger
from regretgap.learners.jbc import JBCHistory, JBCResult, jbc
from regretgap.learners.jirl import JIRLHistory, JIRLResult, jirl, soft_value_iteration
from regretgap.learners.malice import (
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
    "alice",
    "alice_loss",
    "blades",
    "dagger",
    "jbc",
    "jirl",
    "malice",
    "malice_loss",
    "soft_value_iteration",
]
