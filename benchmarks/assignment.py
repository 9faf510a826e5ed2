"""Time the user-equilibrium solver: Sioux Falls and a seeded synthetic grid network.

Prints seconds, sweeps and relative gap per network (gap <= 1e-6 within a minute
on 2 cores for a few hundred nodes and about a thousand links).

    python benchmarks/assignment.py [--rows 10 --cols 25 --zones 50 --seed 0]
"""

from __future__ import annotations

import argparse
import time
from importlib import resources

import numpy as np

from regretgap.games.assignment import grid_network, user_equilibrium
from regretgap.games.network import read_tntp_network, read_tntp_trips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10)
    parser.add_argument("--cols", type=int, default=25)
    parser.add_argument("--zones", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rel-gap", type=float, default=1e-6)
    args = parser.parse_args()
    base = resources.files("regretgap") / "networks" / "SiouxFalls"
    with resources.as_file(base) as d:
        cases = [
            (
                "SiouxFalls",
                read_tntp_network(d / "SiouxFalls_net.tntp"),
                read_tntp_trips(d / "SiouxFalls_trips.tntp"),
            )
        ]
    net, trips = grid_network(
        args.rows, args.cols, args.zones, rng=np.random.default_rng(args.seed)
    )
    cases.append((f"grid {args.rows}x{args.cols}+{args.zones} zones", net, trips))
    for name, net, trips in cases:
        start = time.perf_counter()
        ue = user_equilibrium(net, trips, rel_gap=args.rel_gap)
        seconds = time.perf_counter() - start
        print(
            f"{name}: {net.num_nodes} nodes, {len(net.init)} links, {len(trips)} pairs: "
            f"{seconds:.2f} s, {ue.iterations} sweeps, relative gap {ue.relative_gap:.2e}"
        )


if __name__ == "__main__":
    main()
