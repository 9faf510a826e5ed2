"""External references: OpenSpiel's CE deviation incentives on normal-form games and
quantecon's finite-horizon backward induction on single-agent games."""

from __future__ import annotations

import numpy as np
import pytest

import regretgap as rg
from regretgap.games import matrix_game, random_game

pyspiel = pytest.importorskip("pyspiel", reason="OpenSpiel is in the test extra")


def _device(turn_based, joint_probs, num_actions):
    """OpenSpiel correlation device: one deterministic joint policy per joint action."""
    device = []
    for a, p in enumerate(joint_probs):
        if p <= 0:
            continue
        acts = np.unravel_index(a, num_actions)
        state = turn_based.new_initial_state()
        table = {}
        for player, act in enumerate(acts):
            legal = state.legal_actions()
            table[state.information_state_string(player)] = [
                (b, 1.0 if b == act else 0.0) for b in legal
            ]
            state.apply_action(int(act))
        device.append((float(p), pyspiel.TabularPolicy(table)))
    return device


@pytest.mark.parametrize(
    "num_actions", [(2, 2), (3, 2), (3, 4), (2, 2, 2), (3, 2, 2), (2, 2, 2, 2)]
)
@pytest.mark.parametrize("seed", range(3))
def test_normal_form_regret_equals_openspiel_ce_dist(num_actions, seed):
    rng = np.random.default_rng(seed)
    payoffs = rng.uniform(-1, 1, size=(len(num_actions), *num_actions))
    game = matrix_game(payoffs)
    sigma = rng.dirichlet(np.ones(game.num_joint_actions) * 0.7, size=1)
    tensor = pyspiel.create_tensor_game([u.tolist() for u in payoffs])
    turn_based = pyspiel.convert_to_turn_based(tensor)
    info = pyspiel.ce_dist(turn_based, _device(turn_based, sigma[0], num_actions))
    ours = rg.regret(game, sigma)
    np.testing.assert_allclose(ours.per_agent, info.deviation_incentives, atol=1e-10)
    # OpenSpiel's dist_value sums over players; the paper's regret is the max
    assert ours.value == pytest.approx(max(info.deviation_incentives), abs=1e-10)


def test_openspiel_comparison_can_fail():
    """A wrong mediator (a different distribution) gives different incentives."""
    rng = np.random.default_rng(9)
    payoffs = rng.uniform(-1, 1, size=(2, 3, 3))
    game = matrix_game(payoffs)
    sigma = rng.dirichlet(np.ones(9), size=1)
    other = rng.dirichlet(np.ones(9), size=1)
    turn_based = pyspiel.convert_to_turn_based(
        pyspiel.create_tensor_game([u.tolist() for u in payoffs])
    )
    info = pyspiel.ce_dist(turn_based, _device(turn_based, other[0], (3, 3)))
    assert not np.allclose(rg.regret(game, sigma).per_agent, info.deviation_incentives)


@pytest.mark.filterwarnings("ignore:infinite horizon solution methods:UserWarning")
@pytest.mark.parametrize("seed", range(3))
def test_single_agent_best_response_equals_quantecon_backward_induction(seed):
    qe = pytest.importorskip("quantecon", reason="quantecon is in the test extra")
    rng = np.random.default_rng(seed)
    game = random_game(200, (6,), 8, rng=rng, branching=4)
    sigma = rng.dirichlet(np.ones(6), size=200)
    rows = game.num_states * game.num_joint_actions
    ddp = qe.markov.DiscreteDP(
        game.rewards[0].reshape(rows),
        game.transitions,
        1.0,
        np.repeat(np.arange(200), 6),
        np.tile(np.arange(6), 200),
    )
    vs, _ = qe.markov.backward_induction(ddp, game.horizon)
    optimum = float(game.initial @ vs[0])
    # one agent: the complete deviation class reaches the MDP optimum from any mediator
    assert rg.best_response(game, sigma, 0).value == pytest.approx(optimum, abs=1e-9)
    # and the regret is the suboptimality of the mediator (Theorem D.1's proof)
    assert rg.regret(game, sigma).value == pytest.approx(optimum - rg.values(game, sigma)[0])
