"""Benchmark: enumerating OpenSpiel games into layered Markov games.

Times ``regretgap.openspiel.to_markov_game`` (best of ``--repeats``; wall and CPU seconds,
CPU being the fairer number on a shared machine) and prints the states, joint actions and
transition entries of each game. Target: markov_soccer at H = 8 (8,298 states) in a few
seconds on 2 cores.

Usage: python benchmarks/openspiel_enumeration.py [--repeats R] [--all]
"""

from __future__ import annotations

import argparse
import time

from regretgap.openspiel import to_markov_game

#: (name, horizon, params); the first is the headline target, --all adds the rest
CASES = [
    ("markov_soccer", 8, None),
    ("coop_box_pushing", 4, None),
    ("laser_tag", 3, {"grid": "S.S\n...\nS.S"}),
    ("pathfinding", 6, {"grid": "Ab.\n...\n.aB\n", "players": 2}),
    ("goofspiel", 4, {"num_cards": 4, "points_order": "random"}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--all", action="store_true", help="time every case, not only soccer")
    args = parser.parse_args()

    for name, horizon, params in CASES if args.all else CASES[:1]:
        best_wall = best_cpu = float("inf")
        for _ in range(args.repeats):
            wall, cpu = time.perf_counter(), time.process_time()
            og = to_markov_game(name, horizon, params=params)
            best_wall = min(best_wall, time.perf_counter() - wall)
            best_cpu = min(best_cpu, time.process_time() - cpu)
        game = og.game
        print(
            f"{name} H={horizon}: {game.num_states} states, A={game.num_joint_actions}, "
            f"nnz={game.transitions.nnz}, layered={game.is_layered}: "
            f"{best_wall:.2f} s wall, {best_cpu:.2f} s CPU"
        )


if __name__ == "__main__":
    main()
