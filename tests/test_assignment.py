"""User equilibrium (path-based gradient projection) against published and hand-checked flows.

Reference: ``SiouxFalls_flow.tntp``, the Transportation Networks collection's best-known
user-equilibrium link flows for Sioux Falls (LeBlanc, Morlok and Pierskalla 1975 data).
"""

import time
from importlib import resources

import numpy as np
import pytest

from regretgap.errors import ValidationError
from regretgap.games.assignment import grid_network, user_equilibrium
from regretgap.games.network import Network, read_tntp_network, read_tntp_trips

SIOUX = resources.files("regretgap") / "networks" / "SiouxFalls"


def test_sioux_falls_matches_published_flows():
    net = read_tntp_network(SIOUX / "SiouxFalls_net.tntp")
    trips = read_tntp_trips(SIOUX / "SiouxFalls_trips.tntp")
    ref = np.loadtxt(SIOUX / "SiouxFalls_flow.tntp", skiprows=1, usecols=(0, 1, 2))
    assert (ref[:, 0] == net.init).all() and (ref[:, 1] == net.term).all()
    ue = user_equilibrium(net, trips, rel_gap=1e-6)
    assert ue.relative_gap <= 1e-6
    assert np.abs(ue.flow - ref[:, 2]).max() <= 0.005 * ref[:, 2].max()
    # the returned gap is the definition's: (TSTT - SPTT) / TSTT, and paths carry the demand
    for (o, d), (paths, f) in ue.paths.items():
        assert f.sum() == pytest.approx(trips[(o, d)])
        costs = [ue.travel_time[p].sum() for p in paths]
        assert max(costs) - min(costs) <= 1e-2 * min(costs)  # used paths: equal cost


def test_synthetic_grid_gap_and_time():
    net, trips = grid_network(6, 10, 15, rng=np.random.default_rng(3))
    start = time.perf_counter()
    ue = user_equilibrium(net, trips, rel_gap=1e-6)
    assert time.perf_counter() - start < 30
    assert ue.relative_gap <= 1e-6
    # flow conservation at every grid node; zones are never passed through
    net_out = np.bincount(net.init - 1, ue.flow, net.num_nodes)
    net_in = np.bincount(net.term - 1, ue.flow, net.num_nodes)
    thru = np.arange(net.num_nodes) >= net.first_thru_node - 1
    assert np.allclose(net_out[thru], net_in[thru], atol=1e-6 * ue.flow.max())
    for paths, _ in ue.paths.values():
        for p in paths:
            assert (net.init[p[1:]] >= net.first_thru_node).all()


def _net(links, num_nodes, first=1):
    arr = np.array(links, dtype=float)
    return Network(
        init=arr[:, 0].astype(np.int64),
        term=arr[:, 1].astype(np.int64),
        capacity=arr[:, 2],
        free_flow_time=arr[:, 3],
        b=arr[:, 4],
        power=np.full(len(arr), 1.0),
        num_nodes=num_nodes,
        first_thru_node=first,
    )


def test_two_route_equilibrium_by_hand_and_zones_not_passed_through():
    # 1 -> 3 directly (t = 10 (1 + x/100)) or via 2 (t = 5 (1 + x/100) twice); demand 100:
    # equal times 10 + x/10 = 10 + (100 - x)/10 at x = 50.
    links = [(1, 3, 100, 10, 1), (1, 2, 100, 5, 1), (2, 3, 100, 5, 1)]
    ue = user_equilibrium(_net(links, 3), {(1, 3): 100.0}, rel_gap=1e-10)
    assert ue.flow == pytest.approx([50, 50, 50], abs=1e-4)
    # node 2 is a zone (first_thru_node 3): only the direct route is allowed
    ue = user_equilibrium(_net(links, 3, first=3), {(1, 3): 100.0})
    assert ue.flow == pytest.approx([100, 0, 0])
    # parallel links 1 -> 2 split the demand like separate routes
    par = [(1, 2, 100, 10, 1), (1, 2, 100, 10, 1)]
    ue = user_equilibrium(_net(par, 2), {(1, 2): 60.0}, rel_gap=1e-10)
    assert ue.flow == pytest.approx([30, 30], abs=1e-4)


def test_bad_trips_raise():
    net = _net([(1, 2, 100, 1, 0.15)], 3)
    with pytest.raises(ValidationError, match="destination 3 cannot be reached from origin 1"):
        user_equilibrium(net, {(1, 3): 5.0})
    with pytest.raises(ValidationError, match="origin 7"):
        user_equilibrium(net, {(7, 2): 5.0})
    with pytest.raises(ValidationError, match="no positive demand"):
        user_equilibrium(net, {(1, 2): 0.0})
    with pytest.raises(ValidationError, match="rel_gap"):
        user_equilibrium(net, {(1, 2): 1.0}, rel_gap=0)


def test_reader_variants_feed_the_solver(tmp_path):
    # extra metadata, `~` header and comment lines, tabs and spaces, toll and link-type
    # columns, a trailing `;` attached to the last field
    (tmp_path / "v_net.tntp").write_text(
        "<NUMBER OF ZONES> 2\n<NUMBER OF NODES> 3\n<FIRST THRU NODE> 1\n"
        "<NUMBER OF LINKS> 3\n<ORIGINAL HEADER>~ init term cap ...\n<END OF METADATA>\n\n"
        "~\tinit\tterm\tcap\tlength\tfft\tb\tpower\tspeed\ttoll\ttype\t;\n"
        "\t1\t3\t100\t1\t10\t1\t1\t0\t0\t1\t;\n"
        "1 2 100 1 5 1 1 0 0 1 ;\n"
        "~ a comment line\n"
        "\t2 3\t100 1 5 1 1 0 0 1;\n"
    )
    (tmp_path / "v_trips.tntp").write_text(
        "<NUMBER OF ZONES> 3\n<TOTAL OD FLOW> 100\n<END OF METADATA>\n\nOrigin 1\n  3 : 100.0;\n"
    )
    net = read_tntp_network(tmp_path / "v_net.tntp")
    ue = user_equilibrium(net, read_tntp_trips(tmp_path / "v_trips.tntp"), rel_gap=1e-10)
    assert ue.flow == pytest.approx([50, 50, 50], abs=1e-4)
    (tmp_path / "bad_net.tntp").write_text(
        "<NUMBER OF NODES> 3\n<END OF METADATA>\n1 9 100 1 10 1 1 0 0 1 ;\n"
    )
    with pytest.raises(ValidationError, match=r"bad_net\.tntp, line 3, term_node: 9 is not"):
        read_tntp_network(tmp_path / "bad_net.tntp")


def test_max_iter_reports_the_gap_of_the_returned_flows():
    net = read_tntp_network(SIOUX / "SiouxFalls_net.tntp")
    trips = read_tntp_trips(SIOUX / "SiouxFalls_trips.tntp")
    ue = user_equilibrium(net, trips, max_iter=3)
    assert ue.iterations == 3 and ue.relative_gap > 1e-6
    t = net.travel_time(ue.flow)
    # SPTT over the used paths is at least the true SPTT: the gap is at least this
    lower = 1 - sum(
        q * min(t[p].sum() for p in ue.paths[od][0]) for od, q in trips.items() if od[0] != od[1]
    ) / (ue.flow @ t)
    assert 0 < ue.relative_gap and ue.relative_gap >= lower - 1e-12


@pytest.mark.slow
def test_few_hundred_nodes_within_a_minute():
    # a city-sized network: 300 nodes, about a thousand links, 50 zones (benchmarks/assignment.py)
    net, trips = grid_network(10, 25, 50, rng=np.random.default_rng(0))
    assert net.num_nodes == 300 and 900 <= len(net.init) <= 1200
    start = time.perf_counter()
    ue = user_equilibrium(net, trips, rel_gap=1e-6)
    assert time.perf_counter() - start < 60
    assert ue.relative_gap <= 1e-6
