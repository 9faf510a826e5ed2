"""Shared pieces of the reproduce suite: run specifications and learner dispatch."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

import regretgap as rg

LEARNERS = ("jbc", "jirl", "malice", "blades")


class RunSpec(NamedTuple):
    """One run of the suite: a pure function of ``(experiment, config)``.

    ``key`` identifies the run in the results database (resume skips finished keys).
    """

    experiment: str
    config: dict

    @property
    def key(self) -> str:
        return f"{self.experiment}:{json.dumps(self.config, sort_keys=True)}"

    @property
    def seed(self) -> int:
        """Seed derived from the key: the same run draws the same numbers anywhere."""
        return int.from_bytes(hashlib.sha256(self.key.encode()).digest()[:4], "little")


def learn(
    name: str,
    game: rg.MarkovGame,
    expert: np.ndarray,
    demos: Any,
    rng: np.random.Generator,
    *,
    rounds: int = 5,
    rollouts: int = 64,
    policy_class: Any = None,
    clip_weights: bool = False,
) -> tuple[np.ndarray | None, dict]:
    """Run learner ``name``; returns ``(policy or None, extra metrics)``.

    MALICE's CoverageError is a result, not a crash: ``(None, {"not_applicable": reason})``.
    """
    extra: dict = {}
    if name == "jbc":
        res = rg.jbc(game, demos, policy_class=policy_class)
    elif name == "jirl":
        res = rg.jirl(game, demos, rng=rng)
    elif name == "malice":
        try:
            res = rg.malice(
                game,
                demos,
                rng=rng,
                rounds=rounds,
                policy_class=policy_class,
                clip_weights=clip_weights,
            )
        except rg.CoverageError as err:
            return None, {
                "not_applicable": "coverage fails: deviations reach states "
                f"{err.states.tolist()} that the demonstrations never visit"
            }
    elif name == "blades":
        expert_oracle = rg.QueryableExpert(expert)
        res = rg.blades(
            game,
            expert_oracle,
            rng=rng,
            rounds=rounds,
            rollouts=rollouts,
            policy_class=policy_class,
        )
        extra["queries"] = res.queries
    else:
        raise rg.ValidationError(f"unknown learner {name!r}: expected one of {LEARNERS}")
    return res.policy, extra


def gaps(game: rg.MarkovGame, expert: np.ndarray, policy: np.ndarray) -> dict:
    """Evaluation (the only reader of rewards): value and regret gaps."""
    return {
        "value_gap": rg.value_gap(game, expert, policy),
        "regret_gap": rg.regret_gap(game, expert, policy),
    }


def fit_slope(x: list[float], y: list[float]) -> float | None:
    """Log-log least-squares slope of positive pairs (``None`` with fewer than 2)."""
    pts = [(a, b) for a, b in zip(x, y, strict=True) if a > 0 and b is not None and b > 1e-12]
    if len(pts) < 2:
        return None
    xs, ys = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
    return float(np.polyfit(xs, ys, 1)[0])


def run_serially(
    specs: list[RunSpec], execute: Callable[[dict, int], dict]
) -> list[tuple[RunSpec, dict]]:
    """An experiment's standalone ``main``: run every spec in order and print one line each."""
    out = []
    for spec in specs:
        metrics = execute(spec.config, spec.seed)
        print(spec.config, metrics)
        out.append((spec, metrics))
    return out
