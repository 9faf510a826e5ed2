"""Benchmark: one full BLADES and one full MALICE run on the markov_ce benchmark game.

Seeded random game with S = 20,000 states, two agents with 4 actions each, H = 10, a
welfare ``markov_ce`` expert. Prints each learner's wall time and the share spent in
evaluation (best responses, state distributions, reachability: the core), fitting (the
policy class) and roll-outs/expert queries, measured in this run.

MALICE runs with ``clip_weights=True``: a finite set of demonstrations cannot cover every
state deviations reach in a 20,000-state random game (it would raise CoverageError).

Usage: python benchmarks/learners.py [--states N] [--rounds R]
"""

from __future__ import annotations

import argparse
import importlib
import time
from collections import defaultdict

import numpy as np

import regretgap as rg
from regretgap.games import random_game

# the package exports functions named like these modules: fetch the modules themselves
losses_mod = importlib.import_module("regretgap.losses")
blades_mod = importlib.import_module("regretgap.learners.querying")
malice_mod = importlib.import_module("regretgap.learners.reweighting")

TIMES: dict[str, float] = defaultdict(float)


def timed(bucket, fn):
    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            TIMES[bucket] += time.perf_counter() - t0

    return wrapper


class TimedClass:
    def __init__(self, inner):
        self.inner = inner

    def fit(self, counts):
        t0 = time.perf_counter()
        try:
            return self.inner.fit(counts)
        finally:
            TIMES["fitting"] += time.perf_counter() - t0


def report(name: str, total: float) -> None:
    parts = ", ".join(f"{k} {v:.2f} s ({100 * v / total:.0f}%)" for k, v in sorted(TIMES.items()))
    other = total - sum(TIMES.values())
    print(f"{name}: {total:.2f} s total: {parts}, other {other:.2f} s ({100 * other / total:.0f}%)")
    TIMES.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=20_000)
    parser.add_argument("--horizon", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--demos", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    game = random_game(args.states, (4, 4), args.horizon, rng=rng, branching=5)
    t0 = time.perf_counter()
    expert = rg.markov_ce(game)
    print(f"game: {game}; markov_ce expert in {time.perf_counter() - t0:.1f} s")
    demos = rg.sample_trajectories(game, expert, n=args.demos, rng=rng)

    # instrument the learners' calls into the core, the simulator and the policy class
    # the learners' best responses go through regretgap.losses.deviation_losses
    losses_mod.best_responses = timed("evaluation", losses_mod.best_responses)
    malice_mod.state_distribution = timed("evaluation", malice_mod.state_distribution)
    malice_mod.deviation_reachable = timed("evaluation", malice_mod.deviation_reachable)
    malice_mod.apply_deviation = timed("evaluation", malice_mod.apply_deviation)
    blades_mod.rollout = timed("rollouts+queries", blades_mod.rollout)
    query = rg.QueryableExpert.query
    rg.QueryableExpert.query = timed("rollouts+queries", query)

    t0 = time.perf_counter()
    oracle = rg.QueryableExpert(expert)
    res = rg.blades(
        game,
        oracle,
        rng=rng,
        rounds=args.rounds,
        rollouts=256,
        policy_class=TimedClass(rg.Tabular()),
    )
    report("BLADES", time.perf_counter() - t0)
    print(
        f"  {res.queries} expert queries; regret gap {rg.regret_gap(game, expert, res.policy):.4f}"
    )

    t0 = time.perf_counter()
    res = rg.malice(
        game,
        demos,
        rng=rng,
        rounds=args.rounds,
        clip_weights=True,
        policy_class=TimedClass(rg.Tabular()),
    )
    report("MALICE", time.perf_counter() - t0)
    print(f"  regret gap {rg.regret_gap(game, expert, res.policy):.4f}")


if __name__ == "__main__":
    main()
