"""Theorem 4.4 and Lemmas F.1, F.2: the Figure 5 game, where regret and value part ways."""

from __future__ import annotations

import regretgap as rg
from regretgap.experiments._render import md_table
from regretgap.experiments._verdict import TOLERANCE, Verdict, fmt
from regretgap.experiments.paper_checks._check import Args, Check, Results, paper_verdict
from regretgap.games import lemma_f1, lemma_f2, theorem_4_4


def runs(args: Args) -> list[dict]:
    """One configuration (the game has no parameters)."""
    return [{"check": "4.4"}]


def execute(config: dict, seed: int) -> dict:
    """Theorem 4.4's gaps and the lemmas' regrets and values (deterministic: ``seed`` is
    ignored)."""
    c = theorem_4_4()
    f1, f1p, f2 = lemma_f1(), lemma_f1(prime=True), lemma_f2()
    return {
        "regret_gap": rg.regret_gap(c.game, c.expert, c.learner),
        "value_gap": rg.value_gap(c.game, c.expert, c.learner),
        "f1_regret_r": rg.regret(f1.game, f1.expert).value,
        "f1_regret_r_prime": rg.regret(f1p.game, f1p.expert).value,
        "f1_value_r": float(rg.values(f1.game, f1.expert).min()),
        "f1_value_r_prime": float(rg.values(f1p.game, f1p.expert).min()),
        "f2_regret_1": rg.regret(f2.game, f2.expert).value,
        "f2_regret_2": rg.regret(f2.game, f2.learner).value,
        "f2_value_1": float(rg.values(f2.game, f2.expert).min()),
        "f2_value_2": float(rg.values(f2.game, f2.learner).min()),
    }


def verdict(rs: Results) -> list[Verdict]:
    """Three rows: Theorem 4.4, Lemma F.1 and Lemma F.2 (from the first run)."""
    m = rs[0][1]
    f1 = max(abs(m["f1_regret_r"]), abs(m["f1_regret_r_prime"]))
    f1v = max(abs(m["f1_value_r"] - 1), abs(m["f1_value_r_prime"] - 1))
    f2 = max(abs(m["f2_regret_1"]), abs(m["f2_regret_2"]))
    f2v = max(abs(m["f2_value_1"] - 1), abs(m["f2_value_2"] - 2 / 3))
    return [
        paper_verdict(
            "Theorem 4.4",
            "incomplete class: the true reward r of Figure 5 only",
            "regret gap 0 with value gap != 0 (E.2): expert (a2, a2), learner (a1, a1)",
            f"regret gap {fmt(m['regret_gap'])}, value gap {fmt(m['value_gap'])}",
            abs(m["regret_gap"]) <= TOLERANCE and abs(m["value_gap"] - 1) <= TOLERANCE,
            "regret gap 0 and value gap 1 to 1e-9",
            {"regret_gap": m["regret_gap"], "value_gap": m["value_gap"]},
        ),
        paper_verdict(
            "Lemma F.1",
            "Figure 5 rewards r and r'",
            "sigma_E = (a1, a1) is a CE under both r and r', value 1",
            f"regret {fmt(m['f1_regret_r'])} under r, {fmt(m['f1_regret_r_prime'])} under r'",
            max(f1, f1v) <= TOLERANCE,
            "regret 0 and each agent's value 1 under both rewards, to 1e-9",
            {
                "regret_r": m["f1_regret_r"],
                "regret_r_prime": m["f1_regret_r_prime"],
                "value_r": m["f1_value_r"],
                "value_r_prime": m["f1_value_r_prime"],
            },
        ),
        paper_verdict(
            "Lemma F.2",
            "Figure 5 reward r",
            "(a1, a1) and the mixed Nash (4/9, 2/9, 2/9, 1/9) are both CEs, values 1 and 2/3",
            f"regrets {fmt(m['f2_regret_1'])} and {fmt(m['f2_regret_2'])}, values "
            f"{fmt(m['f2_value_1'])} and {fmt(m['f2_value_2'])}",
            max(f2, f2v) <= TOLERANCE,
            "both regrets 0 and values 1 and 2/3, to 1e-9",
            {
                "regret_1": m["f2_regret_1"],
                "regret_2": m["f2_regret_2"],
                "value_1": m["f2_value_1"],
                "value_2": m["f2_value_2"],
            },
        ),
    ]


def render(rs: Results) -> list[str]:
    """The table of measured quantities against the paper's (from the first run)."""
    m = rs[0][1]
    return [
        "### Theorem 4.4 and Lemmas F.1, F.2 (Figure 5)",
        md_table(
            ["quantity", "measured", "paper"],
            [
                ["Thm 4.4 regret gap", fmt(m["regret_gap"]), "0"],
                ["Thm 4.4 value gap", fmt(m["value_gap"]), "1"],
                [
                    "F.1 regret of (a1, a1) under r / r'",
                    f"{fmt(m['f1_regret_r'])} / {fmt(m['f1_regret_r_prime'])}",
                    "0 / 0",
                ],
                [
                    "F.2 regrets of sigma_1 / sigma_2",
                    f"{fmt(m['f2_regret_1'])} / {fmt(m['f2_regret_2'])}",
                    "0 / 0",
                ],
                [
                    "F.2 values of sigma_1 / sigma_2",
                    f"{fmt(m['f2_value_1'])} / {fmt(m['f2_value_2'])}",
                    "1 / 0.667",
                ],
            ],
        ),
    ]


CHECK = Check("4.4", runs, execute, verdict, render)
