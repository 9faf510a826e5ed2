"""Built-in games: the paper's constructions, classic matrix games, random games."""

from regretgap.games.compounding import cliff
from regretgap.games.corridor import CorridorGame, corridor_game
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

__all__ = [
    "Construction",
    "CorridorGame",
    "chicken",
    "cliff",
    "coordination",
    "corridor_game",
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
]
