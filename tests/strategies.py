"""Shared hypothesis strategies: small random games and mediator policies."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import regretgap as rg


def dense_random_game(rng, num_actions, num_states, horizon, sparsity=0.5):
    """Dense random game with some zero transitions (each row keeps >= 1 successor)."""
    a_count = int(np.prod(num_actions))
    t = rng.random((num_states, a_count, num_states))
    t[rng.random(t.shape) < sparsity] = 0.0
    keep = rng.integers(0, num_states, size=(num_states, a_count))
    t[np.arange(num_states)[:, None], np.arange(a_count)[None, :], keep] += 0.5
    t /= t.sum(axis=2, keepdims=True)
    r = rng.uniform(-1, 1, size=(len(num_actions), num_states, a_count))
    rho = rng.dirichlet(np.ones(num_states))
    return rg.MarkovGame(t, r, rho, horizon, tuple(num_actions))


def random_policy(rng, game, stationary=False, zeros=0.3):
    """Random mediator with some zero recommendations (each row keeps >= 1)."""
    shape = ((game.num_states,) if stationary else (game.horizon, game.num_states)) + (
        game.num_joint_actions,
    )
    x = rng.random(shape)
    x[rng.random(shape) < zeros] = 0.0
    idx = rng.integers(0, game.num_joint_actions, size=shape[:-1])
    np.put_along_axis(x, idx[..., None], 1.0, axis=-1)
    return x / x.sum(axis=-1, keepdims=True)


@st.composite
def games(draw, max_agents=3, max_joint=12, max_states=4, max_horizon=4):
    """A small random game (dense construction, sparse storage) with its seed."""
    m = draw(st.integers(1, max_agents))
    sizes = []
    for _ in range(m):
        budget = max_joint // int(np.prod(sizes)) if sizes else max_joint
        sizes.append(draw(st.integers(1, max(1, min(3, budget)))))
    s = draw(st.integers(1, max_states))
    h = draw(st.integers(1, max_horizon))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    return dense_random_game(rng, tuple(sizes), s, h), rng


@st.composite
def games_and_policies(draw, **kwargs):
    game, rng = draw(games(**kwargs))
    stationary = draw(st.booleans())
    return game, random_policy(rng, game, stationary=stationary), rng
