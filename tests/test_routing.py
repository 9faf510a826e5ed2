"""TNTP reader and the routing game on Braess's network (reference values: Braess 1968)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import regretgap as rg
from regretgap.games.network import TOTAL_RTOL, read_tntp_network, read_tntp_trips
from regretgap.games.routing import braess, simple_routes
from regretgap.io import FileFormatError

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
    (tmp_path / "y.tntp").write_text("<NUMBER OF NODES> 2\n<END OF METADATA>\n1 2 1 1 1 0 ;\n")
    with pytest.raises(ValueError, match="fields"):
        read_tntp_network(tmp_path / "y.tntp")


SHIPPED = Path(rg.__file__).parent / "networks"
SF_NET = (SHIPPED / "SiouxFalls" / "SiouxFalls_net.tntp").read_text()
SF_TRIPS = (SHIPPED / "SiouxFalls" / "SiouxFalls_trips.tntp").read_text()


def test_shipped_files_load_as_before():
    # pinned from the lenient reader this one replaced (same arrays, same dict order)
    net = read_tntp_network(SHIPPED / "SiouxFalls" / "SiouxFalls_net.tntp")
    assert len(net.init) == 76 and net.num_nodes == 24 and net.first_thru_node == 1
    k = int(np.flatnonzero((net.init == 2) & (net.term == 6))[0])
    assert net.capacity[k] == 4958.180928 and net.power[k] == 4 and net.b[k] == 0.15
    assert net.free_flow_time[k] == 5 and net.init.dtype == np.int64
    trips = read_tntp_trips(SHIPPED / "SiouxFalls" / "SiouxFalls_trips.tntp")
    assert len(trips) == 528 and sum(trips.values()) == 360600.0 and trips[(10, 16)] == 4400
    assert read_tntp_trips(SHIPPED / "Braess-Example" / "Braess_trips.tntp") == {(1, 2): 6.0}
    braess_net = read_tntp_network(SHIPPED / "Braess-Example" / "Braess_net.tntp")
    assert braess_net.b.tolist() == [1e9, 0.02, 0.02, 0.1, 1e9]


def _load(tmp_path, reader, text):
    path = tmp_path / "typo.tntp"
    path.write_text(text)
    return reader(path)


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        # the cases: each used to load, one pair silently dropped
        ("    2 :    100.0;", "    2 :    1OO.0;", r"line 7, flow to 2: '1OO.0' is not a number"),
        ("    2 :    100.0;", "    2     100.0;", r"line 7, entry '2     100.0': no ':'"),
        ("    2 :    100.0;", "    2 :    100.0 ", r"line 7, flow to 2: a ';' is missing"),
        ("24 :    100.0; \n", "24 :    100.0\n", r"line 11, entry '24 :    100.0': does not"),
        ("    2 :    100.0;", "    2 :         ;", r"line 7, flow to 2: missing"),
        ("    2 :    100.0;", "    2 :     10.0;", r"<TOTAL OD FLOW>: says 360600.0, .* -90"),
        ("    2 :    100.0;", "    25 :   100.0;", r"line 7, destination: 25 is not a whole"),
        ("Origin \t1 ", "Origin \tl ", r"line 6, origin: 'l' is not a number"),
        ("Origin \t2 ", "Origin \t1 ", r"flow to 1: pair 1->1 listed twice"),
        ("<TOTAL OD FLOW> 360600.0", "<TOTAL OD FLOW> 36O600.0", r"line 2, <TOTAL OD FLOW>"),
        ("<NUMBER OF ZONES> 24", "<NUMBER OF ZONES 24", r"line 1, metadata: expected"),
    ],
)
def test_trips_typos_name_file_line_and_field(tmp_path, old, new, where):
    assert SF_TRIPS.count(old) >= 1
    with pytest.raises(
        FileFormatError, match=rf"typo\.tntp, {where}" if "line" in where[:5] else where
    ):
        _load(tmp_path, read_tntp_trips, SF_TRIPS.replace(old, new, 1))


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        # the case: a missing field used to shift capacity 4958 to 5, power 4 to 0
        ("2\t6\t4958.180928\t5\t", "2\t6\t4958.180928\t", r"line 13, link line: 9 fields"),
        ("2\t6\t4958.180928", "2\t6\t4958.18O928", r"line 13, capacity: '4958.18O928'"),
        ("2\t6\t4958.180928", "2\t6\t-4958.180928", r"line 13, capacity: must be > 0"),
        ("2\t6\t4958.180928", "2\t25\t4958.180928", r"line 13, term_node: 25 is not"),
        ("2\t6\t4958.180928", "2\tnan\t4958.180928", r"line 13, term_node: 'nan' is not"),
        ("0.15\t4\t0\t0\t1\t;", "0.15\t4\t0\t0\tl\t;", r"line 10, link_type: 'l'"),
        ("0.15\t4\t0\t0\t1\t;", "0.15\t4\t0\t0\t1\t", r"line 10, link line: does not end"),
        ("<NUMBER OF NODES> 24", "<NUMBER OF NODES> 2O", r"line 2, <NUMBER OF NODES>: '2O'"),
        ("<NUMBER OF LINKS> 76", "<NUMBER OF LINKS> 75", r"line 4, <NUMBER OF LINKS>: says 75"),
    ],
)
def test_network_typos_name_file_line_and_field(tmp_path, old, new, where):
    assert old in SF_NET
    with pytest.raises(FileFormatError, match=rf"typo\.tntp, {where}"):
        _load(tmp_path, read_tntp_network, SF_NET.replace(old, new, 1))


def test_total_tolerance_is_the_printed_precision(tmp_path):
    head = "<NUMBER OF ZONES> 2\n<TOTAL OD FLOW> {}\n<END OF METADATA>\nOrigin 1\n"
    # three flows printed to 0.01 may each be off by 0.005: 0.99 against 1.0 is rounding
    assert _load(
        tmp_path, read_tntp_trips, head.format("1.0") + "2 : 0.33; 1 : 0.33;\nOrigin 2\n1 : 0.33;\n"
    ) == {(1, 2): 0.33, (1, 1): 0.33, (2, 1): 0.33}
    # slack = 3 * 0.005 + 0.05 (the total's own rounding) + 1e-9: 1.1 is off by 0.11
    with pytest.raises(FileFormatError, match=r"says 1\.1, the flows add up to 0\.99"):
        _load(
            tmp_path,
            read_tntp_trips,
            head.format("1.1") + "2 : 0.33; 1 : 0.33;\nOrigin 2\n1 : 0.33;\n",
        )
    # the bound is tight: with a total printed to 0.001 the slack is 3 * 0.005 + 0.0005,
    # so 1.005 (off by 0.015) passes and 1.006 (off by 0.016) does not
    text = "2 : 0.33; 1 : 0.33;\nOrigin 2\n1 : 0.33;\n"
    assert _load(tmp_path, read_tntp_trips, head.format("1.005") + text)
    with pytest.raises(FileFormatError, match=r"off by -0\.016"):
        _load(tmp_path, read_tntp_trips, head.format("1.006") + text)
    assert TOTAL_RTOL < 1e-6  # far below one vehicle in Sioux Falls' 360,600
