"""Theorem 4.7 and Corollary 4.8: the regret gap bounds the learner's CE gap, and a learner
with value gap 0 can still be only an Omega(H)-approximate CE."""

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
    """``args.instances`` random games and the Theorem 4.5 game at each of ``args.horizons``."""
    configs: list[dict] = [
        {"check": "4.7", "game": "random", "instance": k} for k in range(args.instances)
    ]
    configs += [{"check": "4.7", "game": "theorem_4_5", "H": h} for h in args.horizons]
    return configs


def execute(config: dict, seed: int) -> dict:
    """``delta_1``, ``delta_2``, ``R(sigma)`` and the value gap per learner: two perturbed
    experts on a random game (drawn from ``np.random.default_rng(seed)``, the seed recorded),
    the proof's learner on the Theorem 4.5 game."""
    rng = np.random.default_rng(seed)
    if config["game"] == "random":
        game, expert = random_markov_game(rng)
        learners = {f"perturbed w={w}": perturb(game, expert, w, rng) for w in (0.1, 0.5)}
    else:
        c = theorem_4_5(config["H"])
        game, expert = c.game, c.expert
        learners = {"proof learner (E.3)": c.learner}
    delta_1 = rg.regret(game, expert).value
    rows = []
    for name, sigma in learners.items():
        r_learner = rg.regret(game, sigma).value
        rows.append(
            {
                "learner": name,
                "delta_1": delta_1,
                "delta_2": r_learner - delta_1,
                "regret_learner": r_learner,
                "value_gap": rg.value_gap(game, expert, sigma),
            }
        )
    metrics = {"H": game.horizon, "learners": rows}
    return with_seed(metrics, seed) if config["game"] == "random" else metrics


def verdict(rs: Results) -> list[Verdict]:
    """The Theorem 4.7 bookkeeping row and, with Theorem 4.5 games among ``rs``, the
    Corollary 4.8 row."""
    rows = [row for _, m in rs for row in m["learners"]]
    slack = max(row["regret_learner"] - (row["delta_1"] + row["delta_2"]) for row in rows)
    eq = max(abs(row["regret_learner"] - (row["delta_1"] + row["delta_2"])) for row in rows)
    out = [
        paper_verdict(
            "Theorem 4.7 (definition check)",
            "expert a delta_1-approximate CE, regret gap delta_2",
            "R(sigma) <= delta_1 + delta_2 (E.4); with delta_2 = R(sigma) - R(sigma_E) as the "
            "library computes it this is an identity: it checks the evaluator's bookkeeping, "
            "not the theorem",
            f"{len(rows)} learners: max R(sigma) - (delta_1 + delta_2) = {fmt(slack)}",
            slack <= TOLERANCE and eq <= TOLERANCE,
            "for every learner R(sigma) equals delta_1 + delta_2 to 1e-9 (so the bound holds)",
            {"max_slack": slack, "max_abs_difference": eq, "learners": len(rows)},
            kind=BOUND_CHECK,
        )
    ]
    proof = [(c, m["learners"][0]) for c, m in rs if c.get("game") == "theorem_4_5"]
    if proof:
        vg = max(abs(row["value_gap"]) for _, row in proof)
        err = max(abs(row["regret_learner"] - (c["H"] - 2)) for c, row in proof)
        d1 = max(abs(row["delta_1"]) for _, row in proof)
        hs = sorted(c["H"] for c, _ in proof)
        out.append(
            paper_verdict(
                "Corollary 4.8",
                "expert an exact CE (delta_1 = 0); learner's value gap delta_2 = 0",
                "the learner is only an Omega(H)-approximate CE: R(sigma) = H - 2",
                f"H = {hs[0]}..{hs[-1]}: value gap {fmt(vg)}, "
                f"abs(R(sigma) - (H - 2)) <= {fmt(err)}",
                max(vg, err, d1) <= TOLERANCE,
                "on the Theorem 4.5 game delta_1 = 0, the value gap is 0 and the learner's "
                "regret is H - 2 for every H, to 1e-9",
                {
                    "max_value_gap": vg,
                    "max_regret_error": err,
                    "max_delta_1": d1,
                    "H_min": hs[0],
                    "H_max": hs[-1],
                },
            )
        )
    return out


def render(rs: Results) -> list[str]:
    """The table of ``delta_1``, ``delta_2``, ``R(sigma)`` and the value gap per learner."""
    return [
        "### Theorem 4.7 and Corollary 4.8: regret gap bounds the learner's CE gap",
        md_table(
            [
                "game",
                "seed",
                "learner",
                "delta_1 = R(sigma_E)",
                "delta_2 = regret gap",
                "R(sigma)",
                "value gap",
            ],
            [
                [
                    game_label(c),
                    seed_label(m),
                    row["learner"],
                    fmt(row["delta_1"]),
                    fmt(row["delta_2"]),
                    fmt(row["regret_learner"]),
                    fmt(row["value_gap"]),
                ]
                for c, m in rs
                for row in m["learners"]
            ],
        ),
    ]


CHECK = Check("4.7", runs, execute, verdict, render)
