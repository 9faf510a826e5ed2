"""Where directed deviations matter: sampled BLADES against DAgger with noisy roll-ins.

On the corridor game (:mod:`regretgap.games.corridor`) the only state where the mediator's
recommendation changes a deviator's incentive lies behind ``k`` defections in a row. DAgger
whose roll-ins deviate at random (``deviation_rate`` 0.1 or 0.3: each agent plays a uniform
random action with that probability) reaches it with probability about ``(p / 2)^k`` per
episode; BLADES's adversary (eq. 7, a learned tabular deviation) walks there whenever the
mediator's disagreement with the expert's answers is larger there; with the optimistic
adversary (``blades(..., optimism=True)``) it also values deviation steps it has never
tried at the largest loss, as exact BLADES does never-answered states. Every learner is the
sampled one, starts from the same 20 demonstrations in a seed, spends the same expert
queries, and is scored exactly (``policy.table``, :func:`regretgap.regret_gap`), with a
table and with a log-linear mediator over the region and depth features, at
``k = 2, 4, 6, 8``. A mediator right everywhere but uniform at the deep states has regret
gap exactly 1; one that tells the punisher not to punish has ``k + 4``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

import regretgap as rg
from regretgap import sampled
from regretgap.experiments._render import md_table, pyplot, save_png
from regretgap.experiments._suite import RunSpec, data_rng, measure
from regretgap.experiments._verdict import Verdict, fmt_ci, judge, mean_ci, select
from regretgap.games.corridor import NUM_ACTIONS, CorridorGame, corridor_game

NAME = "directed_deviations"
TITLE = "Where directed deviations matter: BLADES vs DAgger with random deviations"

#: Learner names and their noise rates (``None``: BLADES, with the default adversary or
#: the optimistic one that values untried deviation steps at the largest loss).
LEARNERS = {
    "dagger": 0.0,
    "dagger_0.1": 0.1,
    "dagger_0.3": 0.3,
    "blades": None,
    "blades_optimistic": None,
}
LABELS = {
    "dagger": "DAgger",
    "dagger_0.1": "DAgger+noise 0.1",
    "dagger_0.3": "DAgger+noise 0.3",
    "blades": "BLADES",
    "blades_optimistic": "BLADES (optimistic adversary)",
}
#: The baselines BLADES is judged against.
BASELINES = ("dagger", "dagger_0.1", "dagger_0.3")
CLASSES = ("table", "loglinear")
CLASS_NAMES = {"table": "table", "loglinear": "log-linear"}
#: BLADES's per-round settings; DAgger rolls in as many episodes a round (equal queries).
BLADES_ROUND = {"rollouts": 32, "adversary_episodes": 256, "adversary_batch": 16}
#: The claim is judged at these depths and deeper.
DEEP = 6
#: "Far below": BLADES's mean regret gap at most this fraction of the baseline's.
FAR = 0.1


@dataclass
class Args:
    """Settings of the directed-deviations experiment."""

    depths: tuple[int, ...] = (2, 4, 6, 8)
    """Corridor depths ``k`` (defections in a row to the deep state)."""
    demos: int = 20
    """Expert demonstrations (episodes) per seed, shared by every learner and class."""
    rounds: int = 3
    """Rounds of DAgger and BLADES."""
    seeds: int = 20
    """Repetitions per (depth, learner, class) (whether random deviations reach the deep
    state is a coin flip per seed, so its mean needs many)."""
    quick: bool = False
    """CI form: only the deepest corridor (k = 8) and the default's first
    :data:`QUICK_SEEDS` seeds (runs the default also makes)."""


#: Seeds of the quick form: its verdict words equal the default's (checked on the
#: default's runs), at under a third of the default's k = 8 cost.
QUICK_SEEDS = 6


def runs(args: Args) -> list[RunSpec]:
    """One run per (depth, learner, class, seed)."""
    # quick: the deepest corridor with the default's first seeds (the same runs, keyed the
    # same, so a default run after a quick one resumes from them)
    depths = (max(args.depths),) if args.quick else args.depths
    seeds = min(args.seeds, QUICK_SEEDS) if args.quick else args.seeds
    return [
        RunSpec(
            NAME,
            {"k": k, "learner": name, "class": cls, "demos": args.demos,
             "rounds": args.rounds, "seed": j},
        )
        for k in depths
        for name in LEARNERS
        for cls in CLASSES
        for j in range(seeds)
    ]  # fmt: skip


@lru_cache(maxsize=8)
def case(k: int) -> CorridorGame:
    """The corridor game of depth ``k``."""
    return corridor_game(k)


def policy_class(name: str) -> Any:
    """A fresh mediator class by name."""
    if name == "table":
        return sampled.ObservationTable(NUM_ACTIONS)
    if name == "loglinear":
        return sampled.LogLinearMediator(NUM_ACTIONS, l2=1e-2)
    raise rg.ValidationError(f"unknown class {name!r}: expected one of {CLASSES}")


def execute(config: dict, seed: int) -> dict:
    """One sampled learner on the corridor game; its tabulated policy scored exactly."""
    c = case(config["k"])
    sim = c.game.simulator(c.features)
    expert = sampled.policy_recommender(c.expert)
    # the same demonstrations for every learner and class of a (k, seed): paired
    demos = sampled.demonstrations(
        sim, expert, config["demos"], rng=data_rng(NAME, config, "learner", "class")
    )
    rng = np.random.default_rng(seed)
    per_round = sampled.blades_episodes_per_round(2, **BLADES_ROUND)
    budget = config["rounds"] * per_round * c.game.horizon
    common = dict(
        rng=rng,
        policy_class=policy_class(config["class"]),
        demos=demos,
        rounds=config["rounds"],
        query_budget=budget,
    )
    rate = LEARNERS[config["learner"]]
    if rate is None:
        optimism = config["learner"] == "blades_optimistic"
        res = sampled.blades(sim, expert, optimism=optimism, **common, **BLADES_ROUND)
    else:
        res = sampled.dagger(sim, expert, rollouts=per_round, deviation_rate=rate, **common)
    table = res.policy.table(sim)
    last = c.game.horizon - 1
    # the probability that the punisher is told to punish at the deep states (1 for the expert)
    punish = [table[last, c.deep[0], 1], table[last, c.deep[1], 2]]
    return {
        **measure(c.game, c.expert, table),
        "queries": int(res.queries),
        "punish_min": float(min(punish)),
    }


def _gaps(results: list[tuple[dict, dict]], **where: object) -> list[float]:
    return [m["regret_gap"] for m in select(results, **where)]


def verdict(results: list[tuple[dict, dict]]) -> list[Verdict]:
    """One row per (BLADES adversary, class): at every depth ``k >= DEEP``, BLADES's regret
    gap is far below the strongest baseline's (DAgger with or without noise, the lowest
    mean) at equal queries: its 95% CI lies below the baseline's and its mean is at most
    ``FAR`` times it."""
    depths = sorted({c["k"] for c, _ in results if c["k"] >= DEEP})
    out: list[Verdict] = []
    for ours_name in ("blades", "blades_optimistic"):
        for cls in CLASSES:
            row = _row(results, ours_name, cls, depths)
            if row is not None:
                out.append(row)
    return out


def _row(
    results: list[tuple[dict, dict]], ours_name: str, cls: str, depths: list[int]
) -> Verdict | None:
    checks, parts, nums = [], [], {}
    for k in depths:
        ours = _gaps(results, learner=ours_name, k=k, **{"class": cls})
        rivals = {
            n: g for n in BASELINES if (g := _gaps(results, learner=n, k=k, **{"class": cls}))
        }
        if not ours or not rivals:
            continue
        best = min(rivals, key=lambda n: float(np.mean(rivals[n])))
        a, b = mean_ci(ours), mean_ci(rivals[best])
        checks.append(a.high < b.low and a.mean <= FAR * b.mean)
        parts.append(f"k={k}: {fmt_ci(a)} vs {LABELS[best]} {fmt_ci(b)}")
        nums[f"k{k}_blades"] = a.mean
        nums[f"k{k}_baseline"] = b.mean
    if not checks:
        return None
    adversary = "optimistic adversary" if ours_name == "blades_optimistic" else "adversary"
    return Verdict(
        NAME,
        f"Eq. 7's worst-case deviation ({CLASS_NAMES[cls]}, {adversary})",
        "BLADES vs DAgger+noise",
        "queryable expert, equal demonstrations and queries; the deep state lies behind "
        f"k >= {DEEP} defections in a row",
        "directed deviations reach what random ones miss: BLADES's gap far below the "
        "strongest of DAgger, DAgger+noise 0.1 and 0.3",
        "; ".join(parts),
        judge(all(checks)),
        f"at every k >= {DEEP}, BLADES's 95% CI lies below the strongest baseline's and its "
        f"mean is at most {FAR} times the baseline's mean",
        nums,
    )


def render(results: list[tuple[dict, dict]], out: Path) -> str:
    """Markdown: mean [95% CI] regret gap per (learner, class) and depth, and a plot."""
    depths = sorted({c["k"] for c, _ in results})
    rows = []
    for cls in CLASSES:
        for name in LEARNERS:
            cells = []
            for k in depths:
                ms = select(results, learner=name, k=k, **{"class": cls})
                cells.append(fmt_ci(mean_ci(m["regret_gap"] for m in ms)) if ms else "")
            rows.append([LABELS[name], CLASS_NAMES[cls], *cells])
    queries = {k: int(np.mean([m["queries"] for m in select(results, k=k)])) for k in depths}
    plot(results, out / "directed_deviations.png")
    seeds = len({c["seed"] for c, _ in results})
    return (
        f"## {TITLE}\n\n"
        f"Regret gap, mean [95% CI] over {seeds} seeds, on the corridor game of depth k (the "
        f"deep state behind k defections in a row; uniform there gives 1, no punishment "
        f"k + 4). Every learner starts from the same 20 demonstrations and spends the same "
        f"expert queries per depth ("
        + ", ".join(f"k={k}: {q}" for k, q in queries.items())
        + ").\n\n"
        + md_table(["learner", "class", *[f"k={k}" for k in depths]], rows)
        + "\n\n![directed deviations](directed_deviations.png)\n"
    )


def plot(results: list[tuple[dict, dict]], path: Path) -> None:
    """Regret gap vs k per learner, one panel per class; markers and small x offsets keep
    coinciding lines apart."""
    plt = pyplot()
    depths = sorted({c["k"] for c, _ in results})
    fig, axes = plt.subplots(1, len(CLASSES), figsize=(10, 3.8))
    markers = {"dagger": "s", "dagger_0.1": "^", "dagger_0.3": "v", "blades": "o"}
    markers["blades_optimistic"] = "D"
    for ax, cls in zip(axes, CLASSES, strict=True):
        for j, name in enumerate(LEARNERS):
            xs, ys, lo, hi = [], [], [], []
            for k in depths:
                ms = select(results, learner=name, k=k, **{"class": cls})
                if not ms:
                    continue
                ci = mean_ci(m["regret_gap"] for m in ms)
                xs.append(k + 0.12 * (j - 2))
                ys.append(ci.mean)
                lo.append(ci.mean - ci.low)
                hi.append(ci.high - ci.mean)
            ax.errorbar(
                xs,
                ys,
                yerr=[lo, hi],
                marker=markers[name],
                capsize=3,
                label=LABELS[name],
                zorder=3 if name.startswith("blades") else 2,
            )
        ax.axhline(1.0, color="k", ls=":", lw=0.8, zorder=4, label="uniform at the deep state")
        ax.set_xticks(depths)
        ax.set_xlabel("k: defections in a row to the deep state")
        ax.set_ylabel("regret gap (mean, 95% CI)")
        ax.set_title(f"{CLASS_NAMES[cls]} mediator")
    axes[0].legend(fontsize=7)
    fig.suptitle("Directed (BLADES) vs random (DAgger+noise) deviations at equal queries")
    fig.tight_layout()
    save_png(fig, path)


def main(args: Args) -> list[Verdict]:
    """Run every configuration serially and print the verdicts."""
    from regretgap.experiments._suite import run_module

    return run_module(sys.modules[__name__], args)


if __name__ == "__main__":
    from regretgap.experiments._cli import cli

    raise SystemExit(cli(Args, main, __doc__))
