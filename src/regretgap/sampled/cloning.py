"""Sampled J-BC: joint behaviour cloning from ``(observation, joint action)`` samples.

Paper section 4.4 (Theorem 4.9): ``min_sigma E_{s ~ d_E} ell(sigma_E(s), sigma(s))`` with the
log-loss on demonstrated joint recommendations, here one weighted maximum-likelihood fit of a
:class:`~regretgap.sampled.MediatorPolicy` on the features ``x = sim.observe(s, h)`` the
demonstrations visited. The simulator is reward-free and only checked for sizes; the exact
counterpart is :func:`regretgap.jbc`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from regretgap._checks import check_rng, check_simulator_members
from regretgap._repr import short_repr
from regretgap.errors import ValidationError
from regretgap.sampled.data import Samples, check_samples_set
from regretgap.sampled.policies import MediatorPolicy, as_mediator


class JBCHistory(NamedTuple):
    """Training record of sampled J-BC (one fit), measured on the demonstrations.

    Attributes:
        log_loss: mean ``- log sigma(a_j | x_j)`` over the demonstrated samples (``inf``
            where the policy gives a demonstrated action probability 0).
        disagreement: mean ``1 - sigma(a_j | x_j)``, the sample estimate of
            ``E_{s ~ d_E}[1 - sum_a sigma_E(a|s) sigma(a|s)]``; it upper-bounds the exact
            core's ``bc_error`` (TV) and equals it for a deterministic expert, so the field
            has a different name from :class:`regretgap.learners.cloning.JBCHistory`'s.
    """

    def __repr__(self) -> str:
        return short_repr(self)

    log_loss: float
    disagreement: float


class JBCResult(NamedTuple):
    """Attributes: policy, the fitted :class:`~regretgap.sampled.MediatorPolicy` (tabulate it
    with ``policy.table(game)`` for the exact core); history :class:`JBCHistory`."""

    def __repr__(self) -> str:
        return short_repr(self)

    policy: MediatorPolicy
    history: JBCHistory


def check_policy(policy: Any, sim: Any) -> MediatorPolicy:
    """The :class:`MediatorPolicy` of ``policy`` (:func:`~regretgap.sampled.policies.as_mediator`:
    the exact tables are accepted too) over ``sim``'s joint actions."""
    sizes, _ = check_simulator_members(sim)
    return as_mediator(policy, sizes)


def check_demos_for(sim: Any, demos: Any, *, name: str = "demos") -> Samples:
    """Validate demonstration samples against ``sim`` (steps below ``H``, actions below ``A``)."""
    d = check_samples_set(demos, name=name)
    horizon = int(sim.horizon)
    if d.steps.max() >= horizon:
        raise ValidationError(
            f"{name}.steps has step {int(d.steps.max())}, the horizon is {horizon}"
        )
    num_joint = int(np.prod([int(k) for k in sim.num_actions]))
    if d.actions.max() >= num_joint:
        k = int(np.argmax(d.actions))
        raise ValidationError(
            f"{name}.actions[{k}] = {int(d.actions[k])} is outside the joint action space "
            f"0..{num_joint - 1}"
        )
    return d


def jbc(
    sim: Any, demos: Any, *, rng: np.random.Generator, policy_class: MediatorPolicy
) -> JBCResult:
    """Joint behaviour cloning: ``argmax_sigma sum_j log sigma(a_j | x_j)`` over the class.

    Args:
        sim: a :class:`~regretgap.Simulator` (sizes only; never rolled out, no rewards).
        demos: :class:`~regretgap.sampled.Samples` of obedient expert play: features
            ``[n, d]``, joint recommendations ``[n]``, steps ``[n]``, episodes ``[n]`` (e.g.
            :func:`~regretgap.sampled.demonstrations` or
            :func:`~regretgap.sampled.from_demonstrations`).
        rng: passed to the class's ``fit``.
        policy_class: the policy class, e.g. :class:`~regretgap.sampled.ObservationTable` (on the
            one-hot of ``(h, s)`` this is exactly :func:`regretgap.jbc` with ``Tabular``).

    Returns:
        :class:`JBCResult` with the fitted policy.

    Raises:
        ValidationError: a policy that is not a MediatorPolicy or has other action sizes,
            empty or malformed demonstrations, actions or steps outside the simulator's.
    """
    check_rng(rng)
    policy = check_policy(policy_class, sim)
    d = check_demos_for(sim, demos)
    fitted = policy.fit(d.features, d.actions, rng=rng)
    logp = fitted.log_prob(d.features, d.actions)
    return JBCResult(
        fitted,
        JBCHistory(log_loss=float(-logp.mean()), disagreement=float(1 - np.exp(logp).mean())),
    )
