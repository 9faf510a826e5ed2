"""Seeded random games and perturbed policies for the checks that hold on every game."""

from __future__ import annotations

import numpy as np

import regretgap as rg
from regretgap.games import random_game


def perturb(
    game: rg.MarkovGame, sigma: np.ndarray, weight: float, rng: np.random.Generator
) -> np.ndarray:
    """``(1 - w) sigma + w nu``, ``nu_h(.|s) ~ Dirichlet(1)`` drawn from ``rng``, ``[H, S, A]``."""
    pol = rg.as_policy(game, sigma)
    noise = rng.dirichlet(np.ones(game.num_joint_actions), size=pol.shape[:2])
    return (1 - weight) * pol + weight * noise


def random_markov_game(rng: np.random.Generator) -> tuple[rg.MarkovGame, np.ndarray]:
    """A seeded random 2-agent game (``S = 8``, actions ``(2, 3)``, ``H = 5``) and its
    welfare-maximising subgame-perfect CE (:func:`regretgap.markov_ce`), ``[H, S, A]``."""
    game = random_game(8, (2, 3), 5, rng=rng, branching=3)
    return game, rg.markov_ce(game)
