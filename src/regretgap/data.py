"""Trajectories of a mediated Markov game, and Monte Carlo estimates of exact quantities.

A trajectory keeps, at every step, the state, the joint action the mediator recommended,
the joint action actually played (they differ when an agent deviates) and every agent's
reward. Sampling under a deviation ``phi_i`` draws from ``pi_{sigma, phi_i}`` (paper
section 3) while recording the recommendations that produced it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from regretgap import _kernels
from regretgap._checks import check_count, check_fraction, check_rng
from regretgap._repr import short_repr
from regretgap.deviations import agent_axes, as_deviation
from regretgap.errors import ValidationError
from regretgap.game import MarkovGame
from regretgap.policies import _check_agent, as_policy


@dataclass(frozen=True)
class Trajectories:
    """``n`` trajectories of horizon ``H``.

    Attributes:
        states: ``s_h``, ``[n, H]`` ints.
        recommended: the mediator's joint recommendation ``a_h``, ``[n, H]`` ints.
        played: the joint action played, ``[n, H]`` ints (equals ``recommended`` unless an
            agent deviated).
        rewards: ``r_i(s_h, played_h)``, ``[n, H, m]``.
        deviator: the agent that followed a deviation in each trajectory, ``[n]`` ints,
            ``-1`` when everyone obeyed.
    """

    states: np.ndarray
    recommended: np.ndarray
    played: np.ndarray
    rewards: np.ndarray
    deviator: np.ndarray

    def __repr__(self) -> str:
        return short_repr(self)

    def __post_init__(self) -> None:
        n, horizon = np.shape(self.states)
        for name in ("recommended", "played"):
            if np.shape(getattr(self, name)) != (n, horizon):
                raise ValidationError(
                    f"{name} must have shape {(n, horizon)}, got {np.shape(getattr(self, name))}"
                )
        if np.ndim(self.rewards) != 3 or np.shape(self.rewards)[:2] != (n, horizon):
            raise ValidationError(
                f"rewards must have shape [n, H, m] with n={n}, H={horizon}, got "
                f"{np.shape(self.rewards)}"
            )
        if np.shape(self.deviator) != (n,):
            raise ValidationError(f"deviator must have shape ({n},), got {np.shape(self.deviator)}")

    def __len__(self) -> int:
        return int(self.states.shape[0])

    @property
    def returns(self) -> np.ndarray:
        """Per-trajectory, per-agent returns ``sum_h r_i``, ``[n, m]``."""
        return self.rewards.sum(axis=1)


def _inverse_cdf(p: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Row-wise draw from the distributions ``p [n, K]`` with uniforms ``u [n]`` in [0, 1).

    Uses ``x = (1 - u) * total`` in ``(0, total]`` and the first index whose cumulative sum
    reaches ``x``: an action of probability 0 can never be drawn, even at round-off.
    """
    cum = np.cumsum(p, axis=1)
    x = (1.0 - u) * cum[:, -1]
    return np.minimum((cum < x[:, None]).sum(axis=1), p.shape[1] - 1)


def rollout(
    game: MarkovGame,
    sigma: Any,
    n: int,
    *,
    rng: np.random.Generator,
    agent: int | None = None,
    deviation: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reward-free sampling: ``(states, recommended, played)``, each ``[n, H]`` ints.

    What a learner may simulate: it touches the transitions, never the rewards. Arguments as
    in :func:`sample_trajectories`.
    """
    pol = as_policy(game, sigma)
    n = check_count("n", n)
    check_rng(rng)
    if (agent is None) != (deviation is None):
        raise ValidationError("give both agent and deviation, or neither")
    phi = None
    if agent is not None:
        agent = _check_agent(game, agent)
        phi = as_deviation(game, agent, deviation)
        idx = agent_axes(game, agent)
        own = np.empty(game.num_joint_actions, dtype=np.int64)
        rest = np.empty(game.num_joint_actions, dtype=np.int64)
        ai, r = np.unravel_index(np.arange(idx.size), idx.shape)
        own[idx.ravel()], rest[idx.ravel()] = ai, r
    t = game.transitions
    horizon, a_count = game.horizon, game.num_joint_actions
    states = np.empty((n, horizon), dtype=np.int64)
    rec = np.empty((n, horizon), dtype=np.int64)
    played = np.empty((n, horizon), dtype=np.int64)
    s = _inverse_cdf(np.broadcast_to(game.initial, (n, game.num_states)), rng.random(n))
    for h in range(horizon):
        states[:, h] = s
        rec[:, h] = _inverse_cdf(pol[h, s], rng.random(n))
        played[:, h] = rec[:, h]
        if phi is not None:
            b = phi[h, s, own[rec[:, h]]]
            played[:, h] = idx[b, rest[rec[:, h]]]
        if h < horizon - 1:
            rows = s * a_count + played[:, h]
            s = _kernels.sample_successors(t.indptr, t.indices, t.data, rows, rng.random(n))
    return states, rec, played


def sample_trajectories(
    game: MarkovGame,
    sigma: Any,
    n: int,
    *,
    rng: np.random.Generator,
    agent: int | None = None,
    deviation: Any = None,
) -> Trajectories:
    """Sample ``n`` trajectories of the mediated game.

    Args:
        sigma: mediator policy ``[H, S, A]`` or ``[S, A]``.
        n: number of trajectories (>= 1).
        rng: the only source of randomness.
        agent: the deviating agent (give ``deviation`` with it), or None.
        deviation: when given, ``agent`` plays ``deviation[h, s, a_i]`` instead of its
            recommendation ``a_i`` (a table ``[H, S, n_i]``, ``[S, n_i]`` or ``[n_i]``).

    Returns:
        :class:`Trajectories` with recommended and played joint actions and the rewards
        (learners use :func:`rollout`, which never reads rewards).
    """
    states, rec, played = rollout(game, sigma, n, rng=rng, agent=agent, deviation=deviation)
    rewards = np.moveaxis(game.rewards[:, states, played], 0, -1)
    deviator = np.full(n, -1 if agent is None else agent, dtype=np.int64)
    return Trajectories(states, rec, played, rewards, deviator)


@dataclass(frozen=True)
class MonteCarloEstimate:
    """Sample mean of per-agent returns with its uncertainty.

    Attributes:
        mean: ``[m]`` estimated ``J_i``.
        stderr: ``[m]`` standard errors.
        n: number of trajectories.
        low, high: ``[m]`` bounds of one trajectory's return (``H min r_i``, ``H max r_i``),
            used by the Hoeffding interval.
    """

    mean: np.ndarray
    stderr: np.ndarray
    n: int
    low: np.ndarray
    high: np.ndarray

    def __repr__(self) -> str:
        return short_repr(self)

    def hoeffding_halfwidth(self, delta: float) -> np.ndarray:
        """Half-width ``t`` with ``P(|mean_i - J_i| >= t) <= delta`` for each agent (Hoeffding)."""
        delta = check_fraction("delta", delta)
        return (self.high - self.low) * np.sqrt(np.log(2.0 / delta) / (2.0 * self.n))


def monte_carlo_values(
    game: MarkovGame,
    sigma: Any,
    n: int,
    *,
    rng: np.random.Generator,
    agent: int | None = None,
    deviation: Any = None,
) -> MonteCarloEstimate:
    """Monte Carlo estimate of ``J_i(pi_sigma)`` (or ``J_i(pi_{sigma, phi})`` under a deviation).

    Returns:
        :class:`MonteCarloEstimate`; compare with :func:`regretgap.values` through
        :meth:`MonteCarloEstimate.hoeffding_halfwidth`.
    """
    traj = sample_trajectories(game, sigma, n, rng=rng, agent=agent, deviation=deviation)
    ret = traj.returns
    per_step = game.rewards.reshape(game.num_agents, -1)
    return MonteCarloEstimate(
        mean=ret.mean(axis=0),
        stderr=ret.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.full(game.num_agents, np.inf),
        n=n,
        low=game.horizon * per_step.min(axis=1),
        high=game.horizon * per_step.max(axis=1),
    )


@dataclass(frozen=True)
class Demonstrations:
    """What a learner may see of an expert's play: states and joint recommendations.

    No rewards: the mediator does not know the agents' utilities. Built from
    :class:`Trajectories` by :func:`as_demonstrations`.

    Attributes:
        states: ``[n, H]`` ints.
        actions: the expert's joint recommendations, ``[n, H]`` ints.
    """

    states: np.ndarray
    actions: np.ndarray

    def __repr__(self) -> str:
        return short_repr(self)

    def __post_init__(self) -> None:
        if np.ndim(self.states) != 2 or np.shape(self.states) != np.shape(self.actions):
            raise ValidationError(
                f"states and actions must both be [n, H], got {np.shape(self.states)} and "
                f"{np.shape(self.actions)}"
            )

    def __len__(self) -> int:
        return int(self.states.shape[0])

    def split(
        self, fraction: float, rng: np.random.Generator
    ) -> tuple[Demonstrations, Demonstrations]:
        """Random ``(train, held_out)`` split with ``fraction`` of the trajectories held out."""
        fraction = check_fraction("fraction", fraction)
        n = len(self)
        k = round(fraction * n)
        if k < 1 or k >= n:
            raise ValidationError(f"cannot hold out {fraction} of {n} trajectories")
        perm = rng.permutation(n)
        held, train = perm[:k], perm[k:]
        return (
            Demonstrations(self.states[train], self.actions[train]),
            Demonstrations(self.states[held], self.actions[held]),
        )

    def counts(self, game: MarkovGame) -> np.ndarray:
        """Visit counts ``N[h, s, a]``, ``[H, S, A]`` (the sufficient statistic of BC)."""
        horizon = self.states.shape[1]
        if horizon != game.horizon:
            raise ValidationError(
                f"demonstrations have horizon {horizon}, the game has {game.horizon}"
            )
        if self.states.size and (self.states.min() < 0 or self.states.max() >= game.num_states):
            raise ValidationError(
                f"demonstration states outside 0..{game.num_states - 1}: found "
                f"{int(self.states.min())}..{int(self.states.max())}"
            )
        if self.actions.size and (
            self.actions.min() < 0 or self.actions.max() >= game.num_joint_actions
        ):
            raise ValidationError(
                f"demonstration actions outside 0..{game.num_joint_actions - 1}: found "
                f"{int(self.actions.min())}..{int(self.actions.max())}"
            )
        out = np.zeros((horizon, game.num_states, game.num_joint_actions))
        h = np.broadcast_to(np.arange(horizon), self.states.shape)
        np.add.at(out, (h.ravel(), self.states.ravel(), self.actions.ravel()), 1.0)
        return out


def as_demonstrations(data: Trajectories | Demonstrations) -> Demonstrations:
    """Drop everything a learner must not see (rewards, deviations) from trajectories.

    Expert demonstrations are obedient play, so the played joint action is the recommended
    one; trajectories sampled under a deviation are refused.
    """
    if isinstance(data, Demonstrations):
        return data
    if not isinstance(data, Trajectories):
        raise ValidationError(
            f"demonstrations must be Trajectories or Demonstrations, got {type(data).__name__}"
        )
    if np.any(data.deviator >= 0):
        raise ValidationError("demonstrations must come from obedient play (deviator -1)")
    return Demonstrations(np.asarray(data.states), np.asarray(data.recommended))


ANSWERS = ("distribution", "sampled")


class QueryableExpert:
    """An expert mediator that answers queries (paper section 5.2, BLADES; DAgger).

    ``expert.query(h, s)`` answers at steps ``h`` and states ``s`` (arrays of ``k`` pairs)
    with ``[k, A]`` rows and counts one query per pair in :attr:`queries`:

    - ``answers="distribution"``: the expert's whole distribution ``sigma_E(. | h, s)``, an
      idealised oracle (a learner can copy it exactly);
    - ``answers="sampled"``: one joint recommendation drawn from ``sigma_E(. | h, s)``, as a
      one-hot row, as a deployed app or a person would answer. Needs ``rng``. A learner then
      sees noisy labels, so its imitation loss ``eps`` is positive.

    ``expert.query_agent(h, s, agent)`` answers for one agent only (the Nash papers' expert,
    e.g. :func:`regretgap.murmail`): ``[k, n_i]`` rows, agent ``i``'s marginal
    ``sigma_E,i(. | h, s)`` or one action drawn from it as a one-hot row; one query per pair
    too. It needs the per-agent action counts: build the expert with ``game`` or with
    :meth:`product` (independent per-agent policies).

    Args:
        sigma: the expert's policy ``[H, S, A]`` or ``[S, A]``.
        game: optional; validates ``sigma`` against it (and gives ``query_agent`` the
            per-agent action counts).
        answers: ``"distribution"`` (default) or ``"sampled"``.
        rng: the generator of sampled answers (required with ``"sampled"``).
    """

    def __init__(
        self,
        sigma: Any,
        game: MarkovGame | None = None,
        *,
        answers: str = "distribution",
        rng: np.random.Generator | None = None,
    ) -> None:
        pol = np.asarray(sigma, dtype=np.float64)
        if game is not None:
            pol = as_policy(game, pol, name="sigma_expert")
        elif pol.ndim not in (2, 3):
            raise ValidationError(f"sigma must be [H, S, A] or [S, A], got {pol.shape}")
        if answers not in ANSWERS:
            raise ValidationError(f"answers must be one of {ANSWERS}, got {answers!r}")
        if answers == "sampled" and not isinstance(rng, np.random.Generator):
            raise ValidationError(
                f"answers='sampled' needs rng=numpy.random.Generator, got {type(rng).__name__}"
            )
        self._sigma = pol
        self.answers = answers
        self._rng = rng
        self.queries = 0
        self._num_actions = None if game is None else tuple(game.num_actions)
        self._marginals: list[np.ndarray] | None = None

    @classmethod
    def product(
        cls,
        per_agent: Any,
        game: MarkovGame | None = None,
        *,
        answers: str = "distribution",
        rng: np.random.Generator | None = None,
    ) -> QueryableExpert:
        """An expert of independent agents (a Nash expert): ``sigma_E = prod_i pi_E,i``.

        Args:
            per_agent: ``m`` policies, each ``[H, S, n_i]`` or ``[S, n_i]`` (all of one form),
                rows on the simplex.
            game: as in the constructor.
            answers: as in the constructor.
            rng: as in the constructor.

        Returns:
            A :class:`QueryableExpert` whose :meth:`query` answers the joint product and whose
            :meth:`query_agent` answers agent ``i``'s own policy (drawn directly from it).

        Raises:
            ValidationError: no agents, mixed leading shapes, a row that is not a
                distribution (naming the agent), or a product that does not fit ``game``.
        """
        parts = [np.asarray(p, dtype=np.float64) for p in per_agent]
        if not parts:
            raise ValidationError("per_agent must hold at least one agent's policy")
        lead = parts[0].shape[:-1]
        for i, p in enumerate(parts):
            if p.ndim not in (2, 3) or p.shape[:-1] != lead:
                raise ValidationError(
                    f"per-agent policy {i} has shape {p.shape}: expected [H, S, n_i] or "
                    f"[S, n_i] with the leading axes {lead} of agent 0"
                )
            bad = ~np.isfinite(p) | (p < 0)
            if bad.any() or np.any(np.abs(p.sum(axis=-1) - 1.0) > 1e-8):
                raise ValidationError(
                    f"per-agent policy {i} must hold finite non-negative rows summing to 1"
                )
        joint = np.ones((*lead, 1))
        for p in parts:  # agent 0 slowest (docs/MATH.md)
            joint = (joint[..., :, None] * p[..., None, :]).reshape(*lead, -1)
        expert = cls(joint, game, answers=answers, rng=rng)
        expert._num_actions = tuple(p.shape[-1] for p in parts)
        if game is not None and expert._num_actions != tuple(game.num_actions):
            raise ValidationError(
                f"per-agent action counts {expert._num_actions} differ from the game's "
                f"{tuple(game.num_actions)}"
            )
        expert._marginals = [p.copy() for p in parts]
        return expert

    @property
    def num_actions(self) -> tuple[int, ...] | None:
        """Per-agent action counts ``(n_0, ..., n_{m-1})`` when known, else ``None``."""
        return self._num_actions

    @property
    def num_states(self) -> int:
        """``S``, the number of states the expert answers at."""
        return int(self._sigma.shape[-2])

    def _marginal(self, agent: Any) -> np.ndarray:
        if self._num_actions is None:
            raise ValidationError(
                "query_agent needs the per-agent action counts: build the expert with "
                "QueryableExpert(sigma, game) or QueryableExpert.product(per_agent)"
            )
        m = len(self._num_actions)
        if isinstance(agent, bool) or not isinstance(agent, (int, np.integer)):
            raise ValidationError(f"agent must be an integer, got {agent!r}")
        if not 0 <= agent < m:
            raise ValidationError(f"agent {agent} is outside 0..{m - 1}")
        if self._marginals is None:
            lead = self._sigma.shape[:-1]
            shaped = self._sigma.reshape(*lead, *self._num_actions)
            k = len(lead)
            self._marginals = [
                shaped.sum(axis=tuple(k + j for j in range(m) if j != i)) for i in range(m)
            ]
        return self._marginals[int(agent)]

    def query_agent(self, h: Any, s: Any, agent: int) -> np.ndarray:
        """Agent ``agent``'s answers at steps ``h`` and states ``s``: ``[k, n_i]`` rows.

        ``"distribution"``: the marginal ``sigma_E,i(. | h, s)``; ``"sampled"``: one action
        drawn from it, one-hot (for a joint expert, agent ``i``'s part of one joint draw has
        that law). One query per pair, counted in :attr:`queries` like :meth:`query`.
        """
        return self._answer(self._marginal(agent), h, s)

    def __call__(self, states: Any, h: int, rng: np.random.Generator) -> np.ndarray:
        """The sampled learners' expert: ``(states [n] ints, h, rng) -> [n]`` joint
        recommendations, one drawn from ``sigma_E(. | h, s)`` per state with the caller's
        ``rng`` (the draws :func:`regretgap.sampled.policy_recommender` makes), each state
        one query. One expert thus answers both back ends: ``regretgap.blades(game,
        expert, ...)`` and ``regretgap.sampled.blades(sim, expert, ...)``.

        Raises:
            ValidationError: states that are not ints in ``0 .. S-1``, or a step outside
                ``0 .. H-1``.
        """
        s = np.asarray(states)
        if s.ndim != 1 or not np.issubdtype(s.dtype, np.integer):
            raise ValidationError(f"the expert answers int states [n], got {s.dtype} {s.shape}")
        rows = self._sigma if self._sigma.ndim == 2 else None
        if rows is None:
            if not 0 <= h < self._sigma.shape[0]:
                raise ValidationError(f"query step {h} outside 0..{self._sigma.shape[0] - 1}")
            rows = self._sigma[h]
        if np.any((s < 0) | (s >= rows.shape[0])):
            raise ValidationError(f"query states outside 0..{rows.shape[0] - 1}")
        self.queries += int(s.size)
        return _inverse_cdf(rows[s], rng.random(s.size))

    def query(self, h: Any, s: Any) -> np.ndarray:
        """The expert's answers at steps ``h`` and states ``s``: ``[k, A]`` rows (see class)."""
        return self._answer(self._sigma, h, s)

    def _answer(self, pol: np.ndarray, h: Any, s: Any) -> np.ndarray:
        """Rows of ``pol`` (``[S, n]`` or ``[H, S, n]``) at ``(h, s)``, checked and counted:
        the rows themselves, or one sampled one-hot answer each."""
        h = np.asarray(h, dtype=np.int64)
        s = np.asarray(s, dtype=np.int64)
        num_states = pol.shape[-2]
        if np.any((s < 0) | (s >= num_states)):
            bad = s[(s < 0) | (s >= num_states)].ravel()[0]
            raise ValidationError(f"query state {bad} outside 0..{num_states - 1}")
        if pol.ndim == 2:
            out = pol[s]
        else:
            if np.any((h < 0) | (h >= pol.shape[0])):
                bad = h[(h < 0) | (h >= pol.shape[0])].ravel()[0]
                raise ValidationError(f"query step {bad} outside 0..{pol.shape[0] - 1}")
            out = pol[h, s]
        self.queries += int(np.broadcast(h, s).size)
        if self.answers == "distribution":
            return out
        flat = out.reshape(-1, out.shape[-1])
        assert self._rng is not None  # __init__ requires it for answers='sampled'
        drawn = _inverse_cdf(flat, self._rng.random(flat.shape[0]))
        onehot = np.zeros_like(flat)
        onehot[np.arange(flat.shape[0]), drawn] = 1.0
        return onehot.reshape(out.shape)
