"""Built-in games: the paper's constructions, classic matrix games, random games, and the
Nash papers' zero-sum grid world and two-path game."""

from regretgap.games.compounding import cliff
from regretgap.games.corridor import CorridorGame, corridor_game
from regretgap.games.gridworld import GridWorld, grid_world
from regretgap.games.matrix import chicken, coordination, matrix_game, shapley
from regretgap.games.paper import (
    Construction,
    lemma_f1,
    lemma_f2,
    theorem_4_4,
    theorem_4_5,
    theorem_5_4,
    theorem_5_4_ce,
    theorem_5_8,
)
from regretgap.games.random import random_game
from regretgap.games.two_path import TwoPathGame, two_path_game

__all__ = [
    "Construction",
    "CorridorGame",
    "GridWorld",
    "TwoPathGame",
    "chicken",
    "cliff",
    "coordination",
    "corridor_game",
    "grid_world",
    "lemma_f1",
    "lemma_f2",
    "matrix_game",
    "random_game",
    "shapley",
    "theorem_4_4",
    "theorem_4_5",
    "theorem_5_4",
    "theorem_5_4_ce",
    "theorem_5_8",
    "two_path_game",
]
