"""Fuzzing the file loaders: byte strings and structured mutations of valid files.

Shared by ``tests/test_fuzz.py`` (a few hundred inputs in CI) and
``benchmarks/fuzz_loaders.py`` (10^5 inputs and more). Every input must either load a
valid object or raise ``io.FileFormatError`` (the ``.npz`` loaders and the TNTP readers
alike); anything else fails.

Inputs, for each loader: arbitrary bytes; byte-level mutations of a valid file (flips,
insertions, deletions, truncation); for ``.npz`` files, structured mutations of a valid
file's header and arrays re-saved as a well-formed archive (so that they reach the
validation behind the zip layer); for TNTP files, line- and token-level mutations, and
typos (:func:`typo_mutations`: O for 0 and back, l for 1 and back, a dropped separator or
field), for which a loaded object must also equal the original file's (:func:`run_typo`):
a typo is refused or harmless, never a silent change of the data.
"""

from __future__ import annotations

import io as _io
import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import regretgap as rg
from regretgap import io
from regretgap.games import random_game, theorem_4_5
from regretgap.games.network import Network, read_tntp_network, read_tntp_trips


@cache
def reference_game() -> rg.MarkovGame:
    """The game that policies and demonstrations are validated against."""
    return theorem_4_5(3).game


def _file_bytes(save: Callable[[Path], None]) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.npz"
        save(path)
        return path.read_bytes()


@cache
def seeds() -> dict[str, list[bytes]]:
    """Valid files of each kind, the starting points of the mutations."""
    c = theorem_4_5(3)
    small = random_game(3, (2, 2), 2, rng=np.random.default_rng(0), branching=2)
    traj = rg.sample_trajectories(c.game, c.expert, 4, rng=np.random.default_rng(0))
    base = resources.files("regretgap") / "networks" / "Braess-Example"
    sioux = resources.files("regretgap") / "networks" / "SiouxFalls"
    return {
        "game": [
            _file_bytes(lambda p: io.save_game(p, c.game)),
            _file_bytes(lambda p: io.save_game(p, small)),
        ],
        "policy": [
            _file_bytes(lambda p: io.save_policy(p, c.expert)),
            _file_bytes(lambda p: io.save_policy(p, rg.as_policy(c.game, c.learner).copy())),
        ],
        "demonstrations": [_file_bytes(lambda p: io.save_demonstrations(p, traj))],
        "tntp_net": [
            (base / "Braess_net.tntp").read_bytes(),
            (sioux / "SiouxFalls_net.tntp").read_bytes(),
        ],
        "tntp_trips": [
            (base / "Braess_trips.tntp").read_bytes(),
            (sioux / "SiouxFalls_trips.tntp").read_bytes(),
        ],
    }


def _valid_game(game: Any) -> None:
    assert isinstance(game, rg.MarkovGame)
    if game.num_states * game.num_joint_actions <= 10_000 and game.horizon <= 100:
        # a loaded game must be usable: the compiled kernels read its CSR arrays
        v = rg.values(game, rg.uniform_policy(game))
        assert np.all(np.isfinite(v))


def _valid_policy(sigma: Any) -> None:
    assert isinstance(sigma, np.ndarray) and sigma.ndim in (2, 3)
    assert np.all(np.isfinite(sigma)) and np.all(sigma >= 0)
    assert np.allclose(sigma.sum(axis=-1), 1.0, atol=1e-6)


def _valid_demos(demos: Any) -> None:
    assert isinstance(demos, rg.Demonstrations)
    assert demos.states.shape == demos.actions.shape and demos.states.ndim == 2


def _valid_network(net: Any) -> None:
    assert isinstance(net, Network) and len(net.init) > 0
    assert np.all(net.capacity > 0) and net.init.min() >= 1


def _valid_trips(trips: Any) -> None:
    assert isinstance(trips, dict)
    assert all(np.isfinite(f) and f > 0 for f in trips.values())


@dataclass(frozen=True)
class Loader:
    """A loader under test: which seed files feed it, its error class, its validity check."""

    seed: str
    suffix: str
    load: Callable[[Path], Any]
    error: type[Exception]
    check: Callable[[Any], None]


LOADERS: dict[str, Loader] = {
    "load_game": Loader("game", ".npz", io.load_game, io.FileFormatError, _valid_game),
    "load_policy": Loader("policy", ".npz", io.load_policy, io.FileFormatError, _valid_policy),
    "load_policy(game)": Loader(
        "policy",
        ".npz",
        lambda p: io.load_policy(p, reference_game()),
        io.FileFormatError,
        lambda s: (_valid_policy(s), rg.as_policy(reference_game(), s)),
    ),
    "load_demonstrations": Loader(
        "demonstrations", ".npz", io.load_demonstrations, io.FileFormatError, _valid_demos
    ),
    "load_demonstrations(game)": Loader(
        "demonstrations",
        ".npz",
        lambda p: io.load_demonstrations(p, reference_game()),
        io.FileFormatError,
        lambda d: (_valid_demos(d), d.counts(reference_game())),
    ),
    "read_tntp_network": Loader(
        "tntp_net", ".tntp", read_tntp_network, io.FileFormatError, _valid_network
    ),
    "read_tntp_trips": Loader(
        "tntp_trips", ".tntp", read_tntp_trips, io.FileFormatError, _valid_trips
    ),
}


def run_one(name: str, data: bytes, folder: Path) -> str:
    """Feed ``data`` to loader ``name``: ``"loaded"`` or ``"refused"``; anything else raises."""
    loader = LOADERS[name]
    path = folder / f"input{loader.suffix}"
    path.write_bytes(data)
    try:
        obj = loader.load(path)
    except loader.error:
        return "refused"
    loader.check(obj)
    return "loaded"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Network):
        return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)
    return a == b


def run_typo(name: str, original: bytes, typo: bytes, folder: Path) -> str:
    """Feed a typo of ``original`` to TNTP reader ``name``: ``"refused"``, or ``"same"`` if
    it loads what ``original`` loads (the typo sat where it changes nothing, e.g. in a
    comment or in whitespace); a different object, or any other exception, fails."""
    loader = LOADERS[name]
    outcome = run_one(name, typo, folder)
    if outcome == "refused":
        return outcome
    typo_obj = loader.load(folder / f"input{loader.suffix}")
    (folder / f"original{loader.suffix}").write_bytes(original)
    assert _same(loader.load(folder / f"original{loader.suffix}"), typo_obj), (
        f"{name} loaded a typo as different data:\n{typo.decode(errors='replace')}"
    )
    return "same"


# ---------------------------------------------------------------------------------------
# strategies

_positions = st.integers(0, 1 << 20)


@st.composite
def byte_mutations(draw: st.DrawFn, data: bytes) -> bytes:
    """A valid file with a few byte-level edits."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(("flip", "set", "insert", "delete", "truncate", "dup")))
        k = draw(_positions) % (len(out) + 1)
        if op == "flip" and out:
            k %= len(out)
            out[k] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and out:
            k %= len(out)
            out[k] = draw(st.integers(0, 255))
        elif op == "insert":
            out[k:k] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del out[k : k + draw(st.integers(1, 64))]
        elif op == "truncate":
            del out[k:]
        elif op == "dup":
            out[k:k] = out[k : k + draw(st.integers(1, 64))]
    return bytes(out)


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(1 << 70), 1 << 70)
    | st.floats()
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)

_dtypes = st.sampled_from(
    [
        *(np.int8, np.int32, np.int64, np.uint8, np.uint64, np.float16, np.float32, np.float64),
        *(np.bool_, np.complex128, np.dtype("U3"), np.dtype("S2"), np.dtype([("x", "i4")])),
    ]
)


@st.composite
def _arrays(draw: st.DrawFn) -> np.ndarray:
    dtype = np.dtype(draw(_dtypes))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5))
    return draw(hnp.arrays(dtype, shape))


_SPECIAL = [0, -1, 1, 2, 1e-9, -1e-300, 1e300, np.inf, -np.inf, np.nan, 2**31, 2**62]


def _unpack(data: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    with np.load(_io.BytesIO(data), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    return json.loads(str(arrays.pop("header"))), arrays


@st.composite
def npz_mutations(draw: st.DrawFn, data: bytes) -> bytes:
    """A valid file's header and arrays edited, then saved as a well-formed archive."""
    with np.errstate(all="ignore"):  # casts of nan and overflowing pokes are the point
        return _mutate_npz(draw, data)


def _mutate_npz(draw: st.DrawFn, data: bytes) -> bytes:
    head, arrays = _unpack(data)
    raw_header: Any = None
    for _ in range(draw(st.integers(1, 3))):
        op = draw(
            st.sampled_from(
                ("header_field", "header_text", "drop", "replace", "poke", "reshape", "cast")
            )
        )
        keys = sorted(arrays)
        if op == "header_field":
            key = draw(st.sampled_from([*head, "extra"]))
            head[key] = draw(_json_values)
        elif op == "header_text":
            raw_header = draw(st.one_of(st.text(max_size=40), _arrays()))
        elif op == "drop" and keys:
            arrays.pop(draw(st.sampled_from(keys)))
        elif op == "replace" and keys:
            arrays[draw(st.sampled_from(keys))] = draw(_arrays())
        elif op == "poke" and keys:
            key = draw(st.sampled_from(keys))
            arr = arrays[key].copy()
            if arr.size:
                k = draw(st.integers(0, arr.size - 1))
                value = draw(st.sampled_from(_SPECIAL))
                try:
                    arr.flat[k] = value
                except (OverflowError, ValueError):
                    arr.flat[k] = -1 if arr.dtype.kind == "i" else 0
                arrays[key] = arr
        elif op == "reshape" and keys:
            key = draw(st.sampled_from(keys))
            arrays[key] = arrays[key].reshape(-1) if draw(st.booleans()) else arrays[key].T
        elif op == "cast" and keys:
            key = draw(st.sampled_from(keys))
            try:
                arrays[key] = arrays[key].astype(draw(st.sampled_from([np.float32, np.int8, bool])))
            except (TypeError, ValueError):  # text that is not a number stays text
                pass
    header = np.array(json.dumps(head)) if raw_header is None else np.asarray(raw_header)
    buf = _io.BytesIO()
    save = np.savez_compressed if draw(st.booleans()) else np.savez
    save(buf, header=header, **arrays)
    return buf.getvalue()


_TOKENS = [
    "nan", "inf", "-inf", "-1", "0", "1e309", "1e", "abc", "", "~", ";", "99999999999999999999",
    "1.5", "<END OF METADATA>", "<NUMBER OF NODES> x", "<NUMBER OF LINKS> 0", "Origin 1",
    "2 : 1e999;", "3 : -4;", "\t", "<FIRST THRU NODE> -3",
]  # fmt: skip


@st.composite
def text_mutations(draw: st.DrawFn, data: bytes) -> bytes:
    """A valid TNTP file with lines or tokens deleted, duplicated or replaced."""
    lines = data.decode().splitlines()
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(("delete", "dup", "token", "insert")))
        k = draw(_positions) % max(len(lines), 1)
        if op == "delete" and lines:
            del lines[k]
        elif op == "dup" and lines:
            lines.insert(k, lines[k])
        elif op == "token" and lines:
            parts = lines[k].split()
            new = draw(st.sampled_from(_TOKENS) | st.text(max_size=6))
            if parts:
                parts[draw(_positions) % len(parts)] = new
            lines[k] = " ".join(parts) if parts else new
        else:
            lines.insert(k, draw(st.sampled_from(_TOKENS) | st.text(max_size=30)))
    return "\n".join(lines).encode("utf-8", errors="surrogatepass")


#: A hand's slips: a letter for the digit it looks like and back.
_LOOKALIKES = {"0": "O", "O": "0", "o": "0", "1": "l", "l": "1", "I": "1"}


@st.composite
def typo_mutations(draw: st.DrawFn, data: bytes) -> bytes:
    """A valid TNTP file with one to three typos: a look-alike character substituted
    (``0``/``O``, ``1``/``l``), a separator dropped (``:``, ``;``, a run of whitespace) or a
    field dropped (one whitespace-separated token)."""
    text = data.decode()
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(("lookalike", "separator", "field")))
        if op == "lookalike":
            spots = [k for k, c in enumerate(text) if c in _LOOKALIKES]
            if spots:
                k = spots[draw(_positions) % len(spots)]
                text = text[:k] + _LOOKALIKES[text[k]] + text[k + 1 :]
        elif op == "separator":
            spots = [m.span() for m in re.finditer(r"[:;]|[ \t]+", text)]
            if spots:
                a, b = spots[draw(_positions) % len(spots)]
                text = text[:a] + text[b:]
        else:
            spots = [m.span() for m in re.finditer(r"[^\s]+", text)]
            if spots:
                a, b = spots[draw(_positions) % len(spots)]
                text = text[:a] + text[b:]
    return text.encode()


def typos() -> st.SearchStrategy[tuple[str, bytes, bytes]]:
    """``(TNTP reader name, original file, file with typos)``."""

    def one(name: str) -> st.SearchStrategy[tuple[str, bytes, bytes]]:
        seed = st.sampled_from(seeds()[LOADERS[name].seed])
        return seed.flatmap(lambda d: typo_mutations(d).map(lambda t: (name, d, t)))

    return st.sampled_from(TNTP_READERS).flatmap(one)


TNTP_READERS = ("read_tntp_network", "read_tntp_trips")


def inputs(name: str) -> st.SearchStrategy[bytes]:
    """Every kind of input for loader ``name``."""
    files = seeds()[LOADERS[name].seed]
    seed = st.sampled_from(files)
    structured = npz_mutations if LOADERS[name].suffix == ".npz" else text_mutations
    extra = [seed.flatmap(typo_mutations)] if name in TNTP_READERS else []
    return st.one_of(
        *extra,
        st.binary(max_size=600),
        seed.flatmap(byte_mutations),
        seed.flatmap(structured),
        seed.flatmap(structured).flatmap(byte_mutations),
    )


def cases() -> st.SearchStrategy[tuple[str, bytes]]:
    """``(loader name, input bytes)`` over every loader."""
    return st.sampled_from(sorted(LOADERS)).flatmap(lambda n: inputs(n).map(lambda d: (n, d)))
