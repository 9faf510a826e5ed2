"""The routing game (the paper's motivating example) on Braess's network: a welfare
``markov_ce`` mediator as expert, every learner measured against it.

Six drivers travel from node 1 to node 2 for ``H`` days, each choosing among three routes;
BPR link times; an incident on the busiest link depends on yesterday's traffic. The game is
small (two states): every learner's regret gap is small here, which is itself a finding
(the fleet game brings a larger network). DAgger and BLADES get sampled answers.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

import regretgap as rg
from regretgap.experiments._render import md_table
from regretgap.experiments._suite import LEARNERS, NAMES, RunSpec, constants, learn, measure
from regretgap.experiments._verdict import (
    Verdict,
    bound_verdict,
    fmt,
    fmt_ci,
    mean_ci,
    select,
)
from regretgap.games.routing import RoutingGame, braess

NAME = "routing"
TITLE = "Routing on Braess's network (6 drivers, BPR link times)"


@dataclass
class Args:
    """Settings of the routing experiment."""

    horizon: int = 3
    """Days."""
    demos: int = 2000
    """Expert demonstrations."""
    seeds: int = 10
    """Repetitions per learner."""
    quick: bool = False
    """CI form: fewer demonstrations, three seeds."""


def runs(args: Args) -> list[RunSpec]:
    """One run per (learner, seed)."""
    demos = 500 if args.quick else args.demos
    seeds = 3 if args.quick else args.seeds
    return [
        RunSpec(
            NAME,
            {"network": "Braess", "H": args.horizon, "learner": name, "demos": demos, "seed": k},
        )
        for name in LEARNERS
        for k in range(seeds)
    ]


@lru_cache(maxsize=4)
def case(horizon: int) -> tuple[RoutingGame, np.ndarray]:
    """The Braess routing game and its welfare ``markov_ce`` expert ``[H, S, A]``."""
    net = braess(horizon=horizon)
    return net, rg.markov_ce(net.game, objective="welfare")


def execute(config: dict, seed: int) -> dict:
    """One learner from expert demonstrations (DAgger and BLADES also query the expert)."""
    net, expert = case(config["H"])
    game = net.game
    rng = np.random.default_rng(seed)
    demos = rg.sample_trajectories(game, expert, n=config["demos"], rng=rng)
    policy, extra = learn(config["learner"], game, expert, demos, rng, rounds=3, clip_weights=True)
    daily = net.time_scale / config["H"]
    return {
        **measure(game, expert, policy),
        **constants(game, expert),
        **extra,
        "mean_daily_time": float((-rg.values(game, policy) * daily).mean()),
        "expert_daily_time": float((-rg.values(game, expert) * daily).mean()),
    }


def verdict(results: list[tuple[dict, dict]]) -> list[Verdict]:
    """The eq. 7 bound (Theorems 5.7 and 5.9's form, valid for any policy) for every
    learner on the routing game."""
    return bound_verdict(NAME, results, "Braess routing game")


def render(results: list[tuple[dict, dict]], out: Path) -> str:
    """Markdown section: per learner mean [95% CI] gaps, loss and daily travel time."""
    rows = []
    for name in LEARNERS:
        ms = select(results, learner=name)
        if not ms:
            continue
        rows.append(
            [
                NAMES[name],
                fmt_ci(mean_ci(m["value_gap"] for m in ms)),
                fmt_ci(mean_ci(m["regret_gap"] for m in ms)),
                fmt_ci(mean_ci(m["loss_deviation"] for m in ms)),
                fmt_ci(mean_ci(m["mean_daily_time"] for m in ms), 2),
                fmt(ms[0]["expert_daily_time"], 2),
            ]
        )
    seeds = len({c["seed"] for c, _ in results})
    return (
        f"## {TITLE}\n\n"
        f"Mean [95% CI] over {seeds} seeds. Gaps are in reward units (travel time / the "
        f"game's largest); times in the network's units.\n\n"
        + md_table(
            ["learner", "value gap", "regret gap", "l (eq. 7)", "mean daily time", "expert's"],
            rows,
        )
        + "\n"
    )


def main(args: Args) -> list[Verdict]:
    """Run every configuration serially and print the verdicts."""
    from regretgap.experiments._suite import run_module

    return run_module(sys.modules[__name__], args)


if __name__ == "__main__":
    from regretgap.experiments._cli import cli

    raise SystemExit(cli(Args, main, __doc__))
