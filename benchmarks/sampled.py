"""Benchmark: the sampled stack on a large game.

A seeded random game with S = 100,000 states, five agents with three actions each
(A = 243 joint actions), 5 successors per pair and H = 10, observed through 16 random
features. Prints figures measured in this run:

1. Rollouts: state-steps per second of ``TableSimulator.step`` on a batch of 10,000 states,
   against a numpy floor that draws the same successors with vectorised numpy (gather the
   pair's 5 successor weights, cumulative sum, compare with one uniform): ours / floor.
2. Sampled BLADES (log-linear mediator, fitted-Q adversary on features) seconds per round,
   and the share of a round spent in the adversary (its roll-ins, the expert's answers, the
   mediator's recommendations and likelihoods along them, its Q regressions), in fitting
   the mediator, and in simulator steps (counted inside the adversary as well).

Usage: python benchmarks/sampled.py [--states N] [--horizon H] [--rounds R] [--batch B]
"""

from __future__ import annotations

import argparse
import importlib
import time
from collections import defaultdict
from contextlib import contextmanager

import numpy as np

import regretgap as rg
from regretgap import sampled
from regretgap.games.random import random_game

SIZES = (3, 3, 3, 3, 3)


def best_of(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def numpy_floor(game: rg.MarkovGame, branching: int):
    """The same successor draw in plain numpy (every row has ``branching`` entries)."""
    t = game.transitions
    cols = t.indices.reshape(-1, branching)
    probs = t.data.reshape(-1, branching)
    num_joint = game.num_joint_actions

    def step(states: np.ndarray, actions: np.ndarray, u: np.ndarray) -> np.ndarray:
        rows = states * num_joint + actions
        cum = np.cumsum(probs[rows], axis=1)
        # the kernel's convention: the first successor whose cumulative sum exceeds u
        k = np.minimum((cum <= u[:, None]).sum(axis=1), branching - 1)
        return cols[rows, k]

    return step


class Timers:
    """Seconds spent inside wrapped functions, by label."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def patch(self, owner, attr: str, label: str):
        original = getattr(owner, attr)

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - t0

        setattr(owner, attr, timed)
        try:
            yield
        finally:
            setattr(owner, attr, original)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=100_000)
    parser.add_argument("--horizon", type=int, default=10)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    game = random_game(args.states, SIZES, args.horizon, rng=rng, branching=5)
    features = rng.standard_normal((args.states, 16))
    sim = game.simulator(features)
    print(f"game: {game} (built in {time.perf_counter() - t0:.1f} s), features d = 16")

    # 1. rollouts
    states = sim.reset(rng, args.batch)
    actions = rng.integers(0, game.num_joint_actions, args.batch)
    u = rng.random(args.batch)
    floor = numpy_floor(game, 5)
    sim.step(states, actions, np.random.default_rng(1))  # compile
    ours_s = best_of(lambda: sim.step(states, actions, np.random.default_rng(1)), args.repeats)
    floor_s = best_of(lambda: floor(states, actions, u), args.repeats)
    same = np.array_equal(
        sim.step(states, actions, np.random.default_rng(1)),
        floor(states, actions, np.random.default_rng(1).random(args.batch)),
    )
    print(
        f"rollouts: {args.batch / ours_s / 1e6:.2f} M state-steps/s (TableSimulator.step), "
        f"numpy floor {args.batch / floor_s / 1e6:.2f} M/s; ours / floor = "
        f"{ours_s / floor_s:.2f} (same successors: {same})"
    )

    # 2. sampled BLADES per round, with the time split
    expert_sigma = rng.dirichlet(np.full(game.num_joint_actions, 0.1), size=args.states)
    expert = sampled.policy_recommender(expert_sigma)
    demos = sampled.demonstrations(sim, expert, 200, rng=rng)
    timers = Timers()
    # the module that defines sampled BLADES (patched to time its parts)
    blades_mod = importlib.import_module("regretgap.sampled.querying")
    pol_mod = importlib.import_module("regretgap.sampled.policies")

    with (
        timers.patch(type(sim), "step", "simulator steps (inside the adversary too)"),
        timers.patch(blades_mod, "fitted_q_adversary", "adversary (its roll-ins, queries, Q fits)"),
        timers.patch(pol_mod.LogLinearMediator, "fit", "fitting the mediator"),
    ):
        t0 = time.perf_counter()
        res = sampled.blades(
            sim,
            expert,
            rng=rng,
            policy_class=sampled.LogLinearMediator(SIZES, l2=1e-2, max_iter=100),
            demos=demos,
            rounds=args.rounds,
            rollouts=64,
            adversary_episodes=128,
            adversary="fitted",
        )
        total = time.perf_counter() - t0
    per_round = total / args.rounds
    print(
        f"sampled BLADES: {per_round:.1f} s per round ({args.rounds} rounds, "
        f"{res.queries} expert queries, 5 agents, fitted-Q adversary on 16 features)"
    )
    for label, secs in sorted(timers.seconds.items()):
        print(f"  {label}: {secs / total:.0%}")
    outside = total - timers.seconds["adversary (its roll-ins, queries, Q fits)"]
    outside -= timers.seconds["fitting the mediator"]
    print(f"  everything else (validation, bookkeeping): {outside / total:.0%}")


if __name__ == "__main__":
    main()
