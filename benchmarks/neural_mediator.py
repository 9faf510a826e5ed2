"""Time NeuralMediator.sample: linear in the agents (autoregressive) vs a softmax over A (flat).

For m = 2..10 agents with 3 actions each (A = 3^m joint actions), fits each head briefly on
random data (the weights do not change the cost) and prints the seconds to sample
``--n`` joint recommendations, for the autoregressive head and, where ``A <= 3^6``, the
flat head, with the ratios to m = 2 measured in this run. The autoregressive time should
grow about linearly in m (one head pass per agent); the flat head's grows like 3^m.

    python benchmarks/neural_mediator.py [--n 10000 --max-agents 10 --threads 1 --seed 0]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from regretgap.sampled.neural import NeuralMediator

FLAT_MAX = 3**6  # the flat head's [n, A] softmax beyond this is what the benchmark avoids


def seconds_to_sample(pol: NeuralMediator, x: np.ndarray, seed: int, repeats: int) -> float:
    """The best of ``repeats`` timings of ``pol.sample(x, rng)`` (after one warm-up)."""
    pol.sample(x[:10], np.random.default_rng(seed))
    best = np.inf
    for r in range(repeats):
        rng = np.random.default_rng(seed + r)
        start = time.perf_counter()
        pol.sample(x, rng)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000, help="joint recommendations")
    parser.add_argument("--max-agents", type=int, default=10)
    parser.add_argument("--d", type=int, default=8, help="feature width")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    x = rng.normal(size=(args.n, args.d))
    print(f"sampling {args.n} joint recommendations, 3 actions per agent, hidden (64, 64)")
    header = ("m", "A", "autoreg s", "/ m=2", "flat s", "/ m=2", "flat/AR")
    print(" ".join(f"{h:>{w}}" for h, w in zip(header, (3, 8, 10, 7, 10, 7, 8), strict=True)))
    base_ar = base_flat = None
    for m in range(2, args.max_agents + 1):
        sizes = (3,) * m
        num_joint = 3**m
        xs = rng.normal(size=(64, args.d))
        acts = rng.integers(0, num_joint, 64)
        fit_rng = np.random.default_rng(args.seed)
        ar = NeuralMediator(sizes, epochs=1).fit(xs, acts, rng=fit_rng)
        t_ar = seconds_to_sample(ar, x, args.seed, args.repeats)
        base_ar = base_ar or t_ar
        row = f"{m:>3} {num_joint:>8} {t_ar:>10.4f} {t_ar / base_ar:>7.2f}"
        if num_joint <= FLAT_MAX:
            flat = NeuralMediator(sizes, autoregressive=False, epochs=1).fit(xs, acts, rng=fit_rng)
            t_flat = seconds_to_sample(flat, x, args.seed, args.repeats)
            base_flat = base_flat or t_flat
            row += f" {t_flat:>10.4f} {t_flat / base_flat:>7.2f} {t_flat / t_ar:>8.2f}"
        else:
            row += f" {'-':>10} {'-':>7} {'-':>8}"
        print(row, flush=True)


if __name__ == "__main__":
    main()
