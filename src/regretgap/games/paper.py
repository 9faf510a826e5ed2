"""The paper's worked examples, each with the numbers its proof derives.

The figures (2, 3, 4) are not in the text; each game is rebuilt from its proof:

- :func:`theorem_4_5` (Figure 2, proof E.3): two agents with 3 actions, a chain of layered
  states ``s_0``; upper ``s_{2h-1}`` and lower ``s_{2h}`` at step ``h >= 1``. ``s_0`` moves
  to ``s_1`` only on ``(a_2, a_1)``, otherwise to ``s_2``; ``s_1`` moves to ``s_3`` only on
  ``(a_2, a_1)``, otherwise to ``s_4``; afterwards each path continues on itself. Reward 1
  (both agents) at ``s_3, s_5, ..., s_{2H-3}``. This is the unique reading under which the
  proof's claims hold: the expert ``(a1 a1 | s_0), (a3 a3 | s_1)`` is a CE, and agent 1
  deviating ``a1 -> a2`` at ``s_0`` and ``s_1`` earns ``H - 2`` against the learner.
- :func:`theorem_5_4` (Figure 3, proof E.8, also Corollary 5.6): the same chain with reward
  only on ``s_3, ..., s_{2u'-3}`` (``u' = floor(u)``) so values lie in ``[0, u']``.
- :func:`theorem_5_8` (Figure 4, proofs E.12 and E.14 for Theorem 5.10): one agent with two
  actions; ``a_1`` at ``s_0`` enters the upper path, rewarded at ``s_1, ..., s_{2u'-3}``,
  ``a_2`` the unrewarded lower path.
- :func:`theorem_4_4`, :func:`lemma_f1`, :func:`lemma_f2`: the normal-form game of Figure 5.

Actions are 0-based in code: the paper's ``a_1, a_2, a_3`` are ``0, 1, 2``.
"""

from __future__ import annotations

from math import floor
from typing import NamedTuple

import numpy as np

from regretgap._repr import short_repr
from regretgap.errors import ValidationError
from regretgap.game import MarkovGame
from regretgap.games.matrix import matrix_game


class Construction(NamedTuple):
    """A game with policies and the numbers a proof derives for them.

    Attributes:
        game: the Markov game.
        expert: the expert mediator ``sigma_E``, ``[S, A]`` or ``[H, S, A]``.
        learner: the proof's learner ``sigma``.
        expected: the proof's numbers, e.g. ``regret_expert``, ``regret_learner``,
            ``regret_gap``, ``value_gap`` (keys documented per construction).
        policies: further named policies the proof or a test uses.
        source: where the numbers come from in the paper.
    """

    def __repr__(self) -> str:
        return short_repr(self)

    game: MarkovGame
    expert: np.ndarray
    learner: np.ndarray
    expected: dict[str, float]
    policies: dict[str, np.ndarray]
    source: str


def _upper(h: int) -> int:
    return 2 * h - 1


def _lower(h: int) -> int:
    return 2 * h


def _chain(
    horizon: int,
    num_actions: tuple[int, ...],
    branch_joint: int,
    entry_steps: int,
    rewarded: list[int],
) -> MarkovGame:
    """Layered chain: ``s_0`` plus upper/lower states at steps ``1..H-1``.

    At steps ``h < entry_steps`` the current state moves to the next upper state only on
    joint action ``branch_joint`` (from ``s_0`` or from the upper state), otherwise to the
    next lower state; later steps continue on their own path. ``rewarded`` states pay 1 to
    every agent, whatever the action.
    """
    num_states = 2 * horizon - 1
    num_joint = int(np.prod(num_actions))
    t = np.zeros((num_states, num_joint, num_states))
    for h in range(horizon - 1):
        nxt_up, nxt_low = _upper(h + 1), _lower(h + 1)
        here = [0] if h == 0 else [_upper(h), _lower(h)]
        for s in here:
            on_upper = s == 0 or s == _upper(h)
            if on_upper and h < entry_steps:
                t[s, :, nxt_low] = 1.0
                t[s, branch_joint, nxt_low] = 0.0
                t[s, branch_joint, nxt_up] = 1.0
            else:
                t[s, :, nxt_up if (s != 0 and s == _upper(h)) else nxt_low] = 1.0
    for s in [0] if horizon == 1 else [_upper(horizon - 1), _lower(horizon - 1)]:
        t[s, :, s] = 1.0  # last layer: absorbing (never used within the horizon)
    rewards = np.zeros((len(num_actions), num_states, num_joint))
    rewards[:, rewarded, :] = 1.0
    initial = np.zeros(num_states)
    initial[0] = 1.0
    return MarkovGame(t, rewards, initial, horizon, num_actions)


def _point(num_states: int, num_joint: int, default: int) -> np.ndarray:
    sigma = np.zeros((num_states, num_joint))
    sigma[:, default] = 1.0
    return sigma


def theorem_4_5(horizon: int) -> Construction:
    """Theorem 4.5 / Figure 2: value equivalence with regret gap ``H - 2`` (proof E.3).

    Expert ``sigma_E(a1 a1 | s_0) = sigma_E(a3 a3 | s_1) = 1``; learner identical except
    ``sigma(a1 a1 | s_1) = 1``. Both visit only ``s_0`` and the lower path, so their
    occupancies are equal, yet the learner's regret is ``H - 2``.

    ``expected``: ``regret_expert = 0``, ``regret_learner = H - 2``, ``regret_gap = H - 2``,
    ``value_gap = 0``, ``value = 0`` (every agent, both policies), and for the policy
    ``policies["uniform_at_s1"]`` (learner with a uniform recommendation at the unvisited
    ``s_1``, the default of a tabular learner without data there):
    ``regret_uniform_at_s1 = (H - 2) / 3`` (agent 1's deviation reaches ``s_3`` when agent 2
    is told ``a_1``, probability 1/3).
    """
    if horizon < 2:
        raise ValidationError(
            f"theorem_4_5 needs horizon >= 2 (s_1 lives at step 1), got {horizon}"
        )
    num_actions = (3, 3)
    a1a1, a2a1, a3a3 = 0, 3, 8  # ravel_multi_index((i, j), (3, 3)) = 3 i + j
    rewarded = [_upper(h) for h in range(2, horizon)]
    game = _chain(horizon, num_actions, a2a1, entry_steps=2, rewarded=rewarded)
    expert = _point(game.num_states, 9, a1a1)
    learner = expert.copy()
    expert[1] = 0.0
    expert[1, a3a3] = 1.0
    uniform = learner.copy()
    uniform[1] = 1.0 / 9
    return Construction(
        game=game,
        expert=expert,
        learner=learner,
        expected={
            "regret_expert": 0.0,
            "regret_learner": float(horizon - 2),
            "regret_gap": float(horizon - 2),
            "value_gap": 0.0,
            "value": 0.0,
            "regret_uniform_at_s1": (horizon - 2) / 3.0,
        },
        policies={"uniform_at_s1": uniform},
        source="Theorem 4.5, proof in Appendix E.3 (Figure 2)",
    )


def theorem_5_4(horizon: int, beta: float, epsilon: float, u: float) -> Construction:
    """Theorem 5.4 / Figure 3: J-BC's regret gap ``eps H (u'-2) / (2 beta)`` (proof E.8).

    ``sigma_E(a1a1|s_0) = 1 - 2 beta``, ``sigma_E(a2a1|s_0) = 2 beta``,
    ``sigma_E(a2a1|s_1) = sigma_E(a3a3|s_1) = 1/2``; the learner moves ``eps H / (2 beta)``
    of ``s_1``'s mass from ``a3a3`` to ``a1a1``. ``u' = floor(u)`` with ``2 <= u' <= H``.

    ``expected``: ``regret_expert = (1 - 2 beta)(u' - 2) / 2``,
    ``regret_learner = regret_expert + eps H (u'-2) / (2 beta)``, ``regret_gap``,
    ``value_gap = 0`` (the learner only moves ``s_1``'s mass between ``a1a1`` and ``a3a3``,
    which both lead to the unrewarded lower path), ``bc_error = eps`` (``E_{s ~ d_E} TV``
    with the average ``d``), ``irl_error = 2 eps`` (Corollary 5.6's moment gap
    ``sum |rho_E - rho|`` of the average occupancy), ``per_step_coverage =
    min(beta, 1 - 2 beta)``, ``value = beta (u'-2)``.
    """
    u_int = floor(u)
    if not 2 <= u_int <= horizon:
        raise ValidationError(f"theorem_5_4 needs 2 <= floor(u) <= H, got u={u}, H={horizon}")
    if not 0 < beta <= 0.5:
        raise ValidationError(f"theorem_5_4 needs 0 < beta <= 1/2, got {beta}")
    shift = epsilon * horizon / (2 * beta)
    if not 0 <= shift <= 0.5:
        raise ValidationError(
            f"theorem_5_4 needs 0 <= eps H / (2 beta) <= 1/2, got {shift} "
            f"(eps={epsilon}, H={horizon}, beta={beta})"
        )
    a1a1, a2a1, a3a3 = 0, 3, 8
    rewarded = [_upper(h) for h in range(2, u_int)]
    game = _chain(horizon, (3, 3), a2a1, entry_steps=2, rewarded=rewarded)
    expert = _point(game.num_states, 9, a1a1)
    expert[0] = 0.0
    expert[0, a1a1], expert[0, a2a1] = 1 - 2 * beta, 2 * beta
    expert[1] = 0.0
    expert[1, a2a1], expert[1, a3a3] = 0.5, 0.5
    learner = expert.copy()
    learner[1, a1a1], learner[1, a3a3] = shift, 0.5 - shift
    r_e = 0.5 * (1 - 2 * beta) * (u_int - 2)
    gap = shift * (u_int - 2)
    return Construction(
        game=game,
        expert=expert,
        learner=learner,
        expected={
            "regret_expert": r_e,
            "regret_learner": r_e + gap,
            "regret_gap": gap,
            "value_gap": 0.0,
            "value": beta * (u_int - 2),
            "bc_error": epsilon,
            "irl_error": 2 * epsilon,
            "per_step_coverage": min(beta, 1 - 2 * beta),
        },
        policies={},
        source="Theorem 5.4, proof in Appendix E.8 (Figure 3); Corollary 5.6 (E.10)",
    )


def theorem_5_4_ce(horizon: int, beta: float, u: float) -> Construction:
    """Theorem 5.4's game made a correlated equilibrium for its expert (regret exactly 0).

    In :func:`theorem_5_4` the expert is only a ``(1 - 2 beta)(u' - 2) / 2``-approximate CE:
    agent 0, told ``a1`` at ``s_0``, gains ``(u' - 2) / 2`` by playing ``a2`` (to ``s_1``,
    whose recommendations lead up half the time). Here agent 0 also earns that amount at
    ``s_0`` whenever it plays ``a1``, so it is indifferent there whatever it is told (agent
    1's incentives and ``s_1`` are unchanged): the expert's regret is 0, and a learner's
    regret gap is its own regret. Same transitions, coverage knob and expert; ``learner``
    is the expert (``epsilon = 0``); ``expected["regret_expert"] = 0``.
    """
    base = theorem_5_4(horizon, beta, 0.0, u)
    game = base.game
    rewards = game.rewards.copy()
    bonus = 0.5 * (floor(u) - 2)
    a1 = np.array([a for a in range(game.num_joint_actions) if game.agent_actions(a)[0] == 0])
    rewards[0, 0, a1] += bonus
    game = MarkovGame(
        game.transitions, rewards, game.initial, horizon=game.horizon, num_actions=game.num_actions
    )
    return Construction(
        game=game,
        expert=base.expert,
        learner=base.expert.copy(),
        expected={"regret_expert": 0.0, "bonus": bonus},
        policies={},
        source="Theorem 5.4's game (Appendix E.8) with agent 0 paid (u' - 2) / 2 for a1 at s_0",
    )


def theorem_5_8(horizon: int, beta: float, epsilon: float, u: float) -> Construction:
    """Theorems 5.8 and 5.10 / Figure 4: MALICE's and BLADES' gap ``eps H (u'-1)`` (E.12, E.14).

    One agent, two actions. ``sigma_E(a1|s_0) = 1 - beta``, ``sigma_E(a2|s_0) = beta``; the
    learner moves ``H eps`` of mass from ``a1`` to ``a2`` at ``s_0``. ``a1`` enters the upper
    path rewarded at ``s_1, ..., s_{2u'-3}``.

    ``expected``: ``regret_expert = beta (u'-1)``, ``regret_learner = (beta + eps H)(u'-1)``,
    ``regret_gap = value_gap = eps H (u'-1)`` (single agent: Theorem D.1),
    ``malice_loss = blades_loss = eps`` (TV at ``s_0`` times ``d(s_0) = 1/H``),
    ``per_step_coverage = min(beta, 1 - beta)``, ``recoverability = u' - 1``.
    """
    u_int = floor(u)
    if not 1 <= u_int <= horizon:
        raise ValidationError(f"theorem_5_8 needs 1 <= floor(u) <= H, got u={u}, H={horizon}")
    if not 0 < beta < 1 or not 0 <= beta + epsilon * horizon <= 1:
        raise ValidationError(
            f"theorem_5_8 needs 0 < beta < 1 and beta + eps H <= 1, got beta={beta}, "
            f"eps={epsilon}, H={horizon}"
        )
    rewarded = [_upper(h) for h in range(1, u_int)]
    game = _chain(horizon, (2,), 0, entry_steps=1, rewarded=rewarded)
    expert = np.tile([[1 - beta, beta]], (game.num_states, 1))
    learner = expert.copy()
    learner[0] = [1 - beta - epsilon * horizon, beta + epsilon * horizon]
    return Construction(
        game=game,
        expert=expert,
        learner=learner,
        expected={
            "regret_expert": beta * (u_int - 1),
            "regret_learner": (beta + epsilon * horizon) * (u_int - 1),
            "regret_gap": epsilon * horizon * (u_int - 1),
            "value_gap": epsilon * horizon * (u_int - 1),
            "malice_loss": epsilon,
            "blades_loss": epsilon,
            "per_step_coverage": min(beta, 1 - beta),
            "recoverability": float(u_int - 1),
        },
        policies={},
        source="Theorem 5.8 (E.12) and Theorem 5.10 (E.14), Figure 4",
    )


#: Figure 5's two reward tables: ``r`` (coordination with (2, 2) on a2a2) and ``r'``.
FIGURE_5_R = np.array([[[1.0, 0.0], [0.0, 2.0]], [[1.0, 0.0], [0.0, 2.0]]])
FIGURE_5_R_PRIME = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])


def theorem_4_4() -> Construction:
    """Theorem 4.4 (proof E.2, Figure 5 ``r``): regret equivalence without value equivalence.

    Both pure profiles are CEs. The expert plays ``(a2, a2)`` (value 2 each), the learner
    ``(a1, a1)`` (value 1 each): ``regret_gap = 0``, ``value_gap = 1``. (The proof leaves
    which CE is the expert's open; this order makes the value gap positive.)
    """
    game = matrix_game(FIGURE_5_R)
    return Construction(
        game=game,
        expert=np.array([[0.0, 0.0, 0.0, 1.0]]),
        learner=np.array([[1.0, 0.0, 0.0, 0.0]]),
        expected={"regret_expert": 0.0, "regret_learner": 0.0, "regret_gap": 0.0, "value_gap": 1.0},
        policies={},
        source="Theorem 4.4, proof in Appendix E.2 (Figure 5)",
    )


def lemma_f1(prime: bool = False) -> Construction:
    """Lemma F.1: ``sigma_E(a1 a1) = 1`` is a CE under both ``r`` and ``r'`` of Figure 5.

    ``prime`` selects ``r'``. ``expected``: ``regret_expert = 0``, ``value`` = 1 (each agent).
    """
    game = matrix_game(FIGURE_5_R_PRIME if prime else FIGURE_5_R)
    expert = np.array([[1.0, 0.0, 0.0, 0.0]])
    return Construction(
        game, expert, expert, {"regret_expert": 0.0, "value": 1.0}, {}, "Lemma F.1 (Figure 5)"
    )


def lemma_f2() -> Construction:
    """Lemma F.2: under Figure 5's ``r``, ``sigma_1 = (a1 a1)`` and the mixed Nash
    ``sigma_2 = (4/9, 2/9, 2/9, 1/9)`` are both CEs, with values 1 and 2/3.

    ``expert`` is ``sigma_1``, ``learner`` is ``sigma_2``. ``expected``: both regrets 0,
    ``value_expert = 1``, ``value_learner = 2/3``.
    """
    game = matrix_game(FIGURE_5_R)
    return Construction(
        game,
        np.array([[1.0, 0.0, 0.0, 0.0]]),
        np.array([[4 / 9, 2 / 9, 2 / 9, 1 / 9]]),
        {"regret_expert": 0.0, "regret_learner": 0.0, "value_expert": 1.0, "value_learner": 2 / 3},
        {},
        "Lemma F.2 (Figure 5)",
    )
