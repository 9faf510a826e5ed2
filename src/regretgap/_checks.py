"""Argument checks shared by every layer: counts, probabilities, generators, agents and
simulators. Each raises :class:`~regretgap.ValidationError` naming the argument and what
it got, before any work. This module imports nothing of the library but its errors, so
any module may use it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from regretgap.errors import ValidationError

#: What a :class:`~regretgap.Simulator` must have.
SIMULATOR_MEMBERS = ("num_actions", "horizon", "reset", "step", "observe")


def check_count(name: str, value: Any, *, minimum: int = 1) -> int:
    """``value`` as an ``int`` if it is an integer ``>= minimum`` (not a bool): rounds,
    roll-ins, episodes, budgets, sizes.

    Raises:
        ValidationError: ``"{name} must be a positive integer, got ..."`` (``minimum = 1``)
            or ``"{name} must be an integer >= {minimum}, got ..."``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValidationError(f"{name} must be {what}, got {value!r}")
    return int(value)


def check_probability(name: str, value: Any) -> float:
    """``value`` as a ``float`` if it is a number in ``[0, 1]`` (not a bool)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not 0 <= value <= 1
    ):
        raise ValidationError(f"{name} must be a probability in [0, 1], got {value!r}")
    return float(value)


def check_fraction(name: str, value: Any) -> float:
    """``value`` as a ``float`` if it is a number strictly between 0 and 1 (not a bool):
    held-out fractions, confidence levels."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not 0 < value < 1
    ):
        raise ValidationError(f"{name} must lie in (0, 1), got {value!r}")
    return float(value)


def check_rng(rng: Any, name: str = "rng") -> np.random.Generator:
    """``rng`` if it is a ``numpy.random.Generator`` (every random choice takes one)."""
    if not isinstance(rng, np.random.Generator):
        raise ValidationError(f"{name} must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng


def check_agent(agent: Any, num_agents: int, name: str = "agent") -> int:
    """``agent`` as an ``int`` index in ``0 .. num_agents - 1``."""
    if isinstance(agent, bool) or not isinstance(agent, (int, np.integer)):
        raise ValidationError(f"{name} must be an int, got {agent!r}")
    if not 0 <= agent < num_agents:
        raise ValidationError(f"{name} must be in 0..{num_agents - 1}, got {agent}")
    return int(agent)


def check_simulator_members(sim: Any, *, reward_free: bool = False) -> tuple[tuple[int, ...], int]:
    """``(num_actions, H)`` of an object with the :class:`~regretgap.Simulator` members.

    Args:
        sim: the simulator.
        reward_free: refuse an object carrying rewards (a learner's input: pass
            ``game.simulator(features)``, never a game).

    Raises:
        ValidationError: a missing member (all named), rewards where ``reward_free``,
            ``num_actions`` not positive ints, ``horizon`` not a positive int.
    """
    if reward_free and (hasattr(sim, "rewards") or hasattr(sim, "reward")):
        raise ValidationError(
            f"{type(sim).__name__} carries rewards: learners take a reward-free Simulator "
            "such as game.simulator(features)"
        )
    missing = [k for k in SIMULATOR_MEMBERS if not hasattr(sim, k)]
    if missing:
        raise ValidationError(
            f"{type(sim).__name__} is not a Simulator: it lacks {missing} "
            "(pass game.simulator(features), never a game)"
        )
    sizes = tuple(sim.num_actions)
    if not sizes or any(
        isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1 for k in sizes
    ):
        raise ValidationError(f"simulator num_actions must be positive ints, got {sizes!r}")
    horizon = check_count("simulator horizon", sim.horizon)
    return tuple(int(k) for k in sizes), horizon
