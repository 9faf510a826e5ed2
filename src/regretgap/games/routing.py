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

Braess's network (4 nodes, 5 links, 6 trips from node 1 to node 2) ships as package data
with its attribution (``regretgap/networks/SOURCE.md``).
"""

from __future__ import annotations

import itertools
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np

from regretgap.errors import ValidationError
from regretgap.game import MarkovGame
from regretgap.games.assignment import UserEquilibrium, user_equilibrium

__all__ = [
    "Network",
    "RoutingGame",
    "UserEquilibrium",
    "braess",
    "read_tntp_network",
    "read_tntp_trips",
    "routing_game",
    "simple_routes",
    "user_equilibrium",
]


@dataclass(frozen=True)
class Network:
    """Links of a road network (TNTP ``*_net.tntp``), nodes numbered from 1.

    Attributes:
        init, term: link end nodes ``[L]``.
        capacity, free_flow_time, b, power: BPR parameters ``[L]``.
        num_nodes: number of nodes.
        first_thru_node: nodes below it are zones that routes may not pass through.
    """

    init: np.ndarray
    term: np.ndarray
    capacity: np.ndarray
    free_flow_time: np.ndarray
    b: np.ndarray
    power: np.ndarray
    num_nodes: int
    first_thru_node: int

    def travel_time(self, flow: np.ndarray, factor: np.ndarray | None = None) -> np.ndarray:
        """BPR link times ``t0 (1 + b (x / c)^p)`` for flows ``[..., L]``."""
        t0 = self.free_flow_time if factor is None else self.free_flow_time * factor
        return t0 * (1.0 + self.b * (flow / self.capacity) ** self.power)


def _metadata(lines: list[str], name: str) -> tuple[dict[str, str], int]:
    meta = {}
    for k, line in enumerate(lines):
        m = re.match(r"\s*<([^>]+)>\s*(.*)", line)
        if m:
            key = m.group(1).strip().upper()
            if key == "END OF METADATA":
                return meta, k + 1
            meta[key] = m.group(2).strip()
    raise ValidationError(f"{name}: no <END OF METADATA> line: not a TNTP file")


def _read_lines(path: str | os.PathLike) -> list[str]:
    """The file's lines; a missing, unreadable or non-text file raises ValidationError."""
    name = str(path)
    try:
        return Path(path).read_text(encoding="utf-8", errors="strict").splitlines()
    except FileNotFoundError as exc:
        raise ValidationError(f"{name}: no such file") from exc
    except IsADirectoryError as exc:
        raise ValidationError(f"{name}: is a folder, not a TNTP file") from exc
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"{name}: not a text file (byte {exc.start} is not UTF-8): not a TNTP file"
        ) from exc
    except OSError as exc:
        raise ValidationError(f"{name}: cannot be read ({exc.strerror or exc})") from exc


def _meta_int(meta: dict[str, str], key: str, name: str, default: str | None = None) -> int:
    raw = meta.get(key, default)
    if raw is None:
        raise ValidationError(f"{name}: missing <{key}>")
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValidationError(f"{name}: <{key}> is {raw!r}, not an integer") from exc
    if value < 1:
        raise ValidationError(f"{name}: <{key}> is {value}, must be >= 1")
    return value


def read_tntp_network(path: str | os.PathLike) -> Network:
    """Read a TNTP network file (``*_net.tntp``).

    Raises:
        ValidationError: the file is missing or not text, has no metadata, or a link line
            is malformed: fewer than 7 fields, a non-finite number, end nodes that are not
            whole numbers in ``1..<NUMBER OF NODES>``, a capacity <= 0, or a negative
            free-flow time or BPR ``b`` (the message quotes the line).
    """
    name = str(path)
    lines = _read_lines(path)
    meta, start = _metadata(lines, name)
    num_nodes = _meta_int(meta, "NUMBER OF NODES", name)
    first = _meta_int(meta, "FIRST THRU NODE", name, "1")
    rows = []
    for line in lines[start:]:
        text = line.strip()
        if not text or text.startswith("~"):
            continue
        fields = text.rstrip(";").split()
        if len(fields) < 7:
            raise ValidationError(f"{name}: link line has {len(fields)} fields: {line!r}")
        try:
            row = [float(x) for x in fields[:7]]
        except ValueError as exc:
            raise ValidationError(f"{name}: non-numeric link line {line!r}") from exc
        if not all(np.isfinite(row)):
            raise ValidationError(f"{name}: non-finite number in link line {line!r}")
        init, term, capacity, _, free_flow, b, _ = row
        for node in (init, term):
            if node != int(node) or not 1 <= node <= num_nodes:
                raise ValidationError(
                    f"{name}: link end node {node:g} is not a node 1..{num_nodes}: {line!r}"
                )
        if capacity <= 0:
            raise ValidationError(f"{name}: link capacity must be > 0: {line!r}")
        if free_flow < 0 or b < 0:
            raise ValidationError(f"{name}: negative free-flow time or BPR b: {line!r}")
        rows.append(row)
    if not rows:
        raise ValidationError(f"{name}: no links")
    if "NUMBER OF LINKS" in meta and _meta_int(meta, "NUMBER OF LINKS", name) != len(rows):
        raise ValidationError(
            f"{name}: header says {meta['NUMBER OF LINKS']} links, found {len(rows)}"
        )
    arr = np.array(rows)
    return Network(
        init=arr[:, 0].astype(np.int64),
        term=arr[:, 1].astype(np.int64),
        capacity=arr[:, 2],
        free_flow_time=arr[:, 4],
        b=arr[:, 5],
        power=arr[:, 6],
        num_nodes=num_nodes,
        first_thru_node=first,
    )


def read_tntp_trips(path: str | os.PathLike) -> dict[tuple[int, int], float]:
    """Read a TNTP demand file (``*_trips.tntp``): ``{(origin, destination): flow}``.

    Raises:
        ValidationError: the file is missing or not text, has no metadata, demand comes
            before any ``Origin`` line, or a flow is not a finite number >= 0.
    """
    name = str(path)
    lines = _read_lines(path)
    _, start = _metadata(lines, name)
    trips: dict[tuple[int, int], float] = {}
    origin = None
    for line in lines[start:]:
        text = line.strip()
        if not text or text.startswith("~"):
            continue
        m = re.match(r"Origin\s+(\d+)", text, flags=re.IGNORECASE)
        if m:
            origin = int(m.group(1))
            continue
        if origin is None:
            raise ValidationError(f"{name}: demand before any 'Origin' line: {line!r}")
        for dest, raw in re.findall(r"(\d+)\s*:\s*([0-9.eE+-]+)\s*;", text):
            try:
                flow = float(raw)
            except ValueError as exc:
                raise ValidationError(f"{name}: flow {raw!r} is not a number: {line!r}") from exc
            if not np.isfinite(flow) or flow < 0:
                raise ValidationError(f"{name}: flow {raw!r} must be finite and >= 0: {line!r}")
            if flow > 0:
                trips[(origin, int(dest))] = flow
    return trips


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
