"""Shared pieces of the reproduce suite: run specifications, learner dispatch, evaluation.

An experiment module has ``NAME``, ``TITLE``, a dataclass ``Args`` (with ``quick``),
``runs(args) -> list[RunSpec]``, ``execute(config, seed) -> metrics``,
``verdict(results) -> list[Verdict]`` and ``render(results, out) -> markdown``; optionally
``unavailable()`` and ``partly_unavailable()`` (a line naming what a missing extra skips,
the whole experiment or some rows, and its ``pip install``; ``None`` when nothing is). ``reproduce``
and the module's own ``main`` both go through :func:`run_module`'s pieces, so the standalone
run and the suite compute the same numbers.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, NamedTuple

import numpy as np

import regretgap as rg
from regretgap.experiments._verdict import Verdict, clean
from regretgap.experiments.sweep import run_sweep
from regretgap.registry import LEARNERS as REGISTRY
from regretgap.registry import QUERIES, learner

#: Learners in report order: each regret-gap learner beside its single-agent analogue;
#: ``dagger_noise`` is DAgger with noisy roll-ins (:data:`NOISE_RATE`), the strongest simple
#: baseline for BLADES's directed deviations, at the same query budget.
LEARNERS = ("jbc", "jirl", "alice", "malice", "dagger", "dagger_noise", "blades")
NAMES = {
    **{name: spec.label for name, spec in REGISTRY.items()},
    "dagger_noise": "DAgger+noise",
}

#: ``dagger(deviation_rate=)`` of ``dagger_noise``: at 0.3 random deviations already matched
#: BLADES on the punishment game.
NOISE_RATE = 0.3


class RunSpec(NamedTuple):
    """One run of the suite: a pure function of ``(experiment, config)``.

    ``key`` identifies the run in the results database (resume skips finished keys).
    """

    experiment: str
    config: dict

    @property
    def key(self) -> str:
        return f"{self.experiment}:{json.dumps(self.config, sort_keys=True)}"

    @property
    def seed(self) -> int:
        """Seed derived from the key: the same run draws the same numbers anywhere."""
        return int.from_bytes(hashlib.sha256(self.key.encode()).digest()[:4], "little")


def data_rng(experiment: str, config: dict, *exclude: str) -> np.random.Generator:
    """A generator seeded by ``config`` without the keys in ``exclude`` (e.g. ``"learner"``):
    every learner of a seed draws the same data from it (paired comparisons), while its own
    randomness still comes from :attr:`RunSpec.seed`."""
    shared = {k: v for k, v in config.items() if k not in exclude}
    return np.random.default_rng(RunSpec(experiment, shared).seed)


def learn(
    name: str,
    game: rg.MarkovGame,
    expert: np.ndarray,
    demos: Any,
    rng: np.random.Generator,
    *,
    rounds: int = 5,
    rollouts: int = 64,
    policy_class: Any = None,
    clip_weights: bool = False,
    answers: str = "sampled",
) -> tuple[np.ndarray | None, dict]:
    """Run learner ``name`` (one of :data:`LEARNERS`); returns ``(policy or None, extra)``.

    DAgger (``dagger_noise``: with noisy roll-ins) and BLADES query ``expert`` (``answers``
    as in :class:`~regretgap.QueryableExpert`) starting from ``demos``; the others learn
    from ``demos`` alone. ``rollouts`` is per agent for BLADES; DAgger rolls in ``m`` times
    as many, so both ask the expert about the same number of states (equal query budgets). A
    :class:`~regretgap.CoverageError` of ALICE or MALICE is a result, not a crash:
    ``(None, {"not_applicable": reason, "uncovered": [...]})``.
    """
    if name not in LEARNERS:
        raise rg.ValidationError(f"unknown learner {name!r}: expected one of {LEARNERS}")
    spec = learner("dagger" if name == "dagger_noise" else name)
    extra: dict = {}
    if spec.learns_from == QUERIES:
        oracle = rg.QueryableExpert(expert, answers=answers, rng=rng)
        common = dict(rng=rng, demos=demos, rounds=rounds, policy_class=policy_class)
        if spec.name == "blades":
            res = spec.exact(game, oracle, rollouts=rollouts, **common)
        else:
            rate = NOISE_RATE if name == "dagger_noise" else 0.0
            res = spec.exact(
                game, oracle, rollouts=rollouts * game.num_agents, deviation_rate=rate, **common
            )
        extra["queries"] = res.queries
    elif spec.name == "jbc":
        res = spec.exact(game, demos, policy_class=policy_class)
    elif spec.name == "jirl":
        res = spec.exact(game, demos, rng=rng, policy_class=policy_class)
    else:
        try:
            res = spec.exact(
                game, demos, rng=rng, rounds=rounds, policy_class=policy_class,
                clip_weights=clip_weights,
            )  # fmt: skip
        except rg.CoverageError as err:
            states = [int(s) for s in err.states]
            return None, {
                "not_applicable": f"coverage fails: the demonstrations never visit states "
                f"{states}, which the learner's roll-ins reach",
                "uncovered": states,
            }
        extra["max_weight"] = max(res.history.max_weight)
        extra["ess"] = min(res.history.ess)
    return res.policy, extra


def measure(game: rg.MarkovGame, expert: np.ndarray, policy: np.ndarray) -> dict:
    """Evaluation (the only reader of rewards): value and regret gaps, and the learner's
    exact losses against the expert (:func:`regretgap.imitation_losses`)."""
    loss = rg.imitation_losses(game, expert, policy)
    return {
        "value_gap": clean(rg.value_gap(game, expert, policy)),
        "regret_gap": clean(rg.regret_gap(game, expert, policy)),
        "loss_bc": loss.bc,
        "loss_on_policy": loss.on_policy,
        "loss_deviation": loss.deviation,
        "loss_moment": loss.moment,
    }


def constants(game: rg.MarkovGame, expert: np.ndarray) -> dict:
    """The game's constants for the bounds: ``u`` (Assumption 5.1, the upper end of the
    bracket, which bounds every deviation) and both readings of ``beta`` (Assumption 5.2)."""
    cov = rg.coverage(game, expert)
    return {
        "u": rg.recoverability(game, expert).upper,
        "beta_avg": cov.beta,
        "beta_step": cov.per_step_beta,
    }


def run_module(module: Any, args: Any) -> list[Verdict]:
    """An experiment's standalone ``main``: run every spec serially (:func:`run_sweep`'s
    serial backend, one compute thread as in ``reproduce``), print and return the verdicts
    (the same ``runs``/``execute``/``verdict`` as ``regretgap reproduce``)."""
    results = []
    for spec, metrics, _ in run_sweep(
        module.runs(args), lambda s: module.execute(s.config, s.seed)
    ):
        results.append((spec.config, metrics))
    verdicts: list[Verdict] = module.verdict(results)
    for v in verdicts:
        print(f"{v.claim} {v.learner}: {v.word} ({v.criterion}; measured {v.measured})")
    return verdicts
