"""Mediator policies over features, fitted from samples.

A sampled learner never sees a state index, only the features ``x = sim.observe(s, h)``
``[d]`` of the states it visits, and fits ``sigma(a | x)``, a distribution over flat joint
actions ``a = ravel_multi_index((a_0, ..., a_{m-1}), num_actions)`` (agent 0 slowest), by
*weighted maximum likelihood* on samples ``(x_j, a_j, w_j)``:

    minimise  - sum_j w_j log sigma(a_j | x_j)  (+ the class's regulariser).

This is the sample form of the exact core's ``PolicyClass.fit(counts)``: demonstrations
give weight 1, MALICE and ALICE importance weights, BLADES and DAgger the expert's answers.
Every class implements :class:`MediatorPolicy`; :class:`JointPolicy` derives from
``probs`` the per-agent marginal and conditional that deviations need (Definition 3.1: agent
``i`` sees ``a_i`` and the others play ``a_{-i} ~ sigma(. | x, a_i)``), the tabulation
``table(game)`` ``[H, S, A]`` that the exact core scores, and a sampling ``recommender``.

Classes here (numpy and scipy only):

- :class:`ObservationTable`: the weighted empirical distribution per distinct feature row
  (a table; unseen rows get the uniform distribution): what generalises nowhere.
- :class:`LogLinearMediator`: ``sigma(a | x) ∝ exp(W_a . x + b_a)``, multinomial logistic
  regression fitted by scipy's L-BFGS-B: generalises along the features.
- :class:`ProductMediator`: independent per-agent heads, ``sigma(a | x) = prod_i
  pi_i(a_i | x)`` (log-linear heads by default; any single-agent class as a head, e.g.
  ``ObservationTable((n_i,))`` or ``NeuralMediator((n_i,))``): the Nash papers' per-agent
  policies, so sampled J-BC with it is their behaviour cloning.

The neural autoregressive mediator is :class:`regretgap.sampled.neural.NeuralMediator`
(the ``[torch]`` extra). Fitting never mutates: ``fit`` returns a new fitted policy and the
receiver, which carries the class and its hyperparameters, is unchanged.
"""

from __future__ import annotations

import copy
from math import prod
from typing import Any, Protocol, runtime_checkable

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

from regretgap._checks import check_rng
from regretgap.data import _inverse_cdf
from regretgap.errors import ValidationError
from regretgap.game import MarkovGame
from regretgap.policy_classes import ProductTabular, Tabular
from regretgap.simulator import per_agent_hint

#: Rows of ``probs`` materialised at once by :meth:`JointPolicy.table` (bounds its memory).
TABLE_CHUNK = 4096


@runtime_checkable
class MediatorPolicy(Protocol):
    """A mediator ``sigma(a | x)`` over features, fitted by weighted log-loss.

    Attributes:
        num_actions: ``(n_0, ..., n_{m-1})``; joint actions are flat ints in ``0..A-1``.

    Methods:
        fit(features [n, d], actions [n], weights [n] | None, *, rng): a new policy
            minimising ``- sum_j w_j log sigma(a_j | x_j)`` (plus regulariser); the
            receiver is unchanged. ``n = 0`` (or all weights 0) gives the unfitted policy.
        log_prob(features [n, d], actions [n]): ``log sigma(a_j | x_j)``, ``[n]``.
        probs(features [n, d]): the joint distributions ``[n, A]`` (costs ``A`` per row).
        sample(features [n, d], rng): one joint recommendation per row, ``[n]`` ints.
        marginal(features, agent): ``sigma_i(a_i | x)``, ``[n, n_i]``.
        conditional(features, agent, a_i [n]): ``sigma(a | x, a_i)`` ``[n, A]``.
        table(source, features=None): the exact ``[H, S, A]`` policy on a game.
        recommender(sim): ``(states, h, rng) -> [n]`` sampling from ``sim.observe``.
    """

    @property
    def num_actions(self) -> tuple[int, ...]: ...

    def fit(
        self,
        features: Any,
        actions: Any,
        weights: Any = None,
        *,
        rng: np.random.Generator,
    ) -> MediatorPolicy: ...

    def log_prob(self, features: Any, actions: Any) -> np.ndarray: ...

    def probs(self, features: Any) -> np.ndarray: ...

    def sample(self, features: Any, rng: np.random.Generator) -> np.ndarray: ...

    def marginal(self, features: Any, agent: int) -> np.ndarray: ...

    def conditional(self, features: Any, agent: int, a_i: Any) -> np.ndarray: ...

    def table(self, source: Any, features: Any = None) -> np.ndarray: ...

    def recommender(self, sim: Any) -> Any: ...


# ---------------------------------------------------------------------------------------
# boundary checks


def check_num_actions(num_actions: Any) -> tuple[int, ...]:
    """``num_actions`` as a tuple of positive ints, else ValidationError."""
    try:
        sizes = tuple(num_actions)
    except TypeError:
        raise ValidationError(f"num_actions must be a tuple of ints, got {num_actions!r}") from None
    if not sizes or any(
        isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1 for k in sizes
    ):
        raise ValidationError(f"num_actions must be positive ints, got {sizes!r}")
    return tuple(int(k) for k in sizes)


def check_features(features: Any, d: int | None = None, *, name: str = "features") -> np.ndarray:
    """``features`` as finite float64 ``[n, d]`` (``d`` checked when given)."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or (d is not None and x.shape[1] != d):
        want = f"[n, {d}]" if d is not None else "[n, d]"
        raise ValidationError(f"{name} must have shape {want}, got {x.shape}")
    if not np.all(np.isfinite(x)):
        k, j = (int(v) for v in np.argwhere(~np.isfinite(x))[0])
        raise ValidationError(f"{name}[{k}, {j}] is {x[k, j]}: features must be finite")
    return x


def check_actions(actions: Any, n: int, num_joint: int, *, name: str = "actions") -> np.ndarray:
    """Flat joint actions ``[n]`` ints in ``0..num_joint-1``, as int64."""
    a = np.asarray(actions)
    if a.shape != (n,):
        hint = per_agent_hint(a.shape, n)
        raise ValidationError(f"{name} must have shape [n] = ({n},), got {a.shape}{hint}")
    if n and (a.dtype == bool or not np.issubdtype(a.dtype, np.integer)):
        raise ValidationError(f"{name} must be integer joint actions, got dtype {a.dtype}")
    bad = (a < 0) | (a >= num_joint)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"{name}[{k}] = {int(a[k])} is outside the joint action space 0..{num_joint - 1}"
        )
    return a.astype(np.int64, copy=False)


def check_weights(weights: Any, n: int) -> np.ndarray:
    """Sample weights ``[n]``, finite and ``>= 0`` (``None``: all ones)."""
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,):
        raise ValidationError(f"weights must have shape [n] = ({n},), got {w.shape}")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ValidationError(f"weights[{k}] = {w[k]}: weights must be finite and >= 0")
    return w


def check_samples(
    features: Any, actions: Any, weights: Any, num_joint: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate one weighted sample set ``(x [n, d], a [n], w [n])``."""
    x = check_features(features)
    a = check_actions(actions, x.shape[0], num_joint)
    w = check_weights(weights, x.shape[0])
    return x, a, w


# ---------------------------------------------------------------------------------------
# what every class derives from its joint distribution


class JointPolicy:
    """Base of the mediator classes: marginal, conditional, sampling and tabulation.

    A subclass sets ``num_actions`` and implements ``fit`` and ``probs`` (and may override
    ``log_prob`` and ``sample`` when it can do them without the ``[n, A]`` joint).
    """

    num_actions: tuple[int, ...]

    @property
    def num_joint_actions(self) -> int:
        """``A = prod(n_i)``."""
        return prod(self.num_actions)

    @property
    def num_agents(self) -> int:
        """``m``."""
        return len(self.num_actions)

    def probs(self, features: Any) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def log_prob(self, features: Any, actions: Any) -> np.ndarray:
        """``log sigma(a_j | x_j)``, ``[n]`` (``-inf`` where the probability is 0)."""
        p = self.probs(features)
        a = check_actions(actions, p.shape[0], self.num_joint_actions)
        with np.errstate(divide="ignore"):
            return np.log(p[np.arange(p.shape[0]), a])

    def sample(self, features: Any, rng: np.random.Generator) -> np.ndarray:
        """One joint recommendation ``a ~ sigma(. | x_j)`` per row, ``[n]`` int64."""
        check_rng(rng)
        p = self.probs(features)
        return _inverse_cdf(p, rng.random(p.shape[0])).astype(np.int64)

    def _check_agent(self, agent: Any) -> int:
        if isinstance(agent, bool) or not isinstance(agent, (int, np.integer)):
            raise ValidationError(f"agent must be an int, got {agent!r}")
        if not 0 <= agent < self.num_agents:
            raise ValidationError(f"agent {agent} outside 0..{self.num_agents - 1}")
        return int(agent)

    def marginal(self, features: Any, agent: int) -> np.ndarray:
        """Agent ``i``'s recommendation distribution ``sigma_i(a_i | x)``, ``[n, n_i]``."""
        i = self._check_agent(agent)
        p = self.probs(features).reshape(-1, *self.num_actions)
        others = tuple(k + 1 for k in range(self.num_agents) if k != i)
        return p.sum(axis=others)

    def conditional(self, features: Any, agent: int, a_i: Any) -> np.ndarray:
        """``sigma(a | x, a_i)``: the joint given agent ``i`` was recommended ``a_i``, ``[n, A]``.

        Zero on joint actions whose ``i``-th component is not ``a_i``. Where ``a_i`` has
        probability 0 the conditional is undefined; it is then uniform over the joint
        actions consistent with ``a_i`` (any choice gives the deviation the same value,
        since such recommendations are never made).
        """
        i = self._check_agent(agent)
        p = self.probs(features)
        n = p.shape[0]
        rec = np.asarray(a_i)
        if rec.shape != (n,) or not np.issubdtype(rec.dtype, np.integer):
            raise ValidationError(f"a_i must be [n] = ({n},) ints, got {rec.shape} {rec.dtype}")
        if np.any((rec < 0) | (rec >= self.num_actions[i])):
            raise ValidationError(f"a_i outside 0..{self.num_actions[i] - 1} for agent {i}")
        comp = np.unravel_index(np.arange(self.num_joint_actions), self.num_actions)[i]
        mask = comp[None, :] == rec[:, None]
        q = np.where(mask, p, 0.0)
        total = q.sum(axis=1, keepdims=True)
        fill = mask / mask.sum(axis=1, keepdims=True)
        return np.where(total > 0, q / np.where(total > 0, total, 1.0), fill)

    def table(self, source: Any, features: Any = None) -> np.ndarray:
        """The exact policy ``sigma_h(a | s) = sigma(a | observe(s, h))``, ``[H, S, A]``.

        Args:
            source: a :class:`~regretgap.MarkovGame` (observed through
                ``game.simulator(features)``) or a simulator with ``num_states`` and
                ``observe`` (e.g. :class:`~regretgap.simulator.TableSimulator`).
            features: with a game, its features ``[S, d]`` or ``[H, S, d]`` (default the
                one-hot of ``(h, s)``); must be ``None`` with a simulator.
        """
        return self._tabulate(source, features, self.probs, self.num_joint_actions)

    def _tabulate(self, source: Any, features: Any, rows: Any, width: int) -> np.ndarray:
        """``rows(observe(s, h))`` for every ``(h, s)``, ``[H, S, width]``."""
        if isinstance(source, MarkovGame):
            sim = source.simulator(features)
        elif features is not None:
            raise ValidationError("pass features with a MarkovGame, not with a simulator")
        else:
            sim = source
        num_states = getattr(sim, "num_states", None)
        if num_states is None or not hasattr(sim, "observe"):
            raise ValidationError(
                f"table needs a MarkovGame or a simulator with num_states and observe, "
                f"got {type(source).__name__}"
            )
        if tuple(sim.num_actions) != self.num_actions:
            raise ValidationError(
                f"the game has num_actions {tuple(sim.num_actions)}, the policy {self.num_actions}"
            )
        out = np.empty((int(sim.horizon), int(num_states), width))
        for h in range(out.shape[0]):
            for lo in range(0, out.shape[1], TABLE_CHUNK):
                states = np.arange(lo, min(lo + TABLE_CHUNK, out.shape[1]))
                out[h, states] = rows(sim.observe(states, h))
        return out

    def recommender(self, sim: Any) -> Any:
        """The :class:`~regretgap.sampled.Recommender` ``(states, h, rng) -> [n]`` on ``sim``."""

        def recommend(states: Any, h: int, rng: np.random.Generator) -> np.ndarray:
            return self.sample(sim.observe(states, h), rng)

        return recommend


# ---------------------------------------------------------------------------------------
# the table over observations


def _row_keys(x: np.ndarray) -> np.ndarray:
    """One opaque byte key per feature row (``-0.0`` and ``0.0`` share a key), ``[n]``."""
    x = np.ascontiguousarray(x + 0.0)
    return x.view(np.dtype((np.void, x.dtype.itemsize * x.shape[1]))).ravel()


class ObservationTable(JointPolicy):
    """The weighted empirical joint distribution per distinct feature row (a table).

    On the one-hot features of ``(h, s)`` it is the exact core's
    :class:`~regretgap.policy_classes.Tabular`: ``sigma(. | x)`` is the weighted frequency
    of the joint actions seen with ``x``, and a row never seen (or seen with weight 0)
    gets ``default``, the uniform distribution unless given an ``[A]`` distribution. It
    generalises nowhere: this is the class that fails when demonstrations leave most
    states unseen.

    Args:
        num_actions: ``(n_0, ..., n_{m-1})``.
        default: ``"uniform"`` or a distribution ``[A]`` for unseen rows.
    """

    def __init__(self, num_actions: Any, *, default: Any = "uniform") -> None:
        self.num_actions = check_num_actions(num_actions)
        num_joint = self.num_joint_actions
        if isinstance(default, str):
            if default != "uniform":
                raise ValidationError(f"unknown default {default!r}: 'uniform' or [A]")
            fill = np.full(num_joint, 1.0 / num_joint)
        else:
            fill = np.asarray(default, dtype=np.float64)
            if fill.shape != (num_joint,) or fill.min() < 0 or abs(fill.sum() - 1) > 1e-8:
                raise ValidationError(f"default must be a distribution over {num_joint} actions")
        self.default = fill
        self._keys: np.ndarray | None = None  # sorted byte keys [K]
        self._dist = np.zeros((0, num_joint))  # [K, A]
        self._d: int | None = None

    def __repr__(self) -> str:
        return f"ObservationTable(num_actions={self.num_actions}, rows={self._dist.shape[0]})"

    def fit(
        self, features: Any, actions: Any, weights: Any = None, *, rng: np.random.Generator
    ) -> ObservationTable:
        """The table of weighted joint-action frequencies per distinct row of ``features``."""
        x, a, w = check_samples(features, actions, weights, self.num_joint_actions)
        new = copy.copy(self)
        keep = w > 0
        keys = _row_keys(x[keep])
        uniq, inv = np.unique(keys, return_inverse=True)
        counts = np.zeros((uniq.size, self.num_joint_actions))
        np.add.at(counts, (inv.ravel(), a[keep]), w[keep])
        new._keys = uniq
        new._dist = counts / counts.sum(axis=1, keepdims=True)
        new._d = x.shape[1] if x.shape[0] else None
        return new

    def probs(self, features: Any) -> np.ndarray:
        """``[n, A]``: the row's table entry, or ``default`` where the row was never seen."""
        x = check_features(features, self._d)
        out = np.broadcast_to(self.default, (x.shape[0], self.num_joint_actions)).copy()
        if self._keys is None or self._keys.size == 0:
            return out
        keys = _row_keys(x)
        pos = np.minimum(np.searchsorted(self._keys, keys), self._keys.size - 1)
        hit = self._keys[pos] == keys
        out[hit] = self._dist[pos[hit]]
        return out

    @property
    def rows(self) -> int:
        """Distinct feature rows with data."""
        return int(self._dist.shape[0])


# ---------------------------------------------------------------------------------------
# the log-linear (multinomial logistic) class


class LogLinearMediator(JointPolicy):
    """``sigma(a | x) ∝ exp(W_a . x + b_a)`` over flat joint actions (softmax regression).

    Fitted by weighted maximum likelihood with a ridge on ``W`` (the bias ``b`` is not
    penalised): minimise ``- sum_j w_j log sigma(a_j | x_j) + l2/2 |W|^2`` by scipy's
    L-BFGS-B with the exact gradient, always from ``W = 0`` (so ``fit`` is a pure function
    of the data). Convex; on the one-hot features of ``(h, s)`` with ``l2 -> 0`` it tends to
    the table, and with features shared across states it generalises to unseen states.

    Args:
        num_actions: ``(n_0, ..., n_{m-1})``.
        l2: ridge weight ``lambda >= 0`` on ``W``.
        max_iter: L-BFGS iterations.

    Attributes (after fitting):
        coef: ``W [A, d]``; intercept: ``b [A]``.
    """

    def __init__(self, num_actions: Any, *, l2: float = 1e-3, max_iter: int = 500) -> None:
        self.num_actions = check_num_actions(num_actions)
        if isinstance(l2, bool) or not np.isfinite(l2) or l2 < 0:
            raise ValidationError(f"l2 must be a finite number >= 0, got {l2!r}")
        if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)):
            raise ValidationError(f"max_iter must be a positive int, got {max_iter!r}")
        if max_iter < 1:
            raise ValidationError(f"max_iter must be a positive int, got {max_iter!r}")
        self.l2 = float(l2)
        self.max_iter = int(max_iter)
        self.coef: np.ndarray | None = None
        self.intercept = np.zeros(self.num_joint_actions)

    def __repr__(self) -> str:
        d = None if self.coef is None else self.coef.shape[1]
        return f"LogLinearMediator(num_actions={self.num_actions}, l2={self.l2}, d={d})"

    def fit(
        self, features: Any, actions: Any, weights: Any = None, *, rng: np.random.Generator
    ) -> LogLinearMediator:
        """Weighted softmax regression of the joint actions on the features."""
        x, a, w = check_samples(features, actions, weights, self.num_joint_actions)
        new = copy.copy(self)
        num_joint, d = self.num_joint_actions, x.shape[1]
        keep = w > 0
        x, a, w = x[keep], a[keep], w[keep]
        if x.shape[0] == 0:
            new.coef, new.intercept = None, np.zeros(num_joint)
            return new
        onehot = np.zeros((x.shape[0], num_joint))
        onehot[np.arange(x.shape[0]), a] = w  # weighted targets [n, A]
        total = w.sum()

        def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            coef = theta[: num_joint * d].reshape(num_joint, d)
            logits = x @ coef.T + theta[num_joint * d :]
            logp = logits - logsumexp(logits, axis=1, keepdims=True)
            loss = -(onehot * logp).sum() + 0.5 * self.l2 * (coef * coef).sum()
            resid = w[:, None] * np.exp(logp) - onehot  # d loss / d logits, [n, A]
            grad = np.concatenate([(resid.T @ x + self.l2 * coef).ravel(), resid.sum(axis=0)])
            return float(loss) / total, grad / total

        res = minimize(
            objective,
            np.zeros(num_joint * (d + 1)),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": self.max_iter},
        )
        new.coef = res.x[: num_joint * d].reshape(num_joint, d)
        new.intercept = res.x[num_joint * d :]
        return new

    def _logits(self, features: Any) -> np.ndarray:
        d = None if self.coef is None else self.coef.shape[1]
        x = check_features(features, d)
        if self.coef is None:
            return np.broadcast_to(self.intercept, (x.shape[0], self.num_joint_actions))
        return x @ self.coef.T + self.intercept

    def probs(self, features: Any) -> np.ndarray:
        """``softmax(W x + b)``, ``[n, A]``."""
        logits = self._logits(features)
        return np.exp(logits - logsumexp(logits, axis=1, keepdims=True))

    def log_prob(self, features: Any, actions: Any) -> np.ndarray:
        """``log softmax(W x + b)[a]``, ``[n]`` (finite)."""
        logits = self._logits(features)
        a = check_actions(actions, logits.shape[0], self.num_joint_actions)
        return logits[np.arange(a.size), a] - logsumexp(logits, axis=1)


# ---------------------------------------------------------------------------------------
# independent per-agent heads (the Nash papers' policies)


class ProductMediator(JointPolicy):
    """Independent per-agent heads: ``sigma(a | x) = prod_i pi_i(a_i | x)``.

    Weighted maximum likelihood separates over agents,
    ``sum_j w_j log sigma(a_j | x_j) = sum_i sum_j w_j log pi_i(a_{j,i} | x_j)``, so ``fit``
    fits each head on its own agent's component ``a_i`` of the joint actions with the same
    features and weights. The joint is never correlated: this is the class of the Nash
    papers' per-agent policies (a correlated equilibrium is generally outside it).

    Args:
        num_actions: ``(n_0, ..., n_{m-1})``.
        heads: ``m`` single-agent :class:`MediatorPolicy` instances, head ``i`` over
            ``num_actions=(n_i,)``; default one :class:`LogLinearMediator` ``((n_i,))``
            per agent (``pi_i(b | x) ∝ exp(W_{i,b} . x + c_{i,b})``). ``ObservationTable
            ((n_i,))`` heads give per-agent tables (on one-hot features of ``(h, s)``:
            :class:`~regretgap.policy_classes.ProductTabular`); ``NeuralMediator((n_i,))``
            heads (the ``[torch]`` extra) a per-agent neural product.
        l2: ridge weight of the default log-linear heads (ignored with ``heads``).
        max_iter: L-BFGS iterations of the default heads (ignored with ``heads``).

    Attributes:
        heads: the (fitted) per-agent heads.
    """

    def __init__(
        self, num_actions: Any, heads: Any = None, *, l2: float = 1e-3, max_iter: int = 500
    ) -> None:
        self.num_actions = check_num_actions(num_actions)
        if heads is None:
            heads = [LogLinearMediator((n,), l2=l2, max_iter=max_iter) for n in self.num_actions]
        heads = list(heads)
        if len(heads) != self.num_agents:
            raise ValidationError(
                f"expected {self.num_agents} heads, one per agent, got {len(heads)}"
            )
        for i, (head, n) in enumerate(zip(heads, self.num_actions, strict=True)):
            if not isinstance(head, MediatorPolicy):
                raise ValidationError(
                    f"head of agent {i} must be a MediatorPolicy, got {type(head).__name__}"
                )
            if tuple(head.num_actions) != (n,):
                raise ValidationError(
                    f"head of agent {i} has num_actions {tuple(head.num_actions)}, expected ({n},)"
                )
        self.heads = tuple(heads)

    def __repr__(self) -> str:
        names = sorted({type(h).__name__ for h in self.heads})
        return f"ProductMediator(num_actions={self.num_actions}, heads={'/'.join(names)})"

    def _components(self, actions: Any, n: int) -> tuple[np.ndarray, ...]:
        a = check_actions(actions, n, self.num_joint_actions)
        return np.unravel_index(a, self.num_actions)

    def fit(
        self, features: Any, actions: Any, weights: Any = None, *, rng: np.random.Generator
    ) -> ProductMediator:
        """Each head fitted on its agent's components ``a_i`` (same features and weights)."""
        x, a, w = check_samples(features, actions, weights, self.num_joint_actions)
        parts = self._components(a, x.shape[0])
        new = copy.copy(self)
        new.heads = tuple(
            head.fit(x, a_i, w, rng=rng) for head, a_i in zip(self.heads, parts, strict=True)
        )
        return new

    def marginal(self, features: Any, agent: int) -> np.ndarray:
        """``pi_i(. | x)``, head ``i``'s distribution, ``[n, n_i]``."""
        return self.heads[self._check_agent(agent)].probs(features)

    def probs(self, features: Any) -> np.ndarray:
        """``[n, A]``: the product of the heads' distributions (agent 0 slowest)."""
        x = check_features(features)
        parts = [head.probs(x) for head in self.heads]
        out = np.ones((x.shape[0], 1))
        for p in parts:
            out = (out[:, :, None] * p[:, None, :]).reshape(x.shape[0], -1)
        return out

    def log_prob(self, features: Any, actions: Any) -> np.ndarray:
        """``sum_i log pi_i(a_i | x)``, ``[n]`` (no ``[n, A]`` joint is built)."""
        x = check_features(features)
        parts = self._components(actions, x.shape[0])
        return np.sum(
            [head.log_prob(x, a_i) for head, a_i in zip(self.heads, parts, strict=True)], axis=0
        )

    def sample(self, features: Any, rng: np.random.Generator) -> np.ndarray:
        """Each agent's ``a_i ~ pi_i(. | x)`` independently, raveled, ``[n]`` int64."""
        check_rng(rng)
        x = check_features(features)
        parts = [head.sample(x, rng) for head in self.heads]
        return np.ravel_multi_index(tuple(parts), self.num_actions).astype(np.int64)

    def agent_tables(self, source: Any, features: Any = None) -> tuple[np.ndarray, ...]:
        """Per-agent ``pi_i(. | observe(s, h))``, ``m`` arrays ``[H, S, n_i]``: what
        :func:`regretgap.nash_gap` scores (``source`` and ``features`` as in :meth:`table`)."""
        return tuple(
            self._tabulate(source, features, head.probs, n)
            for head, n in zip(self.heads, self.num_actions, strict=True)
        )


# ---------------------------------------------------------------------------------------
# one class notion for both back ends


class MediatorClass:
    """A sampled :class:`MediatorPolicy` as the exact learners' policy class.

    The exact learners fit a :class:`~regretgap.policy_classes.PolicyClass`: ``fit(counts
    [H, S, A]) -> sigma [H, S, A]``, weighted maximum likelihood on counts. This wraps any
    mediator over features, so one class object serves both back ends: ``fit`` turns the
    counts into weighted samples (one per ``(h, s, a)`` with a positive count, the features
    of ``(h, s)``, the count as weight), fits the mediator on them and returns its table.
    ``MediatorClass(ObservationTable(n), one-hot features)`` is the exact
    :class:`~regretgap.policy_classes.Tabular`; with a :class:`LogLinearMediator` or a
    neural one, ``regretgap.malice(game, demos, policy_class=...)`` learns the same
    parametric class as ``regretgap.sampled.malice``.

    Args:
        mediator: the (unfitted) mediator class.
        features: ``[S, d]`` (every step) or ``[H, S, d]`` features of the game's states.
        rng: passed to every ``mediator.fit``.
    """

    def __init__(self, mediator: Any, features: Any, *, rng: np.random.Generator) -> None:
        if not isinstance(mediator, MediatorPolicy):
            raise ValidationError(
                f"mediator must be a MediatorPolicy (e.g. LogLinearMediator), "
                f"got {type(mediator).__name__}"
            )
        x = np.asarray(features, dtype=np.float64)
        if x.ndim not in (2, 3) or not np.all(np.isfinite(x)):
            raise ValidationError(f"features must be finite [S, d] or [H, S, d], got {x.shape}")
        self.mediator = mediator
        self.features = x
        self.rng = check_rng(rng)

    def __repr__(self) -> str:
        return f"MediatorClass({self.mediator!r}, features {list(self.features.shape)})"

    def fit(self, counts: np.ndarray) -> np.ndarray:
        """The mediator's weighted log-loss fit on ``counts`` ``[H, S, A]``, tabulated
        ``[H, S, A]``."""
        c = np.asarray(counts, dtype=np.float64)
        if c.ndim != 3 or c.shape[2] != self.mediator_joint_actions:
            raise ValidationError(
                f"counts must be [H, S, {self.mediator_joint_actions}], got {c.shape}"
            )
        horizon, num_states, width = c.shape
        x = self.features
        if x.ndim == 2:
            x = np.broadcast_to(x, (horizon, *x.shape))
        if x.shape[:2] != (horizon, num_states):
            raise ValidationError(
                f"features cover {x.shape[:2]} (steps, states), counts {(horizon, num_states)}"
            )
        h, s, a = np.nonzero(c > 0)
        fitted = self.mediator.fit(x[h, s], a, c[h, s, a], rng=self.rng)
        rows = fitted.probs(x.reshape(horizon * num_states, -1))
        return np.asarray(rows, dtype=np.float64).reshape(horizon, num_states, width)

    @property
    def mediator_joint_actions(self) -> int:
        """``A``, the mediator's joint actions."""
        return int(np.prod(self.mediator.num_actions))


def as_mediator(policy_class: Any, num_actions: Any, *, name: str = "policy_class") -> Any:
    """The sampled back end's :class:`MediatorPolicy` for ``policy_class``: one class notion
    for both back ends.

    A :class:`MediatorPolicy` is returned as it is. The exact back end's tables map to their
    feature-table equivalents: :class:`~regretgap.policy_classes.Tabular` (its ``default``
    kept) to :class:`ObservationTable`, :class:`~regretgap.policy_classes.ProductTabular`
    to a :class:`ProductMediator` of per-agent :class:`ObservationTable` heads (a table per
    distinct feature row; on one-hot features of ``(h, s)`` exactly the exact classes).

    Raises:
        ValidationError: anything else (naming :class:`LogLinearMediator` for the exact
            :class:`~regretgap.policy_classes.LogLinear`, whose features are per
            state-action), or action counts other than ``num_actions``.
    """
    sizes = check_num_actions(num_actions)
    if isinstance(policy_class, MediatorPolicy):
        cls = policy_class
    elif isinstance(policy_class, Tabular):
        cls = ObservationTable(sizes, default=policy_class.default)
    elif isinstance(policy_class, ProductTabular):
        heads = [ObservationTable((n,), default=d) for n, d in zip(
            policy_class.num_actions, policy_class.default, strict=True)]  # fmt: skip
        cls = ProductMediator(policy_class.num_actions, heads=heads)
    else:
        hint = (
            " (LogLinear's features are per state-action for the exact back end: use "
            "LogLinearMediator on a simulator's features)"
            if type(policy_class).__name__ == "LogLinear"
            else ""
        )
        raise ValidationError(
            f"{name} must be a MediatorPolicy (e.g. LogLinearMediator, ObservationTable), "
            f"Tabular or ProductTabular, got {type(policy_class).__name__}{hint}"
        )
    if tuple(cls.num_actions) != sizes:
        raise ValidationError(f"{name} has num_actions {tuple(cls.num_actions)}, need {sizes}")
    return cls
