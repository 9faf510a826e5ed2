"""Mediator policies ``sigma[h, s, a]`` (paper section 3, "Learning to Coordinate").

A mediator policy is a plain array ``[H, S, A]`` of joint-recommendation distributions, or a
stationary ``[S, A]`` that is broadcast over steps (a read-only view, no copy). Every public
function of the library accepts either form and validates it with :func:`as_policy`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from regretgap.errors import ValidationError
from regretgap.game import PROB_ATOL, MarkovGame


def as_policy(
    game: MarkovGame, sigma: Any, *, name: str = "sigma", atol: float = PROB_ATOL
) -> np.ndarray:
    """Validate a mediator policy and return it as ``[H, S, A]`` float64.

    A stationary ``[S, A]`` policy is broadcast over the ``H`` steps as a read-only view.

    Args:
        atol: tolerance on each row's sum, ``|sum_a sigma(a|h,s) - 1| <= atol`` (default
            ``1e-8``). A float32 pipeline's rows are off by about ``1e-7``: pass
            ``atol=1e-6``, or renormalise once with :func:`normalize` (the evaluator then
            works with exact distributions).

    Raises:
        ValidationError: wrong shape, non-finite or negative entries, or a row ``(h, s)``
            that does not sum to 1 (the message names the step, state and sum found).
    """
    arr = np.asarray(sigma, dtype=np.float64)
    s, a, horizon = game.num_states, game.num_joint_actions, game.horizon
    if arr.shape not in ((horizon, s, a), (s, a)):
        raise ValidationError(
            f"{name} must have shape [H, S, A] = {(horizon, s, a)} or [S, A] = {(s, a)}, "
            f"got {arr.shape}"
        )
    stationary = arr.ndim == 2
    view = arr[None] if stationary else arr
    bad = ~np.isfinite(view) | (view < 0)
    if bad.any():
        h, st, ja = np.argwhere(bad)[0]
        where = f"[{st}, {ja}]" if stationary else f"[{h}, {st}, {ja}]"
        raise ValidationError(
            f"{name}{where} is {view[h, st, ja]}: probabilities must be finite and >= 0 "
            f"(state {st}, joint action {ja})"
        )
    sums = view.sum(axis=2)
    if not (isinstance(atol, (int, float)) and 0 <= atol < 1):
        raise ValidationError(f"atol must be a number in [0, 1), got {atol!r}")
    off = np.abs(sums - 1.0) > atol
    if off.any():
        h, st = np.argwhere(off)[0]
        where = f"state {st}" if stationary else f"step {h}, state {st}"
        raise ValidationError(
            f"{name} at {where} sums to {float(sums[h, st]):.12g}, not 1 (atol {atol:g}): "
            f"rows must be distributions over the {a} joint actions ({int(off.sum())} such "
            f"rows; regretgap.normalize renormalises rounding errors)"
        )
    if stationary:
        return np.broadcast_to(arr, (horizon, s, a))
    return arr


def normalize(sigma: Any, *, atol: float = 1e-4) -> np.ndarray:
    """Renormalise a policy's rows to sum to 1 exactly: ``sigma(a|s) / sum_b sigma(b|s)``.

    For policies whose rows are off by rounding (a float32 pipeline: about ``1e-7``). A row
    whose sum is off by more than ``atol`` is a bug, not rounding, and is refused.

    Args:
        sigma: ``[..., A]`` (``[H, S, A]`` or ``[S, A]``), finite and non-negative.
        atol: the largest ``|row sum - 1|`` accepted.

    Returns:
        A float64 copy of ``sigma`` whose rows sum to 1.

    Raises:
        ValidationError: a negative or non-finite entry, or a row sum off by more than
            ``atol`` (the message names the row and its sum).
    """
    arr = np.array(sigma, dtype=np.float64)
    if arr.ndim < 1 or arr.shape[-1] == 0:
        raise ValidationError(f"sigma must have shape [..., A] with A >= 1, got {arr.shape}")
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        where = [int(k) for k in np.argwhere(bad)[0]]
        raise ValidationError(
            f"sigma{where} is {arr[tuple(where)]}: probabilities must be finite and >= 0"
        )
    sums = arr.sum(axis=-1, keepdims=True)
    off = np.abs(sums[..., 0] - 1.0) > atol
    if off.any():
        where = [int(k) for k in np.argwhere(off)[0]]
        raise ValidationError(
            f"sigma row {where} sums to {float(sums[tuple(where)][0]):.12g}: off by more than "
            f"atol {atol:g}, which is not rounding ({int(off.sum())} such rows)"
        )
    return arr / sums


def uniform_policy(game: MarkovGame) -> np.ndarray:
    """The uniform mediator ``sigma(a | s) = 1 / A``, stationary ``[S, A]``."""
    return np.full((game.num_states, game.num_joint_actions), 1.0 / game.num_joint_actions)


def deterministic_policy(game: MarkovGame, joint_actions: Any) -> np.ndarray:
    """A deterministic mediator recommending ``joint_actions`` (``[S]`` or ``[H, S]`` ints).

    Returns ``[S, A]`` (stationary) or ``[H, S, A]`` one-hot rows.
    """
    acts = np.asarray(joint_actions)
    if acts.shape not in ((game.num_states,), (game.horizon, game.num_states)):
        raise ValidationError(f"joint_actions must have shape [S] or [H, S], got {acts.shape}")
    if not np.issubdtype(acts.dtype, np.integer):
        raise ValidationError(f"joint_actions must be integers, got dtype {acts.dtype}")
    if acts.size and (acts.min() < 0 or acts.max() >= game.num_joint_actions):
        raise ValidationError(
            f"joint_actions must lie in 0..{game.num_joint_actions - 1}, got "
            f"{acts.min()}..{acts.max()}"
        )
    out = np.zeros((*acts.shape, game.num_joint_actions))
    np.put_along_axis(out, acts[..., None], 1.0, axis=-1)
    return out


def product_policy(game: MarkovGame, per_agent: Any) -> np.ndarray:
    """Joint policy of independent agents: ``sigma(a | s) = prod_i pi_i(a_i | s)``.

    Args:
        per_agent: ``m`` arrays, each ``[S, n_i]`` or ``[H, S, n_i]`` (all of one form).

    Returns:
        ``[S, A]`` or ``[H, S, A]``.
    """
    parts = [np.asarray(p, dtype=np.float64) for p in per_agent]
    if len(parts) != game.num_agents:
        raise ValidationError(f"expected {game.num_agents} per-agent policies, got {len(parts)}")
    lead = parts[0].shape[:-1]
    leads = ((game.num_states,), (game.horizon, game.num_states))
    out = np.ones((*lead, 1))
    for i, (p, n) in enumerate(zip(parts, game.num_actions, strict=True)):
        if p.shape != (*lead, n) or lead not in leads:
            raise ValidationError(
                f"per-agent policy {i} has shape {p.shape}, expected {(*lead, n)} with "
                f"leading axes [S] or [H, S]"
            )
        # appending agent i's axis as the fastest keeps agent 0 slowest (docs/MATH.md)
        out = (out[..., :, None] * p[..., None, :]).reshape(*lead, -1)
    return out


def marginal(game: MarkovGame, sigma: Any, agent: int) -> np.ndarray:
    """Agent ``i``'s marginal recommendation distribution ``[H, S, n_i]``."""
    pol = as_policy(game, sigma)
    _check_agent(game, agent)
    shaped = pol.reshape(game.horizon, game.num_states, *game.num_actions)
    axes = tuple(2 + j for j in range(game.num_agents) if j != agent)
    return shaped.sum(axis=axes)


def _check_agent(game: MarkovGame, agent: Any) -> int:
    if isinstance(agent, bool) or not isinstance(agent, (int, np.integer)):
        raise ValidationError(f"agent must be an integer, got {agent!r}")
    if not 0 <= agent < game.num_agents:
        raise ValidationError(f"agent {agent} is outside 0..{game.num_agents - 1}")
    return int(agent)
