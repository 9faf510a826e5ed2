"""OpenSpiel games in: ``regretgap.openspiel.to_markov_game``.

Differential tests: the exact values of the converted game against OpenSpiel's own returns,
by simulation with OpenSpiel's ``apply_actions``, its chance outcomes and ``returns()``
(Monte Carlo within 5 standard errors), and exactly on matrix and tensor games.
"""

from __future__ import annotations

import sys
import zlib

import numpy as np
import pytest

import regretgap as rg
from regretgap.openspiel import default_markov_key, to_markov_game

pyspiel = pytest.importorskip("pyspiel")

#: Monte Carlo bound: |mean - exact| <= Z_BOUND * standard error (+ float slack). About 40
#: comparisons run; at 5 SE a correct conversion fails one with probability ~2e-5 (the
#: seeds are fixed, so the suite is deterministic anyway).
Z_BOUND = 5.0
EPISODES = 3000

SOCCER_LEFT, SOCCER_RIGHT, SOCCER_STAND = 2, 3, 4  # markov_soccer: up, down, left, right, stand

GAMES = {
    # name: (game name, horizon, params)
    "markov_soccer": ("markov_soccer", 6, None),
    "pathfinding_2p": (
        "pathfinding",
        5,
        {
            "grid": "Ab.\n...\n.aB\n",
            "players": 2,
            "solve_reward": 1.0,
            "group_reward": 1.0,
            "step_reward": -0.1,
        },
    ),
    "laser_tag": ("laser_tag", 2, {"grid": "S.S\n...\nS.S"}),
    "coop_box_pushing": ("coop_box_pushing", 3, None),
    "oshi_zumo": ("oshi_zumo", 4, {"coins": 3, "size": 1, "horizon": 4}),  # illegal bids
    "goofspiel": ("goofspiel", 3, {"num_cards": 3, "points_order": "random"}),  # root chance
}


@pytest.fixture(scope="module", params=sorted(GAMES))
def converted(request):
    name, horizon, params = GAMES[request.param]
    return request.param, to_markov_game(name, horizon, params=params)


# -- OpenSpiel's own simulation --------------------------------------------------------------
def _sample_chance(state, rng):
    while state.is_chance_node():
        outcomes, probs = zip(*state.chance_outcomes(), strict=True)
        state.apply_action(outcomes[rng.choice(len(outcomes), p=probs)])


def simulate(og, sigma, episodes, rng):
    """``[episodes, m]`` OpenSpiel returns after ``H`` joint actions drawn from ``sigma``.

    Illegal recommendations play as the agent's first legal action (the documented rule).
    """
    game = og.game
    cum = np.cumsum(sigma, axis=-1)
    out = np.empty((episodes, game.num_agents))
    for e in range(episodes):
        state = og.spiel_game.new_initial_state()
        _sample_chance(state, rng)
        key = None
        for h in range(game.horizon):
            if state.is_terminal():
                break
            s, key = og.locate(state, h, key)
            a = min(int(np.searchsorted(cum[h, s], rng.random(), side="right")), cum.shape[-1] - 1)
            joint = []
            for i, b in enumerate(np.unravel_index(a, game.num_actions)):
                legal = state.legal_actions(i)
                joint.append(int(b) if b in legal else legal[0])
            state.apply_actions(joint)
            _sample_chance(state, rng)
        out[e] = state.returns()
    return out


def product_sigma(game, rng, bias=None):
    """Random product mediator ``[H, S, A]``; ``bias[i]``: an action agent ``i`` favours."""
    h, s = game.horizon, game.num_states
    sigma = np.ones((h, s, 1))
    for i, n in enumerate(game.num_actions):
        p = rng.dirichlet(np.ones(n), size=(h, s))
        if bias is not None:
            p = 0.5 * p + 0.5 * np.eye(n)[bias[i]]
        sigma = (sigma[..., :, None] * p[..., None, :]).reshape(h, s, -1)
    return sigma


def correlated_sigma(game, rng, bias=None):
    """Random correlated mediator ``[H, S, A]`` (not a product, in general)."""
    sigma = rng.dirichlet(
        np.full(game.num_joint_actions, 0.3), size=(game.horizon, game.num_states)
    )
    if bias is not None:
        sigma = 0.5 * sigma + 0.5 * np.eye(game.num_joint_actions)[game.joint_action(bias)]
    return sigma


@pytest.mark.parametrize("kind", ["product", "correlated"])
def test_values_match_openspiel_returns(converted, kind):
    label, og = converted
    game = og.game
    rng = np.random.default_rng(zlib.crc32(f"{label} {kind}".encode()))
    # soccer: push A right and B left so that goals (the only rewards) are frequent
    bias = (SOCCER_RIGHT, SOCCER_LEFT) if label == "markov_soccer" else None
    make = product_sigma if kind == "product" else correlated_sigma
    sigma = make(game, rng, bias)
    exact = rg.values(game, sigma)
    returns = simulate(og, sigma, EPISODES, rng)
    se = returns.std(axis=0, ddof=1) / np.sqrt(EPISODES)
    # the comparison has power: returns vary, so a wrong reward or transition shows
    assert np.all(se > 0), (label, se)
    err = np.abs(returns.mean(axis=0) - exact)
    assert np.all(err <= Z_BOUND * se + 1e-9), (label, exact, returns.mean(axis=0), se)


def test_soccer_goals_are_frequent_enough_to_test():
    # the Monte Carlo test above would pass on any game with no rewards; check soccer's have
    og = to_markov_game(*GAMES["markov_soccer"][:2])
    sigma = product_sigma(og.game, np.random.default_rng(0), (SOCCER_RIGHT, SOCCER_LEFT))
    d = rg.state_distribution(og.game, sigma)
    assert d[-1][og.terminal].sum() > 0.1
    # and the reward signs reach the values: pushing only A right makes A win on average
    sigma = product_sigma(og.game, np.random.default_rng(0), (SOCCER_RIGHT, SOCCER_STAND))
    value = rg.values(og.game, sigma)
    assert value[0] > 0.05 and value[1] == pytest.approx(-value[0])


# -- structure -----------------------------------------------------------------------------
def test_layered_and_absorbing(converted):
    _, og = converted
    game = og.game
    assert game.is_layered
    horizon, a_count = game.horizon, game.num_joint_actions
    t = game.transitions.tocoo()
    s_from = t.row // a_count
    # every transition goes one step forward, except the self-loops closing the horizon
    forward = og.step[t.col] == og.step[s_from] + 1
    closing = (og.step[s_from] == horizon) & (t.col == s_from)
    assert np.all(forward | closing)
    assert np.all(og.step[np.flatnonzero(game.initial)] == 0)
    # terminals and horizon-closing states: zero reward, every joint action to one state
    absorbing = og.terminal | (og.step == horizon)
    assert np.all(game.rewards[:, absorbing] == 0.0)
    tt = game.transition_tensor() if game.num_states < 700 else None
    for s in np.flatnonzero(og.terminal & (og.step < horizon))[:50]:
        rows = game.transitions[s * a_count : (s + 1) * a_count]
        (target,) = np.unique(rows.indices)
        assert og.terminal[target] and og.keys[target] == og.keys[s]
        if tt is not None:
            assert np.all(tt[s, :, target] == 1.0)
    # the map back: (step, key) and index agree, strings are OpenSpiel's
    assert len(og.state_strings) == len(og.keys) == game.num_states
    for s in range(0, game.num_states, max(1, game.num_states // 200)):
        assert og.index[(int(og.step[s]), og.keys[s])] == s


def test_legal_mask_and_illegal_actions_play_first_legal():
    og = to_markov_game(*GAMES["oshi_zumo"][:2], params=GAMES["oshi_zumo"][2])
    game = og.game
    a_count = game.num_joint_actions
    assert not og.legal[~og.terminal & (og.step < game.horizon)].all()  # some are illegal
    checked = 0
    for s in np.flatnonzero(~og.terminal & (og.step < game.horizon)):
        first = [int(np.flatnonzero(og.legal[s, i])[0]) for i in range(game.num_agents)]
        for a in range(a_count):
            parts = game.agent_actions(a)
            played = tuple(b if og.legal[s, i, b] else first[i] for i, b in enumerate(parts))
            b = game.joint_action(played)
            row, ref = game.transitions[s * a_count + a], game.transitions[s * a_count + b]
            assert (row != ref).nnz == 0
            assert np.array_equal(game.rewards[:, s, a], game.rewards[:, s, b])
            checked += a != b
    assert checked > 0


def test_soccer_chance_is_folded_and_initial_is_the_ball_draw():
    og = to_markov_game("markov_soccer", 3)
    game = og.game
    # states per step (regression guard; H = 8 gives 8,298 in all, the "about 8,300")
    np.testing.assert_array_equal(np.bincount(og.step), [2, 50, 284, 752])
    # the root's chance node places the ball at one of two spots, 1/2 each
    assert np.count_nonzero(game.initial) == 2
    np.testing.assert_allclose(game.initial[game.initial > 0], 0.5)
    # "who moves first" is a chance node after each joint action: some rows split in two
    widths = np.diff(game.transitions.indptr)
    assert widths.max() == 2
    np.testing.assert_allclose(np.asarray(game.transitions.sum(axis=1)).ravel(), 1.0)


# -- Markov keys ---------------------------------------------------------------------------
def test_coop_box_pushing_histories_reaching_one_configuration_share_a_state():
    og = to_markov_game("coop_box_pushing", 3)
    rng = np.random.default_rng(1)
    seen: dict[tuple[int, str], set[str]] = {}
    for _ in range(400):
        state = og.spiel_game.new_initial_state()
        for h in range(3):
            state.apply_actions([int(rng.integers(4)), int(rng.integers(4))])
            _sample_chance(state, rng)
            seen.setdefault((h + 1, og.markov_key(state, None)), set()).add(str(state))
    # configurations whose str(state) differs (running totals) yet are one Markov state
    merged = {k: v for k, v in seen.items() if len(v) > 1}
    assert merged, "no two histories reached one configuration with different totals"
    for (h, key), strings in merged.items():
        assert "Total rewards" not in key
        assert len({s.split("\n", 3)[3] for s in strings}) == 1
        assert (h, key) in og.index
    # str(state) as the key splits those states: more states, same values
    plain = to_markov_game("coop_box_pushing", 3, markov_key=lambda st, prev: str(st))
    assert plain.game.num_states > og.game.num_states
    for game in (og.game, plain.game):
        assert game.is_layered
    uniform_values = [rg.values(g.game, rg.uniform_policy(g.game)) for g in (og, plain)]
    np.testing.assert_allclose(uniform_values[0], uniform_values[1], atol=1e-9)


def test_pathfinding_solve_reward_is_paid_once():
    # p0 starts beside its destination: step on (+solve), off (step), on again (no reward)
    params = {"grid": "aA.\n...\n.bB\n", "players": 2, "solve_reward": 1.0, "step_reward": -0.1}
    moves = [(3, 0), (1, 0), (3, 0)]  # (right, stay), (left, stay), (right, stay)
    state = pyspiel.load_game("pathfinding", params).new_initial_state()
    for joint in moves:
        state.apply_actions(list(joint))
    expected = np.asarray(state.returns())
    np.testing.assert_allclose(expected, [1.0 - 0.1, -0.3])

    def open_loop(og):
        game = og.game
        sigma = np.zeros((game.horizon, game.num_states, game.num_joint_actions))
        for h, joint in enumerate(moves):
            sigma[h, :, game.joint_action(joint)] = 1.0
        return rg.values(game, sigma)

    og = to_markov_game("pathfinding", 3, params=params)
    np.testing.assert_allclose(open_loop(og), expected, atol=1e-12)
    # without the reached flags, (h=2, p0 back at its start) merges with "never reached"
    # and the solve reward is paid twice: the key is not Markov
    plain = to_markov_game("pathfinding", 3, params=params, markov_key=lambda st, prev: str(st))
    assert abs(open_loop(plain)[0] - expected[0]) > 0.5


def test_default_keys():
    soccer = pyspiel.load_game("markov_soccer")
    state = soccer.new_initial_state()
    assert default_markov_key(soccer)(state, None) == str(state)
    coop = pyspiel.load_game("coop_box_pushing")
    key = default_markov_key(coop)(coop.new_initial_state(), None)
    assert key.startswith("........\n") and "Total" not in key


# -- normal-form games: exact -----------------------------------------------------------------
def test_matrix_game_exact():
    rng = np.random.default_rng(3)
    row, col = rng.uniform(-1, 1, (3, 4)), rng.uniform(-1, 1, (3, 4))
    spiel = pyspiel.create_matrix_game(row.tolist(), col.tolist())
    og = to_markov_game(spiel, 1)
    game = og.game
    assert game.num_actions == (4, 4) and game.num_states == 1 + 12  # root + outcomes
    (root,) = np.flatnonzero(game.initial)
    for a0 in range(4):
        for a1 in range(4):
            b0 = a0 if a0 < 3 else 0  # agent 0's action 3 is illegal: plays action 0
            a = game.joint_action((a0, a1))
            np.testing.assert_array_equal(game.rewards[:, root, a], [row[b0, a1], col[b0, a1]])
    sigma = correlated_sigma(game, rng)
    x = sigma[0, root].reshape(4, 4)
    x_played = np.vstack([x[0] + x[3], x[1], x[2]])  # [3, 4] after the illegal row maps
    expected = [(x_played * row).sum(), (x_played * col).sum()]
    np.testing.assert_allclose(rg.values(game, sigma), expected, rtol=0, atol=1e-14)


def test_tensor_game_exact_and_against_openspiel():
    rng = np.random.default_rng(4)
    payoff = rng.uniform(-1, 1, (3, 2, 3, 2))  # [m, n_0, n_1, n_2]
    og = to_markov_game(pyspiel.create_tensor_game([u.tolist() for u in payoff]), 1)
    game = og.game
    (root,) = np.flatnonzero(game.initial)
    for a in range(game.num_joint_actions):
        parts = game.agent_actions(a)
        if parts[0] < 2 and parts[2] < 2:  # legal for every agent
            state = og.spiel_game.new_initial_state()
            state.apply_actions(list(parts))
            np.testing.assert_array_equal(game.rewards[:, root, a], state.returns())


# -- equilibria and a learner on converted games ----------------------------------------------
def test_markov_ce_has_zero_regret_on_converted_games():
    """The CE expert (and a J-BC learner's regret gap against it) on two OpenSpiel games."""
    rng = np.random.default_rng(5)
    chicken = pyspiel.create_matrix_game([[0, 7], [2, 6]], [[0, 2], [7, 6]])
    for og in (to_markov_game(chicken, 1), to_markov_game("markov_soccer", 3)):
        game = og.game
        sigma_e = rg.markov_ce(game, objective="welfare")
        assert rg.regret(game, sigma_e).value <= 1e-7
        if game.num_states < 10:
            # chicken's max-welfare CE: 1/2 on (6, 6), 1/4 on each of (7, 2), (2, 7)
            np.testing.assert_allclose(rg.values(game, sigma_e), [5.25, 5.25], atol=1e-7)
        demos = rg.sample_trajectories(game, sigma_e, n=50, rng=rng)
        learner = rg.jbc(game, demos).policy
        gap = rg.regret_gap(game, sigma_e, learner)
        # the expert's regret is zero: the regret gap is the learner's own regret
        assert gap == pytest.approx(rg.regret(game, learner).value, abs=1e-7)
        assert gap >= -1e-7


# -- bad input ------------------------------------------------------------------------------
def _python_game(num_actions, chance_mode):
    gt = pyspiel.GameType(
        short_name=f"regretgap_test_{num_actions}_{chance_mode.name.lower()}",
        long_name="regretgap test game",
        dynamics=pyspiel.GameType.Dynamics.SIMULTANEOUS,
        chance_mode=chance_mode,
        information=pyspiel.GameType.Information.PERFECT_INFORMATION,
        utility=pyspiel.GameType.Utility.GENERAL_SUM,
        reward_model=pyspiel.GameType.RewardModel.TERMINAL,
        max_num_players=2,
        min_num_players=2,
        provides_information_state_string=False,
        provides_information_state_tensor=False,
        provides_observation_string=False,
        provides_observation_tensor=False,
        parameter_specification={},
    )
    info = pyspiel.GameInfo(
        num_distinct_actions=num_actions,
        max_chance_outcomes=0,
        num_players=2,
        min_utility=-1.0,
        max_utility=1.0,
        utility_sum=0.0,
        max_game_length=1,
    )

    class Game(pyspiel.Game):
        def __init__(self):
            super().__init__(gt, info, {})

    return Game()


@pytest.mark.parametrize(
    ("game", "horizon", "kwargs", "match"),
    [
        ("kuhn_poker", 2, {}, r"game_or_name='kuhn_poker' has SEQUENTIAL dynamics"),
        ("mfg_crowd_modelling", 2, {}, r"MEAN_FIELD dynamics"),
        ("markov_soccer", 8, {"max_states": 500}, r"max_states=500 states \(reached at step"),
        ("markov_soccer", 0, {}, r"horizon must be an integer >= 1, got 0"),
        ("markov_soccer", 2.5, {}, r"horizon must be an integer"),
        ("no_such_game", 2, {}, r"cannot load game_or_name='no_such_game'"),
        ("pathfinding", 2, {"params": {"grid": "A..\n..a\n", "nope": 1}}, r"params="),
        (42, 2, {}, r"pyspiel.Game or a game name, got int"),
    ],
)
def test_bad_input(game, horizon, kwargs, match):
    with pytest.raises(rg.ValidationError, match=match):
        to_markov_game(game, horizon, **kwargs)


def test_bad_input_loaded_game_with_params():
    with pytest.raises(ValueError, match="params apply only when game_or_name is a name"):
        to_markov_game(pyspiel.load_game("matrix_rps"), 1, params={"x": 1})


def test_continuous_actions_and_sampled_chance_rejected():
    deterministic = pyspiel.GameType.ChanceMode.DETERMINISTIC
    with pytest.raises(rg.ValidationError, match=r"num_distinct_actions\(\) = 0: continuous"):
        to_markov_game(_python_game(0, deterministic), 2)
    sampled = pyspiel.GameType.ChanceMode.SAMPLED_STOCHASTIC
    with pytest.raises(rg.ValidationError, match="SAMPLED_STOCHASTIC"):
        to_markov_game(_python_game(2, sampled), 2)


def test_missing_openspiel_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspiel", None)  # import pyspiel now raises
    with pytest.raises(ImportError) as err:
        to_markov_game("markov_soccer", 2)
    message = str(err.value)
    assert message == 'regretgap.openspiel needs OpenSpiel: pip install "regretgap[openspiel]"'
