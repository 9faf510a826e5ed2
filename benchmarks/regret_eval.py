"""Benchmark: full exact regret evaluation vs the memory floor (issue 2).

Builds a seeded random game with stationary sparse transitions (S = 100,000 states, two
agents with 5 actions each, 5 successors per state-joint-action pair, H = 20) and times
``regretgap.regret`` (every agent's value and best response over the complete per-step
class). Prints ratios measured in this run, never absolute targets:

- ours / floor, where the floor is H products of the transition matrix with one vector
  (scipy CSR mat-vec): the cost of reading T once per step. Target: <= 3x.
- ours / quantecon's ``backward_induction`` solving one agent's single-agent MDP of the
  same size (S states, A = 25 actions, the same sparse transitions), an external peer.

Usage: python benchmarks/regret_eval.py [--states N] [--horizon H] [--repeats R]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import regretgap as rg
from regretgap.games.random import random_game


def best_of(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=100_000)
    parser.add_argument("--horizon", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    game = random_game(args.states, (5, 5), args.horizon, rng=rng, branching=5)
    sigma = rng.dirichlet(np.ones(game.num_joint_actions), size=game.num_states)
    print(f"game: {game} (built in {time.perf_counter() - t0:.1f} s)")
    import numba

    print(
        f"numba threads: {numba.get_num_threads()} (NUMBA_NUM_THREADS=1 for one thread); "
        f"the floor (scipy mat-vec) is single-threaded"
    )

    # warm up the compiled kernel (compilation is cached on disk after the first run)
    small = random_game(50, (5, 5), 3, rng=np.random.default_rng(1))
    rg.regret(small, rg.uniform_policy(small))
    print(f"numba threading layer: {numba.threading_layer()}")

    t = game.transitions
    v = rng.random(game.num_states)
    floor = best_of(lambda: [t @ v for _ in range(game.horizon)], args.repeats)
    ours = best_of(lambda: rg.regret(game, sigma), args.repeats)
    rep = rg.regret(game, sigma)
    print(f"floor: {game.horizon} CSR mat-vecs with one vector: {floor:.3f} s")
    print(
        f"ours: regret (values + both agents' best responses): {ours:.3f} s, "
        f"regret = {rep.value:.4f}"
    )
    print(f"ratio ours/floor = {ours / floor:.2f}  (target <= 3)")

    try:
        import quantecon as qe
    except ImportError:
        print("quantecon not installed: pip install '.[test]' for the peer ratio")
        return
    num_rows = game.num_states * game.num_joint_actions
    s_idx = np.repeat(np.arange(game.num_states), game.num_joint_actions)
    a_idx = np.tile(np.arange(game.num_joint_actions), game.num_states)
    ddp = qe.markov.DiscreteDP(game.rewards[0].reshape(num_rows), t, 1.0, s_idx, a_idx)
    peer = best_of(lambda: qe.markov.backward_induction(ddp, game.horizon), args.repeats)
    vs, _ = qe.markov.backward_induction(ddp, game.horizon)
    print(
        f"peer: quantecon backward_induction, one agent's MDP (S={game.num_states}, "
        f"A={game.num_joint_actions}): {peer:.3f} s"
    )
    print(f"ratio ours/quantecon = {ours / peer:.2f}  (ours solves 2 best responses + 2 values)")
    print(
        f"peer ratio quantecon/floor = {peer / floor:.2f}; "
        f"max_a-MDP optimum >= agent-0 BR: {float(game.initial @ vs[0]):.4f} >= "
        f"{rep.agent_values[0] + rep.per_agent[0]:.4f}"
    )


if __name__ == "__main__":
    main()
