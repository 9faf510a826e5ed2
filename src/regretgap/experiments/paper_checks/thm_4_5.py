"""Theorem 4.5: equal occupancies, yet the proof's learner has regret gap exactly H - 2."""

from __future__ import annotations

import numpy as np

import regretgap as rg
from regretgap.experiments._render import md_table
from regretgap.experiments._verdict import TOLERANCE, Verdict, fmt
from regretgap.experiments.paper_checks._check import Args, Check, Results, paper_verdict
from regretgap.games import theorem_4_5


def runs(args: Args) -> list[dict]:
    """One configuration per horizon of ``args.horizons``."""
    return [{"check": "4.5", "H": h} for h in args.horizons]


def execute(config: dict, seed: int) -> dict:
    """Gaps, expert regret and occupancy difference on the Theorem 4.5 game of horizon
    ``config["H"]`` (deterministic: ``seed`` is ignored)."""
    c = theorem_4_5(config["H"])
    rho_e, rho_l = rg.occupancy(c.game, c.expert), rg.occupancy(c.game, c.learner)
    return {
        "value_gap": rg.value_gap(c.game, c.expert, c.learner),
        "regret_gap": rg.regret_gap(c.game, c.expert, c.learner),
        "regret_expert": rg.regret(c.game, c.expert).value,
        "occupancy_diff": float(np.abs(rho_e - rho_l).max()),
        "predicted_gap": c.expected["regret_gap"],
    }


def verdict(rs: Results) -> list[Verdict]:
    """One row: regret gap H - 2 at value gap 0, equal occupancies, expert regret 0."""
    gap_err = max(abs(m["regret_gap"] - (c["H"] - 2)) for c, m in rs)
    value_gap = max(abs(m["value_gap"]) for _, m in rs)
    occ = max(m["occupancy_diff"] for _, m in rs)
    reg_e = max(abs(m["regret_expert"]) for _, m in rs)
    hs = sorted(c["H"] for c, _ in rs)
    ok = max(gap_err, value_gap, occ, reg_e) <= TOLERANCE
    return [
        paper_verdict(
            "Theorem 4.5",
            "occupancies of expert and learner equal (value equivalence under every reward)",
            "regret gap Omega(H): exactly H - 2 for the proof's learner (E.3)",
            f"H = {hs[0]}..{hs[-1]}: regret gap - (H - 2) at most {fmt(gap_err)}, value gap "
            f"{fmt(value_gap)}, occupancy difference {fmt(occ)}",
            ok,
            "for every H the proof's learner has regret gap H - 2, value gap 0, occupancies "
            "equal to the expert's and the expert regret 0, each to 1e-9",
            {
                "max_gap_error": gap_err,
                "max_value_gap": value_gap,
                "max_occupancy_diff": occ,
                "max_expert_regret": reg_e,
                "H_min": hs[0],
                "H_max": hs[-1],
            },
        )
    ]


def render(rs: Results) -> list[str]:
    """The table of gaps per horizon."""
    return [
        "### Theorem 4.5: equal occupancies, regret gap H - 2",
        md_table(
            ["H", "regret gap", "H - 2", "value gap", "max occupancy difference"],
            [
                [
                    c["H"],
                    fmt(m["regret_gap"]),
                    c["H"] - 2,
                    fmt(m["value_gap"]),
                    fmt(m["occupancy_diff"]),
                ]
                for c, m in rs
            ],
        ),
    ]


CHECK = Check("4.5", runs, execute, verdict, render)
