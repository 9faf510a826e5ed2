"""The cliff (value-gap compounding, Theorems 4.9 and 4.10) and its experiment's verdicts."""

from __future__ import annotations

import numpy as np
import pytest

import regretgap as rg
from regretgap.experiments import compounding
from regretgap.experiments._verdict import CONSISTENT, INCONSISTENT
from regretgap.games import cliff
from regretgap.games.compounding import (
    COORDINATED,
    jbc_value_gap,
    label_noise,
    path_state,
    sink_state,
)


@pytest.mark.parametrize("horizon", [1, 2, 5, 12])
def test_cliff_structure(horizon):
    c = cliff(horizon)
    g = c.game
    assert g.num_states == 2 * horizon - 1 and g.num_actions == (2, 2)
    assert g.is_layered
    np.testing.assert_allclose(rg.values(g, c.expert), horizon)  # every agent, H on path
    assert c.expected["value_expert"] == horizon
    t = g.transition_tensor()
    for h in range(horizon - 1):
        assert t[path_state(h), COORDINATED, path_state(h + 1)] == 1.0
        for a in range(1, 4):  # any other joint action falls off
            assert t[path_state(h), a, sink_state(h + 1, horizon)] == 1.0
        if h >= 1:  # no way back from the sink
            np.testing.assert_array_equal(
                t[sink_state(h, horizon), :, sink_state(h + 1, horizon)], 1
            )


def test_jbc_value_gap_formula_against_the_exact_evaluator():
    """A hand-built policy leaving the path w.p. eps_h at p_h (spread over the three other
    joint actions unevenly): the formula equals the exact value gap."""
    rng = np.random.default_rng(0)
    horizon = 9
    c = cliff(horizon)
    eps = rng.uniform(0, 0.3, size=horizon)
    sigma = np.tile(c.expert, (horizon, 1, 1))  # [H, S, A]
    for h in range(horizon):
        off = rng.dirichlet(np.ones(3)) * eps[h]
        sigma[h, path_state(h)] = [1 - eps[h], *off]
    assert jbc_value_gap(eps, horizon) == pytest.approx(
        rg.value_gap(c.game, c.expert, sigma), abs=1e-12
    )
    # eps_h is the per-step TV, and its step average is the exact BC error of Theorem 4.9
    loss = rg.imitation_losses(c.game, c.expert, sigma)
    assert loss.bc == pytest.approx(eps.mean())
    assert rg.value_gap(c.game, c.expert, sigma) <= loss.bc * horizon**2


@pytest.mark.parametrize("horizon", [1, 4, 16, 64])
def test_cliff_population_learner_and_the_small_eps_limit(horizon):
    c = cliff(horizon, eta=0.05)
    eps = c.expected["eps"]
    assert eps == pytest.approx(0.75 * 0.05)
    gap = rg.value_gap(c.game, c.expert, c.learner)
    assert gap == pytest.approx(c.expected["value_gap"], abs=1e-12)
    assert gap == pytest.approx(horizon - (1 - (1 - eps) ** horizon) / eps, abs=1e-9)
    # compounding: at most eps H (H - 1) / 2, and within O(eps H)^2 of it
    small = c.expected["value_gap_small_eps"]
    assert gap <= small + 1e-12
    assert small - gap <= (eps * horizon) ** 2 * horizon / 6 + 1e-12


def test_jbc_value_gap_rejects_bad_errors():
    with pytest.raises(ValueError, match="eps"):
        jbc_value_gap(1.5, 3)
    with pytest.raises(ValueError, match="horizon"):
        cliff(0)
    with pytest.raises(ValueError, match="eta"):
        cliff(3, eta=-0.1)


@pytest.mark.parametrize("bad", [-1e-9, 1 + 1e-9, 1.5])
def test_rates_outside_the_unit_interval_are_rejected_and_its_ends_accepted(bad):
    with pytest.raises(ValueError, match="eps must lie in"):
        jbc_value_gap(bad, 3)
    with pytest.raises(ValueError, match="eps must lie in"):
        jbc_value_gap([0.0, bad, 0.0], 3)
    with pytest.raises(ValueError, match="eta must lie in"):
        cliff(3, eta=bad)
    c = cliff(3)
    demos = rg.sample_trajectories(c.game, c.expert, n=2, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="eta must lie in"):
        label_noise(demos, bad, 4, rng=np.random.default_rng(0))
    # the ends: eps = 0 never leaves the path, eps = 1 leaves at the first step (gap H - 1)
    assert jbc_value_gap(0.0, 5) == 0.0
    assert jbc_value_gap(1.0, 5) == 4.0
    assert cliff(3, eta=1.0).expected["eps"] == 0.75
    assert cliff(3, eta=0.0).expected["value_gap"] == 0.0


def test_label_noise_keeps_states_and_flips_at_rate_eta():
    c = cliff(6)
    rng = np.random.default_rng(0)
    demos = rg.sample_trajectories(c.game, c.expert, n=4000, rng=rng)
    noisy = label_noise(demos, 0.2, 4, rng=rng)
    np.testing.assert_array_equal(noisy.states, demos.states)  # the expert's path
    np.testing.assert_array_equal(noisy.states[0], np.arange(6))
    changed = (noisy.actions != COORDINATED).mean()
    # a flip draws a non-coordinated action w.p. 3/4: rate 0.15, CLT bound at 5 sigma
    assert abs(changed - 0.15) <= 5 * np.sqrt(0.15 * 0.85 / noisy.actions.size)
    same = label_noise(demos, 0.0, 4, rng=rng)
    np.testing.assert_array_equal(same.actions, demos.recommended)
    with pytest.raises(ValueError, match="Generator"):
        label_noise(demos, 0.1, 4, rng=0)


def test_jirl_stays_on_the_cliff_where_jbc_falls():
    """The claim at one horizon with the experiment's settings: J-IRL's mixture gap is a
    small fraction of J-BC's and within Theorem 4.10's eps H."""
    c = cliff(32, eta=0.05)
    rng = np.random.default_rng(0)
    demos = label_noise(rg.sample_trajectories(c.game, c.expert, n=200, rng=rng), 0.05, 4, rng=rng)
    bc = rg.jbc(c.game, demos).policy
    irl = rg.jirl(c.game, demos, rng=rng, rounds=200)
    gap_bc = rg.value_gap(c.game, c.expert, bc)
    gap_irl = rg.value_gap(c.game, c.expert, irl.policy)
    assert gap_bc > 10  # ~ H - (1 - (1 - 3 eta / 4)^H) / (3 eta / 4) = 13.2
    assert 0 <= gap_irl < gap_bc / 5
    moment = rg.imitation_losses(c.game, c.expert, irl.policy).moment
    assert gap_irl <= moment * 32


# ---------------------------------------------------------------------------------------
# the experiment


def test_quick_run_is_consistent(tmp_path, monkeypatch):
    args = compounding.Args(quick=True)
    specs = compounding.runs(args)
    assert {s.config["learner"] for s in specs} == {"jbc", "jirl"}
    assert len({s.key for s in specs}) == len(specs)
    assert all(isinstance(s.config["seed"], int) for s in specs)
    results = [(s.config, compounding.execute(s.config, s.seed)) for s in specs]
    for _, m in results:
        assert m["formula_gap"] == pytest.approx(m["value_gap"], abs=1e-9)
    verdicts = compounding.verdict(results)
    assert [v.word for v in verdicts] == [CONSISTENT] * 5, verdicts
    md = compounding.render(results, tmp_path)
    assert md.startswith("## " + compounding.TITLE)
    assert (tmp_path / "compounding.png").stat().st_size > 0
    # the standalone main goes through the same runs and verdict (execute replayed, not rerun)
    done = {s.key: m for s, (_, m) in zip(specs, results, strict=True)}
    replay = {(str(sorted(s.config.items())), s.seed): done[s.key] for s in specs}
    monkeypatch.setattr(
        compounding, "execute", lambda config, seed: replay[(str(sorted(config.items())), seed)]
    )
    assert compounding.main(args) == verdicts


def _doctored(jbc_gap, jirl_gap, horizons=(4, 8, 16, 32), seeds=3, eps=0.04, moment=0.05):
    """Synthetic results: gaps as functions of H with a little seed-to-seed spread."""
    out = []
    for h in horizons:
        for k in range(seeds):
            wiggle = 1 + 0.02 * (k - 1)
            base = {"H": h, "seed": k, "eta": 0.05, "demos": 200}
            out.append(
                (
                    {**base, "learner": "jbc"},
                    {"value_gap": jbc_gap(h) * wiggle, "loss_bc": eps, "population_gap": 0.0},
                )
            )
            out.append(
                (
                    {**base, "learner": "jirl"},
                    {
                        "value_gap": jirl_gap(h) * wiggle,
                        "loss_moment": moment,
                        "best_iterate_value_gap": 0.0,
                    },
                )
            )
    return out


def _words(results):
    return {v.claim: v.word for v in compounding.verdict(results)}


CONFORMING = {"jbc": lambda h: 0.04 * h * (h - 1) / 2, "jirl": lambda h: 0.3 * 0.05 * h}


@pytest.mark.parametrize(
    ("claim", "jbc", "jirl"),
    [
        # J-BC above eps H^2 at H = 32
        ("Theorem 4.9", lambda h: 0.04 * h * h * (1.5 if h == 32 else 0.4), CONFORMING["jirl"]),
        # J-BC linear in H: no compounding, slope 1 < 1.5
        ("Theorem 4.9 (attained)", lambda h: 0.04 * h, lambda h: 0.01 * h),
        # J-IRL above eps_moment H at H = 8
        ("Theorem 4.10", CONFORMING["jbc"], lambda h: 0.05 * h * (2.0 if h == 8 else 0.3)),
        # J-IRL compounding like H^2 (within its bound eps H for these H: 0.0015 H^2 <= 0.05 H)
        ("Theorem 4.10 (no compounding)", CONFORMING["jbc"], lambda h: 0.0015 * h * h),
        # J-IRL no better than J-BC at the largest H
        ("Theorems 4.9 vs 4.10", CONFORMING["jbc"], lambda h: 0.04 * h * (h - 1) / 2),
    ],
)
def test_each_verdict_both_ways(claim, jbc, jirl):
    good = _words(_doctored(CONFORMING["jbc"], CONFORMING["jirl"]))
    assert good == dict.fromkeys(good, CONSISTENT) and claim in good
    assert _words(_doctored(jbc, jirl))[claim] == INCONSISTENT


def test_jbc_and_jirl_of_a_seed_learn_from_the_same_demonstrations(monkeypatch):
    """The J-BC vs J-IRL comparison is paired: the learners' runs differ in their own seed
    and settings, never in the data they see."""
    seen = {}

    def spy(game, demos, **kw):
        seen[kw.get("learner", "jbc" if "rounds" not in kw else "jirl")] = (
            demos.states.copy(),
            demos.actions.copy(),
        )
        raise StopIteration

    monkeypatch.setattr(compounding.rg, "jbc", lambda g, d, **kw: spy(g, d, learner="jbc"))
    monkeypatch.setattr(compounding.rg, "jirl", lambda g, d, **kw: spy(g, d, learner="jirl"))
    for spec in compounding.runs(compounding.Args(quick=True, seeds=1, horizons=(4,))):
        with pytest.raises(StopIteration):
            compounding.execute(spec.config, spec.seed)
    assert set(seen) == {"jbc", "jirl"}
    for a, b in zip(seen["jbc"], seen["jirl"], strict=True):
        np.testing.assert_array_equal(a, b)
