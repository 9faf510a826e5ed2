"""The learner registry (one table for the CLI, the experiments and the docs), the shared
argument checks and the one adversary resolver."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import regretgap as rg
from regretgap import _checks
from regretgap.cli import CLI_LEARNERS
from regretgap.experiments._suite import NAMES
from regretgap.registry import DEMONSTRATIONS, LEARNERS, QUERIES, learner
from regretgap.sampled.adversary import resolve_adversary


@pytest.mark.parametrize("name", list(LEARNERS))
def test_every_entry_names_its_functions_and_its_first_argument(name):
    spec = learner(name)
    assert spec.name == name and spec.exact is getattr(rg, name)
    first = list(inspect.signature(spec.exact).parameters)[:2]
    assert first == ["game", "demos" if spec.learns_from == DEMONSTRATIONS else "expert"]
    if spec.sampled is not None:
        assert spec.sampled is getattr(rg.sampled, name)
        sampled_first = list(inspect.signature(spec.sampled).parameters)[:2]
        assert sampled_first == [
            "sim", "demos" if spec.learns_from == DEMONSTRATIONS else "expert"
        ]  # fmt: skip
    for option in spec.options:
        assert option in inspect.signature(spec.exact).parameters
    assert spec.analogue is None or spec.analogue in LEARNERS
    assert NAMES[name] == spec.label  # the reports' labels come from here


def test_the_cli_offers_the_registry_learners_and_unknown_names_are_refused():
    assert set(CLI_LEARNERS) <= set(LEARNERS)
    assert {LEARNERS[n].learns_from for n in CLI_LEARNERS} == {DEMONSTRATIONS, QUERIES}
    with pytest.raises(rg.ValidationError, match=r"unknown learner 'bc'.*'jbc'"):
        learner("bc")


def test_checks_name_the_argument_and_what_it_got():
    assert _checks.check_count("rounds", np.int64(3)) == 3
    for bad in (0, -1, 2.5, True, "3"):
        with pytest.raises(rg.ValidationError, match=r"^rounds must be a positive integer"):
            _checks.check_count("rounds", bad)
    with pytest.raises(rg.ValidationError, match=r"^episodes must be an integer >= 2, got 1$"):
        _checks.check_count("episodes", 1, minimum=2)
    with pytest.raises(rg.ValidationError, match="epsilon must be a probability"):
        _checks.check_probability("epsilon", 1.5)
    assert _checks.check_fraction("fraction", np.float32(0.25)) == 0.25
    for bad in (0, 1, 1.0, True, float("nan"), "0.5"):
        with pytest.raises(rg.ValidationError, match=r"^fraction must lie in \(0, 1\), got"):
            _checks.check_fraction("fraction", bad)
    generator = r"rng must be a numpy\.random\.Generator, got int$"
    with pytest.raises(rg.ValidationError, match=generator):
        _checks.check_rng(0)
    with pytest.raises(rg.ValidationError, match=r"agent must be in 0\.\.1, got 2"):
        _checks.check_agent(2, 2)
    with pytest.raises(rg.ValidationError, match=r"it lacks \['num_actions', 'horizon'"):
        _checks.check_simulator_members(object())
    game = rg.games.random_game(4, (2, 2), 3, rng=np.random.default_rng(0))
    assert _checks.check_simulator_members(game.simulator()) == ((2, 2), 3)
    with pytest.raises(rg.ValidationError, match="carries rewards"):
        _checks.check_simulator_members(type("G", (), {"rewards": 1})(), reward_free=True)


def test_counts_are_checked_in_one_place():
    """No module writes its own "must be a positive integer" check: they call
    ``_checks.check_count`` (``game.py`` checks ``num_actions[i]`` element by element)."""
    import re
    from pathlib import Path

    root = Path(rg.__file__).parent
    inline = re.compile(r"raise ValidationError\([^)]*must be a positive integer")
    found = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "_checks.py" and inline.search(path.read_text())
    ]
    assert found == ["game.py"]
    c = rg.games.theorem_4_5(3)
    for call, name in [
        (lambda: rg.rollout(c.game, c.expert, 0, rng=np.random.default_rng(0)), "n"),
        (lambda: rg.games.corridor_game(depth=0), "depth"),
        (lambda: rg.memory_estimate(np.int64(0), (2,), 3, 4), "num_states"),
    ]:
        with pytest.raises(rg.ValidationError, match=f"^{name} must be a positive integer"):
            call()


class _FeatureSim:
    """A simulator with ``num_states`` whose states are feature rows (not ints)."""

    def __init__(self, base):
        self.base, self.num_states = base, base.num_states
        self.num_actions, self.horizon = base.num_actions, base.horizon

    def reset(self, rng, n):
        return np.eye(self.num_states)[self.base.reset(rng, n)]

    def step(self, states, joint_actions, rng):  # pragma: no cover - not stepped here
        raise AssertionError

    def observe(self, states, h):  # pragma: no cover
        return states


def test_one_adversary_rule():
    game = rg.games.random_game(4, (2, 2), 3, rng=np.random.default_rng(0))
    sim = game.simulator()
    assert resolve_adversary("auto", sim) == "tabular"
    assert resolve_adversary("auto", sim, np.array([1, 2])) == "tabular"
    assert resolve_adversary("auto", sim, np.array([True])) == "fitted"  # bools are not ints
    assert resolve_adversary("auto", _FeatureSim(sim)) == "fitted"
    assert resolve_adversary("fitted", sim) == "fitted"
    no_count = _FeatureSim(sim)
    no_count.num_states = None
    assert resolve_adversary("auto", no_count, np.array([0])) == "fitted"
    with pytest.raises(rg.ValidationError, match="tabular adversary needs a simulator"):
        resolve_adversary("tabular", no_count)
    with pytest.raises(rg.ValidationError, match="adversary must be one of"):
        resolve_adversary("q", sim)


def test_one_expert_answers_both_back_ends():
    """A QueryableExpert is the sampled learners' expert too, drawing what
    policy_recommender draws: the same run, and every answer counted."""
    game = rg.games.random_game(5, (2, 2), 3, rng=np.random.default_rng(1))
    sigma = np.random.default_rng(2).dirichlet(np.ones(4), size=(3, 5))
    sim = game.simulator()
    demos = rg.sampled.collect(sim, rg.sampled.policy_recommender(sigma), 20,
                               rng=np.random.default_rng(3))  # fmt: skip
    runs = []
    for expert in (rg.sampled.policy_recommender(sigma), rg.QueryableExpert(sigma, game)):
        runs.append(rg.sampled.dagger(
            sim, expert, rng=np.random.default_rng(4), demos=demos, rounds=2, rollouts=8,
            policy_class=rg.sampled.ObservationTable((2, 2)),
        ))  # fmt: skip
    np.testing.assert_array_equal(runs[0].policy.table(game), runs[1].policy.table(game))
    assert expert.queries == runs[1].queries > 0
    # and the exact learner takes the same object
    assert rg.dagger(game, expert, rng=np.random.default_rng(4), rounds=1, rollouts=4).queries
    with pytest.raises(rg.ValidationError, match="int states"):
        expert(np.zeros(2), 0, np.random.default_rng(0))


def test_the_readme_learner_table_is_the_registry():
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    body = readme.split("<!-- learners -->")[1].split("<!-- /learners -->")[0]
    rows = [r for r in body.strip().splitlines()[2:]]
    assert len(rows) == len(LEARNERS)
    for row, spec in zip(rows, LEARNERS.values(), strict=True):
        cells = [c.strip() for c in row.strip("|").split("|")]
        sampled = f"`regretgap.sampled.{spec.name}`" if spec.sampled else "—"
        analogue = LEARNERS[spec.analogue].label if spec.analogue else ""
        assert cells == [spec.label, spec.learns_from, f"`regretgap.{spec.name}`", sampled,
                         analogue, spec.paper]  # fmt: skip


def test_results_have_the_same_fields_in_both_back_ends():
    """One result shape: a sampled result has every field of the exact one, and its best
    iterate is among its iterates."""
    for name in ("JBCResult", "BladesResult", "MaliceResult"):
        assert getattr(rg.sampled, name)._fields == getattr(rg.learners, name)._fields, name
    for name in ("BladesHistory", "MaliceHistory"):
        assert getattr(rg.sampled, name)._fields == getattr(rg.learners, name)._fields, name
    game = rg.games.random_game(5, (2, 2), 3, rng=np.random.default_rng(1))
    sigma = np.random.default_rng(2).dirichlet(np.ones(4), size=(3, 5))
    res = rg.sampled.dagger(
        game.simulator(), rg.QueryableExpert(sigma, game), rng=np.random.default_rng(4),
        rounds=2, rollouts=8, policy_class=rg.sampled.ObservationTable((2, 2)),
    )  # fmt: skip
    assert len(res.iterates) == 3 and res.iterates[res.best_round] is res.policy


def test_the_same_class_object_goes_to_either_back_end():
    """One policy-class notion: an exact table goes to a sampled learner (as its feature
    table) and a sampled mediator to an exact learner (on one-hot (h, s) features); on
    one-hot features the two back ends then fit the same policy."""
    game = rg.games.random_game(6, (2, 2), 3, rng=np.random.default_rng(1))
    sigma = np.random.default_rng(2).dirichlet(np.ones(4), size=(3, 6))
    traj = rg.sample_trajectories(game, sigma, n=40, rng=np.random.default_rng(3))
    sim = game.simulator()  # one-hot (h, s) features by default
    demos = rg.sampled.from_demonstrations(sim, traj)
    exact_table = rg.jbc(game, traj).policy
    for cls in (rg.Tabular(), rg.sampled.ObservationTable((2, 2))):
        sampled_fit = rg.sampled.jbc(sim, demos, rng=np.random.default_rng(0), policy_class=cls)
        np.testing.assert_allclose(sampled_fit.policy.table(game), exact_table, atol=1e-12)
        exact_fit = rg.jbc(game, traj, policy_class=cls, rng=np.random.default_rng(0))
        np.testing.assert_allclose(exact_fit.policy, exact_table, atol=1e-12)
    product = rg.sampled.jbc(sim, demos, rng=np.random.default_rng(0),
                             policy_class=rg.ProductTabular((2, 2)))  # fmt: skip
    np.testing.assert_allclose(
        product.policy.table(game),
        rg.jbc(game, traj, policy_class=rg.ProductTabular((2, 2))).policy,
        atol=1e-12,
    )
    with pytest.raises(rg.ValidationError, match="needs rng="):
        rg.jbc(game, traj, policy_class=rg.sampled.LogLinearMediator((2, 2)))
    with pytest.raises(rg.ValidationError, match="LogLinearMediator"):
        rg.sampled.jbc(sim, demos, rng=np.random.default_rng(0),
                       policy_class=rg.LogLinear(np.ones((6, 4, 1))))  # fmt: skip
