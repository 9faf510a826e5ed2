"""Regret gap vs number of demonstrations (J-BC, J-IRL, MALICE) and vs number of expert
queries (BLADES) on seeded random games with a ``markov_ce`` expert.

Theory: with more data the learners' losses shrink; the regret gap of the coverage-based
learners follows the loss only on states the data covers (Theorems 5.3, 5.7), BLADES'
with the queried states (Theorem 5.9). MALICE runs with clipped weights on these games: a
finite sample rarely covers every state a deviation reaches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import regretgap as rg
from regretgap.experiments._suite import RunSpec, gaps, learn, run_serially
from regretgap.games import random_game

NAME = "data_sweep"


@dataclass
class Args:
    """Settings."""

    demos: tuple[int, ...] = (10, 30, 100, 300, 1000, 3000)
    """Demonstration counts for J-BC, J-IRL and MALICE."""
    rollouts: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
    """BLADES roll-ins per agent per round (the query budget)."""
    games: int = 5
    """Random games (seeds 0..games-1), S=20, two agents with 2 actions, H=4."""
    quick: bool = False
    """CI form: three sizes, two games."""


def runs(args: Args) -> list[RunSpec]:
    demos = args.demos[1::2] if args.quick else args.demos
    rollouts = args.rollouts[::2] if args.quick else args.rollouts
    games = min(args.games, 2) if args.quick else args.games
    out = [
        RunSpec(NAME, {"game": k, "learner": name, "demos": n})
        for k in range(games)
        for name in ("jbc", "jirl", "malice")
        for n in demos
    ]
    out += [
        RunSpec(NAME, {"game": k, "learner": "blades", "rollouts": r})
        for k in range(games)
        for r in rollouts
    ]
    return out


def _case(k: int) -> tuple[rg.MarkovGame, np.ndarray]:
    rng = np.random.default_rng(1000 + k)
    game = random_game(20, (2, 2), 4, rng=rng, branching=3)
    return game, rg.markov_ce(game, objective="random", rng=rng)


def execute(config: dict, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    game, expert = _case(config["game"])
    if config["learner"] == "blades":
        policy, extra = learn(
            "blades", game, expert, None, rng, rounds=3, rollouts=config["rollouts"]
        )
    else:
        demos = rg.sample_trajectories(game, expert, n=config["demos"], rng=rng)
        policy, extra = learn(
            config["learner"], game, expert, demos, rng, rounds=3, clip_weights=True
        )
    return {**gaps(game, expert, policy), **extra}


def main(args: Args) -> list[tuple[RunSpec, dict]]:
    """Run every configuration serially and print one line each."""
    return run_serially(runs(args), execute)


if __name__ == "__main__":
    from regretgap.experiments._cli import cli

    raise SystemExit(cli(Args, main, __doc__))
