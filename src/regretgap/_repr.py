"""One-line representations of result types: arrays as their shapes, numbers short.

A result such as :class:`~regretgap.sampled.GapEstimate` holds arrays and nested results;
the default ``NamedTuple`` repr prints every entry (30 lines for one estimate), and a
dataclass's (:class:`~regretgap.Trajectories`: 86 lines for 10 episodes) as well. Here a
field that is an array shows as ``array[H, S, A]`` (its shape), a float with 6 significant
digits, a nested result by its first field, and a long tuple or a dict by its length.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np


def _names(value: Any) -> list[str]:
    """The fields a ``NamedTuple`` or dataclass shows (a dataclass's ``repr=True`` ones)."""
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return list(value._fields)
    return [f.name for f in dataclasses.fields(value) if f.repr]


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray):
        if value.ndim == 1 and value.size <= 4:
            return "[" + ", ".join(_short(v) for v in value.tolist()) + "]"
        return "array[" + ", ".join(str(n) for n in value.shape) + "]"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    # a nested result: its headline
    if (isinstance(value, tuple) and hasattr(value, "_fields")) or (
        dataclasses.is_dataclass(value) and not isinstance(value, type)
    ):
        first = _names(value)[0]
        return f"{type(value).__name__}({first}={_short(getattr(value, first))}, ...)"
    if isinstance(value, dict):
        return f"dict[{len(value)}]"
    if isinstance(value, (tuple, list)):
        if len(value) > 4 or any(isinstance(v, np.ndarray) for v in value):
            return f"{type(value).__name__}[{len(value)}]"
        return "(" + ", ".join(_short(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if callable(value):
        return getattr(value, "__name__", type(value).__name__)
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def short_repr(self: Any) -> str:
    """``Name(field=short, ...)`` for a ``NamedTuple`` or dataclass result."""
    return (
        f"{type(self).__name__}("
        + ", ".join(f"{name}={_short(getattr(self, name))}" for name in _names(self))
        + ")"
    )
