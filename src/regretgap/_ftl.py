"""Follow-the-leader: the outer loop MALICE, BLADES, ALICE and DAgger share, on both back ends.

Algorithms 1 and 2 of the paper run ``N`` rounds; round ``n`` plays the latest iterate
``sigma_n`` (a deviated or plain roll-in, its answers or weights), adds what it learned to
an aggregate, and fits ``sigma_{n+1}`` on the whole aggregate (follow-the-leader: one fit on
every round's loss summed, not a gradient step on the last). The returned mediator is the
iterate with the least validation loss, the earliest of equal ones.

What the aggregate *is* differs per learner (soft counts ``[H, S, A]``, a list of answer
samples, a weight vector over demonstrations), so the learner owns it: its ``play`` adds to
it and its ``refit`` fits on it. This module owns the loop, the early stop and the choice
of the best iterate, written once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

P = TypeVar("P")


@dataclass(frozen=True)
class Leader(Generic[P]):
    """The outcome of :func:`follow_the_leader`.

    Attributes:
        iterates: ``sigma_1 .. sigma_{n+1}``: the first iterate and one per round played.
        validation: each iterate's validation loss (same length).
        best: index of the returned iterate (``argmin`` of ``validation``, earliest on ties).
    """

    iterates: tuple[P, ...]
    validation: tuple[float, ...]
    best: int

    @property
    def policy(self) -> P:
        """The best iterate, ``iterates[best]``."""
        return self.iterates[self.best]


def follow_the_leader(
    first: P,
    rounds: int,
    play: Callable[[P], bool],
    refit: Callable[[], P],
    validate: Callable[[Sequence[P]], Sequence[float]],
) -> Leader[P]:
    """Run up to ``rounds`` follow-the-leader rounds from ``first`` and pick the best iterate.

    Args:
        first: ``sigma_1``, fitted by the caller (on the demonstrations, or on nothing).
        rounds: the most rounds to play.
        play: one round against the latest iterate; it adds that round's data to the
            caller's aggregate (and records the round's history). Returning ``False``
            before adding anything ends the loop early (a spent query budget): the rounds
            played so far are kept.
        refit: ``sigma_{n+1}``, fitted on the aggregate as it is after round ``n``.
        validate: the validation loss of every iterate, called once after the last round
            (a learner may score there with every label it has collected).

    Returns:
        :class:`Leader` with the iterates, their validation losses and the best index.
    """
    iterates = [first]
    for _ in range(rounds):
        if not play(iterates[-1]):
            break
        iterates.append(refit())
    validation = tuple(float(v) for v in validate(iterates))
    if len(validation) != len(iterates):
        raise RuntimeError(
            f"validate returned {len(validation)} losses for {len(iterates)} iterates"
        )
    best = int(np.argmin(validation))  # the earliest of equally good iterates
    return Leader(tuple(iterates), validation, best)
