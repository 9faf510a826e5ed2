"""File formats for games, policies and demonstrations (schema version 1).

Every file is a NumPy ``.npz`` archive holding plain numeric arrays and one ``header``
entry: a JSON document ``{"format": "regretgap", "kind": ..., "schema": 1, ...}``. Arrays
are read with ``allow_pickle=False`` (a file never runs code).

- ``kind = "game"``: CSR transitions ``transitions_data``, ``transitions_indices``,
  ``transitions_indptr`` (``[S*A, S]``, row ``s*A + a``), ``rewards [m, S, A]``,
  ``initial [S]``; header ``horizon``, ``num_actions``, ``num_states``.
- ``kind = "policy"``: ``sigma`` (``[H, S, A]`` or ``[S, A]``).
- ``kind = "demonstrations"``: ``states [n, H]``, ``actions [n, H]`` (joint actions).

Loading checks the archive before decompressing anything: the zip signature, declared
sizes at most :data:`MAX_ARCHIVE_BYTES` and at most deflate's largest ratio to the
compressed size, each array's declared shape against its entry's size, no Python objects.
It then validates the contents with the core's checks (a game goes through
:class:`MarkovGame`). Every failure raises :class:`FileFormatError` naming the file.

Writes are atomic (a temporary file in the target folder, then a rename) and never create
folders; :func:`check_output` refuses an output that is also an input, a missing folder,
or (unless forced) an existing file.
"""

from __future__ import annotations

import io as _io
import json
import math
import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.lib.format as npy_format
import scipy.sparse as sp

from regretgap.data import Demonstrations, Trajectories, as_demonstrations
from regretgap.errors import FileFormatError, ValidationError
from regretgap.game import PROB_ATOL, MarkovGame
from regretgap.policies import as_policy

SCHEMA = 1
KINDS = ("game", "policy", "demonstrations")

#: Largest total uncompressed size an archive may declare (bytes). Checked from the zip
#: directory before anything is decompressed: a guard against zip bombs. Raise it for
#: very large games.
MAX_ARCHIVE_BYTES = 2 * 1024**3

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header, or an empty archive
_NPY_MAGIC = b"\x93NUMPY"

# what a damaged archive can raise inside zipfile, zlib and numpy's .npy reader
_ARCHIVE_ERRORS = (
    OSError,
    ValueError,
    EOFError,
    KeyError,
    TypeError,
    NotImplementedError,  # an unknown compression method
    RuntimeError,  # an encrypted entry
    OverflowError,
    RecursionError,
    SyntaxError,
    MemoryError,
    zipfile.BadZipFile,
    zlib.error,
)


class OutputError(ValidationError):
    """An output path is refused: it is an input, its folder is missing, or it exists."""


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_output(
    path: str | os.PathLike,
    *,
    inputs: Iterable[str | os.PathLike | None] = (),
    overwrite: bool = False,
) -> Path:
    """Refuse an output path that would destroy something, before any work is done.

    Args:
        path: the file to write.
        inputs: files the command reads; the output may not be any of them (even with
            ``overwrite``), by name or as the same file on disk.
        overwrite: allow replacing an existing file (the CLI's ``--force``).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        OutputError: the output is an input, is a folder, its folder does not exist (no
            folder is ever created), or it exists and ``overwrite`` is false.
    """
    target = Path(path)
    for raw in inputs:
        if raw is None:
            continue
        src = Path(raw)
        if target.resolve() == src.resolve() or _same_file(target, src):
            raise OutputError(
                f"{target}: the output is also an input file; writing it would destroy the "
                f"input (choose another output name)"
            )
    if target.is_dir():
        raise OutputError(f"{target}: is a folder; give a file name to write")
    folder = target.parent
    if not folder.is_dir():
        raise OutputError(
            f"{target}: folder {folder} does not exist (regretgap does not create folders; "
            f"create it first)"
        )
    if target.exists() and not overwrite:
        raise OutputError(f"{target}: already exists (use --force, or overwrite=True, to replace)")
    return target


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, overwrite: bool = True) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename.

    Raises:
        OutputError: the folder does not exist (it is never created), or ``path`` exists and
            ``overwrite`` is false (checked atomically with a hard link where supported).
    """
    target = Path(path)
    if not target.parent.is_dir():
        raise OutputError(
            f"{target}: folder {target.parent} does not exist (regretgap does not create "
            f"folders; create it first)"
        )
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual file mode
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)  # fails if target exists: no window to clobber it
            except FileExistsError as exc:
                raise OutputError(
                    f"{target}: already exists (use --force, or overwrite=True, to replace)"
                ) from exc
            except OSError:  # a file system without hard links
                if target.exists():
                    raise OutputError(
                        f"{target}: already exists (use --force, or overwrite=True, to replace)"
                    ) from None
                os.replace(tmp, target)
            Path(tmp).unlink(missing_ok=True)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _save(
    path: str | os.PathLike,
    kind: str,
    header: dict,
    arrays: dict[str, np.ndarray],
    overwrite: bool,
) -> None:
    head = {"format": "regretgap", "kind": kind, "schema": SCHEMA, **header}
    buf = _io.BytesIO()
    np.savez_compressed(buf, header=np.array(json.dumps(head)), **arrays)
    atomic_write_bytes(path, buf.getvalue(), overwrite=overwrite)


def _read_entry(name: str, z: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """One ``.npy`` entry, its header checked before its data is read."""
    key = info.filename[:-4]
    with z.open(info) as fh:
        version = npy_format.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = npy_format.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, _, dtype = npy_format.read_array_header_2_0(fh)
        else:
            raise FileFormatError(f"{name}: entry {key!r} has .npy version {version}")
    if dtype.hasobject:
        raise FileFormatError(
            f"{name}: not a readable .npz archive: entry {key!r} holds Python objects; "
            f"regretgap files hold plain numeric arrays only (never unpickled)"
        )
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > info.file_size:
        raise FileFormatError(
            f"{name}: entry {key!r} declares shape {shape} ({nbytes} bytes) but holds "
            f"{info.file_size} bytes: truncated or corrupt"
        )
    with z.open(info) as fh:
        return npy_format.read_array(fh, allow_pickle=False)


#: Deflate cannot expand data by more than about 1032:1, so a larger declared ratio is a
#: lie (or a bomb); with this bound an array never takes more memory than about 1032 times
#: the archive's size on disk.
_MAX_DEFLATE_RATIO = 1100


def _check_sizes(name: str, info: zipfile.ZipInfo) -> None:
    """Refuse, from the zip directory alone, an entry whose declared size cannot be true."""
    if info.compress_type == zipfile.ZIP_STORED:
        honest = info.file_size == info.compress_size
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        honest = info.file_size <= _MAX_DEFLATE_RATIO * info.compress_size + 1024
    else:  # numpy writes stored or deflated entries only
        raise FileFormatError(
            f"{name}: entry {info.filename!r} uses zip compression method "
            f"{info.compress_type}; .npz files are stored or deflated"
        )
    if not honest:
        raise FileFormatError(
            f"{name}: entry {info.filename!r} declares {info.file_size} bytes from "
            f"{info.compress_size} compressed: not a possible ratio (corrupt, or a zip bomb)"
        )


def _read_archive(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` file, with every check made before decompressing."""
    name = str(path)
    p = Path(path)
    if p.is_dir():
        raise FileFormatError(f"{name}: is a folder, not a file")
    try:
        with open(p, "rb") as fh:
            magic = fh.read(8)
    except FileNotFoundError as exc:
        raise FileFormatError(f"{name}: no such file") from exc
    except OSError as exc:
        raise FileFormatError(f"{name}: cannot be read ({exc.strerror or exc})") from exc
    if magic.startswith(_NPY_MAGIC):
        raise FileFormatError(
            f"{name}: a plain .npy array, not a regretgap .npz file (write one with "
            f"regretgap.io.save_game, save_policy or save_demonstrations)"
        )
    if not magic:
        raise FileFormatError(f"{name}: the file is empty")
    if magic[:4] not in _ZIP_MAGIC:
        raise FileFormatError(
            f"{name}: not a readable .npz archive: it does not start with a zip signature "
            f"(a text file, or another format?)"
        )
    try:
        with zipfile.ZipFile(p) as z:
            infos = z.infolist()
            declared = sum(info.file_size for info in infos)
            if declared > MAX_ARCHIVE_BYTES:
                raise FileFormatError(
                    f"{name}: declares {declared} bytes uncompressed, over the limit of "
                    f"{MAX_ARCHIVE_BYTES} (regretgap.io.MAX_ARCHIVE_BYTES); not decompressed"
                )
            for info in infos:
                _check_sizes(name, info)
            arrays: dict[str, np.ndarray] = {}
            for info in infos:
                if not info.filename.endswith(".npy"):
                    raise FileFormatError(
                        f"{name}: unexpected entry {info.filename!r}: an .npz archive holds "
                        f".npy arrays only"
                    )
                key = info.filename[:-4]
                if key in arrays:
                    raise FileFormatError(f"{name}: entry {key!r} appears twice")
                arrays[key] = _read_entry(name, z, info)
            return arrays
    except FileFormatError:
        raise
    except _ARCHIVE_ERRORS as exc:
        raise FileFormatError(
            f"{name}: not a readable .npz archive ({type(exc).__name__}: {exc}); the file may "
            f"be truncated or corrupt"
        ) from exc


def _load(path: str | os.PathLike, kind: str) -> tuple[dict, dict[str, np.ndarray]]:
    name = str(path)
    arrays = _read_archive(path)
    if "header" not in arrays:
        raise FileFormatError(f"{name}: no 'header' entry: not a regretgap file")
    raw = arrays.pop("header")
    if raw.shape != () or raw.dtype.kind != "U":
        raise FileFormatError(f"{name}: header is not a JSON text (dtype {raw.dtype})")
    try:
        head = json.loads(str(raw))
    except (json.JSONDecodeError, RecursionError) as exc:
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


def _check_dtype(name: str, key: str, arr: np.ndarray, kinds: str, what: str) -> None:
    if arr.dtype.kind not in kinds:
        raise FileFormatError(f"{name}: {key} must be {what}, got dtype {arr.dtype}")


def _check_game_arg(game: Any) -> None:
    if game is not None and not isinstance(game, MarkovGame):
        raise ValidationError(f"game must be a MarkovGame or None, got {type(game).__name__}")


def save_game(path: str | os.PathLike, game: MarkovGame, *, overwrite: bool = True) -> None:
    """Write a game (schema 1, atomically).

    Raises:
        ValidationError: ``game`` is not a :class:`MarkovGame`.
        OutputError: the folder is missing, or the file exists and ``overwrite`` is false.
    """
    if not isinstance(game, MarkovGame):
        raise ValidationError(f"save_game needs a MarkovGame, got {type(game).__name__}")
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
        overwrite,
    )


def _header_int(name: str, head: dict, key: str, low: int) -> int:
    value = head.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise FileFormatError(f"{name}: header {key} must be an integer >= {low}, got {value!r}")
    return value


def load_game(path: str | os.PathLike) -> MarkovGame:
    """Read and validate a game file.

    Raises:
        FileFormatError: the file is missing, not a readable archive, not a game, or its
            arrays do not form a valid game (the message names the file and the problem).
    """
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
    horizon = _header_int(name, head, "horizon", 1)
    num_states = _header_int(name, head, "num_states", 1)
    raw_actions = head.get("num_actions")
    if not isinstance(raw_actions, list) or not raw_actions:
        raise FileFormatError(f"{name}: header num_actions must be a non-empty list")
    num_actions = tuple(
        _header_int(name, {"num_actions": n}, "num_actions", 1) for n in raw_actions
    )
    num_joint = math.prod(num_actions)
    rows = num_states * num_joint
    # shapes and index ranges first: scipy does not check CSR indices, and the compiled
    # kernels would read out of bounds
    if rewards.shape != (len(num_actions), num_states, num_joint):
        raise FileFormatError(
            f"{name}: rewards have shape {rewards.shape}, the header says [m, S, A] = "
            f"{(len(num_actions), num_states, num_joint)}"
        )
    if initial.shape != (num_states,):
        raise FileFormatError(
            f"{name}: initial has shape {initial.shape}, expected ({num_states},)"
        )
    for key, arr, kinds, what in (
        ("transitions_data", data, "fiu", "real numbers"),
        ("rewards", rewards, "fiu", "real numbers"),
        ("initial", initial, "fiu", "real numbers"),
        ("transitions_indices", indices, "iu", "integers"),
        ("transitions_indptr", indptr, "iu", "integers"),
    ):
        _check_dtype(name, key, arr, kinds, what)
    if indptr.shape != (rows + 1,) or indices.ndim != 1 or data.shape != indices.shape:
        raise FileFormatError(
            f"{name}: CSR arrays have shapes data {data.shape}, indices {indices.shape}, "
            f"indptr {indptr.shape}; expected indptr ({rows + 1},) and data, indices alike"
        )
    if indptr[0] != 0 or indptr[-1] != len(indices) or np.any(np.diff(indptr) < 0):
        raise FileFormatError(
            f"{name}: transitions_indptr must rise from 0 to {len(indices)} (the number of entries)"
        )
    if indices.size and (indices.min() < 0 or indices.max() >= num_states):
        raise FileFormatError(
            f"{name}: transitions_indices outside 0..{num_states - 1} (found "
            f"{int(indices.min())}..{int(indices.max())})"
        )
    try:
        t = sp.csr_matrix(
            (data.astype(np.float64), indices.astype(np.int64), indptr.astype(np.int64)),
            shape=(rows, num_states),
        )
        return MarkovGame(t, rewards, initial, horizon, num_actions)
    except ValidationError as exc:
        raise FileFormatError(f"{name}: invalid game: {exc}") from exc


def _check_policy_rows(sigma: np.ndarray, atol: float) -> None:
    """Shape ``[H, S, A]`` or ``[S, A]``, finite, non-negative rows summing to 1."""
    if sigma.ndim not in (2, 3) or sigma.shape[-1] == 0:
        raise ValidationError(f"a policy must have shape [H, S, A] or [S, A], got {sigma.shape}")
    bad = ~np.isfinite(sigma) | (sigma < 0)
    if bad.any():
        where = tuple(int(k) for k in np.argwhere(bad)[0])
        raise ValidationError(
            f"sigma{list(where)} is {sigma[where]}: probabilities must be finite and >= 0"
        )
    sums = sigma.sum(axis=-1)
    off = np.abs(sums - 1.0) > atol
    if off.any():
        where = tuple(int(k) for k in np.argwhere(off)[0])
        raise ValidationError(
            f"policy row {list(where)} sums to {float(sums[where]):.12g}, not 1 "
            f"({int(off.sum())} such rows; regretgap.normalize renormalises rounding errors)"
        )


def save_policy(path: str | os.PathLike, sigma: Any, *, overwrite: bool = True) -> None:
    """Write a mediator policy ``[H, S, A]`` or ``[S, A]`` (schema 1, atomically).

    Raises:
        ValidationError: ``sigma`` has the wrong shape, a negative or non-finite entry, or a
            row that does not sum to 1 (the policy is checked before writing).
        OutputError: the folder is missing, or the file exists and ``overwrite`` is false.
    """
    try:
        arr = np.asarray(sigma, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"a policy must be an array of numbers ({exc})") from exc
    _check_policy_rows(arr, PROB_ATOL)
    _save(path, "policy", {"shape": list(arr.shape)}, {"sigma": arr}, overwrite)


def load_policy(
    path: str | os.PathLike, game: MarkovGame | None = None, *, atol: float = PROB_ATOL
) -> np.ndarray:
    """Read a policy; with ``game``, validate it against the game (shape, rows).

    Args:
        atol: tolerance on each row's sum (see :func:`regretgap.as_policy`).

    Raises:
        FileFormatError: not a readable policy file, or a policy that is not a
            distribution per row (or does not fit ``game``).
        ValidationError: ``game`` is not a :class:`MarkovGame`.
    """
    _check_game_arg(game)
    name = str(path)
    _, arrays = _load(path, "policy")
    (sigma,) = _need(name, arrays, "sigma")
    _check_dtype(name, "sigma", sigma, "fiu", "real numbers")
    try:
        _check_policy_rows(sigma, atol)
        if game is not None:
            as_policy(game, sigma, atol=atol)
    except ValidationError as exc:
        what = "invalid policy for this game" if game is not None else "invalid policy"
        raise FileFormatError(f"{name}: {what}: {exc}") from exc
    return sigma


def save_demonstrations(
    path: str | os.PathLike, demos: Demonstrations | Trajectories, *, overwrite: bool = True
) -> None:
    """Write demonstrations (states and joint actions, never rewards).

    ``Trajectories`` (from :func:`regretgap.sample_trajectories`) are accepted and reduced
    with :func:`regretgap.as_demonstrations`, which drops rewards and refuses deviated play.
    """
    demos = as_demonstrations(demos)
    _save(
        path,
        "demonstrations",
        {"count": len(demos)},
        {"states": np.asarray(demos.states), "actions": np.asarray(demos.actions)},
        overwrite,
    )


def load_demonstrations(path: str | os.PathLike, game: MarkovGame | None = None) -> Demonstrations:
    """Read demonstrations; with ``game``, validate horizon and index ranges.

    Raises:
        FileFormatError: not a readable demonstrations file, or arrays that are not
            ``[n, H]`` non-negative integers (in range for ``game``).
        ValidationError: ``game`` is not a :class:`MarkovGame`.
    """
    _check_game_arg(game)
    name = str(path)
    _, arrays = _load(path, "demonstrations")
    states, actions = _need(name, arrays, "states", "actions")
    try:
        if not (
            np.issubdtype(states.dtype, np.integer) and np.issubdtype(actions.dtype, np.integer)
        ):
            raise ValidationError("states and actions must be integer arrays")
        demos = Demonstrations(states, actions)
        for what, arr in (("states", states), ("actions", actions)):
            if arr.size and arr.min() < 0:
                raise ValidationError(f"{what} must be >= 0, found {int(arr.min())}")
        if game is not None:
            demos.counts(game)
    except ValidationError as exc:
        raise FileFormatError(f"{name}: invalid demonstrations: {exc}") from exc
    return demos
