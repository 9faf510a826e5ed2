"""Benchmark: batched stage LPs of ``markov_ce`` vs one scipy call per state.

Seeded random game: S = 20,000 states, two agents with 4 actions each, H = 10 (200,000
stage LPs). Prints milliseconds per stage LP for the batched solver (target: <= 0.1 ms
amortised) and for the unbatched baseline (one ``linprog(method="highs")`` per
state, measured on a sample of the same stage games in this run; the library itself calls
scipy's HiGHS bindings directly, the baseline keeps linprog), and the regret of the result.

Usage: python benchmarks/markov_ce.py [--states N] [--horizon H] [--sample K]
"""

from __future__ import annotations

import argparse
import time
from unittest import mock

import numpy as np

import regretgap as rg
from regretgap import equilibria
from regretgap.equilibria import solve_stage_games
from regretgap.games import random_game


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=20_000)
    parser.add_argument("--horizon", type=int, default=10)
    parser.add_argument("--sample", type=int, default=400, help="stage games for the baseline")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    game = random_game(args.states, (4, 4), args.horizon, rng=rng, branching=5)
    print(f"game: {game}")
    num_lps = game.horizon * game.num_states

    t0 = time.perf_counter()
    sigma = rg.markov_ce(game, objective="welfare", batch_size=args.batch_size)
    batched = time.perf_counter() - t0
    print(
        f"batched markov_ce: {batched:.1f} s for {num_lps} stage LPs = "
        f"{1e3 * batched / num_lps:.3f} ms per stage LP (target <= 0.1 ms), "
        f"batch size {args.batch_size}"
    )

    # baseline: the same stage games of the last step, one linprog call each
    q = np.ascontiguousarray(np.moveaxis(game.rewards, 0, 1)[: args.sample])
    t0 = time.perf_counter()
    with mock.patch.object(equilibria, "_highs", None):  # linprog, as a user would call it
        solve_stage_games(q, game.num_actions, batch_size=1)
    single = (time.perf_counter() - t0) / args.sample
    t0 = time.perf_counter()
    solve_stage_games(q, game.num_actions, batch_size=args.batch_size)
    same_batched = (time.perf_counter() - t0) / args.sample
    print(
        f"unbatched baseline: {1e3 * single:.3f} ms per stage LP "
        f"(batched on the same {args.sample} games: {1e3 * same_batched:.3f} ms); "
        f"speed-up of markov_ce {single / (batched / num_lps):.1f}x"
    )

    t0 = time.perf_counter()
    rep = rg.regret(game, sigma)
    print(f"regret of the expert: {rep.value:.2e} (evaluated in {time.perf_counter() - t0:.2f} s)")


if __name__ == "__main__":
    main()
