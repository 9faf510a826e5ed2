"""Experiments: one claim of the paper per module, each with an importable ``main(args)``.

:func:`run_sweep` runs any list of :class:`RunSpec` serially, over local processes or on
Ray (``regretgap[ray]``), yielding each run as it finishes.
"""

from regretgap.experiments._suite import RunSpec
from regretgap.experiments.sweep import Finished, run_sweep

__all__ = ["Finished", "RunSpec", "run_sweep"]
