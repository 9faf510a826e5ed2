"""A two-player zero-sum grid world with its Nash expert (the Nash papers' grid setting).

Two agents on a grid given as text rows: ``#`` a wall, ``G`` the goal, ``0`` and ``1`` the
agents' starting cells, ``.`` free. Each agent has five actions: stay, up, down, left,
right. Moves are resolved simultaneously:

- a move off the grid or into a wall stays put; agent 1 (the guard) cannot enter ``G``;
- a move into the cell the other agent occupies stays put (a swap is then blocked too);
- two moves into the same free cell both stay put.

When agent 0 (the runner) enters ``G`` it is paid ``+R`` and agent 1 ``-R``, once, and the
game moves to an absorbing end state (no further rewards), so agent 0's value is ``R``
times the probability of reaching ``G`` within the horizon. Letting the guard stand on
``G`` would make parking there a trivial pure answer; guarding the approaches instead
makes it a blocking game. Transitions do not depend on the step (the library's convention;
the game is not layered); the expert, a Nash equilibrium from Shapley's value iteration
(:func:`regretgap.zero_sum_nash`, subgame perfect: optimal from every state and step),
depends on it. Where the stage games have several equilibria the expert is the one scipy's
HiGHS returns (deterministic).

On the default layout the value is 0 (the guard blocks), the single-policy deviation
concentrability of the expert is infinite (a runner's deviation reaches states the expert
never visits, where the guard's blocking lives) and per-agent BC with unlimited
demonstrations keeps a Nash gap of about ``0.95 R`` at ``H = 6`` (measured; tested).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from regretgap._checks import check_count
from regretgap._repr import short_repr
from regretgap.errors import ValidationError
from regretgap.game import MarkovGame
from regretgap.policies import product_policy
from regretgap.zero_sum import zero_sum_nash

#: The actions' moves ``(d_row, d_col)``: stay, up, down, left, right.
MOVES = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))

#: The default layout: the guard in the centre reaches either approach to ``G`` before the
#: runner, so blocking holds the value at 0; the blocking is off the equilibrium path (the
#: expert's runner never tries), so behaviour cloning never sees it.
DEFAULT_LAYOUT = (
    "G..",
    ".1.",
    "..0",
)


class GridWorld(NamedTuple):
    """The zero-sum grid world and its Nash expert.

    Attributes:
        game: the :class:`~regretgap.MarkovGame` (``S = P + 1`` with ``P`` the placements
            ``(c_0, c_1)``, ``c_0 != G``, ``c_1 != G``, ``c_0 != c_1``, and the end state
            last; ``num_actions = (5, 5)``).
        expert: agent 0's and agent 1's Nash policies ``([H, S, 5], [H, S, 5])``.
        sigma_expert: their product ``[H, S, 25]``.
        value: agent 0's value of the game (``R`` times the probability the runner
            reaches ``G`` under the equilibrium).
        values: ``V[h, s]`` ``[H + 1, S]``, agent 0's equilibrium values.
        features: ``[S, 2 C + 1]``: one-hot of each agent's cell (``C`` free cells in
            row-major order) and an end-state flag.
        placements: ``[S, 2]`` the cells ``(c_0, c_1)`` of each state (``-1`` at the end).
        cells: ``[C, 2]`` the free cells' ``(row, col)``.
        goal: the index of ``G`` among the cells.
    """

    def __repr__(self) -> str:
        return short_repr(self)

    game: MarkovGame
    expert: tuple[np.ndarray, np.ndarray]
    sigma_expert: np.ndarray
    value: float
    values: np.ndarray
    features: np.ndarray
    placements: np.ndarray
    cells: np.ndarray
    goal: int


def _parse(layout: Sequence[str]) -> tuple[list[tuple[int, int]], int, int, int]:
    if isinstance(layout, str) or not isinstance(layout, Sequence) or not layout:
        raise ValidationError("layout must be a non-empty sequence of strings (grid rows)")
    rows = [str(r) for r in layout]
    if len({len(r) for r in rows}) != 1:
        raise ValidationError(f"layout rows must have equal lengths, got {[len(r) for r in rows]}")
    cells, marks = [], {}
    for y, row in enumerate(rows):
        for x, ch in enumerate(row):
            if ch not in ".#G01":
                raise ValidationError(
                    f"layout cell ({y}, {x}) is {ch!r}: use '.', '#', 'G', '0' or '1'"
                )
            if ch == "#":
                continue
            if ch in "G01":
                if ch in marks:
                    raise ValidationError(f"layout has more than one {ch!r}")
                marks[ch] = len(cells)
            cells.append((y, x))
    missing = [ch for ch in "G01" if ch not in marks]
    if missing:
        raise ValidationError(f"layout lacks {missing}: it needs one 'G', one '0' and one '1'")
    return cells, marks["G"], marks["0"], marks["1"]


def grid_world(
    layout: Sequence[str] = DEFAULT_LAYOUT, *, horizon: int = 6, reward: float = 1.0
) -> GridWorld:
    """The two-player zero-sum grid world and its Nash expert (Shapley's value iteration).

    Args:
        layout: grid rows of ``.``, ``#``, ``G``, ``0``, ``1`` (default
            :data:`DEFAULT_LAYOUT`).
        horizon: ``H``.
        reward: ``R > 0``, paid to agent 0 (and ``-R`` to agent 1) when it enters ``G``.

    Returns:
        :class:`GridWorld`.

    Raises:
        ValidationError: a malformed layout, horizon or reward.
    """
    cells, goal, start0, start1 = _parse(layout)
    check_count("horizon", horizon)
    if isinstance(reward, bool) or not np.isfinite(reward) or reward <= 0:
        raise ValidationError(f"reward must be a finite number > 0, got {reward!r}")
    index = {c: k for k, c in enumerate(cells)}
    num_cells = len(cells)
    placements = [
        (c0, c1)
        for c0 in range(num_cells)
        for c1 in range(num_cells)
        if c0 != c1 and c0 != goal and c1 != goal
    ]
    state = {p: k for k, p in enumerate(placements)}
    end = len(placements)
    num_states, n = end + 1, len(MOVES)

    def target(c: int, move: tuple[int, int], guard: bool) -> int:
        y, x = cells[c]
        nxt = index.get((y + move[0], x + move[1]), c)  # off the grid or a wall: stay
        return c if guard and nxt == goal else nxt

    t = np.zeros((num_states, n * n, num_states))
    r = np.zeros((2, num_states, n * n))
    t[end, :, end] = 1.0
    for s, (c0, c1) in enumerate(placements):
        for b0 in range(n):
            for b1 in range(n):
                a = b0 * n + b1
                t0, t1 = target(c0, MOVES[b0], False), target(c1, MOVES[b1], True)
                new0 = c0 if t0 == c1 else t0  # into the other's cell: blocked
                new1 = c1 if t1 == c0 else t1
                if new0 == new1:  # both into the same free cell: both stay
                    new0, new1 = c0, c1
                if new0 == goal:
                    t[s, a, end] = 1.0
                    r[0, s, a], r[1, s, a] = reward, -reward
                else:
                    t[s, a, state[(new0, new1)]] = 1.0
    if start0 == goal or start1 == goal:
        raise ValidationError("the agents must not start on 'G'")
    initial = np.zeros(num_states)
    initial[state[(start0, start1)]] = 1.0
    game = MarkovGame(t, r, initial, horizon=int(horizon), num_actions=(n, n))
    nash = zero_sum_nash(game)
    features = np.zeros((num_states, 2 * num_cells + 1))
    for s, (c0, c1) in enumerate(placements):
        features[s, c0] = features[s, num_cells + c1] = 1.0
    features[end, -1] = 1.0
    return GridWorld(
        game=game,
        expert=nash.policies,
        sigma_expert=product_policy(game, nash.policies),
        value=nash.value,
        values=nash.values,
        features=features,
        placements=np.array([*placements, (-1, -1)], dtype=np.int64),
        cells=np.array(cells, dtype=np.int64),
        goal=goal,
    )
