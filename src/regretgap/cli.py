"""Command line: ``regretgap`` (the main job) and its subcommands.

For now the main job is a short demonstration of the paper's central separation
(Theorem 4.5): a learner with the expert's exact occupancy measure (value gap 0) whose
regret gap grows like ``H - 2``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

import regretgap as rg
from regretgap.errors import ValidationError
from regretgap.games import theorem_4_5


def _demo(args: argparse.Namespace) -> int:
    rows = []
    for horizon in args.horizons:
        c = theorem_4_5(horizon)
        cov = rg.coverage(c.game, c.expert)
        rows.append(
            {
                "H": horizon,
                "value_gap": rg.value_gap(c.game, c.expert, c.learner),
                "regret_gap": rg.regret_gap(c.game, c.expert, c.learner),
                "proof_regret_gap": c.expected["regret_gap"],
                "regret_gap_uniform_at_s1": rg.regret_gap(
                    c.game, c.expert, c.policies["uniform_at_s1"]
                ),
                "uncovered_states": [int(s) for s in cov.uncovered],
            }
        )
    if args.json:
        print(json.dumps({"theorem": "4.5", "rows": rows}, indent=2))
        return 0
    print("Theorem 4.5 (value is easy, regret is hard): the learner matches the expert's")
    print("occupancy measure exactly, yet agents gain H - 2 by deviating from it.\n")
    print(
        f"{'H':>4} {'value gap':>10} {'regret gap':>11} {'proof (H-2)':>12} "
        f"{'uniform at s1':>14}  states deviations reach but the expert never visits"
    )
    for r in rows:
        print(
            f"{r['H']:>4} {r['value_gap']:>10.4f} {r['regret_gap']:>11.4f} "
            f"{r['proof_regret_gap']:>12.4f} {r['regret_gap_uniform_at_s1']:>14.4f}  "
            f"{r['uncovered_states']}"
        )
    return 0


def _positive_horizon(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"horizon must be an integer, got {text!r}") from exc
    if value < 2:
        raise argparse.ArgumentTypeError(f"horizon must be >= 2 for Theorem 4.5, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The ``regretgap`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="regretgap",
        description="Exact value and regret gaps of mediators in Markov games.",
    )
    parser.add_argument("--version", action="version", version=f"regretgap {rg.__version__}")
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser(
        "demo", help="Theorem 4.5: value gap 0, regret gap H - 2 (the default job)"
    )
    demo.add_argument(
        "--horizons",
        type=_positive_horizon,
        nargs="+",
        default=[2, 5, 10, 20],
        metavar="H",
        help="horizons to evaluate (default: 2 5 10 20)",
    )
    demo.add_argument("--json", action="store_true", help="machine-readable output")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``regretgap`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["demo", *([] if argv is None else argv)])
    try:
        return args.func(args)
    except ValidationError as exc:
        print(f"regretgap: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
