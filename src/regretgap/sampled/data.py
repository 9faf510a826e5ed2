"""Samples for the sampled learners: roll-ins on a simulator, demonstrations, expert queries.

Everything a sampled learner sees is a :class:`Samples` set: the features of visited
states, the joint recommendation made there, the step and the episode it came from. No
state indices (the learner may not enumerate states) and no rewards.

- :func:`collect` rolls ``episodes`` in on a :class:`~regretgap.Simulator` under a
  mediator (a :class:`~regretgap.sampled.Recommender`), optionally with agent ``i``
  deviating by ``phi_i(h, obs, a_i)`` (Definition 3.1; the others play their
  recommendations from the same joint draw), and records what the mediator recommended;
- :func:`demonstrations` is :func:`collect` under the expert (sampled answers);
- :func:`from_demonstrations` turns the exact core's
  :class:`~regretgap.data.Demonstrations` into samples through a simulator's features, so
  sampled and exact learners can be run on the same data;
- :class:`CountingExpert` wraps an expert, checks its answers and counts queries against a
  budget.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from math import prod
from typing import Any, ClassVar

import numpy as np

from regretgap._checks import check_count, check_fraction, check_rng
from regretgap._repr import short_repr
from regretgap.data import Demonstrations, as_demonstrations
from regretgap.errors import ValidationError
from regretgap.simulator import check_joint_actions

#: Where a deviation reads its observation: the states batch or the features ``[n, d]``.
DEVIATION_INPUTS = ("states", "features")


@dataclass(frozen=True, eq=False)
class Samples:
    """Visited states' features with the joint recommendation made there.

    A frozen record of four aligned arrays; :func:`check_samples_set` is the one place that
    validates them (the learners call it on their inputs). ``len(samples)`` counts samples,
    and ``features, actions, steps, episodes = samples`` unpacks the four arrays.

    Attributes:
        features: ``x = sim.observe(s_h, h)``, ``[n, d]`` float64.
        actions: flat joint recommendations, ``[n]`` int64.
        steps: ``h`` of each sample, ``[n]`` int64.
        episodes: the episode each sample came from, ``[n]`` int64 (``0..E-1``).
    """

    features: np.ndarray
    actions: np.ndarray
    steps: np.ndarray
    episodes: np.ndarray

    #: The four arrays' names, in order.
    FIELDS: ClassVar[tuple[str, ...]] = ("features", "actions", "steps", "episodes")

    def __repr__(self) -> str:
        return short_repr(self)

    def __len__(self) -> int:
        return int(np.shape(self.actions)[0])

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.features, self.actions, self.steps, self.episodes))

    @property
    def num_episodes(self) -> int:
        """``E``, one more than the largest episode id (0 when empty)."""
        return int(self.episodes.max()) + 1 if self.episodes.size else 0

    def take(self, index: np.ndarray) -> Samples:
        """The samples at ``index`` (a boolean mask or integer positions)."""
        return Samples(*(np.asarray(a)[index] for a in self))

    def split(self, fraction: float, rng: np.random.Generator) -> tuple[Samples, Samples]:
        """``(train, held_out)`` by whole episodes, ``fraction`` of them held out (>= 1)."""
        fraction = check_fraction("fraction", fraction)
        check_rng(rng)
        ids = np.unique(self.episodes)
        if ids.size < 2:
            raise ValidationError(f"need at least 2 episodes to hold some out, got {ids.size}")
        k = min(max(1, round(fraction * ids.size)), ids.size - 1)
        held = np.isin(self.episodes, rng.choice(ids, size=k, replace=False))
        return self.take(~held), self.take(held)


def concat(parts: list[Samples]) -> Samples:
    """One :class:`Samples` from several, episode ids renumbered to stay distinct."""
    if not parts:
        raise ValidationError("nothing to concatenate")
    offset, eps = 0, []
    for p in parts:
        eps.append(p.episodes + offset)
        offset += p.num_episodes
    return Samples(
        np.concatenate([p.features for p in parts]),
        np.concatenate([p.actions for p in parts]),
        np.concatenate([p.steps for p in parts]),
        np.concatenate(eps),
    )


def check_samples_set(samples: Any, *, name: str = "demos") -> Samples:
    """Validate a :class:`Samples` (or a 4-tuple of its arrays); shapes, dtypes, finiteness."""
    if isinstance(samples, Samples):
        samples = tuple(samples)
    if not isinstance(samples, tuple) or len(samples) != 4:
        raise ValidationError(
            f"{name} must be Samples(features, actions, steps, episodes), "
            f"got {type(samples).__name__}"
        )
    x = np.asarray(samples[0], dtype=np.float64)
    if x.ndim != 2:
        raise ValidationError(f"{name}.features must be [n, d], got shape {x.shape}")
    n = x.shape[0]
    if n == 0:
        raise ValidationError(f"{name} is empty")
    if not np.all(np.isfinite(x)):
        k, j = (int(v) for v in np.argwhere(~np.isfinite(x))[0])
        raise ValidationError(f"{name}.features[{k}, {j}] is {x[k, j]}: must be finite")
    arrays = []
    for field, arr in zip(("actions", "steps", "episodes"), samples[1:], strict=True):
        a = np.asarray(arr)
        if a.shape != (n,) or a.dtype == bool or not np.issubdtype(a.dtype, np.integer):
            raise ValidationError(f"{name}.{field} must be [{n}] ints, got {a.shape} {a.dtype}")
        if a.min() < 0:
            raise ValidationError(f"{name}.{field} has a negative entry {int(a.min())}")
        arrays.append(a.astype(np.int64, copy=False))
    return Samples(x, *arrays)


# ---------------------------------------------------------------------------------------
# roll-ins


def observe(sim: Any, states: Any, h: int, d: int | None = None) -> np.ndarray:
    """``sim.observe(states, h)`` checked: ``[n, d]`` float64 (``d`` when given), finite.

    Raises:
        ValidationError: the wrong shape, or a NaN/inf feature (naming step, entry, column).
    """
    n = len(states)
    x = np.asarray(sim.observe(states, h), dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != n or (d is not None and x.shape[1] != d):
        raise ValidationError(f"simulator observe at h = {h} returned {x.shape}, want [{n}, d]")
    if not np.all(np.isfinite(x)):
        k, j = (int(v) for v in np.argwhere(~np.isfinite(x))[0])
        raise ValidationError(f"features at h = {h}: column {j} of entry {k} is {x[k, j]}")
    return x


def collect(
    sim: Any,
    recommend: Callable[..., np.ndarray],
    episodes: int,
    *,
    rng: np.random.Generator,
    agent: int | None = None,
    deviation: Callable[[int, Any, np.ndarray], np.ndarray] | None = None,
    deviation_input: str = "states",
) -> Samples:
    """Roll ``episodes`` in under ``pi_{sigma}`` (or ``pi_{sigma, phi_i}``) and record them.

    At each step ``h`` the mediator recommends ``a = recommend(s, h, rng)`` (flat joint
    actions ``[n]``); with a deviation, agent ``i`` plays ``b = phi_i(h, obs, a_i)`` and the
    others their recommendations, and the simulator steps on the played joint action. The
    samples record the *recommendation* ``a`` (what the mediator said), as the paper's
    datasets do.

    Args:
        sim: a :class:`~regretgap.Simulator`.
        recommend: ``(states, h, rng) -> [n]`` joint recommendations.
        episodes: ``E``; the result has ``E * H`` samples.
        rng: the only source of randomness.
        agent: the deviating agent ``i`` (with ``deviation``).
        deviation: ``phi_i(h, obs, a_i) -> b [n]`` (an
            :attr:`~regretgap.sampled.AdversaryResult.deviation`).
        deviation_input: ``"states"`` (tabular adversary) or ``"features"`` (fitted).

    Raises:
        ValidationError: a non-positive ``episodes``, a deviation without an agent or an
            agent out of range, recommendations or deviations outside the action space.
    """
    check_rng(rng)
    n = check_count("episodes", episodes)
    sizes = tuple(int(k) for k in sim.num_actions)
    num_joint, horizon = prod(sizes), int(sim.horizon)
    if (deviation is None) != (agent is None):
        raise ValidationError("pass agent and deviation together (or neither)")
    if agent is not None and not 0 <= agent < len(sizes):
        raise ValidationError(f"agent {agent} outside 0..{len(sizes) - 1}")
    if deviation_input not in DEVIATION_INPUTS:
        raise ValidationError(f"deviation_input must be one of {DEVIATION_INPUTS}")
    xs, acts = [], []
    s = sim.reset(rng, n)
    for h in range(horizon):
        x = observe(sim, s, h, xs[0].shape[1] if xs else None)
        a = recommend(s, h, rng)
        try:
            a = check_joint_actions(a, n, num_joint)
        except ValidationError as err:
            raise ValidationError(f"the mediator's recommendation at h = {h}: {err}") from None
        xs.append(x)
        acts.append(a)
        if h == horizon - 1:
            break
        played = a
        if deviation is not None:
            idx = list(np.unravel_index(a, sizes))
            b = np.asarray(deviation(h, s if deviation_input == "states" else x, idx[agent]))
            if b.shape != (n,) or np.any((b < 0) | (b >= sizes[agent])):
                raise ValidationError(
                    f"deviation at h = {h} returned {b.shape} entries outside 0..{sizes[agent] - 1}"
                )
            idx[agent] = b
            played = np.ravel_multi_index(tuple(idx), sizes)
        s = sim.step(s, played, rng)
    return Samples(
        features=np.concatenate(xs),
        actions=np.concatenate(acts),
        steps=np.repeat(np.arange(horizon), n),
        episodes=np.tile(np.arange(n), horizon),
    )


def demonstrations(
    sim: Any, expert: Callable[..., np.ndarray], episodes: int, *, rng: np.random.Generator
) -> Samples:
    """``episodes`` expert trajectories as samples: :func:`collect` under the expert."""
    return collect(sim, expert, episodes, rng=rng)


def from_demonstrations(sim: Any, demos: Any) -> Samples:
    """The exact core's :class:`~regretgap.data.Demonstrations` ``[n, H]`` as samples.

    The features are ``sim.observe(states[:, h], h)``, so a sampled learner fitted on the
    result sees the same data as an exact learner fitted on ``demos``.
    """
    d: Demonstrations = as_demonstrations(demos)
    n, horizon = d.states.shape
    if horizon != int(sim.horizon):
        raise ValidationError(f"demonstrations have H = {horizon}, the simulator {sim.horizon}")
    return Samples(
        features=np.concatenate([sim.observe(d.states[:, h], h) for h in range(horizon)]),
        actions=np.concatenate([d.actions[:, h] for h in range(horizon)]).astype(np.int64),
        steps=np.repeat(np.arange(horizon), n),
        episodes=np.tile(np.arange(n), horizon),
    )


# ---------------------------------------------------------------------------------------
# the queryable expert


class BudgetExhausted(ValidationError):
    """More expert queries were asked for than the budget allows."""


class CountingExpert:
    """An expert ``(states, h, rng) -> [n]`` whose answers are checked and counted.

    Each state in a query batch is one query (one sampled joint recommendation). Answers
    outside ``0..A-1`` or of the wrong shape raise :class:`ValidationError` naming the step
    and entry; a query beyond ``budget`` raises :class:`BudgetExhausted` before asking.

    Args:
        expert: the expert's sampler (e.g. ``policy_recommender(sigma_E)``).
        num_actions: ``(n_0, ..., n_{m-1})``.
        budget: the most queries allowed (``None``: no limit).
    """

    def __init__(
        self, expert: Callable[..., np.ndarray], num_actions: Any, budget: int | None = None
    ) -> None:
        if not callable(expert):
            raise ValidationError(f"expert must be callable, got {type(expert).__name__}")
        if budget is not None:
            check_count("query budget", budget)
        self.expert = expert
        self.num_joint = prod(int(k) for k in num_actions)
        self.budget = None if budget is None else int(budget)
        self.queries = 0

    @property
    def remaining(self) -> int | None:
        """Queries left (``None`` without a budget)."""
        return None if self.budget is None else self.budget - self.queries

    def __call__(self, states: Any, h: int, rng: np.random.Generator) -> np.ndarray:
        n = len(states)
        if self.budget is not None and self.queries + n > self.budget:
            raise BudgetExhausted(
                f"{n} more expert queries would exceed the budget of {self.budget} "
                f"({self.queries} used)"
            )
        a = self.expert(states, h, rng)
        try:
            a = check_joint_actions(a, n, self.num_joint)
        except ValidationError as err:
            raise ValidationError(f"the expert's answer at h = {h}: {err}") from None
        self.queries += n
        return a
