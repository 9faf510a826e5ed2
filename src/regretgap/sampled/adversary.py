"""A learned deviation adversary from samples (paper section 3, Def. 3.1).

For agent ``i`` it finds a deviation ``phi_i(h, obs, a_i) -> b`` maximising a per-state loss
``sum_h E[l_h(s_h)]`` along the deviated roll-in ``pi_{sigma, phi_i}`` (or, given
``reward=``, a per-step reward ``sum_h E[f_h(s_h, a_h)]`` of the joint action ``a_h``
actually played, as an agent's own utility ``r_i(s, a)`` is), from a simulator and
a mediator that samples joint recommendations only (no transition matrix, no rewards):
tabular batch Q-learning when states are ints (:func:`tabular_q_adversary`), fitted Q
iteration with a ridge regressor on features otherwise (:func:`fitted_q_adversary`). The
deviation sees the state and its own recommendation ``a_i``; the other agents play their
recommendations from the same joint draw. The exact reference is
:func:`regretgap.best_response` with ``reward`` the loss broadcast to ``[H, m, S, A]``.
"""

from __future__ import annotations

from collections.abc import Callable
from math import prod
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

from regretgap._checks import check_count, check_probability, check_rng, check_simulator_members
from regretgap._repr import short_repr
from regretgap.data import _inverse_cdf
from regretgap.errors import ValidationError
from regretgap.simulator import check_joint_actions, check_simulator

#: Designs of the fitted-Q regressor, see :func:`fitted_q_adversary`.
DESIGNS = ("interaction", "additive")


@runtime_checkable
class Recommender(Protocol):
    """A mediator that samples joint recommendations: ``recommend(states, h, rng) -> [n]``.

    ``states`` is a batch ``[n]`` the simulator produced, ``h`` the step; the result is flat
    joint actions ``a = ravel_multi_index((a_0, ..., a_{m-1}), num_actions)``, ``[n]`` ints,
    drawn with ``rng`` only.
    """

    def __call__(self, states: Any, h: int, rng: np.random.Generator) -> np.ndarray: ...


#: A deviation ``phi_i(h, obs, a_i) -> b``: ``obs`` is the states batch ``[n]`` (tabular) or
#: the features ``[n, d]`` (fitted), ``a_i`` the agent's recommendations ``[n]``; ``b [n]``.
Deviation = Callable[[int, np.ndarray, np.ndarray], np.ndarray]


class AdversaryResult(NamedTuple):
    """A learned deviation of one agent and its estimated value.

    Attributes:
        deviation: the greedy deviation ``phi_i(h, obs, a_i) -> b`` (see :data:`Deviation`).
        table: the same as a table ``phi[h, s, a_i]``, ``[H, S, n_i]`` ints, where the states
            are enumerable (always for the tabular adversary; for the fitted one when the
            simulator has ``num_states``, e.g. a :class:`~regretgap.simulator.TableSimulator`);
            else ``None``. Score it exactly with :func:`regretgap.apply_deviation`.
        value: Monte Carlo estimate of ``J = E[sum_h l_h(s_h)]`` (``E[sum_h f_h(s_h, a_h)]``
            given ``reward=``) under ``pi_{sigma, phi_i}`` from ``eval_episodes`` fresh
            episodes (not the Q estimate, which the max biases upwards).
        stderr: its standard error (sample std / sqrt(eval_episodes)).
        q_value: the learned ``E_{s_0, a_i}[max_b Q_0(s_0, a_i, b)]`` on the evaluation
            episodes' first step (optimistic: the maximum of noisy estimates).
        episodes: episodes simulated in all (training plus evaluation).
        agent: the deviating agent ``i``.
    """

    def __repr__(self) -> str:
        return short_repr(self)

    deviation: Deviation
    table: np.ndarray | None
    value: float
    stderr: float
    q_value: float
    episodes: int
    agent: int


# ---------------------------------------------------------------------------------------
# the mediator adapter


#: The adversaries a sampled learner or estimator may use (:func:`resolve_adversary`).
ADVERSARIES = ("auto", "tabular", "fitted")


def resolve_adversary(adversary: Any, sim: Any, states: Any = None) -> str:
    """``"tabular"`` or ``"fitted"``: which adversary runs on ``sim``.

    ``"auto"`` is the tabular Q-learner when the simulator has an integer ``num_states``
    and its states are ints (``states``: a batch it produced; without one, one state is
    drawn with a private generator, so the caller's stream is untouched), else the fitted
    Q-learner on features. Every sampled learner and :func:`~regretgap.sampled.estimate_regret`
    resolve ``adversary=`` here.

    Raises:
        ValidationError: ``adversary`` not in :data:`ADVERSARIES`, or ``"tabular"`` on a
            simulator without ``num_states``.
    """
    if not isinstance(adversary, str) or adversary not in ADVERSARIES:
        raise ValidationError(f"adversary must be one of {ADVERSARIES}, got {adversary!r}")
    num_states = getattr(sim, "num_states", None)
    countable = isinstance(num_states, (int, np.integer)) and not isinstance(num_states, bool)
    if adversary == "tabular" and not countable:
        raise ValidationError(
            f"the tabular adversary needs a simulator with num_states and int states; "
            f"{type(sim).__name__} has no num_states (use adversary='fitted' or 'auto')"
        )
    if adversary != "auto":
        return adversary
    if not countable:
        return "fitted"
    if states is None:
        states = sim.reset(np.random.default_rng(0), 1)
    s = np.asarray(states)
    return "tabular" if s.dtype != bool and np.issubdtype(s.dtype, np.integer) else "fitted"


def policy_recommender(sigma: Any) -> Recommender:
    """A :class:`Recommender` sampling ``a ~ sigma_h(. | s)`` from a tabular policy.

    Args:
        sigma: ``[H, S, A]`` or stationary ``[S, A]`` joint policy, rows on the simplex.
            States must be ints in ``0..S-1``.

    Raises:
        ValidationError: wrong number of axes, negative or non-finite entries, rows that do
            not sum to 1.
    """
    pol = np.array(sigma, dtype=np.float64)
    if pol.ndim not in (2, 3):
        raise ValidationError(f"sigma must be [H, S, A] or [S, A], got shape {pol.shape}")
    if not np.all(np.isfinite(pol)) or np.any(pol < 0):
        raise ValidationError("sigma must hold finite non-negative probabilities")
    sums = pol.sum(axis=-1)
    if not np.allclose(sums, 1.0, atol=1e-6):
        idx = tuple(int(x) for x in np.argwhere(~np.isclose(sums, 1.0, atol=1e-6))[0])
        raise ValidationError(f"sigma row {list(idx)} sums to {sums[idx]}, not 1")
    pol.flags.writeable = False

    def recommend(states: Any, h: int, rng: np.random.Generator) -> np.ndarray:
        s = np.asarray(states)
        if s.ndim != 1 or not np.issubdtype(s.dtype, np.integer):
            raise ValidationError(f"policy_recommender needs int states [n], got {s.dtype}")
        if pol.ndim == 3 and not 0 <= h < pol.shape[0]:
            raise ValidationError(f"step h = {h} outside 0..{pol.shape[0] - 1}")
        if np.any((s < 0) | (s >= pol.shape[-2])):
            raise ValidationError(f"states outside 0..{pol.shape[-2] - 1}")
        p = pol[h, s] if pol.ndim == 3 else pol[s]
        return _inverse_cdf(p, rng.random(s.size))

    return recommend


def as_recommender(policy: Any, sim: Any) -> Recommender:
    """The :class:`Recommender` ``(states, h, rng) -> joint actions [n]`` of a mediator.

    Args:
        policy: one of
            - an object with ``sample(features [n, d], rng) -> [n]`` (a mediator over
              features): it recommends ``policy.sample(sim.observe(states, h), rng)``;
            - a tabular ``[H, S, A]`` or ``[S, A]`` array: :func:`policy_recommender`;
            - a :class:`Recommender` callable, returned as is.
        sim: the :class:`~regretgap.Simulator` whose ``observe`` gives the features.

    Raises:
        ValidationError: ``policy`` is none of these, or ``sim`` has no ``observe``.
    """
    sample = getattr(policy, "sample", None)
    if callable(sample):
        if not callable(getattr(sim, "observe", None)):
            raise ValidationError(f"{type(sim).__name__} has no observe(states, h) for features")

        def recommend(states: Any, h: int, rng: np.random.Generator) -> np.ndarray:
            return sample(sim.observe(states, h), rng)

        return recommend
    if isinstance(policy, (np.ndarray, list, tuple)):
        return policy_recommender(policy)
    if callable(policy):
        return policy
    raise ValidationError(
        "policy must be a Recommender (states, h, rng) -> [n], an object with "
        f"sample(features, rng) -> [n], or a tabular [H, S, A] array; got {type(policy).__name__}"
    )


# ---------------------------------------------------------------------------------------
# input checks


class _PlayedReward(NamedTuple):
    """Internal marker: the objective is ``reward(states, h, played joint actions) -> [n]``."""

    fn: Callable[[Any, int, np.ndarray], np.ndarray]


def _check_common(
    sim: Any,
    recommend: Any,
    loss: Any,
    reward: Any,
    agent: Any,
    rng: Any,
    episodes: Any,
    batch_size: Any,
    epsilon: Any,
    eval_episodes: Any,
) -> tuple[Any, int, int, int, float, int, np.ndarray | None]:
    """Validate the shared arguments.

    Returns:
        ``(objective, agent, episodes, batch, eps, eval, loss table)``; ``objective`` is
        ``loss`` or, given ``reward``, ``reward`` wrapped in :class:`_PlayedReward`.
    """
    check_rng(rng)
    if (loss is None) == (reward is None):
        raise ValidationError(
            "give exactly one objective: loss (a function of the state) or reward= "
            "(a function of the state and the played joint action)"
        )
    if reward is not None and not callable(reward):
        raise ValidationError(
            f"reward must be callable reward(states, h, joint_actions) -> [n], "
            f"got {type(reward).__name__}"
        )
    episodes = check_count("episodes (the training budget)", episodes)
    batch_size = check_count("batch_size", batch_size)
    eval_episodes = check_count("eval_episodes", eval_episodes)
    check_probability("epsilon", epsilon)
    if not callable(recommend):
        raise ValidationError(f"recommend must be callable, got {type(recommend).__name__}")
    check_simulator_members(sim)
    sizes = tuple(sim.num_actions)
    if isinstance(agent, bool) or not isinstance(agent, (int, np.integer)):
        raise ValidationError(f"agent (the deviating agent) must be an int, got {agent!r}")
    if not 0 <= agent < len(sizes):
        raise ValidationError(f"agent {agent} is outside 0..{len(sizes) - 1}")
    table = None
    if reward is not None:
        played = _PlayedReward(reward)
        return played, int(agent), episodes, batch_size, float(epsilon), eval_episodes, None
    if not callable(loss):
        table = np.array(loss, dtype=np.float64)
        if table.ndim != 2 or table.shape[0] != sim.horizon:
            raise ValidationError(
                f"loss table must have shape [H, S] with H = {sim.horizon}, got {table.shape}"
            )
        if not np.all(np.isfinite(table)):
            idx = tuple(int(x) for x in np.argwhere(~np.isfinite(table))[0])
            raise ValidationError(f"loss{list(idx)} = {table[idx]} is not finite")
        num_states = getattr(sim, "num_states", None)
        if num_states is not None and table.shape[1] != num_states:
            raise ValidationError(
                f"loss table has {table.shape[1]} states, the simulator has {num_states}"
            )
    return loss, int(agent), episodes, batch_size, float(epsilon), eval_episodes, table


# ---------------------------------------------------------------------------------------
# roll-in under a deviation


class _Batch(NamedTuple):
    """One batch of ``n`` deviated episodes: every array ``[n, H]`` (``x``: ``[n, H, d]``)."""

    states: list[Any]
    x: np.ndarray | None
    a_i: np.ndarray
    b: np.ndarray
    ell: np.ndarray


def _loss_at(
    loss: Any, table: np.ndarray | None, states: Any, h: int, n: int, played: np.ndarray
) -> np.ndarray:
    """``l_h(s)`` (or ``f_h(s, a)`` of the played ``a [n]``) for a batch, ``[n]`` (checked)."""
    if isinstance(loss, _PlayedReward):
        out = np.asarray(loss.fn(states, h, played), dtype=np.float64)
        if out.shape != (n,):
            raise ValidationError(
                f"reward(states, h={h}, joint_actions) returned shape {out.shape}, expected ({n},)"
            )
        if not np.all(np.isfinite(out)):
            k = int(np.flatnonzero(~np.isfinite(out))[0])
            raise ValidationError(
                f"reward(states, h={h}, joint_actions) is {out[k]} at batch entry {k}"
            )
        return out
    if table is not None:
        s = np.asarray(states)
        if not np.issubdtype(s.dtype, np.integer) or np.any((s < 0) | (s >= table.shape[1])):
            raise ValidationError(
                f"a loss table [H, S] needs int states in 0..{table.shape[1] - 1} (step {h})"
            )
        return table[h, s]
    out = np.asarray(loss(states, h), dtype=np.float64)
    if out.shape != (n,):
        raise ValidationError(f"loss(states, h={h}) returned shape {out.shape}, expected ({n},)")
    if not np.all(np.isfinite(out)):
        raise ValidationError(f"loss(states, h={h}) returned non-finite values")
    return out


def _observe(sim: Any, states: Any, h: int, n: int, d: int | None) -> np.ndarray:
    x = np.asarray(sim.observe(states, h), dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != n or (d is not None and x.shape[1] != d):
        raise ValidationError(f"simulator observe at h = {h} returned {x.shape}, expected [{n}, d]")
    if not np.all(np.isfinite(x)):
        k, j = (int(v) for v in np.argwhere(~np.isfinite(x))[0])
        raise ValidationError(f"features at h = {h}: column {j} of batch entry {k} is {x[k, j]}")
    return x


def _rollout(
    sim: Any,
    recommend: Callable[..., np.ndarray],
    loss: Any,
    table: np.ndarray | None,
    agent: int,
    choose: Callable[[int, Any, np.ndarray | None, np.ndarray], np.ndarray],
    n: int,
    rng: np.random.Generator,
    *,
    features: bool,
) -> _Batch:
    """Roll ``n`` episodes in under ``pi_{sigma, phi}`` with ``b = choose(h, s, x, a_i)``."""
    sizes = tuple(sim.num_actions)
    horizon = int(sim.horizon)
    num_joint = prod(sizes)
    a_i = np.empty((n, horizon), dtype=np.int64)
    b = np.empty((n, horizon), dtype=np.int64)
    ell = np.empty((n, horizon))
    xs: list[np.ndarray] = []
    states_h: list[Any] = []
    s = sim.reset(rng, n)
    for h in range(horizon):
        if len(s) != n:
            raise ValidationError(f"simulator returned {len(s)} states at h = {h}, expected {n}")
        states_h.append(s)
        x = _observe(sim, s, h, n, xs[0].shape[1] if xs else None) if features else None
        if x is not None:
            xs.append(x)
        a = check_joint_actions(recommend(s, h, rng), n, num_joint)
        idx = list(np.unravel_index(a, sizes))
        a_i[:, h] = idx[agent]
        b[:, h] = choose(h, s, x, a_i[:, h])
        idx[agent] = b[:, h]
        played = np.ravel_multi_index(tuple(idx), sizes)  # also at h = H-1: it is scored
        ell[:, h] = _loss_at(loss, table, s, h, n, played)
        if h < horizon - 1:
            s = sim.step(s, played, rng)
    x_all = np.stack(xs, axis=1) if features else None
    return _Batch(states=states_h, x=x_all, a_i=a_i, b=b, ell=ell)


def _epsilon_greedy(
    greedy: np.ndarray, n_i: int, epsilon: float, rng: np.random.Generator
) -> np.ndarray:
    """``b = greedy`` with probability ``1 - epsilon``, else uniform on ``0..n_i-1``."""
    explore = rng.random(greedy.size) < epsilon
    uniform = rng.integers(0, n_i, size=greedy.size)
    return np.where(explore, uniform, greedy)


def _evaluate(
    sim: Any,
    recommend: Callable[..., np.ndarray],
    loss: Any,
    table: np.ndarray | None,
    agent: int,
    choose: Callable[[int, Any, np.ndarray | None, np.ndarray], np.ndarray],
    n: int,
    rng: np.random.Generator,
    *,
    features: bool,
) -> tuple[float, float, _Batch]:
    """Monte Carlo ``J`` of the greedy deviation: (mean, standard error, the batch)."""
    batch = _rollout(sim, recommend, loss, table, agent, choose, n, rng, features=features)
    ret = batch.ell.sum(axis=1)
    stderr = float(ret.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    return float(ret.mean()), stderr, batch


# ---------------------------------------------------------------------------------------
# tabular


def _tabular_q(
    s: np.ndarray,
    a_i: np.ndarray,
    b: np.ndarray,
    ell: np.ndarray,
    num_states: int,
    n_i: int,
    optimism: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Backward sample-average Q over a buffer of episodes ``[N, H]``.

    ``Q_h(s, a_i, b) = mean over visits of [l_h(s) + max_{b'} Q_{h+1}(s', a_i', b')]``,
    with ``a_i'`` the recommendation drawn at ``s'`` in the same episode (an unbiased draw
    of ``sigma_{h+1}``'s conditional). Returns ``(q [H, S, n_i, n_i], visits [H, S, n_i,
    n_i])``; unvisited entries of ``q`` are ``-inf``.
    """
    horizon = s.shape[1]
    cells = num_states * n_i * n_i
    q = np.full((horizon, num_states, n_i, n_i), -np.inf)
    visits = np.zeros((horizon, num_states, n_i, n_i), dtype=np.int64)
    future = np.zeros(s.shape[0])
    for h in range(horizon - 1, -1, -1):
        target = ell[:, h] + future
        flat = (s[:, h] * n_i + a_i[:, h]) * n_i + b[:, h]
        cnt = np.bincount(flat, minlength=cells)
        tot = np.bincount(flat, weights=target, minlength=cells)
        seen = cnt > 0
        qh = np.full(cells, -np.inf if optimism is None else (horizon - h) * optimism)
        qh[seen] = tot[seen] / cnt[seen]
        q[h] = qh.reshape(num_states, n_i, n_i)
        visits[h] = cnt.reshape(num_states, n_i, n_i)
        # every (h, s, a_i) in the buffer has its own played b visited: the max is finite
        future = q[h].max(axis=-1)[s[:, h], a_i[:, h]]
    return q, visits


def _greedy_table(q: np.ndarray) -> np.ndarray:
    """``phi[h, s, a_i] = argmax_b Q``; the identity where no ``b`` was tried."""
    n_i = q.shape[-1]
    table = q.argmax(axis=-1)
    unseen = ~np.isfinite(q).any(axis=-1)
    identity = np.broadcast_to(np.arange(n_i), table.shape)
    return np.where(unseen, identity, table).astype(np.int64)


def _table_deviation(table: np.ndarray) -> Deviation:
    frozen = table.copy()
    frozen.flags.writeable = False

    def phi(h: int, obs: np.ndarray, a_i: np.ndarray) -> np.ndarray:
        return frozen[h, np.asarray(obs), np.asarray(a_i)]

    return phi


def tabular_q_adversary(
    sim: Any,
    recommend: Callable[..., np.ndarray],
    loss: Any = None,
    agent: int | None = None,
    *,
    reward: Callable[[Any, int, np.ndarray], np.ndarray] | None = None,
    rng: np.random.Generator,
    episodes: int,
    batch_size: int = 250,
    epsilon: float = 0.3,
    eval_episodes: int = 1000,
    num_states: int | None = None,
    optimism: float | None = None,
) -> AdversaryResult:
    """Deviation maximising the summed loss when states are ints, by batch Q-learning.

    ``Q_h(s, a_i, b) = l_h(s) + E[max_{b'} Q_{h+1}(s', a_i', b')]``, estimated by sample
    averages over every episode so far, recomputed backward over ``h`` after each batch (the
    tabular case of fitted Q iteration: no step size, no stale targets). Episodes are rolled
    in epsilon-greedy in ``b`` given ``(h, s, a_i)``; a ``b`` never tried there is tried first.

    Args:
        sim: a :class:`~regretgap.Simulator` whose states are ints in ``0..S-1``.
        recommend: the mediator, ``recommend(states, h, rng) -> joint actions [n]`` (e.g.
            :func:`policy_recommender` of a tabular ``[H, S, A]`` policy).
        loss: ``loss(states, h) -> [n]`` or a table ``ell[h, s]``, ``[H, S]``; summed over the
            ``H`` steps and maximised. Give it or ``reward``, not both.
        agent: the deviating agent ``i`` (required).
        reward: instead of ``loss``, ``reward(states, h, joint_actions) -> [n]`` of the
            flat joint actions ``[n]`` actually played (the deviation's ``b`` in agent ``i``'s
            slot, the others' recommendations), e.g. agent ``i``'s own utility
            ``r_i(s, a)``; ``Q_h(s, a_i, b)`` then averages ``f_h(s, (b, a_-i))`` over the
            others' recommendations, as the exact :func:`regretgap.best_response` does.
        rng: the only source of randomness.
        episodes: training episodes (the sample budget; rounded up to whole batches).
        batch_size: episodes per batch between Q updates.
        epsilon: exploration probability of a uniform ``b``.
        eval_episodes: fresh episodes under the greedy deviation that estimate its value.
        num_states: ``S``; default ``sim.num_states`` or the loss table's width.
        optimism: ``None`` (default), or an upper bound ``L`` on the per-step loss: every
            ``(h, s, a_i, b)`` never tried is valued ``(H - h) L`` (optimism in the face of
            uncertainty), so the adversary keeps going where it has not been, as exact
            BLADES counts never-answered states at the largest loss. Without it, a deep
            state behind steps that all look learned is found only by chance.

    Returns:
        :class:`AdversaryResult` with the table ``[H, S, n_i]``.

    Raises:
        ValidationError: a budget below 1, a bad agent, epsilon outside [0, 1], both or
            neither of loss and reward, a loss table of the wrong shape or with NaN, a loss
            or reward answering the wrong shape or NaN, states that are not ints in range.
    """
    loss, agent, episodes, batch_size, epsilon, eval_episodes, table = _check_common(
        sim, recommend, loss, reward, agent, rng, episodes, batch_size, epsilon, eval_episodes
    )
    if num_states is None:
        num_states = getattr(sim, "num_states", None)
    if num_states is None and table is not None:
        num_states = table.shape[1]
    if num_states is None:
        raise ValidationError("tabular_q_adversary needs num_states (sim has no num_states)")
    num_states = check_count("num_states", num_states)
    if table is not None and table.shape[1] != num_states:
        raise ValidationError(f"loss table has {table.shape[1]} states, num_states={num_states}")
    check_simulator(sim, rng=rng)
    n_i = int(sim.num_actions[agent])
    horizon = int(sim.horizon)

    q = np.full((horizon, num_states, n_i, n_i), -np.inf)

    def check_states(states: Any, h: int) -> np.ndarray:
        st = np.asarray(states)
        if not np.issubdtype(st.dtype, np.integer) or np.any((st < 0) | (st >= num_states)):
            raise ValidationError(
                f"tabular_q_adversary needs int states in 0..{num_states - 1} (step {h}); "
                "use fitted_q_adversary on features otherwise"
            )
        return st

    def explore(h: int, states: Any, x: np.ndarray | None, a_i: np.ndarray) -> np.ndarray:
        row = q[h, check_states(states, h), a_i]  # [n, n_i]
        # untried b first (optimism), ties broken at random
        noisy = np.where(np.isfinite(row), row, np.inf) + 1e-9 * rng.random(row.shape)
        return _epsilon_greedy(noisy.argmax(axis=1), n_i, epsilon, rng)

    bufs: list[_Batch] = []
    used = 0
    while used < episodes:
        bufs.append(
            _rollout(sim, recommend, loss, table, agent, explore, batch_size, rng, features=False)
        )
        used += batch_size
        s_all = np.concatenate([np.stack(bt.states, axis=1) for bt in bufs])
        q, _ = _tabular_q(
            s_all,
            np.concatenate([bt.a_i for bt in bufs]),
            np.concatenate([bt.b for bt in bufs]),
            np.concatenate([bt.ell for bt in bufs]),
            num_states,
            n_i,
            optimism,
        )
    phi_table = _greedy_table(q)
    phi = _table_deviation(phi_table)

    def greedy(h: int, states: Any, x: np.ndarray | None, a_i: np.ndarray) -> np.ndarray:
        return phi(h, check_states(states, h), a_i)

    value, stderr, ev = _evaluate(
        sim, recommend, loss, table, agent, greedy, eval_episodes, rng, features=False
    )
    q0 = q[0, np.asarray(ev.states[0]), ev.a_i[:, 0]].max(axis=-1)
    q_value = float(np.mean(np.where(np.isfinite(q0), q0, np.nan)))
    return AdversaryResult(
        deviation=phi,
        table=phi_table,
        value=value,
        stderr=stderr,
        q_value=q_value,
        episodes=used + eval_episodes,
        agent=agent,
    )


# ---------------------------------------------------------------------------------------
# fitted Q iteration on features


def _design(x: np.ndarray, a_i: np.ndarray, n_i: int, design: str) -> np.ndarray:
    """Regressor inputs ``[n, p]``: ``x ⊗ onehot(a_i)`` (``p = d n_i``) or ``[x, onehot]``."""
    onehot = np.zeros((x.shape[0], n_i))
    onehot[np.arange(x.shape[0]), a_i] = 1.0
    if design == "interaction":
        return (x[:, :, None] * onehot[:, None, :]).reshape(x.shape[0], -1)
    return np.concatenate([x, onehot], axis=1)


def _ridge(z: np.ndarray, y: np.ndarray, ridge: float) -> np.ndarray:
    """``argmin_w |z w - y|^2 + ridge |w|^2`` (minimum-norm where singular)."""
    # normal equations: p x p, cheap for N >> p. solve (LU) is ~10x faster than lstsq's SVD
    # here; lstsq only where the system is singular (ridge = 0 and an unvisited column)
    gram = z.T @ z + ridge * np.eye(z.shape[1])
    rhs = z.T @ y
    if ridge > 0:
        return np.linalg.solve(gram, rhs)
    return np.linalg.lstsq(gram, rhs, rcond=None)[0]


def _fitted_q(
    x: np.ndarray,
    a_i: np.ndarray,
    b: np.ndarray,
    ell: np.ndarray,
    n_i: int,
    design: str,
    ridge: float,
) -> np.ndarray:
    """Fitted Q iteration backward over ``h``: weights ``w[h, b]``, ``[H, n_i, p]``.

    ``Q_h(x, a_i, b) = z(x, a_i) . w[h, b]`` regressed on ``l_h + max_{b'} Q_{h+1}(x', a_i',
    b')`` over the samples that played ``b`` at step ``h`` (zero weights where none did).

    Feature columns that are zero in every sample of step ``h`` (e.g. the other steps'
    blocks of the default one-hot of ``(h, s)``) are dropped from that step's regression:
    ridge gives them weight 0 anyway, and the Gram matrix shrinks from ``(H S n_i)^2`` to
    ``(S n_i)^2``.
    """
    num, horizon, d = x.shape
    p = d * n_i if design == "interaction" else d + n_i
    w = np.zeros((horizon, n_i, p))
    future = np.zeros(num)
    for h in range(horizon - 1, -1, -1):
        active = np.flatnonzero(np.any(x[:, h] != 0, axis=0))  # [d'] kept feature columns
        if design == "interaction":
            cols = (active[:, None] * n_i + np.arange(n_i)).ravel()
        else:
            cols = np.concatenate([active, d + np.arange(n_i)])
        z = _design(x[:, h, active], a_i[:, h], n_i, design)  # [N, p'] = columns cols of z
        target = ell[:, h] + future
        for bb in range(n_i):
            rows = b[:, h] == bb
            if rows.any():
                w[h, bb, cols] = _ridge(z[rows], target[rows], ridge)
        future = (z @ w[h][:, cols].T).max(axis=1)
    return w


def fitted_q_adversary(
    sim: Any,
    recommend: Callable[..., np.ndarray],
    loss: Any = None,
    agent: int | None = None,
    *,
    reward: Callable[[Any, int, np.ndarray], np.ndarray] | None = None,
    rng: np.random.Generator,
    episodes: int,
    batch_size: int = 500,
    epsilon: float = 0.3,
    eval_episodes: int = 1000,
    ridge: float = 1e-3,
    design: str = "interaction",
) -> AdversaryResult:
    """Deviation maximising the summed loss from features, by fitted Q iteration.

    ``Q_h(x, a_i, b) = z(x, a_i) . w_{h,b}``, ridge-regressed backward over ``h`` on
    ``l_h + max_{b'} Q_{h+1}(x', a_i', b')`` over every episode so far, refitted after each
    batch; episodes are rolled in epsilon-greedy (the first batch uniformly at random).

    ``design="interaction"`` (default) uses ``z = x ⊗ onehot(a_i)`` (``d n_i`` columns), so
    on one-hot features it is the tabular estimator (up to the ridge); the brief's
    ``"additive"`` ``z = [x, onehot(a_i)]`` cannot let the best ``b`` depend on the state
    and the recommendation jointly, which Definition 3.1's deviations do.

    Args:
        sim: a :class:`~regretgap.Simulator`; only ``observe`` features reach the regressor.
        recommend: ``recommend(states, h, rng) -> joint actions [n]``.
        loss: ``loss(states, h) -> [n]`` or a table ``[H, S]`` (int states).
        agent: the deviating agent ``i`` (required).
        reward: instead of ``loss``, ``reward(states, h, joint_actions) -> [n]`` of the
            played joint actions (see :func:`tabular_q_adversary`).
        rng: the only source of randomness.
        episodes: training episodes (rounded up to whole batches).
        batch_size: episodes per batch between refits.
        epsilon: exploration probability of a uniform ``b``.
        eval_episodes: fresh episodes under the greedy deviation that estimate its value.
        ridge: L2 penalty of the least squares (in units of squared residual per sample).
        design: ``"interaction"`` or ``"additive"``.

    Returns:
        :class:`AdversaryResult`; ``deviation(h, x [n, d], a_i [n]) -> b [n]``; ``table``
        when ``sim`` has ``num_states`` (features of ``arange(S)`` tabulated).

    Raises:
        ValidationError: as :func:`tabular_q_adversary`, a negative or non-finite ridge, an
            unknown design, NaN features (naming step, entry and column).
    """
    loss, agent, episodes, batch_size, epsilon, eval_episodes, table = _check_common(
        sim, recommend, loss, reward, agent, rng, episodes, batch_size, epsilon, eval_episodes
    )
    if (
        isinstance(ridge, bool)
        or not isinstance(ridge, (int, float))
        or not (np.isfinite(ridge) and ridge >= 0)
    ):
        raise ValidationError(f"ridge must be a finite number >= 0, got {ridge!r}")
    if design not in DESIGNS:
        raise ValidationError(f"design must be one of {DESIGNS}, got {design!r}")
    check_simulator(sim, rng=rng)
    n_i = int(sim.num_actions[agent])
    horizon = int(sim.horizon)
    w: np.ndarray | None = None

    def predict(h: int, x: np.ndarray, a_i: np.ndarray) -> np.ndarray:
        assert w is not None
        return _design(np.asarray(x, dtype=np.float64), np.asarray(a_i), n_i, design) @ w[h].T

    def phi(h: int, obs: np.ndarray, a_i: np.ndarray) -> np.ndarray:
        return predict(h, obs, a_i).argmax(axis=1)

    def explore(h: int, states: Any, x: np.ndarray | None, a_i: np.ndarray) -> np.ndarray:
        assert x is not None
        if w is None:
            return rng.integers(0, n_i, size=a_i.size)
        return _epsilon_greedy(phi(h, x, a_i), n_i, epsilon, rng)

    bufs: list[_Batch] = []
    used = 0
    while used < episodes:
        bufs.append(
            _rollout(sim, recommend, loss, table, agent, explore, batch_size, rng, features=True)
        )
        used += batch_size
        w = _fitted_q(
            np.concatenate([bt.x for bt in bufs]),
            np.concatenate([bt.a_i for bt in bufs]),
            np.concatenate([bt.b for bt in bufs]),
            np.concatenate([bt.ell for bt in bufs]),
            n_i,
            design,
            float(ridge),
        )
    w_final = w.copy()
    w_final.flags.writeable = False
    w = w_final

    def greedy(h: int, states: Any, x: np.ndarray | None, a_i: np.ndarray) -> np.ndarray:
        assert x is not None
        return phi(h, x, a_i)

    value, stderr, ev = _evaluate(
        sim, recommend, loss, table, agent, greedy, eval_episodes, rng, features=True
    )
    q_value = float(predict(0, ev.x[:, 0], ev.a_i[:, 0]).max(axis=1).mean())
    phi_table = None
    num_states = getattr(sim, "num_states", None)
    if num_states is not None:
        all_s = np.arange(int(num_states))
        phi_table = np.stack(
            [
                np.stack(
                    [phi(h, sim.observe(all_s, h), np.full(all_s.size, a)) for a in range(n_i)],
                    axis=1,
                )
                for h in range(horizon)
            ]
        ).astype(np.int64)
    return AdversaryResult(
        deviation=phi,
        table=phi_table,
        value=value,
        stderr=stderr,
        q_value=q_value,
        episodes=used + eval_episodes,
        agent=agent,
    )
