"""The beta sweep's verdicts on hand-made results (every word), and its quick run."""

from __future__ import annotations

import pytest

from regretgap.experiments import beta_sweep
from regretgap.experiments._verdict import CONSISTENT, INCONSISTENT, NOT_APPLICABLE

BETAS = (0.2, 0.1, 0.05, 0.025, 0.0125)


def _results(curves, seeds=6):
    """``curves[learner](beta, seed) -> regret gap``."""
    return [
        ({"beta": b, "learner": name, "seed": k}, {"regret_gap": f(b, k)})
        for name, f in curves.items()
        for b in BETAS
        for k in range(seeds)
    ]


def _words(results):
    return {v.claim + " " + v.learner: v.word for v in beta_sweep.verdict(results)}


def jitter(k):
    return 1 + 0.01 * (k % 3)


STEEP = lambda b, k: 0.01 / b * jitter(k)  # noqa: E731  gap ~ 1/beta
FLAT = lambda b, k: 1.0 * jitter(k)  # noqa: E731  saturated
SHALLOW = lambda b, k: 0.3 * b**-0.2 * jitter(k)  # noqa: E731  grows, but neither


def test_one_over_beta_flat_and_shallow_curves_get_each_word():
    got = _words(_results({"jbc": STEEP, "alice": FLAT, "malice": FLAT}))
    assert got["Theorem 5.3 (1/beta) J-BC"] == CONSISTENT
    assert got["Theorem 5.3 (1/beta) ALICE"] == NOT_APPLICABLE  # saturated, said so
    assert got["Theorem 5.7 (no 1/beta) MALICE"] == CONSISTENT
    got = _words(_results({"jbc": SHALLOW, "alice": FLAT, "malice": STEEP}))
    assert got["Theorem 5.3 (1/beta) J-BC"] == INCONSISTENT
    assert got["Theorem 5.7 (no 1/beta) MALICE"] == INCONSISTENT  # MALICE paying 1/beta


def test_malice_vs_alice_both_ways():
    lower = _words(_results({"alice": FLAT, "malice": lambda b, k: 0.7 * jitter(k)}))
    assert lower["MALICE vs ALICE (exact-CE expert) MALICE"] == CONSISTENT
    same = _words(_results({"alice": FLAT, "malice": lambda b, k: 1.0 * jitter(k + 1)}))
    assert same["MALICE vs ALICE (exact-CE expert) MALICE"] == INCONSISTENT


def test_slopes_leave_out_zero_gaps_and_say_so():
    res = _results({"jbc": lambda b, k: 0.0 if k == 0 else STEEP(b, k)})
    s, dropped = beta_sweep.slopes(res, "jbc")
    assert dropped == 1 and len(s) == 5
    assert all(x == pytest.approx(-1.0, abs=1e-9) for x in s)
    (row,) = [v for v in beta_sweep.verdict(res) if v.learner == "J-BC"]
    assert "1 left out" in row.measured


@pytest.mark.slow
def test_quick_run_saturates_and_malice_is_below_alice():
    """The measured finding: with the shared two-block class J-BC and ALICE are flat at
    ~1.0 for small beta (saturated), MALICE at ~0.75; the expert's regret is 0."""
    args = beta_sweep.Args(quick=True)
    res = [(s.config, beta_sweep.execute(s.config, s.seed)) for s in beta_sweep.runs(args)]
    assert max(m["regret_expert"] for _, m in res) <= 1e-9
    got = _words(res)
    assert got["Theorem 5.3 (1/beta) J-BC"] == NOT_APPLICABLE
    assert got["Theorem 5.7 (no 1/beta) MALICE"] == CONSISTENT
    assert got["MALICE vs ALICE (exact-CE expert) MALICE"] == CONSISTENT
