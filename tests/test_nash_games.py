"""The Nash papers' games: Shapley's value iteration (``zero_sum_nash``), the zero-sum grid
world and the two-path game.

References: hand-solved matrix games and grid positions, OpenSpiel's ``nash_conv`` on
every stage game of a tiny grid, our Nash gap (itself tested against brute force) from
every start state, and the two-path game's closed forms for the concentrability
coefficient and per-agent BC's limit."""

from __future__ import annotations

import numpy as np
import pytest

import regretgap as rg
from regretgap.games import grid_world, matrix_game, random_game, two_path_game
from regretgap.games.gridworld import MOVES
from regretgap.zero_sum import matrix_game_nash

STAY, UP, DOWN, LEFT, RIGHT = range(5)


def _from_everywhere(game):
    """The same game started uniformly over its states (checks every subgame)."""
    uniform = np.full(game.num_states, 1.0 / game.num_states)
    return rg.MarkovGame(
        game.transitions, game.rewards, uniform, horizon=game.horizon, num_actions=game.num_actions
    )


def _bc_limit(game, expert, sigma_expert):
    """Per-agent BC with unlimited demonstrations: the expert where it goes, else uniform."""
    d = rg.state_distribution(game, sigma_expert)
    return [np.where(d[..., None] > 0, p, 1.0 / p.shape[-1]) for p in expert]


# ---------------------------------------------------------------------------------------
# the matrix-game LP and Shapley's value iteration


def test_matrix_game_nash_hand_values():
    # [[3, -1], [-2, 1]]: x = (3/7, 4/7), y = (2/7, 5/7), value 1/7
    x, y, v = matrix_game_nash(np.array([[3.0, -1.0], [-2.0, 1.0]]))
    np.testing.assert_allclose(x, [3 / 7, 4 / 7], atol=1e-9)
    np.testing.assert_allclose(y, [2 / 7, 5 / 7], atol=1e-9)
    assert v == pytest.approx(1 / 7, abs=1e-9)
    # a pure saddle: the column player blocks (column 0), the row player is indifferent
    x, y, v = matrix_game_nash(np.array([[0.0, 1.0], [0.0, 1.0]]))
    np.testing.assert_allclose(y, [1.0, 0.0], atol=1e-12)
    assert v == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_matrix_game_nash_against_openspiel(seed):
    pyspiel = pytest.importorskip("pyspiel")
    from open_spiel.python import policy
    from open_spiel.python.algorithms import exploitability

    rng = np.random.default_rng(seed)
    n0, n1 = rng.integers(2, 6, size=2)
    m = rng.normal(size=(n0, n1))
    x, y, v = matrix_game_nash(m)
    spiel = pyspiel.create_matrix_game(m.tolist(), (-m).tolist())
    tab = policy.TabularPolicy(spiel)
    tab.action_probability_array[:] = 0.0
    tab.action_probability_array[0, :n0] = x
    tab.action_probability_array[1, :n1] = y
    theirs = exploitability.nash_conv(spiel, tab, return_only_nash_conv=False)
    np.testing.assert_allclose(theirs.player_improvements, [0.0, 0.0], atol=1e-9)
    assert x @ m @ y == pytest.approx(v, abs=1e-9)
    # the guarantee from each side: x secures v against every column, y concedes at most v
    assert (x @ m).min() == pytest.approx(v, abs=1e-9)
    assert (m @ y).max() == pytest.approx(v, abs=1e-9)


def test_zero_sum_nash_is_a_nash_equilibrium_from_every_state():
    for seed in range(4):
        game = random_game(6, (3, 2), 4, rng=np.random.default_rng(seed), branching=2)
        game = game.with_rewards(np.stack([game.rewards[0], -game.rewards[0]]))
        nash = rg.zero_sum_nash(game)
        assert rg.nash_gap(_from_everywhere(game), nash.policies).value < 1e-9
        # the value is agent 0's value of the equilibrium, agent 1's is its negative
        j = rg.values(game, rg.product_policy(game, nash.policies))
        np.testing.assert_allclose(j, [nash.value, -nash.value], atol=1e-9)
        # uniform play is exploitable: the test above can fail
        uniform = [np.full_like(p, 1.0 / p.shape[-1]) for p in nash.policies]
        assert rg.nash_gap(game, uniform).value > 0.05


def test_the_minimising_players_sign():
    # agent 1 minimises r_0: solving as if it maximised r_0 gives it the wrong column
    m = np.array([[0.0, 1.0], [0.0, 1.0]])
    game = matrix_game(np.stack([m, -m]))
    nash = rg.zero_sum_nash(game)
    np.testing.assert_allclose(nash.policies[1][0, 0], [1.0, 0.0])
    wrong = (nash.policies[0], nash.policies[1][..., ::-1])
    assert rg.nash_gap(game, wrong).per_agent[1] == pytest.approx(1.0)
    assert rg.nash_gap(game, nash.policies).value == 0.0


def test_zero_sum_nash_refuses_other_games():
    game = random_game(3, (2, 2), 2, rng=np.random.default_rng(0))
    with pytest.raises(rg.ValidationError, match="not zero-sum"):
        rg.zero_sum_nash(game)
    three = random_game(3, (2, 2, 2), 2, rng=np.random.default_rng(0))
    with pytest.raises(rg.ValidationError, match="two agents"):
        rg.zero_sum_nash(three)


# ---------------------------------------------------------------------------------------
# the grid world


def _state(grid, cell0, cell1):
    cells = [tuple(c) for c in grid.cells]
    want = (cells.index(cell0), cells.index(cell1))
    return int(np.flatnonzero((grid.placements == want).all(axis=1))[0])


def test_grid_moves_walls_and_blocking():
    grid = grid_world(("G..", ".#.", "1.0"), horizon=2)
    t = grid.game.transition_tensor()

    def step(s, b0, b1):
        (nxt,) = np.flatnonzero(t[s, b0 * 5 + b1])
        return tuple(tuple(grid.cells[c]) if c >= 0 else None for c in grid.placements[nxt])

    s = _state(grid, (2, 2), (2, 0))
    assert step(s, UP, UP) == ((1, 2), (1, 0))
    assert step(s, DOWN, DOWN) == ((2, 2), (2, 0))  # off the grid: stay
    assert step(s, LEFT, RIGHT) == ((2, 2), (2, 0))  # both into (2, 1): both stay
    s = _state(grid, (1, 0), (2, 0))
    assert step(s, RIGHT, STAY) == ((1, 0), (2, 0))  # into the wall
    assert step(s, DOWN, STAY) == ((1, 0), (2, 0))  # into the guard's cell
    assert step(s, DOWN, RIGHT) == ((1, 0), (2, 1))  # even when the guard leaves it
    # the runner enters G: paid R, then the end state; the guard cannot enter G
    s = _state(grid, (1, 0), (0, 1))
    assert step(s, UP, STAY) == (None, None)
    assert grid.game.rewards[0, s, UP * 5 + STAY] == 1.0
    assert grid.game.rewards[1, s, UP * 5 + STAY] == -1.0
    s = _state(grid, (2, 2), (0, 1))
    assert step(s, STAY, LEFT) == ((2, 2), (0, 1))
    assert len(MOVES) == 5


def test_grid_hand_values():
    # runner next to G, guard far: R at any horizon; R scales the value
    assert grid_world(("G0.", "...", "..1"), horizon=1, reward=2.5).value == pytest.approx(2.5)
    # runner two moves from G along an open row, guard unable to reach: needs H >= 2
    assert grid_world(("G.0", "###", "..1"), horizon=1).value == pytest.approx(0.0)
    assert grid_world(("G.0", "###", "..1"), horizon=2).value == pytest.approx(1.0)
    # the guard stands in the only approach: 0 at every horizon
    assert grid_world(("G1.", "#..", "..0"), horizon=6).value == pytest.approx(0.0, abs=1e-12)
    # ... and with the wall gone the runner takes the other approach, (1, 0), in 2 moves:
    # the guard cannot reach (1, 0) in 1 (it is diagonal to (0, 1))
    assert grid_world(("G1.", "...", "0.."), horizon=1).value == pytest.approx(0.0, abs=1e-12)
    assert grid_world(("G1.", "...", "0.."), horizon=2).value == pytest.approx(1.0)


@pytest.mark.parametrize(
    "layout", [("G..", ".1.", "..0"), ("G.#", ".1.", "#.0"), (".G.", ".#.", "1.0")]
)
def test_grid_expert_is_a_nash_equilibrium_from_every_state(layout):
    for horizon in (3, 5):
        grid = grid_world(layout, horizon=horizon)
        assert rg.nash_gap(_from_everywhere(grid.game), grid.expert).value < 1e-9
        np.testing.assert_allclose(
            rg.values(grid.game, grid.sigma_expert), [grid.value, -grid.value], atol=1e-9
        )


def test_grid_stage_games_against_openspiel():
    """Every (h, s) stage game of a tiny grid, ``Q_h(s) = r_0 + T V_{h+1}``, is solved by the
    expert's strategies according to OpenSpiel's own nash_conv."""
    pyspiel = pytest.importorskip("pyspiel")
    from open_spiel.python import policy
    from open_spiel.python.algorithms import exploitability

    grid = grid_world(("G.", "10"), horizon=3)
    game = grid.game
    q_all = game.rewards[0][None] + np.einsum(
        "sat,ht->hsa", game.transition_tensor(), grid.values[1:]
    )
    mu, nu = grid.expert
    for h in range(game.horizon):
        for s in range(game.num_states):
            q = q_all[h, s].reshape(5, 5)
            spiel = pyspiel.create_matrix_game(q.tolist(), (-q).tolist())
            tab = policy.TabularPolicy(spiel)
            tab.action_probability_array[0] = mu[h, s]
            tab.action_probability_array[1] = nu[h, s]
            theirs = exploitability.nash_conv(spiel, tab, return_only_nash_conv=False)
            np.testing.assert_allclose(theirs.player_improvements, [0.0, 0.0], atol=1e-9)
            assert mu[h, s] @ q @ nu[h, s] == pytest.approx(grid.values[h, s], abs=1e-9)


def test_grid_bc_keeps_a_gap_where_the_blocking_is_off_path():
    grid = grid_world(horizon=6)
    c = rg.concentrability(grid.game, grid.sigma_expert)
    assert c.value == np.inf and c.agent == 0
    bc = _bc_limit(grid.game, grid.expert, grid.sigma_expert)
    gap = rg.nash_gap(grid.game, bc)
    # measured 0.9536: the runner exploits the guard's uniform play off the path
    assert gap.value == pytest.approx(0.9536, abs=1e-4) and gap.per_agent[1] == 0.0
    assert rg.nash_gap(grid.game, grid.expert).value < 1e-9


def test_grid_features_and_bad_layouts():
    grid = grid_world()
    assert grid.features.shape == (grid.game.num_states, 2 * len(grid.cells) + 1)
    np.testing.assert_allclose(grid.features.sum(axis=1)[:-1], 2.0)
    assert grid.features[-1, -1] == 1.0 and (grid.placements[-1] == -1).all()
    for layout, message in [
        (("G..", "...", "..0"), "lacks"),
        (("G..", ".1.", ".0"), "equal lengths"),
        (("G.x", ".1.", "..0"), "'x'"),
        (("G.G", ".1.", "..0"), "more than one 'G'"),
        ("G.1.0", "sequence of strings"),
    ]:
        with pytest.raises(rg.ValidationError, match=message):
            grid_world(layout)
    with pytest.raises(rg.ValidationError, match="horizon"):
        grid_world(horizon=0)
    with pytest.raises(rg.ValidationError, match="reward"):
        grid_world(reward=-1.0)


# ---------------------------------------------------------------------------------------
# the two-path game


@pytest.mark.parametrize("p", [0.0, 0.05, 0.25, 0.5, 0.8, 1.0])
@pytest.mark.parametrize("horizon", [2, 4])
def test_two_path_concentrability_closed_form(p, horizon):
    tp = two_path_game(p, horizon=horizon)
    want = np.inf if p in (0.0, 1.0) else max(1 / p, 1 / (1 - p))
    c = rg.concentrability(tp.game, tp.sigma_expert)
    assert tp.concentrability == pytest.approx(want)
    assert c.value == pytest.approx(want) and c.agent == 0 and c.step >= 1
    rare = tp.right if p < 0.5 else tp.left
    assert c.state in rare
    # equality in C <= 1 / per_step_beta, and infinite exactly when coverage fails
    cov = rg.coverage(tp.game, tp.sigma_expert)
    if np.isinf(want):
        assert cov.uncovered.tolist() == sorted(rare)
    else:
        assert 1 / cov.per_step_beta == pytest.approx(want)
    # both pure paths and every mix are Nash
    assert rg.nash_gap(tp.game, tp.expert).value == 0.0


@pytest.mark.parametrize("horizon", [2, 3, 5])
def test_two_path_bc_limit_closed_form(horizon):
    for p in (0.0, 0.3, 1.0):
        tp = two_path_game(p, horizon=horizon)
        bc = _bc_limit(tp.game, tp.expert, tp.sigma_expert)
        gap = rg.nash_gap(tp.game, bc).value
        assert gap == pytest.approx(tp.bc_gap_uncovered, abs=1e-12)
    assert two_path_game(0.0, horizon=horizon).bc_gap_uncovered == (horizon - 1) / 2


def test_two_path_bc_from_data_stays_or_falls():
    """J-BC with the product class: at p = 0 the gap stays at (H - 1)/2 however many
    demonstrations; at p = 0.3 it reaches 0 once the right path is seen."""
    for p, n, want in ((0.0, 2000, 1.5), (0.3, 200, 0.0)):
        tp = two_path_game(p, horizon=4)
        demos = rg.sample_trajectories(tp.game, tp.sigma_expert, n, rng=np.random.default_rng(1))
        sigma = rg.jbc(tp.game, demos, policy_class=rg.ProductTabular((2, 2))).policy
        parts = [rg.marginal(tp.game, sigma, i) for i in range(2)]
        assert rg.nash_gap(tp.game, parts).value == pytest.approx(want, abs=1e-12)


def test_two_path_refuses_bad_parameters():
    for p in (-0.1, 1.5, "half", True):
        with pytest.raises(rg.ValidationError, match="p must be"):
            two_path_game(p)
    with pytest.raises(rg.ValidationError, match="horizon"):
        two_path_game(0.5, horizon=1)
