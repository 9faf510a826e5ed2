"""Benchmark: exact regret of a 10^6-state game, time and measured peak memory.

Builds a seeded random game with S = 1,000,000 states, two agents with 5 actions each
(A = 25 joint actions), 5 successors per state-joint-action pair and H = 20, draws a
time-dependent mediator ``sigma [H, S, A]``, and evaluates ``regretgap.regret`` (every
agent's value and best response over the complete per-step class). Prints, per phase, the
wall time, the measured peak resident memory (``VmHWM`` of ``/proc/self/status``, reset
between phases through ``/proc/self/clear_refs``; ``ru_maxrss`` for the whole run) next to
``regretgap.memory_estimate``, and bytes per state-action pair. Needs about 10 GB: not run
in CI.

Usage: python benchmarks/large_game.py [--states N] [--horizon H] [--branching K]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

import regretgap as rg
from regretgap.games.random import random_game


def rss_kib(field: str) -> int:
    """``VmRSS`` or ``VmHWM`` of this process in KiB."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak() -> bool:
    """Reset ``VmHWM`` to the current RSS (Linux >= 4.0); False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        return True
    except OSError:
        return False


def phase(name: str, fn, estimate: int | None = None):
    """Run ``fn``; print its time and the peak RSS above the RSS it started from."""
    resettable = reset_peak()
    start = rss_kib("VmRSS")
    t0 = time.perf_counter()
    out = fn()
    wall = time.perf_counter() - t0
    grown = (rss_kib("VmHWM") - start) * 1024 if resettable else float("nan")
    line = f"{name}: {wall:.1f} s, peak RSS growth {grown / 2**30:.2f} GiB"
    if estimate is not None and grown > 0:
        line += f", estimate {estimate / 2**30:.2f} GiB (ratio {estimate / grown:.2f})"
    print(line, flush=True)
    return out, wall, grown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=1_000_000)
    parser.add_argument("--horizon", type=int, default=20)
    parser.add_argument("--branching", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    num_actions = (5, 5)
    s, h, k = args.states, args.horizon, args.branching
    a = int(np.prod(num_actions))
    est = rg.memory_estimate(s, num_actions, h, s * a * k)
    print(f"estimate: {est} (GiB: total {est.total / 2**30:.2f})")
    print(f"available: {rg.memory.available_memory() / 2**30:.2f} GiB (MemAvailable)")
    rng = np.random.default_rng(args.seed)

    # warm up the compiled kernel so compilation is not timed
    small = random_game(50, num_actions, 3, rng=np.random.default_rng(1))
    rg.regret(small, rg.uniform_policy(small))

    game, _, _ = phase(
        "random_game (generator arrays + MarkovGame)",
        lambda: random_game(s, num_actions, h, rng=rng, branching=k),
    )
    print(f"game: {game}")

    def draw() -> np.ndarray:
        sigma = rng.random((h, s, a))
        sigma /= sigma.sum(axis=2, keepdims=True)
        return sigma

    sigma, _, _ = phase("policy sigma [H, S, A]", draw, est.policy)
    rep, wall, grown = phase(
        "regret (values + both best responses)", lambda: rg.regret(game, sigma), est.evaluator
    )
    pairs = s * a
    print(f"regret = {rep.value:.6f} (agent {rep.agent})")
    held = est.game + est.policy
    print(
        f"regret: {wall:.1f} s, {1e9 * wall / (pairs * h):.2f} ns per (h, s, a); working set "
        f"{grown / pairs:.1f} bytes per state-action pair measured ({est.evaluator / pairs:.1f} "
        f"estimated); game + policy {held / pairs:.1f} bytes per pair"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        f"whole run: peak RSS (ru_maxrss) {peak / 2**30:.2f} GiB = {peak / pairs:.1f} bytes per "
        f"state-action pair; memory_estimate total {est.total / 2**30:.2f} GiB"
    )


if __name__ == "__main__":
    main()
