"""File formats for games, policies and demonstrations (schema version 1).

Every file is a NumPy ``.npz`` archive read with ``allow_pickle=False`` (a file never runs
code) holding plain numeric arrays and one ``header`` entry: a JSON document
``{"format": "regretgap", "kind": ..., "schema": 1, ...}``.

- ``kind = "game"``: CSR transitions ``transitions_data``, ``transitions_indices``,
  ``transitions_indptr`` (``[S*A, S]``, row ``s*A + a``), ``rewards [m, S, A]``,
  ``initial [S]``; header ``horizon``, ``num_actions``, ``num_states``.
- ``kind = "policy"``: ``sigma`` (``[H, S, A]`` or ``[S, A]``).
- ``kind = "demonstrations"``: ``states [n, H]``, ``actions [n, H]`` (joint actions).

Loading validates with the core's checks (a game goes through :class:`MarkovGame`); a
truncated, corrupt or foreign file raises :class:`FileFormatError` naming the file. Writes
are atomic: a temporary file in the target folder, then a rename.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from regretgap.data import Demonstrations
from regretgap.errors import ValidationError
from regretgap.game import MarkovGame
from regretgap.policies import as_policy

SCHEMA = 1
KINDS = ("game", "policy", "demonstrations")


class FileFormatError(ValidationError):
    """A file is not a valid regretgap file (truncated, corrupt, wrong kind or schema)."""


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual file mode
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _save(path: str | os.PathLike, kind: str, header: dict, arrays: dict[str, np.ndarray]) -> None:
    import io as _io

    head = {"format": "regretgap", "kind": kind, "schema": SCHEMA, **header}
    buf = _io.BytesIO()
    np.savez_compressed(buf, header=np.array(json.dumps(head)), **arrays)
    atomic_write_bytes(path, buf.getvalue())


def _load(path: str | os.PathLike, kind: str) -> tuple[dict, dict[str, np.ndarray]]:
    name = str(path)
    try:
        with np.load(name, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except FileNotFoundError as exc:
        raise FileFormatError(f"{name}: no such file") from exc
    except (
        OSError,
        ValueError,
        EOFError,
        KeyError,
        NotImplementedError,
        zipfile.BadZipFile,
        zlib.error,
    ) as exc:
        # corrupt compressed data surfaces as zlib.error, an unknown method as NotImplemented
        raise FileFormatError(
            f"{name}: not a readable .npz archive ({type(exc).__name__}: {exc}); the file may "
            f"be truncated or corrupt"
        ) from exc
    if "header" not in arrays:
        raise FileFormatError(f"{name}: no 'header' entry: not a regretgap file")
    try:
        head = json.loads(str(arrays.pop("header")))
    except (json.JSONDecodeError, TypeError) as exc:
        raise FileFormatError(f"{name}: header is not valid JSON ({exc})") from exc
    if not isinstance(head, dict) or head.get("format") != "regretgap":
        raise FileFormatError(f"{name}: header does not say format 'regretgap'")
    if head.get("schema") != SCHEMA:
        raise FileFormatError(
            f"{name}: schema version {head.get('schema')!r} is not supported (expected {SCHEMA})"
        )
    if head.get("kind") != kind:
        raise FileFormatError(f"{name}: holds a {head.get('kind')!r}, expected a {kind!r}")
    return head, arrays


def _need(name: str, arrays: dict, *keys: str) -> list[np.ndarray]:
    missing = [k for k in keys if k not in arrays]
    if missing:
        raise FileFormatError(f"{name}: missing arrays {missing}")
    return [arrays[k] for k in keys]


def save_game(path: str | os.PathLike, game: MarkovGame) -> None:
    """Write a game (schema 1, atomically)."""
    t = game.transitions
    _save(
        path,
        "game",
        {
            "horizon": game.horizon,
            "num_actions": list(game.num_actions),
            "num_states": game.num_states,
        },
        {
            "transitions_data": t.data,
            "transitions_indices": t.indices,
            "transitions_indptr": t.indptr,
            "rewards": np.asarray(game.rewards),
            "initial": np.asarray(game.initial),
        },
    )


def load_game(path: str | os.PathLike) -> MarkovGame:
    """Read and validate a game file."""
    name = str(path)
    head, arrays = _load(path, "game")
    data, indices, indptr, rewards, initial = _need(
        name,
        arrays,
        "transitions_data",
        "transitions_indices",
        "transitions_indptr",
        "rewards",
        "initial",
    )
    try:
        num_actions = tuple(int(n) for n in head["num_actions"])
        horizon = int(head["horizon"])
        num_states = int(head["num_states"])
        num_joint = int(np.prod(num_actions))
        t = sp.csr_matrix((data, indices, indptr), shape=(num_states * num_joint, num_states))
        return MarkovGame(t, rewards, initial, horizon, num_actions)
    except ValidationError as exc:
        raise FileFormatError(f"{name}: invalid game: {exc}") from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise FileFormatError(f"{name}: inconsistent game arrays or header ({exc})") from exc


def save_policy(path: str | os.PathLike, sigma: Any) -> None:
    """Write a mediator policy ``[H, S, A]`` or ``[S, A]`` (schema 1, atomically)."""
    arr = np.asarray(sigma, dtype=np.float64)
    _save(path, "policy", {"shape": list(arr.shape)}, {"sigma": arr})


def load_policy(path: str | os.PathLike, game: MarkovGame | None = None) -> np.ndarray:
    """Read a policy; with ``game``, validate it against the game (shape, rows)."""
    name = str(path)
    _, arrays = _load(path, "policy")
    (sigma,) = _need(name, arrays, "sigma")
    if game is not None:
        try:
            as_policy(game, sigma)
        except ValidationError as exc:
            raise FileFormatError(f"{name}: invalid policy for this game: {exc}") from exc
    return sigma


def save_demonstrations(path: str | os.PathLike, demos: Demonstrations) -> None:
    """Write demonstrations (states and joint actions, never rewards)."""
    _save(
        path,
        "demonstrations",
        {"count": len(demos)},
        {"states": np.asarray(demos.states), "actions": np.asarray(demos.actions)},
    )


def load_demonstrations(path: str | os.PathLike, game: MarkovGame | None = None) -> Demonstrations:
    """Read demonstrations; with ``game``, validate horizon and index ranges."""
    name = str(path)
    _, arrays = _load(path, "demonstrations")
    states, actions = _need(name, arrays, "states", "actions")
    try:
        if not (
            np.issubdtype(states.dtype, np.integer) and np.issubdtype(actions.dtype, np.integer)
        ):
            raise ValidationError("states and actions must be integer arrays")
        demos = Demonstrations(states, actions)
        if game is not None:
            demos.counts(game)
    except ValidationError as exc:
        raise FileFormatError(f"{name}: invalid demonstrations: {exc}") from exc
    return demos
