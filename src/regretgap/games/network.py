"""Road networks: the :class:`Network` record, strict readers of the TNTP files of the
Transportation Networks collection (``*_net.tntp`` links with BPR parameters,
``*_trips.tntp`` origin-destination demand), and the shipped Braess and Sioux Falls data
(with its node coordinates). Every malformed line raises
:class:`~regretgap.errors.FileFormatError` naming the file, line and field.

The games built on a network live in :mod:`regretgap.games.routing`; the traffic
assignment in :mod:`regretgap.games.assignment`.
"""

from __future__ import annotations

import functools
import math
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np

from regretgap._repr import short_repr
from regretgap.errors import FileFormatError


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

    def __repr__(self) -> str:
        return short_repr(self)

    def travel_time(self, flow: np.ndarray, factor: np.ndarray | None = None) -> np.ndarray:
        """BPR link times ``t0 (1 + b (x / c)^p)`` for flows ``[..., L]``."""
        t0 = self.free_flow_time if factor is None else self.free_flow_time * factor
        return t0 * (1.0 + self.b * (flow / self.capacity) ** self.power)


def _fail(name: str, lineno: int, field: str, what: str, line: str) -> FileFormatError:
    """The reader's error: file, 1-based line, field, what is wrong, and the line itself."""
    return FileFormatError(f"{name}, line {lineno}, {field}: {what}: {line.strip()!r}")


# a decimal number as TNTP writes it; float() alone would also take "nan", "inf", "1_0"
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _number(raw: str, name: str, lineno: int, field: str, line: str) -> float:
    if not _NUMBER.fullmatch(raw):
        what = "missing" if not raw else f"{raw!r} is not a number"
        raise _fail(name, lineno, field, what, line)
    value = float(raw)
    if not np.isfinite(value):
        raise _fail(name, lineno, field, f"{raw!r} is not finite", line)
    return value


def _whole(raw: str, name: str, lineno: int, field: str, line: str, top: int | None) -> int:
    value = _number(raw, name, lineno, field, line)
    if value != int(value) or value < 1 or (top is not None and value > top):
        span = f"1..{top}" if top is not None else ">= 1"
        raise _fail(name, lineno, field, f"{raw} is not a whole number in {span}", line)
    return int(value)


class _Meta(NamedTuple):
    """A TNTP file's metadata ``{KEY: (value, line number)}`` and where its body starts."""

    fields: dict[str, tuple[str, int]]
    start: int


def _metadata(lines: list[str], name: str) -> _Meta:
    meta: dict[str, tuple[str, int]] = {}
    for k, line in enumerate(lines):
        text = line.strip()
        if not text or text.startswith("~"):
            continue
        m = re.fullmatch(r"<([^<>]+)>\s*(.*)", text)
        if not m:
            raise _fail(
                name, k + 1, "metadata", "expected '<KEY> value' or <END OF METADATA>", line
            )
        key = m.group(1).strip().upper()
        if key == "END OF METADATA":
            return _Meta(meta, k + 1)
        meta[key] = (m.group(2).strip(), k + 1)
    raise FileFormatError(f"{name}: no <END OF METADATA> line: not a TNTP file")


def _read_lines(path: str | os.PathLike) -> list[str]:
    """The file's lines; a missing, unreadable or non-text file raises FileFormatError."""
    name = str(path)
    try:
        return Path(path).read_text(encoding="utf-8", errors="strict").splitlines()
    except FileNotFoundError as exc:
        raise FileFormatError(f"{name}: no such file") from exc
    except IsADirectoryError as exc:
        raise FileFormatError(f"{name}: is a folder, not a TNTP file") from exc
    except UnicodeDecodeError as exc:
        raise FileFormatError(
            f"{name}: not a text file (byte {exc.start} is not UTF-8): not a TNTP file"
        ) from exc
    except OSError as exc:
        raise FileFormatError(f"{name}: cannot be read ({exc.strerror or exc})") from exc


def _meta_int(meta: _Meta, key: str, name: str, default: int | None = None) -> int:
    if key not in meta.fields:
        if default is None:
            raise FileFormatError(f"{name}: missing <{key}>")
        return default
    raw, lineno = meta.fields[key]
    if not re.fullmatch(r"\d+", raw) or int(raw) < 1:
        what = "missing" if not raw else f"{raw!r} is not a whole number >= 1"
        raise _fail(name, lineno, f"<{key}>", what, f"<{key}> {raw}")
    return int(raw)


#: The columns of a TNTP link line, in order (the collection's standard ten).
LINK_COLUMNS = (
    "init_node",
    "term_node",
    "capacity",
    "length",
    "free_flow_time",
    "b",
    "power",
    "speed",
    "toll",
    "link_type",
)


def _columns(lines: list[str], start: int) -> list[str]:
    """The link columns: the ``~ name ... ;`` comment line before the first link line if it
    names at least the seven that are read, else :data:`LINK_COLUMNS`."""
    names: list[str] = list(LINK_COLUMNS)
    for line in lines[start:]:
        text = line.strip()
        if text.startswith("~"):
            found = text[1:].strip().rstrip(";").split()
            if len(found) >= 7:
                names = found
        elif text:
            break
    return names


def read_tntp_network(path: str | os.PathLike) -> Network:
    """Read a TNTP network file (``*_net.tntp``), strictly.

    Every link line has exactly the columns of the file's ``~ init_node ... ;`` header
    (else the standard ten, :data:`LINK_COLUMNS`), each a decimal number, and ends with
    ``;``: a missing field is refused, never read as the next column.

    Raises:
        FileFormatError: (a :class:`ValidationError`) naming the file, line and field: the
            file is missing or not text; a metadata line is not ``<KEY> value``; a needed
            header (``<NUMBER OF NODES>``) is missing or not a whole number; a link line
            has a missing or extra field, no final ``;``, a field that is not a finite
            decimal number, end nodes outside ``1..<NUMBER OF NODES>``, a capacity <= 0,
            or a negative free-flow time or BPR ``b``; the links disagree with
            ``<NUMBER OF LINKS>``.
    """
    name = str(path)
    lines = _read_lines(path)
    meta = _metadata(lines, name)
    num_nodes = _meta_int(meta, "NUMBER OF NODES", name)
    first = _meta_int(meta, "FIRST THRU NODE", name, 1)
    _meta_int(meta, "NUMBER OF ZONES", name, 1)  # unused, but a typo there is still a typo
    columns = _columns(lines, meta.start)
    rows = []
    for k, line in enumerate(lines[meta.start :], meta.start + 1):
        text = line.strip()
        if not text or text.startswith("~"):
            continue
        if not text.endswith(";"):
            raise _fail(name, k, "link line", "does not end with ';'", line)
        fields = text[:-1].split()
        if len(fields) != len(columns):
            raise _fail(
                name,
                k,
                "link line",
                f"{len(fields)} fields, expected {len(columns)} ({' '.join(columns)})",
                line,
            )
        row = [_number(x, name, k, col, line) for x, col in zip(fields, columns, strict=True)]
        init = _whole(fields[0], name, k, columns[0], line, num_nodes)
        term = _whole(fields[1], name, k, columns[1], line, num_nodes)
        capacity, _, free_flow, b, power = row[2:7]
        if capacity <= 0:
            raise _fail(name, k, columns[2], "must be > 0", line)
        if free_flow < 0:
            raise _fail(name, k, columns[4], "must be >= 0", line)
        if b < 0:
            raise _fail(name, k, columns[5], "must be >= 0", line)
        rows.append([init, term, capacity, free_flow, b, power])
    if not rows:
        raise FileFormatError(f"{name}: no links")
    if "NUMBER OF LINKS" in meta.fields:
        declared = _meta_int(meta, "NUMBER OF LINKS", name)
        if declared != len(rows):
            raise FileFormatError(
                f"{name}, line {meta.fields['NUMBER OF LINKS'][1]}, <NUMBER OF LINKS>: "
                f"says {declared} links, the file has {len(rows)}"
            )
    arr = np.array(rows)
    return Network(
        init=arr[:, 0].astype(np.int64),
        term=arr[:, 1].astype(np.int64),
        capacity=arr[:, 2],
        free_flow_time=arr[:, 3],
        b=arr[:, 4],
        power=arr[:, 5],
        num_nodes=num_nodes,
        first_thru_node=first,
    )


def _half_unit(raw: str) -> float:
    """Half a unit in the last printed digit of the decimal ``raw`` (its rounding error)."""
    mantissa, _, exponent = raw.lower().partition("e")
    return 0.5 * 10.0 ** (int(exponent or 0) - len(mantissa.partition(".")[2]))


#: Relative slack on the ``<TOTAL OD FLOW>`` check beyond the printed digits' rounding
#: (floating-point summation error is ~1e-16 per entry; this is far above it).
TOTAL_RTOL = 1e-9


def read_tntp_trips(path: str | os.PathLike) -> dict[tuple[int, int], float]:
    """Read a TNTP demand file (``*_trips.tntp``), strictly: ``{(origin, destination): flow}``
    with the pairs of positive flow.

    The body is ``Origin <zone>`` lines, each followed by entries ``destination : flow;``
    (every entry ends with ``;``). The flows must add up to the header's
    ``<TOTAL OD FLOW>`` (when present) within their printed precision: half a unit in the
    last digit of each flow and of the total (a file rounded to 0.1 may be off by 0.05 per
    entry), plus :data:`TOTAL_RTOL` relative. A pair dropped or misread changes the sum by
    its flow, which the check sees unless the flow is below that precision.

    Raises:
        FileFormatError: (a :class:`ValidationError`) naming the file, line and field: the
            file is missing or not text; a metadata line is not ``<KEY> value``; an
            ``Origin`` line without a whole zone number; demand before any ``Origin``; an
            entry without ``:`` or ``;``, a destination that is not a whole number, a flow
            that is not a finite decimal number >= 0; a zone outside
            ``1..<NUMBER OF ZONES>``; a pair listed twice; a total that disagrees with
            ``<TOTAL OD FLOW>``.
    """
    name = str(path)
    lines = _read_lines(path)
    meta = _metadata(lines, name)
    zones = _meta_int(meta, "NUMBER OF ZONES", name, 0) or None
    flows: dict[tuple[int, int], float] = {}
    slack = 0.0
    origin = None
    for k, line in enumerate(lines[meta.start :], meta.start + 1):
        text = line.strip()
        if not text or text.startswith("~"):
            continue
        if text[:6].lower() == "origin":
            origin = _whole(text[6:].strip(), name, k, "origin", line, zones)
            continue
        if origin is None:
            raise _fail(name, k, "demand", "comes before any 'Origin' line", line)
        *entries, rest = text.split(";")
        if rest.strip():
            raise _fail(name, k, f"entry {rest.strip()!r}", "does not end with ';'", line)
        for entry in entries:
            dest_raw, colon, flow_raw = entry.partition(":")
            if not colon:
                raise _fail(name, k, f"entry {entry.strip()!r}", "no ':'", line)
            dest = _whole(dest_raw.strip(), name, k, "destination", line, zones)
            if ":" in flow_raw:
                raise _fail(name, k, f"flow to {dest}", "a ';' is missing after it", line)
            flow = _number(flow_raw.strip(), name, k, f"flow to {dest}", line)
            if flow < 0:
                raise _fail(name, k, f"flow to {dest}", "must be >= 0", line)
            if (origin, dest) in flows:
                raise _fail(name, k, f"flow to {dest}", f"pair {origin}->{dest} listed twice", line)
            flows[(origin, dest)] = flow
            slack += _half_unit(flow_raw.strip())
    if "TOTAL OD FLOW" in meta.fields:
        raw, lineno = meta.fields["TOTAL OD FLOW"]
        total = _number(raw, name, lineno, "<TOTAL OD FLOW>", f"<TOTAL OD FLOW> {raw}")
        found = math.fsum(flows.values())
        slack += _half_unit(raw) + TOTAL_RTOL * max(abs(total), found)
        if abs(found - total) > slack:
            raise FileFormatError(
                f"{name}, line {lineno}, <TOTAL OD FLOW>: says {raw}, the flows add up to "
                f"{found:.10g} (off by {found - total:+.10g}, more than the printed "
                f"precision allows, {slack:.3g}): a flow is missing or misread"
            )
    return {pair: flow for pair, flow in flows.items() if flow > 0}


def _shipped(name: str, stem: str) -> tuple[Network, dict[tuple[int, int], float]]:
    base = resources.files("regretgap") / "networks" / name
    with (
        resources.as_file(base / f"{stem}_net.tntp") as net_path,
        resources.as_file(base / f"{stem}_trips.tntp") as trips_path,
    ):
        return read_tntp_network(net_path), read_tntp_trips(trips_path)


@functools.lru_cache(maxsize=1)
def _sioux_falls_files() -> tuple[Network, dict[tuple[int, int], float]]:
    return _shipped("SiouxFalls", "SiouxFalls")


def sioux_falls_network() -> tuple[Network, dict[tuple[int, int], float]]:
    """Sioux Falls (LeBlanc, Morlok and Pierskalla 1975) from the shipped TNTP data:
    ``(net, trips)``, read once per process (``trips`` is a fresh copy)."""
    net, trips = _sioux_falls_files()
    return net, dict(trips)


def sioux_falls_coordinates() -> np.ndarray:
    """Node coordinates ``[N, 2]`` (x, y) from the shipped ``SiouxFalls_node.tntp``."""
    path = resources.files("regretgap") / "networks" / "SiouxFalls" / "SiouxFalls_node.tntp"
    rows = [
        line.rstrip().rstrip(";").split()
        for line in path.read_text(encoding="utf-8").splitlines()[1:]
        if line.strip()
    ]
    xy = np.array([[float(r[1]), float(r[2])] for r in rows])
    return xy[np.argsort([int(r[0]) for r in rows])]
