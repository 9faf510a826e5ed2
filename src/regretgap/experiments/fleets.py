"""The Sioux Falls fleet game: a routing app as the expert mediator.

``m`` fleet operators share the busiest origin-destination pair of Sioux Falls (10 -> 16),
each routing its vehicles over one of the pair's ``k`` shortest routes among the rest of
the city's traffic at user equilibrium; incidents on the ``L`` busiest route links start
with traffic and clear at random (:func:`regretgap.games.routing.fleet_game`). The
expert is the welfare ``markov_ce`` mediator (the app). Every learner imitates it from
the same finite demonstrations (DAgger and BLADES also query it, sampled answers, equal
budgets); the report gives regret and value gaps (Definitions 4.1, 4.2), each fleet's
incentive to ignore the learned app, minutes lost, the incident states the learner
mishandles, and a map of how the expert and a learner route fleets under one incident.
"""

from __future__ import annotations

import itertools
import sys
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np

import regretgap as rg
from regretgap.experiments._render import md_table, pyplot, save_png
from regretgap.experiments._suite import (
    LEARNERS,
    NAMES,
    RunSpec,
    constants,
    data_rng,
    learn,
    measure,
)
from regretgap.experiments._verdict import (
    NOT_APPLICABLE,
    Verdict,
    bound_verdict,
    comparison_verdict,
    fmt,
    fmt_ci,
    mean_ci,
    non_inferiority,
    select,
)
from regretgap.games.network import sioux_falls_coordinates, sioux_falls_network
from regretgap.games.routing import FleetGame, sioux_falls

NAME = "fleets"
TITLE = "Sioux Falls fleets: a learned routing app among user-equilibrium traffic"

#: The map's incident state: bit 0 set, an incident on the most loaded incident-prone
#: link (the first of ``FleetGame.incident_links``), shown at step ``h = 1``.
MAP_STATE = 1

#: States listed per run as the learner's worst disagreements with the expert.
WORST_STATES = 3


@dataclass
class Args:
    """Settings of the fleet experiment."""

    fleets: int = 5
    """Fleet operators m (agents)."""
    routes: int = 3
    """Routes per fleet k (actions): the pair's k shortest under background load."""
    incident_links: int = 10
    """Incident-prone links L (2^L states)."""
    horizon: int = 3
    """Periods H."""
    demos: int = 1000
    """Expert demonstrations per run (every learner starts from them)."""
    rounds: int = 3
    """Rounds of ALICE, MALICE, DAgger and BLADES."""
    rollouts: int = 16
    """Roll-ins per agent per round of BLADES (DAgger: m times as many, the same query
    budget)."""
    seeds: int = 10
    """Independent repetitions per learner."""
    quick: bool = False
    """CI form: 3 fleets, 6 incident-prone links (64 states, 27 joint actions), 200
    demonstrations, 30 seeds (the paired rows' power)."""


def unavailable() -> str | None:
    """Why the experiment cannot run here (``None`` when it can): networkx is an extra."""
    try:
        import networkx  # noqa: F401
    except ImportError:
        return 'needs networkx for k shortest routes: pip install "regretgap[routing]"'
    return None


def runs(args: Args) -> list[RunSpec]:
    """One run per (learner, seed); none without the ``routing`` extra (see
    :func:`unavailable`: the report says it was skipped)."""
    if unavailable():
        return []
    fleets, links = (3, 6) if args.quick else (args.fleets, args.incident_links)
    demos = 200 if args.quick else args.demos
    # quick: more seeds, not fewer: on the small game MALICE - ALICE varies more, and the
    # paired non-inferiority rows need 30 pairs to say either way (10 left them underpowered)
    seeds = 30 if args.quick else args.seeds
    return [
        RunSpec(
            NAME,
            {
                "network": "SiouxFalls",
                "fleets": fleets,
                "routes": args.routes,
                "L": links,
                "H": args.horizon,
                "learner": name,
                "demos": demos,
                "rounds": args.rounds,
                "rollouts": args.rollouts,
                "seed": k,
            },
        )
        for name in LEARNERS
        for k in range(seeds)
    ]


class Case(NamedTuple):
    """One fleet game, its expert and what every run of it shares.

    Attributes:
        fleet: the :class:`~regretgap.games.routing.FleetGame`.
        expert: the welfare ``markov_ce`` mediator ``sigma_E`` ``[H, S, A]``.
        constants: ``u`` and ``beta`` (:func:`~regretgap.experiments._suite.constants`).
        values: the expert's values ``J_i(pi_{sigma_E})`` ``[m]``.
        reachable: ``[H, S]`` states some agent's deviation from the expert reaches.
    """

    fleet: FleetGame
    expert: np.ndarray
    constants: dict
    values: np.ndarray
    reachable: np.ndarray


@lru_cache(maxsize=2)
def case(fleets: int, routes: int, links: int, horizon: int) -> Case:
    """The Sioux Falls fleet game and its welfare CE expert, built once per process."""
    fleet = sioux_falls(fleets=fleets, routes=routes, incident_links=links, horizon=horizon)
    expert = rg.markov_ce(fleet.game, objective="welfare")
    return Case(
        fleet,
        expert,
        constants(fleet.game, expert),
        rg.values(fleet.game, expert),
        rg.deviation_reachable(fleet.game, expert),
    )


def _marginals(fleet: FleetGame, sigma: np.ndarray, h: int, s: int) -> list[list[float]]:
    """Each fleet's route probabilities ``[m][k]`` under ``sigma`` at ``(h, s)``."""
    shape = fleet.game.num_actions
    joint = np.asarray(sigma)[h, s].reshape(shape)
    m = len(shape)
    return [
        joint.sum(axis=tuple(j for j in range(m) if j != i)).round(6).tolist() for i in range(m)
    ]


def _incident_names(fleet: FleetGame, s: int) -> str:
    net, _ = sioux_falls_network()
    links = fleet.incidents(s)
    return " + ".join(f"{net.init[e]}-{net.term[e]}" for e in links) or "none"


def execute(config: dict, seed: int) -> dict:
    """One learner from expert demonstrations on the fleet game; gaps, per-fleet regret
    and minutes, the worst-handled incident states and the routes under ``MAP_STATE``."""
    c = case(config["fleets"], config["routes"], config["L"], config["H"])
    game, expert, fleet = c.fleet.game, c.expert, c.fleet
    rng = np.random.default_rng(seed)
    # the same demonstrations for every learner of a seed: paired comparisons
    demos = rg.sample_trajectories(
        game, expert, n=config["demos"], rng=data_rng(NAME, config, "learner")
    )
    policy, extra = learn(
        config["learner"],
        game,
        expert,
        demos,
        rng,
        rounds=config["rounds"],
        rollouts=config["rollouts"],
        clip_weights=True,
    )
    if policy is None:
        return {**extra, **c.constants}
    sigma = rg.as_policy(game, policy)
    per_period = fleet.time_scale / config["H"]  # reward unit -> vehicle-minutes per period
    regret = rg.regret(game, sigma)
    lost = (c.values - rg.values(game, sigma)) * per_period  # [m]
    tv = 0.5 * np.abs(sigma - expert).sum(axis=2)  # [H, S]
    tv = np.where(c.reachable, tv, 0.0).max(axis=0)  # [S]
    worst = np.argsort(-tv, kind="stable")[:WORST_STATES]
    net, _ = sioux_falls_network()
    return {
        **measure(game, expert, sigma),
        **c.constants,
        **extra,
        "fleet_regret": regret.per_agent.tolist(),
        "fleet_regret_minutes": (regret.per_agent * per_period).tolist(),
        "minutes_lost": lost.tolist(),
        "fleet_vehicles": fleet.fleet_demand.tolist(),
        "worst_states": [[int(s), float(tv[s]), _incident_names(fleet, int(s))] for s in worst],
        "map_routes": _marginals(fleet, sigma, 1, MAP_STATE),
        "map_expert_routes": _marginals(fleet, expert, 1, MAP_STATE),
        "map_incident": [
            int(net.init[fleet.incident_links[0]]),
            int(net.term[fleet.incident_links[0]]),
        ],
        "route_nodes": [
            [int(net.init[r[0]])] + [int(net.term[e]) for e in r] for r in fleet.routes
        ],
        "od": list(fleet.od),
    }


def _applied(results: list[tuple[dict, dict]], learner: str) -> list[tuple[dict, dict]]:
    return [(c, m) for c, m in results if c["learner"] == learner and "not_applicable" not in m]


def _compare(results, ours: str, rivals: tuple[str, ...], why: str) -> Verdict | None:
    """``ours`` no worse than the strongest of ``rivals`` (lowest mean regret gap): a paired
    non-inferiority test over seeds (every learner of a seed sees the same demonstrations)."""
    ran = [c for c, _ in results if c["learner"] == ours]
    if not ran:
        return None
    gaps = {
        name: {c["seed"]: m["regret_gap"] for c, m in _applied(results, name)}
        for name in (ours, *rivals)
    }
    present = [r for r in rivals if gaps[r]]
    claim = f"{NAMES[ours]} vs {NAMES[rivals[0]]}" + ("/+noise" if len(rivals) > 1 else "")
    if not gaps[ours] or not present:
        return Verdict(
            NAME,
            claim,
            NAMES[ours],
            why,
            "regret gap no larger than the analogue's",
            f"{NAMES[ours]} applied in {len(gaps[ours])} runs, the analogues in "
            f"{sum(len(gaps[r]) for r in rivals)}",
            NOT_APPLICABLE,
            "both learners must apply (coverage) to compare",
            {},
        )
    theirs = min(present, key=lambda r: float(np.mean(list(gaps[r].values()))))
    seeds = sorted(set(gaps[ours]) & set(gaps[theirs]))
    diffs = [gaps[ours][k] - gaps[theirs][k] for k in seeds]
    cmp = non_inferiority(diffs, [gaps[theirs][k] for k in seeds], NAMES[ours], NAMES[theirs])
    return comparison_verdict(
        NAME,
        claim,
        NAMES[ours],
        why,
        "regret gap no larger than the analogue's (the strongest that ran)",
        cmp,
        paired_over="seeds",
    )


def verdict(results: list[tuple[dict, dict]]) -> list[Verdict]:
    """The Theorems 5.7/5.9 bound for every run; BLADES vs the stronger of DAgger and
    DAgger+noise, and MALICE vs ALICE (paired non-inferiority)."""
    out = bound_verdict(NAME, results, "Sioux Falls fleet game")
    for a, b, why in (
        (
            "blades",
            ("dagger", "dagger_noise"),
            "queryable expert, equal demonstrations and query budgets",
        ),
        ("malice", ("alice",), "beta-coverage (Assumption 5.2), equal demonstrations and rounds"),
    ):
        v = _compare(results, a, b, why)
        if v is not None:
            out.append(v)
    return out


def _map(results: list[tuple[dict, dict]], out: Path, learner: str) -> str | None:
    """``fleet_map.png``: expected fleet vehicles per link under ``MAP_STATE`` at h = 1,
    the expert beside ``learner`` (its first seed)."""
    runs_ = sorted(
        ((c, m) for c, m in results if c["learner"] == learner and "map_routes" in m),
        key=lambda cm: cm[0]["seed"],
    )
    if not runs_:
        return None
    c, m = runs_[0]
    net, _ = sioux_falls_network()
    xy = sioux_falls_coordinates()
    routes = [list(itertools.pairwise(r)) for r in m["route_nodes"]]
    vehicles = np.asarray(m["fleet_vehicles"])
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.5))
    top = float(vehicles.sum())
    for ax, key, title in (
        (axes[0], "map_expert_routes", "expert (welfare CE app)"),
        (axes[1], "map_routes", f"{NAMES[learner]} (seed {c['seed']})"),
    ):
        load: dict[tuple[int, int], float] = {}
        for i, probs in enumerate(m[key]):
            for r, p in zip(routes, probs, strict=True):
                for uv in r:
                    load[uv] = load.get(uv, 0.0) + vehicles[i] * p
        for u, v in zip(net.init, net.term, strict=True):
            ax.plot(*xy[[u - 1, v - 1]].T, color="0.85", lw=1, zorder=1)
        cmap = plt.get_cmap("viridis")
        for (u, v), x in sorted(load.items(), key=lambda kv: kv[1]):
            if x > 1e-9:
                ax.plot(*xy[[u - 1, v - 1]].T, color=cmap(x / top), lw=1.5 + 6 * x / top, zorder=2)
        iu, iv = m["map_incident"]
        ax.plot(*xy[[iu - 1, iv - 1]].T, "r--", lw=2, zorder=3, label=f"incident {iu}-{iv}")
        ax.scatter(*xy.T, s=12, color="k", zorder=4)
        for n, (x, y) in enumerate(xy, start=1):
            ax.annotate(str(n), (x, y), fontsize=6, xytext=(2, 2), textcoords="offset points")
        o, d = m["od"]
        ax.scatter(*xy[[o - 1, d - 1]].T, s=60, color="orange", zorder=5, label=f"pair {o}->{d}")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.legend(fontsize=7, loc="lower left")
    sm = plt.cm.ScalarMappable(cmap=plt.get_cmap("viridis"), norm=plt.Normalize(0, top))
    fig.colorbar(sm, ax=axes, shrink=0.7, label="expected fleet vehicles on the link")
    fig.suptitle(f"Fleet routing at h = 1 with an incident on {iu}-{iv} (capacity halved)")
    save_png(fig, out / "fleet_map.png")
    return "fleet_map.png"


def render(results: list[tuple[dict, dict]], out: Path) -> str:
    """Markdown section: gaps, incentives, minutes lost, mishandled states, and a map."""
    rows, fleet_rows, state_rows = [], [], []
    for name in LEARNERS:
        ran = select(results, learner=name)
        ms = [m for m in ran if "not_applicable" not in m]
        if not ran:
            continue
        if not ms:
            rows.append([NAMES[name], "n/a (coverage fails)", "", "", "", ""])
            continue
        rows.append(
            [
                NAMES[name],
                fmt_ci(mean_ci(m["value_gap"] for m in ms)),
                fmt_ci(mean_ci(m["regret_gap"] for m in ms)),
                fmt_ci(mean_ci(m["loss_deviation"] for m in ms)),
                fmt_ci(mean_ci(max(m["fleet_regret_minutes"]) for m in ms), 1),
                fmt_ci(mean_ci(float(np.mean(m["minutes_lost"])) for m in ms), 1),
            ]
        )
        per_fleet = np.array([m["fleet_regret_minutes"] for m in ms]).mean(axis=0)
        fleet_rows.append([NAMES[name], *(fmt(x, 1) for x in per_fleet)])
        counts = Counter(w[2] for m in ms for w in m["worst_states"][:1])
        label, n = counts.most_common(1)[0]
        tvs = [w[1] for m in ms for w in m["worst_states"][:1] if w[2] == label]
        state_rows.append([NAMES[name], label, f"{n}/{len(ms)}", fmt(float(np.mean(tvs)))])
    done = [m for _, m in results if "not_applicable" not in m]
    cfg = results[0][0] if results else {}
    seeds = len({c["seed"] for c, _ in results})
    head = ""
    if done:
        m0 = done[0]
        head = (
            f"{cfg.get('fleets')} fleets of {fmt(m0['fleet_vehicles'][0], 0)} vehicles on pair "
            f"{m0['od'][0]} -> {m0['od'][1]}, {cfg.get('routes')} routes each, "
            f"{2 ** cfg.get('L', 0)} incident states, H = {cfg.get('H')}; "
            f"{cfg.get('demos')} demonstrations; u = {fmt(m0['u'])}, "
            f"beta = {fmt(m0['beta_avg'])}. "
        )
    learner = "blades" if any(c["learner"] == "blades" for c, _ in results) else None
    png = _map(results, out, learner) if learner else None
    m = cfg.get("fleets", 0)
    text = (
        f"## {TITLE}\n\n{head}Mean [95% CI] over {seeds} seeds. Gaps are in reward units "
        f"(total travel time / the game's largest); minutes are vehicle-minutes per fleet per "
        f"period (Sioux Falls free-flow times, 0.01 h, read as minutes).\n\n"
        + md_table(
            [
                "learner",
                "value gap",
                "regret gap",
                "l (eq. 7)",
                "largest fleet incentive to ignore the app (min/period)",
                "minutes lost per fleet per period vs expert",
            ],
            rows,
        )
        + "\n\nEach fleet's incentive to ignore the learned app (its regret, vehicle-minutes "
        "per period, mean over seeds):\n\n"
        + md_table(["learner", *[f"fleet {i + 1}" for i in range(m)]], fleet_rows)
        + "\n\nMishandled incidents: the state (links with an incident) where the learned "
        "mediator's recommendation differs most from the expert's (total variation, over "
        "states some deviation reaches), its most frequent value over seeds:\n\n"
        + md_table(["learner", "incident state", "seeds", "mean TV there"], state_rows)
        + "\n"
    )
    if png:
        text += f"\n![fleet routes under an incident]({png})\n"
    return text


def main(args: Args) -> list[Verdict]:
    """Run every configuration serially and print the verdicts."""
    from regretgap.experiments._suite import run_module

    return run_module(sys.modules[__name__], args)


if __name__ == "__main__":
    from regretgap.experiments._cli import cli

    raise SystemExit(cli(Args, main, __doc__))
