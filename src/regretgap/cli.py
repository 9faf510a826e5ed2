"""Command line: ``regretgap reproduce`` (the main job) and commands for users' own files.

- ``reproduce``: measure the paper's Table 1 into a report folder (resumable).
- ``evaluate GAME POLICY [--expert EXPERT]``: per-agent values, regret with the worst
  deviation found, and the gaps.
- ``solve-ce GAME -o EXPERT``: a correlated-equilibrium expert policy.
- ``sample GAME POLICY -n N -o DEMOS``: expert demonstrations.
- ``learn ALGORITHM GAME (--demos DEMOS | --expert EXPERT) -o POLICY``: a learned policy.
- ``make-game NAME -o GAME``: a built-in game (paper construction, matrix, random, Braess)
  as a game file.
- ``demo``: the Theorem 4.5 table.

``--json`` (before or after the command) prints machine-readable output. Errors are
caught in :func:`main` only: a bad file or argument prints one line on standard error and
exits with status 2; an unexpected error prints one line and exits with status 1
(``--debug`` shows its traceback). Ctrl-C and SIGTERM print one line and exit with 130
and 143; finished ``reproduce`` runs are kept. Outputs never destroy inputs: an output
equal to an input, in a missing folder, or (without ``--force``) an existing file is
refused before any work.
"""

from __future__ import annotations

import argparse
import json
import signal
import sqlite3
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

import regretgap as rg
from regretgap import io
from regretgap.errors import ValidationError
from regretgap.games import theorem_4_5
from regretgap.registry import DEMONSTRATIONS, LEARNERS, QUERIES, learner

#: Built-in games of ``make-game`` (see :func:`_build_game`).
GAMES = (
    "theorem_4_5",
    "theorem_5_4",
    "theorem_5_8",
    "theorem_4_4",
    "lemma_f1",
    "lemma_f1_prime",
    "lemma_f2",
    "chicken",
    "coordination",
    "shapley",
    "matrix",
    "random",
    "braess",
    "grid_world",
    "two_path",
)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that it unwinds like Ctrl-C."""


def _emit(args: argparse.Namespace, payload: dict, lines: list[str]) -> int:
    if args.json:
        print(json.dumps(payload, indent=2))
    else:
        print("\n".join(lines))
    return 0


def _output(args: argparse.Namespace, *inputs: str | None) -> Path:
    """Check ``args.output`` before any work (see :func:`regretgap.io.check_output`)."""
    return io.check_output(args.output, inputs=inputs, overwrite=args.force)


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


def _describe_deviation(game: rg.MarkovGame, agent: int, phi: np.ndarray) -> list[dict]:
    """Every entry where the deviation departs from the recommendation, at (h, s) pairs
    the game can reach at step h."""
    n = game.num_actions[agent]
    diff = np.argwhere((np.asarray(phi) != np.arange(n)) & game.reachable[..., None])
    return [
        {"h": int(h), "s": int(s), "recommended": int(a), "played": int(phi[h, s, a])}
        for h, s, a in diff
    ]


def _evaluate(args: argparse.Namespace) -> int:
    game = io.load_game(args.game)
    sigma = io.load_policy(args.policy, game)
    expert = io.load_policy(args.expert, game) if args.expert else None
    rep = rg.regret(game, sigma, kind=args.kind)
    departs = _describe_deviation(game, rep.agent, rep.deviations[rep.agent])
    shown = departs[: args.show]
    payload = {
        "values": rep.agent_values.tolist(),
        "regret": rep.value,
        "per_agent_regret": rep.per_agent.tolist(),
        "worst_agent": rep.agent,
        "worst_deviation": shown,
        "worst_deviation_entries": len(departs),
        "kind": args.kind,
    }
    lines = [f"game: {game}", "agent  value        regret"]
    lines += [
        f"{i:>5}  {v:>11.6f}  {r:>11.6f}"
        for i, (v, r) in enumerate(zip(rep.agent_values, rep.per_agent, strict=True))
    ]
    more = len(departs) - len(shown)
    where = shown or "no (h, s): obeying is best"
    lines.append(
        f"regret R(sigma) = {rep.value:.6f} (agent {rep.agent}); its deviation departs at "
        f"{where}" + (f" ... and {more} more (--show N lists more)" if more > 0 else "")
    )
    if expert is not None:
        payload["value_gap"] = rg.value_gap(game, expert, sigma)
        payload["regret_gap"] = rg.regret_gap(game, expert, sigma, kind=args.kind)
        lines.append(
            f"value gap {payload['value_gap']:.6f}, regret gap {payload['regret_gap']:.6f}"
        )
    return _emit(args, payload, lines)


def _solve_ce(args: argparse.Namespace) -> int:
    out = _output(args, args.game)
    game = io.load_game(args.game)
    sigma = rg.markov_ce(
        game, objective=args.objective, kind=args.kind, rng=np.random.default_rng(args.seed)
    )
    io.save_policy(out, sigma, overwrite=args.force)
    rep = rg.regret(game, sigma, kind=args.kind)
    payload = {
        "output": str(out),
        "values": rg.values(game, sigma).tolist(),
        "regret": rep.value,
    }
    return _emit(
        args, payload, [f"wrote {out}: values {payload['values']}, regret {rep.value:.2e}"]
    )


def _sample(args: argparse.Namespace) -> int:
    out = _output(args, args.game, args.policy)
    game = io.load_game(args.game)
    sigma = io.load_policy(args.policy, game)
    traj = rg.sample_trajectories(game, sigma, args.n, rng=np.random.default_rng(args.seed))
    io.save_demonstrations(out, rg.as_demonstrations(traj), overwrite=args.force)
    return _emit(
        args,
        {"output": str(out), "trajectories": args.n},
        [f"wrote {args.n} trajectories to {out}"],
    )


#: The learners ``regretgap learn`` runs (the registry's, less the Nash learners, which
#: need a per-agent expert and, for MAIL-BRO, a best-response oracle).
CLI_LEARNERS = tuple(n for n in LEARNERS if n not in ("murmail", "mail_bro"))


def _learn(args: argparse.Namespace) -> int:
    spec = learner(args.algorithm)
    querying = [n for n in CLI_LEARNERS if LEARNERS[n].learns_from == QUERIES]
    if spec.learns_from == QUERIES and not args.expert:
        raise ValidationError(f"{spec.name} needs --expert EXPERT (a queryable expert policy)")
    if spec.learns_from == DEMONSTRATIONS:
        if not args.demos:
            raise ValidationError(f"{spec.name} needs --demos DEMOS")
        if args.expert:
            raise ValidationError(
                f"{spec.name} learns from --demos only; --expert is for "
                f"{' and '.join(sorted(querying))} (drop it)"
            )
    if args.deviation_rate and "deviation_rate" not in spec.options:
        raise ValidationError(
            f"--deviation-rate is DAgger's roll-in noise; {spec.name} does not take it"
        )
    out = _output(args, args.game, args.demos, args.expert)
    game = io.load_game(args.game)
    rng = np.random.default_rng(args.seed)
    demos = io.load_demonstrations(args.demos, game) if args.demos else None
    extra: dict[str, Any] = {}
    if spec.learns_from == QUERIES:
        sigma_e = io.load_policy(args.expert, game)
        expert = rg.QueryableExpert(sigma_e, game, answers=args.answers, rng=rng)
        noise = {"deviation_rate": args.deviation_rate} if "deviation_rate" in spec.options else {}
        res = spec.exact(game, expert, rng=rng, demos=demos, rounds=args.rounds, **noise)
        extra = {"queries": res.queries}
    elif spec.name == "jbc":
        res = spec.exact(game, demos)
    elif spec.name == "jirl":
        res = spec.exact(game, demos, rng=rng, rounds=max(args.rounds, 1) * 10)
    else:
        try:
            res = spec.exact(
                game, demos, rng=rng, rounds=args.rounds, clip_weights=args.clip_weights
            )
        except rg.CoverageError as exc:
            # the library names its keyword; on the command line it is a flag
            raise ValidationError(str(exc).replace("clip_weights=True", "--clip-weights")) from exc
    io.save_policy(out, res.policy, overwrite=args.force)
    payload = {"output": str(out), "algorithm": args.algorithm, **extra}
    return _emit(
        args,
        payload,
        [
            f"wrote {args.algorithm} policy to {out}"
            + (f" ({extra['queries']} expert queries)" if extra else "")
        ],
    )


def _build_game(args: argparse.Namespace) -> tuple[rg.MarkovGame, np.ndarray | None, str]:
    """The game ``args.name`` with its built-in expert policy (or None) and a description."""
    from regretgap import games
    from regretgap.games import routing

    name, horizon = args.name, args.horizon
    if name in ("theorem_4_5", "theorem_5_4", "theorem_5_8"):
        h = horizon or 10
        if name == "theorem_4_5":
            c = games.theorem_4_5(h)
            return c.game, c.expert, f"{c.source}, H={h}"
        maker = games.theorem_5_4 if name == "theorem_5_4" else games.theorem_5_8
        c = maker(h, args.beta, args.epsilon, args.u)
        return c.game, c.expert, f"{c.source}, H={h}, beta={args.beta}, eps={args.epsilon}"
    if name in ("theorem_4_4", "lemma_f1", "lemma_f1_prime", "lemma_f2"):
        c = {
            "theorem_4_4": games.theorem_4_4,
            "lemma_f1": lambda: games.lemma_f1(False),
            "lemma_f1_prime": lambda: games.lemma_f1(True),
            "lemma_f2": games.lemma_f2,
        }[name]()
        game = c.game.with_horizon(horizon) if horizon else c.game
        return game, c.expert, c.source
    if name in ("chicken", "coordination", "shapley", "matrix"):
        if name == "matrix":
            if args.payoffs is None:
                raise ValidationError("make-game matrix needs --payoffs (a JSON [m, n_0, ...])")
            game, expert = games.matrix_game(args.payoffs), None
        else:
            game, expert = getattr(games, name)()
        game = game.with_horizon(horizon) if horizon else game
        return game, expert, f"{name} matrix game, H={game.horizon}"
    if name == "random":
        game = games.random_game(
            args.states,
            tuple(args.actions),
            horizon or 5,
            rng=np.random.default_rng(args.seed),
            branching=args.branching,
            layered=args.layered,
        )
        return game, None, f"random game, seed {args.seed}"
    if name == "grid_world":
        grid = games.grid_world(horizon=horizon or 6)
        return grid.game, grid.sigma_expert, f"zero-sum grid world, H={grid.game.horizon}"
    if name == "two_path":
        tp = games.two_path_game(args.mix, horizon=horizon or 2)
        return tp.game, tp.sigma_expert, f"two-path game, mix p={args.mix}, H={tp.game.horizon}"
    rgame = routing.braess(horizon=horizon or 3)
    return rgame.game, None, f"Braess routing game ({len(rgame.od)} drivers)"


def _make_game(args: argparse.Namespace) -> int:
    out = _output(args)
    expert_out = None
    if args.expert_output:
        if args.name in ("random", "braess", "matrix"):
            raise ValidationError(
                f"{args.name} has no built-in expert; write one with regretgap solve-ce"
            )
        expert_out = io.check_output(args.expert_output, inputs=[out], overwrite=args.force)
    game, expert, what = _build_game(args)
    io.save_game(out, game, overwrite=args.force)
    lines = [f"wrote {what} to {out}: {game}"]
    payload: dict[str, Any] = {"output": str(out), "game": args.name, "description": what}
    if expert_out is not None:
        io.save_policy(expert_out, expert, overwrite=args.force)
        payload["expert_output"] = str(expert_out)
        lines.append(f"wrote its expert policy to {expert_out}")
    return _emit(args, payload, lines)


def _reproduce(args: argparse.Namespace) -> int:
    from regretgap.experiments import reproduce

    outcome = reproduce.main(
        reproduce.Args(
            out=Path(args.out),
            quick=args.quick,
            workers=args.workers,
            progress=not args.json,
            ray=args.ray,  # a missing ray extra is a ValidationError: one line, exit 2
            force=args.force,
        )
    )
    payload = {
        "report": str(outcome.report),
        "database": str(outcome.database),
        "ran": outcome.ran,
        "skipped": outcome.skipped,
        "unavailable": list(outcome.unavailable),
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


def _integer(low: int, what: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{what} must be an integer, got {text!r}") from exc
        if value < low:
            raise argparse.ArgumentTypeError(f"{what} must be >= {low}, got {value}")
        return value

    parse.__name__ = what  # argparse names the type in its messages
    return parse


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from exc
    if not np.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from exc
    if not 0 <= value <= 1:  # NaN fails too
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1], got {text!r}")
    return value


def _payoffs(text: str) -> np.ndarray:
    try:
        return np.asarray(json.loads(text), dtype=np.float64)
    except (json.JSONDecodeError, TypeError, ValueError) as exc:
        raise argparse.ArgumentTypeError(
            f"payoffs must be a JSON array [m, n_0, ..., n_(m-1)] of numbers, got {text!r}"
        ) from exc


_horizon_2 = _integer(2, "horizon")
_positive = _integer(1, "a positive integer")
_seed = _integer(0, "seed")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: ...)`` where a default means something (not for flags)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        # identity, not ==: a default of 0 is worth showing, False (a flag) is not
        if any(action.default is x for x in (None, False, argparse.SUPPRESS)):
            return action.help or ""
        return super()._get_help_string(action) or ""


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line, like every other error (the usage is one --help away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _global_flags(parser: argparse.ArgumentParser, *, top: bool) -> None:
    # in the subcommands the default is SUPPRESS, so a flag given before the command is
    # not reset to False by the subcommand's parser
    default = False if top else argparse.SUPPRESS
    parser.add_argument(
        "--json", action="store_true", default=default, help="machine-readable output"
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=default,
        help="show the Python traceback of an unexpected error",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``regretgap`` argument parser."""
    parser = _Parser(
        prog="regretgap",
        description="Exact value and regret gaps of mediators in Markov games.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"regretgap {rg.__version__}")
    _global_flags(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, func: Callable, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name, help=help_text, description=help_text, formatter_class=_HelpFormatter
        )
        _global_flags(p, top=False)
        p.set_defaults(func=func)
        return p

    def output(p: argparse.ArgumentParser, what: str) -> None:
        p.add_argument("-o", "--output", required=True, help=f"{what} file to write (.npz)")
        p.add_argument("--force", action="store_true", help="replace the output if it exists")

    p = command("reproduce", _reproduce, "measure the paper's Table 1 into a report (resumable)")
    p.add_argument(
        "--out",
        default="regretgap-report",
        help="output folder (created if missing; its parent must exist); rerun to resume",
    )
    p.add_argument("--quick", action="store_true", help="the CI form (under a minute)")
    p.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="local processes (with --ray and no address: CPUs of the local Ray instance)",
    )
    p.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="ADDRESS",
        help='run on Ray (pip install "regretgap[ray]"): alone, a local Ray instance; '
        "'auto' or HOST:PORT, the cluster joined with 'ray start'; the database stays here",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace a report.md or PNG in --out that reproduce did not write",
    )

    p = command("evaluate", _evaluate, "values, regret and gaps of a policy on a game")
    p.add_argument("game", help="game file (.npz)")
    p.add_argument("policy", help="policy file (.npz)")
    p.add_argument("--expert", help="expert policy file: also print the value and regret gaps")
    p.add_argument("--kind", choices=("ce", "cce", "swap"), default="ce", help="deviation class")
    p.add_argument(
        "--show",
        type=_integer(0, "--show"),
        default=8,
        help="entries of the worst deviation to list",
    )

    p = command("solve-ce", _solve_ce, "write a correlated-equilibrium expert policy")
    p.add_argument("game", help="game file (.npz)")
    output(p, "expert policy")
    p.add_argument(
        "--objective",
        choices=("welfare", "egalitarian", "random"),
        default="welfare",
        help="which equilibrium: max total value, max minimum value, or a random direction",
    )
    p.add_argument(
        "--kind",
        choices=("ce", "cce"),
        default="ce",
        help="correlated or coarse correlated equilibrium",
    )
    p.add_argument("--seed", type=_seed, default=0, help="random seed for --objective random")

    p = command("sample", _sample, "write demonstrations sampled from a policy")
    p.add_argument("game", help="game file (.npz)")
    p.add_argument("policy", help="policy file (.npz) to sample from")
    p.add_argument("-n", type=_positive, required=True, help="number of trajectories")
    output(p, "demonstrations")
    p.add_argument("--seed", type=_seed, default=0, help="random seed")

    p = command("learn", _learn, "learn a mediator policy from demonstrations or an expert")
    p.add_argument(
        "algorithm",
        choices=CLI_LEARNERS,
        help="learning algorithm (alice and dagger: the single-agent analogues)",
    )
    p.add_argument("game", help="game file (.npz)")
    p.add_argument(
        "--demos",
        help="demonstrations file (jbc, jirl, alice, malice; optional for blades, dagger)",
    )
    p.add_argument("--expert", help="expert policy file (blades and dagger query it)")
    p.add_argument(
        "--answers",
        choices=("distribution", "sampled"),
        default="distribution",
        help="how the expert answers blades and dagger: its whole distribution, or one "
        "sampled joint recommendation per query",
    )
    output(p, "learned policy")
    p.add_argument(
        "--rounds", type=_positive, default=5, help="learner rounds (jirl runs 10x as many)"
    )
    p.add_argument("--seed", type=_seed, default=0, help="random seed")
    p.add_argument(
        "--clip-weights",
        action="store_true",
        help="alice, malice: ignore states the demonstrations never cover (no coverage check)",
    )
    p.add_argument(
        "--deviation-rate",
        type=_probability,
        default=0.0,
        help="dagger: each agent plays a uniformly random action instead of its "
        "recommendation with this probability at every roll-in step (noise injection)",
    )

    p = command("make-game", _make_game, "write a built-in game to a game file")
    p.add_argument("name", choices=GAMES, help="which game")
    output(p, "game")
    p.add_argument(
        "--expert-output",
        help="also write the game's built-in expert policy here (paper and matrix games)",
    )
    p.add_argument(
        "--horizon",
        type=_positive,
        help="H (default: 10 for theorems 4.5, 5.4, 5.8; 5 random; 3 braess; 1 matrix games; "
        "6 grid_world; 2 two_path)",
    )
    p.add_argument("--beta", type=_positive_float, default=0.2, help="coverage (theorems 5.4, 5.8)")
    p.add_argument(
        "--epsilon", type=_positive_float, default=0.01, help="error eps (theorems 5.4, 5.8)"
    )
    p.add_argument(
        "--u", type=_positive_float, default=4.0, help="recoverability (theorems 5.4, 5.8)"
    )
    p.add_argument(
        "--payoffs",
        type=_payoffs,
        help="matrix: payoffs as JSON [m, n_0, ..., n_(m-1)], e.g. [[[0,7],[2,6]],[[0,2],[7,6]]]",
    )
    p.add_argument(
        "--mix",
        type=_probability,
        default=0.0,
        help="two_path: the expert's weight on the right path",
    )
    p.add_argument("--states", type=_positive, default=10, help="random: number of states")
    p.add_argument(
        "--actions", type=_positive, nargs="+", default=[2, 2], help="random: actions per agent"
    )
    p.add_argument("--branching", type=_positive, default=3, help="random: successors per (s, a)")
    p.add_argument("--layered", action="store_true", help="random: layered states")
    p.add_argument("--seed", type=_seed, default=0, help="random: seed")

    p = command("demo", _demo, "Theorem 4.5: value gap 0, regret gap H - 2")
    p.add_argument(
        "--horizons",
        type=_horizon_2,
        nargs="+",
        default=[2, 5, 10, 20],
        metavar="H",
        help="horizons of the table",
    )
    return parser


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``regretgap`` console script; returns the exit status.

    0 on success, 2 for a bad file or argument (one line on standard error), 1 for an
    unexpected error (one line; ``--debug`` re-raises it), 130 for Ctrl-C, 143 for SIGTERM.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    previous = None
    # the console script (_regretgap_cli) already ends the process on SIGTERM with one line;
    # so does python -m regretgap.cli; called as a function, SIGTERM unwinds like Ctrl-C
    if threading.current_thread() is threading.main_thread() and signal.getsignal(
        signal.SIGTERM
    ) in (signal.SIG_DFL, None):
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return args.func(args)
    except Terminated:
        print("regretgap: terminated (finished runs are saved; rerun to resume)", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("regretgap: interrupted (finished runs are saved; rerun to resume)", file=sys.stderr)
        return 130
    except (ValidationError, rg.SolverError) as exc:
        print(f"regretgap: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except sqlite3.Error as exc:
        print(f"regretgap: error: results database: {_one_line(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        print(f"regretgap: error: {exc.strerror or _one_line(exc)}{where}", file=sys.stderr)
        return 2
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"regretgap: unexpected error: {type(exc).__name__}: {_one_line(exc)} "
            f"(run with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    # python -m regretgap.cli: signals end the process with one line, as in the console
    # script (an exception raised by a handler can land inside numba's compiler, which then
    # fails with its own error instead)
    from _regretgap_cli import install

    install()
    sys.exit(main())
