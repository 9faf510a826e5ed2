"""Exceptions raised at the library's boundary.

Every malformed input raises a subclass of :class:`ValueError` whose message names what is
wrong and where (the offending state, joint action, step, shape or value).
"""

from __future__ import annotations


class ValidationError(ValueError):
    """An input (game, policy, deviation table, option) is malformed."""
