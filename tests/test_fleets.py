"""The fleet game: k shortest routes, rewards, transitions, a hand-checked
Braess case (link times by direct BPR arithmetic on Braess_net.tntp), and the experiment."""

import itertools

import numpy as np
import pytest

import regretgap as rg
from regretgap.errors import ValidationError
from regretgap.games.network import read_tntp_network, read_tntp_trips, sioux_falls_network
from regretgap.games.routing import fleet_game, k_shortest_routes, sioux_falls


def _braess():
    from importlib import resources

    base = resources.files("regretgap") / "networks" / "Braess-Example"
    return read_tntp_network(base / "Braess_net.tntp"), read_tntp_trips(base / "Braess_trips.tntp")


def test_k_shortest_routes_sanity():
    net, _ = sioux_falls_network()
    routes = k_shortest_routes(net, 10, 16, 4)
    assert len(routes) == 4 and len(set(routes)) == 4
    costs = [net.free_flow_time[list(r)].sum() for r in routes]
    assert costs == sorted(costs)
    for r in routes:  # each is a walk from 10 to 16 visiting no node twice
        nodes = [int(net.init[r[0]])] + [int(net.term[e]) for e in r]
        assert nodes[0] == 10 and nodes[-1] == 16 and len(set(nodes)) == len(nodes)
        assert all(net.term[a] == net.init[b] for a, b in itertools.pairwise(r))
    assert routes[0] == (28,)  # the direct link 10 -> 16, free-flow time 4
    # Braess: all three routes; node 3 a zone (first_thru_node 4) leaves only 1-4-2
    bnet, _ = _braess()
    assert len(k_shortest_routes(bnet, 1, 2, 5)) == 3
    blocked = bnet.__class__(**{**bnet.__dict__, "first_thru_node": 4})
    assert k_shortest_routes(blocked, 1, 2, 5) == [(1, 4)]
    with pytest.raises(ValidationError, match="no route"):
        k_shortest_routes(bnet, 2, 1, 1)


def test_braess_two_fleets_by_hand():
    net, trips = _braess()
    fg = fleet_game(net, trips, fleets=2, routes=3, incident_links=1, share=1.0, p_start=0.1)
    g = fg.game
    assert g.num_states == 2 and g.num_actions == (3, 3)
    assert fg.fleet_demand.tolist() == [3.0, 3.0] and fg.background.sum() == 0
    assert sorted(fg.routes) == [(0, 2), (0, 3, 4), (1, 4)]
    assert fg.incident_links == (0,)  # no background: the lowest-index route link

    # Braess_net.tntp: t = t0 (1 + b x / c), c = 1, power 1
    def t(link, x, cap=1.0):
        t0, b = [(1e-8, 1e9), (50, 0.02), (50, 0.02), (10, 0.1), (1e-8, 1e9)][link]
        return t0 * (1 + b * x / cap)

    for a in range(9):
        a0, a1 = divmod(a, 3)
        x = np.zeros(5)
        for r in (fg.routes[a0], fg.routes[a1]):
            x[list(r)] += 3.0
        for s, cap0 in ((0, 1.0), (1, 0.5)):
            for i, r in enumerate((fg.routes[a0], fg.routes[a1])):
                tt = 3.0 * sum(t(e, x[e], cap0 if e == 0 else 1.0) for e in r)
                assert g.rewards[i, s, a] == pytest.approx(-tt / fg.time_scale)
        # one prone link: T(incident | none) = p_start * x_0 / c_0 (capped at 0.9)
        row = g.transitions[0 * 9 + a].toarray().ravel()
        assert row[1] == pytest.approx(min(0.1 * x[0], 0.9))
        assert g.transitions[1 * 9 + a].toarray().ravel()[0] == pytest.approx(0.5)
    assert g.rewards.min() == pytest.approx(-1.0)


def test_sioux_falls_fleet_game_invariants():
    fg = sioux_falls(fleets=3, incident_links=6, horizon=2)
    g = fg.game
    assert g.num_states == 64 and g.num_joint_actions == 27 and fg.od == (10, 16)
    assert g.rewards.max() <= 0 and g.rewards.min() == pytest.approx(-1.0)
    assert np.allclose(np.asarray(g.transitions.sum(axis=1)).ravel(), 1.0)
    assert g.transitions.getnnz(axis=1).max() <= 6 + 1
    # successors differ from s in at most one prone link
    coo = g.transitions.tocoo()
    s = coo.row // g.num_joint_actions
    assert all(bin(int(v)).count("1") <= 1 for v in s ^ coo.col)
    # an incident never makes a fleet faster: rewards fall as incidents are added
    assert (g.rewards[:, 1:2] <= g.rewards[:, 0:1] + 1e-12).all()
    # the background is the rest of the demand at user equilibrium
    assert fg.equilibrium is not None and fg.equilibrium.relative_gap <= 1e-6
    expert = rg.markov_ce(g, objective="welfare")
    assert rg.regret_gap(g, expert, expert) == pytest.approx(0.0, abs=1e-9)


def test_fleet_game_limits():
    net, trips = sioux_falls_network()
    with pytest.raises(ValidationError, match="exceeds max_size"):
        fleet_game(net, trips, fleets=8, routes=3, incident_links=12)
    with pytest.raises(ValidationError, match="share"):
        fleet_game(net, trips, share=0.0)
    with pytest.raises(ValidationError, match="no demand"):
        fleet_game(net, trips, od=(1, 1))
    with pytest.raises(ValidationError, match="fleets"):
        fleet_game(net, trips, fleets=0)


@pytest.fixture(scope="module")
def quick_fleets():
    from regretgap.experiments import fleets

    args = fleets.Args(quick=True)
    return [(s.config, fleets.execute(s.config, s.seed)) for s in fleets.runs(args)]


def test_quick_experiment_verdicts_and_render(quick_fleets, tmp_path):
    from regretgap.experiments import fleets

    verdicts = fleets.verdict(quick_fleets)
    assert [v.claim for v in verdicts] == [
        "Theorems 5.7/5.9 bound",
        "BLADES vs DAgger/+noise",
        "MALICE vs ALICE",
    ]
    words = {v.claim: v.word for v in verdicts}
    assert words["Theorems 5.7/5.9 bound"] == "consistent"
    assert words["BLADES vs DAgger/+noise"] == "consistent", verdicts
    assert words["MALICE vs ALICE"] == "consistent", verdicts
    for _, m in quick_fleets:
        if "not_applicable" in m:
            continue
        assert len(m["fleet_regret"]) == 3 and max(m["fleet_regret"]) >= 0
        # the learned mediator's regret is its gap: the expert (a CE) has none
        assert max(m["fleet_regret"]) == pytest.approx(m["regret_gap"], abs=1e-9)
        # stored rounded to 6 decimals: three entries sum to 1 within 3 x 5e-7
        assert all(
            len(p) == 3 and sum(p) == pytest.approx(1, abs=3 * 5e-7) for p in m["map_routes"]
        )
    text = fleets.render(quick_fleets, tmp_path)
    assert "fleet_map.png" in text and (tmp_path / "fleet_map.png").stat().st_size > 1000
    assert "incentive to ignore" in text


def _doctored(results, learner, **metrics):
    return [
        (c, {**m, **metrics} if c["learner"] == learner and "not_applicable" not in m else m)
        for c, m in results
    ]


@pytest.mark.parametrize(
    ("claim", "learner"),
    [
        ("Theorems 5.7/5.9 bound", "jbc"),
        ("BLADES vs DAgger/+noise", "blades"),
        ("MALICE vs ALICE", "malice"),
    ],
)
def test_each_verdict_catches_a_violation(quick_fleets, claim, learner):
    from regretgap.experiments import fleets

    bad = _doctored(quick_fleets, learner, regret_gap=0.9)
    if claim == "Theorems 5.7/5.9 bound":
        bad = _doctored(bad, learner, loss_deviation=0.0)
    words = {v.claim: v.word for v in fleets.verdict(bad)}
    assert words[claim] == "inconsistent"


@pytest.mark.slow
def test_default_sioux_falls_game_and_expert_in_seconds():
    import time

    start = time.perf_counter()
    fg = sioux_falls()
    g = fg.game
    assert (g.num_states, g.num_joint_actions) == (1024, 243)
    assert g.transitions.getnnz(axis=1).max() <= 11
    expert = rg.markov_ce(g, objective="welfare")
    assert time.perf_counter() - start < 60
    assert rg.regret(g, expert).value == pytest.approx(0.0, abs=1e-8)


def test_without_the_routing_extra_reproduce_skips_the_fleets_and_says_so(monkeypatch, tmp_path):
    from regretgap.experiments import fleets, reproduce

    reason = 'needs networkx for k shortest routes: pip install "regretgap[routing]"'
    monkeypatch.setattr(fleets, "unavailable", lambda: reason)
    assert fleets.runs(fleets.Args(quick=True)) == []
    out = reproduce.main(
        reproduce.Args(
            out=tmp_path / "r", quick=True, progress=False, experiments=("routing", "fleets")
        )
    )
    assert f"- `fleets`: not run, {reason}" in out.text
