"""What every paper check is built from: its record, the settings and the shared helpers.

A :class:`Check` keeps one theorem's runs, metrics, verdicts and report tables side by
side; the package assembles the experiment interface from the records in report order.
The helpers here are the ones several checks use: the parameter grid of the lower-bound
constructions, the verdict row of this experiment and the table labels of a run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from regretgap.experiments._verdict import CLAIM, Verdict, judge

NAME = "paper_checks"

#: ``(config, metrics)`` pairs of finished runs.
Results = list[tuple[dict, dict]]


@dataclass
class Args:
    """Settings of the paper checks (all exact; only the random games draw numbers)."""

    quick: bool = False
    """CI form: one or two configurations per check."""
    horizons: tuple[int, ...] = (4, 8, 16, 32, 64)
    """Horizons ``H`` of the Theorem 4.5 game (and of Corollary 4.8's learner)."""
    coverage_betas: tuple[float, ...] = (0.1, 0.25)
    """``beta`` of the Theorem 5.4 and 5.8 constructions."""
    coverage_horizons: tuple[int, ...] = (8, 16)
    """``H`` of the Theorem 5.4 and 5.8 constructions."""
    recoverabilities: tuple[float, ...] = (3.0, 6.0)
    """``u`` of the Theorem 5.4 and 5.8 constructions (``u' = floor(u)``)."""
    epsilons: tuple[float, ...] = (0.001, 0.005)
    """``eps`` of the Theorem 5.4 and 5.8 constructions (combinations the proofs exclude,
    ``eps H / (2 beta) > 1/2`` or ``beta + eps H > 1``, are skipped)."""
    instances: int = 3
    """Seeded random games per random check (Theorems 4.3, 4.7, D.1, the classes)."""


class Check(NamedTuple):
    """One theorem (or claim) of the paper checked: its runs, verdicts and report tables.

    Attributes:
        name: ``config["check"]`` of its runs, e.g. ``"4.5"``.
        runs: the configurations to run for the given settings (JSON values).
        execute: the metrics of one configuration and its seed (JSON-serialisable).
        verdict: the verdict rows from this check's (non-empty) results.
        render: the report's markdown parts from this check's (non-empty) results.
        figure: the legend label of its points in the lower-bound figure (measured
            ``regret_gap`` against the formula's ``predicted_gap``); ``None``: not plotted.
    """

    name: str
    runs: Callable[[Args], list[dict]]
    execute: Callable[[dict, int], dict]
    verdict: Callable[[Results], list[Verdict]]
    render: Callable[[Results], list[str]]
    figure: str | None = None


def construction_grid(
    check: str, args: Args, admissible: Callable[[int, float, float, float], bool]
) -> list[dict]:
    """Configurations of a lower-bound construction: every ``(beta, H, u, eps)`` of ``args``
    for which ``admissible(H, beta, u, eps)`` holds (the proof's range), in that loop order."""
    out = []
    for beta in args.coverage_betas:
        for horizon in args.coverage_horizons:
            for u in args.recoverabilities:
                for eps in args.epsilons:
                    if admissible(horizon, beta, u, eps):
                        out.append({"check": check, "H": horizon, "beta": beta, "u": u, "eps": eps})
    return out


def paper_verdict(
    claim: str,
    assumption: str,
    bound: str,
    measured: str,
    ok: bool,
    criterion: str,
    numbers: dict[str, float],
    word: str | None = None,
    kind: str = CLAIM,
) -> Verdict:
    """A verdict row of this experiment on the proofs' own policies (no learner):
    ``word`` defaults to :func:`~regretgap.experiments._verdict.judge` of ``ok``."""
    return Verdict(
        experiment=NAME,
        claim=claim,
        learner="",
        assumption=assumption,
        bound=bound,
        measured=measured,
        word=word if word is not None else judge(ok),
        criterion=criterion,
        numbers={k: float(v) for k, v in numbers.items()},
        kind=kind,
    )


def with_seed(metrics: dict, seed: int) -> dict:
    """``metrics`` with the run's ``seed`` recorded last (runs that draw random numbers)."""
    metrics["seed"] = int(seed)
    return metrics


def seed_label(metrics: dict) -> str:
    """The table cell for a run's seed."""
    return str(metrics["seed"]) if "seed" in metrics else "none (deterministic)"


def game_label(config: dict) -> str:
    """The table cell for a run's game."""
    if config.get("game") == "random":
        return f"random #{config['instance']}"
    return f"{config['game']} (H = {config['H']})" if "game" in config else ""
