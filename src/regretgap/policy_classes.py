"""Policy classes the learners fit: one small protocol, tabular and log-linear.

Every learner reduces its round to *weighted maximum likelihood*: minimise
``- sum_{h,s,a} C[h, s, a] log sigma_h(a | s)`` over the class, where ``C`` are weighted
soft counts (demonstration counts for J-BC, importance-weighted counts for MALICE, queried
expert distributions for BLADES). Follow-the-leader over rounds is one fit on the summed
counts. A class implements :class:`PolicyClass`; a neural class can be added without
touching the learners.
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
