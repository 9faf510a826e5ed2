"""Where tables fail: sampled learners with tabular, log-linear and neural mediators on the
coordination game with punishments.

The game (:mod:`regretgap.games.punishment`) has 300 normal states, two punishment regions of
100 states that only a deviation reaches, ``H = 5`` and features ``[x_s, onehot(region)]``.
Demonstrations visit a fraction of the normal states and no punishment state. Every learner
is the *sampled* one (:mod:`regretgap.sampled`): it sees the reward-free simulator
``game.simulator(features)``, expert samples and, for DAgger and BLADES, sampled expert
answers within one query budget; its policy is then tabulated (``policy.table``) and scored
by the exact core. Classes: a table over observations, softmax regression (log-linear) and,
with the ``[torch]`` extra, the autoregressive neural mediator.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from regretgap import sampled
from regretgap.errors import ValidationError
from regretgap.experiments._render import md_table, pyplot, save_png
from regretgap.experiments._suite import NAMES, RunSpec, measure
from regretgap.experiments._verdict import (
    NOT_APPLICABLE,
    Verdict,
    comparison_verdict,
    fmt,
    fmt_ci,
    judge,
    mean_ci,
    non_inferiority,
    select,
)
from regretgap.games.punishment import NUM_ACTIONS, PunishmentGame, punishment_game
from regretgap.registry import DEMONSTRATIONS, learner

NAME = "tables_fail"
TITLE = "Where tables fail: sampled learners with table, log-linear and neural mediators"

#: Learners from demonstrations, then from expert queries (each beside its analogue).
FROM_DEMOS = ("jbc", "alice", "malice")
FROM_QUERIES = ("dagger", "dagger_noise", "blades")
#: The simple baselines BLADES is judged against (at equal queries).
BASELINES = ("dagger", "dagger_noise")
#: "Beats": BLADES's mean regret gap at most this fraction of the strongest baseline's (and
#: its 95% interval below the baseline's), so a level result (0.003 vs 0.0034) is no win.
BEATS = 0.5
#: DAgger+noise's roll-in noise (``sampled.dagger(deviation_rate=)``).
NOISE_RATE = 0.3
CLASSES = ("table", "loglinear", "neural")
CLASS_NAMES = {"table": "table", "loglinear": "log-linear", "neural": "neural"}
#: The game is fixed across seeds (seed 0); the seeds vary data, roll-ins and fits.
GAME_SEED = 0
#: BLADES's per-round settings; DAgger rolls in as many episodes (equal queries).
BLADES_ROUND = {"rollouts": 64, "adversary_episodes": 128, "adversary_batch": 64}


@dataclass
class Args:
    """Settings of the tables-fail experiment."""

    demos: int = 40
    """Expert demonstrations (episodes of H steps) per run."""
    rounds: int = 3
    """Rounds of the iterative learners."""
    seeds: int = 5
    """Repetitions per (learner, class)."""
    quick: bool = False
    """CI form: two rounds (every seed: the paired rows need them)."""


def torch_missing() -> str | None:
    """Why the neural class is skipped here (``None`` when PyTorch is installed)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return 'the neural class needs PyTorch: pip install "regretgap[torch]"'
    return None


def partly_unavailable() -> str | None:
    """The rows skipped here for a missing extra (``None`` when every class runs): the
    report's skipped block and the terminal name it."""
    reason = torch_missing()
    return f"neural rows not run, {reason}" if reason else None


def title(ran: set[str]) -> str:
    """:data:`TITLE` naming only the classes in ``ran`` (no "neural" when none ran)."""
    names = [CLASS_NAMES[c] for c in CLASSES if c in ran]
    listed = " and ".join(names) if len(names) < 3 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"Where tables fail: sampled learners with {listed} mediators"


def classes(learner: str) -> tuple[str, ...]:
    """The classes each learner is run with (ALICE and MALICE: log-linear only, since on a
    table their weights cancel and they return J-BC's fit)."""
    if learner in ("alice", "malice"):
        chosen: tuple[str, ...] = ("loglinear",)
    elif learner == "dagger_noise":  # the baseline where BLADES is judged (not neural: time)
        chosen = ("table", "loglinear")
    else:
        chosen = CLASSES
    return tuple(c for c in chosen if c != "neural" or torch_missing() is None)


def runs(args: Args) -> list[RunSpec]:
    """One run per (learner, class, seed)."""
    # quick keeps every seed: the paired BLADES vs DAgger+noise row needs them for its power
    seeds = args.seeds
    rounds = 2 if args.quick else args.rounds
    return [
        RunSpec(
            NAME,
            {
                "learner": name,
                "class": cls,
                "demos": args.demos,
                "budget": query_budget(rounds) if name in FROM_QUERIES else 0,
                "rounds": rounds,
                "seed": k,
            },
        )
        for name in FROM_DEMOS + FROM_QUERIES
        for cls in classes(name)
        for k in range(seeds)
    ]


@lru_cache(maxsize=2)
def case(seed: int = GAME_SEED) -> PunishmentGame:
    """The seeded coordination game with punishments (fixed across runs)."""
    return punishment_game(rng=np.random.default_rng(seed))


def policy_class(name: str) -> Any:
    """A fresh mediator class by name."""
    if name == "table":
        return sampled.ObservationTable(NUM_ACTIONS)
    if name == "loglinear":
        return sampled.LogLinearMediator(NUM_ACTIONS, l2=1e-2)
    if name == "neural":
        # a larger step and warm starts: each refit continues from the last iterate
        return sampled.NeuralMediator(NUM_ACTIONS, lr=1e-2, batch_size=512, warm_start=True)
    raise ValueError(f"unknown class {name!r}: expected one of {CLASSES}")


def execute(config: dict, seed: int) -> dict:
    """One sampled learner; its tabulated policy scored exactly."""
    pg = case()
    game = pg.game
    sim = game.simulator(pg.features)
    expert = sampled.policy_recommender(pg.expert)
    # one demonstration set per seed, shared by every (learner, class): paired comparisons
    demo_seed = RunSpec(NAME, {"demos": config["demos"], "seed": config["seed"]}).seed
    demos = sampled.demonstrations(
        sim, expert, config["demos"], rng=np.random.default_rng(demo_seed)
    )
    rng = np.random.default_rng(seed)
    cls = policy_class(config["class"])
    name = config["learner"]
    extra: dict = {}
    spec = learner("dagger" if name == "dagger_noise" else name)
    if spec.sampled is None:
        raise ValidationError(f"{spec.label} has no sampled counterpart")
    if name == "jbc":
        res = spec.sampled(sim, demos, rng=rng, policy_class=cls)
    elif spec.learns_from == DEMONSTRATIONS:
        res = spec.sampled(sim, demos, rng=rng, policy_class=cls, rounds=config["rounds"])
        extra = {"ess": min(res.history.ess), "max_weight": max(res.history.max_weight)}
    else:
        noisy = {"deviation_rate": NOISE_RATE} if name == "dagger_noise" else {}
        res = spec.sampled(
            sim,
            expert,
            rng=rng,
            policy_class=cls,
            demos=demos,
            rounds=config["rounds"],
            query_budget=config["budget"],
            **budget_split(name),
            **noisy,
        )
        extra = {"queries": int(res.queries)}
    table = res.policy.table(sim)
    seen = np.unique(demos.features[:, :-3], axis=0).shape[0]
    # the last two feature columns flag the punishment regions: any demonstrated sample
    # there means coverage does not fail
    punished = int((demos.features[:, -2:].sum(axis=1) > 0).sum())
    return {
        **measure(game, pg.expert, table),
        **extra,
        "seen_normal_states": int(seen),
        "demonstrated_punishment_samples": punished,
        "normal_states": int((pg.region == 0).sum()),
    }


def budget_split(name: str) -> dict:
    """Roll-ins per round so that DAgger and BLADES spend the same queries per round.

    BLADES asks the expert at every step of its adversary's episodes and roll-ins, for each
    agent (:func:`regretgap.sampled.blades_episodes_per_round`); DAgger rolls in that many
    obedient episodes a round, so both spend ``budget / rounds`` queries a round.
    """
    if name == "blades":
        return dict(BLADES_ROUND)
    return {"rollouts": sampled.blades_episodes_per_round(2, **BLADES_ROUND)}


def query_budget(rounds: int) -> int:
    """The budget of ``rounds`` BLADES rounds on this game: ``rounds * H * episodes``."""
    return rounds * case().game.horizon * sampled.blades_episodes_per_round(2, **BLADES_ROUND)


def _gaps(results: list[tuple[dict, dict]], learner: str, cls: str) -> list[float]:
    return [m["regret_gap"] for m in select(results, learner=learner, **{"class": cls})]


def _below(a: list[float], b: list[float]) -> tuple[bool, dict[str, float]]:
    """Is ``a``'s 95% interval entirely below ``b``'s?"""
    ca, cb = mean_ci(a), mean_ci(b)
    return ca.high < cb.low, {
        "mean": ca.mean,
        "high": ca.high,
        "other_mean": cb.mean,
        "other_low": cb.low,
    }


def _paired(
    results: list[tuple[dict, dict]], ours: str, theirs: str, cls: str
) -> tuple[list[float], list[float]] | None:
    """``(ours - theirs, theirs)`` regret gaps over the seeds both ran with class ``cls``."""
    by = {(c["learner"], c["seed"]): m["regret_gap"] for c, m in results if c["class"] == cls}
    seeds = sorted(k for name, k in by if name == ours and (theirs, k) in by)
    if not seeds:
        return None
    return [by[(ours, k)] - by[(theirs, k)] for k in seeds], [by[(theirs, k)] for k in seeds]


def verdict(results: list[tuple[dict, dict]]) -> list[Verdict]:
    """Four claims, each judged on 95% intervals over seeds.

    - Features generalise where tables fail: J-BC's regret gap with the log-linear class
      lies below its gap with a table.
    - BLADES beats DAgger at equal queries (Theorem 5.9 vs the Theorem 4.5 mechanism), and
      DAgger whose roll-ins deviate at random too: with the log-linear class, BLADES's
      interval lies below that of the strongest of DAgger and DAgger+noise (lowest mean)
      and its mean is at most ``BEATS`` times that baseline's.
    - BLADES is no worse than DAgger+noise: a paired non-inferiority row over seeds.
    - Remark 4.6: the demonstrations never visit a punishment state, so coverage
      (Assumption 5.2) fails and MALICE has no advantage over ALICE there: consistent when
      MALICE's mean gap stays above half of ALICE's, inconsistent if MALICE nonetheless
      fixes the punishments it never saw, not applicable if some demonstration did visit a
      punishment state (then coverage does not fail).
    """
    out: list[Verdict] = []
    table, loglin = _gaps(results, "jbc", "table"), _gaps(results, "jbc", "loglinear")
    if table and loglin:
        ok, nums = _below(loglin, table)
        out.append(
            Verdict(
                NAME,
                "Features generalise",
                "J-BC",
                "demonstrations leave most states unseen",
                "log-linear gap < table gap",
                f"regret gap {fmt(nums['mean'])} (log-linear) vs {fmt(nums['other_mean'])} (table)",
                judge(ok),
                "J-BC's 95% interval with the log-linear class lies entirely below its "
                "interval with a table",
                nums,
            )
        )
    row = _blades_vs_strongest(results)
    if row is not None:
        out.append(row)
    pairs = _paired(results, "blades", "dagger_noise", "loglinear")
    if pairs:
        diffs, reference = pairs
        cmp = non_inferiority(diffs, reference, "BLADES", "DAgger+noise")
        out.append(
            comparison_verdict(
                NAME,
                "BLADES vs DAgger+noise",
                "BLADES",
                f"queryable expert, equal query budgets; DAgger's roll-ins deviate at random "
                f"(rate {NOISE_RATE})",
                "no worse than the strongest simple baseline (a punishment lies one "
                "defection away, so random deviations reach it too and no advantage is "
                "expected here; see directed_deviations)",
                cmp,
                paired_over="seeds (log-linear)",
            )
        )
    mal, ali = _gaps(results, "malice", "loglinear"), _gaps(results, "alice", "loglinear")
    if mal and ali:
        m_mean, a_mean = float(np.mean(mal)), float(np.mean(ali))
        fixed = m_mean < 0.5 * a_mean
        covered = sum(
            m.get("demonstrated_punishment_samples", 0) > 0
            for c, m in results
            if c["learner"] in ("malice", "alice")
        )
        word = NOT_APPLICABLE if covered else judge(not fixed)
        out.append(
            Verdict(
                NAME,
                "Remark 4.6",
                "MALICE",
                "beta-coverage fails (no punishment state demonstrated)",
                "no guarantee without coverage: no advantage over ALICE where neither saw data",
                f"regret gap {fmt(m_mean)} (MALICE) vs {fmt(a_mean)} (ALICE); runs whose "
                f"demonstrations visit a punishment: {covered}",
                word,
                "consistent when no demonstration visits a punishment and MALICE's mean gap "
                "stays above half of ALICE's; inconsistent if it falls below (MALICE fixing "
                "what it never saw); not applicable when a punishment was demonstrated",
                {"malice_mean": m_mean, "alice_mean": a_mean, "covered_runs": float(covered)},
            )
        )
    return out


def _blades_vs_strongest(results: list[tuple[dict, dict]]) -> Verdict | None:
    """BLADES beats the strongest of DAgger and DAgger+noise at equal queries (log-linear).

    The strongest baseline is the one with the lowest mean regret gap; BLADES's 95%
    interval must lie entirely below it and its mean be at most :data:`BEATS` times the
    baseline's, so DAgger+noise matching BLADES (as random deviations do where a
    punishment is one defection away) says inconsistent even when both intervals are
    narrow.
    """
    blades = _gaps(results, "blades", "loglinear")
    rivals = {n: g for n in BASELINES if (g := _gaps(results, n, "loglinear"))}
    if not blades or not rivals:
        return None
    best = min(rivals, key=lambda n: float(np.mean(rivals[n])))
    below, nums = _below(blades, rivals[best])
    ok = below and nums["mean"] <= BEATS * nums["other_mean"]
    nums.update({f"{n}_mean": float(np.mean(g)) for n, g in rivals.items()})
    others = ", ".join(f"{fmt_ci(mean_ci(rivals[n]), 4)} ({NAMES[n]})" for n in rivals)
    return Verdict(
        NAME,
        "Theorem 5.9 vs Theorem 4.5",
        "BLADES vs DAgger, DAgger+noise",
        f"queryable expert, equal query budgets; DAgger+noise's roll-ins deviate at random "
        f"(rate {NOISE_RATE})",
        "BLADES's gap < the strongest simple baseline's (DAgger or DAgger+noise)",
        f"regret gap {fmt_ci(mean_ci(blades), 4)} (BLADES) vs {others}; strongest: {NAMES[best]}",
        judge(ok),
        "with the log-linear class, BLADES's 95% interval lies entirely below that of the "
        "baseline with the lowest mean gap among DAgger and DAgger+noise, and its mean is "
        f"at most {BEATS} times that baseline's mean",
        nums,
    )


def render(results: list[tuple[dict, dict]], out: Path) -> str:
    """Markdown: per (learner, class) mean [95% CI] value and regret gaps, and queries."""
    rows = []
    for name in FROM_DEMOS + FROM_QUERIES:
        for cls in CLASSES:
            ms = select(results, learner=name, **{"class": cls})
            if not ms:
                continue
            rows.append(
                [
                    NAMES[name],
                    CLASS_NAMES[cls],
                    fmt_ci(mean_ci(m["value_gap"] for m in ms)),
                    fmt_ci(mean_ci(m["regret_gap"] for m in ms)),
                    fmt(float(np.mean([m.get("queries", 0) for m in ms])), 0),
                    fmt(float(np.mean([m["seen_normal_states"] for m in ms])), 0),
                ]
            )
    seeds = len({c["seed"] for c, _ in results})
    plot(results, out / "tables_fail.png")
    skipped = torch_missing()
    note = f" The neural class was skipped: {skipped}." if skipped else ""
    return (
        f"## {title({c['class'] for c, _ in results})}\n\n"
        f"Mean [95% CI] over {seeds} seeds. Sampled learners on the coordination game with "
        f"punishments (300 normal states, 2 x 100 punishment states, H = 5, 3 x 3 actions); "
        f'policies tabulated and scored exactly. "seen" counts the distinct normal states '
        f"in the demonstrations. A table leaves DAgger's first iterates uniform off the "
        f"demonstrations, so its own obedient roll-ins recommend defections and walk into the "
        f"punishment regions, where the expert then answers; a class that generalises "
        f"recommends the convention everywhere, its roll-ins never leave the normal states, "
        f"and only deviations reach the punishments: BLADES's directed ones, or "
        f"DAgger+noise's random ones (rate {NOISE_RATE}; a punishment is one defection "
        f"away, so these reach it too).{note}\n\n"
        + md_table(
            ["learner", "class", "value gap", "regret gap", "queries", "seen"],
            rows,
        )
        + "\n\n![value and regret gaps by learner and class](tables_fail.png)\n"
    )


def plot(results: list[tuple[dict, dict]], path: Path) -> None:
    """Grouped bars: value gap and regret gap per learner, one bar per class, 95% CIs."""
    plt = pyplot()
    learners = [n for n in FROM_DEMOS + FROM_QUERIES if select(results, learner=n)]
    present = [c for c in CLASSES if any(cfg["class"] == c for cfg, _ in results)]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=False)
    width = 0.8 / max(len(present), 1)
    for ax, key, label in zip(
        axes, ("value_gap", "regret_gap"), ("value gap", "regret gap"), strict=True
    ):
        for k, cls in enumerate(present):
            xs, means, errs = [], [], []
            for j, name in enumerate(learners):
                ms = select(results, learner=name, **{"class": cls})
                if not ms:
                    continue
                ci = mean_ci(m[key] for m in ms)
                xs.append(j + (k - (len(present) - 1) / 2) * width)
                means.append(ci.mean)
                errs.append([[ci.mean - ci.low], [ci.high - ci.mean]])
            if xs:
                err = np.concatenate(errs, axis=1)
                ax.bar(xs, means, width, yerr=err, capsize=3, label=CLASS_NAMES[cls])
        # tilted: "DAgger+noise" is wider than a group of bars
        ax.set_xticks(range(len(learners)), [NAMES[n] for n in learners], rotation=25, ha="right")
        ax.set_ylabel(label + " (mean, 95% CI)")
        ax.axhline(0, color="black", linewidth=0.5)
    axes[0].legend(title="class")
    fig.suptitle("Coordination game with punishments: sampled learners, exact scores")
    fig.tight_layout()
    save_png(fig, path)


def main(args: Args) -> list[Verdict]:
    """Run every configuration serially and print the verdicts."""
    from regretgap.experiments._suite import run_module

    return run_module(sys.modules[__name__], args)


if __name__ == "__main__":
    from regretgap.experiments._cli import cli

    raise SystemExit(cli(Args, main, __doc__))
