"""Routing games on real road networks: the paper's motivating example (a routing app).

A reader for TNTP files (the Transportation Networks collection: ``*_net.tntp`` links
with BPR parameters, ``*_trips.tntp`` origin-destination demand) and a Markov game built
from a network:

- agents are drivers, one per unit of demand of each origin-destination pair;
- a driver's action is one of the ``max_routes`` shortest simple routes of its pair (by
  free-flow time; nodes below ``first_thru_node`` are not passed through);
- link travel time is the BPR function ``t0 (1 + b (x / c)^p)`` of the number of drivers
  ``x`` on the link; a driver's reward is minus its route's travel time, scaled into
  ``[-1, 0]`` by the largest travel time in the game;
- the state is the network's condition: ``0`` normal, ``1`` an incident on the busiest
  link (its free-flow time multiplied by ``incident_factor``). Tomorrow's condition
  depends on today's flows: an incident starts with probability
  ``p_start * (share of drivers on that link)`` and clears with probability ``p_clear``.

The fleet game (:func:`fleet_game`, :func:`sioux_falls`) is the larger routing app:
``m`` fleet operators of one busy origin-destination pair choose among its ``k`` shortest
routes while every other trip stays at its user equilibrium (:func:`user_equilibrium`,
path-based gradient projection in :mod:`regretgap.games.assignment`); the state is the set
of incidents on ``L`` busy links.

Braess's network (4 nodes, 5 links, 6 trips from node 1 to node 2) and Sioux Falls (24
nodes, 76 links, 528 trip pairs, with its best-known equilibrium flows and node
coordinates) ship as package data with their attribution (``regretgap/networks/SOURCE.md``).
"""

from __future__ import annotations

import itertools
from importlib import resources
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from regretgap._repr import short_repr
from regretgap.errors import ValidationError
from regretgap.game import MarkovGame
from regretgap.games.assignment import UserEquilibrium, user_equilibrium
from regretgap.games.network import (
    Network,
    read_tntp_network,
    read_tntp_trips,
    sioux_falls_network,
)

__all__ = [
    "RoutingGame",
    "UserEquilibrium",
    "braess",
    "routing_game",
    "simple_routes",
    "user_equilibrium",
]


def simple_routes(net: Network, origin: int, dest: int, max_routes: int) -> list[list[int]]:
    """Up to ``max_routes`` shortest simple routes (by free-flow time), as link indices."""
    out_links: dict[int, list[int]] = {}
    for k, u in enumerate(net.init):
        out_links.setdefault(int(u), []).append(k)
    found: list[tuple[float, list[int]]] = []

    def walk(node: int, visited: set[int], links: list[int]) -> None:
        if node == dest:
            found.append((float(net.free_flow_time[links].sum()), list(links)))
            return
        if node != origin and node < net.first_thru_node:
            return  # zones are not passed through
        for k in out_links.get(node, []):
            nxt = int(net.term[k])
            if nxt not in visited:
                walk(nxt, visited | {nxt}, [*links, k])

    walk(origin, {origin}, [])
    found.sort(key=lambda x: (x[0], x[1]))
    return [links for _, links in found[:max_routes]]


class RoutingGame(NamedTuple):
    """A routing Markov game and what it is made of.

    Attributes:
        game: the Markov game (agents = drivers, actions = routes, states = conditions).
        routes: per agent, its routes as lists of link indices.
        od: per agent, its ``(origin, destination)``.
        incident_link: index of the link an incident slows down.
        time_scale: travel time that maps to reward ``-1``.
    """

    def __repr__(self) -> str:
        return short_repr(self)

    game: MarkovGame
    routes: tuple[tuple[tuple[int, ...], ...], ...]
    od: tuple[tuple[int, int], ...]
    incident_link: int
    time_scale: float


def routing_game(
    net: Network,
    trips: dict[tuple[int, int], float],
    *,
    horizon: int = 3,
    max_routes: int = 3,
    incident_factor: float = 3.0,
    p_start: float = 0.6,
    p_clear: float = 0.5,
    max_joint_actions: int = 5000,
) -> RoutingGame:
    """The routing Markov game of a network and its demand (see the module docstring)."""
    drivers: list[tuple[int, int]] = []
    for (o, d), flow in sorted(trips.items()):
        count = round(flow)
        if abs(count - flow) > 1e-9:
            raise ValidationError(f"demand {flow} from {o} to {d} is not a whole number of drivers")
        drivers += [(o, d)] * count
    if not drivers:
        raise ValidationError("no drivers: the demand is empty")
    routes = []
    for o, d in drivers:
        r = simple_routes(net, o, d, max_routes)
        if not r:
            raise ValidationError(f"no route from node {o} to node {d}")
        routes.append(r)
    num_actions = tuple(len(r) for r in routes)
    num_joint = int(np.prod(num_actions))
    if num_joint > max_joint_actions:
        raise ValidationError(
            f"{len(drivers)} drivers with {num_actions} routes give {num_joint} joint actions "
            f"(limit {max_joint_actions})"
        )
    num_links = len(net.init)
    # link-route incidence per agent: use[i, a_i, l]
    use = np.zeros((len(drivers), max(num_actions), num_links))
    for i, rs in enumerate(routes):
        for j, links in enumerate(rs):
            use[i, j, links] = 1.0
    profiles = np.array(list(itertools.product(*(range(n) for n in num_actions))))  # [A, m]
    agent_links = use[np.arange(len(drivers))[None, :], profiles]  # [A, m, L]
    flow = agent_links.sum(axis=1)  # [A, L]
    incident = int(np.argmax(flow.sum(axis=0)))  # the link carrying most traffic overall
    factor = np.ones((2, num_links))
    factor[1, incident] = incident_factor
    times = np.stack(
        [
            (agent_links * net.travel_time(flow, factor[s])[:, None, :]).sum(axis=2)  # [A, m]
            for s in range(2)
        ]
    )  # [2, A, m]
    scale = float(times.max())
    rewards = -np.moveaxis(times, 2, 0) / scale  # [m, 2, A]
    share = flow[:, incident] / len(drivers)
    t = np.zeros((2, num_joint, 2))
    t[0, :, 1] = p_start * share
    t[0, :, 0] = 1.0 - t[0, :, 1]
    t[1, :, 0] = p_clear
    t[1, :, 1] = 1.0 - p_clear
    game = MarkovGame(t, rewards, np.array([1.0, 0.0]), horizon, num_actions)
    return RoutingGame(
        game=game,
        routes=tuple(tuple(tuple(int(k) for k in links) for links in rs) for rs in routes),
        od=tuple(drivers),
        incident_link=incident,
        time_scale=scale,
    )


def braess(**kwargs) -> RoutingGame:
    """The routing game on Braess's network with its 6 trips (shipped TNTP data)."""
    base = resources.files("regretgap") / "networks" / "Braess-Example"
    with (
        resources.as_file(base / "Braess_net.tntp") as net_path,
        resources.as_file(base / "Braess_trips.tntp") as trips_path,
    ):
        return routing_game(read_tntp_network(net_path), read_tntp_trips(trips_path), **kwargs)


# --------------------------------------------------------------------------------------
# The fleet game: strategic fleet operators among user-equilibrium background


#: Largest ``2^L * A`` (states times joint actions) :func:`fleet_game` builds: the
#: transition matrix has ``2^L * A`` rows of at most ``L + 1`` entries, and the welfare
#: ``markov_ce`` expert solves ``H * 2^L`` stage LPs over ``A`` joint actions.
MAX_FLEET_SIZE = 2**21


def k_shortest_routes(
    net: Network, origin: int, dest: int, k: int, cost: np.ndarray | None = None
) -> list[tuple[int, ...]]:
    """The ``k`` shortest simple routes from ``origin`` to ``dest`` by link ``cost``
    (default free-flow time), as tuples of link indices (Yen's algorithm, networkx's
    ``shortest_simple_paths``). Zones below ``first_thru_node`` other than ``origin`` are
    not passed through; of parallel links the cheapest is used.

    Raises:
        ImportError: networkx is missing (the optional extra ``regretgap[routing]``).
        ValidationError: ``k < 1``, a node outside the network, or no route.
    """
    try:
        import networkx as nx
    except ImportError as exc:  # one line, naming the extra
        raise ImportError(
            "regretgap.games.routing.k_shortest_routes needs networkx: "
            'pip install "regretgap[routing]"'
        ) from exc
    if k < 1:
        raise ValidationError(f"k_shortest_routes: k must be >= 1, got {k}")
    for role, node in (("origin", origin), ("destination", dest)):
        if not 1 <= node <= net.num_nodes:
            raise ValidationError(
                f"k_shortest_routes: {role} {node} is not a node 1..{net.num_nodes}"
            )
    cost = net.free_flow_time if cost is None else np.asarray(cost, dtype=float)
    graph = nx.DiGraph()
    link_of: dict[tuple[int, int], int] = {}
    for e, (u, v) in enumerate(zip(net.init.tolist(), net.term.tolist(), strict=True)):
        if u < net.first_thru_node and u != origin:
            continue  # zones are not passed through
        if (u, v) not in link_of or cost[e] < cost[link_of[(u, v)]]:
            link_of[(u, v)] = e
            graph.add_edge(u, v, weight=float(cost[e]))
    if origin not in graph or dest not in graph:
        raise ValidationError(f"k_shortest_routes: no route from node {origin} to node {dest}")
    routes = []
    try:
        for nodes in nx.shortest_simple_paths(graph, origin, dest, weight="weight"):
            routes.append(tuple(link_of[(u, v)] for u, v in itertools.pairwise(nodes)))
            if len(routes) == k:
                break
    except nx.NetworkXNoPath as exc:
        raise ValidationError(
            f"k_shortest_routes: no route from node {origin} to node {dest}"
        ) from exc
    return routes


class FleetGame(NamedTuple):
    """The fleet Markov game of a network and what it is made of.

    Attributes:
        game: the Markov game: agents = fleets, actions = routes, states = incident sets.
        od: the ``(origin, destination)`` pair the fleets serve.
        fleet_demand: vehicles per fleet per period ``[m]``.
        routes: the fleets' common routes, each a tuple of link indices ``[k]``.
        incident_links: link index of each incident-prone link ``[L]``; bit ``l`` of a
            state ``s`` is set when ``incident_links[l]`` has an incident.
        background: background link flows ``[num links]`` (user equilibrium of every
            other trip).
        time_scale: total travel time (vehicle-minutes) that maps to reward ``-1``.
        equilibrium: the background's :class:`UserEquilibrium`.
    """

    def __repr__(self) -> str:
        return short_repr(self)

    game: MarkovGame
    od: tuple[int, int]
    fleet_demand: np.ndarray
    routes: tuple[tuple[int, ...], ...]
    incident_links: tuple[int, ...]
    background: np.ndarray
    time_scale: float
    equilibrium: UserEquilibrium | None

    def incidents(self, s: int) -> tuple[int, ...]:
        """Link indices with an incident in state ``s``."""
        return tuple(link for b, link in enumerate(self.incident_links) if s >> b & 1)


def fleet_game(
    net: Network,
    trips: dict[tuple[int, int], float],
    *,
    fleets: int = 5,
    routes: int = 3,
    incident_links: int = 10,
    horizon: int = 3,
    od: tuple[int, int] | None = None,
    share: float = 0.5,
    incident_capacity: float = 0.5,
    p_start: float = 0.1,
    p_clear: float = 0.5,
    rel_gap: float = 1e-6,
    max_size: int = MAX_FLEET_SIZE,
    rng: np.random.Generator | None = None,
) -> FleetGame:
    """The fleet game: ``m`` fleet operators route a busy pair's demand through incidents.

    - **Fleets.** ``od`` (default: the pair with the largest demand; with ``rng``, a
      uniform draw among the 10 largest) has demand ``q_od``; each of the ``m = fleets``
      operators controls ``share * q_od / m`` vehicles per period and picks one of the
      pair's ``k = routes`` shortest simple routes (by link time under background load).
    - **Background.** Every other trip (and the ``1 - share`` rest of ``q_od``) is fixed at
      its user equilibrium ``x_bg`` (:func:`user_equilibrium` to ``rel_gap``).
    - **Link times.** BPR ``t_l = t0_l (1 + b_l (x_l / c_l(s))^p_l)`` with
      ``x_l(a) = x_bg,l + sum_i q_i [l in route(a_i)]``; an incident multiplies the link's
      capacity by ``incident_capacity`` (default 0.5: a lane of two closed).
    - **Rewards.** ``r_i(s, a) = -q_i sum_{l in route(a_i)} t_l(x_l(a); s) / time_scale``,
      ``time_scale`` the largest total travel time over ``(i, s, a)``: rewards in [-1, 0].
    - **States.** ``2^L`` incident sets over the ``L = incident_links`` incident-prone
      links: the links of the fleets' routes with the highest background volume/capacity
      ratio, then (if the routes have fewer than ``L`` links) the busiest other links.
      Start state: no incident.
    - **Transitions.** A link without an incident starts one with probability
      ``p_l(s, a) = min(p_start * x_l(a) / c_l, 0.9)`` (nominal capacity ``c_l``); one with
      an incident clears with probability ``p_clear``. Links are independent, conditioned
      on at most one link changing per period: with odds ``o_l = p_l / (1 - p_l)``,
      ``T(s xor e_l | s, a) = o_l / (1 + sum_j o_j)`` and ``T(s | s, a) = 1 / (1 + sum_j o_j)``
      (at most ``L + 1`` successors per row: 2.7 million entries at the defaults).

    Limits: ``2^L * k^m <= max_size`` (default :data:`MAX_FLEET_SIZE` = 2,097,152); the
    defaults give 1,024 states and 243 joint actions.

    Raises:
        ValidationError: bad sizes or probabilities, an unknown or empty pair, fewer than
            ``routes`` routes for the pair, or a game larger than ``max_size``.
    """
    for name, value, low in (("fleets", fleets, 1), ("routes", routes, 1), ("horizon", horizon, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValidationError(f"fleet_game: {name} must be an integer >= {low}, got {value!r}")
    if not isinstance(incident_links, (int, np.integer)) or not 0 <= incident_links <= len(
        net.init
    ):
        raise ValidationError(
            f"fleet_game: incident_links must be an integer in 0..{len(net.init)}, "
            f"got {incident_links!r}"
        )
    size = 2**incident_links * routes**fleets
    if size > max_size:
        raise ValidationError(
            f"fleet_game: 2^{incident_links} states x {routes}^{fleets} joint actions = {size} "
            f"exceeds max_size {max_size}: lower fleets, routes or incident_links"
        )
    for name, value in (("share", share), ("incident_capacity", incident_capacity)):
        if not 0 < value <= 1:
            raise ValidationError(f"fleet_game: {name} must be in (0, 1], got {value}")
    for name, value in (("p_start", p_start), ("p_clear", p_clear)):
        if not 0 <= value < 1:
            raise ValidationError(f"fleet_game: {name} must be in [0, 1), got {value}")
    busiest = sorted(trips.items(), key=lambda kv: (-kv[1], kv[0]))
    busiest = [(o, d) for (o, d), q in busiest if q > 0 and o != d]
    if od is None:
        if not busiest:
            raise ValidationError("fleet_game: no trips with positive demand")
        od = busiest[0] if rng is None else busiest[int(rng.integers(min(10, len(busiest))))]
    od = (int(od[0]), int(od[1]))
    if trips.get(od, 0.0) <= 0:
        raise ValidationError(f"fleet_game: pair {od} has no demand in trips")
    m, k, num_links = fleets, routes, len(net.init)
    q_fleet = np.full(m, share * trips[od] / m)
    rest = dict(trips)
    rest[od] = trips[od] * (1.0 - share)
    rest = {p: q for p, q in rest.items() if q > 0 and p[0] != p[1]}
    ue = user_equilibrium(net, rest, rel_gap=rel_gap) if rest else None
    x_bg = ue.flow if ue is not None else np.zeros(num_links)
    paths = k_shortest_routes(net, *od, k, cost=net.travel_time(x_bg))
    if len(paths) < k:
        raise ValidationError(
            f"fleet_game: pair {od} has {len(paths)} simple routes, fewer than routes={k}"
        )
    vc = x_bg / net.capacity
    on_route = sorted({e for p in paths for e in p}, key=lambda e: (-vc[e], e))
    taken = set(on_route)
    others = [int(e) for e in np.lexsort((np.arange(num_links), -vc)) if e not in taken]
    prone = np.array((on_route + others)[:incident_links], dtype=np.int64)
    num_states, num_joint = 2**incident_links, k**m
    # route-link incidence use[a_i, link] and joint flows x[a, link]
    use = np.zeros((k, num_links))
    for j, p in enumerate(paths):
        use[j, list(p)] = 1.0
    profiles = np.array(list(itertools.product(range(k), repeat=m)), dtype=np.int64)  # [A, m]
    x = x_bg[None, :] + np.einsum("i,ail->al", q_fleet, use[profiles])  # [A, L]
    rel = np.flatnonzero(use.any(axis=0))  # only route links carry fleet travel time
    bits = (np.arange(num_states)[:, None] >> np.arange(incident_links)[None, :]) & 1  # [S, Lp]
    cap = np.tile(net.capacity[rel], (num_states, 1))  # [S, R]
    pos = {int(e): r for r, e in enumerate(rel)}
    for b, e in enumerate(prone):
        if int(e) in pos:
            cap[:, pos[int(e)]] *= np.where(bits[:, b] == 1, incident_capacity, 1.0)
    t0, bb, pw = net.free_flow_time[rel], net.b[rel], net.power[rel]
    times = t0 * (1.0 + bb * (x[None, :, rel] / cap[:, None, :]) ** pw)  # [S, A, R]
    route_use = use[profiles][:, :, rel]  # [A, m, R]
    total = q_fleet[None, None, :] * np.einsum("sar,amr->sam", times, route_use)  # [S, A, m]
    scale = float(total.max())
    rewards = -np.moveaxis(total, 2, 0) / scale  # [m, S, A]
    # transitions: per (s, a), flip one prone link with odds o_l / (1 + sum o)
    p_on = np.minimum(p_start * x[:, prone] / net.capacity[prone], 0.9)  # [A, Lp]
    p_flip = np.where(bits[:, None, :] == 1, p_clear, p_on[None, :, :])  # [S, A, Lp]
    odds = p_flip / (1.0 - p_flip)
    norm = 1.0 + odds.sum(axis=2)  # [S, A]
    rows = np.arange(num_states * num_joint)
    succ = np.arange(num_states)[:, None, None] ^ (1 << np.arange(incident_links))[None, None, :]
    succ = np.broadcast_to(succ, p_flip.shape)
    data = np.concatenate([(1.0 / norm).ravel(), (odds / norm[..., None]).reshape(-1)])
    cols = np.concatenate([np.repeat(np.arange(num_states), num_joint), succ.reshape(-1)])
    rr = np.concatenate([rows, np.repeat(rows, incident_links)])
    keep = data > 0
    t = sp.csr_matrix(
        (data[keep], (rr[keep], cols[keep])), shape=(num_states * num_joint, num_states)
    )
    initial = np.zeros(num_states)
    initial[0] = 1.0
    game = MarkovGame(t, rewards, initial, horizon, (k,) * m)
    return FleetGame(
        game=game,
        od=od,
        fleet_demand=q_fleet,
        routes=tuple(tuple(int(e) for e in p) for p in paths),
        incident_links=tuple(int(e) for e in prone),
        background=x_bg,
        time_scale=scale,
        equilibrium=ue,
    )


def sioux_falls(**kwargs) -> FleetGame:
    """The fleet game (:func:`fleet_game`, same keywords) on Sioux Falls' shipped data.

    Free-flow times are in 0.01 hours, read as minutes (as the collection's README says
    they often are); the default pair is the busiest, (10, 16) with 4,400 trips: five
    fleets of 440 vehicles choosing among nodes 10-16, 10-17-16 and 10-9-8-16 (the 3
    shortest routes under background load).
    """
    net, trips = sioux_falls_network()
    return fleet_game(net, trips, **kwargs)
