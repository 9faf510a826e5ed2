"""Command line: ``regretgap reproduce`` (the main job) and commands for users' own files.

- ``reproduce``: measure the paper's Table 1 into a report folder (resumable).
- ``evaluate GAME POLICY [--expert EXPERT]``: per-agent values, regret with the worst
  deviation found, and the gaps.
- ``solve-ce GAME -o EXPERT``: a correlated-equilibrium expert policy.
- ``sample GAME POLICY -n N -o DEMOS``: expert demonstrations.
- ``learn ALGORITHM GAME (--demos DEMOS | --expert EXPERT) -o POLICY``: a learned policy.
- ``demo``: the Theorem 4.5 table.

``--json`` prints machine-readable output. A bad file or argument exits with status 2 and
one line on standard error, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import regretgap as rg
from regretgap import io
from regretgap.errors import ValidationError
from regretgap.games import theorem_4_5


def _emit(args: argparse.Namespace, payload: dict, lines: list[str]) -> int:
    if args.json:
        print(json.dumps(payload, indent=2))
    else:
        print("\n".join(lines))
    return 0


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
    lines = [
        "Theorem 4.5 (value is easy, regret is hard): the learner matches the expert's",
        "occupancy measure exactly, yet agents gain H - 2 by deviating from it.",
        "",
        f"{'H':>4} {'value gap':>10} {'regret gap':>11} {'proof (H-2)':>12} "
        f"{'uniform at s1':>14}  states deviations reach but the expert never visits",
    ]
    for r in rows:
        lines.append(
            f"{r['H']:>4} {r['value_gap']:>10.4f} {r['regret_gap']:>11.4f} "
            f"{r['proof_regret_gap']:>12.4f} {r['regret_gap_uniform_at_s1']:>14.4f}  "
            f"{r['uncovered_states']}"
        )
    return _emit(args, {"theorem": "4.5", "rows": rows}, lines)


def _describe_deviation(game: rg.MarkovGame, agent: int, phi: np.ndarray, limit: int = 8) -> list:
    """The entries where the deviation departs from the recommendation, at (h, s) pairs
    the game can reach at step h."""
    n = game.num_actions[agent]
    diff = np.argwhere((np.asarray(phi) != np.arange(n)) & game.reachable[..., None])
    return [
        {"h": int(h), "s": int(s), "recommended": int(a), "played": int(phi[h, s, a])}
        for h, s, a in diff[:limit]
    ]


def _evaluate(args: argparse.Namespace) -> int:
    game = io.load_game(args.game)
    sigma = io.load_policy(args.policy, game)
    rep = rg.regret(game, sigma, kind=args.kind)
    payload = {
        "values": rep.values.tolist(),
        "regret": rep.value,
        "per_agent_regret": rep.per_agent.tolist(),
        "worst_agent": rep.agent,
        "worst_deviation": _describe_deviation(game, rep.agent, rep.deviations[rep.agent]),
        "kind": args.kind,
    }
    lines = [f"game: {game}", "agent  value        regret"]
    lines += [
        f"{i:>5}  {v:>11.6f}  {r:>11.6f}"
        for i, (v, r) in enumerate(zip(rep.values, rep.per_agent, strict=True))
    ]
    lines.append(
        f"regret R(sigma) = {rep.value:.6f} (agent {rep.agent}); its deviation departs "
        f"at {payload['worst_deviation'] or 'no (h, s): obeying is best'}"
    )
    if args.expert:
        expert = io.load_policy(args.expert, game)
        payload["value_gap"] = rg.value_gap(game, expert, sigma)
        payload["regret_gap"] = rg.regret_gap(game, expert, sigma, kind=args.kind)
        lines.append(
            f"value gap {payload['value_gap']:.6f}, regret gap {payload['regret_gap']:.6f}"
        )
    return _emit(args, payload, lines)


def _solve_ce(args: argparse.Namespace) -> int:
    game = io.load_game(args.game)
    sigma = rg.markov_ce(
        game, objective=args.objective, kind=args.kind, rng=np.random.default_rng(args.seed)
    )
    io.save_policy(args.output, sigma)
    rep = rg.regret(game, sigma, kind=args.kind)
    payload = {
        "output": str(args.output),
        "values": rg.values(game, sigma).tolist(),
        "regret": rep.value,
    }
    return _emit(
        args, payload, [f"wrote {args.output}: values {payload['values']}, regret {rep.value:.2e}"]
    )


def _sample(args: argparse.Namespace) -> int:
    game = io.load_game(args.game)
    sigma = io.load_policy(args.policy, game)
    traj = rg.sample_trajectories(game, sigma, args.n, rng=np.random.default_rng(args.seed))
    io.save_demonstrations(args.output, rg.as_demonstrations(traj))
    return _emit(
        args,
        {"output": str(args.output), "trajectories": args.n},
        [f"wrote {args.n} trajectories to {args.output}"],
    )


def _learn(args: argparse.Namespace) -> int:
    game = io.load_game(args.game)
    rng = np.random.default_rng(args.seed)
    if args.algorithm == "blades":
        if not args.expert:
            raise ValidationError("blades needs --expert EXPERT (a queryable expert policy)")
        expert = rg.QueryableExpert(io.load_policy(args.expert, game), game)
        demos = io.load_demonstrations(args.demos, game) if args.demos else None
        res = rg.blades(game, expert, rng=rng, demos=demos, rounds=args.rounds)
        extra = {"queries": res.queries}
    else:
        if not args.demos:
            raise ValidationError(f"{args.algorithm} needs --demos DEMOS")
        demos = io.load_demonstrations(args.demos, game)
        if args.algorithm == "jbc":
            res = rg.jbc(game, demos)
        elif args.algorithm == "jirl":
            res = rg.jirl(game, demos, rng=rng, rounds=max(args.rounds, 1) * 10)
        else:
            res = rg.malice(
                game, demos, rng=rng, rounds=args.rounds, clip_weights=args.clip_weights
            )
        extra = {}
    io.save_policy(args.output, res.policy)
    payload = {"output": str(args.output), "algorithm": args.algorithm, **extra}
    return _emit(
        args,
        payload,
        [
            f"wrote {args.algorithm} policy to {args.output}"
            + (f" ({extra['queries']} expert queries)" if extra else "")
        ],
    )


def _reproduce(args: argparse.Namespace) -> int:
    from regretgap.experiments import reproduce

    outcome = reproduce.main(
        reproduce.Args(
            out=Path(args.out), quick=args.quick, workers=args.workers, progress=not args.json
        )
    )
    payload = {
        "report": str(outcome.report),
        "database": str(outcome.database),
        "ran": outcome.ran,
        "skipped": outcome.skipped,
    }
    return _emit(
        args,
        payload,
        [
            f"report: {outcome.report} ({outcome.ran} runs done now, {outcome.skipped} "
            f"already finished)",
            f"results: {outcome.database}",
        ],
    )


def _horizon(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"horizon must be an integer, got {text!r}") from exc
    if value < 2:
        raise argparse.ArgumentTypeError(f"horizon must be >= 2 for Theorem 4.5, got {value}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The ``regretgap`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="regretgap", description="Exact value and regret gaps of mediators in Markov games."
    )
    parser.add_argument("--version", action="version", version=f"regretgap {rg.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, func, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.set_defaults(func=func)
        return p

    p = command("reproduce", _reproduce, "measure the paper's Table 1 into a report (resumable)")
    p.add_argument("--out", default="regretgap-report", help="output folder")
    p.add_argument("--quick", action="store_true", help="the CI form (under a minute)")
    p.add_argument("--workers", type=_positive, default=1, help="local processes")

    p = command("evaluate", _evaluate, "values, regret and gaps of a policy on a game")
    p.add_argument("game", help="game file (.npz)")
    p.add_argument("policy", help="policy file (.npz)")
    p.add_argument("--expert", help="expert policy file: also print the value and regret gaps")
    p.add_argument("--kind", choices=("ce", "cce", "swap"), default="ce", help="deviation class")

    p = command("solve-ce", _solve_ce, "write a correlated-equilibrium expert policy")
    p.add_argument("game")
    p.add_argument("-o", "--output", required=True, help="policy file to write")
    p.add_argument("--objective", choices=("welfare", "egalitarian", "random"), default="welfare")
    p.add_argument("--kind", choices=("ce", "cce"), default="ce")
    p.add_argument("--seed", type=int, default=0, help="for --objective random")

    p = command("sample", _sample, "write demonstrations sampled from a policy")
    p.add_argument("game")
    p.add_argument("policy")
    p.add_argument("-n", type=_positive, required=True, help="trajectories")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--seed", type=int, default=0)

    p = command("learn", _learn, "learn a mediator policy from demonstrations or an expert")
    p.add_argument("algorithm", choices=("jbc", "jirl", "malice", "blades"))
    p.add_argument("game")
    p.add_argument("--demos", help="demonstrations file")
    p.add_argument("--expert", help="expert policy file (BLADES queries it)")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--rounds", type=_positive, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--clip-weights", action="store_true", help="MALICE without coverage")

    p = command("demo", _demo, "Theorem 4.5: value gap 0, regret gap H - 2")
    p.add_argument("--horizons", type=_horizon, nargs="+", default=[2, 5, 10, 20], metavar="H")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``regretgap`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except ValidationError as exc:
        print(f"regretgap: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("regretgap: interrupted (finished runs are saved; rerun to resume)", file=sys.stderr)
        return 130
    except OSError as exc:
        print(
            f"regretgap: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
