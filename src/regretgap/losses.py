"""Imitation losses of a learned mediator against the expert, computed exactly.

The quantities the paper's bounds are stated in, all with ``ell = TV``:

- ``bc``: ``E_{s ~ d^{pi_E}}[TV(sigma_E(s), sigma(s))]``, J-BC's error (Theorems 4.9, 5.3);
- ``on_policy``: ``E_{s ~ d^{pi_sigma}}[TV]``, what DAgger and ALICE minimise;
- ``deviation``: ``max_i max_phi E_{s ~ d^{pi_{sigma, phi_i}}}[TV]``, eq. (7) (and eq. (6)
  under coverage, where the importance weights cancel against ``d^{pi_E}``): MALICE's and
  BLADES' loss (Theorems 5.7, 5.9);
- ``moment``: ``sum_{s,a} |rho^{pi_E}(s,a) - rho^{pi_sigma}(s,a)|``, J-IRL's moment-matching
  error over the complete reward class (eq. 11; Theorems 4.10, 5.5).

Distributions are averaged over steps (``d = (1/H) sum_h d_h``) with time-indexed states
``(h, s)``, so a time-dependent policy is compared step by step. The inner ``max_phi`` is a
best response to the state-only reward ``f_i(h, s, a) = TV_h(s)`` (``MATH.md``). These read
policies and transitions only, never rewards: learners use them too.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from regretgap._repr import short_repr
from regretgap.evaluation import best_responses, occupancy, state_distribution
from regretgap.game import MarkovGame
from regretgap.policies import as_policy


class ImitationLosses(NamedTuple):
    """A learner's losses against the expert (TV, step-averaged; see the module docstring).

    Attributes:
        bc: ``E_{d^{pi_E}}[TV]`` (Theorem 5.3's ``eps``).
        on_policy: ``E_{d^{pi_sigma}}[TV]``.
        deviation: ``l = max_i max_phi E_{d^{pi_{sigma,phi_i}}}[TV]`` (eq. 7; Theorems 5.7, 5.9).
        agent: the agent whose deviation attains ``deviation``.
        moment: ``sum |rho_E - rho_sigma|`` of the step-averaged occupancies (eq. 11).
    """

    def __repr__(self) -> str:
        return short_repr(self)

    bc: float
    on_policy: float
    deviation: float
    agent: int
    moment: float


def tv(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Total variation ``(1/2) sum_a |p(a) - q(a)|`` along the last axis."""
    return 0.5 * np.abs(p - q).sum(axis=-1)


def disagreement_reward(game: MarkovGame, ell: np.ndarray) -> np.ndarray:
    """The state-only reward ``f_i(h, s, a) = ell_h(s)`` for every agent, ``[H, m, S, A]``.

    ``ell`` is ``[H, S]``. The best response to it is the deviation that maximises the
    summed loss along the deviated roll-in (``MATH.md``, "Learning objectives").
    """
    return np.broadcast_to(
        ell[:, None, :, None],
        (game.horizon, game.num_agents, game.num_states, game.num_joint_actions),
    )


def deviation_losses(
    game: MarkovGame, sigma: Any, ell: np.ndarray, kind: Any = "ce"
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Every agent's loss-maximising deviation in one backward pass.

    Returns ``(values [m], deviations)`` with ``values[i] = max_phi sum_h
    E_{d_h^{pi_{sigma, phi}}}[ell_h]`` (summed over steps: divide by ``H`` for the average)
    and the maximising tables ``[H, S, n_i]``.
    """
    brs = best_responses(game, sigma, reward=disagreement_reward(game, ell), kind=kind)
    return brs.value, brs.deviations


def imitation_losses(
    game: MarkovGame, sigma_expert: Any, sigma: Any, *, kind: Any = "ce"
) -> ImitationLosses:
    """Exact TV losses of ``sigma`` ``[H, S, A]`` against ``sigma_expert`` (module docstring).

    Args:
        game: transitions only are read.
        sigma_expert: the expert's mediator policy ``[H, S, A]`` or ``[S, A]``.
        sigma: the learner's mediator policy, same forms.
        kind: the deviation class of ``deviation`` (as in :func:`regretgap.regret`).

    Returns:
        :class:`ImitationLosses`.
    """
    expert = as_policy(game, sigma_expert, name="sigma_expert")
    pol = as_policy(game, sigma)
    horizon = game.horizon
    ell = tv(expert, pol)  # [H, S]
    bc = float((state_distribution(game, expert) * ell).sum() / horizon)
    on = float((state_distribution(game, pol) * ell).sum() / horizon)
    dev, _ = deviation_losses(game, pol, ell, kind)
    i = int(np.argmax(dev))
    moment = float(np.abs(occupancy(game, expert) - occupancy(game, pol)).sum() / horizon)
    return ImitationLosses(
        bc=bc, on_policy=on, deviation=float(dev[i]) / horizon, agent=i, moment=moment
    )
