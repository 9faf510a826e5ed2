"""Benchmark: full exact regret evaluation vs the memory floor.

Builds a seeded random game with stationary sparse transitions (S = 100,000 states, two
agents with 5 actions each, 5 successors per state-joint-action pair, H = 20) and times
``regretgap.regret`` (every agent's value and best response over the complete per-step
class). Prints ratios measured in this run, never absolute targets:

- ours / floor, where the floor is H products of the transition matrix with one vector
  (scipy CSR mat-vec): the cost of reading T once per step. Targets: <= 3x with
  one numba thread, <= 2x with two; both thread counts are timed in this run, interleaved
  with the floor (best of ``--repeats``).
- ours / quantecon's ``backward_induction`` solving one agent's single-agent MDP of the
  same size (S states, A = 25 actions, the same sparse transitions), an external peer.

Beside the ratios it prints what varies them between machines: the CPU model, the numba
threading layer, the load average before and after, and a memory-bandwidth probe (a ratio
to a memory-bound floor grows on machines whose memory is fast relative to their cores).
``--runs K`` repeats the whole measurement K times and prints each ratio's spread;
``--layers omp workqueue`` runs it once per numba threading layer, each in a fresh process
(the layer is fixed at the first parallel call).

Usage: python benchmarks/regret_eval.py [--states N] [--horizon H] [--repeats R] [--runs K]
       [--layers LAYER ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
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


def cpu_model() -> str:
    """The processor's name (``/proc/cpuinfo`` on Linux, else ``platform.processor``)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def bandwidth_gbs(megabytes: int = 400, repeats: int = 3) -> float:
    """Read bandwidth probe: GB/s of one pass summing a ``megabytes`` float64 array (the
    floor's bottleneck is reading memory; our kernel's is arithmetic per non-zero)."""
    x = np.ones(megabytes * 2**20 // 8)
    best = best_of(lambda: x.sum(), repeats)
    return x.nbytes / best / 1e9


def load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def spread(args: argparse.Namespace) -> None:
    """Run this script ``args.runs`` times (or once per ``args.layers``) in fresh
    processes and print each ratio's range."""
    layers = args.layers or [None] * args.runs
    ratios: dict[str, list[float]] = {}
    for layer in layers:
        env = dict(os.environ)
        if layer:
            env["NUMBA_THREADING_LAYER"] = layer
        cmd = [sys.executable, __file__, "--states", str(args.states), "--horizon"]
        cmd += [str(args.horizon), "--repeats", str(args.repeats), "--seed", str(args.seed)]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
        print(out)
        for line in out.splitlines():
            if "ratio ours/floor" in line:
                key = line.split(":")[0] + (f" [{layer}]" if layer else "")
                value = re.search(r"ratio ours/floor = ([0-9.]+)", line)
                ratios.setdefault(key, []).append(float(value.group(1)))
    for key, values in ratios.items():
        print(
            f"{key}: ratio ours/floor {min(values):.2f}-{max(values):.2f} over {len(values)} runs"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=100_000)
    parser.add_argument("--horizon", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=1, help="whole measurements, for a spread")
    parser.add_argument("--layers", nargs="*", help="numba threading layers to compare")
    args = parser.parse_args()
    if args.runs > 1 or args.layers:
        spread(args)
        return
    print(f"cpu: {cpu_model()}, {os.cpu_count()} logical cores; load average {load()}")
    print(f"memory read bandwidth (one core, 400 MB sum): {bandwidth_gbs():.1f} GB/s")

    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    game = random_game(args.states, (5, 5), args.horizon, rng=rng, branching=5)
    sigma = rng.dirichlet(np.ones(game.num_joint_actions), size=game.num_states)
    print(f"game: {game} (built in {time.perf_counter() - t0:.1f} s)")
    import numba

    threads = sorted({1, min(2, numba.get_num_threads())})
    print(
        f"numba threads measured: {threads} (set with numba.set_num_threads, at most "
        f"NUMBA_NUM_THREADS); the floor (scipy mat-vec) is single-threaded"
    )

    # warm up the compiled kernel (compilation is cached on disk after the first run)
    small = random_game(50, (5, 5), 3, rng=np.random.default_rng(1))
    rg.regret(small, rg.uniform_policy(small))
    print(f"numba threading layer: {numba.threading_layer()}")

    t = game.transitions
    v = rng.random(game.num_states)

    def floor_run() -> None:
        # each product is dropped before the next: keeping all H outputs alive (as a list
        # did before) made the floor page-fault through H * S * A * 8 fresh bytes per run
        for _ in range(game.horizon):
            t @ v

    # interleaved best-of-R: the floor and each thread count see the same machine load
    best = {"floor": float("inf"), **{n: float("inf") for n in threads}}
    for _ in range(args.repeats):
        best["floor"] = min(best["floor"], best_of(floor_run, 1))
        for n in threads:
            numba.set_num_threads(n)
            best[n] = min(best[n], best_of(lambda: rg.regret(game, sigma), 1))
    numba.set_num_threads(max(threads))
    floor = best["floor"]
    ours = best[max(threads)]
    rep = rg.regret(game, sigma)
    print(f"floor: {game.horizon} CSR mat-vecs with one vector: {floor:.3f} s")
    for n in threads:
        target = 3 if n == 1 else 2
        print(
            f"ours, {n} thread(s): regret (values + both agents' best responses): "
            f"{best[n]:.3f} s; ratio ours/floor = {best[n] / floor:.2f}  (target <= {target})"
        )
    print(f"regret = {rep.value:.4f}; load average after {load()}")

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
    print(
        f"ratio ours ({max(threads)} thread(s))/quantecon = {ours / peer:.2f}  "
        f"(ours solves 2 best responses + 2 values)"
    )
    print(
        f"peer ratio quantecon/floor = {peer / floor:.2f}; "
        f"max_a-MDP optimum >= agent-0 BR: {float(game.initial @ vs[0]):.4f} >= "
        f"{rep.agent_values[0] + rep.per_agent[0]:.4f}"
    )


if __name__ == "__main__":
    main()
