"""Memory the exact evaluator and ``markov_ce`` will need, and a guard before allocating.

:func:`memory_estimate` adds up the arrays the library allocates for a game of ``S`` states,
per-agent action counts ``(n_0, ..., n_{m-1})`` (``A = prod n_i`` joint actions), horizon
``H`` and ``nnz`` stored transitions (``nnz = S A k`` with ``k`` successors per pair). The
formulas (bytes; ``idx = 4`` while CSR indices fit in int32, else 8; ``C = 4 ceil(2m / 4)``
value columns, the kernel's column groups):

- game: ``T`` as CSR ``nnz (8 + idx) + (S A + 1) idx``, rewards ``8 m S A``, ``rho0`` ``8 S``;
- policy: one time-dependent mediator ``sigma [H, S, A]`` float64, ``8 H S A`` (what
  ``markov_ce`` returns; a stationary ``[S, A]`` policy is broadcast, not copied);
- evaluator: ``regret`` with ``kind="ce"`` beyond the game and the policy, the larger of
  the policy check's temporaries (two boolean masks and the row sums, ``2 H S A + 8 H S``)
  and the backward pass: deviation tables
  ``4 H m S nmax`` (int32), two column buffers ``16 S C`` and each thread's gathered
  continuations ``8 * 128 A C``;
- markov_ce: beyond the game and its output policy, ``T V`` ``[S A, m]``, the continuation
  payoffs and their stage-major copy (``3 * 8 m S A``), objective weights and the stage
  solutions (``2 * 8 S A``), and one batch of stage LPs (``256`` bytes per constraint
  non-zero, HiGHS's copy included);
- total: ``game + policy + max(evaluator, markov_ce)``, the peak of solving for an expert
  and then evaluating it.

Building a :class:`~regretgap.MarkovGame`, evaluating a policy and solving ``markov_ce``
call :func:`check_fits` first: a step that would need more than the available memory
raises :class:`~regretgap.ValidationError` naming the estimate and what is available
(``MemAvailable`` of ``/proc/meminfo``; ``REGRETGAP_MEMORY_LIMIT`` overrides it: bytes with
an optional ``K``/``M``/``G``/``T`` suffix, or ``off`` to skip the check).
"""

from __future__ import annotations

import os
import re
from math import prod
from typing import Any, NamedTuple

from regretgap._checks import check_count
from regretgap._repr import short_repr
from regretgap.errors import ValidationError

#: Environment variable overriding the available memory (bytes, ``8G``, ``512M``, ``off``).
MEMORY_LIMIT_ENV = "REGRETGAP_MEMORY_LIMIT"

#: Steps needing less than this are not checked (reading ``/proc/meminfo`` costs ~20 us,
#: which matters for learners evaluating small games thousands of times).
SMALL_BYTES = 64 * 2**20

#: States per parallel work item of the kernel, padded (``regretgap._kernels.CHUNK + PAD``).
_CHUNK = 128 + 8
#: Column group width of the kernel (``regretgap._kernels.GROUP``).
_GROUP = 4
#: Bytes per constraint non-zero of one batch of stage LPs (COO build, CSR, HiGHS copy).
_LP_BYTES_PER_NNZ = 256
_INT32_MAX = 2**31 - 1


class MemoryEstimate(NamedTuple):
    """Estimated bytes of a game and the computations on it (formulas in :mod:`.memory`).

    Attributes:
        game: storage of the :class:`~regretgap.MarkovGame` (CSR ``T``, rewards, ``rho0``).
        policy: one time-dependent mediator policy ``sigma [H, S, A]`` float64.
        evaluator: working set of ``regret`` (``kind="ce"``) beyond the game and policy.
        markov_ce: working set of ``markov_ce`` beyond the game and its output policy.
        total: ``game + policy + max(evaluator, markov_ce)``.
    """

    def __repr__(self) -> str:
        return short_repr(self)

    game: int
    policy: int
    evaluator: int
    markov_ce: int
    total: int


def _index_bytes(num_states: int, num_joint: int, nnz: int) -> int:
    # scipy keeps int32 CSR indices while every index and nnz fit
    return 4 if max(nnz, num_states * num_joint + 1, num_states) <= _INT32_MAX else 8


def game_bytes(num_states: int, num_joint: int, num_agents: int, nnz: int) -> int:
    """Storage of a game: CSR ``T`` ``[S*A, S]``, rewards ``[m, S, A]``, ``rho0 [S]``."""
    idx = _index_bytes(num_states, num_joint, nnz)
    rows = num_states * num_joint
    return nnz * (8 + idx) + (rows + 1) * idx + 8 * num_agents * rows + 8 * num_states


def build_bytes(num_states: int, num_joint: int, num_agents: int, nnz: int) -> int:
    """Peak new bytes of building a game: its storage plus validation temporaries.

    Row sums, their deviations from 1 and a scratch row vector (``3 * 8 S A``), boolean
    masks over the transitions (``3 nnz``) and rewards (``m S A``).
    """
    rows = num_states * num_joint
    storage = game_bytes(num_states, num_joint, num_agents, nnz)
    return storage + 24 * rows + 3 * nnz + num_agents * rows


def _num_threads() -> int:
    try:
        import numba

        return int(numba.get_num_threads())
    except Exception:  # pragma: no cover - numba is a dependency
        return os.cpu_count() or 1


def evaluator_bytes(
    num_states: int,
    num_joint: int,
    horizon: int,
    nmax: int,
    num_columns: int,
    num_best: int,
    *,
    keep: bool = False,
) -> int:
    """Working set of one backward pass of the exact evaluator.

    Deviation tables ``4 H nb S nmax`` (int32), the column buffers ``x_next`` and ``x_out``
    ``2 * 8 S C`` (``C`` padded to groups of 4), ``8 (H+1) S C`` more when every step is
    kept (``value_functions``, ``recoverability``) and each thread's gathered
    continuations ``8 * 128 A C``.
    """
    cols = -(-num_columns // _GROUP) * _GROUP
    out = 4 * horizon * num_best * num_states * nmax + 16 * num_states * cols
    out += _num_threads() * 8 * _CHUNK * num_joint * cols
    if keep:
        out += 8 * (horizon + 1) * num_states * cols
    return out


def markov_ce_bytes(num_states: int, num_actions: tuple[int, ...], *, batch_size: int = 512) -> int:
    """Working set of ``markov_ce`` beyond the game and its output ``sigma [H, S, A]``."""
    m, num_joint = len(num_actions), prod(num_actions)
    rows = num_states * num_joint
    # CE constraint non-zeros of one stage: (n_i - 1) A per agent
    stage_nnz = sum((n - 1) * num_joint for n in num_actions) + num_joint
    batch = min(batch_size, num_states)
    return 3 * 8 * m * rows + 2 * 8 * rows + batch * stage_nnz * _LP_BYTES_PER_NNZ


def memory_estimate(num_states: int, num_actions: Any, horizon: int, nnz: int) -> MemoryEstimate:
    """Bytes a game and its exact evaluation and ``markov_ce`` solve will need.

    Args:
        num_states: ``S``.
        num_actions: per-agent action counts ``(n_0, ..., n_{m-1})``.
        horizon: ``H``.
        nnz: stored transitions (non-zeros of ``T [S*A, S]``; ``S A k`` with ``k``
            successors per state-joint-action pair).

    Returns:
        :class:`MemoryEstimate` (formulas in the :mod:`regretgap.memory` docstring). The
        estimate is within a factor 1.5 of the peak measured by
        ``tests/test_memory.py`` and ``benchmarks/large_game.py``.

    Raises:
        ValidationError: a size that is not a positive integer (``nnz >= S A``: every
            row of ``T`` is a distribution).
    """
    # Python ints from here on: byte counts of large games overflow int64
    num_states = check_count("num_states", num_states)
    horizon = check_count("horizon", horizon)
    nnz = check_count("nnz", nnz)
    try:
        acts = tuple(int(n) for n in num_actions)
    except TypeError as exc:
        raise ValidationError(
            f"num_actions must be a tuple of per-agent action counts, got {num_actions!r}"
        ) from exc
    if not acts or min(acts) < 1:
        raise ValidationError(f"num_actions must be positive integers, got {num_actions!r}")
    num_joint, m = prod(acts), len(acts)
    if nnz < num_states * num_joint:
        raise ValidationError(
            f"nnz = {nnz} is below S * A = {num_states * num_joint}: every row of T needs "
            f"at least one successor"
        )
    game = game_bytes(num_states, num_joint, m, nnz)
    policy = 8 * horizon * num_states * num_joint
    evaluator = max(
        2 * horizon * num_states * num_joint + 8 * horizon * num_states,
        evaluator_bytes(num_states, num_joint, horizon, max(acts), 2 * m, m),
    )
    solve = markov_ce_bytes(num_states, acts)
    return MemoryEstimate(
        game=game,
        policy=policy,
        evaluator=evaluator,
        markov_ce=solve,
        total=game + policy + max(evaluator, solve),
    )


# ---------------------------------------------------------------------------------------
# what is available, and the guard

_SUFFIX = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def _parse_limit(text: str) -> int | None:
    """Bytes of ``REGRETGAP_MEMORY_LIMIT`` (``None`` for ``off``)."""
    raw = text.strip().upper().removesuffix("B").removesuffix("I")
    if raw in ("OFF", "NONE", "0"):
        return None
    match = re.fullmatch(r"([0-9]*\.?[0-9]+(?:E[0-9]+)?)\s*([KMGT]?)", raw)
    if match is None:
        raise ValidationError(
            f"{MEMORY_LIMIT_ENV}={text!r}: expected bytes with an optional K/M/G/T suffix "
            f"(e.g. 8G) or 'off'"
        )
    return int(float(match.group(1)) * _SUFFIX[match.group(2)])


def available_memory() -> int | None:
    """Bytes available for new allocations: ``MemAvailable`` of ``/proc/meminfo`` (Linux),
    else free physical pages from ``os.sysconf``; ``None`` when neither is readable."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def memory_limit() -> tuple[int | None, str]:
    """``(bytes, where from)``: ``REGRETGAP_MEMORY_LIMIT`` if set, else :func:`available_memory`."""
    env = os.environ.get(MEMORY_LIMIT_ENV)
    if env is not None and env.strip():
        return _parse_limit(env), f"{MEMORY_LIMIT_ENV}={env.strip()}"
    return available_memory(), "MemAvailable"


def _fmt(n: int) -> str:
    if n >= 2**30:
        return f"{n / 2**30:.2f} GiB"
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 2**10:.1f} KiB"


def check_fits(needed: int, what: str) -> None:
    """Raise :class:`~regretgap.ValidationError` if ``needed`` bytes exceed the limit.

    The limit is ``REGRETGAP_MEMORY_LIMIT`` when set (``off`` disables the check), else the
    available memory; without the variable, steps under :data:`SMALL_BYTES` are not checked.
    """
    if needed < SMALL_BYTES and not os.environ.get(MEMORY_LIMIT_ENV, "").strip():
        return
    limit, source = memory_limit()
    if limit is not None and needed > limit:
        raise ValidationError(
            f"{what} needs an estimated {_fmt(needed)} ({needed} bytes) but only "
            f"{_fmt(limit)} ({limit} bytes) is available ({source}); see "
            f"regretgap.memory_estimate, or set {MEMORY_LIMIT_ENV}=off to skip this check"
        )
