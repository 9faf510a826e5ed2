"""The routing game (the paper's motivating example) on Braess's network: a welfare
``markov_ce`` mediator as expert, the four learners measured against it.

Six drivers travel from node 1 to node 2 for ``H`` days, each choosing among three routes;
BPR link times; an incident on the busiest link depends on yesterday's traffic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import regretgap as rg
from regretgap.experiments._suite import LEARNERS, RunSpec, gaps, learn, run_serially
from regretgap.games.routing import braess

NAME = "routing"


@dataclass
class Args:
    """Settings."""

    horizon: int = 3
    """Days."""
    demos: int = 2000
    """Expert demonstrations."""
    quick: bool = False
    """CI form: fewer demonstrations."""


def runs(args: Args) -> list[RunSpec]:
    demos = 500 if args.quick else args.demos
    return [
        RunSpec(NAME, {"network": "Braess", "H": args.horizon, "learner": name, "demos": demos})
        for name in LEARNERS
    ]


def execute(config: dict, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    net = braess(horizon=config["H"])
    game = net.game
    expert = rg.markov_ce(game, objective="welfare")
    demos = rg.sample_trajectories(
        game, expert, n=config["demos"], rng=np.random.default_rng(config["demos"])
    )
    policy, extra = learn(config["learner"], game, expert, demos, rng, rounds=3)
    if policy is None:
        return extra
    minutes = -rg.values(game, policy) * net.time_scale / config["H"]
    return {
        **gaps(game, expert, policy),
        **extra,
        "mean_daily_time": float(minutes.mean()),
        "expert_daily_time": float(
            (-rg.values(game, expert) * net.time_scale / config["H"]).mean()
        ),
    }


def main(args: Args) -> list[tuple[RunSpec, dict]]:
    """Run every configuration serially and print one line each."""
    return run_serially(runs(args), execute)


if __name__ == "__main__":
    from regretgap.experiments._cli import cli

    raise SystemExit(cli(Args, main, __doc__))
