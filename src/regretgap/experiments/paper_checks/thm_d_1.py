"""Theorem D.1: with one agent (an MDP) the regret gap equals the value gap."""

from __future__ import annotations

import numpy as np

import regretgap as rg
from regretgap.experiments._render import md_table
from regretgap.experiments._verdict import BOUND_CHECK, NOT_APPLICABLE, TOLERANCE, Verdict, fmt
from regretgap.experiments.paper_checks._check import (
    Args,
    Check,
    Results,
    game_label,
    paper_verdict,
    seed_label,
    with_seed,
)
from regretgap.experiments.paper_checks._random import perturb
from regretgap.games import random_game, theorem_5_8


def runs(args: Args) -> list[dict]:
    """``args.instances`` random MDPs and the Theorem 5.8 construction with ``H = 8``."""
    configs: list[dict] = [
        {"check": "D.1", "game": "random", "instance": k} for k in range(args.instances)
    ]
    configs.append({"check": "D.1", "game": "theorem_5_8", "H": 8})
    return configs


def execute(config: dict, seed: int) -> dict:
    """Regret and value gaps of several learners on one MDP; every run draws (experts or
    perturbations) from ``np.random.default_rng(seed)`` and records the seed."""
    rng = np.random.default_rng(seed)
    if config["game"] == "random":
        game = random_game(10, (3,), 6, rng=rng, branching=3)
        expert = perturb(game, rg.uniform_policy(game), 1.0, rng)
        learners = [perturb(game, expert, w, rng) for w in (0.1, 0.5, 1.0)]
    else:
        c = theorem_5_8(config["H"], 0.1, 0.01, 4.0)
        game, expert = c.game, rg.as_policy(c.game, c.expert)
        learners = [rg.as_policy(game, c.learner), perturb(game, expert, 0.5, rng)]
    pairs = [(rg.regret_gap(game, expert, s), rg.value_gap(game, expert, s)) for s in learners]
    metrics = {
        "regret_gaps": [p[0] for p in pairs],
        "value_gaps": [p[1] for p in pairs],
        "max_diff": max(abs(p[0] - p[1]) for p in pairs),
        "agents": game.num_agents,
    }
    return with_seed(metrics, seed)


def verdict(rs: Results) -> list[Verdict]:
    """One bound-check row (not applicable when a game has more than one agent)."""
    diff = max(m["max_diff"] for _, m in rs)
    n = sum(len(m["regret_gaps"]) for _, m in rs)
    single = all(m["agents"] == 1 for _, m in rs)
    return [
        paper_verdict(
            "Theorem D.1",
            "one agent (an MDP); per-step complete deviation class",
            "regret gap = value gap",
            f"{n} learners on {len(rs)} MDPs: max abs(regret gap - value gap) = {fmt(diff)}",
            diff <= TOLERANCE,
            "regret gap equals value gap to 1e-9 for every learner",
            {"max_abs_difference": diff, "learners": n},
            word=None if single else NOT_APPLICABLE,
            kind=BOUND_CHECK,
        )
    ]


def render(rs: Results) -> list[str]:
    """The table of both gaps per game."""
    return [
        "### Theorem D.1: one agent, regret gap = value gap",
        md_table(
            ["game", "seed", "regret gaps", "value gaps", "max abs difference"],
            [
                [
                    game_label(c),
                    seed_label(m),
                    ", ".join(fmt(x) for x in m["regret_gaps"]),
                    ", ".join(fmt(x) for x in m["value_gaps"]),
                    fmt(m["max_diff"]),
                ]
                for c, m in rs
            ],
        ),
    ]


CHECK = Check("D.1", runs, execute, verdict, render)
