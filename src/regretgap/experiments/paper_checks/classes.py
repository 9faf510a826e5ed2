"""The deviation classes side by side: the per-step complete (CE) class contains the CCE
and swap classes, so ``R_cce <= R_ce`` and ``R_swap <= R_ce`` for every policy."""

from __future__ import annotations

import numpy as np

import regretgap as rg
from regretgap.experiments._render import md_table
from regretgap.experiments._verdict import BOUND_CHECK, TOLERANCE, Verdict, fmt
from regretgap.experiments.paper_checks._check import (
    Args,
    Check,
    Results,
    game_label,
    paper_verdict,
    seed_label,
    with_seed,
)
from regretgap.experiments.paper_checks._random import perturb, random_markov_game
from regretgap.games import theorem_4_5


def runs(args: Args) -> list[dict]:
    """One random game and the Theorem 4.5 game with ``H = 8`` (independent of ``args``)."""
    return [
        {"check": "classes", "game": "random", "instance": 0},
        {"check": "classes", "game": "theorem_4_5", "H": 8},
    ]


def execute(config: dict, seed: int) -> dict:
    """Expert's and learner's regret under each class; a random game and its perturbed
    learner draw from ``np.random.default_rng(seed)`` (the seed recorded)."""
    rng = np.random.default_rng(seed)
    if config["game"] == "random":
        game, expert = random_markov_game(rng)
        learner = perturb(game, expert, 0.3, rng)
    else:
        c = theorem_4_5(config["H"])
        game, expert, learner = c.game, c.expert, c.learner
    out: dict = {}
    for who, sigma in (("expert", expert), ("learner", learner)):
        for kind in ("ce", "cce", "swap"):
            out[f"{who}_{kind}"] = rg.regret(game, sigma, kind=kind).value
    return with_seed(out, seed) if config["game"] == "random" else out


def verdict(rs: Results) -> list[Verdict]:
    """One bound-check row: the containment holds for expert and learner on every game."""
    excess = max(
        max(m[f"{who}_{k}"] - m[f"{who}_ce"] for k in ("cce", "swap"))
        for _, m in rs
        for who in ("expert", "learner")
    )
    return [
        paper_verdict(
            "Deviation classes",
            "the per-step complete class contains the CCE and swap classes",
            "R_cce <= R_ce and R_swap <= R_ce for every policy",
            f"{len(rs)} games, expert and learner: max(R_cce, R_swap) - R_ce = {fmt(excess)}",
            excess <= TOLERANCE,
            "for expert and learner on every game R_cce and R_swap are at most R_ce + 1e-9",
            {"max_excess": excess, "games": len(rs)},
            kind=BOUND_CHECK,
        )
    ]


def render(rs: Results) -> list[str]:
    """The explanation and the table of the three regrets per game and policy."""
    return [
        "### Deviation classes side by side",
        "CCE: recommendation-ignoring per-step deviations plus obeying; swap: the "
        "n_i^n_i state-independent maps; CE: the per-step complete class, which "
        "contains both.",
        md_table(
            ["game", "seed", "policy", "R_ce", "R_cce", "R_swap", "contained"],
            [
                [
                    game_label(c),
                    seed_label(m),
                    who,
                    fmt(m[f"{who}_ce"]),
                    fmt(m[f"{who}_cce"]),
                    fmt(m[f"{who}_swap"]),
                    "yes"
                    if max(m[f"{who}_cce"], m[f"{who}_swap"]) <= m[f"{who}_ce"] + TOLERANCE
                    else "no",
                ]
                for c, m in rs
                for who in ("expert", "learner")
            ],
        ),
    ]


CHECK = Check("classes", runs, execute, verdict, render)
