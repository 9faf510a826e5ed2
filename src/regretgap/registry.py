"""The learners by name, with both back ends side by side: one table that the command
line, the experiments and the documentation read.

Each :class:`Learner` names the exact learner (on a :class:`~regretgap.MarkovGame`) and its
sampled counterpart (on a reward-free :class:`~regretgap.Simulator`), what it learns from
(demonstrations, or an expert it queries), the single-agent analogue it is compared with,
and the paper's algorithm. ``learner("malice").exact`` is :func:`regretgap.malice`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import regretgap.learners as exact
import regretgap.sampled as sampled
from regretgap.errors import ValidationError

DEMONSTRATIONS = "demonstrations"
QUERIES = "queries"


class Learner(NamedTuple):
    """One learner of the library.

    Attributes:
        name: the key (``"jbc"``), the CLI's ``regretgap learn NAME``.
        label: the name in reports (``"J-BC"``).
        learns_from: :data:`DEMONSTRATIONS` (``learner(game, demos, ...)``) or
            :data:`QUERIES` (``learner(game, expert, ...)``, ``expert`` a
            :class:`~regretgap.QueryableExpert`; demonstrations optional where accepted).
        exact: the exact learner (:mod:`regretgap.learners`).
        sampled: its sampled counterpart (:mod:`regretgap.sampled`), or ``None``.
        analogue: the key of the single-agent analogue it is judged against, or ``None``.
        paper: where the algorithm comes from.
        options: the optional keywords beyond the common ones (``rng``, ``rounds``,
            ``policy_class``, ``demos``) that the command line may pass.
    """

    name: str
    label: str
    learns_from: str
    exact: Callable[..., Any]
    sampled: Callable[..., Any] | None
    analogue: str | None
    paper: str
    options: tuple[str, ...] = ()


#: Every learner, in report order (each regret-gap learner after its analogue).
LEARNERS: dict[str, Learner] = {
    spec.name: spec
    for spec in (
        Learner("jbc", "J-BC", DEMONSTRATIONS, exact.jbc, sampled.jbc, None,
                "joint behaviour cloning, Section 4.4 (Theorem 5.3)"),
        Learner("jirl", "J-IRL", DEMONSTRATIONS, exact.jirl, None, None,
                "joint inverse RL, Section 4.4 (Theorem 5.3)"),
        Learner("alice", "ALICE", DEMONSTRATIONS, exact.alice, sampled.alice, None,
                "single-agent analogue of MALICE (Spencer et al.)", ("clip_weights",)),
        Learner("malice", "MALICE", DEMONSTRATIONS, exact.malice, sampled.malice, "alice",
                "Algorithm 1, eq. 6 (Theorem 5.7)", ("clip_weights",)),
        Learner("dagger", "DAgger", QUERIES, exact.dagger, sampled.dagger, None,
                "single-agent analogue of BLADES (Ross et al., 2011)", ("deviation_rate",)),
        Learner("blades", "BLADES", QUERIES, exact.blades, sampled.blades, "dagger",
                "Algorithm 2, eq. 7 (Theorem 5.9)"),
        Learner("murmail", "MURMAIL", QUERIES, exact.murmail, sampled.murmail, None,
                "Freihaut et al., NeurIPS 2025 (Nash gap)"),
        Learner("mail_bro", "MAIL-BRO", QUERIES, exact.mail_bro, None, "murmail",
                "Freihaut et al., NeurIPS 2025 (Nash gap, best-response oracle)"),
    )
}  # fmt: skip


def learner(name: str) -> Learner:
    """The :class:`Learner` called ``name``.

    Raises:
        ValidationError: an unknown name (listing the known ones).
    """
    try:
        return LEARNERS[name]
    except (KeyError, TypeError):
        raise ValidationError(
            f"unknown learner {name!r}: expected one of {tuple(LEARNERS)}"
        ) from None
