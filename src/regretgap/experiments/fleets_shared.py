"""Fleets that can separate: J-BC, ALICE and MALICE on a large Sioux Falls fleet game with a
shared-parameter class.

With a tabular class the importance weights of ALICE and MALICE cancel state by state and
both return J-BC's policy, so a comparison on a table is vacuous. Here three fleets choose
among the (10 -> 16) pair's three routes while incidents come and go on the ``L = 14``
busiest route links (``2^14 = 16,384`` incident states, ``H = 3``;
:func:`regretgap.games.routing.sioux_falls`), the expert is the welfare ``markov_ce``
mediator, and every learner fits one log-linear class whose parameters are shared across
states: a weight per joint action and, per fleet, a weight on the number of incidents on the
route it is told to take. The three learners of a seed learn from the same 200
demonstrations (far fewer than states). The report gives how often the ALICE and MALICE
iterates differ from J-BC's fit (largest entry difference above ``DIFFERENT``), the regret
gaps, and paired non-inferiority rows.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

import regretgap as rg
from regretgap.experiments._render import md_table
from regretgap.experiments._suite import NAMES, RunSpec, data_rng, measure
from regretgap.experiments._verdict import (
    Verdict,
    comparison_verdict,
    fmt,
    fmt_ci,
    mean_ci,
    non_inferiority,
)
from regretgap.experiments.fleets import unavailable

NAME = "fleets_shared"
TITLE = "Fleets that can separate: a shared-parameter class on 16,384 incident states"
LEARNERS = ("jbc", "alice", "malice")
#: Two policies differ when some entry differs by more than this.
DIFFERENT = 1e-6


@dataclass
class Args:
    """Settings of the shared-class fleet experiment."""

    incident_links: int = 14
    """Incident-prone links L (2^L states)."""
    fleets: int = 3
    """Fleet operators (agents), three routes each."""
    demos: int = 200
    """Demonstrations per seed, shared by the learners (fewer than the states)."""
    rounds: int = 3
    """ALICE and MALICE rounds."""
    seeds: int = 5
    """Repetitions."""
    quick: bool = False
    """CI form: 8 incident-prone links (256 states), five seeds."""


def runs(args: Args) -> list[RunSpec]:
    """One run per (seed): the three learners share its demonstrations."""
    if unavailable():
        return []
    links = 8 if args.quick else args.incident_links
    return [
        RunSpec(
            NAME,
            {"L": links, "fleets": args.fleets, "demos": args.demos, "rounds": args.rounds,
             "seed": k},
        )
        for k in range(args.seeds)
    ]  # fmt: skip


@lru_cache(maxsize=2)
def case(links: int, fleets: int) -> tuple[rg.MarkovGame, np.ndarray, np.ndarray]:
    """``(game, welfare CE expert [H, S, A], shared features [S, A, A + m])``."""
    from regretgap.games.routing import sioux_falls

    fg = sioux_falls(fleets=fleets, routes=3, incident_links=links, horizon=3)
    game = fg.game
    expert = rg.markov_ce(game, objective="welfare")
    s_count, a_count = game.num_states, game.num_joint_actions
    actions = np.array([game.agent_actions(a) for a in range(a_count)])  # [A, m]
    bits = (np.arange(s_count)[:, None] >> np.arange(links)[None, :]) & 1  # [S, L]
    uses = np.array([[float(x in route) for x in fg.incident_links] for route in fg.routes])
    on_route = bits @ uses.T  # [S, k]: active incidents on each route
    phi = np.zeros((s_count, a_count, a_count + fleets))
    phi[:, :, :a_count] = np.eye(a_count)[None]
    for i in range(fleets):
        phi[:, :, a_count + i] = on_route[:, actions[:, i]]
    return game, expert, phi


def execute(config: dict, seed: int) -> dict:
    """J-BC, ALICE and MALICE on one seed's demonstrations; gaps and iterate differences."""
    game, expert, phi = case(config["L"], config["fleets"])
    demos = rg.sample_trajectories(game, expert, n=config["demos"], rng=data_rng(NAME, config))
    cls = rg.LogLinear(phi, l2=1e-3)
    rng = np.random.default_rng(seed)
    bc = rg.jbc(game, demos, policy_class=cls).policy
    out: dict = {"jbc": measure(game, expert, bc), "num_states": game.num_states}
    for name in ("alice", "malice"):
        res = getattr(rg, name)(
            game, demos, rng=rng, rounds=config["rounds"], policy_class=cls, clip_weights=True
        )
        diffs = [float(np.abs(it - bc).max()) for it in res.iterates[1:]]  # rounds 1..N
        out[name] = {
            **measure(game, expert, res.policy),
            "iterate_diffs": diffs,
            "returned_diff": float(np.abs(res.policy - bc).max()),
        }
    return out


def verdict(results: list[tuple[dict, dict]]) -> list[Verdict]:
    """MALICE no worse than ALICE and than J-BC (paired over seeds, non-inferiority)."""
    out: list[Verdict] = []
    differ = _differ(results)
    for theirs in ("alice", "jbc"):
        diffs = [m["malice"]["regret_gap"] - m[theirs]["regret_gap"] for _, m in results]
        reference = [m[theirs]["regret_gap"] for _, m in results]
        if not diffs:
            continue
        cmp = non_inferiority(diffs, reference, "MALICE", NAMES[theirs])
        out.append(
            comparison_verdict(
                NAME,
                f"MALICE vs {NAMES[theirs]} (fleets, shared class)",
                "MALICE",
                "beta-coverage, a shared-parameter class on 2^L incident states, the same "
                "demonstrations",
                "no worse than the analogue",
                cmp._replace(
                    measured=f"{cmp.measured}; MALICE's iterates differ from J-BC's in "
                    f"{differ['malice']:.0%} of rounds, ALICE's in {differ['alice']:.0%}"
                ),
                paired_over="seeds",
            )
        )
    return out


def _differ(results: list[tuple[dict, dict]]) -> dict[str, float]:
    """The share of ALICE's and MALICE's round iterates that differ from J-BC's fit."""
    out = {}
    for name in ("alice", "malice"):
        flags = [d > DIFFERENT for _, m in results for d in m[name]["iterate_diffs"]]
        out[name] = float(np.mean(flags)) if flags else 0.0
    return out


def render(results: list[tuple[dict, dict]], out: Path) -> str:
    """Markdown: regret and value gaps per learner and how often the iterates differ."""
    rows = []
    for name in LEARNERS:
        gaps = mean_ci(m[name]["regret_gap"] for _, m in results)
        values = mean_ci(m[name]["value_gap"] for _, m in results)
        if name == "jbc":
            diff = ""
        else:
            diff = fmt(max(d for _, m in results for d in m[name]["iterate_diffs"]))
        rows.append([NAMES[name], fmt_ci(gaps), fmt_ci(values), diff])
    differ = _differ(results)
    states = results[0][1]["num_states"] if results else 0
    return (
        f"## {TITLE}\n\n"
        f"{states} incident states, {len(results)} seeds; mean [95% CI]. ALICE's iterates "
        f"differ from J-BC's fit in {differ['alice']:.0%} of rounds, MALICE's in "
        f"{differ['malice']:.0%} (largest entry difference above {DIFFERENT:g}).\n\n"
        + md_table(["learner", "regret gap", "value gap", "largest iterate difference"], rows)
        + "\n"
    )


def main(args: Args) -> list[Verdict]:
    """Run every configuration serially and print the verdicts."""
    from regretgap.experiments._suite import run_module

    return run_module(sys.modules[__name__], args)


if __name__ == "__main__":
    from regretgap.experiments._cli import cli

    raise SystemExit(cli(Args, main, __doc__))
