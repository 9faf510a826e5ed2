"""Verdicts: what each experiment concludes about its claim, as a typed, testable result.

Every experiment module has ``verdict(results) -> list[Verdict]``; the report only renders
them. A verdict states its criterion in one sentence and the numbers it used, and can say
``"inconsistent"`` (each has a test that feeds it a violating result).

Also here: confidence intervals over seeds and the numerical tolerance below which a
computed gap is reported as 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np
from scipy import stats

CONSISTENT = "consistent"
INCONSISTENT = "inconsistent"
NOT_APPLICABLE = "not applicable"

#: Row kinds. A *claim* says what a learner (or the proof's construction) achieves that
#: another does not, and could fail for the learner's reason. A *bound check* is an
#: inequality that holds for every policy (it validates the evaluator and the constants,
#: not a learner); the report keeps the two in separate tables.
CLAIM = "claim"
BOUND_CHECK = "bound check"
KINDS = (CLAIM, BOUND_CHECK)

#: Exact computations agree to round-off; a gap below this is printed and judged as 0.
TOLERANCE = 1e-9

#: Lemma C.1 with TV (``|E_{a~pi_2} A^{pi_1}(s,a)| <= 2 u TV``) applied twice in the proofs of
#: Theorems 5.3, 5.7 and 5.9 (eqs. 10, 15, 17): ``gap <= 4 l u H``, with ``l`` the loss on
#: the deviated roll-in (``eps / beta`` for J-BC and J-IRL).
PROOF_CONSTANT = 4.0


class Verdict(NamedTuple):
    """One row of the report's Table 1.

    Attributes:
        experiment: the module that measured it.
        claim: the paper's statement, e.g. ``"Theorem 5.3"``.
        learner: the learner judged (``""`` for checks on the proofs' own policies).
        assumption: what the claim assumes.
        bound: the paper's bound in words.
        measured: the measured quantity in one line.
        word: :data:`CONSISTENT`, :data:`INCONSISTENT` or :data:`NOT_APPLICABLE`.
        criterion: the test applied, in one sentence.
        numbers: the numbers the criterion used.
        kind: :data:`CLAIM` (a learner or construction claim, Table 1) or
            :data:`BOUND_CHECK` (holds for any policy; the report's separate table).
    """

    experiment: str
    claim: str
    learner: str
    assumption: str
    bound: str
    measured: str
    word: str
    criterion: str
    numbers: dict[str, float]
    kind: str = CLAIM


def judge(ok: bool) -> str:
    """The verdict word of a criterion that held (``ok``) or failed."""
    return CONSISTENT if ok else INCONSISTENT


class Interval(NamedTuple):
    """Mean over seeds with a two-sided 95% Student-t confidence interval."""

    mean: float
    low: float
    high: float
    n: int


def mean_ci(values: Iterable[float], level: float = 0.95) -> Interval:
    """Mean and ``level`` t-interval of ``values`` (a single value: zero width)."""
    x = np.asarray(list(values), dtype=np.float64)
    if x.size == 0:
        raise ValueError("mean_ci needs at least one value")
    mean = float(x.mean())
    if x.size == 1 or np.all(x == x[0]):
        return Interval(mean, mean, mean, int(x.size))
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return Interval(mean, mean - half, mean + half, int(x.size))


#: Non-inferiority margin of a "no worse than" row: ours may exceed the analogue's regret gap
#: by at most this fraction of the analogue's mean gap (plus :data:`MARGIN_FLOOR`, so that
#: two exact zeros compare equal). The criterion is on the upper end of the 95% CI of the
#: paired difference, so a mean that is worse but within the margin passes and is printed
#: as worse.
MARGIN_FRACTION = 0.1
MARGIN_FLOOR = 1e-3


class Comparison(NamedTuple):
    """A paired non-inferiority comparison of regret gaps (ours minus the analogue's).

    Attributes:
        word: :data:`CONSISTENT` when the CI's upper end is below ``margin``;
            :data:`NOT_APPLICABLE` when the CI straddles the margin and is wider than it
            (too few pairs to tell); :data:`INCONSISTENT` otherwise (worse beyond the margin).
        diff: mean [95% CI] of the paired differences.
        margin: the margin used.
        measured: one line for the report, saying "worse" when the mean difference is > 0.
    """

    word: str
    diff: Interval
    margin: float
    measured: str


def non_inferiority(
    diffs: Sequence[float], reference: Sequence[float], ours: str, theirs: str
) -> Comparison:
    """Is ``ours`` no worse than ``theirs``? ``diffs``: paired regret-gap differences (ours
    minus theirs, same game and seed); ``reference``: the analogue's regret gaps, which set
    the margin ``MARGIN_FRACTION * mean + MARGIN_FLOOR``."""
    diff = mean_ci(diffs)
    margin = MARGIN_FRACTION * abs(float(np.mean(reference))) + MARGIN_FLOOR
    if diff.mean > TOLERANCE:
        side = f"{ours} worse on average"
    elif diff.mean < -TOLERANCE:
        side = f"{ours} better on average"
    else:
        side = "equal on average"
    half = diff.high - diff.mean
    word = judge(diff.high < margin)
    power = ""
    if word != CONSISTENT and half > margin and diff.low < margin:
        # a CI wider than the margin cannot show non-inferiority either way: too few pairs
        word = NOT_APPLICABLE
        power = f"; underpowered: CI half-width {fmt(half)} > margin"
    measured = (
        f"{ours} - {theirs}: {fmt_ci(diff)} over {diff.n} pairs ({side}; margin "
        f"{fmt(margin)}{power})"
    )
    return Comparison(word, diff, margin, measured)


def comparison_verdict(
    experiment: str,
    claim: str,
    learner: str,
    assumption: str,
    bound: str,
    cmp: Comparison,
    *,
    paired_over: str,
) -> Verdict:
    """The report row of a paired non-inferiority :class:`Comparison` (kind CLAIM)."""
    return Verdict(
        experiment,
        claim,
        learner,
        assumption,
        bound,
        f"{cmp.measured}; paired over {paired_over}",
        cmp.word,
        f"paired non-inferiority over {paired_over}: the 95% CI upper end of the regret-gap "
        f"difference is below the margin ({MARGIN_FRACTION:.0%} of the analogue's mean gap "
        f"+ {MARGIN_FLOOR:g})",
        {"diff_mean": cmp.diff.mean, "diff_high": cmp.diff.high, "margin": cmp.margin},
    )


def clean(x: float, tol: float = TOLERANCE) -> float:
    """``0.0`` for ``|x| < tol`` (round-off of an exact zero), else ``x``."""
    return 0.0 if abs(x) < tol else float(x)


def fmt(x: float | None, digits: int = 3) -> str:
    """A number for the report: round-off printed as 0, tiny or huge values in e-notation."""
    if x is None or not np.isfinite(x):
        return "n/a" if x is None else str(x)
    x = clean(x)
    if x == 0:
        return "0"
    if abs(x) < 10 ** (-digits) or abs(x) >= 1e5:
        return f"{x:.{max(digits - 1, 1)}e}"
    return f"{x:.{digits}f}"


def fmt_ci(ci: Interval, digits: int = 3) -> str:
    """``mean [low, high]``, or the mean alone when the interval has zero width."""
    if ci.low == ci.high:
        return fmt(ci.mean, digits)
    return f"{fmt(ci.mean, digits)} [{fmt(ci.low, digits)}, {fmt(ci.high, digits)}]"


def select(results: Sequence[tuple[dict, dict]], **where: object) -> list[dict]:
    """The metrics of the runs whose config matches every ``key=value`` of ``where``."""
    return [m for c, m in results if all(c.get(k) == v for k, v in where.items())]


def group(
    results: Sequence[tuple[dict, dict]], keys: Sequence[str], **where: object
) -> dict[tuple, list[tuple[dict, dict]]]:
    """``(config, metrics)`` runs grouped by the config values of ``keys``, over runs whose
    config matches ``where``, in key order (numbers numerically)."""
    out: dict[tuple, list[tuple[dict, dict]]] = {}
    for config, metrics in results:
        if all(config.get(k) == v for k, v in where.items()):
            out.setdefault(tuple(config.get(k) for k in keys), []).append((config, metrics))
    return dict(sorted(out.items(), key=lambda kv: tuple(_order(v) for v in kv[0])))


def _order(v: object) -> tuple:
    """Numbers in numeric order, before everything else in text order."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return (0, float(v), "")
    return (1, 0.0, str(v))


def bound_verdict(
    experiment: str, results: Sequence[tuple[dict, dict]], game: str
) -> list[Verdict]:
    """Theorems 5.7/5.9's bound, valid for any policy: ``regret gap <= 4 l u H`` in every run
    (``l``: eq. 7 loss, ``u``: recoverability upper bracket, measured per run; needs the
    metrics ``regret_gap``, ``loss_deviation``, ``u`` and the config's ``H``). Runs a learner
    refused (``not_applicable``) are left out; none left: no verdict."""
    done = [(c, m) for c, m in results if "regret_gap" in m]
    if not done:
        return []
    excess = max(
        m["regret_gap"] - PROOF_CONSTANT * m["loss_deviation"] * m["u"] * c["H"] for c, m in done
    )
    worst = max(m["regret_gap"] for _, m in done)
    return [
        Verdict(
            experiment,
            "Theorems 5.7/5.9 bound",
            "all",
            f"u-recoverability ({game})",
            "gap <= 4 l u H for any policy (l: eq. 7 loss)",
            f"largest regret gap {fmt(worst)}",
            judge(excess <= TOLERANCE),
            "for every learner and seed the regret gap is at most 4 l u H, l and u measured "
            "exactly",
            {"max_excess": excess, "max_gap": worst},
            BOUND_CHECK,
        )
    ]
