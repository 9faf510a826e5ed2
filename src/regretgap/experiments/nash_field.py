"""The field on the same games: CE regret gap and Nash gap against the expert budget.

Seven learners run on five games at growing expert budgets, every run scored by both
metrics of the field:

- the **CE regret gap** of this library's paper (:func:`regretgap.regret_gap`, the learned
  mediator's incentive to deviate from recommendations beyond the expert's);
- the **Nash gap** of the Nash papers (Freihaut et al., NeurIPS 2025 and arXiv 2510.09325):
  ``max_i max_{pi_i'} J_i(pi_i', pi_-i) - J_i(pi)``, :func:`regretgap.nash_gap` on the
  per-agent outputs; for a joint mediator the same formula, a deviation that ignores its
  recommendations (``regret(..., kind="cce")``, equal to ``nash_gap`` on a product).

Learners: J-BC with the joint table, J-BC with per-agent tables
(:class:`regretgap.ProductTabular`, the Nash papers' BC), MALICE (demonstrations only);
DAgger and BLADES (a queryable expert, seeded with the smallest demonstration budget);
MURMAIL and MAIL-BRO (a queryable expert answering per agent; MAIL-BRO also a best-response
oracle, whose calls are counted apart). Every expert is a Nash equilibrium (a product of
per-agent policies), so both metrics of the expert are 0 and both gaps are the learner's
own exploitability.

The x-axis counts **expert answers per agent**: a demonstration of ``H`` steps gives
``m H`` (each step shows every agent's action), a joint query (DAgger, BLADES) ``m``, and a
per-agent query (MURMAIL, MAIL-BRO) 1, including the two answers per reachable ``(h, s)``
that MURMAIL spends on its uncertainty reward.

Games: :func:`~regretgap.games.theorem_4_5` (its pure CE expert is a pure Nash
equilibrium), the zero-sum :func:`~regretgap.games.grid_world`, the two-path game
:func:`~regretgap.games.two_path_game` at ``p = 0`` (concentrability infinite) and
``p = 0.1`` (concentrability 10), and a seeded random zero-sum game with its Shapley
expert. :func:`regretgap.concentrability` is measured on each and decides which of the
Nash papers' BC claims applies.

Verdicts (each can say "inconsistent"): per-agent BC's Nash gap stays bounded away from 0
as demonstrations grow where the coefficient is infinite, and falls where it is finite;
MURMAIL's Nash gap falls with queries; MAIL-BRO reaches MURMAIL's final Nash gap with
fewer expert answers. The report adds a "which algorithm when" table.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NamedTuple

import numpy as np

import regretgap as rg
from regretgap.experiments._render import md_table, pyplot, save_png
from regretgap.experiments._suite import NAMES, RunSpec, data_rng, learn
from regretgap.experiments._verdict import (
    CONSISTENT,
    INCONSISTENT,
    MARGIN_FLOOR,
    MARGIN_FRACTION,
    NOT_APPLICABLE,
    TOLERANCE,
    Interval,
    Verdict,
    clean,
    fmt,
    fmt_ci,
    judge,
    mean_ci,
    non_inferiority,
    select,
)
from regretgap.games import grid_world, random_game, theorem_4_5, two_path_game

NAME = "nash_field"
TITLE = "The field on the same games: CE regret gap and Nash gap vs expert budget"

#: Learners in report order; ``jbc_product`` is J-BC with per-agent tables.
LEARNERS = ("jbc", "jbc_product", "malice", "dagger", "blades", "murmail", "mail_bro")
LABELS = {**NAMES, "jbc_product": "J-BC (per agent)"}
#: Which budget knob each learner's level sets.
DEMO_LEARNERS = ("jbc", "jbc_product", "malice")
QUERY_LEARNERS = ("dagger", "blades")
NASH_LEARNERS = ("murmail", "mail_bro")

GAMES = ("theorem_4_5", "grid", "two_path_0", "two_path_mixed", "random")
GAME_LABELS = {
    "theorem_4_5": "Theorem 4.5 (H = 4)",
    "grid": "grid world (H = 6)",
    "two_path_0": "two paths, p = 0",
    "two_path_mixed": "two paths, p = 0.1",
    "random": "random zero-sum",
}
#: The mixed two-path expert's probability of the right path (concentrability 10).
MIXED_P = 0.1

#: "Bounded away from 0": the Nash gap's 95% CI at the largest demonstration budget stays
#: above this fraction of its mean at the smallest.
KEEP = 0.5

#: The "which algorithm when" table's static columns: what each learner assumes, what it
#: asks per round, and what its paper proves.
WHEN = {
    "jbc": (
        "demonstrations; beta-coverage",
        "none",
        "regret gap O(eps u H / beta) (Thm 5.3)",
    ),
    "jbc_product": (
        "demonstrations; finite concentrability",
        "none",
        "Nash gap falls with data iff concentrability finite (Freihaut et al.)",
    ),
    "malice": (
        "demonstrations covering every state a deviation reaches (beta)",
        "none",
        "regret gap O(eps u H), no 1/beta (Thm 5.7)",
    ),
    "dagger": ("queryable joint expert", "states on its own roll-ins", "value gap only"),
    "blades": (
        "queryable joint expert",
        "states on worst-deviation roll-ins",
        "regret gap O(eps u H) (Thm 5.9)",
    ),
    "murmail": (
        "queryable per-agent (Nash) expert",
        "2 per reachable (h, s) per agent, plus its batch",
        "Nash gap -> 0 without concentrability (Freihaut et al.)",
    ),
    "mail_bro": (
        "queryable per-agent expert and a best-response oracle",
        "its batch; m oracle calls",
        "Nash gap -> 0 with fewer expert queries (Freihaut et al.)",
    ),
}


@dataclass
class Args:
    """Settings of the comparison."""

    demos: tuple[int, ...] = (5, 20, 80, 320)
    """Demonstrations of J-BC, per-agent J-BC and MALICE, per budget level."""
    rollouts: tuple[int, ...] = (1, 4, 16, 64)
    """BLADES roll-ins per agent per round (DAgger: ``m`` times as many), per level."""
    iterations: tuple[int, ...] = (5, 20, 80, 320)
    """MURMAIL and MAIL-BRO iterations, per level."""
    rounds: int = 4
    """DAgger, BLADES and MALICE rounds."""
    batch: int = 16
    """MURMAIL and MAIL-BRO states sampled per agent per iteration."""
    step_size: float = 2.0
    """MURMAIL and MAIL-BRO exponentiated-gradient step."""
    seeds: int = 8
    """Repetitions per (game, learner, level) of the query learners."""
    demo_seeds: int = 30
    """Repetitions of the demonstration learners (cheap; whether a demonstration set
    covers a path is a coin flip per seed, so their intervals need more seeds)."""
    quick: bool = False
    """CI form: the smallest and largest level, three seeds (the demonstration learners
    keep ``demo_seeds``)."""


class Case(NamedTuple):
    """One game of the comparison with its Nash expert (per agent and joint)."""

    game: rg.MarkovGame
    expert: tuple[np.ndarray, ...]
    sigma_expert: np.ndarray


def _marginals(game: rg.MarkovGame, sigma: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per-agent marginals ``[H, S, n_i]`` of a joint policy (``[H, S, A]`` or stationary
    ``[S, A]``) that is their product."""
    if sigma.ndim == 2:
        sigma = np.broadcast_to(sigma, (game.horizon, *sigma.shape))
    shaped = sigma.reshape(*sigma.shape[:2], *game.num_actions)
    m = game.num_agents
    parts = tuple(shaped.sum(axis=tuple(2 + j for j in range(m) if j != i)) for i in range(m))
    if not np.allclose(rg.product_policy(game, parts), sigma, atol=1e-12):
        raise rg.ValidationError("the expert is not a product of per-agent policies")
    return parts


@cache
def coefficient(name: str) -> float:
    """:func:`regretgap.concentrability` of game ``name``'s expert (cached per process)."""
    c = case(name)
    return float(rg.concentrability(c.game, c.sigma_expert).value)


@cache
def case(name: str) -> Case:
    """The game ``name`` (one of :data:`GAMES`) and its Nash expert."""
    if name == "theorem_4_5":
        c = theorem_4_5(4)
        parts = _marginals(c.game, c.expert)
        return Case(c.game, parts, rg.product_policy(c.game, parts))
    if name == "grid":
        g = grid_world(horizon=6)
        return Case(g.game, tuple(g.expert), g.sigma_expert)
    if name in ("two_path_0", "two_path_mixed"):
        t = two_path_game(0.0 if name == "two_path_0" else MIXED_P, horizon=4)
        return Case(t.game, tuple(t.expert), t.sigma_expert)
    if name == "random":
        base = random_game(10, (3, 3), 4, rng=np.random.default_rng(2025), branching=3)
        r0 = np.asarray(base.rewards[0])
        game = rg.MarkovGame(
            base.transitions, np.stack([r0, -r0]), base.initial, horizon=base.horizon,
            num_actions=base.num_actions,
        )  # fmt: skip
        nash = rg.zero_sum_nash(game)
        return Case(game, tuple(nash.policies), rg.product_policy(game, nash.policies))
    raise rg.ValidationError(f"unknown game {name!r}: expected one of {GAMES}")


def runs(args: Args) -> list[RunSpec]:
    """One run per (game, learner, budget level, seed)."""
    levels = [0, len(args.demos) - 1] if args.quick else list(range(len(args.demos)))
    seeds = 3 if args.quick else args.seeds

    def repeats(name: str) -> int:
        return args.demo_seeds if name in DEMO_LEARNERS else seeds

    return [
        RunSpec(
            NAME,
            {"game": g, "learner": name, "level": lv, "demos": args.demos[lv],
             "seed_demos": args.demos[0], "rollouts": args.rollouts[lv],
             "iterations": args.iterations[lv], "rounds": args.rounds, "batch": args.batch,
             "step_size": args.step_size, "seed": k},
        )
        for g in GAMES
        for name in LEARNERS
        for lv in levels
        for k in range(repeats(name))
    ]  # fmt: skip


def _labels_of_demos(game: rg.MarkovGame, n: int) -> int:
    return n * game.horizon * game.num_agents


def execute(config: dict, seed: int) -> dict:
    """One learner at one budget on one game; demonstrations depend on (game, budget,
    seed) only, so the demonstration learners share them."""
    c = case(config["game"])
    game, name = c.game, config["learner"]
    rng = np.random.default_rng(seed)
    m = game.num_agents
    shared = {k: config[k] for k in ("game", "demos", "seed")}
    if name in NASH_LEARNERS:
        expert = rg.QueryableExpert.product(c.expert, game, answers="sampled", rng=rng)
        kw = {"oracle": rg.best_response_oracle(game)} if name == "mail_bro" else {}
        res = getattr(rg, name)(
            game, expert, rng=rng, iterations=config["iterations"], batch=config["batch"],
            step_size=config["step_size"], **kw,
        )  # fmt: skip
        policy = res.policy
        nash = rg.nash_gap(game, res.policies).value
        extra = {"answers": res.queries, "oracle_calls": res.oracle_calls}
    else:
        n = config["demos"] if name in DEMO_LEARNERS else config["seed_demos"]
        demos = rg.sample_trajectories(
            game, c.sigma_expert, n=n, rng=data_rng(NAME, {**shared, "demos": n})
        )
        cls = rg.ProductTabular(game.num_actions) if name == "jbc_product" else None
        policy, extra = learn(
            "jbc" if name == "jbc_product" else name, game, c.sigma_expert, demos, rng,
            rounds=config["rounds"], rollouts=config["rollouts"], policy_class=cls,
        )  # fmt: skip
        if policy is None:
            return extra
        answers = _labels_of_demos(game, n) + m * int(extra.pop("queries", 0))
        extra = {"answers": answers, **extra}
        nash = rg.regret(game, policy, kind="cce").value
    return {
        **extra,
        "regret_gap": clean(rg.regret_gap(game, c.sigma_expert, policy)),
        "nash_gap": clean(nash),
        "value_gap": clean(rg.value_gap(game, c.sigma_expert, policy)),
        "concentrability": coefficient(config["game"]),
    }


# ---------------------------------------------------------------------------------------
# verdicts


def _curve(
    results: list[tuple[dict, dict]], game: str, learner: str, metric: str = "nash_gap"
) -> list[tuple[int, Interval, float]]:
    """Per budget level: ``(level, mean [95% CI] of metric, mean answers)``."""
    out = []
    levels = sorted({c["level"] for c, _ in results if c["game"] == game})
    for lv in levels:
        ms = [m for m in select(results, game=game, learner=learner, level=lv) if metric in m]
        if ms:
            out.append(
                (lv, mean_ci(m[metric] for m in ms), float(np.mean([m["answers"] for m in ms])))
            )
    return out


def _coefficient(results: list[tuple[dict, dict]], game: str) -> float | None:
    values = [m["concentrability"] for m in select(results, game=game) if "concentrability" in m]
    return values[0] if values else None


def _games_by_coverage(results: list[tuple[dict, dict]], finite: bool) -> list[str]:
    out = []
    for g in GAMES:
        c = _coefficient(results, g)
        if c is not None and np.isfinite(c) == finite:
            out.append(g)
    return out


def _row(claim: str, learner: str, assumption: str, bound: str, parts: list[str],
         oks: list[bool], criterion: str, word: str | None = None) -> Verdict:  # fmt: skip
    return Verdict(
        NAME, claim, learner, assumption, bound, "; ".join(parts),
        word if word is not None else judge(all(oks)), criterion, {"games": float(len(oks))},
    )  # fmt: skip


def _bc_rows(results: list[tuple[dict, dict]]) -> list[Verdict]:
    out = []
    for finite in (False, True):
        parts, oks = [], []
        for g in _games_by_coverage(results, finite):
            curve = _curve(results, g, "jbc_product")
            if len(curve) < 2:
                continue
            (_, first, a0), (_, last, a1) = curve[0], curve[-1]
            if finite:
                ok = last.high < first.low
            else:
                ok = last.low > KEEP * first.mean and last.low > TOLERANCE
            oks.append(ok)
            parts.append(
                f"{GAME_LABELS[g]}: {fmt_ci(first)} at {a0:.0f} answers -> {fmt_ci(last)} at "
                f"{a1:.0f}"
            )
        if not oks:
            continue
        if finite:
            out.append(_row(
                "Freihaut et al.: BC's Nash gap falls with data (finite concentrability)",
                LABELS["jbc_product"],
                "per-agent BC, Nash expert, concentrability finite",
                "Nash gap -> 0 as demonstrations grow",
                parts, oks,
                "on every game with a finite coefficient the 95% CI of the Nash gap at the "
                "largest demonstration budget lies below the CI at the smallest",
            ))  # fmt: skip
        else:
            out.append(_row(
                "Freihaut et al.: BC's Nash gap stays away from 0 (infinite concentrability)",
                LABELS["jbc_product"],
                "per-agent BC, Nash expert, a deviation reaches a state the expert never visits",
                "Nash gap bounded below however many demonstrations",
                parts, oks,
                f"on every game with an infinite coefficient the 95% CI low of the Nash gap at "
                f"the largest demonstration budget stays above {KEEP:g} x its mean at the "
                f"smallest (and above 0)",
            ))  # fmt: skip
    return out


def _murmail_row(results: list[tuple[dict, dict]]) -> Verdict | None:
    parts, oks = [], []
    for g in GAMES:
        curve = _curve(results, g, "murmail")
        if len(curve) < 2:
            continue
        (_, first, a0), (_, last, a1) = curve[0], curve[-1]
        oks.append(last.high < first.low)
        parts.append(
            f"{GAME_LABELS[g]}: {fmt_ci(first)} at {a0:.0f} answers -> {fmt_ci(last)} at {a1:.0f}"
        )
    if not oks:
        return None
    return _row(
        "Freihaut et al.: MURMAIL's Nash gap falls with queries",
        LABELS["murmail"],
        "queryable per-agent Nash expert, no concentrability assumption",
        "Nash gap -> 0 as expert queries grow",
        parts, oks,
        "on every game the 95% CI of MURMAIL's Nash gap at the largest iteration budget lies "
        "below the CI at the smallest",
    )  # fmt: skip


def answers_to_reach(curve: list[tuple[int, Interval, float]], target: float) -> float | None:
    """Mean expert answers of the smallest budget level whose mean gap is at most
    ``target``; ``None`` when no level reaches it."""
    for _, ci, answers in curve:
        if ci.mean <= target:
            return answers
    return None


def _bro_row(results: list[tuple[dict, dict]]) -> Verdict | None:
    parts, oks = [], []
    for g in GAMES:
        mur, bro = _curve(results, g, "murmail"), _curve(results, g, "mail_bro")
        if not mur or not bro:
            continue
        _, final, spent = mur[-1]
        target = final.mean * (1 + MARGIN_FRACTION) + MARGIN_FLOOR
        needed = answers_to_reach(bro, target)
        oks.append(needed is not None and needed < spent)
        parts.append(
            f"{GAME_LABELS[g]}: MURMAIL {fmt(final.mean)} with {spent:.0f} answers, MAIL-BRO "
            + (f"reaches it with {needed:.0f}" if needed is not None else "never reaches it")
        )
    if not oks:
        return None
    return _row(
        "Freihaut et al.: MAIL-BRO needs fewer expert queries than MURMAIL",
        LABELS["mail_bro"],
        "a best-response oracle besides the queryable expert (its calls not counted as queries)",
        "the same Nash gap with fewer expert queries",
        parts, oks,
        f"on every game MAIL-BRO's mean Nash gap reaches MURMAIL's final mean (plus "
        f"{MARGIN_FRACTION:.0%} and {MARGIN_FLOOR:g}) at a budget level using fewer expert "
        f"answers than MURMAIL's largest",
    )  # fmt: skip


def _blades_row(results: list[tuple[dict, dict]]) -> Verdict | None:
    """BLADES's Nash gap no worse than MAIL-BRO's at the largest budgets, where BLADES
    spends fewer expert answers (and no best-response oracle)."""
    parts, words = [], []
    for g in GAMES:
        levels = sorted({c["level"] for c, _ in results if c["game"] == g})
        if not levels:
            continue
        top = {}
        for name in ("blades", "mail_bro"):
            top[name] = dict(zip(*_configs(results, g, name, levels[-1]), strict=True))
        seeds = sorted(set(top["blades"]) & set(top["mail_bro"]))
        if not seeds:
            continue
        ours = [top["blades"][k]["nash_gap"] for k in seeds]
        theirs = [top["mail_bro"][k]["nash_gap"] for k in seeds]
        cmp = non_inferiority(
            [a - b for a, b in zip(ours, theirs, strict=True)], theirs, "BLADES", "MAIL-BRO"
        )
        spent = [np.mean([top[n][k]["answers"] for k in seeds]) for n in ("blades", "mail_bro")]
        words.append(cmp.word)
        parts.append(
            f"{GAME_LABELS[g]}: {cmp.measured} at {spent[0]:.0f} vs {spent[1]:.0f} answers"
        )
    if not words:
        return None
    word = (
        INCONSISTENT if INCONSISTENT in words
        else NOT_APPLICABLE if NOT_APPLICABLE in words
        else CONSISTENT
    )  # fmt: skip
    return _row(
        "Theorem 5.9 vs Freihaut et al.: BLADES's mediator no more exploitable than MAIL-BRO's",
        LABELS["blades"],
        "a queryable joint expert, no best-response oracle, fewer expert answers",
        "a small regret gap bounds the Nash gap too (a CE mediator's Nash gap is at most its "
        "CE regret)",
        parts, [],
        "on every game, paired non-inferiority by seed index at the largest budgets: the 95% "
        f"CI upper end of BLADES - MAIL-BRO (Nash gap) is below {MARGIN_FRACTION:.0%} of "
        f"MAIL-BRO's mean + {MARGIN_FLOOR:g}",
        word,
    )  # fmt: skip


def _configs(
    results: list[tuple[dict, dict]], game: str, learner: str, level: int
) -> tuple[list[int], list[dict]]:
    """Seeds and metrics of the finished runs of ``learner`` at ``level`` on ``game``."""
    pairs = [
        (c["seed"], m) for c, m in results
        if c["game"] == game and c["learner"] == learner and c["level"] == level
        and "nash_gap" in m
    ]  # fmt: skip
    return [k for k, _ in pairs], [m for _, m in pairs]


def verdict(results: list[tuple[dict, dict]]) -> list[Verdict]:
    """The Nash papers' three claims (BC both ways, MURMAIL, MAIL-BRO), each judged on
    every game where it applies, and BLADES against MAIL-BRO."""
    out = _bc_rows(results)
    for row in (_murmail_row(results), _bro_row(results), _blades_row(results)):
        if row is not None:
            out.append(row)
    return out


# ---------------------------------------------------------------------------------------
# report


def _final(results: list[tuple[dict, dict]], g: str, name: str) -> str:
    """``Nash / CE`` mean gaps at the largest level, or why there are none."""
    levels = sorted({c["level"] for c, _ in results if c["game"] == g})
    if not levels:
        return ""
    ms = select(results, game=g, learner=name, level=levels[-1])
    done = [m for m in ms if "nash_gap" in m]
    if not done:
        return "n/a (coverage)" if any("not_applicable" in m for m in ms) else ""
    nash = np.mean([m["nash_gap"] for m in done])
    ce = np.mean([m["regret_gap"] for m in done])
    return f"{fmt(nash)} / {fmt(ce)}"


def render(results: list[tuple[dict, dict]], out: Path) -> str:
    """Markdown: the "which algorithm when" table and the gaps-vs-budget figure."""
    games = [g for g in GAMES if select(results, game=g)]
    rows = []
    for name in LEARNERS:
        assumes, asks, proves = WHEN[name]
        rows.append(
            [LABELS[name], assumes, asks, proves, *[_final(results, g, name) for g in games]]
        )
    coeffs = []
    for g in games:
        c = _coefficient(results, g)
        coeffs.append(f"{GAME_LABELS[g]}: {fmt(c) if c is not None else 'n/a'}")
    plt = pyplot()
    fig, axes = plt.subplots(len(games), 2, figsize=(9, 2.3 * len(games)), squeeze=False)
    for r, g in enumerate(games):
        for col, (metric, label) in enumerate((("regret_gap", "CE regret gap"),
                                               ("nash_gap", "Nash gap"))):  # fmt: skip
            ax = axes[r, col]
            for name in LEARNERS:
                curve = _curve(results, g, name, metric)
                if not curve:
                    continue
                xs = [a for _, _, a in curve]
                ys = [ci.mean for _, ci, _ in curve]
                err = [[ci.mean - ci.low for _, ci, _ in curve],
                       [ci.high - ci.mean for _, ci, _ in curve]]  # fmt: skip
                ax.errorbar(
                    xs, ys, yerr=err, marker="o", ms=3, capsize=2, label=LABELS[name],
                    color=f"C{LEARNERS.index(name)}",  # one colour per learner in every panel
                )  # fmt: skip
            ax.set_xscale("log")
            ax.set_title(f"{GAME_LABELS[g]}: {label}", fontsize=9)
            if r == len(games) - 1:
                ax.set_xlabel("expert answers per agent")
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=f"C{k}", marker="o", ms=3, label=LABELS[name])
        for k, name in enumerate(LEARNERS)
    ]
    fig.legend(handles=handles, loc="upper center", ncol=4, fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / len(games)))
    save_png(fig, out / "nash_field.png")
    refused = [m for c, m in results if c["learner"] == "malice" and "not_applicable" in m]
    malice = len(select(results, learner="malice"))
    seeds = {
        len({c["seed"] for c, _ in results if c["learner"] == name}) for name in ("jbc", "murmail")
    }
    seeds_line = " and ".join(str(n) for n in sorted(seeds))
    return (
        f"## {TITLE}\n\n"
        f"Every expert is a Nash equilibrium, so both gaps are the learner's own "
        f"exploitability. Mean over {seeds_line} seeds (query and demonstration learners) "
        f"at the largest budget, Nash gap / CE regret "
        f"gap per game (the figure has every budget with 95% intervals). Concentrability of "
        f"the experts: {'; '.join(coeffs)}. MALICE refused {len(refused)} of its {malice} "
        "runs (its roll-ins reach states the demonstrations never visit); its points average "
        "the runs it accepted, those whose demonstrations happened to cover more.\n\n"
        "### Which algorithm when\n\n"
        + md_table(
            [
                "learner",
                "assumes",
                "asks the expert",
                "guarantee (paper)",
                *[GAME_LABELS[g] for g in games],
            ],
            rows,
        )
        + "\n\n![gaps vs expert answers](nash_field.png)\n"
    )


def main(args: Args) -> list[Verdict]:
    """Run every configuration serially and print the verdicts."""
    from regretgap.experiments._suite import run_module

    return run_module(sys.modules[__name__], args)


if __name__ == "__main__":
    from regretgap.experiments._cli import cli

    raise SystemExit(cli(Args, main, __doc__))
