"""Exceptions raised at the library's boundary.

Every malformed input raises a subclass of :class:`ValueError` whose message names what is
wrong and where (the offending state, joint action, step, shape or value).
"""

from __future__ import annotations

import numpy as np


class ValidationError(ValueError):
    """An input (game, policy, deviation table, option) is malformed."""


class FileFormatError(ValidationError):
    """A file is not a valid regretgap file (truncated, corrupt, wrong kind or schema) or
    not a valid TNTP file (a field that does not parse, a missing field, a wrong total)."""


class CoverageError(ValidationError):
    """Expert data does not cover a state that a deviation reaches (Assumption 5.2 fails).

    Attributes:
        pairs: the uncovered ``(h, s)`` pairs, ``[k, 2]`` ints.
        states: the distinct uncovered states.
    """

    def __init__(self, message: str, pairs: np.ndarray) -> None:
        super().__init__(message)
        self.pairs = pairs
        self.states = np.unique(pairs[:, 1]) if len(pairs) else pairs[:0, 1]
