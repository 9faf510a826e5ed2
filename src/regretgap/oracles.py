"""MAIL-BRO's best-response oracle (Freihaut et al., NeurIPS 2025): an evaluation-side reader.

The oracle answers "agent ``j``'s best response to the others' current policies" from the
agents' utilities, which a learner may not read. :func:`regretgap.mail_bro` takes it as an
argument the caller builds from the game, so the learner module imports nothing that holds
rewards; this module does (through :func:`regretgap.evaluation.best_response`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from regretgap.errors import ValidationError
from regretgap.evaluation import best_response
from regretgap.game import MarkovGame
from regretgap.policies import product_policy


class BestResponseOracle:
    """Agent ``j``'s best response to the product of the others' policies, exactly.

    ``oracle(policies, j)`` returns ``argmax_{pi_j'} J_j(pi_j', pi_-j)``: a deterministic
    Markov policy, as a deviation table ``phi[h, s, a_j] = b(h, s)`` ``[H, S, n_j]`` ints
    (constant in the recommendation ``a_j``: the ``"cce"`` class of
    :func:`regretgap.best_response`, which on a product mediator is the best response over
    all of ``j``'s policies; the identity table, "obey ``pi_j``", when no deviation gains).
    ``J_j`` is agent ``j``'s own value, so in a zero-sum game the
    minimising player (``r_1 = -r_0``) minimises ``J_0``: no sign to flip by hand.

    Attributes:
        calls: oracle queries answered so far.
        gains: each answer's ``J_j(pi_j', pi_-j) - J_j(pi)`` (for tests and reports; the
            learner never sees them).
    """

    def __init__(self, game: MarkovGame) -> None:
        if not isinstance(game, MarkovGame):
            raise ValidationError(f"game must be a MarkovGame, got {type(game).__name__}")
        self._game = game
        self.calls = 0
        self.gains: list[float] = []

    def __call__(self, policies: Any, agent: int) -> np.ndarray:
        """Agent ``agent``'s best-response table ``[H, S, n_j]`` to ``policies`` (``m`` tables
        ``[H, S, n_i]`` or ``[S, n_i]``)."""
        sigma = product_policy(self._game, policies)
        br = best_response(self._game, sigma, agent, kind="cce")
        self.calls += 1
        self.gains.append(br.gain)
        return br.deviation


def best_response_oracle(game: MarkovGame) -> BestResponseOracle:
    """MAIL-BRO's oracle for ``game`` (see :class:`BestResponseOracle`)."""
    return BestResponseOracle(game)
