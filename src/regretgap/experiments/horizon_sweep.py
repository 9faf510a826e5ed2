"""Value gap vs regret gap as H grows on the Theorem 4.5 game, for the four learners.

Theory (Theorem 4.5, Remark 4.6): value-gap learners (J-BC, J-IRL) reach value gap 0 but
a regret gap linear in H (log-log slope 1); MALICE is not applicable (coverage fails at
``s_1``); BLADES with a queryable expert reaches regret gap 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import regretgap as rg
from regretgap.experiments._suite import LEARNERS, RunSpec, gaps, learn, run_serially
from regretgap.games import theorem_4_5

NAME = "horizon_sweep"


@dataclass
class Args:
    """Settings."""

    horizons: tuple[int, ...] = (3, 5, 9, 17, 33, 65)
    """Horizons of the Theorem 4.5 game."""
    demos: int = 1000
    """Expert demonstrations per run."""
    quick: bool = False
    """CI form: three horizons, fewer demonstrations."""


def runs(args: Args) -> list[RunSpec]:
    horizons = args.horizons[:3] if args.quick else args.horizons
    demos = 300 if args.quick else args.demos
    return [
        RunSpec(NAME, {"H": h, "learner": name, "demos": demos})
        for h in horizons
        for name in LEARNERS
    ]


def execute(config: dict, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    c = theorem_4_5(config["H"])
    demos = rg.sample_trajectories(c.game, c.expert, n=config["demos"], rng=rng)
    policy, extra = learn(config["learner"], c.game, c.expert, demos, rng, rounds=3)
    if policy is None:
        return extra
    return {**gaps(c.game, c.expert, policy), **extra}


def main(args: Args) -> list[tuple[RunSpec, dict]]:
    """Run every configuration serially and print one line each."""
    return run_serially(runs(args), execute)


if __name__ == "__main__":
    from regretgap.experiments._cli import cli

    raise SystemExit(cli(Args, main, __doc__))
