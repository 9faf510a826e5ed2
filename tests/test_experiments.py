"""The coverage-family experiment (issue 3): J-BC's regret gap per unit BC error grows like
1/beta, MALICE's does not; run in its quick form and check its numbers."""

from __future__ import annotations

import numpy as np
import pytest

import regretgap as rg
from regretgap.experiments import coverage_family as cf
from regretgap.games import theorem_5_4


def test_coverage_family_quick_shows_the_separation(capsys):
    res = cf.main(cf.Args(quick=True))
    out = capsys.readouterr().out
    assert len(res.rows) >= 4 and "separation" in out
    betas = [r.beta for r in res.rows]
    assert betas == sorted(betas, reverse=True)
    # the measured facts the theory predicts (a failure here is a finding, not a tolerance)
    assert res.separation_shown, res.verdict
    assert res.jbc_normalised_slope <= -0.5
    assert all(r.malice_gap < r.jbc_gap for r in res.rows)
    assert res.verdict.startswith("separation shown")


def test_coverage_family_rows_are_reproducible_and_correct():
    args = cf.Args(betas=(0.2, 0.1, 0.05, 0.025), demos=800, rounds=2, seed=3)
    res = cf.main(args)
    again = cf.main(args)
    assert res.rows == again.rows
    # recompute the first row's J-BC gap independently
    rng = np.random.default_rng(3)
    c = theorem_5_4(args.horizon, 0.2, 0.0, args.u)
    demos = rg.sample_trajectories(c.game, c.expert, n=800, rng=rng)
    cls = rg.LogLinear(cf.shared_features(c.game), l2=args.l2)
    bc = rg.jbc(c.game, demos, policy_class=cls)
    assert res.rows[0].jbc_gap == pytest.approx(rg.regret_gap(c.game, c.expert, bc.policy))


def test_coverage_family_needs_four_betas():
    with pytest.raises(ValueError, match="four betas"):
        cf.main(cf.Args(betas=(0.2, 0.1, 0.05)))
