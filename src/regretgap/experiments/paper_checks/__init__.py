"""The paper's identities and lower-bound constructions, checked exactly (sections 4-5, D-F).

Each check computes, with the library's exact evaluators, a number a proof derives and
compares it with the proof's formula to :data:`~regretgap.experiments._verdict.TOLERANCE`:
Theorems 4.3, 4.4 (Lemmas F.1, F.2), 4.5, 4.7 / Corollary 4.8, 5.4 / Corollary 5.6,
5.8 / 5.10 and D.1, and the containment of the CCE and swap deviation classes in the
per-step complete class. Every verdict can say ``"inconsistent"``: a wrong evaluator, a
wrong construction or a wrong formula fails it.

Deviation class: the per-step complete class (``kind="ce"``) unless a check says otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path

from regretgap.errors import ValidationError
from regretgap.experiments._render import md_table
from regretgap.experiments._suite import RunSpec, run_module
from regretgap.experiments._verdict import Verdict
from regretgap.experiments.paper_checks import (
    classes,
    thm_4_3,
    thm_4_4,
    thm_4_5,
    thm_4_7,
    thm_5_4,
    thm_5_8,
    thm_d_1,
)
from regretgap.experiments.paper_checks._check import NAME, Args, Check, Results
from regretgap.experiments.paper_checks._figure import plot

__all__ = [
    "CHECKS",
    "NAME",
    "RECORDS",
    "TITLE",
    "Args",
    "Check",
    "execute",
    "main",
    "render",
    "runs",
    "verdict",
]

TITLE = "Paper checks: identities and lower-bound constructions"

#: One record per theorem, in report order: runs, verdict rows and tables follow it.
RECORDS: tuple[Check, ...] = (
    thm_4_5.CHECK,
    thm_5_4.CHECK,
    thm_5_8.CHECK,
    thm_4_3.CHECK,
    thm_4_4.CHECK,
    thm_4_7.CHECK,
    thm_d_1.CHECK,
    classes.CHECK,
)

#: Checks in report order (``config["check"]``).
CHECKS = tuple(check.name for check in RECORDS)

_BY_NAME = {check.name: check for check in RECORDS}

#: The settings of ``quick=True``: one or two configurations per check.
_QUICK = Args(
    quick=True,
    horizons=(4, 16),
    coverage_betas=(0.25,),
    coverage_horizons=(8,),
    recoverabilities=(5.0,),
    epsilons=(0.005,),
    instances=1,
)


def _runs_of(results: Results, check: str) -> Results:
    return [(c, m) for c, m in results if c.get("check") == check]


def runs(args: Args) -> list[RunSpec]:
    """One :class:`RunSpec` per check configuration (config values are JSON numbers/strings);
    ``args.quick`` replaces every other setting by the quick form's."""
    if args.quick:
        args = _QUICK
    return [RunSpec(NAME, config) for check in RECORDS for config in check.runs(args)]


def execute(config: dict, seed: int) -> dict:
    """Metrics of one check configuration (JSON-serialisable).

    Checks on the paper's constructions are deterministic and ignore ``seed``; random
    games, expert policies and perturbations draw from ``np.random.default_rng(seed)``
    (the seed is returned in the metrics).
    """
    check = config["check"]
    if check not in _BY_NAME:
        raise ValidationError(f"unknown check {check!r}: expected one of {CHECKS}")
    return _BY_NAME[check].execute(config, seed)


def verdict(results: list[tuple[dict, dict]]) -> list[Verdict]:
    """One or more verdicts per check present in ``results`` (``(config, metrics)`` pairs),
    in :data:`CHECKS` order."""
    out: list[Verdict] = []
    for check in RECORDS:
        rs = _runs_of(results, check.name)
        if rs:
            out += check.verdict(rs)
    return out


def render(results: list[tuple[dict, dict]], out: Path) -> str:
    """The report section: the verdicts, one table per check and one PNG (written to ``out``)."""
    parts = [
        f"## {TITLE}",
        "Every number below is computed exactly (no sampling) with the per-step complete "
        "deviation class unless a column says otherwise, and compared with the proof's "
        "formula to 1e-9. Checks on the paper's constructions are deterministic and need no "
        "seed; random games, experts and perturbations draw from the seed shown.",
    ]
    verdicts = verdict(results)
    if verdicts:
        parts.append(
            md_table(
                ["claim", "assumption", "paper's statement", "measured", "verdict", "criterion"],
                [
                    [v.claim, v.assumption, v.bound, v.measured, v.word, v.criterion]
                    for v in verdicts
                ],
            )
        )
    for check in RECORDS:
        rs = _runs_of(results, check.name)
        if rs:
            parts += check.render(rs)
    png = plot(
        {check.figure: _runs_of(results, check.name) for check in RECORDS if check.figure}, out
    )
    if png:
        parts.append(f"![measured regret gap against the proofs' formulas]({png})")
    return "\n\n".join(parts) + "\n"


def main(args: Args) -> list[Verdict]:
    """Run every check serially and print the verdicts (as ``regretgap reproduce`` does)."""
    return run_module(sys.modules[__name__], args)
