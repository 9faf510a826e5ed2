"""TNTP reader and the routing game on Braess's network (reference values: Braess 1968)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import regretgap as rg
from regretgap.games.routing import braess, read_tntp_network, read_tntp_trips, simple_routes

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "transportation-networks"


def test_braess_network_and_routes():
    rg_game = braess()
    g = rg_game.game
    assert g.num_agents == 6 and g.num_actions == (3,) * 6 and g.num_states == 2
    assert set(rg_game.od) == {(1, 2)}
    # routes by free-flow time: 1-3-4-2 (links 0, 3, 4), 1-3-2 (0, 2), 1-4-2 (1, 4)
    assert rg_game.routes[0] == ((0, 3, 4), (0, 2), (1, 4))


def test_braess_paradox_travel_times():
    """Two drivers per route: 92 each (the equilibrium with the shortcut); three and three
    on the outer routes: 83 each (the optimum without it)."""
    net = braess()
    g, scale = net.game, net.time_scale
    spread = g.joint_action((0, 0, 1, 1, 2, 2))
    outer = g.joint_action((1, 1, 1, 2, 2, 2))
    np.testing.assert_allclose(-g.rewards[:, 0, spread] * scale, 92.0, atol=1e-6)
    np.testing.assert_allclose(-g.rewards[:, 0, outer] * scale, 83.0, atol=1e-6)
    # a driver of the 3/3 split gains by switching to the shortcut: not an equilibrium
    switch = g.joint_action((0, 1, 1, 2, 2, 2))
    assert -g.rewards[0, 0, switch] * scale < 83.0


def test_routing_expert_and_learners():
    net = braess(horizon=2)
    g = net.game
    expert = rg.markov_ce(g)
    assert rg.regret(g, expert).value <= 1e-7
    t = g.transition_tensor()
    assert t[0, :, 1].max() > 0 and np.allclose(t[1, :, 0], 0.5)
    res = rg.blades(g, rg.QueryableExpert(expert), rng=np.random.default_rng(0), rounds=2)
    assert rg.regret_gap(g, expert, res.policy) <= 1e-9


def test_tntp_reader_on_sioux_falls_and_bad_files(tmp_path):
    if (SHARED / "SiouxFalls").exists():
        net = read_tntp_network(SHARED / "SiouxFalls" / "SiouxFalls_net.tntp")
        assert len(net.init) == 76 and net.num_nodes == 24
        trips = read_tntp_trips(SHARED / "SiouxFalls" / "SiouxFalls_trips.tntp")
        assert len(trips) > 500 and all(v > 0 for v in trips.values())
        assert simple_routes(net, 1, 2, 3)[0] == [0]  # the direct link 1 -> 2
    (tmp_path / "x.tntp").write_text("no metadata here\n")
    with pytest.raises(ValueError, match="END OF METADATA"):
        read_tntp_network(tmp_path / "x.tntp")
    (tmp_path / "y.tntp").write_text("<NUMBER OF NODES> 2\n<END OF METADATA>\n1 2 1 1 1 0\n")
    with pytest.raises(ValueError, match="fields"):
        read_tntp_network(tmp_path / "y.tntp")
