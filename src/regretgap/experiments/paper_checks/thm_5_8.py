"""Theorems 5.8 and 5.10: the MALICE / BLADES lower-bound construction (one agent), measured.

On the same construction, the upper bound ``gap <= 4 l u H`` of Theorems 5.7 and 5.9 is
checked.
"""

from __future__ import annotations

from math import floor

import regretgap as rg
from regretgap.experiments._render import md_table
from regretgap.experiments._verdict import BOUND_CHECK, PROOF_CONSTANT, TOLERANCE, Verdict, fmt
from regretgap.experiments.paper_checks._check import (
    Args,
    Check,
    Results,
    construction_grid,
    paper_verdict,
)
from regretgap.games import theorem_5_8


def _admissible(horizon: int, beta: float, u: float, eps: float) -> bool:
    """The proof's range: ``1 <= u' <= H`` and ``beta + eps H <= 1``."""
    return 1 <= floor(u) <= horizon and beta + eps * horizon <= 1


def runs(args: Args) -> list[dict]:
    """The admissible ``(beta, H, u, eps)`` of ``args``'s construction grid."""
    return construction_grid("5.8", args, _admissible)


def execute(config: dict, seed: int) -> dict:
    """Gaps, the deviation loss and the bound's ratio on the construction of ``config``
    (deterministic: ``seed`` is ignored)."""
    horizon, beta, eps, u = config["H"], config["beta"], config["eps"], config["u"]
    c = theorem_5_8(horizon, beta, eps, u)
    loss = rg.imitation_losses(c.game, c.expert, c.learner)
    gap = rg.regret_gap(c.game, c.expert, c.learner)
    u_upper = rg.recoverability(c.game, c.expert).upper
    return {
        "regret_gap": gap,
        "value_gap": rg.value_gap(c.game, c.expert, c.learner),
        "predicted_gap": eps * horizon * (floor(u) - 1),
        "deviation": loss.deviation,
        "u_upper": u_upper,
        "ratio": gap / (loss.deviation * u_upper * horizon) if loss.deviation > 0 else 0.0,
    }


def verdict(rs: Results) -> list[Verdict]:
    """Two rows: Theorems 5.8 and 5.10 (gap = value gap = formula, loss eps) and the
    Theorems 5.7 and 5.9 bound check."""
    gap_err = max(abs(m["regret_gap"] - c["eps"] * c["H"] * (floor(c["u"]) - 1)) for c, m in rs)
    vg_err = max(abs(m["regret_gap"] - m["value_gap"]) for _, m in rs)
    loss_err = max(abs(m["deviation"] - c["eps"]) for c, m in rs)
    ratio = max(m["ratio"] for _, m in rs)
    n = len(rs)
    return [
        paper_verdict(
            "Theorems 5.8 and 5.10",
            "Assumption 5.1; MALICE / BLADES loss (eqs. 6, 7 with TV) <= eps",
            "regret gap Omega(eps u H): exactly eps H (u' - 1) = value gap (E.12, E.14)",
            f"{n} configurations: abs(gap - eps H (u'-1)) <= {fmt(gap_err)}, "
            f"abs(gap - value gap) <= {fmt(vg_err)}, abs(loss - eps) <= {fmt(loss_err)}",
            max(gap_err, vg_err, loss_err) <= TOLERANCE,
            "on every (beta, u, H, eps) the regret gap and the value gap both equal "
            "eps H (u'-1) and the deviation loss equals eps, each to 1e-9",
            {
                "max_gap_error": gap_err,
                "max_gap_minus_value_gap": vg_err,
                "max_loss_error": loss_err,
                "runs": n,
            },
        ),
        paper_verdict(
            "Theorems 5.7 and 5.9",
            "Assumption 5.1 (u = recoverability upper bracket)",
            f"regret gap <= {PROOF_CONSTANT:g} l u H (eqs. 15, 17)",
            f"gap / (l u H) at most {fmt(ratio)}",
            ratio <= PROOF_CONSTANT + TOLERANCE,
            f"on the Theorem 5.8 construction gap / (l u H) is at most {PROOF_CONSTANT:g}",
            {"max_ratio": ratio},
            kind=BOUND_CHECK,
        ),
    ]


def render(rs: Results) -> list[str]:
    """The table of gaps, the loss and the ratio per configuration."""
    return [
        "### Theorems 5.8 and 5.10: MALICE and BLADES lower bound (one agent)",
        md_table(
            [
                "beta",
                "u",
                "H",
                "eps",
                "regret gap",
                "value gap",
                "eps H (u'-1)",
                "MALICE/BLADES loss",
                "gap / (l u H)",
            ],
            [
                [
                    c["beta"],
                    c["u"],
                    c["H"],
                    c["eps"],
                    fmt(m["regret_gap"], 4),
                    fmt(m["value_gap"], 4),
                    fmt(m["predicted_gap"], 4),
                    fmt(m["deviation"], 4),
                    fmt(m["ratio"]),
                ]
                for c, m in rs
            ],
        ),
    ]


CHECK = Check("5.8", runs, execute, verdict, render, figure="Theorems 5.8/5.10: eps H (u'-1)")
