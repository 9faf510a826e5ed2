"""Independent dense reference computations for differential tests.

Plain loops over states and joint actions on dense arrays; no code shared with the
library's kernels, deviation helpers or sparse storage.
"""

from __future__ import annotations

import itertools

import numpy as np


def dense(game):
    """``(T [S, A, S], R [m, S, A], rho0 [S], H, num_actions)`` of a game."""
    return (
        game.transition_tensor(),
        np.array(game.rewards),
        np.array(game.initial),
        game.horizon,
        game.num_actions,
    )


def full_policy(game, sigma):
    sigma = np.asarray(sigma, dtype=float)
    return np.broadcast_to(sigma, (game.horizon, *sigma.shape[-2:])) if sigma.ndim == 2 else sigma


def played_policy(game, sigma, agent, phi):
    """``pi_{sigma, phi}`` by explicit loops over joint actions."""
    pol = full_policy(game, sigma)
    phi = np.broadcast_to(np.asarray(phi), (game.horizon, game.num_states, game.num_actions[agent]))
    out = np.zeros_like(pol)
    for h in range(game.horizon):
        for s in range(game.num_states):
            for a in range(game.num_joint_actions):
                parts = list(np.unravel_index(a, game.num_actions))
                parts[agent] = phi[h, s, parts[agent]]
                out[h, s, np.ravel_multi_index(parts, game.num_actions)] += pol[h, s, a]
    return out


def values(game, sigma, reward=None):
    """``J_i`` by the forward recursion on dense arrays."""
    t, r, rho, horizon, _ = dense(game)
    if reward is not None:
        r = np.asarray(reward)
    pol = full_policy(game, sigma)
    d = rho.copy()
    total = np.zeros(r.shape[-3])
    for h in range(horizon):
        occ = d[:, None] * pol[h]
        total += np.einsum("sa,isa->i", occ, r[h] if r.ndim == 4 else r)
        d = np.einsum("sa,sat->t", occ, t)
    return total


def all_per_step_deviations(game, agent):
    """Every deterministic per-step deviation table ``[H, S, n_i]`` (tiny games only)."""
    n = game.num_actions[agent]
    cells = game.horizon * game.num_states * n
    for flat in itertools.product(range(n), repeat=cells):
        yield np.array(flat).reshape(game.horizon, game.num_states, n)


def all_stationary_deviations(game, agent):
    n = game.num_actions[agent]
    for flat in itertools.product(range(n), repeat=game.num_states * n):
        yield np.array(flat).reshape(game.num_states, n)


def brute_force_best_value(game, sigma, agent, deviations=None, reward=None):
    """``max_phi J_i(pi_{sigma, phi})`` by enumeration."""
    deviations = all_per_step_deviations(game, agent) if deviations is None else deviations
    return max(
        values(game, played_policy(game, sigma, agent, phi), reward)[agent] for phi in deviations
    )


def advantages(game, pol, agent):
    """``|Q_{i,h}(s, a) - V_{i,h}(s)|`` of a (played) joint policy, ``[H, S, A]``."""
    t, r, _, horizon, _ = dense(game)
    v = np.zeros(game.num_states)
    out = np.zeros((horizon, game.num_states, game.num_joint_actions))
    for h in range(horizon - 1, -1, -1):
        q = r[agent] + t @ v
        v_h = (pol[h] * q).sum(axis=1)
        out[h] = np.abs(q - v_h[:, None])
        v = v_h
    return out
