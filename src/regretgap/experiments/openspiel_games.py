"""OpenSpiel games: a welfare ``markov_ce`` expert and every learner on converted
simultaneous-move games (``regretgap.openspiel.to_markov_game``).

Two games: ``markov_soccer`` (two players, ball possession by chance, ``H = 4``) and a
two-player ``pathfinding`` grid (``H = 5``). The expert is the welfare-maximising Markov CE;
learners start from finite demonstrations, DAgger and BLADES get sampled answers, ALICE and
MALICE clip their weights (finite samples rarely cover every reachable state). Needs the
``openspiel`` extra; without it the report says the experiment was skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

import regretgap as rg
from regretgap.experiments._render import md_table
from regretgap.experiments._suite import LEARNERS, NAMES, RunSpec, constants, learn, measure
from regretgap.experiments._verdict import Verdict, bound_verdict, fmt, fmt_ci, mean_ci, select

NAME = "openspiel_games"
TITLE = "OpenSpiel games (markov_soccer, pathfinding) with a markov_ce expert"

#: name: (OpenSpiel game, horizon, parameters)
GAMES = {
    "markov_soccer": ("markov_soccer", 4, None),
    "pathfinding": (
        "pathfinding",
        5,
        {
            "grid": "Ab.\n...\n.aB\n",
            "players": 2,
            "solve_reward": 1.0,
            "group_reward": 1.0,
            "step_reward": -0.1,
        },
    ),
}


@dataclass
class Args:
    """Settings of the OpenSpiel experiment."""

    demos: int = 500
    """Expert demonstrations per run."""
    seeds: int = 10
    """Repetitions per (game, learner)."""
    rounds: int = 3
    """Learner rounds."""
    quick: bool = False
    """CI form: three seeds."""


def unavailable() -> str | None:
    """Why the experiment cannot run here (``None`` when it can): OpenSpiel is an extra."""
    try:
        import pyspiel  # noqa: F401
    except ImportError:
        return 'needs OpenSpiel: pip install "regretgap[openspiel]"'
    return None


def runs(args: Args) -> list[RunSpec]:
    """One run per (game, learner, seed); none without the ``openspiel`` extra."""
    if unavailable():
        return []
    seeds = 3 if args.quick else args.seeds
    return [
        RunSpec(
            NAME,
            {
                "game": g,
                "H": GAMES[g][1],
                "learner": name,
                "seed": k,
                "demos": args.demos,
                "rounds": args.rounds,
            },
        )
        for g in GAMES
        for name in LEARNERS
        for k in range(seeds)
    ]


@lru_cache(maxsize=4)
def case(name: str) -> tuple[rg.MarkovGame, np.ndarray]:
    """The converted game and its welfare ``markov_ce`` expert ``[H, S, A]``."""
    from regretgap.openspiel import to_markov_game

    game_name, horizon, params = GAMES[name]
    game = to_markov_game(game_name, horizon, params=params).game
    return game, rg.markov_ce(game, objective="welfare")


def execute(config: dict, seed: int) -> dict:
    """One learner on one game from expert demonstrations."""
    game, expert = case(config["game"])
    rng = np.random.default_rng(seed)
    demos = rg.sample_trajectories(game, expert, n=config["demos"], rng=rng)
    policy, extra = learn(
        config["learner"], game, expert, demos, rng, rounds=config["rounds"], clip_weights=True
    )
    return {**measure(game, expert, policy), **constants(game, expert), **extra}


def verdict(results: list[tuple[dict, dict]]) -> list[Verdict]:
    """Theorems 5.7/5.9's bound (valid for any policy) in every run of both games."""
    return bound_verdict(NAME, results, "OpenSpiel markov_soccer and pathfinding")


def render(results: list[tuple[dict, dict]], out: Path) -> str:
    """Markdown section: per game and learner, mean [95% CI] gaps and the eq. 7 loss."""
    rows = []
    for g in GAMES:
        for name in LEARNERS:
            ms = select(results, game=g, learner=name)
            if ms:
                rows.append(
                    [g, NAMES[name]]
                    + [
                        fmt_ci(mean_ci(m[k] for m in ms))
                        for k in ("regret_gap", "value_gap", "loss_deviation")
                    ]
                )
    seeds = len({c["seed"] for c, _ in results})
    sizes = {g: case(g)[0] for g in GAMES}
    shapes = ", ".join(
        f"{g}: {game.num_states} states, {game.num_joint_actions} joint actions, H = {game.horizon}"
        for g, game in sizes.items()
    )
    return (
        f"## {TITLE}\n\n"
        f"Mean [95% CI] over {seeds} seeds ({shapes}); expert regret "
        f"{fmt(max(rg.regret(game, case(g)[1]).value for g, game in sizes.items()))}.\n\n"
        + md_table(["game", "learner", "regret gap", "value gap", "l (eq. 7)"], rows)
        + "\n"
    )


def main(args: Args) -> list[Verdict]:
    """Run every configuration serially and print the verdicts."""
    import sys

    from regretgap.experiments._suite import run_module

    return run_module(sys.modules[__name__], args)


if __name__ == "__main__":
    from regretgap.experiments._cli import cli

    raise SystemExit(cli(Args, main, __doc__))
