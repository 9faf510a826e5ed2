"""Policy classes the learners fit: one small protocol, tabular, product and log-linear.

Every learner reduces its round to *weighted maximum likelihood*: minimise
``- sum_{h,s,a} C[h, s, a] log sigma_h(a | s)`` over the class, where ``C`` are weighted
soft counts (demonstration counts for J-BC, importance-weighted counts for MALICE, queried
expert distributions for BLADES). Follow-the-leader over rounds is one fit on the summed
counts. A class implements :class:`PolicyClass`; a neural class can be added without
touching the learners. :class:`ProductTabular` holds independent per-agent tables (the Nash
papers' per-agent policies): J-BC with it is their behaviour cloning.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

from regretgap.errors import ValidationError


@runtime_checkable
class PolicyClass(Protocol):
    """A family of mediator policies fitted by weighted maximum likelihood."""

    def fit(self, counts: np.ndarray) -> np.ndarray:
        """``argmin_sigma - sum C[h,s,a] log sigma_h(a|s)`` (plus regulariser), ``[H, S, A]``."""
        ...


def _check_counts(counts: Any) -> np.ndarray:
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim != 3:
        raise ValidationError(f"counts must be [H, S, A], got shape {c.shape}")
    if not np.all(np.isfinite(c)) or c.min() < 0:
        raise ValidationError("counts must be finite and >= 0")
    return c


class Tabular:
    """Unrestricted table ``sigma_h(. | s)``: the weighted empirical distribution.

    At ``(h, s)`` without data the policy is ``default``: ``"uniform"`` (the default; on the
    Theorem 4.5 game this gives J-BC the regret gap ``(H - 2) / 3``) or a fixed ``[A]``
    distribution.
    """

    def __init__(self, default: Any = "uniform") -> None:
        self.default = default

    def fit(self, counts: np.ndarray) -> np.ndarray:
        c = _check_counts(counts)
        a_count = c.shape[2]
        if isinstance(self.default, str):
            if self.default != "uniform":
                raise ValidationError(f"unknown default {self.default!r}: 'uniform' or [A]")
            fill = np.full(a_count, 1.0 / a_count)
        else:
            fill = np.asarray(self.default, dtype=np.float64)
            if fill.shape != (a_count,) or fill.min() < 0 or abs(fill.sum() - 1) > 1e-8:
                raise ValidationError(f"default must be a distribution over {a_count} actions")
        total = c.sum(axis=2, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            sigma = np.where(total > 0, c / np.where(total > 0, total, 1.0), fill)
        return sigma


def _check_sizes(num_actions: Any) -> tuple[int, ...]:
    try:
        sizes = tuple(num_actions)
    except TypeError:
        raise ValidationError(f"num_actions must be a tuple of ints, got {num_actions!r}") from None
    if not sizes or any(
        isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1 for k in sizes
    ):
        raise ValidationError(f"num_actions must be positive ints, got {sizes!r}")
    return tuple(int(k) for k in sizes)


def joint_of(per_agent: Any) -> np.ndarray:
    """``prod_i pi_i(a_i | .)`` over flat joint actions (agent 0 slowest), ``[..., A]``.

    Args:
        per_agent: ``m`` arrays ``[..., n_i]`` with the same leading axes.
    """
    parts = [np.asarray(p, dtype=np.float64) for p in per_agent]
    lead = parts[0].shape[:-1]
    out = np.ones((*lead, 1))
    for p in parts:
        out = (out[..., :, None] * p[..., None, :]).reshape(*lead, -1)
    return out


class ProductTabular:
    """Independent per-agent tables: ``sigma_h(a | s) = prod_i pi_{i,h}(a_i | s)``.

    The Nash papers' policy class (each agent acts on its own table, no correlation
    device). Weighted maximum likelihood separates over agents,
    ``sum_a C[h,s,a] sum_i log pi_i(a_i) = sum_i sum_{a_i} C_i[h,s,a_i] log pi_i(a_i)``
    with the marginal counts ``C_i``, so the fit is the product of the per-agent weighted
    empirical marginals ``pi_i = C_i / sum C_i``; at ``(h, s)`` without data each agent
    plays its ``default`` (uniform unless given). J-BC with this class is per-agent BC.

    Args:
        num_actions: ``(n_0, ..., n_{m-1})``; the counts' joint axis has ``A = prod n_i``
            entries, agent 0 slowest.
        default: ``"uniform"`` or ``m`` per-agent distributions ``[n_i]`` for rows
            without data.
    """

    def __init__(self, num_actions: Any, default: Any = "uniform") -> None:
        self.num_actions = _check_sizes(num_actions)
        if isinstance(default, str):
            if default != "uniform":
                raise ValidationError(
                    f"unknown default {default!r}: 'uniform' or one [n_i] per agent"
                )
            fills = [np.full(n, 1.0 / n) for n in self.num_actions]
        else:
            fills = [np.asarray(f, dtype=np.float64) for f in default]
            if len(fills) != len(self.num_actions):
                raise ValidationError(
                    f"default must hold {len(self.num_actions)} per-agent distributions, "
                    f"got {len(fills)}"
                )
            for i, (f, n) in enumerate(zip(fills, self.num_actions, strict=True)):
                if f.shape != (n,) or f.min() < 0 or abs(f.sum() - 1) > 1e-8:
                    raise ValidationError(
                        f"default of agent {i} must be a distribution over {n} actions"
                    )
        self.default = tuple(fills)

    def __repr__(self) -> str:
        return f"ProductTabular(num_actions={self.num_actions})"

    def fit_agents(self, counts: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per-agent tables ``pi_i = C_i / sum_{a_i} C_i`` (``default`` where 0), ``[H, S, n_i]``.

        Raises:
            ValidationError: counts not ``[H, S, A]`` with ``A = prod(num_actions)``.
        """
        c = _check_counts(counts)
        if c.shape[2] != int(np.prod(self.num_actions)):
            raise ValidationError(
                f"counts have {c.shape[2]} joint actions, num_actions {self.num_actions} "
                f"give {int(np.prod(self.num_actions))}"
            )
        shaped = c.reshape(*c.shape[:2], *self.num_actions)
        m = len(self.num_actions)
        out = []
        for i, fill in enumerate(self.default):
            c_i = shaped.sum(axis=tuple(2 + j for j in range(m) if j != i))  # [H, S, n_i]
            total = c_i.sum(axis=2, keepdims=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                out.append(np.where(total > 0, c_i / np.where(total > 0, total, 1.0), fill))
        return tuple(out)

    def fit(self, counts: np.ndarray) -> np.ndarray:
        """The product of :meth:`fit_agents`' tables, ``[H, S, A]``."""
        return joint_of(self.fit_agents(counts))


class LogLinear:
    """``sigma_h(a | s) ∝ exp(theta . phi(h, s, a))`` over user features (finite capacity).

    Args:
        features: ``phi [S, A, d]`` (stationary) or ``[H, S, A, d]``.
        l2: ridge weight ``lambda`` in ``- sum C log sigma + lambda/2 |theta|^2``.
        max_iter: L-BFGS iterations.

    The objective is convex in ``theta``; scipy's L-BFGS-B solves it with the exact
    gradient ``sum_{h,s} (C_hs - N_hs sigma_hs) . phi_hs - lambda theta`` (sign flipped).
    """

    def __init__(self, features: Any, *, l2: float = 1e-3, max_iter: int = 500) -> None:
        f = np.asarray(features, dtype=np.float64)
        if f.ndim not in (3, 4) or not np.all(np.isfinite(f)):
            raise ValidationError(
                f"features must be finite [S, A, d] or [H, S, A, d], got shape {f.shape}"
            )
        if l2 < 0:
            raise ValidationError(f"l2 must be >= 0, got {l2}")
        self.features = f
        self.l2 = float(l2)
        self.max_iter = int(max_iter)

    def policy(self, theta: np.ndarray, horizon: int) -> np.ndarray:
        """``sigma [H, S, A]`` for parameters ``theta [d]``."""
        logits = self.features @ theta
        logp = logits - logsumexp(logits, axis=-1, keepdims=True)
        p = np.exp(logp)
        return np.broadcast_to(p, (horizon, *p.shape[-2:])) if p.ndim == 2 else p

    def fit(self, counts: np.ndarray) -> np.ndarray:
        c = _check_counts(counts)
        horizon = c.shape[0]
        f = self.features
        if f.shape[-3:-1] != c.shape[1:] or (f.ndim == 4 and f.shape[0] != horizon):
            raise ValidationError(
                f"features {f.shape} do not match counts {c.shape} ([H,] S, A, d)"
            )
        # stationary features: the sufficient statistic is the step-summed counts
        cs = c.sum(axis=0) if f.ndim == 3 else c
        n = cs.sum(axis=-1, keepdims=True)

        def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            logits = f @ theta
            logp = logits - logsumexp(logits, axis=-1, keepdims=True)
            loss = -(cs * logp).sum() + 0.5 * self.l2 * theta @ theta
            resid = n * np.exp(logp) - cs
            grad = np.tensordot(resid, f, axes=(tuple(range(resid.ndim)),) * 2)
            return float(loss), grad + self.l2 * theta

        # always from zero: fit is a pure function of the counts (no hidden warm start)
        res = minimize(
            objective,
            np.zeros(f.shape[-1]),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": self.max_iter},
        )
        return np.array(self.policy(res.x, horizon))
