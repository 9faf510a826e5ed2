"""Tests written for mutants of the sampled stack that survived the suite
(``python benchmarks/mutation.py sampled --sample N --seed K --jobs 1``): what the
documented defaults are, which sizes are legal, and what error messages name."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest

import regretgap as rg
from regretgap.errors import ValidationError
from regretgap.games.random import random_game
from regretgap.sampled import (
    CountingExpert,
    LogLinearMediator,
    ObservationTable,
    Samples,
    dagger,
    estimate_gaps,
    estimate_regret,
)
from regretgap.sampled.cloning import jbc as sampled_jbc
from regretgap.sampled.data import collect
from regretgap.sampled.policies import check_features, check_num_actions
from regretgap.sampled.querying import blades_episodes_per_round
from regretgap.sampled.reweighting import malice as sampled_malice


def test_one_action_agents_are_legal():
    """An agent with a single action (n_i = 1) is a legal size: the joint recommendation
    is then the other agents', and agent 0's marginal is 1 everywhere."""
    assert check_num_actions((1, 3)) == (1, 3)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 2))
    pol = LogLinearMediator((1, 3)).fit(x, [0, 1, 2, 1, 0], rng=rng)
    assert pol.num_joint_actions == 3
    np.testing.assert_allclose(pol.marginal(x, 0), np.ones((5, 1)))
    with pytest.raises(ValidationError, match="positive ints"):
        check_num_actions((0, 3))


def test_policy_messages_name_the_shape_the_agent_range_and_the_type():
    """The messages say what was expected and what came: weights ``[n] = (3,)`` got
    ``(2,)``; agents ``0..1`` for two agents; ``table`` of an int names ``int``."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 2))
    pol = LogLinearMediator((2, 3))
    with pytest.raises(
        ValidationError, match=r"weights must have shape \[n\] = \(3,\), got \(2,\)"
    ):
        pol.fit(x, [0, 1, 1], [1.0, 1.0], rng=rng)
    fitted = pol.fit(x, [0, 1, 1], rng=rng)
    with pytest.raises(ValidationError, match=r"agent 2 outside 0\.\.1$"):
        fitted.marginal(x, 2)
    with pytest.raises(ValidationError, match=r"agent -1 outside 0\.\.1$"):
        fitted.conditional(x, -1, np.zeros(3, dtype=np.int64))
    with pytest.raises(ValidationError, match=r"simulator with num_states and observe, got int$"):
        ObservationTable((2, 3)).table(42)


class _RewardOnly:
    """Has ``reward`` but no ``num_agents``: not a Utilities."""

    def reward(self, states, actions):  # pragma: no cover - never called
        raise AssertionError


def test_estimate_regret_names_what_a_non_utilities_lacks():
    game = random_game(4, (2, 3), 2, rng=np.random.default_rng(2))
    sigma = rg.uniform_policy(game)
    for utilities, missing in [
        (object(), r"\['num_agents', 'reward'\]"),
        (_RewardOnly(), r"\['num_agents'\]"),
    ]:
        name = type(utilities).__name__
        with pytest.raises(
            ValidationError, match=rf"{name} is not a Utilities: it lacks {missing}"
        ):
            estimate_regret(
                game.simulator(), utilities, sigma, rng=np.random.default_rng(0), episodes=10
            )


def test_dagger_rolls_in_64_episodes_per_round_by_default():
    """The documented default ``rollouts = 64``: one query per visited state, so a round
    without demonstrations asks ``64 * H`` questions."""
    horizon = 3
    game = random_game(4, (2, 2), horizon, rng=np.random.default_rng(3))

    def expert(states, h, rng):
        return np.zeros(len(states), dtype=np.int64)

    res = dagger(
        game.simulator(),
        expert,
        rng=np.random.default_rng(0),
        policy_class=ObservationTable((2, 2)),
        rounds=1,
    )
    assert res.queries == 64 * horizon


class _Wrapped:
    """A game's simulator with ``observe`` overridden or ``num_states`` hidden."""

    def __init__(self, sim, *, nan_at=None, hide_num_states=False, as_int=False):
        self._sim, self._nan_at, self._hide, self._int = sim, nan_at, hide_num_states, as_int

    def __getattr__(self, name):
        if name == "num_states" and self._hide:
            raise AttributeError(name)
        return getattr(self._sim, name)

    def observe(self, states, h):
        x = np.array(self._sim.observe(states, h), dtype=np.float64)
        if h == self._nan_at:
            x[2, 0] = np.nan
        return x.astype(np.int64) if self._int else x


def rng_(seed):
    return np.random.default_rng(seed)


def _uniform(states, h, rng):
    return rng.integers(0, 6, size=len(states))


def test_data_messages_name_the_fraction_the_feature_and_the_deviation_range():
    game = random_game(4, (2, 3), 3, rng=np.random.default_rng(4))
    rng = np.random.default_rng(0)
    samples = collect(game.simulator(), _uniform, 4, rng=rng)
    # features are float64 as documented, also from a simulator that observes ints
    ints = collect(_Wrapped(game.simulator(), as_int=True), _uniform, 4, rng=rng)
    assert ints.features.dtype == np.float64
    with pytest.raises(ValidationError, match=r"fraction must lie in \(0, 1\), got 1\.0$"):
        samples.split(1.0, rng)
    with pytest.raises(ValidationError, match=r"features at h = 1: column 0 of entry 2 is nan$"):
        collect(_Wrapped(game.simulator(), nan_at=1), _uniform, 4, rng=rng)
    with pytest.raises(ValidationError, match=r"returned \(4,\) entries outside 0\.\.1$"):
        collect(
            game.simulator(), _uniform, 4, rng=rng, agent=0,
            deviation=lambda h, s, a_i: np.full(len(a_i), 2),
        )  # fmt: skip


def test_blades_episode_count_names_the_bad_argument():
    ok = {"num_agents": 2, "rollouts": 3, "adversary_episodes": 10, "adversary_batch": 4}
    # m * (ceil(E / B) * B + rollouts) = 2 * (3 * 4 + 3)
    assert blades_episodes_per_round(**ok) == 30
    for name in ok:
        with pytest.raises(ValidationError, match=rf"^{name} must be a positive integer, got 0$"):
            blades_episodes_per_round(**{**ok, name: 0})


def test_jbc_and_malice_name_what_the_simulator_lacks():
    game = random_game(4, (2, 3), 3, rng=np.random.default_rng(5))
    demos = collect(game.simulator(), _uniform, 6, rng=np.random.default_rng(0))
    with pytest.raises(
        ValidationError, match=r"object is not a Simulator: it lacks \['num_actions'"
    ):
        sampled_jbc(
            object(), demos, rng=np.random.default_rng(0), policy_class=ObservationTable((2, 3))
        )
    hidden = _Wrapped(game.simulator(), hide_num_states=True)
    with pytest.raises(
        ValidationError, match="tabular adversary needs a simulator with num_states"
    ):
        sampled_malice(
            hidden, demos, rng=np.random.default_rng(0), policy_class=ObservationTable((2, 3)),
            adversary="tabular", rounds=1,
        )  # fmt: skip


def test_more_policy_messages_and_the_repr():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(3, 2))
    fitted = LogLinearMediator((2, 3), l2=0.5).fit(x, [0, 1, 5], rng=rng)
    with pytest.raises(ValidationError, match=r"a_i outside 0\.\.1 for agent 0$"):
        fitted.conditional(x, 0, np.array([0, 2, 1]))
    with pytest.raises(ValidationError, match=r"features must have shape \[n, d\], got \(3,\)$"):
        check_features(np.zeros(3))
    for bad in [(True, 2), (2.5, 2), (2, "3")]:
        with pytest.raises(ValidationError, match="num_actions must"):
            check_num_actions(bad)
    assert repr(fitted) == "LogLinearMediator(num_actions=(2, 3), l2=0.5, d=2)"
    assert repr(LogLinearMediator((2, 3), l2=0.5)) == (
        "LogLinearMediator(num_actions=(2, 3), l2=0.5, d=None)"
    )


def test_log_linear_with_all_weights_zero_is_unfitted_and_without_features_fits_the_intercept():
    """``n = 0`` (or all weights 0) gives the unfitted (uniform) policy; ``d = 0`` features
    with data fit the intercept only, whose maximum-likelihood answer (with a tiny ``l2``)
    is the empirical joint-action frequency, here (3, 1, 0, 0, 0, 0) / 4 up to the floor."""
    rng = np.random.default_rng(7)
    pol = LogLinearMediator((2, 3), l2=1e-6)
    empty = pol.fit(rng.normal(size=(4, 2)), [0, 0, 0, 1], np.zeros(4), rng=rng)
    assert empty.coef is None
    np.testing.assert_allclose(empty.probs(np.zeros((1, 2))), np.full((1, 6), 1 / 6))
    none = pol.fit(np.zeros((4, 0)), [0, 0, 0, 1], rng=rng)
    p = none.probs(np.zeros((1, 0)))[0]
    np.testing.assert_allclose(p[:2], [0.75, 0.25], atol=1e-2)


def test_observation_table_keys_rows_exactly_except_for_the_sign_of_zero():
    """Rows 1e-20 and 0.0 are different observations (adding 1.0 before keying would merge
    them); -0.0 and 0.0 are the same one."""
    tab = ObservationTable((2,)).fit(
        np.array([[0.0], [1e-20], [1e-20]]), [0, 1, 1], rng=np.random.default_rng(0)
    )
    np.testing.assert_allclose(tab.probs(np.array([[-0.0], [0.0], [1e-20]]))[:, 0], [1, 1, 0])


def test_agent_values_stderr_is_the_sample_standard_error():
    """One state, H = 1, agent 0 picks a in {0, 1} uniformly and both agents get a: the
    obedient returns are Bernoulli(1/2) draws, so with mean p over N episodes the standard
    error is ``sqrt(p (1 - p) N / (N - 1)) / sqrt(N) = sqrt(p (1 - p) / (N - 1))``."""
    game = rg.MarkovGame(
        np.ones((1, 2, 1)), np.array([[[0.0, 1.0]], [[0.0, 1.0]]]), np.ones(1), 1, (2, 1)
    )
    n = 20
    est = estimate_regret(
        game.simulator(), rg.game_utilities(game), np.full((1, 2), 0.5),
        rng=np.random.default_rng(0), episodes=n, adversary_episodes=n,
    )  # fmt: skip
    p = est.agent_values[0]
    assert 0 < p < 1
    np.testing.assert_allclose(est.agent_values_stderr, np.sqrt(p * (1 - p) / (n - 1)), rtol=1e-12)


def test_query_loss_gives_each_episode_one_id_across_its_steps():
    """BLADES's adversary loss is called once per step of a batch, ``h = 0..H-1``: the
    answered queries of one episode share its id (0, 1, 2 for the first batch of three,
    3, 4 for the next batch of two), whatever the feature dimension (here 4, not 3)."""
    from regretgap.sampled.querying import _QueryLoss

    game = random_game(4, (2, 3), 2, rng=np.random.default_rng(8))
    sim = game.simulator(np.eye(4))  # d = 4 features, the same at both steps
    expert = CountingExpert(lambda s, h, rng: np.zeros(len(s), dtype=np.int64), (2, 3))
    loss = _QueryLoss(sim, expert, ObservationTable((2, 3)), np.random.default_rng(0))
    for batch in ([0, 1, 2], [3, 0]):
        for h in range(2):
            loss(np.array(batch), h)
    np.testing.assert_array_equal(loss.samples().episodes, [0, 1, 2, 0, 1, 2, 3, 4, 3, 4])
    np.testing.assert_array_equal(loss.samples().steps, [0, 0, 0, 1, 1, 1, 0, 0, 1, 1])
    # H = 1: every call is at h = 0, each a new batch even when the batch size repeats
    one = random_game(4, (2, 3), 1, rng=np.random.default_rng(8))
    loss = _QueryLoss(one.simulator(), expert, ObservationTable((2, 3)), np.random.default_rng(0))
    loss(np.array([0, 1]), 0)
    loss(np.array([2, 3]), 0)
    np.testing.assert_array_equal(loss.samples().episodes, [0, 1, 2, 3])


def test_expert_estimate_skips_a_step_without_data_and_fits_the_later_ones():
    """MALICE's plug-in expert: a step with no demonstrations is uncovered; later steps are
    still fitted (one-hot rows: the fit is the empirical joint-action frequency per row)."""
    from regretgap.sampled.reweighting import _ExpertEstimate

    x = np.eye(2)[[0, 0, 1, 0]]
    samples = Samples(x, np.array([1, 1, 2, 3]), np.array([0, 0, 2, 2]), np.array([0, 1, 0, 1]))
    est = _ExpertEstimate(samples, 4, 3)
    p1, covered1 = est.predict(np.eye(2), 1)
    assert not covered1.any()
    np.testing.assert_array_equal(p1, 0.0)
    p2, covered2 = est.predict(np.eye(2), 2)
    assert covered2.all()
    # a row with no active feature has no mass at a fitted step: uncovered, all zeros
    p0, covered0 = est.predict(np.zeros((2, 2)), 2)
    assert not covered0.any()
    np.testing.assert_array_equal(p0, 0.0)
    np.testing.assert_allclose(p2, [[0, 0, 0, 1], [0, 0, 1, 0]], atol=1e-6)


def test_weighted_log_loss_is_per_episode_step():
    """``- sum_j w_j log sigma(a_j | x_j) / (E H)``: two episodes of two steps under the
    uniform policy over 4 joint actions, weights (1, 2, 3, 2): ``8 log 4 / 4``."""
    from regretgap.sampled.reweighting import _weighted_log_loss

    samples = Samples(np.zeros((4, 1)), np.array([0, 1, 2, 3]), np.array([0, 1, 0, 1]),
                      np.array([0, 0, 1, 1]))  # fmt: skip
    uniform = ObservationTable((2, 2))  # unfitted: uniform
    w = np.array([1.0, 2.0, 3.0, 2.0])
    assert _weighted_log_loss(uniform, samples, w, 2) == pytest.approx(2 * np.log(4), abs=1e-12)


def test_malice_adversaries_batch_within_their_episodes_and_evaluate_on_rollouts(monkeypatch):
    """Documented: ``rollouts`` are also the adversary's evaluation episodes (at least 2);
    batches hold at most ``adversary_episodes`` (min(250, E)), not the adversary's own
    default; ``adversary="auto"`` on a simulator with ``num_states`` is the tabular one."""
    import importlib

    # importlib: the package's ``malice`` attribute is the function, not the module
    module = importlib.import_module("regretgap.sampled.reweighting")

    calls = []
    real = module.tabular_q_adversary

    def spy(*args, **kwargs):
        calls.append((kwargs["batch_size"], kwargs["eval_episodes"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "tabular_q_adversary", spy)
    game = random_game(4, (2, 2), 2, rng=np.random.default_rng(9))
    demos = collect(game.simulator(), lambda s, h, rng: rng.integers(0, 4, len(s)), 20,
                    rng=np.random.default_rng(0))  # fmt: skip
    sampled_malice(
        game.simulator(), demos, rng=np.random.default_rng(1),
        policy_class=ObservationTable((2, 2)),
        rounds=1, rollouts=7, adversary_episodes=30, adversary="auto",
    )  # fmt: skip
    assert calls and set(calls) == {(30, 7)}
    calls.clear()
    sampled_malice(
        game.simulator(), demos, rng=np.random.default_rng(1),
        policy_class=ObservationTable((2, 2)),
        rounds=1, rollouts=1, adversary_episodes=300, adversary="tabular",
    )  # fmt: skip
    assert calls and set(calls) == {(250, 2)}


class _Counted(_Wrapped):
    """Counts ``step`` calls since the last ``reset`` and refuses one past the horizon
    (``H - 1`` transitions per episode)."""

    def __init__(self, sim, *, extra_rows=False):
        super().__init__(sim)
        self.extra_rows, self.steps = extra_rows, 0

    def reset(self, rng, n):
        self.steps = 0
        return self._sim.reset(rng, n)

    def step(self, states, joint_actions, rng):
        self.steps += 1
        assert self.steps <= self._sim.horizon - 1, "stepped past the last step"
        return self._sim.step(states, joint_actions, rng)

    def observe(self, states, h):
        x = np.asarray(self._sim.observe(states, h), dtype=np.float64)
        return np.vstack([x, x[:1]]) if self.extra_rows and h == 1 else x


def test_rollouts_never_step_past_the_last_step_and_check_observed_rows():
    game = random_game(4, (2, 3), 3, rng=np.random.default_rng(10))
    sim = _Counted(game.simulator())
    collect(sim, _uniform, 5, rng=np.random.default_rng(0))
    assert sim.steps == 2
    estimate_regret(
        sim, rg.game_utilities(game), rg.uniform_policy(game), rng=np.random.default_rng(0),
        episodes=5, adversary_episodes=5,
    )  # fmt: skip
    with pytest.raises(
        ValidationError, match=r"observe at h = 1 returned \(6, 12\), want \[5, d\]"
    ):
        collect(_Counted(game.simulator(), extra_rows=True), _uniform, 5, rng=rng_(0))


def test_small_legal_values_and_more_messages():
    """A budget of one query is legal; agents are ints (not bools or floats); the J-BC and
    ``table`` messages name the joint action range and the misuse."""
    expert = CountingExpert(lambda s, h, rng: np.zeros(len(s), dtype=np.int64), (2, 3), budget=1)
    np.testing.assert_array_equal(expert(np.array([0]), 0, rng_(0)), [0])
    assert expert.remaining == 0
    x = rng_(0).normal(size=(3, 2))
    fitted = LogLinearMediator((2, 3)).fit(x, [0, 1, 5], rng=rng_(0))
    for bad in (True, 1.0):
        with pytest.raises(ValidationError, match="agent must be an int"):
            fitted.marginal(x, bad)
    game = random_game(4, (2, 3), 2, rng=rng_(11))
    demos = collect(game.simulator(), _uniform, 3, rng=rng_(0))
    actions = np.where(np.arange(len(demos)) == 1, 7, demos.actions)
    demos = Samples(demos.features, actions, demos.steps, demos.episodes)
    with pytest.raises(
        ValidationError, match=r"actions\[1\] = 7 is outside the joint action space 0\.\.5$"
    ):
        sampled_jbc(game.simulator(), demos, rng=rng_(0), policy_class=ObservationTable((2, 3)))
    with pytest.raises(
        ValidationError, match="pass features with a MarkovGame, not with a simulator"
    ):
        fitted.table(game.simulator(), np.zeros((4, 2)))


def test_table_fills_every_state_chunk(monkeypatch):
    """``table`` observes the states in chunks of ``TABLE_CHUNK``; with chunks of 2 over
    5 states (more states than the 2 joint actions) every row is still the policy's."""
    import regretgap.sampled.policies as module

    monkeypatch.setattr(module, "TABLE_CHUNK", 2)
    game = random_game(5, (2,), 2, rng=rng_(12))
    feats = rng_(1).normal(size=(5, 3))
    pol = LogLinearMediator((2,)).fit(feats, [0, 1, 1, 0, 1], rng=rng_(0))
    tab = pol.table(game, feats)
    np.testing.assert_allclose(tab, np.broadcast_to(pol.probs(feats), (2, 5, 2)))


def test_blades_picks_the_agent_whose_adversary_finds_the_largest_loss(monkeypatch):
    """Each round BLADES keeps ``argmax_i`` of the adversaries' values and reports it over
    ``H``: with agent 1's value raised by 10 (a spy on the adversary), agent 1 every round."""
    import importlib

    module = importlib.import_module("regretgap.sampled.querying")
    real, found = module.tabular_q_adversary, []

    def spy(*args, **kwargs):
        res = real(*args, **kwargs)
        res = res._replace(value=res.value + 10.0 * args[3])
        found.append(res.value)
        return res

    monkeypatch.setattr(module, "tabular_q_adversary", spy)
    game = random_game(4, (2, 2), 2, rng=rng_(13))
    res = module.blades(
        game.simulator(), lambda s, h, rng: np.zeros(len(s), dtype=np.int64), rng=rng_(0),
        policy_class=ObservationTable((2, 2)), rounds=2, rollouts=4, adversary_episodes=8,
        adversary_batch=4, adversary="tabular",
    )  # fmt: skip
    assert res.history.agent == (1, 1)
    np.testing.assert_allclose(res.history.loss, np.array(found).reshape(2, 2).max(axis=1) / 2)


class _RecordingTable(ObservationTable):
    """An ObservationTable whose ``fit`` records the sample weights it is given."""

    seen: ClassVar[list] = []

    def fit(self, features, actions, weights=None, *, rng):
        _RecordingTable.seen.append(None if weights is None else np.array(weights))
        return super().fit(features, actions, weights, rng=rng)


def test_malice_refits_on_the_weights_summed_over_rounds(monkeypatch):
    """Follow-the-leader (Algorithm 1): iterate ``n + 1`` is fitted with ``sum_{k <= n} w_k``
    on the training demonstrations, not the last round's ``w_n`` alone. The round weights
    are read off the density ratio (a spy on ``_fit_ratio``: held-out weights first, then
    the training ones, every round)."""
    import importlib

    module = importlib.import_module("regretgap.sampled.reweighting")
    real, weights = module._fit_ratio, []

    class Spy:
        def __init__(self, ratio):
            self.ratio = ratio

        def weights(self, samples, max_weight):
            w = self.ratio.weights(samples, max_weight)
            weights.append(w)
            return w

    monkeypatch.setattr(module, "_fit_ratio", lambda *a, **k: Spy(real(*a, **k)))
    _RecordingTable.seen = []
    game = random_game(4, (2, 2), 2, rng=rng_(14))
    demos = collect(game.simulator(), lambda s, h, rng: rng.integers(0, 4, len(s)), 20,
                    rng=rng_(0))  # fmt: skip
    module.malice(
        game.simulator(), demos, rng=rng_(1), policy_class=_RecordingTable((2, 2)), rounds=3,
        rollouts=8, adversary_episodes=8, adversary="tabular",
    )  # fmt: skip
    train_w = weights[1::2][:3]  # rounds 0..2; round 3 only scores the last iterate
    fits = _RecordingTable.seen
    assert fits[0] is None and len(fits) == 4
    for n in range(3):
        np.testing.assert_allclose(fits[n + 1], np.sum(train_w[: n + 1], axis=0), rtol=1e-12)
    assert not np.allclose(fits[3], train_w[2])  # the test can tell the two apart


def test_query_loss_and_split_and_concat_edge_cases():
    """BLADES's query loss names a NaN feature; two episodes can be split (one each), and
    a large fraction still keeps one training episode; concatenating nothing is refused."""
    from regretgap.sampled.data import concat
    from regretgap.sampled.querying import _QueryLoss

    game = random_game(4, (2, 3), 3, rng=rng_(15))
    expert = CountingExpert(lambda s, h, rng: np.zeros(len(s), dtype=np.int64), (2, 3))
    loss = _QueryLoss(
        _Wrapped(game.simulator(), nan_at=1), expert, ObservationTable((2, 3)), rng_(0)
    )
    loss(np.array([0, 1, 2]), 0)
    with pytest.raises(ValidationError, match=r"features at h = 1: column 0 of entry 2 is nan$"):
        loss(np.array([0, 1, 2]), 1)
    for episodes, fraction, sizes in [(2, 0.5, (1, 1)), (2, 0.9, (1, 1)), (3, 0.9, (1, 2))]:
        samples = collect(game.simulator(), _uniform, episodes, rng=rng_(0))
        train, held = samples.split(fraction, rng_(1))
        assert (np.unique(train.episodes).size, np.unique(held.episodes).size) == sizes
    with pytest.raises(ValidationError, match=r"^nothing to concatenate$"):
        concat([])


def test_regret_gap_interval_splits_its_level_over_two_regrets_and_m_agents():
    """``regret_gap_ci = (lo_l - hi_e, hi_l - lo_e)`` with each regret's interval
    ``max(0, max_i (g_i -/+ z se_i))`` at ``z = Phi^-1(1 - alpha / (4 m))`` (Bonferroni over
    two regrets and m = 2 agents), recomputed from the two RegretEstimates."""
    from statistics import NormalDist

    game = random_game(4, (2, 3), 2, rng=rng_(16))
    r = rng_(2)
    sigma, expert = (r.dirichlet(np.ones(6), size=(2, 4)) for _ in range(2))
    est = estimate_gaps(
        game.simulator(), rg.game_utilities(game), expert, sigma, rng=rng_(0), episodes=30,
        adversary_episodes=30,
    )  # fmt: skip
    z = NormalDist().inv_cdf(1 - (1 - est.confidence) / (4 * 2))

    def interval(e):
        return (
            max(0.0, float(np.max(e.gains - z * e.gains_stderr))),
            max(0.0, float(np.max(e.gains + z * e.gains_stderr))),
        )

    (lo_l, hi_l), (lo_e, hi_e) = interval(est.regret), interval(est.expert_regret)
    assert hi_l > 0 and hi_e > 0
    np.testing.assert_allclose(est.regret_gap_ci, (lo_l - hi_e, hi_l - lo_e), rtol=1e-9)


def test_sampled_malice_accepts_weights_capped_below_one_and_names_bad_actions():
    game = random_game(4, (2, 2), 2, rng=rng_(17))
    demos = collect(game.simulator(), lambda s, h, rng: rng.integers(0, 4, len(s)), 20,
                    rng=rng_(0))  # fmt: skip
    kw = {"rng": rng_(1), "policy_class": ObservationTable((2, 2)), "rounds": 1, "rollouts": 8}
    res = sampled_malice(game.simulator(), demos, adversary_episodes=8, max_weight=0.5, **kw)
    assert max(res.history.max_weight) <= 0.5
    bad = Samples(demos.features, np.where(np.arange(len(demos)) == 0, 4, demos.actions),
                  demos.steps, demos.episodes)  # fmt: skip
    with pytest.raises(ValidationError, match=r"demos.actions has 4 outside 0\.\.3$"):
        sampled_malice(game.simulator(), bad, adversary_episodes=8, **kw)


def test_policy_inputs_are_typed_and_tables_remember_their_width():
    """Features become float64 and actions must be integers (not floats or bools); an
    unknown ``default`` is named; a fitted ObservationTable refuses features of another
    width and an unfitted one has 0 rows; ``max_iter`` reaches the optimiser (one
    iteration stops far from the converged fit)."""
    assert check_features([[1, 2]]).dtype == np.float64
    x = rng_(0).normal(size=(3, 2))
    pol = LogLinearMediator((2, 3))
    for bad in ([0.0, 1.0, 1.0], [True, False, True]):
        with pytest.raises(ValidationError, match="must be integer joint actions"):
            pol.fit(x, bad, rng=rng_(0))
    with pytest.raises(ValidationError, match=r"^unknown default 'zeros': 'uniform' or \[A\]$"):
        ObservationTable((2, 3), default="zeros")
    empty = ObservationTable((2, 3))
    assert empty.rows == 0 and repr(empty) == "ObservationTable(num_actions=(2, 3), rows=0)"
    table = empty.fit(x, [0, 1, 1], rng=rng_(0))
    with pytest.raises(ValidationError, match=r"shape \[n, 2\]"):
        table.probs(np.zeros((1, 3)))
    many = rng_(1).normal(size=(40, 2))
    actions = (many[:, 0] > 0).astype(np.int64) * 5
    one = LogLinearMediator((2, 3), max_iter=1).fit(many, actions, rng=rng_(0))
    full = LogLinearMediator((2, 3)).fit(many, actions, rng=rng_(0))
    assert np.abs(one.probs(many) - full.probs(many)).max() > 0.1


def test_conditional_on_a_recommendation_never_made_is_uniform_over_its_joint_actions():
    """Agent 0 is never told a_0 = 1 (every sample has joint action 0 or 1, i.e. a_0 = 0):
    ``sigma(a | x, a_0 = 1)`` is uniform, 1/3, on the three joint actions with a_0 = 1, in
    every row."""
    x = np.array([[0.0], [1.0]])
    table = ObservationTable((2, 3)).fit(x, [0, 1], rng=rng_(0))
    cond = table.conditional(x, 0, np.array([1, 1]))
    np.testing.assert_allclose(cond, [[0, 0, 0, 1 / 3, 1 / 3, 1 / 3]] * 2)
