"""Static traffic assignment: the user equilibrium of a TNTP network (Wardrop 1952).

Path-based gradient projection (Jayakrishnan, Tsai, Prashker and Rajadhyaksha 1994,
Transportation Research Record 1443): each sweep finds every origin's shortest-path tree
at the current BPR link times ``t_l(x_l) = t0_l (1 + b_l (x_l / c_l)^p_l)`` (one batched
:func:`scipy.sparse.csgraph.dijkstra` call), adds each origin-destination pair's shortest
path to its path set, then for each pair moves flow from every longer path ``p`` onto
the shortest one ``p*`` by the projected Newton step
``min(f_p, (c_p - c_p*) / sum_{l in p xor p*} t'_l(x_l))``, updating link times after each
pair (Gauss-Seidel). It stops when the relative gap

``(sum_l x_l t_l(x_l) - sum_od demand_od * shortest cost_od) / sum_l x_l t_l(x_l)``

is at most ``rel_gap``. Zones below TNTP's ``<FIRST THRU NODE>`` are not passed through:
each such zone gets a source copy holding its out-links, so a route may leave it as an
origin but never enter and leave it again.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from regretgap._repr import short_repr
from regretgap.errors import ValidationError
from regretgap.games.network import Network


class UserEquilibrium(NamedTuple):
    """A user-equilibrium assignment.

    Attributes:
        flow: link flows ``x`` ``[L]``, in the network file's link order.
        travel_time: BPR link times ``t(x)`` ``[L]``.
        relative_gap: ``(TSTT - SPTT) / TSTT`` at ``flow`` (see the module docstring).
        iterations: sweeps of gradient projection run.
        paths: per origin-destination pair, its used paths (link indices) and their flows.
    """

    def __repr__(self) -> str:
        return short_repr(self)

    flow: np.ndarray
    travel_time: np.ndarray
    relative_gap: float
    iterations: int
    paths: dict[tuple[int, int], tuple[tuple[np.ndarray, ...], np.ndarray]]


class _Graph:
    """The network as a csgraph: zone source copies, parallel links merged by cost."""

    def __init__(self, net) -> None:
        n = net.num_nodes
        first = net.first_thru_node
        self.num_vertices = n + max(first - 1, 0)
        init0 = net.init - 1
        # out-links of a zone below first_thru_node leave from its source copy n + zone - 1
        self.tail = np.where(net.init < first, n + init0, init0)
        self.head = net.term - 1
        self.order = np.lexsort((self.head, self.tail))  # links grouped by (tail, head)
        pair = self.tail[self.order] * self.num_vertices + self.head[self.order]
        starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
        self.group_start = starts
        self.pair_tail = self.tail[self.order][starts]
        self.pair_head = self.head[self.order][starts]
        self.parallel = len(starts) < len(pair)
        self.first = first
        self.n = n

    def source(self, origin: int) -> int:
        return self.n + origin - 1 if origin < self.first else origin - 1

    def trees(self, cost: np.ndarray, sources: np.ndarray):
        """Distances ``[O, V]``, predecessors ``[O, V]`` and link of each pair ``[P]``."""
        c = cost[self.order]
        if self.parallel:
            best = np.minimum.reduceat(c, self.group_start)
            # the cheapest of parallel links (first in file order among ties)
            group = np.repeat(
                np.arange(len(self.group_start)), np.diff(np.r_[self.group_start, len(c)])
            )
            is_best = c <= best[group]
            pick = np.full(len(self.group_start), len(c))
            np.minimum.at(pick, group[is_best], np.flatnonzero(is_best))
            pair_link = self.order[pick]
        else:
            best = c
            pair_link = self.order
        # explicit zeros would be missing edges: keep zero-cost links as tiny positive costs
        g = csr_matrix(
            (np.maximum(best, 1e-300), (self.pair_tail, self.pair_head)),
            shape=(self.num_vertices, self.num_vertices),
        )
        dist, pred = dijkstra(g, directed=True, indices=sources, return_predecessors=True)
        link_of = {
            (int(u), int(v)): int(k)
            for u, v, k in zip(self.pair_tail, self.pair_head, pair_link, strict=True)
        }
        return dist, pred, link_of


def _check_trips(net, trips: dict[tuple[int, int], float]) -> list[tuple[int, int, float]]:
    zones = net.num_nodes
    out = []
    for (o, d), q in sorted(trips.items()):
        for role, node in (("origin", o), ("destination", d)):
            if not 1 <= int(node) <= zones:
                raise ValidationError(
                    f"trips: {role} {node} of pair ({o}, {d}) is not a node 1..{zones}"
                )
        if not np.isfinite(q) or q < 0:
            raise ValidationError(f"trips: demand {q} of pair ({o}, {d}) must be finite and >= 0")
        if q > 0 and o != d:
            out.append((int(o), int(d), float(q)))
    if not out:
        raise ValidationError("trips: no positive demand between distinct nodes")
    return out


def _derivative(net, flow: np.ndarray) -> np.ndarray:
    """``t'(x) = t0 b p x^(p-1) / c^p`` ``[L]``."""
    p = net.power
    with np.errstate(divide="ignore", invalid="ignore"):
        d = net.free_flow_time * net.b * p * np.where(p > 0, flow ** (p - 1), 0.0) / net.capacity**p
    return np.nan_to_num(d, nan=0.0, posinf=0.0)


def user_equilibrium(
    net: Network,
    trips: dict[tuple[int, int], float],
    *,
    rel_gap: float = 1e-6,
    max_iter: int = 500,
    inner: int = 2,
) -> UserEquilibrium:
    """The user equilibrium of ``net`` under ``trips`` by path-based gradient projection.

    Args:
        net: a :class:`~regretgap.games.network.Network` (from ``read_tntp_network``).
        trips: ``{(origin, destination): demand}`` (from ``read_tntp_trips``).
        rel_gap: stop once the relative gap is at most this.
        max_iter: most sweeps (each: one batched Dijkstra and ``inner`` equilibration passes).
        inner: equilibration passes over every pair's path set per sweep.

    Returns:
        :class:`UserEquilibrium`; ``relative_gap`` says whether ``rel_gap`` was met.

    Raises:
        ValidationError: a trip names a node outside the network, a negative demand, no
            positive demand, or a pair whose destination cannot be reached from its origin.
    """
    if not rel_gap > 0:
        raise ValidationError(f"rel_gap must be > 0, got {rel_gap}")
    if max_iter < 1 or inner < 1:
        raise ValidationError(f"max_iter and inner must be >= 1, got {max_iter}, {inner}")
    od = _check_trips(net, trips)
    graph = _Graph(net)
    origins = sorted({o for o, _, _ in od})
    row = {o: k for k, o in enumerate(origins)}
    sources = np.array([graph.source(o) for o in origins])
    num_links = len(net.init)

    def shortest(cost: np.ndarray):
        dist, pred, link_of = graph.trees(cost, sources)
        return dist, pred, link_of

    def path_links(pred: np.ndarray, link_of: dict, r: int, d: int) -> np.ndarray:
        links = []
        v = d - 1
        src = sources[r]
        while v != src:
            u = int(pred[r, v])
            links.append(link_of[(u, v)])
            v = u
        return np.array(links[::-1], dtype=np.int64)

    flow = np.zeros(num_links)
    t = net.travel_time(flow)
    dist, pred, link_of = shortest(t)
    for o, d, q in od:
        if not np.isfinite(dist[row[o], d - 1]):
            raise ValidationError(
                f"trips: destination {d} cannot be reached from origin {o} "
                f"(demand {q}; zones below first_thru_node {net.first_thru_node} "
                "are not passed through)"
            )
    # per pair: path link arrays, their keys and flows; start all-or-nothing at free flow
    paths: list[list[np.ndarray]] = []
    keys: list[set[bytes]] = []
    flows: list[np.ndarray] = []
    for o, d, q in od:
        p = path_links(pred, link_of, row[o], d)
        paths.append([p])
        keys.append({p.tobytes()})
        flows.append(np.array([q]))
        np.add.at(flow, p, q)
    demand = np.array([q for _, _, q in od])
    mark = np.zeros(num_links, dtype=bool)
    t0, bb, cap, pw = net.free_flow_time, net.b, net.capacity, net.power
    if np.any((pw < 1) & (bb > 0)):
        raise ValidationError("BPR power must be >= 1 on links with b > 0 (convex link costs)")

    def relative_gap(t: np.ndarray, dist: np.ndarray) -> float:
        sptt = float(demand @ np.array([dist[row[o], d - 1] for o, d, _ in od]))
        tstt = float(flow @ t)
        return (tstt - sptt) / tstt if tstt > 0 else 0.0

    gap = np.inf
    iterations = 0
    for sweep in range(1, max_iter + 1):
        iterations = sweep
        t = net.travel_time(flow)
        dist, pred, link_of = shortest(t)
        gap = relative_gap(t, dist)
        if gap <= rel_gap:
            break
        for k, (o, d, _) in enumerate(od):
            p = path_links(pred, link_of, row[o], d)
            key = p.tobytes()
            if key not in keys[k]:
                keys[k].add(key)
                paths[k].append(p)
                flows[k] = np.append(flows[k], 0.0)
        dt = _derivative(net, flow)
        for _ in range(inner):
            for k in range(len(od)):
                ps, f = paths[k], flows[k]
                if len(ps) == 1:
                    continue
                c = np.array([t[p].sum() for p in ps])
                best = int(np.argmin(c))
                pb = ps[best]
                mark[pb] = True
                sb = dt[pb].sum()
                for j, p in enumerate(ps):
                    if j == best or f[j] <= 0:
                        continue
                    s = sb + dt[p].sum() - 2.0 * dt[p[mark[p]]].sum()
                    step = f[j] if s <= 0 else min(f[j], (c[j] - c[best]) / s)
                    if step <= 0:
                        continue
                    f[j] -= step
                    f[best] += step
                    np.add.at(flow, p, -step)
                    np.add.at(flow, pb, step)
                mark[pb] = False
                # Gauss-Seidel: the next pair sees this pair's shift
                changed = np.unique(np.concatenate(ps))
                np.maximum(flow, 0.0, out=flow)  # round-off only
                x = flow[changed] / cap[changed]
                xp = x ** (pw[changed] - 1.0)
                t[changed] = t0[changed] * (1.0 + bb[changed] * xp * x)
                dt[changed] = t0[changed] * bb[changed] * pw[changed] * xp / cap[changed]
                keep = f > 0
                keep[best] = True
                if not keep.all():
                    paths[k] = [p for p, kp in zip(ps, keep, strict=True) if kp]
                    keys[k] = {p.tobytes() for p in paths[k]}
                    flows[k] = f[keep]
    t = net.travel_time(flow)
    if gap > rel_gap:  # max_iter ran out: report the gap of the flows returned
        gap = relative_gap(t, shortest(t)[0])
    return UserEquilibrium(
        flow=flow,
        travel_time=t,
        relative_gap=float(gap),
        iterations=iterations,
        paths={(o, d): (tuple(paths[k]), flows[k].copy()) for k, (o, d, _) in enumerate(od)},
    )


def grid_network(
    rows: int,
    cols: int,
    zones: int,
    *,
    rng: np.random.Generator,
    drop: float = 0.1,
    demand_per_zone: float = 3000.0,
):
    """A seeded synthetic road network with demand, for solver benchmarks and tests.

    Nodes ``1..zones`` are zone centroids (so ``first_thru_node = zones + 1``), each joined
    both ways to two random grid nodes by connectors; nodes ``zones + 1 ..`` form a
    ``rows x cols`` grid of two-way streets, a fraction ``drop`` of street pairs removed
    where the grid stays strongly connected. BPR ``b = 0.15``, ``p = 4``; capacities
    uniform in ``[600, 2400]``, free-flow times in ``[1, 3]``. Demand: every zone pair gets
    an exponential draw scaled so each origin sends ``demand_per_zone`` on average.

    Returns:
        ``(net, trips)`` as ``read_tntp_network`` / ``read_tntp_trips`` return them.
    """
    from scipy.sparse.csgraph import connected_components

    if rows < 2 or cols < 2 or zones < 2:
        raise ValidationError(f"grid_network needs rows, cols, zones >= 2, got {rows, cols, zones}")
    if not 0 <= drop < 1:
        raise ValidationError(f"drop must be in [0, 1), got {drop}")
    n_grid = rows * cols
    node = zones + 1 + np.arange(n_grid).reshape(rows, cols)
    pairs = [(node[r, c], node[r, c + 1]) for r in range(rows) for c in range(cols - 1)]
    pairs += [(node[r, c], node[r + 1, c]) for r in range(rows - 1) for c in range(cols)]
    keep = np.ones(len(pairs), dtype=bool)
    for k in rng.permutation(len(pairs))[: int(drop * len(pairs))]:
        keep[k] = False
        u = np.array([p[0] for p, kp in zip(pairs, keep, strict=True) if kp]) - zones - 1
        v = np.array([p[1] for p, kp in zip(pairs, keep, strict=True) if kp]) - zones - 1
        g = csr_matrix((np.ones(len(u)), (u, v)), shape=(n_grid, n_grid))
        if connected_components(g, directed=False)[0] > 1:
            keep[k] = True
    streets = [p for p, kp in zip(pairs, keep, strict=True) if kp]
    init, term = [], []
    for u, v in streets:
        init += [u, v]
        term += [v, u]
    num_streets = len(init)
    for z in range(1, zones + 1):
        for g in rng.choice(n_grid, size=2, replace=False):
            init += [z, zones + 1 + int(g)]
            term += [zones + 1 + int(g), z]
    num_links = len(init)
    capacity = rng.uniform(600.0, 2400.0, size=num_links)
    fft = rng.uniform(1.0, 3.0, size=num_links)
    capacity[num_streets:] = 1e5  # connectors: uncongested, short
    fft[num_streets:] = 0.5
    net = Network(
        init=np.array(init, dtype=np.int64),
        term=np.array(term, dtype=np.int64),
        capacity=capacity,
        free_flow_time=fft,
        b=np.full(num_links, 0.15),
        power=np.full(num_links, 4.0),
        num_nodes=zones + n_grid,
        first_thru_node=zones + 1,
    )
    q = rng.exponential(1.0, size=(zones, zones))
    np.fill_diagonal(q, 0.0)
    q *= demand_per_zone * zones / q.sum()
    trips = {
        (o + 1, d + 1): float(round(q[o, d], 1))
        for o in range(zones)
        for d in range(zones)
        if o != d and q[o, d] >= 0.05
    }
    return net, trips
