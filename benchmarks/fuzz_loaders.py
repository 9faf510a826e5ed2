"""Fuzz the file loaders with 10^5 inputs: every input loads or is refused.

Runs the harness of ``tests/fuzzing.py`` (arbitrary bytes, byte mutations and structured
mutations of valid files) against ``load_game``, ``load_policy``, ``load_demonstrations``
(each with and without a game) and the TNTP readers, in batches with distinct hypothesis
seeds. An input passes if it loads a valid object or raises ``io.FileFormatError``; any
other exception stops the run with the failing input. A hang shows as the slowest input's
time. Then ``--typos`` typos of the TNTP files (O/0, l/1, a dropped separator or field):
each must be refused or load the very same data as the original.

    python3 benchmarks/fuzz_loaders.py               # 100,000 inputs
    python3 benchmarks/fuzz_loaders.py -n 20000 --batch 5000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fuzzing import cases, run_one, run_typo, typos
from hypothesis import HealthCheck, given, seed, settings


def run_batch(n: int, batch_seed: int, folder: Path, tally: Counter, slowest: list) -> None:
    """``n`` inputs with hypothesis seed ``batch_seed``; outcomes go into ``tally``."""

    @seed(batch_seed)
    @settings(
        max_examples=n,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases())
    def fuzz(case: tuple[str, bytes]) -> None:
        name, data = case
        t0 = time.perf_counter()
        outcome = run_one(name, data, folder)
        dt = time.perf_counter() - t0
        tally[(name, outcome)] += 1
        if dt > slowest[0]:
            slowest[:] = [dt, name, len(data)]

    fuzz()


def run_typos(n: int, batch_seed: int, folder: Path, tally: Counter) -> None:
    """``n`` typos of the TNTP files; each must be refused or load the same data."""

    @seed(batch_seed)
    @settings(max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=typos())
    def fuzz(case: tuple[str, bytes, bytes]) -> None:
        name, original, typo = case
        tally[(f"{name} (typos)", run_typo(name, original, typo, folder))] += 1

    fuzz()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000, help="inputs in all")
    parser.add_argument("--batch", type=int, default=10_000, help="inputs per hypothesis seed")
    parser.add_argument("--typos", type=int, default=10_000, help="typos of the TNTP files")
    args = parser.parse_args()
    tally: Counter = Counter()
    slowest: list = [0.0, "", 0]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for b in range(max(1, -(-args.n // args.batch))):
            run_batch(min(args.batch, args.n - b * args.batch), b, Path(tmp), tally, slowest)
            done = sum(tally.values())
            print(f"batch {b}: {done} inputs, {time.perf_counter() - t0:.0f} s", flush=True)
        run_typos(args.typos, 0, Path(tmp), tally)
    total = sum(tally.values())
    print(f"\n{total} inputs in {time.perf_counter() - t0:.0f} s; no other exception, no crash")
    print(f"slowest input: {slowest[0] * 1e3:.1f} ms ({slowest[1]}, {slowest[2]} bytes)")
    for name in sorted({k[0] for k in tally}):
        loaded = tally[(name, "loaded")] + tally[(name, "same")]
        refused = tally[(name, "refused")]
        print(f"  {name:<28} loaded {loaded:>6}  refused {refused:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
